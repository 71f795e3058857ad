"""False events of the version diff that must not come back (issue 12).

Each case is a real record (shipped under tests/fixtures/diff or corpus/)
or a real record edited the way the registry edited it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from conftest import CORPUS
from toolkit.diff import diff_records
from toolkit.criteria import attach_criteria
from toolkit.ingest import iter_parsed

FIXTURES = Path(__file__).parent / "fixtures" / "diff"


def _records(*paths):
    return [o.record for o in iter_parsed([str(p) for p in paths]) if o.record is not None]


def _with_text(record, text):
    eligibility = dataclasses.replace(record.eligibility, text=text, criteria=())
    return attach_criteria(dataclasses.replace(record, eligibility=eligibility, version="edited"))


def _kinds(diff):
    return sorted(e.kind for e in diff.events)


# --- ICTRP record doubling ----------------------------------------------------------------

def test_diff_ictrp_doubled_record_is_no_new_criteria():
    # NCT04354597, ICTRP weekly export 2020-05-12 -> 2020-05-19: the eligibility text came twice,
    # the second copy after "; Inclusion Criteria:" under the exclusion heading
    old, new = _records(FIXTURES / "ictrp_NCT04354597_doubled.jsonl")
    assert len(new.eligibility.text) > 1.9 * len(old.eligibility.text)
    diff = diff_records(old, new)
    assert not [e for e in diff.events if "criterion" in e.kind]
    assert not diff.changed_criteria


def test_diff_criteria_repeated_once_is_still_a_change():
    old = _records(FIXTURES / "ictrp_NCT04354597_doubled.jsonl")[0]
    first = next(c for c in old.all_criteria() if c.polarity == "exclusion")
    text = old.eligibility.text.rstrip() + "\n\n          -  " + first.text + "\n"
    diff = diff_records(old, _with_text(old, text))
    assert _kinds(diff) == ["exclusion_criterion_added"]


# --- renumbering, splits -----------------------------------------------------------------

INLINE = ("Exclusion Criteria:\n\n"
          "          8. Autoimmune diseases\n\n"
          "          9. A history of organ, bone marrow or hematopoietic stem cell transplantation 10.\n"
          "             Received radiotherapy and chemotherapy for malignant tumor within 6 months\n")


@pytest.mark.parametrize("old_text,new_text", [
    # NCT04268537 (ICTRP 2020-04-07): two criteria on one numbered line, renumbered after a deletion
    (INLINE, INLINE.replace("8. Autoimmune diseases\n\n", "").replace("9. A", "8. A").replace("10.\n", "9.\n")),
    # ... and the same line split into its two numbered criteria
    (INLINE, INLINE.replace("transplantation 10.\n             Received",
                            "transplantation\n\n          10. Received")),
])
def test_diff_criteria_renumbered_inline_is_no_dropped_criterion(history_versions, old_text, new_text):
    record = history_versions(str(CORPUS / "history" / "NCT02007772_cthist.csv"))["NCT02007772"][4]
    diff = diff_records(_with_text(record, old_text), _with_text(record, new_text))
    dropped = [e for e in diff.events if e.kind.endswith("dropped") and "transplantation" in str(e.before)]
    assert not dropped
    assert all(c.significance == "cosmetic" for c in diff.changed_criteria if "transplantation" in
               (c.old_text or c.new_text or ""))


STAGING = ("Complete staging work-up: All patients must have breast ultrasound, chest X-ray, ultrasound or CT "
           "scan of the liver within 3 months prior to registration, as well as (bilateral) mammography or "
           "breast MRI and bone scan within 8 months prior to registration.")


PIECES = (
    "Complete staging work-up: All patients must have breast ultrasound, chest X-ray, ultrasound or CT "
    "scan of the liver within 3 months prior to registration,",
    "as well as (bilateral) mammography or breast MRI and bone scan within 8 months prior to registration.",
)


@pytest.mark.parametrize("pieces,split", [
    # split in two, words kept: re-bulleting only, no change
    (PIECES, 0),
    # split in two, "as well as" dropped: two pieces of one modified criterion, no window changed
    ((PIECES[0].rstrip(",") + ".", PIECES[1].replace("as well as (bilateral)", "(Bilateral)")), 2),
])
def test_diff_criteria_split_criterion_is_no_time_window_change(pieces, split):
    # NCT00512993 v1 (cthist 2022-03), inclusion criterion I9
    record = _records(FIXTURES / "NCT00512993_cthist.csv")[0]
    text = record.eligibility.text
    assert STAGING in text
    diff = diff_records(record, _with_text(record, text.replace(STAGING, "\n".join(pieces))))
    assert not [e for e in diff.events if e.kind.startswith("time_window")]
    assert not [e for e in diff.events if e.kind.endswith(("_added", "_dropped"))]
    assert len([c for c in diff.changed_criteria if "split" in c.moved]) == split == len(diff.changed_criteria)


# --- outcomes and fields -------------------------------------------------------------------

def test_diff_outcome_abbreviation_spelled_out_is_cosmetic():
    # NCT00373425 48 -> 49 in the issue: "Disease Free Survival" -> "Disease Free Survival (DFS)"
    from toolkit.records import Outcome
    from toolkit.diff.outcomes import diff_outcomes

    (change,) = diff_outcomes([Outcome("primary", "Disease Free Survival", "5 years")],
                              [Outcome("primary", "Disease Free Survival (DFS)", "5 years")])
    assert change.status == "modified" and change.significance == "cosmetic"


def test_diff_changed_measure_shows_where_it_differs():
    # NCT01065337 v1 -> v2: the measures agree on their first 80 characters
    old, new, _ = _records(FIXTURES / "NCT01065337_cthist_2022-03.csv")
    (event,) = [e for e in diff_records(old, new).events if e.field == "outcomes.measure"]
    shown = event.message.split("changed: ", 1)[1]
    before, after = shown.split(" -> ")
    assert before != after and "ABI" in before and "ankle brachial index" in after


def test_diff_sponsor_event_reads_as_words():
    # NCT00512993 v1 -> v2: Novartis joined as collaborator
    old, new = _records(FIXTURES / "NCT00512993_cthist.csv")
    (event,) = [e for e in diff_records(old, new).events if e.kind == "sponsor_changed"]
    assert event.message == "sponsors changed: added Novartis | collaborator"
    assert "[" not in event.message


LEGACY = CORPUS / "ctgov-xml" / "NCT00003011.xml"


@pytest.mark.parametrize("before,after,significance", [
    # the same masking before and after the 2017 schema change
    ("Double Blind (Subject, Caregiver, Investigator)", "Triple (Participant, Care Provider, Investigator)",
     "cosmetic"),
    ("Open Label", "None (Open Label)", None),
    ("Double Blind", "Double (Participant, Investigator)", "cosmetic"),
    # a real change of who is masked
    ("Single Blind (Subject)", "Triple (Participant, Care Provider, Investigator)", "substantive"),
])
def test_diff_legacy_xml_masking_wording(tmp_path, before, after, significance):
    text = LEGACY.read_text(encoding="utf-8")
    current = "<masking>Triple (Participant, Care Provider, Investigator)</masking>"
    assert current in text
    records = []
    for n, wording in enumerate((before, after)):
        path = tmp_path / f"v{n}" / LEGACY.name
        path.parent.mkdir()
        path.write_text(text.replace(current, f"<masking>{wording}</masking>"), encoding="utf-8")
        records += _records(path)
    diff = diff_records(*records)
    levels = {f.significance for f in diff.fields}
    assert levels == ({significance} if significance else set())
    assert diff.significance == significance


def test_diff_legacy_xml_results_size_is_no_version(tmp_path):
    source = CORPUS / "ctgov-xml" / "NCT00001277.xml"
    text = source.read_text(encoding="utf-8")
    assert "<clinical_results>" in text
    records = []
    for n, padding in enumerate(("", "\n    ")):
        path = tmp_path / f"v{n}" / source.name
        path.parent.mkdir()
        path.write_text(text.replace("<clinical_results>", "<clinical_results>" + padding), encoding="utf-8")
        records += _records(path)
    assert records[0].extra["clinical_results"] != records[1].extra["clinical_results"]
    assert not diff_records(*records).changed
    from toolkit.diff.versions import dedupe

    assert len(dedupe(records)) == 1
