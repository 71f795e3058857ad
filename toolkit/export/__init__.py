"""Export the corpus store as flat tables: Parquet, CSV or SQLite.

`export_store(store, folder)` streams the stored versions (the latest of
each trial by default, or every version) through `tables.rows_of_version`
into a writer of `writers.py`; rows are buffered per table up to
`BATCH_ROWS` and flushed, so memory stays flat as the corpus grows. The
tables and their columns are documented in `tables.json` (and the README).
"""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency; json is the fallback
    _orjson = None

from toolkit.export.tables import TABLE_NAMES, TABLES, VersionKey, rows_of_version
from toolkit.export.writers import WRITERS, open_writer
from toolkit.store import Store, StoredVersion, body_json

__all__ = ["BATCH_ROWS", "EXPORT_FORMATS", "ExportSummary", "TABLES", "export_store"]

BATCH_ROWS = 20_000
EXPORT_FORMATS = tuple(WRITERS)


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: versions read and rows per table, and where."""

    folder: str
    format: str
    versions: int
    rows: Dict[str, int] = field(default_factory=dict)
    files: Dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON form."""
        return dict(self.__dict__)


def export_store(store: Store, folder, *, fmt: str = "parquet", all_versions: bool = False,
                 registry: Optional[str] = None, events: bool = False,
                 on_version: Optional[Callable[[int], None]] = None) -> ExportSummary:
    """Write the stored versions as flat tables into `folder`.

    Args:
        store: an open corpus store.
        folder: the output folder (created); existing tables are replaced.
        fmt: parquet, csv or sqlite.
        all_versions: every stored version, not only the latest of each trial.
        registry: only this registry.
        events: also write the `events` table (diffs of consecutive versions;
            meaningful with `all_versions`).
        on_version: called with the number of versions just written (progress).

    Returns:
        ExportSummary with the row count of every table.

    Raises:
        ExportError: unknown format, missing library, unwritable folder.
        StoreError: the store cannot be read.
    """
    names = TABLE_NAMES if events else tuple(n for n in TABLE_NAMES if n != "events")
    writer = open_writer(fmt, Path(folder), [TABLES[n] for n in names])
    buffers: Dict[str, List[tuple]] = {n: [] for n in names}
    count = 0
    stored = store.iter_versions(latest_only=not all_versions, registry=registry)
    collecting = gc.isenabled()
    gc.disable()  # rows are acyclic tuples: the cycle collector only rescans the buffers (~25% of the time)
    try:
        for n, rows in _row_batches(stored, events=events):
            _add(buffers, rows, writer)
            count += n
            if on_version is not None:
                on_version(n)
        for name in names:
            writer.write(name, buffers[name])
        writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        if collecting:
            gc.enable()
    return ExportSummary(str(folder), fmt, count, dict(writer.rows),
                         {n: str(writer.path_of(n)) for n in names})


def _row_batches(stored: Iterable[StoredVersion], *, events: bool
                 ) -> Iterator[Tuple[int, Dict[str, List[tuple]]]]:
    """(versions, rows by table), one version at a time, in store order.

    (Worker processes were tried: on two cores, sending the rows back cost
    more than decoding them in parallel saved.)
    """
    previous = None
    for version in stored:
        record = _loads(body_json(version.codec, version.body))
        rows = rows_of_version(_key(version), record)
        if events:
            rows["events"] = _event_rows(previous, version, record)
            previous = (version, record)
        yield 1, rows


def _loads(blob: bytes) -> dict:
    return _orjson.loads(blob) if _orjson is not None else json.loads(blob)


def _key(stored: StoredVersion) -> VersionKey:
    return VersionKey(stored.registry, stored.trial_id, stored.seq, stored.latest, stored.version_date)


def _add(buffers: Dict[str, List[tuple]], rows: Dict[str, List[tuple]], writer) -> None:
    """Buffer rows; a table's buffer is written out once it holds `BATCH_ROWS`."""
    for name, new in rows.items():
        buffer = buffers[name]
        buffer.extend(new)
        if len(buffer) >= BATCH_ROWS:
            writer.write(name, buffer)
            buffers[name] = []


def _event_rows(previous, stored: StoredVersion, record: dict) -> List[tuple]:
    """The change events from the version before (same trial) to this one."""
    if previous is None:
        return []
    old_stored, old_record = previous
    if (old_stored.registry, old_stored.trial_id) != (stored.registry, stored.trial_id):
        return []
    from toolkit.diff import diff_records
    from toolkit.records import TrialRecord

    diff = diff_records(TrialRecord.from_dict(old_record), TrialRecord.from_dict(record))
    key = (stored.registry, stored.trial_id, stored.seq, old_stored.seq)
    return [key + (i, e.kind, e.field, e.criterion, _json(e.before), _json(e.after), e.message)
            for i, e in enumerate(diff.events)]


def _json(value) -> Optional[str]:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)
