"""The records of a large XML export, cut at their own tags and parsed one by one.

An export is a root element holding many record elements (`<Trial>` under
`<Trials_downloaded_from_ICTRP>`). expat stops at the first malformed byte,
so one broken record parsed as part of the whole file would cost every record
after it. Here the bytes are cut at the record boundary the format defines,
`<Trial ...>` up to its `</Trial>`, and each record is parsed alone by the
DOCTYPE-refusing parser of `toolkit.io.safe_xml`: a malformed record becomes
an `XMLProblem` naming its position, line and reason, and reading resumes at
the next `<Trial`. A record that opens before the previous one closed, one
larger than the per-record limit (`toolkit.io.limits`) and one cut off by the
end of the file are problems of their own; memory stays bounded by one record.

Element text escapes `<` as `&lt;`, so a record's closing tag cannot occur
inside its text; only a CDATA section or a comment could hold one.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import BinaryIO, Iterator, Optional, Union

from toolkit.io.limits import max_record_bytes, too_large
from toolkit.io.safe_xml import XMLReadError, describe_parse_error, new_parser, root_tag

__all__ = ["XMLRecord", "XMLProblem", "iter_xml_records"]

CHUNK_SIZE = 1 << 16
_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(<\?xml[^>]*\?>)")
_SPACE = re.compile(rb"\s*")
_TAG_END = re.compile(rb">")


@dataclass(frozen=True)
class XMLRecord:
    """A record element, with its position among the records and its first line."""

    index: int
    line: int
    element: ET.Element


@dataclass(frozen=True)
class XMLProblem:
    """A record (or a stretch of the export) that could not be read.

    Attributes:
        index: the record's position, None for something that is no record.
        line: the line where it starts.
        reason: what is wrong, in one line.
    """

    index: Optional[int]
    line: int
    reason: str


class _Buffer:
    """The bytes of a stream from the current record on, with line numbers."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.data = b""
        self.line = 1  # line of data[0]
        self.eof = False

    def fill(self) -> bool:
        """Read one more chunk; False at the end of the stream."""
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK_SIZE)
        if not chunk:
            self.eof = True
            return False
        self.data += chunk
        return True

    def drop(self, size: int) -> None:
        """Forget the first `size` bytes."""
        self.line += self.data.count(b"\n", 0, size)
        self.data = self.data[size:]

    def line_at(self, pos: int) -> int:
        return self.line + self.data.count(b"\n", 0, pos)

    def find(self, pattern: "re.Pattern", start: int, limit: int) -> Optional["re.Match"]:
        """The next match at or after `start`, reading on while the buffer is under `limit`."""
        scan = start
        while True:
            match = pattern.search(self.data, scan)
            if match or len(self.data) - start > limit or not self.fill():
                return match
            scan = max(start, len(self.data) - CHUNK_SIZE - 256)


def iter_xml_records(stream: BinaryIO, *, root: str, record: str, limit: int = 0,
                     label: str = "records") -> Iterator[Union[XMLRecord, XMLProblem]]:
    """Yield the record elements of an export, each parsed alone.

    Args:
        stream: a binary stream at the start of the document.
        root: the name of the root element.
        record: the name of the record elements under it.
        limit: the most bytes one record may take (0: `max_record_bytes()`).
        label: what the records are called in messages ("trials").

    Yields:
        An `XMLRecord` per well-formed record and an `XMLProblem` per record
        (or stray element) that is not, in document order.

    Raises:
        UnsafeXMLError: the document declares a DTD.
        XMLReadError: the root element is not `root`, or the prolog is malformed.
    """
    limit = limit or max_record_bytes()
    buf = _Buffer(stream)
    declaration = _envelope(buf, root, limit)
    yield from _Cutter(buf, root.encode(), record.encode(), declaration, limit, label).records()


def _envelope(buf: _Buffer, root: str, limit: int) -> bytes:
    """Check the prolog and root start tag with the parser; leave `buf` after them.

    Returns:
        The XML declaration (to prefix each record with, for its encoding).
    """
    opening = re.compile(rb"<" + re.escape(root.encode()) + rb"(?=[\s/>])[^>]*>")
    match = buf.find(opening, 0, limit)
    if match is None:
        found = root_tag(buf.data[:1 << 20])
        if found and found != root:
            raise XMLReadError(f"root element is <{found}>, expected <{root}>")
        raise XMLReadError(f"malformed XML: no <{root}> element found")
    head = buf.data[: match.end()]
    closed = head + (b"" if head.endswith(b"/>") else b"</" + root.encode() + b">")
    _parse(closed, line=1)  # the parser refuses a DOCTYPE anywhere in the prolog
    declaration = _DECLARATION.match(head)
    buf.drop(match.end())
    return declaration.group(1) if declaration else b""


def _parse(data: bytes, *, line: int, declaration: bytes = b"") -> ET.Element:
    """One element parsed alone; errors name the line in the whole file."""
    parser = new_parser()
    try:
        parser.feed(declaration + data)
        return parser.close()
    except ET.ParseError as exc:
        at, column = getattr(exc, "position", (1, 0))
        shifted = ET.ParseError(str(exc))
        shifted.position = (line + at - 1, column)
        raise XMLReadError(describe_parse_error(shifted)) from None


