"""Command-line interface: a thin click layer over the library.

One module per command group: `corpus` (parse, show, stats), `tag`,
`search` (search, index), `diff` (history, diff), `changes` (changes, check), `export`; shared options in
`options`, output formatting and progress bars in `output`. Library errors
(`ToolkitError`) become exit code 1 with a one-line message; usage errors
are click's exit code 2.
"""

from __future__ import annotations

import click

from toolkit import __version__
from toolkit.cli import changes, corpus, diff, export, search, tag


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ptk")
def main() -> None:
    """ptk: parse, search and diff clinical-trial registry records."""


for _command in (corpus.parse, corpus.show, corpus.stats, tag.tag, search.search, search.index,
                 diff.history, diff.diff, changes.changes, changes.check, export.export):
    main.add_command(_command)
