"""Reader of ClinicalTrials.gov API v2 JSON.

Accepts one study object, a JSON array of studies (the website's "Download
JSON"), an API page `{"studies": [...], "nextPageToken": ...}`, JSON Lines
and concatenated studies; compression, folders and the bulk zip of one
`NCTxxxxxxxx.json` per study are handled by the container layer. Studies
are streamed one at a time (see `toolkit.io.jsonstream`); a malformed
study becomes a `Failure` and the studies around it are still read.
"""

from __future__ import annotations

import re
from typing import BinaryIO, Iterator, Optional, Union

from toolkit.errors import Failure
from toolkit.formats.raw import RawRecord
from toolkit.io.jsonstream import Problem, iter_json

__all__ = ["FORMAT", "sniff", "read"]

FORMAT = "ctgov_json"

_PAGE_START = re.compile(rb'^\{\s*(?:"(?:totalCount|nextPageToken)"\s*:\s*(?:\d+|"[^"]*")\s*,\s*)*"studies"\s*:')
# Keys of the history formats that wrap a v2 study inside their own record.
_STUDY_KEY = re.compile(rb'"protocolSection"\s*:\s*\{')
_WRAPPERS = (b'"ctrname"', b'"version_index"', b'"TrialID"')


def sniff(head: bytes, name: str) -> bool:
    """True when the content looks like API v2 studies (the name is ignored)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith((b"{", b"[")):
        return False
    if any(key in head for key in _WRAPPERS):
        return False
    return bool(_STUDY_KEY.search(head)) or bool(_PAGE_START.match(text))


def read(stream: BinaryIO, *, path: Optional[str], entry: Optional[str]) -> Iterator[Union[RawRecord, Failure]]:
    """Yield one raw record per study, in source order.

    Args:
        stream: the binary content of one file or archive entry.
        path: the file it came from (None for stdin).
        entry: the archive entry name, if any.

    Yields:
        `RawRecord`s whose payload is the study dict, and a `Failure` for
        each study that is malformed or not a study object.
    """
    for found in iter_json(stream, items_key="studies"):
        where = _where(entry, found.index, found.line)
        if isinstance(found, Problem):
            yield Failure(path, found.reason, where)
        elif not isinstance(found.value, dict) or "protocolSection" not in found.value:
            yield Failure(path, "not a ClinicalTrials.gov study: no protocolSection", where)
        else:
            yield RawRecord(FORMAT, found.value, path=path, entry=entry, index=found.index)


def _where(entry: Optional[str], index: int, line: int) -> str:
    place = f"#{index} (line {line})"
    return f"{entry}{place}" if entry else place
