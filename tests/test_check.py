"""`ptk check`: structured eligibility fields against the criteria text, on real records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CORPUS
from toolkit.cli import main
from toolkit.diff.conflicts import find_conflicts, stated_ages
from toolkit.ingest import iter_parsed

CONFLICTS = Path(__file__).parent / "fixtures" / "diff" / "conflicts"


def _record(name):
    (record,) = [o.record for o in iter_parsed([str(CONFLICTS / name)]) if o.record is not None]
    return record


# real conflicts found by `ptk check --all` over ../shared/data (ctgov-v2, legacy XML, cthist)
@pytest.mark.parametrize("name,expected", [
    # minimum age 18 Years, maximum 55, against "Patients are 16-50 years of age" (cthist v2)
    ("NCT00938743_cthist.csv", [("min_age", "18 Years", "≥ 16 years"), ("max_age", "55 Years", "≤ 50 years")]),
    # minimum age 18 against "Ages 16-65 years inclusive"
    ("NCT05335226.json", [("min_age", "18 Years", "≥ 16 years")]),
    # healthy volunteers "No" against "Healthy male and female subjects 18 to 65 years of age"
    ("NCT03751280.json", [("healthy_volunteers", "No", "Healthy male")]),
    ("NCT00001355.xml", [("healthy_volunteers", "No", "Healthy volunteers")]),
    # sex FEMALE against "Obese men and women with a BMI of 30-34"
    ("NCT00498394.xml", [("sex", "FEMALE", "both sexes")]),
    # sex ALL and no minimum age against "Women between 18 and 45 years of age"
    ("NCT00001927.xml", [("min_age_missing", None, "≥ 18 years"), ("sex", "ALL", "women only")]),
])
def test_check_real_conflicts(name, expected):
    found = [(c.kind, c.structured, c.stated) for c in find_conflicts(_record(name))]
    assert found == expected


def test_check_no_conflict_on_the_seed_page(seed_path):
    (record,) = [o.record for o in iter_parsed([str(seed_path)])]
    assert find_conflicts(record) == []


@pytest.mark.parametrize("text,lows,highs", [
    ("Age ≥ 21 years", [21.0], []),
    ("Aged 18-65 years", [18.0], [65.0]),
    ("Patients 18 years of age or older", [18.0], []),
    ("Age greater than 1 year and less than 21 years.", [1.0], [21.0]),
    ("At least 2 years of bicycle riding", [], []),      # not an age
    ("BMI between 18 and 30 kg/m2", [], []),
])
def test_check_stated_ages(text, lows, highs):
    low, high = stated_ages(text)
    assert [y for y, _ in low] == lows and [y for y, _ in high] == highs


def test_check_cli_one_trial_and_all():
    runner = CliRunner()
    one = runner.invoke(main, ["check", "NCT05335226", "-i", str(CONFLICTS / "NCT05335226.json"), "--json"])
    assert one.exit_code == 1
    assert [c["kind"] for c in json.loads(one.output)] == ["min_age"]
    every = runner.invoke(main, ["check", "--all", "-i", str(CONFLICTS), "--jsonl"])
    assert every.exit_code == 1
    assert len({json.loads(line)["trial_id"] for line in every.output.splitlines()}) == 6
    clean = runner.invoke(main, ["check", "--all", "-i", str(CORPUS / "seed")])
    assert clean.exit_code == 0
    assert runner.invoke(main, ["check"]).exit_code == 2


def test_check_cli_from_the_store(store_dir):
    runner = CliRunner()
    assert runner.invoke(main, ["parse", str(CONFLICTS), "--store", str(store_dir), "--no-tag", "-q"]).exit_code == 0
    one = runner.invoke(main, ["check", "NCT00938743", "--store", str(store_dir), "--csv"])
    assert one.exit_code == 1
    assert [line.split(",")[3] for line in one.output.splitlines()[1:]] == ["min_age", "max_age"]
    every = runner.invoke(main, ["check", "--all", "--store", str(store_dir), "--json"])
    assert {c["trial_id"] for c in json.loads(every.output)} == {
        "NCT00938743", "NCT05335226", "NCT03751280", "NCT00001355", "NCT00498394", "NCT00001927"}
