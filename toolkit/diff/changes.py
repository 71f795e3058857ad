"""Corpus-wide change events: every event of every stored trial, kept incrementally.

The events of each consecutive pair of stored versions live in a SQLite
file beside the store (`<store>.changes.sqlite`, see `changes_path`), with
the ordered content hashes each trial had when its events were computed.
`ChangeLog.sync(store)` compares those with the store's version index (one
query) and diffs only the pairs that are new: a trial that gained a version
costs one diff, a corpus that did not change costs nothing but the index.
Events computed by other rules (another version of the diff code, the
tagger's rules or the unit table: `rules_fingerprint`) are all computed again.

Queries (`ChangeLog.events`, `ChangeLog.summary`) are plain SQL over the
events table, filtered by kind (or a named group, `EVENT_GROUPS`),
significance, date, registry, and "after": the change was made after the
trial started, completed its primary outcome, or was registered.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from toolkit.diff import diff_records
from toolkit.diff.events import EVENT_KINDS
from toolkit.errors import ChangesError
from toolkit.records import TrialRecord

__all__ = ["EVENT_GROUPS", "AFTER", "ChangeFilter", "ChangeLog", "ChangesError", "SyncSummary", "changes_path"]

# named groups of event kinds, as the literature counts them
EVENT_GROUPS: Dict[str, Tuple[str, ...]] = {
    "primary_outcome": ("primary_outcome_changed", "primary_outcome_added", "primary_outcome_removed",
                        "outcome_moved_to_primary", "outcome_moved_to_secondary"),
    "primary_outcome_omitted": ("primary_outcome_removed", "outcome_moved_to_secondary"),
    "start_date_moved": ("start_date_slipped", "start_date_brought_forward"),
    "age_range": ("age_range_widened", "age_range_narrowed", "age_range_changed"),
    "outcome": ("primary_outcome_changed", "primary_outcome_added", "primary_outcome_removed",
                "secondary_outcome_changed", "secondary_outcome_added", "secondary_outcome_removed",
                "outcome_moved_to_primary", "outcome_moved_to_secondary"),
}
# --after: which trial date the change must come after
AFTER = {"start": "start_date", "primary-completion": "primary_completion_date", "registration": "registered"}
COLUMNS = ("registry", "trial_id", "date", "old_version", "new_version", "kind", "significance",
           "field", "criterion", "message", "before", "after")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    registry TEXT NOT NULL, trial_id TEXT NOT NULL, hashes TEXT NOT NULL,
    registered TEXT, start_date TEXT, primary_completion_date TEXT,
    PRIMARY KEY (registry, trial_id)
);
CREATE TABLE IF NOT EXISTS events (
    registry TEXT NOT NULL, trial_id TEXT NOT NULL, old_hash TEXT NOT NULL, new_hash TEXT NOT NULL,
    date TEXT, old_version TEXT, new_version TEXT, kind TEXT NOT NULL, significance TEXT NOT NULL,
    field TEXT, criterion TEXT, message TEXT NOT NULL, before TEXT, after TEXT
);
CREATE INDEX IF NOT EXISTS events_trial ON events (registry, trial_id, old_hash, new_hash);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, significance);
CREATE TABLE IF NOT EXISTS pairs (
    registry TEXT NOT NULL, trial_id TEXT NOT NULL, old_hash TEXT NOT NULL, new_hash TEXT NOT NULL,
    PRIMARY KEY (registry, trial_id, old_hash, new_hash)
);
CREATE TABLE IF NOT EXISTS log_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_TOOLKIT = Path(__file__).resolve().parents[1]
# the code and rules events are computed by: when any of it changes, every event is computed again
_RULE_FILES = ("diff/*.py", "nlp/*.py", "nlp/data/*.json", "units.py")


def rules_fingerprint() -> str:
    """One hash of the code and rule files that decide the events (see `ChangeLog.sync`)."""
    digest = hashlib.sha256()
    for path in sorted(p for pattern in _RULE_FILES for p in _TOOLKIT.glob(pattern)):
        digest.update(path.relative_to(_TOOLKIT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:20]


@dataclass(frozen=True)
class SyncSummary:
    """What one `ChangeLog.sync` did."""

    trials: int = 0        # trials in the store
    updated: int = 0       # trials whose versions changed since the last sync
    pairs: int = 0         # version pairs diffed
    removed: int = 0       # trials no longer in the store


@dataclass(frozen=True)
class ChangeFilter:
    """Which events a query keeps; every field optional."""

    kinds: Tuple[str, ...] = ()
    significance: Optional[str] = None
    since: Optional[str] = None
    until: Optional[str] = None
    after: Optional[str] = None     # start | primary-completion | registration
    registry: Optional[str] = None
    trial_id: Optional[str] = None

    @classmethod
    def build(cls, *, events: Sequence[str] = (), **kwargs) -> "ChangeFilter":
        """A filter from user values: event kinds or group names, checked.

        Raises:
            ChangesError: an unknown event kind or `after` value.
        """
        kinds: List[str] = []
        for name in events:
            if name in EVENT_GROUPS:
                kinds += EVENT_GROUPS[name]
            elif name in EVENT_KINDS:
                kinds.append(name)
            else:
                known = ", ".join(sorted(EVENT_GROUPS)) + ", or an event kind (" + ", ".join(EVENT_KINDS) + ")"
                raise ChangesError(f"unknown event {name!r}: use {known}")
        if kwargs.get("after") and kwargs["after"] not in AFTER:
            raise ChangesError(f"--after takes {', '.join(AFTER)}")
        return cls(kinds=tuple(dict.fromkeys(kinds)), **kwargs)

    def where(self) -> Tuple[str, list]:
        """The SQL condition on `events e JOIN trials t` and its parameters."""
        parts, params = ["1=1"], []
        if self.kinds:
            parts.append(f"e.kind IN ({','.join('?' * len(self.kinds))})")
            params += list(self.kinds)
        for column, value, op in (("e.significance", self.significance, "="), ("e.date", self.since, ">="),
                                  ("e.registry", self.registry, "="), ("e.trial_id", self.trial_id, "=")):
            if value:
                parts.append(f"{column} {op} ?")
                params.append(value)
        if self.until:
            parts.append("substr(e.date, 1, ?) <= ?")
            params += [len(self.until), self.until]
        if self.after:
            column = AFTER[self.after]
            parts.append(f"t.{column} IS NOT NULL AND e.date > t.{column}")
        return " AND ".join(parts), params


def changes_path(store_path: Path) -> Path:
    """Where the change log of a store lives: beside it, `<name>.changes.sqlite`."""
    return store_path.with_name(store_path.stem + ".changes.sqlite")


class ChangeLog:
    """The change events of a store's trials; use as a context manager.

    Args:
        path: the change-log file (created when missing).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(str(self.path), isolation_level=None)
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ChangesError(f"{self.path}: cannot open the change log ({exc})") from None

    def __enter__(self) -> "ChangeLog":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    # --- keeping in step with the store ------------------------------------------------

    def sync(self, store, *, jobs: int = 1, progress: Optional[Callable[[int], None]] = None) -> SyncSummary:
        """Diff the version pairs the store gained since the last sync (all, the first time, and
        all again when the rules changed).

        Args:
            store: an open `toolkit.store.Store`.
            jobs: processes that diff trials side by side (the log is written by this one).
            progress: called with the number of trials done, now and then.

        Returns:
            What was done.
        """
        index = _by_trial(store.version_index())
        rules = rules_fingerprint()
        pairs = 0
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self._state("rules") != rules:  # events of older rules are all computed again
                self._forget_all(rules)
            known = {(r, t): h for r, t, h in self._db.execute("SELECT registry, trial_id, hashes FROM trials")}
            stale = [key for key, infos in index.items() if known.get(key) != _hashes(infos)]
            gone = [key for key in known if key not in index]
            plans = [(key, index[key], self._pairs_of(key)) for key in stale]
            for key in gone:
                self._forget(*key)
            for done, result in enumerate(_computed(store, plans, jobs), 1):
                pairs += self._write(result)
                if progress is not None and done % 50 == 0:
                    progress(done)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return SyncSummary(len(index), len(stale), pairs, len(gone))

    def _forget_all(self, rules: str) -> None:
        """Drop every event (inside the open transaction) and note the rules the next ones follow."""
        for table in ("trials", "events", "pairs"):
            self._db.execute(f"DELETE FROM {table}")
        self._db.execute("INSERT OR REPLACE INTO log_state (key, value) VALUES ('rules', ?)", (rules,))

    def _state(self, key: str) -> Optional[str]:
        row = self._db.execute("SELECT value FROM log_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _pairs_of(self, key: Tuple[str, str]) -> set:
        return set(self._db.execute("SELECT old_hash, new_hash FROM pairs WHERE registry=? AND trial_id=?", key))

    def _forget(self, registry: str, trial_id: str) -> None:
        for table in ("trials", "events", "pairs"):
            self._db.execute(f"DELETE FROM {table} WHERE registry=? AND trial_id=?", (registry, trial_id))

    def _write(self, result: "_TrialUpdate") -> int:
        """Write one trial's new events; returns the pairs diffed."""
        registry, trial_id = result.key
        for old_hash, new_hash in result.obsolete:  # no longer consecutive: a version arrived between
            for table in ("events", "pairs"):
                self._db.execute(f"DELETE FROM {table} WHERE registry=? AND trial_id=? AND old_hash=? AND new_hash=?",
                                 (registry, trial_id, old_hash, new_hash))
        self._db.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", result.events)
        self._db.executemany("INSERT INTO pairs VALUES (?,?,?,?)", [(*result.key, *pair) for pair in result.pairs])
        self._db.execute("INSERT OR REPLACE INTO trials VALUES (?,?,?,?,?,?)", result.trial)
        return len(result.pairs)

    # --- queries -------------------------------------------------------------------------

    def events(self, where: ChangeFilter = ChangeFilter()) -> Iterator[dict]:
        """Events matching a filter, by registry, trial and date: one dict per event (`COLUMNS`)."""
        condition, params = where.where()
        cursor = self._db.execute(
            f"SELECT {', '.join('e.' + c for c in COLUMNS)} FROM events e JOIN trials t "
            f"USING (registry, trial_id) WHERE {condition} ORDER BY e.registry, e.trial_id, e.date, e.rowid", params)
        for row in cursor:
            item = dict(zip(COLUMNS, row))
            item["before"], item["after"] = _unjson(item["before"]), _unjson(item["after"])
            yield item

    def summary(self, where: ChangeFilter = ChangeFilter()) -> dict:
        """Counts per event kind, and the share of stored trials with each.

        Returns:
            {trials, trials_with_history, kinds: [{kind, events, trials, share}], most trials first}
        """
        condition, params = where.where()
        trials, with_history = self._db.execute(
            "SELECT count(*), sum(instr(hashes, ',') > 0) FROM trials"
            + (" WHERE registry = ?" if where.registry else ""), [where.registry] if where.registry else []
        ).fetchone()
        rows = self._db.execute(
            f"SELECT e.kind, count(*), count(DISTINCT e.registry || ':' || e.trial_id) FROM events e "
            f"JOIN trials t USING (registry, trial_id) WHERE {condition} GROUP BY e.kind "
            f"ORDER BY 3 DESC, 2 DESC, 1", params).fetchall()
        kinds = [{"kind": k, "events": n, "trials": m, "share": round(m / trials, 4) if trials else 0.0}
                 for k, n, m in rows]
        return {"trials": trials, "trials_with_history": with_history or 0, "kinds": kinds}


@dataclass(frozen=True)
class _TrialUpdate:
    """What one trial's sync writes: pairs to drop, event rows, pairs diffed, the trial row."""

    key: Tuple[str, str]
    obsolete: Tuple[Tuple[str, str], ...]
    events: Tuple[tuple, ...]
    pairs: Tuple[Tuple[str, str], ...]
    trial: tuple


def _update(store, key: Tuple[str, str], infos: list, have: set) -> _TrialUpdate:
    """Diff the pairs of one trial's consecutive versions that are not in `have`."""
    wanted = {(a.content_hash, b.content_hash): (a, b) for a, b in zip(infos, infos[1:])}
    todo = tuple(pair for pair in wanted if pair not in have)
    records = _decoded(store, key, {h for pair in todo for h in pair} | {infos[-1].content_hash})
    rows = []
    for pair in todo:
        rows += _event_rows(key, wanted[pair], records[pair[0]], records[pair[1]])
    latest = records[infos[-1].content_hash]
    trial = (*key, _hashes(infos), _registered(latest, infos), latest.start_date, latest.primary_completion_date)
    return _TrialUpdate(key, tuple(have - set(wanted)), tuple(rows), todo, trial)


def _event_rows(key, infos, old: TrialRecord, new: TrialRecord) -> List[tuple]:
    a, b = infos
    diff = diff_records(old, new, check_identity=False)
    date = b.version_date or new.last_updated
    return [(*key, a.content_hash, b.content_hash, date, a.version, b.version, e.kind, e.significance,
             e.field, e.criterion, e.message, _json(e.before), _json(e.after)) for e in diff.events]


def _computed(store, plans: list, jobs: int) -> Iterator[_TrialUpdate]:
    """`_update` of every plan, here or in `jobs` worker processes (chunks of trials)."""
    if jobs <= 1 or len(plans) < 2 * _CHUNK:
        for key, infos, have in plans:
            yield _update(store, key, infos, have)
        return
    import multiprocessing

    chunks = [plans[i:i + _CHUNK] for i in range(0, len(plans), _CHUNK)]
    with multiprocessing.Pool(jobs) as pool:
        for results in pool.imap(_update_chunk, [(str(store.path), chunk) for chunk in chunks]):
            yield from results


_CHUNK = 100


def _update_chunk(task) -> List[_TrialUpdate]:
    """Worker: open the store read-only and update a chunk of trials."""
    from toolkit.store import Store

    path, chunk = task
    with Store(path) as store:
        return [_update(store, key, infos, have) for key, infos, have in chunk]


def _by_trial(infos: Iterable) -> Dict[Tuple[str, str], list]:
    out: Dict[Tuple[str, str], list] = {}
    for info in infos:
        out.setdefault((info.registry, info.trial_id), []).append(info)
    return out


def _hashes(infos: list) -> str:
    return ",".join(i.content_hash for i in infos)


def _decoded(store, key: Tuple[str, str], hashes: set) -> Dict[str, TrialRecord]:
    from toolkit.store import decode_body

    bodies = store.bodies(*key)
    return {h: decode_body(bodies[h].codec, bodies[h].body) for h in hashes}


def _registered(latest: TrialRecord, infos: list) -> Optional[str]:
    """When the trial was registered: its first-posted date, else its first version's date."""
    return getattr(latest, "first_posted", None) or infos[0].version_date


def _json(value) -> Optional[str]:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _unjson(text: Optional[str]):
    return None if text is None else json.loads(text)
