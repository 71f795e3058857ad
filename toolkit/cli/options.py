"""Options and error handling shared by the command modules."""

from __future__ import annotations

import functools

import click

from toolkit.errors import ToolkitError

__all__ = ["library_errors", "store_option"]


def library_errors(command):
    """Turn a `ToolkitError` raised by the library into exit code 1 and its message."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ToolkitError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def store_option(command):
    """Add `--store PATH`: the corpus store (directory or file; default $PTK_STORE
    or corpus/ptk.sqlite)."""
    return click.option(
        "--store", "store_path", type=click.Path(dir_okay=True, file_okay=True),
        help="Corpus store: a directory (holding ptk.sqlite) or a file."
             " Default: $PTK_STORE, else corpus/ptk.sqlite.")(command)
