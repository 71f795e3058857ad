"""The fuzzing harness (`scripts/fuzz_inputs.py`): a short fixed-seed budget on every reader.

The long run is on demand: `nice -n 19 python scripts/fuzz_inputs.py --budget 3600`.
"""

from __future__ import annotations

import pytest

from conftest import load_script


@pytest.fixture(scope="module")
def fuzz():
    return load_script("fuzz_inputs")


def test_fuzz_short_budget_finds_nothing_in_process(fuzz, capsys):
    totals = fuzz.fuzz(seed=14, budget=120, cases=40, in_process=True, keep=None,
                       case_timeout=60, max_rss_mb=500)
    findings = capsys.readouterr().out
    assert totals["runs"] == 40
    assert totals["findings"] == 0, findings
    assert len(totals["by_reader"]) >= 5  # the cases reach most readers


def test_fuzz_short_budget_in_fresh_processes(fuzz, capsys):
    """A few cases the way the long run makes them: exit code, time, peak RSS of a real `ptk parse`."""
    totals = fuzz.fuzz(seed=7, budget=120, cases=4, in_process=False, keep=None,
                       case_timeout=60, max_rss_mb=500)
    assert totals["runs"] == 4 and totals["findings"] == 0, capsys.readouterr().out
    assert 0 < totals["max_peak_mb"] <= 500


@pytest.mark.parametrize("stderr,failures,stored,finding", [
    ("Traceback (most recent call last):\nValueError: x\n", [], 12, "traceback"),
    ("", [], 5, "records neither stored nor named"),
    ("", [("#1 (line 2)", "malformed JSON")], 11, None),
    ("failed: x [evil\nfailed: FORGED]: r\n", [("evil\nfailed: FORGED", "r")], 12, "control character"),
])
def test_fuzz_oracle_flags_what_is_wrong(fuzz, stderr, failures, stored, finding):
    seed = next(s for s in fuzz.load_seeds() if s.name == "studies.jsonl")
    case = fuzz.Case(seed, seed.data, seed.name)
    result = fuzz.Result(1 if failures else 0, 0.1, 50.0, stored, failures, stderr)
    found = fuzz.judge(case, result, max_rss_mb=500)
    assert (finding is None and found == []) or any(finding in f for f in found)
