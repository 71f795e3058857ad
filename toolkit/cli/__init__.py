"""Command-line interface: a thin click layer over the library.

One module per command group: `corpus` (parse, show, stats), `tag`,
`search` (search, index), `diff` (history, diff); shared options in
`options`, output formatting and progress bars in `output`. Library errors
(`ToolkitError`) become exit code 1 with a one-line message; usage errors
are click's exit code 2.
"""

from __future__ import annotations

import importlib

import click

from toolkit import __version__

# command -> (module, attribute): a command's module is imported when the command runs,
# so `ptk search` does not pay for parsing, tagging or diffing code.
_COMMANDS = {
    "parse": ("corpus", "parse"), "show": ("corpus", "show"), "stats": ("corpus", "stats"), "tag": ("tag", "tag"),
    "search": ("search", "search"), "index": ("search", "index"), "history": ("diff", "history"),
    "diff": ("diff", "diff"),
}


class _Commands(dict):
    """The commands of `main`, each imported on first use."""

    def __missing__(self, name: str) -> click.Command:
        module, attribute = _COMMANDS[name]
        command = getattr(importlib.import_module(f"toolkit.cli.{module}"), attribute)
        self[name] = command
        return command

    def get(self, name, default=None):
        return self[name] if name in _COMMANDS else default

    def __iter__(self):
        return iter(_COMMANDS)

    def __len__(self) -> int:
        return len(_COMMANDS)

    def keys(self):
        return _COMMANDS.keys()

    def values(self):
        return [self[name] for name in _COMMANDS]

    def items(self):
        return [(name, self[name]) for name in _COMMANDS]

    def __contains__(self, name) -> bool:
        return name in _COMMANDS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ptk")
def main() -> None:
    """ptk: parse, search and diff clinical-trial registry records."""


main.commands = _Commands()
