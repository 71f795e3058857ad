"""Tag a plain text line by line: each non-blank line is one criterion.

Offsets of the returned tags count the characters of the whole text exactly
as given (CRLF included), so `text[tag.start:tag.end]` gives back the span.
"""

from __future__ import annotations

from typing import Iterator, List, Tuple

from toolkit.records import Tag, replace_fields

__all__ = ["line_spans", "tag_lines"]

_LINES_PER_BATCH = 2000


def line_spans(text: str) -> Iterator[Tuple[int, int]]:
    """Yield (start, end) of each non-blank line of a text, without the line break."""
    pos = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        if stripped.strip():
            yield pos, pos + len(stripped)
        pos += len(line)


def tag_lines(text: str) -> List[Tag]:
    """Tags of every non-blank line of a text, offsets shifted into the whole text.

    Args:
        text: a file's content as stored.

    Returns:
        `Tag` objects with offsets into `text`, in text order.
    """
    from toolkit.nlp import tag_texts

    lines = [(start, text[start:end]) for start, end in line_spans(text)]
    out = []
    for first in range(0, len(lines), _LINES_PER_BATCH):
        batch = lines[first:first + _LINES_PER_BATCH]
        for (offset, _), tags in zip(batch, tag_texts([body for _, body in batch])):
            out.extend(replace_fields(t, start=t.start + offset, end=t.end + offset) for t in tags)
    return out
