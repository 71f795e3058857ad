"""The old side of a dump-vs-dump comparison, spilled to disk so memory stays flat.

A snapshot of a whole registry does not fit in memory as records (about 52 KB a
trial). `SpilledSnapshot` keeps each trial's last record of the old dump in a
temporary SQLite file, compressed, beside its content hash: a trial of the new
dump whose hash is unchanged is answered from the hash alone, and only a changed
trial's old record is read back and decoded.
"""

from __future__ import annotations

import sqlite3
import tempfile
import zlib
from pathlib import Path
from typing import Iterable, Iterator, Optional, Tuple

import orjson

from toolkit.canonical import compact_json
from toolkit.records import TrialRecord, from_dict

__all__ = ["SpilledSnapshot", "Entry"]

_BATCH = 1000


class SpilledSnapshot:
    """Trial key -> (content hash, record) of one dump, on disk; a context manager."""

    def __init__(self, records: Iterable[TrialRecord], *, folder: Optional[str] = None):
        self._dir = tempfile.TemporaryDirectory(prefix="ptk-snapshot-", dir=folder)
        self._db = sqlite3.connect(str(Path(self._dir.name) / "old.sqlite"))
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE old (registry TEXT, trial_id TEXT, hash TEXT, body BLOB, seen INTEGER DEFAULT 0,"
            " PRIMARY KEY (registry, trial_id)) WITHOUT ROWID;")
        self._fill(records)

    def _fill(self, records: Iterable[TrialRecord]) -> None:
        """Write the records, the last of a trial winning, in batches of one transaction."""
        rows = []
        for record in records:
            body = zlib.compress(compact_json(record.to_dict()), 1)
            rows.append((record.registry, record.trial_id, record.content_hash, body))
            if len(rows) >= _BATCH:
                self._write(rows)
                rows = []
        self._write(rows)

    def _write(self, rows: list) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO old (registry, trial_id, hash, body) VALUES (?,?,?,?)", rows)

    def take(self, key: Tuple[str, str]) -> Optional["Entry"]:
        """What the old dump holds of a trial of the new one; marks the trial seen.

        Returns:
            None when the trial was already taken (it comes twice in the new
            dump); else an `Entry` (`hash` None when the old dump lacks it).
        """
        row = self._db.execute("SELECT hash, seen FROM old WHERE registry=? AND trial_id=?", key).fetchone()
        if row is not None and row[1]:
            return None
        if row is None:  # new in this dump: a stub, so a second occurrence is known
            self._db.execute("INSERT INTO old (registry, trial_id, seen) VALUES (?,?,1)", key)
            return Entry(None, self._db, key)
        self._db.execute("UPDATE old SET seen=1 WHERE registry=? AND trial_id=?", key)
        return Entry(row[0], self._db, key)

    def unseen(self) -> Iterator[TrialRecord]:
        """The old records no `take` asked for (trials removed in the new dump), in key order."""
        for (body,) in self._db.execute("SELECT body FROM old WHERE seen=0 ORDER BY registry, trial_id"):
            yield _decode(body)

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()

    def __enter__(self) -> "SpilledSnapshot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Entry:
    """A trial of the old dump: its content hash, and its record read back only when asked."""

    def __init__(self, content_hash: Optional[str], db: sqlite3.Connection, key: Tuple[str, str]):
        self.hash, self._db, self._key = content_hash, db, key

    def load(self) -> TrialRecord:
        (body,) = self._db.execute("SELECT body FROM old WHERE registry=? AND trial_id=?", self._key).fetchone()
        return _decode(body)


def _decode(body: bytes) -> TrialRecord:
    return from_dict(TrialRecord, orjson.loads(zlib.decompress(body)))
