"""Reader of plain-text trial pages (one page per file, the seed's layout).

A page is a title line, a trial id line (`NCT ID: NCT06054113`; any
`<registry> ID:` label is accepted), `Last Updated:` and then headings with
one-line captions and bare values. The layout itself is read by
`toolkit.formats.ctgov_page.map`; this module only recognises a page, decodes it and
checks that it names a trial. A page larger than the per-record limit
(`toolkit.io.limits`) is refused after reading only that many bytes of it.
"""

from __future__ import annotations

import codecs
from typing import BinaryIO, Iterator, Optional, TextIO, Union

from toolkit.errors import Failure
from toolkit.formats.ctgov_page.layout import HEADINGS, page_header
from toolkit.formats.raw import RawRecord
from toolkit.io.limits import RecordTooLarge, read_capped

__all__ = ["FORMAT", "sniff", "read", "decode"]

FORMAT = "page"
ID_LINES = 5  # the trial id line sits within the first non-blank lines
MIN_HEADINGS = 3  # without an id line, this many known headings make a page


def decode(data: bytes) -> str:
    """Decode page bytes: UTF-8 with or without BOM, or UTF-16 with a BOM.

    Raises:
        UnicodeDecodeError: the bytes are not text in these encodings.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def sniff(head: bytes, name: str) -> bool:
    """Whether the first bytes of a file look like a trial page.

    Args:
        head: the first bytes of the file.
        name: the file or entry name (unused: the content decides).

    Returns:
        True when a trial id line (`NCT ID: ...`) is among the first lines
        together with a known heading or a `Last Updated:` line (or the
        label is `NCT ID:` itself), or several known page headings appear.
    """
    try:
        text = decode(head)
    except UnicodeDecodeError as exc:  # the head may cut a character in two
        text = head[: exc.start].decode("utf-8-sig", errors="ignore")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    header = page_header("\n".join(lines[:ID_LINES]))
    known = {line.rstrip(":").lower() for line in lines} & set(HEADINGS)
    if "id" in header:
        nct_label = any(line.upper().startswith("NCT ID:") for line in lines[:ID_LINES])
        return bool(known) or "last_updated" in header or nct_label
    return len(known) >= MIN_HEADINGS


def read(
    stream: Union[BinaryIO, TextIO], *, path: Optional[str] = None, entry: Optional[str] = None
) -> Iterator[Union[RawRecord, Failure]]:
    """Read the one page of a file.

    Args:
        stream: a binary (or text) stream of one page.
        path: the file (or archive) it came from, for messages.
        entry: the member name inside an archive or folder.

    Yields:
        One `RawRecord` whose payload is the page text (line endings as
        written), or one `Failure` naming file, entry and reason.
    """
    where = entry or path
    try:
        data = read_capped(stream)
    except RecordTooLarge as exc:
        yield Failure(path, str(exc), where)
        return
    try:
        text = decode(data) if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        yield Failure(path, f"page is not UTF-8 text: {exc.reason} at byte {exc.start}", where)
        return
    if not text.strip():
        yield Failure(path, "empty page", where)
        return
    if "id" not in page_header(text):
        yield Failure(path, "page has no trial id line (like 'NCT ID: NCT...') before its first heading",
                      where)
        return
    yield RawRecord(format=FORMAT, payload=text, path=path, entry=entry, index=0)
