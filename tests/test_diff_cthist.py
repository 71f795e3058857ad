"""Diff correctness on the real cthist histories (ClinicalTrials.gov and DRKS).

Between consecutive versions, the fields the diff reports changed are the
CSV columns that changed; criteria are reported changed when their words
changed and never when only their normalised form is the same; outcome
time-frame changes are caught.
"""

from __future__ import annotations

import csv
import gzip
import json

import pytest

from tests.conftest import data_path
from toolkit.diff import diff_records
from toolkit.diff.text import comparison_key

CTGOV = ("versions-cthist", "ctgov_versions_2022-03.csv.gz")
DRKS = ("versions-cthist", "drks_versions_2022-03.csv.gz")

# CSV column -> diff fields it maps to
CTGOV_COLUMNS = {
    "overall_status": {"status"}, "study_start_date": {"start_date"},
    "primary_completion_date": {"primary_completion_date"}, "enrolment": {"enrollment.count"},
    "enrolment_type": {"enrollment.type"}, "min_age": {"min_age"}, "max_age": {"max_age"}, "sex": {"sex"},
    "accepts_healthy_volunteers": {"healthy_volunteers"}, "contacts": {"investigators"},
    "sponsor_collaborators": {"sponsors", "investigators"},
    "study_start_date_precision": {"extra.study_start_date_precision"},
    "primary_completion_date_precision": {"extra.primary_completion_date_precision"},
    "primary_completion_date_type": {"extra.primary_completion_date_type"},
}
DRKS_COLUMNS = {
    "recruitment_status": {"status", "extra.recruitment_status"}, "start_date": {"start_date"},
    "closing_date": {"completion_date"}, "enrolment": {"enrollment.count"},
    "enrolment_type": {"enrollment.type"}, "min_age": {"min_age"}, "max_age": {"max_age"},
    "gender": {"sex"}, "contacts": {"investigators", "sponsors", "extra.contact_details"},
}
_NO_VALUE = {"", "NA", "[---]*"}


def _rows(parts):
    csv.field_size_limit(2**31 - 1)
    with gzip.open(data_path(*parts), "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _cell(value: str):
    value = value.strip()
    return None if value in _NO_VALUE else value


def _consecutive(rows, id_column, versions):
    """(old row, new row, diff) for every consecutive pair of one trial."""
    by_trial = {}
    for row in rows:
        by_trial.setdefault(row[id_column], []).append(row)
    for trial_id, trial_rows in by_trial.items():
        records = versions[trial_id]
        assert [r.version for r in records] == [row["version_number"] for row in trial_rows]
        for (a, b), (old, new) in zip(zip(trial_rows, trial_rows[1:]), zip(records, records[1:])):
            yield a, b, diff_records(old, new)


@pytest.mark.data
@pytest.mark.parametrize("parts,id_column,columns", [
    (CTGOV, "nctid", CTGOV_COLUMNS),
    (DRKS, "drksid", DRKS_COLUMNS),
])
def test_diff_cthist_field_changes_equal_column_changes(parts, id_column, columns, history_versions):
    versions = history_versions(str(data_path(*parts)))
    pairs = 0
    for a, b, diff in _consecutive(_rows(parts), id_column, versions):
        where = (a[id_column], a["version_number"], b["version_number"])
        mapped = set().union(*columns.values())
        reported = {f.field for f in diff.fields} & mapped
        changed = {c for c in columns if _cell(a[c]) != _cell(b[c])}
        assert {c for c in changed if not columns[c] & reported} == set(), where
        explained = set().union(*(columns[c] for c in changed)) if changed else set()
        assert reported - explained == set(), where
        pairs += 1
    assert pairs > 300


@pytest.mark.data
@pytest.mark.parametrize("parts,id_column", [(CTGOV, "nctid"), (DRKS, "drksid")])
def test_diff_cthist_criteria_changed_iff_normalised_text_changed(parts, id_column, history_versions):
    """Same normalised criteria: nothing reported; other letters or digits: a change reported.

    In between (bullets regrouped, punctuation edited) either answer is allowed.
    """
    versions = history_versions(str(data_path(*parts)))
    changed_pairs = 0  # pairs whose criteria words changed
    for trial_rows in _by_trial(_rows(parts), id_column).values():
        records = versions[trial_rows[0][id_column]]
        for old, new in zip(records, records[1:]):
            diff = diff_records(old, new)
            where = (old.trial_id, old.version, new.version)
            if _criteria_keys(old) == _criteria_keys(new) or _same_text(old, new):
                assert not diff.changed_criteria, where
            if _squashed(old) != _squashed(new):
                assert diff.changed_criteria, where
                changed_pairs += 1
    assert changed_pairs >= 5


def _by_trial(rows, id_column):
    out = {}
    for row in rows:
        out.setdefault(row[id_column], []).append(row)
    return out


def _same_text(old, new):
    return comparison_key(old.eligibility.text) == comparison_key(new.eligibility.text)


def _squashed(record):
    """Letters and digits of the criteria in order: what regrouping bullets keeps."""
    return "".join(ch for key in _criteria_keys(record) for ch in key if ch.isalnum())


def _criteria_keys(record):
    """The normalised criteria of a version, in order (parser output, fallback lines)."""
    from toolkit.diff.criteria import criteria_items

    return [item.norm for item in criteria_items(record)]


@pytest.mark.data
def test_diff_cthist_outcome_time_frame_changes_caught(history_versions):
    versions = history_versions(str(data_path(*CTGOV)))
    caught = 0
    for a, b, diff in _consecutive(_rows(CTGOV), "nctid", versions):
        for measure, (old_frame, new_frame) in _frame_changes(a, b).items():
            matches = [o for o in diff.outcomes if o.new_measure and comparison_key(o.new_measure) == measure]
            assert matches and "time_frame" in matches[0].changes, (a["nctid"], b["version_number"], measure)
            caught += 1
    assert caught >= 3


def _frame_changes(a, b):
    """{measure key: (old frame, new frame)} for measures in both rows whose time frame changed."""
    def frames(row):
        try:
            items = json.loads(row["outcome_measures"])
        except json.JSONDecodeError:
            return {}
        out = {}
        for item in items:
            head = item["content"].split("\n\n", 1)[0]
            measure, _, rest = head.partition("[ Time Frame:")
            out[comparison_key(measure)] = comparison_key(rest.rstrip(" ]"))
        return out

    old, new = frames(a), frames(b)
    return {m: (old[m], new[m]) for m in old.keys() & new.keys() if old[m] != new[m]}
