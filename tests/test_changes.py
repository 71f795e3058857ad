"""`ptk changes`: change events across the stored corpus, kept up to date incrementally."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CORPUS
from toolkit.cli import main
from toolkit.diff import changes as changes_module
from toolkit.diff.changes import ChangeFilter, ChangeLog, ChangesError, changes_path
from toolkit.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "diff"
HISTORIES = (CORPUS / "history" / "NCT02007772_cthist.csv", CORPUS / "history" / "DRKS00000058_cthist.csv")
THREE = FIXTURES / "NCT01065337_cthist_2022-03.csv"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _first_rows(path, n, tmp_path):
    rows = list(csv.reader(open(path, newline="", encoding="utf-8")))
    out = tmp_path / f"first{n}.csv"
    with open(out, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows[: n + 1])
    return out


@pytest.fixture
def stored(store_dir, tmp_path):
    result = run("parse", *HISTORIES, _first_rows(THREE, 2, tmp_path), "--store", store_dir, "--no-tag", "-q")
    assert result.exit_code == 0, result.output
    return store_dir


def test_changes_lists_events_of_every_trial(stored):
    result = run("changes", "--store", stored, "--jsonl", "-q")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {r["trial_id"] for r in rows} == {"NCT02007772", "DRKS00000058", "NCT01065337"}
    raised = [r for r in rows if r["kind"] == "enrollment_raised" and r["trial_id"] == "NCT02007772"]
    assert [(r["date"], r["before"], r["after"]) for r in raised] == [("2016-07-14", 85, 100), ("2017-11-20", 100, 105)]


def test_changes_are_incremental(stored, tmp_path, monkeypatch):
    with Store(stored) as store, ChangeLog(changes_path(store.path)) as log:
        first = log.sync(store)
        assert (first.trials, first.updated) == (3, 3)
        assert first.pairs == 7 + 8 + 1
        assert log.sync(store).pairs == 0  # nothing new: nothing diffed
    assert run("parse", THREE, "--store", stored, "--no-tag", "-q").exit_code == 0
    calls = []
    real = changes_module.diff_records
    monkeypatch.setattr(changes_module, "diff_records", lambda a, b, **kw: calls.append(b.version) or real(a, b, **kw))
    with Store(stored) as store, ChangeLog(changes_path(store.path)) as log:
        again = log.sync(store)
        assert (again.updated, again.pairs) == (1, 1) and calls == ["3"]


def test_changes_are_computed_again_when_the_rules_change(stored, monkeypatch):
    """Events cached by older diff rules would be wrong answers: a new rule set recomputes them all."""
    with Store(stored) as store, ChangeLog(changes_path(store.path)) as log:
        log.sync(store)
        before = sorted(map(tuple, log._db.execute("SELECT * FROM events")))
        monkeypatch.setattr(changes_module, "rules_fingerprint", lambda: "other rules")
        again = log.sync(store)
        assert (again.updated, again.pairs) == (3, 16)  # every trial, every pair
        assert sorted(map(tuple, log._db.execute("SELECT * FROM events"))) == before  # the same, not twice
        assert log.sync(store).pairs == 0
        monkeypatch.undo()
        assert log.sync(store).pairs == 16


def test_changes_rules_fingerprint_follows_every_rule_file(tmp_path, monkeypatch):
    monkeypatch.setattr(changes_module, "_TOOLKIT", tmp_path)
    (tmp_path / "diff").mkdir()
    (tmp_path / "diff" / "events.py").write_text("A = 1\n")
    first = changes_module.rules_fingerprint()
    assert changes_module.rules_fingerprint() == first
    (tmp_path / "diff" / "events.py").write_text("A = 2\n")
    second = changes_module.rules_fingerprint()
    (tmp_path / "nlp" / "data").mkdir(parents=True)
    (tmp_path / "nlp" / "data" / "rules.json").write_text("{}")
    third = changes_module.rules_fingerprint()
    (tmp_path / "README.md").write_text("not a rule")
    assert len({first, second, third}) == 3 and changes_module.rules_fingerprint() == third


@pytest.mark.parametrize("args,kinds", [
    (["--event", "enrollment_raised"], {"enrollment_raised"}),
    (["--event", "primary_outcome", "--significance", "substantive"], {"primary_outcome_changed"}),
    (["--event", "start_date_moved"], {"start_date_slipped"}),
    (["--event", "status_changed", "--registry", "drks"], {"status_changed"}),
])
def test_changes_filters(stored, args, kinds):
    result = run("changes", "--store", stored, "--json", "-q", *args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and {r["kind"] for r in rows} == kinds
    if "substantive" in args:
        assert {r["significance"] for r in rows} == {"substantive"}
    if "--registry" in args:
        assert {r["registry"] for r in rows} == {"drks"}


def test_changes_dates_and_after(stored):
    every = json.loads(run("changes", "--store", stored, "--json", "-q").output)
    since = json.loads(run("changes", "--store", stored, "--json", "-q", "--since", "2016-01-01",
                           "--until", "2016-12").output)
    assert since and all("2016-01-01" <= r["date"] <= "2016-12-31" for r in since)
    after = json.loads(run("changes", "--store", stored, "--json", "-q", "--after", "primary-completion").output)
    assert 0 < len(after) < len(every)
    # NCT02007772's primary completion is 2016-12-01: v6 and v8 have events after it (v7 changed nothing)
    assert {r["new_version"] for r in after if r["trial_id"] == "NCT02007772"} == {"6", "8"}


def test_changes_summary(stored):
    result = run("changes", "--store", stored, "--summary", "--json", "-q")
    data = json.loads(result.output)
    assert data["trials"] == 3 and data["trials_with_history"] == 3
    status = next(k for k in data["kinds"] if k["kind"] == "status_changed")
    assert status["trials"] == 2 and status["share"] == round(2 / 3, 4)
    table = run("changes", "--store", stored, "--summary", "-q")
    assert table.output.splitlines()[0].split() == ["kind", "events", "trials", "share"]


def test_changes_csv_and_unknown_event(stored):
    result = run("changes", "--store", stored, "--csv", "-q", "--event", "enrollment_raised")
    rows = list(csv.DictReader(result.output.splitlines()))
    assert rows and rows[0]["kind"] == "enrollment_raised"
    with pytest.raises(ChangesError, match="unknown event"):
        ChangeFilter.build(events=["outcome_switched"])
    assert CliRunner().invoke(main, ["changes", "--store", str(stored), "--event", "nope"]).exit_code == 1


def test_changes_sync_in_worker_processes_matches(stored, tmp_path, monkeypatch):
    with Store(stored) as store, ChangeLog(changes_path(store.path)) as log:
        log.sync(store)
        one = list(log.events())
    monkeypatch.setattr(changes_module, "_CHUNK", 1)
    with Store(stored) as store, ChangeLog(tmp_path / "parallel.changes.sqlite") as log:
        assert log.sync(store, jobs=2).pairs == 16
        assert list(log.events()) == one
