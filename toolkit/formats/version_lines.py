"""JSON Lines version histories (ICTRP weekly versions, ctrdata): one raw record per line."""

from __future__ import annotations

from typing import Any, BinaryIO, Callable, Iterator, Optional, Union

from toolkit.errors import Failure
from toolkit.formats.raw import RawRecord
from toolkit.io.jsonstream import Problem, iter_json

__all__ = ["iter_version_lines"]


def iter_version_lines(
    stream: BinaryIO, *, fmt: str, path: Optional[str], entry: Optional[str],
    is_version: Callable[[Any], bool], invalid_reason: str,
) -> Iterator[Union[RawRecord, Failure]]:
    """Stream a JSON Lines version history, one raw record per valid line.

    Args:
        stream: the binary stream of one file.
        fmt: the reader's format name, given to each raw record.
        path: the file, for records and failures.
        entry: the member name inside an archive, if any.
        is_version: tells whether a decoded line is a version object.
        invalid_reason: the failure reason for a line that is not.

    Yields:
        A `RawRecord` per valid line, a `Failure` naming the line otherwise.
    """
    for item in iter_json(stream):
        if isinstance(item, Problem):
            yield Failure(path, item.reason, f"{entry or ''}#{item.index} (line {item.line})")
        elif not is_version(item.value):
            yield Failure(path, invalid_reason, f"{entry or ''}#{item.index}")
        else:
            yield RawRecord(fmt, item.value, path=path, entry=entry, index=item.index)
