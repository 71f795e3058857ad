"""What every reader yields: a raw record, not yet mapped to the record model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from toolkit.records import Source


@dataclass(frozen=True)
class RawRecord:
    """One source record as read, before mapping.

    Attributes:
        format: the reader's format name (see `toolkit.formats.FORMATS`).
        payload: the record itself: a dict for JSON formats, an XML element
            or its bytes for XML formats, a str for text pages, a row dict for CSV.
        path: the file it came from (None for stdin).
        entry: the member name inside an archive or folder, if any.
        index: position of the record within its file or entry (0-based).
    """

    format: str
    payload: Any
    path: Optional[str] = None
    entry: Optional[str] = None
    index: Optional[int] = None

    def where(self) -> str:
        """The record's place for messages: entry or index within the file."""
        if self.entry and self.index:
            return f"{self.entry}#{self.index}"
        if self.entry:
            return self.entry
        return f"#{self.index}" if self.index is not None else ""

    def source(self) -> Source:
        """The record model's `Source`: format, file, entry and position."""
        return Source(self.format, self.path, self.entry, self.index)
