"""Reader of ctrdata version histories (JSON Lines).

Each line is one distinct version of one trial as the R package ctrdata
stored it: `{_id, ctrname, first_snapshot, seen_in_snapshots, content_md5,
record}`; `ctrname` names the register (CTGOV, CTGOV2, EUCTR, ISRCTN, CTIS)
and so the shape of `record`.
"""

from __future__ import annotations

import re
from typing import BinaryIO, Iterator, Optional, Union

from toolkit.errors import Failure
from toolkit.formats.raw import RawRecord
from toolkit.formats.version_lines import iter_version_lines

__all__ = ["FORMAT", "sniff", "read"]

FORMAT = "ctrdata"
_HEAD = re.compile(rb'^\s*\{\s*"_id"\s*:\s*"[^"]*"\s*,\s*"ctrname"\s*:')


def sniff(head: bytes, name: str) -> bool:
    """Whether a file holds ctrdata version lines (`{"_id": ..., "ctrname": ...`).

    Args:
        head: the first bytes of the (decompressed) file.
        name: the file or entry name (unused: the content decides).
    """
    return bool(_HEAD.match(head.lstrip(b"\xef\xbb\xbf")))


def read(
    stream: BinaryIO, *, path: Optional[str] = None, entry: Optional[str] = None
) -> Iterator[Union[RawRecord, Failure]]:
    """Stream the version lines, one raw record each.

    Yields:
        A `RawRecord` per line (payload: the line's object), or a `Failure`
        for a line that is not JSON or lacks `_id`, `ctrname` or `record`.
    """
    return iter_version_lines(
        stream, fmt=FORMAT, path=path, entry=entry, is_version=_is_version,
        invalid_reason="ctrdata line without _id, ctrname or record",
    )


def _is_version(line) -> bool:
    return isinstance(line, dict) and isinstance(line.get("record"), dict) and bool(line.get("ctrname"))
