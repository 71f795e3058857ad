"""Reader of the EU Clinical Trials Register plain-text "full trial details" export.

The register's "Download full trial details" gives one text file: a preamble
line, then one block per trial and member state, each opening with
`Summary` and `EudraCT Number: ...`. A block is a sequence of fields,
`<code> <label>: <value>` (`A.3 Full title of the trial: ...`), whose value
may run over the following lines, between section headings
(`A. Protocol Information`) and group lines (`Sponsor 1`, `D.IMP: 1`).

The raw record is the block's fields in source order, each
`(code, label, value)`. A field whose value is an error marker instead of
data (`JSON_ERROR_HERE`, an upper-case token with underscores) is reported
as a `Failure` naming the trial, member state and field; the field is left
out and the rest of the record kept.
"""

from __future__ import annotations

import io
import re
from typing import BinaryIO, Iterator, List, Optional, Tuple, Union

from toolkit.errors import Failure
from toolkit.formats.raw import RawRecord
from toolkit.io.limits import max_record_bytes, too_large

__all__ = ["FORMAT", "sniff", "read", "parse_fields"]

FORMAT = "euctr_text"

_PREAMBLE = b"This file contains full details on each clinical trial"
_START = re.compile(rb"^\s*(?:This file contains[^\n]*\n\s*)?Summary\s*\n\s*EudraCT Number:\s*\d{4}-\d{6}-\d{2}")
# a field line: code ("A.3", "E.8.9.1", "B.3.1 and B.3.2", "D.3.8 to D.3.10", "N.", "P."), label, value
# (digits after the letter, or N./P. before a capital: "E. coli" inside a criterion is no field)
_FIELD = re.compile(r"^(?P<code>[A-Z]\.\d+(?:\.\d+)*(?:\s+(?:and|to)\s+[A-Z]\.[\d.]+)?|[NP]\.(?=\s+[A-Z]))"
                    r"[ \t]+(?P<label>[^:\n]*?)(?::[ \t]*(?P<value>.*))?$")
_SUMMARY_FIELD = re.compile(r"^(?P<label>EudraCT Number|Sponsor's Protocol Code Number|National Competent Authority"
                            r"|Clinical Trial Type|Trial Status|Date on which this record was first entered in"
                            r" the EudraCT database|Link|Trial results):[ \t]*(?P<value>.*)$")
_HEADING = re.compile(r"^(?:[A-Z]\. [A-Z][^:]*|Summary|Sponsor \d+|D\.IMP: \d+|MedDRA Classification"
                      r"|Placebo: \d+)$")
_ERROR_MARKER = re.compile(r"^[A-Z]+(?:_[A-Z]+)+$")

Field = Tuple[str, str, str]
_NAMING_LINES = 8  # lines kept of a block past the size limit: its EudraCT number and member state


def sniff(head: bytes, name: str) -> bool:
    """True when the content is an EU CTR full-details text export."""
    return head.lstrip(b"\xef\xbb\xbf").startswith(_PREAMBLE) or bool(_START.match(head.lstrip(b"\xef\xbb\xbf")))


def read(stream: BinaryIO, *, path: Optional[str], entry: Optional[str]) -> Iterator[Union[RawRecord, Failure]]:
    """Yield one raw record per trial block (payload: its fields), in source order.

    Yields:
        `RawRecord`s whose payload is `{"fields": [(code, label, value), ...],
        "line": n}`, and a `Failure` for each field holding an error marker.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=None)
    limit = max_record_bytes()
    for index, (line_no, lines, whole) in enumerate(_blocks(text, limit)):
        fields = parse_fields(lines)
        where = _where(entry, index, line_no, fields)
        if not whole:
            yield Failure(path, too_large(limit), where)
            continue
        kept = []
        for code, label, value in fields:
            if _ERROR_MARKER.match(value.strip()):
                yield Failure(path, f"field {code} {label!r} holds {value.strip()!r} instead of a value:"
                                    " field left out, the rest of the record kept", where)
            else:
                kept.append((code, label, value))
        yield RawRecord(FORMAT, {"fields": kept, "line": line_no}, path=path, entry=entry, index=index)


def _blocks(text, limit: int) -> Iterator[Tuple[int, List[str], bool]]:
    """(first line number, lines, whole) of each `Summary` block.

    Lines are read at most `limit` characters at a time; a block that grows past
    `limit` characters keeps only its first lines (to name it) and `whole` is
    False, so memory stays bounded by the limit.
    """
    block: List[str] = []
    start = size = 0
    for number, line in _capped_lines(text, limit):
        if line.strip() == "Summary":
            if block:
                yield start, block, size <= limit
            block, start, size = [], number, 0
        elif start:
            size += len(line)
            if size <= limit:
                block.append(line)
            else:
                del block[_NAMING_LINES:]
    if block:
        yield start, block, size <= limit


def _capped_lines(text, limit: int) -> Iterator[Tuple[int, str]]:
    """(line number, line without its newline); a line over `limit` characters comes in pieces."""
    number = 1
    while True:
        piece = text.readline(limit + 1)
        if not piece:
            return
        ends = piece.endswith("\n")
        yield number, piece[:-1] if ends else piece
        number += ends


def parse_fields(lines: List[str]) -> List[Field]:
    """The fields of one block, continuation lines joined to their field's value."""
    fields: List[List[str]] = []
    for line in lines:
        stripped = line.strip()
        match = _SUMMARY_FIELD.match(stripped) or (None if _HEADING.match(stripped) else _FIELD.match(stripped))
        if match:
            code = match.groupdict().get("code") or "Summary"
            fields.append([code, match.group("label").strip(), (match.group("value") or "").strip()])
        elif _HEADING.match(stripped) or not stripped:
            if fields and not stripped:
                fields[-1].append("")  # a blank line inside a value is kept as a paragraph break
            elif _HEADING.match(stripped):
                fields.append(["", stripped, ""])  # a heading or group line ("Sponsor 2", "D.IMP: 2")
        elif fields:
            fields[-1].append(stripped)
    return [_joined(f) for f in fields]


def _joined(field: List[str]) -> Field:
    code, label, first, *more = field
    value = "\n".join([first] + more).strip()
    return code, label, re.sub(r"\n{3,}", "\n\n", value)


def _where(entry: Optional[str], index: int, line: int, fields: List[Field]) -> str:
    eudract = next((v for c, l, v in fields if l == "EudraCT Number"), "?")
    state = next((v for c, l, v in fields if c == "A.1"), "")
    place = f"#{index} (line {line}) {eudract}" + (f" [{state}]" if state else "")
    return f"{entry}{place}" if entry else place
