"""Input formats: from files, folders, archives or stdin to trial records.

`iter_records(paths)` streams the raw records of any supported input; the
format of each file or archive entry is detected from its content (the
formats and their packages: `table.py`). `parse_record(raw)` maps a raw
record to a `TrialRecord` with its criteria tree. A reader that fails to
import is skipped with a warning, so the other formats still read.
`toolkit.ingest` chains the two and turns a record the mapper rejects into
a `Failure` naming its file and place (`RawRecord.where()`).
"""

from __future__ import annotations

import os
import re
from typing import Iterable, Iterator, Optional, Union

from toolkit.errors import Failure, ToolkitError
from toolkit.formats import detect
from toolkit.formats.mapping import parse_record
from toolkit.formats.raw import RawRecord
from toolkit.formats.table import FORMATS
from toolkit.io import containers

__all__ = ["FORMATS", "RawRecord", "iter_records", "read_member", "parse_record", "available_formats",
           "describe_content"]

PathLike = Union[str, "os.PathLike[str]"]


def available_formats() -> tuple:
    """The formats whose reader module is installed, in detection order."""
    return tuple(detect.available_readers(FORMATS))


def iter_records(paths: Union[PathLike, Iterable[PathLike]], *, format: Optional[str] = None
                 ) -> Iterator[Union[RawRecord, Failure]]:
    """Stream the raw records of files, folders, archives or stdin (`-`).

    Args:
        paths: one source or several, read in the order given.
        format: force this format (one of `FORMATS`) instead of detecting it.

    Yields:
        `RawRecord`s in source order, and a `Failure` (path, record, reason)
        for everything that cannot be read; reading goes on after a failure.

    Raises:
        UnknownFormatError: `format` names no installed reader.
    """
    forced = detect.load_reader(format, FORMATS) if format else None
    for source in _sources(paths):
        for member in containers.iter_members(source):
            if isinstance(member, Failure):
                yield member
            else:
                yield from _read_member(member, forced)


def read_member(member: containers.Member, *, format: Optional[str] = None
                ) -> Iterator[Union[RawRecord, Failure]]:
    """The raw records of one member (a file or archive entry), as `iter_records` reads them.

    Args:
        member: from `containers.iter_members`, or built over a byte stream.
        format: force this format instead of detecting it from the content.

    Yields:
        `RawRecord`s, and a `Failure` naming file, entry and reason for what
        cannot be read.

    Raises:
        UnknownFormatError: `format` names no installed reader.
    """
    forced = detect.load_reader(format, FORMATS) if format else None
    return _read_member(member, forced)


def _sources(paths) -> list:
    if isinstance(paths, (str, bytes, os.PathLike)):
        return [paths]
    return list(paths)


def _read_member(member: containers.Member, forced) -> Iterator[Union[RawRecord, Failure]]:
    try:
        head, stream = containers.as_utf8(*containers.peek(member.stream, detect.HEAD_SIZE))
    except containers.READ_ERRORS as exc:
        yield Failure(member.path, _damaged(member, exc), member.entry)
        return
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n") and len(head) >= detect.HEAD_SIZE:
        try:  # a long run of white space first: look at what follows it
            head, stream = containers.as_utf8(*containers.peek(_after_space(stream), detect.HEAD_SIZE))
        except containers.READ_ERRORS as exc:
            yield Failure(member.path, _damaged(member, exc), member.entry)
            return
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
        yield Failure(member.path, _empty_or_cut(member, stream), member.entry)
        return
    reader = forced or detect.detect(head, member.entry or member.path or "", FORMATS)
    if reader is None:
        yield Failure(member.path, f"unknown format: no reader recognises {describe_content(head)}",
                      member.entry)
        return
    yield from _guarded(reader.read(stream, path=member.path, entry=member.entry), member)


_XML_ROOT = re.compile(rb"<(?![?!])([A-Za-z_][\w.:-]*)")
_JSON_KEYS = re.compile(rb'"((?:[^"\\]|\\.){1,40})"\s*:')
_MAGIC = ((b"%PDF", "a PDF document"), (b"\x89PNG", "a PNG image"), (b"PK\x03\x04", "a zip archive"),
          (b"SQLite format 3", "an SQLite database"), (b"\xff\xd8\xff", "a JPEG image"),
          (b"{\\rtf", "an RTF document"), (b"\xd0\xcf\x11\xe0", "an old Office document"))


def describe_content(head: bytes) -> str:
    """What the first bytes of a member are, in words, for an unknown-format message.

    An XML document is named by its root tag (`<rss>`), JSON by its shape and
    first keys, a binary file by its kind; text is never quoted (it may be a
    secret: a link followed to `/etc/passwd`), only said to be text.
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    for magic, kind in _MAGIC:
        if text.startswith(magic):
            return kind
    if text.startswith(b"<"):
        root = _XML_ROOT.search(text)
        return f"an XML document with root <{root.group(1).decode('utf-8', 'replace')}>" if root else "markup"
    if text[:1] in (b"{", b"["):
        keys = [k.decode("utf-8", "replace") for k in _JSON_KEYS.findall(text[:4096])][:4]
        shape = "a JSON object" if text[:1] == b"{" else "a JSON array"
        return f"{shape} with keys {', '.join(keys)}" if keys else shape
    return _kind_of(text)


def _guarded(records: Iterator, member: containers.Member) -> Iterator[Union[RawRecord, Failure]]:
    """Pass records through; a damaged stream ends the member with a Failure."""
    try:
        yield from records
    except ToolkitError as exc:
        yield Failure(member.path, getattr(exc, "reason", str(exc)), getattr(exc, "record", None) or member.entry)
    except containers.READ_ERRORS as exc:
        yield Failure(member.path, _damaged(member, exc), member.entry)


def _after_space(stream):
    """The stream from its first byte that is not white space (at most the per-record limit skipped)."""
    import io

    from toolkit.io.limits import max_record_bytes

    skipped, limit = 0, max_record_bytes()
    while skipped <= limit:
        chunk = stream.read(detect.HEAD_SIZE)
        rest = chunk.lstrip(b" \t\r\n")
        if rest or not chunk:
            return containers.prefixed(rest, stream)
        skipped += len(chunk)
    return io.BytesIO(b"")


def _kind_of(head: bytes) -> str:
    """What the start of an unknown member looks like, without quoting it (it may be a secret)."""
    if b"\x00" in head[:1024]:
        return "binary data"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            return "not UTF-8 text"
    return "text"


def _damaged(member: containers.Member, exc: BaseException) -> str:
    """The reason for a member whose bytes break off or cannot be decompressed."""
    what = "archive entry" if member.entry else "data"
    return f"truncated or damaged {what}: {exc}"


def _empty_or_cut(member: containers.Member, stream) -> str:
    """Why a member has no content: empty, or cut off.

    A read error is held back for the read after the bytes before it (see
    `containers.peek`), once per stream layer: a few reads past the end
    bring it out.
    """
    try:
        for _ in range(containers.MAX_DEPTH + 2):
            stream.read(1)
    except containers.READ_ERRORS as exc:
        return _damaged(member, exc)
    return "empty file"
