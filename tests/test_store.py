"""The corpus store on real records: versions, idempotence, atomic batches, errors."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from toolkit.errors import StoreError
from toolkit.canonical import with_hash
from toolkit.records import Tag, TrialRecord
from toolkit.store import (
    STORE_FILENAME, PutSummary, Store, resolve_store_path, version_date,
)


def _seed(records) -> TrialRecord:
    return next(r for r in records if r.trial_id == "NCT06054113")


def _changed(record: TrialRecord, **fields) -> TrialRecord:
    return with_hash(dataclasses.replace(record, **fields))


def _with_tag(record: TrialRecord) -> TrialRecord:
    """The record with one tag on its first criterion (as the NLP tagger adds them)."""
    first = record.eligibility.criteria[0]
    word = first.text.split()[0]
    tagged = dataclasses.replace(first, tags=(Tag("condition", word, 0, len(word), norm="x"),))
    eligibility = dataclasses.replace(
        record.eligibility, criteria=(tagged,) + record.eligibility.criteria[1:])
    return dataclasses.replace(record, eligibility=eligibility)


def test_store_put_same_records_twice_adds_nothing(tmp_path, sample_records):
    with Store(tmp_path, create=True) as store:
        first = store.put_many(sample_records)
        second = store.put_many(sample_records)
        assert first.new_trials == len({r.key for r in sample_records})
        assert second == PutSummary(0, 0, len(sample_records), 0)
        assert store.stats().versions == first.new_trials + first.new_versions


def test_store_changed_record_adds_a_version(tmp_path, sample_records):
    seed = _seed(sample_records)
    newer = _changed(seed, status="COMPLETED", version="2026-01-05", last_updated="2026-01-05")
    with Store(tmp_path, create=True) as store:
        store.put(seed)
        assert store.put(newer) == PutSummary(0, 1, 0, 0)
        infos = store.versions("NCT06054113")
        assert [i.seq for i in infos] == [1, 2]
        assert [i.latest for i in infos] == [False, True]
        assert store.get("NCT06054113").status == "COMPLETED"
        assert store.get("NCT06054113", version=1) == seed
        assert store.get("NCT06054113", version=seed.content_hash[:8]) == seed
        assert store.get("NCT06054113", version="2025-12-31") == seed
        assert store.get("NCT06054113", version="2026-01-05") == newer
        assert store.get("NCT06054113", version="2025") == seed
        assert store.get("NCT06054113", version="2026-01") == newer


def test_store_orders_versions_by_date_not_arrival(tmp_path, sample_records):
    seed = _seed(sample_records)
    older = _changed(seed, status="RECRUITING", version="2024-02-01", last_updated="2024-02-01")
    with Store(tmp_path, create=True) as store:
        store.put_many([seed, older])
        infos = store.versions("NCT06054113")
        assert [i.version_date for i in infos] == ["2024-02-01", version_date(seed)]
        assert store.get("NCT06054113").status == seed.status
        assert store.latest_hashes()[seed.key] == seed.content_hash


def test_store_keeps_tags_with_the_record(tmp_path, sample_records):
    tagged = _with_tag(_seed(sample_records))
    with Store(tmp_path, create=True) as store:
        store.put(tagged)
        back = store.get("NCT06054113")
    assert back == tagged
    assert back.eligibility.criteria[0].tags[0].norm == "x"


def test_store_refreshes_derived_data_without_a_new_version(tmp_path, sample_records):
    seed = _seed(sample_records)
    tagged = _with_tag(seed)
    assert tagged.content_hash == seed.content_hash
    with Store(tmp_path, create=True) as store:
        store.put(seed)
        assert store.put(tagged) == PutSummary(0, 0, 1, 1)
        assert len(store.versions("NCT06054113")) == 1
        assert store.get("NCT06054113") == tagged


def test_store_failed_batch_leaves_store_as_before_and_rerun_completes(tmp_path, sample_records):
    def killed_midway():
        yield from sample_records[:5]
        raise KeyboardInterrupt  # the process is stopped inside the transaction

    with Store(tmp_path, create=True) as store:
        store.put(sample_records[0])
        with pytest.raises(KeyboardInterrupt):
            store.put_many(killed_midway())
        assert store.trial_ids() == [sample_records[0].trial_id]
        rerun = store.put_many(sample_records)
    assert rerun.unchanged == 1
    assert rerun.new_trials == len({r.key for r in sample_records}) - 1


def test_store_iter_latest_yields_each_trial_once(tmp_path, sample_records):
    seed = _seed(sample_records)
    with Store(tmp_path, create=True) as store:
        store.put_many(sample_records + [_changed(seed, status="COMPLETED")])
        latest = list(store.iter_latest())
        ids = store.trial_ids()
    assert sorted(r.trial_id for r in latest) == ids
    assert next(r for r in latest if r.trial_id == seed.trial_id).status == "COMPLETED"


def test_store_stats_counts_latest_versions(tmp_path, sample_records):
    seed = _seed(sample_records)
    with Store(tmp_path, create=True) as store:
        store.put_many(sample_records + [_changed(seed, status="COMPLETED")])
        stats = store.stats()
    trials = len({r.key for r in sample_records})
    assert stats.trials == trials
    assert stats.versions == trials + 1
    assert sum(stats.by_registry.values()) == trials
    assert sum(stats.by_status.values()) == trials
    assert stats.versions_per_trial == {"1": trials - 1, "2": 1}
    assert "COMPLETED" in stats.by_status


@pytest.mark.parametrize("version, message", [
    ("99", "no version"),
    ("1999-01-01", "no version"),
    ("zzzz", "no version"),
])
def test_store_get_unknown_version_names_what_is_stored(tmp_path, sample_records, version, message):
    with Store(tmp_path, create=True) as store:
        store.put(_seed(sample_records))
        with pytest.raises(StoreError, match=message):
            store.get("NCT06054113", version=version)


def test_store_unknown_trial_raises(tmp_path, sample_records):
    with Store(tmp_path, create=True) as store:
        store.put(_seed(sample_records))
        with pytest.raises(StoreError, match="NCT00000000 is not in the corpus store"):
            store.get("NCT00000000")


def _not_ptk(path):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE other (x)")


def _newer_schema(path):
    Store(path, create=True).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")


def _garbage(path):
    path.write_bytes(b"this is not a database " * 100)


@pytest.mark.parametrize("prepare, message", [
    (None, "no corpus store .* `ptk parse DUMP`"),
    (_garbage, "corrupt corpus store"),
    (_not_ptk, "not a ptk corpus store"),
    (_newer_schema, "newer than this toolkit"),
])
def test_store_open_errors_are_clear(tmp_path, prepare, message):
    path = tmp_path / "x.sqlite"
    if prepare:
        prepare(path)
    with pytest.raises(StoreError, match=message):
        Store(path)


def test_store_second_writer_waits_then_fails_cleanly(tmp_path, sample_records):
    with Store(tmp_path, create=True) as first, Store(tmp_path, timeout=0.2) as second:
        first._db.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match="locked"):
            second.put(sample_records[0])
        first._db.execute("ROLLBACK")
        assert second.put(sample_records[0]).new_trials == 1


@pytest.mark.parametrize("given, expected", [
    ("corpus/store", f"corpus/store/{STORE_FILENAME}"),
    ("my.sqlite", "my.sqlite"),
    ("data/x.db", "data/x.db"),
])
def test_store_resolve_path(given, expected, monkeypatch):
    monkeypatch.delenv("PTK_STORE", raising=False)
    assert resolve_store_path(given).as_posix() == expected


def test_store_resolve_path_environment_then_default(monkeypatch, tmp_path):
    monkeypatch.delenv("PTK_STORE", raising=False)
    assert resolve_store_path().as_posix() == f"corpus/{STORE_FILENAME}"
    monkeypatch.setenv("PTK_STORE", str(tmp_path))
    assert resolve_store_path() == tmp_path / STORE_FILENAME


@pytest.mark.parametrize("version, last_updated, expected", [
    (None, "2025-11-13", "2025-11-13"),
    ("2023-09-14", "2025-11-13", "2023-09-14"),
    ("v3", "2025-11-13", "2025-11-13"),
    (None, "February 3, 2023", "2023-02-03"),
    (None, "June 2005", "2005-06"),
    (None, "14/09/2023", "2023-09-14"),
    (None, None, None),
    ("Final", "not a date", None),
])
def test_store_version_date(version, last_updated, expected):
    record = TrialRecord("ctgov", "NCT1", version=version, last_updated=last_updated)
    assert version_date(record) == expected


def test_store_cannot_create_under_a_file(tmp_path):
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open the corpus store"):
        Store(blocker / "store", create=True)


def test_store_migration_that_lost_the_race_does_nothing(tmp_path, sample_records):
    with Store(tmp_path, create=True) as store:
        store._migrate(0)  # a second creator that read user_version 0 before the first committed
        assert store.put(sample_records[0]).new_trials == 1


def test_store_names_the_trials_written_since_a_generation(tmp_path, sample_records):
    """A reader level with generation G learns what changed from the store alone: new trials,
    new versions and refreshed bodies (re-tagged), and nothing unchanged."""
    seed = _seed(sample_records)
    others = [r for r in sample_records if r.trial_id != seed.trial_id][:3]
    with Store(tmp_path, create=True) as store:
        store.put_many([seed] + others[:2])
        level = store.generation()
        assert store.changed_since(level) == {}
        store.put_many([seed] + others[:2])  # unchanged: nothing to tell
        assert store.changed_since(level) == {}
        store.put_many([_changed(seed, status="COMPLETED", version="2026-01-05"), others[2]])
        assert store.changed_since(level) == {(seed.registry, seed.trial_id): False,
                                              (others[2].registry, others[2].trial_id): True}
        later = store.generation()
        store.put(_with_tag(_changed(seed, status="COMPLETED", version="2026-01-05")))  # a refreshed body
        assert store.changed_since(later) == {(seed.registry, seed.trial_id): False}
        assert list(store.latest_bodies([(seed.registry, seed.trial_id), ("ctgov", "NCT00000000")])) == [
            next(b for b in store.iter_latest_bodies() if b.trial_id == seed.trial_id)]


def test_store_from_before_per_row_generations_says_it_cannot_tell(tmp_path, sample_records):
    """A v3 store (no generation per row) migrates; a reader level with a generation from before
    the migration is told to compare everything (None), one level with a later one is answered."""
    with Store(tmp_path, create=True) as store:
        store.put_many(sample_records[:2])
        old = store.generation()
    with sqlite3.connect(tmp_path / STORE_FILENAME) as db:  # as a v3 store left it
        db.execute("DROP INDEX versions_generation")
        db.execute("ALTER TABLE versions DROP COLUMN generation")
        db.execute("DELETE FROM store_state WHERE key = 'tracked_since'")
        db.execute("PRAGMA user_version = 3")
    with Store(tmp_path) as store:
        assert store.generation() == old + 1
        assert store.changed_since(old) is None
        level = store.generation()
        store.put(sample_records[2])
        assert store.changed_since(level) == {(sample_records[2].registry, sample_records[2].trial_id): True}
