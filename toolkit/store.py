"""The corpus store: every version of every trial record, in one SQLite file.

A version is identified by (registry, trial_id, content_hash); putting the same
record again adds nothing. Versions of a trial are numbered (`seq`, from 1) by
version date, then by arrival. The record JSON (with its criteria tree and
tags) is kept compact and zlib-compressed beside a few indexed columns.

Writes happen in one transaction per batch (`put_many`), so an interrupted run
leaves the store as it was before the batch, and re-running finishes the job.
A store opened after an unclean end (its WAL file left behind) is checked
with `PRAGMA quick_check` first and refused when its pages are damaged;
`Store.check()` (`ptk stats --check`) runs the same check on demand.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, NamedTuple, Optional, Union

from toolkit.errors import StoreError

if TYPE_CHECKING:
    from toolkit.records import TrialRecord

# Records, their canonical JSON and the id and date normalisers are imported where
# a body is encoded, decoded or an id or date label resolved: a search that only
# opens the store to read its generation (the index's staleness check) stays cheap.

__all__ = [
    "DEFAULT_STORE", "STORE_FILENAME", "Alias", "PutSummary", "Store", "StoreStats",
    "StoredBody", "StoredVersion", "VersionInfo", "body_json", "decode_body", "resolve_store_path", "version_date",
]

STORE_FILENAME = "ptk.sqlite"
DEFAULT_STORE = Path("corpus") / STORE_FILENAME
SCHEMA_VERSION = 4
BUSY_TIMEOUT_S = 10.0
ZLIB_LEVEL = 1  # 28% of the JSON size at 0.13 ms a record; level 6: 26% at 0.23 ms
_FILE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
_CREATE_HINT = "run `ptk parse DUMP` to create it"

_SCHEMA = """
CREATE TABLE versions (
    id            INTEGER PRIMARY KEY,
    registry      TEXT NOT NULL,
    trial_id      TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    version       TEXT,
    version_date  TEXT,
    seq           INTEGER NOT NULL,
    latest        INTEGER NOT NULL DEFAULT 0,
    status        TEXT,
    phases        TEXT,
    study_type    TEXT,
    added_at      TEXT NOT NULL,
    body_hash     TEXT NOT NULL,
    codec         TEXT NOT NULL,
    body          BLOB NOT NULL,
    UNIQUE (registry, trial_id, content_hash)
);
CREATE INDEX versions_trial ON versions (trial_id, registry, seq);
CREATE INDEX versions_latest ON versions (latest, registry, trial_id);
CREATE INDEX versions_status ON versions (status);
CREATE INDEX versions_study_type ON versions (study_type);
"""

# v2: the ids each trial is known by in the linked registries (`toolkit.normalize.aliases`)
# v3: a generation counter, raised by every write that changes what is stored, so a
# reader (the search index) can tell whether the store changed without reading it
_SCHEMA_V3 = """
CREATE TABLE IF NOT EXISTS store_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO store_state (key, value) VALUES ('generation', 0)
"""

# v4: each version row carries the generation that wrote it, so a reader level with
# generation G asks for the trials changed since G instead of comparing every trial.
# Rows of an older store carry 0 and 'tracked_since' says from which generation on the
# rows tell: a reader level with an earlier generation compares everything once.
_SCHEMA_V4 = """
CREATE INDEX IF NOT EXISTS versions_generation ON versions (generation);
UPDATE store_state SET value = value + 1 WHERE key = 'generation';
INSERT OR REPLACE INTO store_state (key, value)
    SELECT 'tracked_since', value FROM store_state WHERE key = 'generation'
