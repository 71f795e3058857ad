"""The seed trial: every tag its 'Done when' list names, on the parsed record."""

from __future__ import annotations

import pytest

from toolkit.nlp import tag_record


@pytest.fixture(scope="module")
def seed_tagged(sample_records):
    record = next(r for r in sample_records if r.trial_id == "NCT06054113")
    return tag_record(record)


def _tags(record, label):
    return [tag for c in record.all_criteria() for tag in c.tags if tag.label == label]


def _criterion(record, start_of_text):
    return next(c for c in record.all_criteria() if c.text.startswith(start_of_text))


@pytest.mark.parametrize("label,norm", [
    ("drug", "blinatumomab"),
    ("drug", "rituximab"),
    ("drug", "CD19-directed therapy"),
    ("drug", "CAR T cells"),
    ("drug", "vinca alkaloid"),
    ("drug", "Mercaptopurine"),
    ("drug", "Methotrexate"),
    ("drug", "Hydroxyurea"),
    ("drug", "dexamethasone"),
    ("procedure", "immunotherapy"),  # Chia annotates immunotherapy as a procedure
    ("drug", "chemotherapy"),
    ("condition", "HIV infection"),
    ("condition", "hepatitis B"),
    ("condition", "hepatitis C"),
    ("condition", "graft vs host disease"),
    ("condition", "epilepsy"),
    ("condition", "Burkitt lymphoma"),
    ("condition", "precursor B-cell lymphoblastic leukemia-lymphoma"),
    ("condition", "pregnancy"),
    ("condition", "Gilbert disease"),
])
def test_nlp_seed_names_drug_and_condition(seed_tagged, label, norm):
    assert norm in {tag.norm for tag in _tags(seed_tagged, label)}


@pytest.mark.parametrize("criterion,relation,amount,unit,days,direction,anchor", [
    ("AlloHSCT within 12 weeks", "within", 12, "week", 84, "before", "start of study treatment"),
    ("Radiotherapy within 2 weeks", "within", 2, "week", 14, "before", "start of study treatment"),
    ("Immunotherapy (eg, rituximab)", "within", 4, "week", 28, "before", "start of study treatment"),
    ("Immunotherapy (eg, rituximab)", "more_than", 4, "week", 28, "before", "start of study treatment"),
    ("Cancer chemotherapy within", "within", 2, "week", 14, "before", "start of study treatment"),
    ("Currently receiving treatment", "less_than", 4, "week", 28, "after", "end of other study treatment"),
    ("Female participants who are breastfeeding", "until", 12, "month", 360, "after", "last dose"),
    ("Female participants of childbearing potential unwilling", "during", 12, "month", 360, "after", "last dose"),
    ("Male participants with a female partner", "during", 6, "month", 180, "after", "last dose"),
    ("Male participants unwilling to abstain", "during", 6, "month", 180, "after", "last dose"),
])
def test_nlp_seed_normalises_time_window(seed_tagged, criterion, relation, amount, unit, days, direction, anchor):
    windows = [t for t in _criterion(seed_tagged, criterion).tags if t.label == "time_window"]
    found = [(t.relation, t.amount, t.unit, t.days, t.direction, t.anchor) for t in windows]
    assert (relation, amount, unit, days, direction, anchor) in found


@pytest.mark.parametrize("criterion,measurement,comparator,number,unit", [
    ("Direct bilirubin", "direct bilirubin", ">", 1.5, "mg/dL"),
    ("Karnofsky performance status", "karnofsky performance status", ">=", 50, "%"),
    ("Karnofsky performance status", "age", ">=", 16, "year"),
    ("Lansky performance status", "lansky performance status", ">=", 50, "%"),
    ("Lansky performance status", "age", "<", 16, "year"),
    ("Pediatric participants aged", "age", ">", 1, "month"),
    ("Pediatric participants aged", "age", "<", 18, "year"),
])
def test_nlp_seed_reads_value(seed_tagged, criterion, measurement, comparator, number, unit):
    values = [t for t in _criterion(seed_tagged, criterion).tags if t.label == "value"]
    assert (measurement, comparator, number, unit) in [(t.measurement, t.comparator, t.number, t.unit) for t in values]


def test_nlp_seed_marks_gilbert_as_exception(seed_tagged):
    tags = _criterion(seed_tagged, "Direct bilirubin").tags
    gilbert = [t for t in tags if t.norm == "Gilbert disease"]
    assert gilbert and all(t.cue == "unless" and t.attrs.get("exception") for t in gilbert)
    assert all(t.cue is None for t in tags if t.label == "value" and t.measurement == "direct bilirubin")


def test_nlp_seed_marks_low_dose_maintenance_drugs_as_exceptions(seed_tagged):
    tags = _criterion(seed_tagged, "Cancer chemotherapy within").tags
    excepted = {t.norm for t in tags if t.label == "drug" and t.attrs.get("exception")}
    assert {"vinca alkaloid", "Mercaptopurine", "Methotrexate", "Hydroxyurea", "dexamethasone"} <= excepted
    first = next(t for t in tags if t.label in ("drug", "procedure"))  # Chia labels chemotherapy a procedure
    assert first.text == "Cancer chemotherapy" and first.cue is None


def test_nlp_seed_expands_abbreviation_defined_in_another_criterion(seed_tagged):
    tags = _criterion(seed_tagged, "AlloHSCT within 12 weeks").tags
    expansions = [t.norm for t in tags if t.label == "abbreviation" and t.text == "AlloHSCT"]
    assert expansions == ["allogeneic hematopoietic stem cell transplant"]


def test_nlp_seed_expands_all_in_other_criterion_but_not_lowercase_all(seed_tagged):
    other = _criterion(seed_tagged, "Active malignancy other than ALL").tags
    assert any(t.label == "condition" and t.text == "ALL" and t.cue == "other than" for t in other)
    visits = _criterion(seed_tagged, "Participant likely to not be available").tags
    assert not any(t.text == "all" for t in visits)


def test_nlp_seed_tag_offsets_point_into_criterion_text(seed_tagged):
    for criterion in seed_tagged.all_criteria():
        for tag in criterion.tags:
            assert criterion.text[tag.start:tag.end] == tag.text
