"""Choosing versions: `vN`, labels, dates, hash prefixes, ambiguity; one version per content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CORPUS, data_path
from toolkit.cli import main
from toolkit.diff import DiffError
from toolkit.diff.versions import dedupe, resolve, resolve_pair
from toolkit.ingest import iter_parsed

SAMPLE = CORPUS / "history" / "NCT02007772_cthist.csv"
FIXTURES = Path(__file__).parent / "fixtures" / "diff"
# one history in two exports: the 2022-03 layout, and an earlier exporter's (own column order and total_versions)
EXPORTS = (FIXTURES / "NCT01065337_cthist_2022-03.csv", FIXTURES / "NCT01065337_cthist_pilot.csv")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def sample_versions():
    return dedupe(o.record for o in iter_parsed([str(SAMPLE)]) if o.record is not None)


@pytest.mark.parametrize("wanted,version", [
    ("v1", "1"), ("v8", "8"), ("3", "3"),
    ("3a45312612", "1"),     # a hash prefix starting with a digit is not a date
    ("25dd8c6176", "5"),
    ("2015-01-30", "3"), ("2015-02", "3"), ("2016", "5"),  # the version in force that day
])
def test_diff_versions_resolve(sample_versions, wanted, version):
    assert resolve(sample_versions, wanted).version == version


@pytest.mark.parametrize("wanted", ["v9", "v0", "zzzz", "1999-01-01"])
def test_diff_versions_resolve_unknown_lists_the_versions(sample_versions, wanted):
    with pytest.raises(DiffError, match=r"no version .* \(known: v1 \(label 1, 2013-12-06, 3a453126\)"):
        resolve(sample_versions, wanted)


def test_diff_versions_ambiguous_value_lists_candidates(history_versions):
    # ctrdata labels versions by snapshot date: "2023-11-23" is v3's label, and by date v1 was in force
    versions = dedupe(history_versions(str(data_path("multiregistry", "ctrdata_versions.jsonl.gz")))["NCT03325439"])
    with pytest.raises(DiffError, match=r"ambiguous: v1 .* by date; v3 .* by label"):
        resolve(versions, "2023-11-23")


def test_diff_versions_pair_defaults_to_last_two(sample_versions):
    old, new = resolve_pair(sample_versions, None, None)
    assert (old.version, new.version) == ("7", "8")
    with pytest.raises(DiffError, match="no version before"):
        resolve_pair(sample_versions[:1], None, None)


def test_diff_versions_cli_hash_prefixes_starting_with_a_digit():
    result = run("diff", "NCT02007772", "-i", SAMPLE, "--from", "3a45312612", "--to", "25dd8c6176",
                 "--no-tag", "--exit-code")
    assert result.exit_code == 1  # the versions differ
    assert "v1 (2013-12-06) -> v5 (2016-07-14)" in result.output


def test_diff_versions_cli_ambiguous_is_an_error():
    path = data_path("multiregistry", "ctrdata_versions.jsonl.gz")
    result = CliRunner().invoke(main, ["diff", "NCT03325439", "-i", str(path), "--from", "2023-11-23", "--no-tag"])
    assert result.exit_code == 1
    assert "ambiguous" in result.output and "v3" in result.output


def test_diff_versions_two_exports_of_one_history_are_one_history():
    result = run("history", "NCT01065337", "-i", EXPORTS[0], "-i", EXPORTS[1], "--json")
    assert result.exit_code == 0, result.output
    versions = json.loads(result.output)["versions"]
    assert [v["version"] for v in versions] == ["1", "2", "3"]
    assert versions[1]["changed"] == "outcomes"


def test_diff_versions_dedupe_keeps_distinct_versions_in_date_order():
    records = [o.record for o in iter_parsed([str(p) for p in reversed(EXPORTS)]) if o.record is not None]
    assert len(records) == 6
    assert [r.last_updated for r in dedupe(records)] == ["2010-02-08", "2010-02-09", "2012-05-24"]


def test_diff_versions_cli_input_tags_only_the_trial(monkeypatch):
    tagged = []

    def tagger(record):
        tagged.append(record.trial_id)
        return record

    monkeypatch.setattr("toolkit.ingest.default_tagger", lambda: tagger)
    path = FIXTURES / "ictrp_NCT04354597_doubled.jsonl"
    result = run("diff", "NCT04354597", "-i", path, "-i", SAMPLE)
    assert result.exit_code == 0, result.output
    assert tagged == ["NCT04354597", "NCT04354597"]