"""

_SCHEMA_V2 = """
CREATE TABLE IF NOT EXISTS aliases (
    registry  TEXT NOT NULL,
    trial_id  TEXT NOT NULL,
    alias     TEXT NOT NULL,
    PRIMARY KEY (registry, trial_id, alias)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_alias ON aliases (alias);
"""

_INFO_COLUMNS = (
    "registry, trial_id, seq, content_hash, version, version_date, status, added_at, latest"
)


@dataclass(frozen=True)
class PutSummary:
    """What one `put_many` did.

    Attributes:
        new_trials: trials seen for the first time (their first version added).
        new_versions: versions added to trials already in the store.
        unchanged: records whose content was already stored.
        refreshed: unchanged records whose derived data (criteria tree, tags)
            differed and was rewritten in place.
    """

    new_trials: int = 0
    new_versions: int = 0
    unchanged: int = 0
    refreshed: int = 0

    def __add__(self, other: "PutSummary") -> "PutSummary":
        return PutSummary(
            self.new_trials + other.new_trials,
            self.new_versions + other.new_versions,
            self.unchanged + other.unchanged,
            self.refreshed + other.refreshed,
        )


@dataclass(frozen=True)
class VersionInfo:
    """One stored version of a trial, without its body."""

    registry: str
    trial_id: str
    seq: int
    content_hash: str
    version: Optional[str]
    version_date: Optional[str]
    status: Optional[str]
    added_at: str
    latest: bool

    def to_dict(self) -> dict:
        """The JSON form (every field, `None` included)."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class StoreStats:
    """Counts over the latest version of every trial."""

    trials: int = 0
    versions: int = 0
    by_registry: dict = field(default_factory=dict)
    by_status: dict = field(default_factory=dict)
    by_phase: dict = field(default_factory=dict)
    by_study_type: dict = field(default_factory=dict)
    versions_per_trial: dict = field(default_factory=dict)
    unique_trials: int = 0
    linked: dict = field(default_factory=dict)
    unmapped: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Alias:
    """An id a trial is known by in a linked registry, and the stored trials sharing it.

    Attributes:
        key: "registry:id", e.g. "euctr:2020-000890-25".
        registry: the registry the id belongs to.
        id: the id in that registry's spelling.
        stored: other stored trials, (registry, trial_id), known by the same id.
    """

    key: str
    registry: str
    id: str
    stored: tuple = ()


def resolve_store_path(path: Union[str, os.PathLike, None] = None) -> Path:
    """Where the store file is: `path`, else `$PTK_STORE`, else `corpus/ptk.sqlite`.

    A directory (existing, or a name without a .sqlite/.db suffix) holds
    `ptk.sqlite`; a file path is used as is.
    """
    chosen = path if path is not None else os.environ.get("PTK_STORE")
    if not chosen:
        return DEFAULT_STORE
    chosen = Path(chosen)
    if chosen.is_dir() or chosen.suffix.lower() not in _FILE_SUFFIXES:
        return chosen / STORE_FILENAME
    return chosen


def version_date(record: TrialRecord) -> Optional[str]:
    """The ISO date (YYYY-MM-DD, or shorter) a version is dated by.

    The version label when it reads as a date, else the last-update date.
    """
    from toolkit.normalize.fields import iso_date

    for text in (record.version, record.last_updated):
        iso = iso_date(text)
        if iso:
            return iso
    return None


def _encode(record: TrialRecord) -> tuple:
    """(body_hash, codec, body) of a record's compact JSON."""
    from toolkit.canonical import compact_json
    from toolkit.records import to_dict

    blob = compact_json(to_dict(record))
    body_hash = hashlib.sha1(blob).hexdigest()
    packed = zlib.compress(blob, ZLIB_LEVEL)
    if len(packed) < len(blob):
        return body_hash, "zlib", packed
    return body_hash, "json", blob


class StoredBody(NamedTuple):
    """One stored version as the store keeps it: compact JSON, maybe compressed."""

    registry: str
    trial_id: str
    codec: str
    body: bytes


class StoredVersion(NamedTuple):
    """One stored version with its place in the trial's history, body undecoded."""

    registry: str
    trial_id: str
    seq: int
    latest: bool
    version_date: Optional[str]
    codec: str
    body: bytes


def body_json(codec: str, body: bytes) -> bytes:
    """The compact JSON of a stored body (see `StoredVersion`)."""
    return zlib.decompress(body) if codec == "zlib" else body


def decode_body(codec: str, body: bytes) -> TrialRecord:
    """The record of a stored body (see `Store.iter_latest_bodies`)."""
    from toolkit.records import TrialRecord

    return TrialRecord.from_dict(json.loads(body_json(codec, body)))


def _left_open(path: Path) -> bool:
    """Whether the store's WAL file is there with content: the last connection did not
    close cleanly (killed), or another process has the store open now."""
    try:
        return Path(f"{path}-wal").stat().st_size > 0
    except OSError:
        return False


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """The corpus store; use as a context manager.

    Args:
        path: store file or directory (see `resolve_store_path`).
        create: create the store when it does not exist (else `StoreError`).
        timeout: seconds a writer waits for another writer before failing.

    Raises:
        StoreError: missing store (without `create`), corrupt or locked file,
            or a store written by a newer toolkit.
    """

    def __init__(self, path=None, *, create: bool = False, timeout: float = BUSY_TIMEOUT_S):
        self.path = resolve_store_path(path)
        if not self.path.exists() and not create:
            raise StoreError(f"no corpus store at {self.path}: {_CREATE_HINT}")
        self._db = None
        unclean = _left_open(self.path)
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            self._prepare(create=create)
            if unclean:
                self._refuse_if_corrupt()
        except StoreError:
            self.close()
            raise
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open the corpus store ({exc})") from None
        except sqlite3.DatabaseError as exc:
            self.close()
            raise self._error(exc) from None

    # --- lifecycle -----------------------------------------------------------

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def _prepare(self, *, create: bool) -> None:
        """Check the file, switch to WAL, create or migrate the schema."""
        user_version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if user_version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store schema v{user_version} is newer than this toolkit"
                f" (v{SCHEMA_VERSION}); upgrade ptk")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: consistent, faster commits
        if user_version == SCHEMA_VERSION:
            return
        tables = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables and user_version == 0:
            raise StoreError(f"{self.path}: not a ptk corpus store")
        if not create and not tables:
            raise StoreError(f"{self.path}: empty corpus store: {_CREATE_HINT}")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._migrate(user_version)

    def check(self, *, limit: int = 20) -> list:
        """SQLite's `PRAGMA quick_check`: the problems found (empty when the store is sound).

        Args:
            limit: the most problems listed.
        """
        try:
            rows = self._db.execute(f"PRAGMA quick_check({int(limit)})").fetchall()
        except sqlite3.DatabaseError as exc:
            return [str(exc)]
        problems = [row[0] for row in rows]
        return [] if problems == ["ok"] else problems

    def _refuse_if_corrupt(self) -> None:
        """After an unclean end (a WAL file left behind), check the pages before any write."""
        problems = self.check(limit=5)
        if problems:
            raise StoreError(f"{self.path}: corrupt corpus store (quick_check: {'; '.join(problems)});"
                             " restore a copy or parse the dumps again into a new store")

    def _migrate(self, user_version: int) -> None:
        """Bring the schema from `user_version` up to `SCHEMA_VERSION`."""
        with self._transaction():
            # another process may have migrated while this one waited for the lock
            user_version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if user_version < 1:
                self._script(_SCHEMA)
            if user_version < 2:
                self._script(_SCHEMA_V2)
                self._backfill_aliases()
            if user_version < 3:
                self._script(_SCHEMA_V3)
            if user_version < 4:
                columns = {row[1] for row in self._db.execute("PRAGMA table_info(versions)")}
                if "generation" not in columns:
                    self._db.execute("ALTER TABLE versions ADD COLUMN generation INTEGER NOT NULL DEFAULT 0")
                self._script(_SCHEMA_V4)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _script(self, sql: str) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                self._db.execute(statement)

    def _backfill_aliases(self) -> None:
        """Fill the alias table of a v1 store from its stored bodies."""
        rows = self._db.execute("SELECT registry, trial_id, codec, body FROM versions").fetchall()
        for registry, trial_id, codec, body in rows:
            ids = [i.get("id") or "" for i in json.loads(body_json(codec, body)).get("secondary_ids") or ()]
            self._put_aliases(registry, trial_id, ids)

    def _put_aliases(self, registry: str, trial_id: str, ids) -> None:
        from toolkit.normalize.aliases import alias_keys

        self._db.executemany(
            "INSERT OR IGNORE INTO aliases (registry, trial_id, alias) VALUES (?,?,?)",
            [(registry, trial_id, key) for key in alias_keys(registry, trial_id, ids)])

    def _error(self, exc: sqlite3.Error) -> StoreError:
        message = str(exc)
        if "locked" in message or "busy" in message:
            return StoreError(f"{self.path}: corpus store is locked by another writer ({message})")
        if "not a database" in message or "malformed" in message:
            return StoreError(f"{self.path}: corrupt corpus store ({message})")
        return StoreError(f"{self.path}: {message}")

    # --- writing -------------------------------------------------------------

    def _transaction(self):
        return _Transaction(self)

    def put(self, record: TrialRecord) -> PutSummary:
        """Store one record (its own transaction); see `put_many`."""
        return self.put_many([record])

    def put_many(self, records: Iterable[TrialRecord]) -> PutSummary:
        """Store a batch of records in ONE transaction.

        Returns:
            PutSummary: new trials, new versions, unchanged (and refreshed).

        Raises:
            StoreError: the store is locked or broken; nothing of the batch is written.
        """
        counts = Counter()
        added_at = _now()
        with self._transaction():
            generation = self.generation() + 1  # what this batch's rows are written by
            for record in records:
                counts[self._put_one(record, added_at, generation)] += 1
            if counts["new_trial"] or counts["new_version"] or counts["refreshed"]:
                self._db.execute("UPDATE store_state SET value = ? WHERE key = 'generation'", (generation,))
        return PutSummary(counts["new_trial"], counts["new_version"],
                          counts["unchanged"] + counts["refreshed"], counts["refreshed"])

    def _put_one(self, record: TrialRecord, added_at: str, generation: int) -> str:
        """Insert one record inside the open transaction, as written by `generation`; returns what happened."""
        from toolkit.canonical import content_hash

        chash = record.content_hash or content_hash(record)
        body_hash, codec, body = _encode(record)
        row = self._db.execute(
            "SELECT id, body_hash FROM versions WHERE registry=? AND trial_id=? AND content_hash=?",
            (record.registry, record.trial_id, chash)).fetchone()
        if row is not None:
            if row[1] == body_hash:
                return "unchanged"
            self._db.execute("UPDATE versions SET body_hash=?, codec=?, body=?, generation=? WHERE id=?",
                             (body_hash, codec, body, generation, row[0]))
            return "refreshed"
        known = self._db.execute(
            "SELECT count(*) FROM versions WHERE registry=? AND trial_id=?",
            (record.registry, record.trial_id)).fetchone()[0]
        self._db.execute(
            "INSERT INTO versions (registry, trial_id, content_hash, version, version_date, seq,"
            " latest, status, phases, study_type, added_at, body_hash, codec, body, generation)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (record.registry, record.trial_id, chash, record.version, version_date(record),
             1, 1, record.status, ",".join(record.phases), record.study_type, added_at,
             body_hash, codec, body, generation))
        self._put_aliases(record.registry, record.trial_id, [i.id for i in record.secondary_ids])
        if not known:
            return "new_trial"
        self._renumber(record.registry, record.trial_id)
        return "new_version"

    def _renumber(self, registry: str, trial_id: str) -> None:
        """Number a trial's versions by version date (undated last), then arrival."""
        ids = [r[0] for r in self._db.execute(
            "SELECT id FROM versions WHERE registry=? AND trial_id=?"
            " ORDER BY version_date IS NULL, version_date, id", (registry, trial_id))]
        self._db.executemany(
            "UPDATE versions SET seq=?, latest=? WHERE id=?",
            [(seq, int(seq == len(ids)), row_id) for seq, row_id in enumerate(ids, 1)])

    # --- reading -------------------------------------------------------------

    def _query(self, sql: str, params: tuple = ()) -> list:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def _registry_of(self, trial_id: str, registry: Optional[str]) -> str:
        """The one registry holding `trial_id` (or check the given one)."""
        rows = self._query(
            "SELECT DISTINCT registry FROM versions WHERE trial_id=?"
            + (" AND registry=?" if registry else ""),
            (trial_id, registry) if registry else (trial_id,))
        if not rows:
            where = f" in registry {registry!r}" if registry else ""
            raise StoreError(f"trial {trial_id}{where} is not in the corpus store {self.path}")
        if len(rows) > 1:
            names = ", ".join(sorted(r[0] for r in rows))
            raise StoreError(f"trial {trial_id} is in several registries ({names}): name one")
        return rows[0][0]

    def versions(self, trial_id: str, *, registry: Optional[str] = None) -> list:
        """Every stored version of a trial, oldest first.

        Returns:
            list[VersionInfo]

        Raises:
            StoreError: the trial is not stored (or is in several registries).
        """
        registry = self._registry_of(trial_id, registry)
        rows = self._query(
            f"SELECT {_INFO_COLUMNS} FROM versions WHERE registry=? AND trial_id=? ORDER BY seq",
            (registry, trial_id))
        return [VersionInfo(*row[:-1], latest=bool(row[-1])) for row in rows]

    def get(self, trial_id: str, *, registry: Optional[str] = None,
            version: Union[str, int, None] = None) -> TrialRecord:
        """One version of a trial, the latest by default.

        Args:
            trial_id: the registry's trial id, e.g. NCT06054113.
            registry: which registry, when the id alone is ambiguous.
            version: a version label, a date (the version in force that day),
                a sequence number, or a content-hash prefix.

        Raises:
            StoreError: no such trial or version, or an ambiguous version.
        """
        infos = self.versions(trial_id, registry=registry)
        chosen = infos[-1] if version is None else _pick_version(infos, str(version))
        row = self._query(
            "SELECT codec, body FROM versions WHERE registry=? AND trial_id=? AND content_hash=?",
            (chosen.registry, trial_id, chosen.content_hash))[0]
        return decode_body(*row)

    def iter_latest(self, *, registry: Optional[str] = None) -> Iterator[TrialRecord]:
        """Yield the latest version of every trial, by registry and trial id."""
        for stored in self.iter_latest_bodies(registry=registry):
            yield decode_body(stored.codec, stored.body)

    def iter_latest_bodies(self, *, registry: Optional[str] = None) -> Iterator[StoredBody]:
        """Yield the latest version of every trial (of one registry if given) undecoded,
        as a `StoredBody`, by registry and trial id.

        For work spread over processes: bodies are cheap to send, and
        `decode_body` turns one into its record where it is needed.
        """
        sql = "SELECT registry, trial_id, codec, body FROM versions WHERE latest=1"
        params = ()
        if registry:
            sql, params = sql + " AND registry=?", (registry,)
        try:
            for row in self._db.execute(sql + " ORDER BY registry, trial_id", params):
                yield StoredBody(*row)
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def version_index(self) -> list:
        """Every stored version of every trial, without bodies, by registry, trial and seq.

        For tables derived from the store that keep in step with it (e.g. the
        corpus-wide change events of `toolkit.diff.changes`): one query tells
        which versions are new.

        Returns:
            list[VersionInfo]
        """
        rows = self._query(f"SELECT {_INFO_COLUMNS} FROM versions ORDER BY registry, trial_id, seq")
        return [VersionInfo(*row[:-1], latest=bool(row[-1])) for row in rows]

    def bodies(self, registry: str, trial_id: str) -> dict:
        """{content_hash: StoredBody} of every version of one trial (undecoded; see `decode_body`)."""
        rows = self._query("SELECT content_hash, codec, body FROM versions WHERE registry=? AND trial_id=?",
                           (registry, trial_id))
        return {h: StoredBody(registry, trial_id, codec, body) for h, codec, body in rows}

    def iter_versions(self, *, latest_only: bool = True, registry: Optional[str] = None
                      ) -> Iterator[StoredVersion]:
        """Yield stored versions undecoded, by registry, trial id and seq.

        Args:
            latest_only: only the latest version of each trial (else every version).
            registry: only this registry.
        """
        sql, params = self._version_filter(latest_only, registry)
        try:
            for row in self._db.execute(
                    "SELECT registry, trial_id, seq, latest, version_date, codec, body FROM versions"
                    + sql + " ORDER BY registry, trial_id, seq", params):
                yield StoredVersion(row[0], row[1], row[2], bool(row[3]), *row[4:])
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def count_versions(self, *, latest_only: bool = True, registry: Optional[str] = None) -> int:
        """How many versions `iter_versions` yields with the same arguments."""
        sql, params = self._version_filter(latest_only, registry)
        return self._query("SELECT count(*) FROM versions" + sql, params)[0][0]

    @staticmethod
    def _version_filter(latest_only: bool, registry: Optional[str]) -> tuple:
        clauses = (["latest=1"] if latest_only else []) + (["registry=?"] if registry else [])
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), ((registry,) if registry else ())

    def generation(self) -> int:
        """A number raised by every write that changes what is stored (new trial, version or body).

        Equal numbers read from one store file mean nothing changed in between:
        the search index compares it instead of hashing every latest version.
        """
        return self._query("SELECT value FROM store_state WHERE key = 'generation'")[0][0]

    def changed_since(self, generation: int) -> Optional[dict]:
        """{(registry, trial_id): is_new} of the trials written after `generation`.

        `is_new`: the trial had no version at `generation`. None when this
        store cannot tell (`generation` is older than its per-row tracking):
        compare `latest_hashes` instead.
        """
        tracked = self._query("SELECT value FROM store_state WHERE key = 'tracked_since'")
        if tracked and generation < tracked[0][0]:
            return None
        rows = self._query(
            "SELECT v.registry, v.trial_id, min(v.generation) FROM versions v"
            " JOIN (SELECT DISTINCT registry, trial_id FROM versions WHERE generation > ?) c"
            " ON v.trial_id = c.trial_id AND v.registry = c.registry GROUP BY v.registry, v.trial_id", (generation,))
        return {(r, t): first > generation for r, t, first in rows}

    def latest_bodies(self, keys: Iterable[tuple]) -> Iterator[StoredBody]:
        """The latest version of each (registry, trial_id) in `keys` (in their order), undecoded."""
        for registry, trial_id in keys:
            row = self._query("SELECT registry, trial_id, codec, body FROM versions"
                              " WHERE trial_id=? AND registry=? AND latest=1", (trial_id, registry))
            if row:
                yield StoredBody(*row[0])

    def latest_hashes(self) -> dict:
        """{(registry, trial_id): content_hash} of the latest version of every trial."""
        rows = self._query("SELECT registry, trial_id, content_hash FROM versions WHERE latest=1")
        return {(r, t): h for r, t, h in rows}

    def trial_ids(self, *, registry: Optional[str] = None) -> list:
        """Sorted ids of the stored trials (of one registry if given)."""
        sql = "SELECT DISTINCT trial_id FROM versions"
        if registry:
            return [r[0] for r in self._query(sql + " WHERE registry=? ORDER BY 1", (registry,))]
        return [r[0] for r in self._query(sql + " ORDER BY 1")]

    def stats(self) -> StoreStats:
        """Counts by registry, status, phase and study type (latest versions),
        how many trials have 1, 2, ... versions, unique trials once the
        records of one trial in several registries are linked, and the values
        outside the one vocabulary (`toolkit.normalize.vocabulary`)."""
        rows = self._query("SELECT registry, status, phases, study_type FROM versions WHERE latest=1")
        phases = Counter(p for r in rows for p in (r[2].split(",") if r[2] else ["(none)"]))
        per_trial = self._query(
            "SELECT n, count(*) FROM (SELECT count(*) n FROM versions GROUP BY registry, trial_id)"
            " GROUP BY n ORDER BY n")
        total = self._query("SELECT count(*) FROM versions")[0][0]
        groups = Counter(self.trial_groups().values())
        return StoreStats(
            trials=len(rows), versions=total,
            by_registry=_counted(r[0] for r in rows),
            by_status=_counted_folded(r[1] or "(none)" for r in rows),
            by_phase=dict(phases.most_common()),
            by_study_type=_counted_folded(r[3] or "(none)" for r in rows),
            versions_per_trial={str(n): c for n, c in per_trial},
            unique_trials=len(groups),
            linked={str(n): c for n, c in sorted(Counter(groups.values()).items()) if n > 1},
            unmapped=self._unmapped(rows),
        )

    def _unmapped(self, rows: list) -> dict:
        """{kind: {value: trials}} of latest-version values outside the vocabulary."""
        from toolkit.normalize.vocabulary import is_mapped

        found = {kind: Counter() for kind in ("status", "phase", "study_type", "sex", "country")}
        for _, status, phases, study_type in rows:
            found["status"].update([status] if not is_mapped("status", status) else [])
            found["phase"].update(p for p in (phases.split(",") if phases else ()) if not is_mapped("phase", p))
            found["study_type"].update([study_type] if not is_mapped("study_type", study_type) else [])
        for stored in self.iter_versions():
            record = json.loads(body_json(stored.codec, stored.body))
            sex = (record.get("eligibility") or {}).get("sex")
            found["sex"].update([sex] if not is_mapped("sex", sex) else [])
            countries = {loc.get("country") for loc in record.get("locations") or () if loc.get("country")}
            found["country"].update(c for c in countries if not is_mapped("country", c))
        return {kind: _counted_folded(counts.elements()) for kind, counts in found.items()}

    # --- aliases: one trial under several registries' ids -------------------------

    def aliases(self, trial_id: str, *, registry: Optional[str] = None) -> list:
        """The ids a stored trial is known by in the linked registries (its own first).

        Returns:
            list[Alias], each with the other stored trials known by the same id.

        Raises:
            StoreError: the trial is not stored (or is in several registries).
        """
        from toolkit.normalize.aliases import alias_keys

        registry = self._registry_of(trial_id, registry)
        rows = self._query(
            "SELECT a.alias, b.registry, b.trial_id FROM aliases a LEFT JOIN aliases b"
            " ON b.alias = a.alias AND NOT (b.registry = a.registry AND b.trial_id = a.trial_id)"
            " WHERE a.registry=? AND a.trial_id=? ORDER BY a.alias", (registry, trial_id))
        found: dict = {}
        for key, other_registry, other_id in rows:
            found.setdefault(key, [])
            if other_id is not None:
                found[key].append((other_registry, other_id))
        own = next(iter(alias_keys(registry, trial_id, ())))
        ordered = sorted(found, key=lambda k: (k != own, k))
        return [Alias(k, *k.split(":", 1), tuple(sorted(set(found[k])))) for k in ordered]

    def linked_trials(self, trial_id: str, *, registry: Optional[str] = None) -> list:
        """Every stored trial linked to this one through shared ids, itself included, sorted."""
        registry = self._registry_of(trial_id, registry)
        groups = self.trial_groups()
        mine = groups[(registry, trial_id)]
        return sorted(key for key, group in groups.items() if group == mine)

    def trial_groups(self) -> dict:
        """{(registry, trial_id): group} for every stored trial.

        Trials sharing an id in a linked registry (NCT, EudraCT, ISRCTN,
        ChiCTR, DRKS), directly or through others, share a group: the
        smallest "registry:trial_id" among them. For folding search hits by
        trial (`--group-by trial`) and counting unique trials.
        """
        rows = self._query("SELECT alias, registry, trial_id FROM aliases ORDER BY alias")
        parent: dict = {}

        def root(node):
            while parent.setdefault(node, node) != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        first_of_alias: dict = {}
        for alias, registry, trial_id in rows:
            node = (registry, trial_id)
            other = first_of_alias.setdefault(alias, node)
            low, high = sorted((root(node), root(other)))
            parent[high] = low
        for registry, trial_id in self._query("SELECT DISTINCT registry, trial_id FROM versions"):
            root((registry, trial_id))
        return {node: "{}:{}".format(*root(node)) for node in parent}


