"""Reader of ICTRP weekly-export version histories (JSON Lines).

Each line is one distinct version of one trial as the weekly WHO ICTRP
exports showed it: `{TrialID, first_seen_snapshot, seen_in, content_md5,
record, version_index}`; `record` holds the export's columns.
"""

from __future__ import annotations

import re
from typing import BinaryIO, Iterator, Optional, Union

from toolkit.errors import Failure
from toolkit.formats.raw import RawRecord
from toolkit.formats.version_lines import iter_version_lines

__all__ = ["FORMAT", "sniff", "read"]

FORMAT = "ictrp_versions"
_HEAD = re.compile(rb'^\s*\{\s*"TrialID"\s*:\s*"[^"]*"\s*,\s*"first_seen_snapshot"')


def sniff(head: bytes, name: str) -> bool:
    """Whether a file holds ICTRP version lines (`{"TrialID": ..., "first_seen_snapshot": ...`).

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
        for a line that is not JSON or lacks `TrialID`/`record`.
    """
    return iter_version_lines(
        stream, fmt=FORMAT, path=path, entry=entry, is_version=_is_version,
        invalid_reason="version line without a 'record' object",
    )


def _is_version(line) -> bool:
    return isinstance(line, dict) and isinstance(line.get("record"), dict)
