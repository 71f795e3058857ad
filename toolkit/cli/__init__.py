"""Command-line interface: a thin click layer over the library.

One module per command group: `corpus` (parse, show, stats), `tag`,
`search` (search, index), `diff` (history, diff), `changes` (changes, check),
`export`; shared options in `options`, output formatting and progress bars in
`output`. A command's module is imported only when that command runs, so
`ptk search` pays for no parsing, tagging or diffing code. Library errors
(`ToolkitError`) become exit code 1 with a one-line message; usage errors
are click's exit code 2.
"""

from __future__ import annotations

import importlib

import click

from toolkit import __version__

# command -> (module under toolkit.cli, attribute)
COMMANDS = {
    "parse": ("corpus", "parse"), "show": ("corpus", "show"), "stats": ("corpus", "stats"),
    "tag": ("tag", "tag"), "search": ("search", "search"), "index": ("search", "index"),
    "history": ("diff", "history"), "diff": ("diff", "diff"),
    "changes": ("changes", "changes"), "check": ("changes", "check"), "export": ("export", "export"),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (click's lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str):
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name]
        return getattr(importlib.import_module(f"toolkit.cli.{module}"), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ptk")
def main() -> None:
    """ptk: parse, search and diff clinical-trial registry records."""