def _counted(values) -> dict:
    return dict(Counter(values).most_common())


def _counted_folded(values) -> dict:
    """Counts with spellings that differ only in case together, under the most common one
    ("Not recruiting" and "Not Recruiting" are one raw status)."""
    counts = Counter(values)
    groups: dict = {}
    for value, n in counts.most_common():
        groups.setdefault(value.casefold() if isinstance(value, str) else value, []).append((value, n))
    return dict(sorted(((spellings[0][0], sum(n for _, n in spellings)) for spellings in groups.values()),
                       key=lambda item: -item[1]))


def _pick_version(infos: list, wanted: str) -> VersionInfo:
    """Resolve a version label, sequence number, date or hash prefix."""
    from toolkit.normalize.fields import iso_date

    by_label = [i for i in infos if i.version == wanted]
    if by_label:
        return by_label[-1]
    if wanted.isdigit() and 1 <= int(wanted) <= len(infos):
        return infos[int(wanted) - 1]
    as_date = iso_date(wanted)
    if as_date:
        # "2024" or "2024-06": the version in force at the end of that year or month
        dated = [i for i in infos if i.version_date and i.version_date[:len(as_date)] <= as_date]
        if dated:
            return dated[-1]
    by_hash = [i for i in infos if len(wanted) >= 4 and i.content_hash.startswith(wanted.lower())]
    if len(by_hash) == 1:
        return by_hash[0]
    trial = infos[0].trial_id
    if len(by_hash) > 1:
        raise StoreError(f"version {wanted!r} of {trial} is ambiguous: give more hash digits")
    known = ", ".join(f"{i.seq}={i.version or i.version_date or i.content_hash[:8]}" for i in infos)
    raise StoreError(f"no version {wanted!r} of {trial} (stored: {known})")


class _Transaction:
    """BEGIN IMMEDIATE .. COMMIT, rolled back on any exception."""

    def __init__(self, store: Store):
        self.store = store

    def __enter__(self):
        try:
            self.store._db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise self.store._error(exc) from None

    def __exit__(self, exc_type, exc, tb) -> bool:
        db = self.store._db
        if exc_type is not None:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if issubclass(exc_type, sqlite3.DatabaseError):
                raise self.store._error(exc) from None
            return False
        try:
            db.execute("COMMIT")
        except sqlite3.DatabaseError as err:
            db.execute("ROLLBACK")
            raise self.store._error(err) from None
        return False
