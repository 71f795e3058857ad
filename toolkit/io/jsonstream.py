"""Stream JSON records out of a large file without loading it whole.

`iter_json(stream)` reads a binary stream in chunks and yields its records
one at a time, whatever the layout:
- a top-level array: each element (the website's "Download JSON");
- a top-level object holding an array under `items_key` (an API page,
  `{"studies": [...], "nextPageToken": ...}`): each element of that array;
- any other top-level object: itself;
- several top-level values (JSON Lines, concatenated JSON): each of them.

Values are decoded with `json.JSONDecoder.raw_decode` (C speed) over a
buffer that keeps only the record being read, so memory stays flat as the
file grows. A malformed record, or one holding bytes that are not UTF-8,
becomes a `Problem` naming its index, line and reason, and reading resumes
at the next record boundary the layout defines, so the good records around
it are kept: inside an array, right after the broken element's own end when
its brackets balance (strings skipped), else the next `,` followed by an
object that opens with the same first key as the broken one
(`, {"protocolSection":`, pretty-printed or minified: a key's unescaped
quotes cannot occur inside a string); between top-level values, the next
line that starts with `{` (JSON Lines).
A record nested deeper than the decoder can follow is one such problem.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterator, List, Optional, Tuple, Union

from toolkit.io.limits import max_record_bytes, too_large

__all__ = ["Item", "Problem", "iter_json"]

CHUNK_BYTES = 256 * 1024
_NEAR_END = 16
_SPACE = re.compile(r"[ \t\r\n]*")
_NEXT_RECORD = re.compile(r"\n(?=\{)")
# Strings as an unrolled loop: `(?:[^"\\]|\\.)*` would make the regex engine keep
# a backtracking entry per character (half a gigabyte for a 4 MB string).
_FIRST_KEY = re.compile(r'\{\s*("[^"\\]*(?:\\.[^"\\]*)*")\s*:')
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]]|"')
_RESYNC_OVERLAP = 4096
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"')  # the rest of a string, closing quote included
_ESCAPED = re.compile("[\udc80-\udcff]")  # bad bytes as `surrogateescape` decodes them  # characters kept when a boundary may span two chunks


@dataclass(frozen=True)
class Item:
    """A decoded record: its position among the records and its first line."""

    index: int
    line: int
    value: Any


@dataclass(frozen=True)
class Problem:
    """A record that could not be decoded."""

    index: int
    line: int
    reason: str


class _Malformed(Exception):
    def __init__(self, reason: str, at: int):
        super().__init__(reason)
        self.reason = reason
        self.at = at


class _Text:
    """The decoded text of a binary stream, held from `mark` on.

    Positions are absolute character offsets into the whole text. Bytes that
    are not UTF-8 are replaced by U+FFFD and remembered in `bad` as
    (character position, byte offset, byte value).
    """

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.buf = ""
        self.base = 0
        self.base_line = 1
        self.mark = 0
        self.eof = False
        self.bad: List[Tuple[int, int, int]] = []
        self._pending = b""
        self._bytes_seen = 0
        self._first = True
        self.limit = max_record_bytes()  # characters held for one record at most

    @property
    def end(self) -> int:
        return self.base + len(self.buf)

    def char(self, pos: int) -> str:
        return self.buf[pos - self.base] if pos < self.end else ""

    def more(self, want: int = CHUNK_BYTES) -> bool:
        """Read and decode more; False once the stream is exhausted."""
        if self.eof:
            return False
        self._trim()
        data = self.stream.read(max(want, CHUNK_BYTES))
        offset = self._bytes_seen - len(self._pending)
        self._bytes_seen += len(data)
        if not data:
            self.eof = True
        self._append_text(self._pending + data, offset, final=not data)
        return bool(data)

    def line_of(self, pos: int) -> int:
        return self.base_line + self.buf.count("\n", 0, max(0, pos - self.base))

    def column_of(self, pos: int) -> Optional[int]:
        """1-based column of a position still in the buffer, else None."""
        rel = pos - self.base
        if rel < 0 or rel > len(self.buf):
            return None
        return rel - self.buf.rfind("\n", 0, rel)

    def _trim(self) -> None:
        cut = self.mark - self.base
        if cut > 0:
            self.base_line += self.buf.count("\n", 0, cut)
            self.buf = self.buf[cut:]
            self.base = self.mark
        if len(self.buf) > self.limit:  # nothing of it is kept: resyncing starts after it
            at = self.base
            self.base_line += self.buf.count("\n")
            self.base, self.buf = self.end, ""
            self.mark = self.base
            raise _Malformed(too_large(self.limit), at)

    def _append_text(self, data: bytes, offset: int, *, final: bool) -> None:
        """Decode `data` (starting at byte `offset`), each bad byte replaced by U+FFFD.

        The replacement keeps the JSON structure around the bad byte (a line
        cut out of minified JSON would take every record after it along);
        the record holding it is reported through `bad`. One C-speed decode
        per chunk, however many bad bytes it holds.
        """
        self._pending = b""
        cut = 0 if final else _incomplete_tail(data)
        if cut:
            data, self._pending = data[:-cut], data[-cut:]
        text = data.decode("utf-8", "surrogateescape")
        if self._first and text:
            if text.startswith("\ufeff"):
                text, offset = text[1:], offset + 3
            self._first = False
        if _ESCAPED.search(text):
            text = self._mark_bad(text, offset)
        self.buf += text

    def _mark_bad(self, text: str, offset: int) -> str:
        """Record each escaped bad byte of `text` (decoded from byte `offset` on) and replace it."""
        chars, byte = 0, offset
        for found in _ESCAPED.finditer(text):
            byte += len(text[chars:found.start()].encode("utf-8", "surrogateescape"))
            self.bad.append((self.end + found.start(), byte, ord(found.group()) - 0xDC00))
            chars, byte = found.end(), byte + 1
        return _ESCAPED.sub("\ufffd", text)


def _trailing_backslashes(text: str) -> int:
    count = 0
    while count < len(text) and text[-1 - count] == "\\":
        count += 1
    return count


def _incomplete_tail(data: bytes) -> int:
    """How many bytes at the end of `data` start a UTF-8 sequence that the next chunk completes."""
    for back in range(1, min(3, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: look further back for the lead
            continue
        need = 2 if 0xC0 <= byte < 0xE0 else 3 if 0xE0 <= byte < 0xF0 else 4 if 0xF0 <= byte < 0xF8 else 1
        return back if need > back else 0
    return 0


class _Parser:
    """Walks the top-level layout and decodes one record at a time."""

    def __init__(self, stream: BinaryIO, items_key: str):
        self.text = _Text(stream)
        self.items_key = items_key
        self.pos = 0
        self.index = 0
        self.decoder = json.JSONDecoder()
        self.first_keys: Counter = Counter()  # first keys of the objects decoded, as JSON
        self.array_key: Optional[str] = None  # first key of the first array element, as written

    # -- low level ------------------------------------------------------------

    def peek(self) -> str:
        """The next non-space character ('' at the end), skipping to it."""
        while True:
            rel = self.pos - self.text.base
            match = _SPACE.match(self.text.buf, rel)
            self.pos = self.text.base + match.end()
            if self.pos < self.text.end:
                return self.text.char(self.pos)
            self.text.mark = self.pos
            if not self.text.more():
                return ""

    def expect(self, chars: str) -> str:
        found = self.peek()
        if not found or found not in chars:
            got = repr(found) if found else "end of data"
            raise _Malformed(f"expected {' or '.join(map(repr, chars))}, got {got}", self.pos)
        self.pos += 1
        return found

    def value(self) -> Any:
        """Decode the value at `pos`, reading more while it is incomplete."""
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.text.buf, self.pos - self.text.base)
            except json.JSONDecodeError as exc:
                self._retry_or_raise(exc)
                continue
            except RecursionError:
                raise _Malformed("record nested too deeply to decode", self.pos) from None
            self.pos = self.text.base + end
            return value

    def _retry_or_raise(self, exc: json.JSONDecodeError) -> None:
        near_end = exc.pos >= len(self.text.buf) - _NEAR_END
        if (near_end or exc.msg.startswith("Unterminated string")) and not self.text.eof:
            self.text.mark = min(self.text.mark, self.pos)
            self.text.more(self.text.end - self.pos)
            return
        if exc.pos >= len(self.text.buf.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise _Malformed(f"data ends inside a record (truncated?): {exc.msg}", self.text.base + exc.pos)
        raise _Malformed(exc.msg, self.text.base + exc.pos)

    # -- records --------------------------------------------------------------

    def records(self) -> Iterator[Union[Item, Problem]]:
        while self.peek():
            start = self.pos
            try:
                if self.text.char(self.pos) == "[":
                    yield from self.array()
                else:
                    yield from self.top_value()
            except _Malformed as exc:
                yield self.problem(start, exc)
                if not self.resync(start):
                    return

    def array(self) -> Iterator[Union[Item, Problem]]:
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        opening = _FIRST_KEY.match(self.text.buf, self.pos - self.text.base)
        if opening and self.array_key is None:
            self.array_key = opening.group(1)  # how the array's first element opens
        while True:
            self.peek()
            start = self.pos
            self.text.mark = start
            try:
                yield self.item(start, self.value())
                closing = self.expect(",]")
            except _Malformed as exc:
                yield self.problem(start, exc)
                if not self.resync_element(start):
                    raise _Stop() from None
                continue
            if closing == "]":
                return

    def top_value(self) -> Iterator[Union[Item, Problem]]:
        start = self.pos
        self.text.mark = start
        if self.peek() != "{":
            yield self.item(start, self.value())
            return
        self.pos += 1
        fields, streamed = {}, False
        while self.peek() != "}":
            key = self.value()
            self.expect(":")
            if key == self.items_key and self.peek() == "[":
                streamed = True
                yield from self.array()
                self.text.mark = self.pos
            else:
                fields[key] = self.value()
            if self.expect(",}") == "}":
                self.pos -= 1
        self.pos += 1
        if not streamed:
            yield self.item(start, fields)

    def item(self, start: int, value: Any) -> Union[Item, Problem]:
        index, self.index = self.index, self.index + 1
        line = self.text.line_of(start)
        if isinstance(value, dict) and value:
            self.first_keys[json.dumps(next(iter(value)))] += 1
        bad = self.bad_byte(start, self.pos - 1)
        if bad:
            return Problem(index, line, bad)
        return Item(index, line, value)

    def problem(self, start: int, exc: _Malformed) -> Problem:
        index, self.index = self.index, self.index + 1
        reason = self.bad_byte(start, exc.at + 1)
        if reason is None:
            line, column = self.text.line_of(exc.at), self.text.column_of(exc.at)
            place = f"line {line}, column {column}" if column else f"line {line}"
            reason = f"malformed JSON at {place}: {_tidy(exc.reason)}"
        return Problem(index, self.text.line_of(start), reason)

    def bad_byte(self, start: int, end: int) -> Optional[str]:
        for at, offset, byte in self.text.bad:
            if start <= at <= end:
                return f"not valid UTF-8: byte 0x{byte:02x} at byte offset {offset}"
        return None

    def resync(self, start: int) -> bool:
        """Move to the next record after `start`; False if none.

        The next line starting with `{` (JSON Lines), or the next object
        opening with the commonest first key of the good objects (`{"protocolSection":`),
        whichever comes first: the rest of a minified array closed early by
        the damage is read on as top-level values.
        """
        keys = self._keys(None)
        if not keys:
            return self._search(_NEXT_RECORD, start)
        return self._search(re.compile(_NEXT_RECORD.pattern + r"|(?=\{\s*" + keys + r"\s*:)"), start)

    def _keys(self, own: Optional[str]) -> Optional[str]:
        """A regex of the first keys a record may open with: a broken one's own, the
        commonest among the records decoded, and that of the first element of the
        array (objects read after a resync may be fragments of a record)."""
        keys = [own] if own else []
        keys += [key for key, _ in self.first_keys.most_common(1) if key not in keys]
        keys += [self.array_key] if self.array_key and self.array_key not in keys else []
        return "(?:" + "|".join(map(re.escape, keys)) + ")" if keys else None

    def resync_element(self, start: int) -> bool:
        """Move to the next array element after the broken one at `start`; False if none.

        Two boundaries are looked for: right after the broken element when
        its brackets balance (strings skipped), and the next `,` followed by
        `{` and the broken element's own first key or the commonest first key
        of the good objects. The nearer one wins: damage that unbalances the brackets
        would otherwise swallow the elements after it. With no key to look
        for, the next line starting with `{`.
        """
        held = start >= self.text.base  # False once a record too large was dropped
        first = _FIRST_KEY.match(self.text.buf, start - self.text.base) if held else None
        key = self._keys(first.group(1) if first else None)
        try:
            end = self._element_end(start) if held else None
        except _Malformed:  # larger than a record may be
            end = None
        if key is None:
            if end is not None:
                self.pos = end
                return True
            return self.resync(start)
        boundary = re.compile(r",\s*(?=\{\s*" + key + r"\s*:)")
        if end is None:
            return self._search(boundary, start)
        base = self.text.base  # the element is in the buffer: the balanced scan read it
        nearer = boundary.search(self.text.buf, start + 1 - base, end - base)
        self.pos = base + nearer.end() if nearer else end
        return True

    def _element_end(self, start: int) -> Optional[int]:
        """Where the next element begins if the broken one's brackets balance, else None."""
        end = self._balanced_end(start)
        if end is None:
            return None
        while True:
            space = _SPACE.match(self.text.buf, end - self.text.base)
            at = self.text.base + space.end()
            if at < self.text.end:
                break
            if not self.text.more():
                return None
        following = self.text.char(at)
        if following == ",":
            return at + 1
        return at if following in "]{" else None  # the array's end, or an element with no comma before it

    def _balanced_end(self, start: int) -> Optional[int]:
        """The end of the bracketed value at `start` (strings skipped), or None.

        None when the brackets do not balance within the record size limit
        or before the end of the data (a record cut short).
        """
        depth, pos = 0, start
        while pos - start <= self.text.limit:
            match = _TOKEN.search(self.text.buf, pos - self.text.base)
            if match is None:
                if not self._read_on():
                    return None
                continue
            token = match.group()
            if token == '"':  # a string running past the buffer: follow it to its end
                pos = self._string_end(self.text.base + match.end())
                if pos is None:
                    return None
                continue
            pos = self.text.base + match.end()
            if token in "{[":
                depth += 1
            elif token in "}]":
                depth -= 1
                if depth <= 0:
                    return pos
        return None

    def _read_on(self) -> bool:
        """Read more while resyncing, never past what a record may hold (the buffer keeps the
        broken record's start); False at the end of the data or the limit."""
        if self.text.end - self.text.base > self.text.limit - CHUNK_BYTES:
            return False
        return self.text.more()

    def _string_end(self, pos: int) -> Optional[int]:
        """The position after the closing quote of a string whose content starts at `pos`.

        Each character is scanned once: reading on resumes where the buffer
        ended (before a trailing backslash, which may escape what follows).
        """
        while True:
            found = _STRING_REST.match(self.text.buf, pos - self.text.base)
            if found is not None:
                return self.text.base + found.end()
            pos = max(pos, self.text.end - (_trailing_backslashes(self.text.buf) % 2))
            if not self._read_on():
                return None

    def _search(self, pattern: "re.Pattern", start: int) -> bool:
        """Move past the next match of `pattern` after `start`, reading on; False if none."""
        search = max(start + 1, self.text.base)
        while True:
            match = pattern.search(self.text.buf, search - self.text.base)
            if match:
                self.pos = self.text.base + match.end()
                return True
            search = max(search, self.text.end - _RESYNC_OVERLAP)
            self.text.mark = search
            if not self.text.more():
                self.pos = self.text.end
                return False


def _tidy(message: str) -> str:
    """A JSON decoder message without its dangling ' at' (the place is given apart)."""
    return message[:-3] if message.endswith(" at") else message


class _Stop(Exception):
    """A malformed record inside an array with no way to find the next one."""


def iter_json(stream: BinaryIO, *, items_key: str = "studies") -> Iterator[Union[Item, Problem]]:
    """Yield the records of a JSON stream, one at a time.

    Args:
        stream: a binary stream of UTF-8 JSON (a BOM is allowed).
        items_key: the key of a top-level object whose array holds the records.

    Yields:
        `Item`s in source order; a `Problem` for each record that cannot be
        decoded (the rest of the file is skipped only when no following
        record can be found).
    """
    parser = _Parser(stream, items_key)
    try:
        yield from parser.records()
    except _Stop:
        return
