"""Command-line interface: a thin click layer over the library.

Library errors (`ToolkitError`) become exit code 1 with a one-line message;
usage errors are click's exit code 2.
"""

from __future__ import annotations

import click

from toolkit import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ptk")
def main() -> None:
    """ptk: parse, search and diff clinical-trial registry records."""


# Commands of other modules register themselves below (one import each).
