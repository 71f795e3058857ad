"""Errors raised by the library; only `toolkit.cli` turns them into exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


class ToolkitError(Exception):
    """Base class of every error the toolkit raises on purpose."""


class RecordError(ToolkitError):
    """A record or its JSON form is malformed."""


class InputError(ToolkitError):
    """A source file or one record in it cannot be read.

    Args:
        path: the file (or archive) that was read.
        reason: what is wrong, in one line.
        record: the record within the file (entry name, index or trial id).
    """

    def __init__(self, path: Optional[str], reason: str, record: Optional[str] = None):
        self.path = path
        self.record = record
        self.reason = reason
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line: file, record, reason (control characters escaped)."""
        where = printable(str(self.path or "<stdin>"))
        if self.record:
            where += f" [{printable(str(self.record))}]"
        return f"{where}: {printable(str(self.reason))}"


def printable(text: str) -> str:
    """`text` with control, format and line-breaking characters escaped (`\\n`, `\\x1b`).

    Names and ids come from the input: an archive entry named
    "evil\\nfailed: FORGED" must not print a forged line on a terminal or in a log.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in text)


class UnknownFormatError(InputError):
    """No reader recognises the content of a file."""


class RecordTooLarge(Exception):
    """A stream holds more than the per-record size limit (`toolkit.io.limits.read_capped`)."""

    def __init__(self, limit: int, message: str):
        super().__init__(message)
        self.limit = limit


class StoreError(ToolkitError):
    """The corpus store is missing, locked or inconsistent."""


class SearchIndexError(ToolkitError):
    """The search index is missing, stale or locked."""


class QueryError(ToolkitError):
    """A search query cannot be parsed."""


class RulesError(ToolkitError):
    """A shipped rules file (criteria heading rules, tagger rules) is missing keys or holds a bad regex."""


class LexiconError(ToolkitError):
    """The shipped lexicon is missing or malformed."""


class XMLReadError(ToolkitError):
    """An XML document cannot be read (malformed, truncated, wrong encoding)."""


class UnsafeXMLError(XMLReadError):
    """An XML document uses a feature refused for safety (a DTD, entities)."""


class ClusterUnavailable(ToolkitError):
    """Dask distributed is not installed, or the scheduler cannot be reached."""


class ChangesError(ToolkitError):
    """The corpus-wide change log cannot be read or written."""


class DiffError(ToolkitError):
    """Two records cannot be diffed (different trials, missing version ...)."""


@dataclass(frozen=True)
class Failure:
    """A record that could not be read or parsed, yielded in place of it."""

    path: Optional[str]
    reason: str
    record: Optional[str] = None

    def describe(self) -> str:
        """One line: file, record, reason."""
        return InputError(self.path, self.reason, self.record).describe()


class ExportError(ToolkitError):
    """An export cannot be written (missing library, unwritable folder, unknown format)."""
