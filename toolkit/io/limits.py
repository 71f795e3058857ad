"""The per-record size limit: what one record may cost before it is refused.

A record (one study, one trial, one page, one CSV row) is refused once its
bytes pass `max_record_bytes()`, counted while they are read or decompressed,
so a small archive that inflates to gigabytes costs at most the limit. The
default, 8 MiB, is about ten times the largest real record met (an API v2
study with results: 354 KB; a legacy XML study with results: 828 KB). A record
costs up to about 30 times its size in memory while it is parsed and stored
(its text held as section, field and criterion, JSON for the store and for
`--jsonl`, a worker's pickle), so the default keeps one run's peak RSS under
500 MB; 16 MiB let a 20 MB EU CTR field reach 588 MB with `--jobs 2`. Raise
it with the environment variable `PTK_MAX_RECORD_MB` (or `ptk parse
--max-record-mb`, which sets it for the worker processes too).
"""

from __future__ import annotations

import os
from typing import BinaryIO

from toolkit.errors import RecordTooLarge

__all__ = ["ENV_VAR", "DEFAULT_MB", "RecordTooLarge", "max_record_bytes", "too_large", "read_capped"]

ENV_VAR = "PTK_MAX_RECORD_MB"
DEFAULT_MB = 8


def max_record_bytes() -> int:
    """The limit in bytes: `PTK_MAX_RECORD_MB` (a positive number) or the default."""
    raw = os.environ.get(ENV_VAR, "")
    try:
        megabytes = float(raw) if raw.strip() else DEFAULT_MB
    except ValueError:
        megabytes = DEFAULT_MB
    if megabytes <= 0:
        megabytes = DEFAULT_MB
    return int(megabytes * 1024 * 1024)


def too_large(limit: int) -> str:
    """The failure reason of a record over `limit` bytes: the limit and how to raise it."""
    return (f"record larger than the per-record limit of {limit / (1024 * 1024):g} MiB"
            f" (raise it with {ENV_VAR}=<MB> or ptk parse --max-record-mb)")


def read_capped(stream: BinaryIO, limit: int = 0) -> bytes:
    """Read a whole stream that holds one record, at most `limit` bytes of it.

    Args:
        stream: the record's stream (decompressed as it is read).
        limit: the cap in bytes (0: `max_record_bytes()`).

    Returns:
        The bytes.

    Raises:
        RecordTooLarge: the stream holds more than `limit` bytes (only
            `limit + 1` of them were read).
    """
    limit = limit or max_record_bytes()
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RecordTooLarge(limit, too_large(limit))
    return chunks[0][:0].join(chunks) if chunks else b""
