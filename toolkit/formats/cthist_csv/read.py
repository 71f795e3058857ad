"""Reader of cthist version histories: one CSV row per historical version.

The R package cthist writes ClinicalTrials.gov histories (`nctid`,
`version_number`, ... `criteria` as a JSON list, `outcome_measures` as JSON)
and DRKS histories (`drksid`, ... `inclusion_criteria`, `exclusion_criteria`).
Both are one format here; the mapper tells them apart by their id column.
Gzipped files are read as they are. A row is the record: a row that is not
UTF-8, breaks the CSV quoting rules or is larger than the per-record limit
(`toolkit.io.limits`) becomes a `Failure` naming it, and reading goes on with
the next row.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from typing import BinaryIO, Iterator, Optional, Union

from toolkit.errors import Failure
from toolkit.formats.raw import RawRecord
from toolkit.io.limits import max_record_bytes, too_large

__all__ = ["FORMAT", "ID_COLUMNS", "sniff", "read"]

FORMAT = "cthist_csv"
ID_COLUMNS = ("nctid", "drksid")
_REQUIRED = ("version_number", "version_date")
_GZIP_MAGIC = b"\x1f\x8b"
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def sniff(head: bytes, name: str) -> bool:
    """Whether a file is a cthist CSV (header names an id and version columns).

    Args:
        head: the first bytes of the file (gzipped or not).
        name: the file or entry name (unused: the content decides).
    """
    header = _first_line(_plain_head(head)).lower()
    columns = [c.strip().strip('"') for c in header.split(",")]
    return bool(columns) and columns[0] in ID_COLUMNS and all(c in columns for c in _REQUIRED)


def _plain_head(head: bytes) -> bytes:
    if head.startswith(_GZIP_MAGIC):
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head)
        except zlib.error:
            return b""
    return head


def _first_line(head: bytes) -> str:
    return head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").strip()


def read(
    stream: BinaryIO, *, path: Optional[str] = None, entry: Optional[str] = None
) -> Iterator[Union[RawRecord, Failure]]:
    """Stream the versions of a cthist CSV, one raw record per row.

    Args:
        stream: a binary stream of the CSV (gzipped or not).
        path: the file it came from, for messages.
        entry: the member name inside an archive or folder.

    Yields:
        A `RawRecord` per row (payload: the row as a dict of column -> text),
        or a `Failure` for a row that is short, long or cannot be decoded.
    """
    text = io.TextIOWrapper(_maybe_gunzip(stream), encoding="utf-8-sig", errors="surrogateescape", newline="")
    csv.field_size_limit(max_record_bytes())
    reader = csv.reader(text)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        yield Failure(path, f"no readable CSV header ({exc or 'empty file'})", entry)
        return
    if _NOT_UTF8.search("".join(header)):
        yield Failure(path, "no readable CSV header (not UTF-8)", entry)
        return
    yield from _rows(reader, header, path=path, entry=entry)


def _maybe_gunzip(stream: BinaryIO) -> BinaryIO:
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream)
    if buffered.peek(2)[:2] == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered)
    return buffered


def _rows(reader, header, *, path, entry) -> Iterator[Union[RawRecord, Failure]]:
    index = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # the reader starts afresh on the next line
            reason = too_large(max_record_bytes()) if "field larger" in str(exc) else f"unreadable CSV row: {exc}"
            yield Failure(path, reason, _where(entry, index))
            index += 1
            continue
        except (EOFError, OSError, zlib.error) as exc:
            yield Failure(path, f"unreadable CSV row (data cut off or damaged): {exc}", _where(entry, index))
            return
        bad = next((cell for cell in row if _NOT_UTF8.search(cell)), None)
        if bad is not None:
            yield Failure(path, "CSV row is not valid UTF-8", _where(entry, index, row))
        elif len(row) != len(header):
            yield Failure(path, f"row has {len(row)} columns, header has {len(header)}", _where(entry, index, row))
        elif any(cell.strip() for cell in row):
            yield RawRecord(FORMAT, dict(zip(header, row)), path=path, entry=entry, index=index)
        index += 1


def _where(entry: Optional[str], index: int, row=None) -> str:
    label = f"{entry or ''}#{index}"
    if row:
        label += f" ({row[0]})"
    return label


