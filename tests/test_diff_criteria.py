"""Criteria alignment on a real eligibility text (NCT02007772, shipped sample)."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re

import pytest

from tests.conftest import CORPUS, data_path
from toolkit.diff import MATCH_THRESHOLD, diff_records
from toolkit.criteria import attach_criteria
from toolkit.formats import parse_record
from toolkit.formats.raw import RawRecord

SAMPLE = CORPUS / "history" / "NCT02007772_cthist.csv"


@pytest.fixture(scope="module")
def version5(history_versions):
    return history_versions(str(SAMPLE))["NCT02007772"][4]


def _with_text(record, text):
    eligibility = dataclasses.replace(record.eligibility, text=text, criteria=())
    return attach_criteria(dataclasses.replace(record, eligibility=eligibility, version="edited"))


def _statuses(diff):
    return sorted(c.status for c in diff.changed_criteria)


def _numbered(text):
    """Number every criterion line ("1. ", "2. " ...) as a converter might."""
    lines, n = [], 0
    for line in text.split("\n"):
        if line and not line.endswith(":"):
            n += 1
            line = f"{n}. {line}"
        lines.append(line)
    return "\n".join(lines)


def _swap(text, a, b):
    return text.replace(a, "\0").replace(b, a).replace("\0", b)


@pytest.mark.parametrize("edit,expected", [
    (lambda t: t, []),
    (_numbered, []),                                                      # renumbered
    (lambda t: re.sub(r"(?m)^(?!.*:$)(?=\S)", "- ", t), []),              # re-bulleted
    (lambda t: t.replace("\n", "  \n").replace(" with ", "  with "), []),  # whitespace
    (lambda t: _swap(t, "age 18 or older", "written informed consent is obtained"), ["moved", "moved"]),
    # bullets merged into one paragraph (as ICTRP exports of NCT04348864 did)
    (lambda t: t.replace("older\nthe patient", "older. the patient").replace("training\npatient", "training patient"), []),
    (lambda t: t.replace("lack of compliance\n", "").replace(
        "Exclusion Criteria:\n\n", "Exclusion Criteria:\n\nlack of compliance\n"), ["moved"]),
])
def test_diff_criteria_reformatting_and_moves_are_not_added_or_removed(version5, edit, expected):
    diff = diff_records(version5, _with_text(version5, edit(version5.eligibility.text)))
    assert _statuses(diff) == expected
    assert all(c.status in ("unchanged", "moved") for c in diff.criteria)


def test_diff_criteria_moved_between_inclusion_and_exclusion(version5):
    text = version5.eligibility.text.replace("BMI > 30\n", "").replace(
        "written informed consent is obtained", "written informed consent is obtained\nBMI > 30")
    diff = diff_records(version5, _with_text(version5, text))
    [moved] = diff.changed_criteria
    assert moved.status == "moved" and "polarity" in moved.moved
    assert (moved.old_polarity, moved.new_polarity) == ("exclusion", "inclusion")
    assert [e.kind for e in diff.events] == ["criterion_moved"]


def test_diff_criteria_edit_is_modified_with_words_and_window(version5):
    text = version5.eligibility.text.replace("in the last 4 weeks", "in the last 8 weeks")
    diff = diff_records(version5, _with_text(version5, text))
    [change] = diff.changed_criteria
    assert change.status == "modified" and change.similarity >= MATCH_THRESHOLD
    assert [(w.op, w.text) for w in change.words if w.op != "equal"] == [("delete", "4"), ("insert", "8")]
    assert [e.kind for e in diff.events] == ["time_window_lengthened"]


@pytest.mark.parametrize("old,new,kind", [
    ("BMI > 30", "BMI > 35", "threshold_loosened"),       # exclusion upper limit raised: fewer excluded
    ("BMI > 30", "BMI > 25", "threshold_tightened"),
])
def test_diff_criteria_exclusion_thresholds(version5, old, new, kind):
    diff = diff_records(version5, _with_text(version5, version5.eligibility.text.replace(old, new)))
    assert [e.kind for e in diff.events] == [kind]


def test_diff_criteria_added_and_dropped(version5):
    text = version5.eligibility.text.replace("contraindications for NIV\n", "").replace(
        "lack of compliance", "lack of compliance\nknown HIV infection")
    diff = diff_records(version5, _with_text(version5, text))
    assert _statuses(diff) == ["added", "removed"]
    assert sorted(e.kind for e in diff.events) == ["exclusion_criterion_added", "exclusion_criterion_dropped"]


@pytest.mark.data
@pytest.mark.parametrize("trial_id,versions,expected", [
    # v0 wrote the inclusion criteria as one paragraph, v1 as five bullets: no change
    ("NCT04348864", (0, 1), []),
    # "organdysfuncion" -> "organ dysfuncion": a real (if small) edit
    ("NCT02765191", None, ["modified"]),
])
def test_diff_criteria_ictrp_regrouped_bullets(trial_id, versions, expected):
    records = _ictrp_versions(trial_id)
    pairs = [records[i] for i in versions] if versions else _pair_with_criteria_change(records)
    assert _statuses(diff_records(*pairs)) == expected


def _ictrp_versions(trial_id):
    """The versions of one trial in the ICTRP weekly versions file, parsed."""
    path = data_path("ictrp", "ictrp_covid19_versions.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle if f'"TrialID": "{trial_id}"' in line[:60]]
    return [parse_record(RawRecord("ictrp_versions", line, path=str(path))) for line in lines]


def _pair_with_criteria_change(records):
    for old, new in zip(records, records[1:]):
        if diff_records(old, new).changed_criteria:
            return old, new
    raise AssertionError("no criteria change")
