"""Reader of the classic ClinicalTrials.gov API JSON (full_studies, 2019-2023).

A file is one API answer, `{"FullStudiesResponse": {"APIVrs": ..,
"NStudiesReturned": 206, "FullStudies": [{"Rank": 1, "Study": {...}}, ...]}}`
(one answer per file: the API's pages saved one by one). Studies are streamed one at a time
(`toolkit.io.jsonstream` over the inner object); a study that is malformed
or has no `ProtocolSection` becomes a `Failure` naming its rank and NCT id.
The header's `NStudiesReturned` is checked against the studies read, so a
file cut short names how many studies it lost.
"""

from __future__ import annotations

import io
import json
import re
from typing import BinaryIO, Iterator, Optional, Union

from toolkit.errors import Failure
from toolkit.formats.raw import RawRecord
from toolkit.io.jsonstream import Problem, iter_json

__all__ = ["FORMAT", "sniff", "read"]

FORMAT = "ctgov_classic"

_WRAPPER = re.compile(rb'^\s*\{\s*"FullStudiesResponse"\s*:\s*')
_RETURNED = re.compile(rb'"NStudiesReturned"\s*:\s*(\d+)')
_NCT = re.compile(r'"NCTId"\s*:\s*"(NCT\d{8})"')


def sniff(head: bytes, name: str) -> bool:
    """True when the content is a classic API answer (the name is ignored)."""
    return bool(_WRAPPER.match(head.lstrip(b"\xef\xbb\xbf")))


def read(stream: BinaryIO, *, path: Optional[str], entry: Optional[str]) -> Iterator[Union[RawRecord, Failure]]:
    """Yield one raw record per study (payload: the `{"Rank", "Study"}` item), in source order.

    Yields:
        `RawRecord`s, a `Failure` for each study that cannot be read, and a
        `Failure` when the file holds fewer studies than its header says.
    """
    inner = _Unwrapped(stream)
    read_count = 0
    for found in iter_json(io.BufferedReader(inner), items_key="FullStudies"):
        if isinstance(found, Problem):
            yield Failure(path, found.reason, _where(entry, found))
        elif not _is_study(found.value):
            yield Failure(path, "not a classic ClinicalTrials.gov study: no Study.ProtocolSection",
                          _where(entry, found))
        else:
            yield RawRecord(FORMAT, found.value, path=path, entry=entry, index=found.index)
        read_count += 1
    if inner.returned is not None and read_count < inner.returned:
        yield Failure(path, f"the file announces {inner.returned} studies (NStudiesReturned) but holds"
                            f" {read_count}: {inner.returned - read_count} lost before this file was written",
                      entry)


def _is_study(value) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("Study"), dict)
            and isinstance(value["Study"].get("ProtocolSection"), dict))


def _where(entry: Optional[str], found) -> str:
    """Index, line and (when it can be found) NCT id of a study that failed."""
    place = f"#{found.index} (line {found.line})"
    nct = _NCT.search(json.dumps(getattr(found, "value", None), default=str))
    if nct:
        place += f" {nct.group(1)}"
    return f"{entry}{place}" if entry else place


class _Unwrapped(io.RawIOBase):
    """The bytes of the object inside `{"FullStudiesResponse": ...}`: the wrapper's
    opening and its closing brace are dropped, so the study array is streamed
    by `iter_json` as an API page. Reads `NStudiesReturned` on the way."""

    _TAIL = 64  # bytes held back: the wrapper's closing brace is among the last ones

    def __init__(self, raw: BinaryIO):
        super().__init__()
        self.raw = raw
        self.returned: Optional[int] = None
        self.ready = b""
        self.tail = b""
        self.started = False
        self.done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.ready and not self.done:
            self._fill()
        n = min(len(buffer), len(self.ready))
        buffer[:n] = self.ready[:n]
        self.ready = self.ready[n:]
        return n

    def _fill(self) -> None:
        chunk = self.raw.read(1 << 16)
        if not self.started:
            chunk = self._start(chunk)
        if not chunk:
            self.done = True
            tail = self.tail.rstrip()
            self.ready, self.tail = (tail[:-1] if tail.endswith(b"}") else tail), b""
            return
        data = self.tail + chunk
        self.ready, self.tail = data[:-self._TAIL], data[-self._TAIL:]

    def _start(self, chunk: bytes) -> bytes:
        self.started = True
        chunk = chunk.lstrip(b"\xef\xbb\xbf")
        match = _WRAPPER.match(chunk)
        returned = _RETURNED.search(chunk)
        self.returned = int(returned.group(1)) if returned else None
        return chunk[match.end():] if match else chunk