class _Cutter:
    """Walks the export between records and cuts each record out."""

    def __init__(self, buf: _Buffer, root: bytes, record: bytes, declaration: bytes, limit: int,
                 label: str):
        self.buf = buf
        self.label = label
        self.cut_off = False  # a record was cut off by the end of the file
        self.root = root
        self.record = record
        self.declaration = declaration
        self.limit = limit
        self.index = 0
        self.opening = re.compile(rb"<" + re.escape(record) + rb"(?=[\s/>])")
        self.closing = re.compile(rb"</" + re.escape(record) + rb"\s*>")
        self.resume = re.compile(self.opening.pattern + rb"|</" + re.escape(root) + rb"\s*>")

    def records(self) -> Iterator[Union[XMLRecord, XMLProblem]]:
        while True:
            pos = self._skip_space()
            if pos is None:
                if self.cut_off:
                    return
                yield XMLProblem(None, self.buf.line, f"truncated XML: the file ends before"
                                 f" </{self.root.decode()}> (after {self.index} {self.label})")
                return
            data = self.buf.data
            if data.startswith(b"</" + self.root, pos):
                problem = self._root_closed()
                if problem is None:
                    return
                yield problem
                continue
            if self.opening.match(data, pos):
                yield self._record(pos)
            elif data.startswith(b"<!--", pos):
                self._skip_past(b"-->", pos)
            else:
                yield self._stray(pos)

    def _root_closed(self) -> Optional[XMLProblem]:
        """At the root's closing tag: None at the end of the file, else a problem (reading goes on)."""
        line = self.buf.line
        closing = self.buf.find(_TAG_END, 0, self.limit)
        self.buf.drop(closing.end() if closing else len(self.buf.data))
        if self._skip_space() is None or self.buf.data.startswith(b"<!--"):
            return None
        return XMLProblem(None, line, f"malformed XML: </{self.root.decode()}> before the end of the file;"
                                      " the records after it are read on")

    def _skip_space(self) -> Optional[int]:
        """Drop the space before the next markup; None at the end of the stream."""
        while True:
            self.buf.drop(_SPACE.match(self.buf.data).end())
            if len(self.buf.data) > len(self.root) + 3:
                return 0
            if not self.buf.fill():
                return 0 if self.buf.data else None

    def _record(self, pos: int) -> Union[XMLRecord, XMLProblem]:
        index, self.index = self.index, self.index + 1
        line = self.buf.line_at(pos)
        start_tag_end = self.buf.find(_TAG_END, pos, self.limit)
        if start_tag_end and self.buf.data[start_tag_end.start() - 1: start_tag_end.start()] == b"/":
            return self._element(index, line, start_tag_end.end())
        close = self.buf.find(self.closing, pos + 1, self.limit)
        following = self.opening.search(self.buf.data, pos + 1, close.start() if close else len(self.buf.data))
        if following:
            self.buf.drop(following.start())
            return XMLProblem(index, line, f"malformed XML: <{self.record.decode()}> at line {line}"
                                           f" is not closed before the next one")
        if close is None:
            return self._unfinished(index, line)
        return self._element(index, line, close.end())

    def _element(self, index: int, line: int, end: int) -> Union[XMLRecord, XMLProblem]:
        segment = self.buf.data[:end]
        self.buf.drop(end)
        try:
            return XMLRecord(index, line, _parse(segment, line=line, declaration=self.declaration))
        except XMLReadError as exc:
            return XMLProblem(index, line, str(exc))

    def _unfinished(self, index: int, line: int) -> XMLProblem:
        """A record with no closing tag in reach: too large, or cut off by the end."""
        if self.buf.eof:
            self.buf.drop(len(self.buf.data))
            self.cut_off = True
            return XMLProblem(index, line, f"truncated XML: the file ends inside <{self.record.decode()}>"
                                           f" (after {index} {self.label})")
        self._skip_to_next_record()
        return XMLProblem(index, line, too_large(self.limit))

    def _skip_to_next_record(self) -> None:
        """Drop bytes up to the next record opening or the root's end, holding little."""
        while True:
            found = self.resume.search(self.buf.data, 1)
            if found:
                self.buf.drop(found.start())
                return
            self.buf.drop(max(0, len(self.buf.data) - 256))
            if not self.buf.fill():
                self.buf.drop(len(self.buf.data))
                return

    def _skip_past(self, marker: bytes, pos: int) -> None:
        found = self.buf.find(re.compile(re.escape(marker)), pos, self.limit)
        self.buf.drop(found.end() if found else len(self.buf.data))

    def _stray(self, pos: int) -> XMLProblem:
        """Something other than a record under the root: reported, skipped to the next record."""
        line = self.buf.line_at(pos)
        name = re.match(rb"<([^\s/>]+)", self.buf.data[pos:pos + 256])
        what = f"unexpected <{name.group(1).decode('utf-8', 'replace')}>" if name else "unexpected text"
        self._skip_to_next_record()
        return XMLProblem(None, line, f"{what} in the export, not read")
