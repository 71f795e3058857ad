"""The trained entity model inside the pipeline: false tags of issue 10, new labels, links."""

from __future__ import annotations

import pytest

from conftest import load_script
from toolkit.nlp import tag_text
from toolkit.nlp.concepts import load_concepts
from toolkit.nlp.entities import Entity, Policy, bind_windows, combine, link_values
from toolkit.nlp.timex import find_time_windows
from toolkit.records import Tag

# criterion (real: NCT06054113 seed page, ICTRP COVID-19 records, Chia-style lab criteria), text, wrong tag
FALSE_TAGS = [
    ("Abnormal renal or hepatic function at screening as defined below:", "renal", "condition"),
    ("Female participants of childbearing potential with a positive pregnancy test assessed at Screening by a"
     " highly sensitive urine or serum pregnancy test.", "sensitive", "condition"),
    ("Symptoms and/or clinical signs and/or radiological and/or sonographic signs that indicate an acute or"
     " uncontrolled chronic infection", "Symptoms", "condition"),
    ("Known G6PD deficiency", "G6PD", "drug"),
    ("with prior diagnosis of glucose-6-phosphate dehydrogenase (G6PD) deficiency", "G6PD", "drug"),
    ("Patients must have lung cancer with a documented EGFR activating mutation (exon 19 deletion, L858R).",
     "EGFR", "drug"),
    ("Non-small cell lung cancer with wild-type EGFR and ALK-negative", "EGFR", "drug"),
]


@pytest.mark.parametrize("text, word, label", FALSE_TAGS)
def test_nlp_entities_false_tags_are_gone(text, word, label):
    assert not any(t.label == label and t.text == word for t in tag_text(text))


@pytest.mark.parametrize("text", [
    "Refractory to other treatments:",
    "Relapsed or/refractory precursor B-cell acute lymphoblastic leukemia (ALL) disease",
])
def test_nlp_entities_refractory_is_not_relapse(text):
    assert not any(t.norm == "relapse" and "refractory" in t.text.lower() and "relaps" not in t.text.lower()
                   for t in tag_text(text))


@pytest.mark.parametrize("text", [
    "Known allergy to HCQ or chloroquine",
    "with known hypersensitivity/allergy to HCQ or LPV/r",
    "Current use of HCQ",
])
def test_nlp_entities_hcq_is_hydroxychloroquine(text):
    drugs = [t for t in tag_text(text) if t.text == "HCQ"]
    assert [(t.label, t.norm, t.code) for t in drugs] == [("drug", "Hydroxychloroquine", "DB01611")]


# criterion, label, text: the two new labels
NEW_LABELS = [
    ("ANC >= 1500/uL and creatinine clearance > 60 mL/min", "measurement", "creatinine clearance"),
    ("ANC >= 1500/uL and creatinine clearance > 60 mL/min", "measurement", "ANC"),
    ("HbA1c between 7.0% and 10.5%", "measurement", "HbA1c"),
    ("Radiotherapy within 2 weeks prior to start of protocol-specified therapy.", "procedure", "Radiotherapy"),
    ("Prior allogeneic stem cell transplantation", "procedure", "allogeneic stem cell transplantation"),
]


@pytest.mark.parametrize("text, label, span", NEW_LABELS)
def test_nlp_entities_new_labels(text, label, span):
    assert (label, span) in {(t.label, t.text) for t in tag_text(text)}


def test_nlp_entities_measurement_linked_to_its_value():
    tags = tag_text("ANC >= 1500/uL and creatinine clearance > 60 mL/min")
    values = {t.text: t for t in tags if t.label == "value"}
    assert values["> 60 mL/min"].measurement == "creatinine clearance"
    assert values["> 60 mL/min"].number == 60
    assert values[">= 1500/uL"].measurement == "absolute neutrophil count"


def test_nlp_entities_time_window_bounds_its_drug():
    tags = tag_text("Immunotherapy (eg, rituximab) within 4 weeks prior to start of protocol-specified therapy.")
    window = next(t for t in tags if t.label == "time_window")
    assert (window.bounds, window.days, window.direction) == ("rituximab", 28, "before")
    start, end = window.attrs["bounds_span"]
    assert "rituximab" in tags[0].text or any(t.start == start and t.end == end for t in tags)


# pure combination: text, model entities (label, start, end), rule tags, policy -> (label, text) kept
def _tag(label, text, sentence, **fields):
    start = sentence.index(text)
    return Tag(label, text, start, start + len(text), **fields)


def _ents(sentence, *pairs):
    out = []
    for label, text in pairs:
        start = sentence.index(text)
        out.append(Entity(label, start, start + len(text), 0, 0))
    return out


def test_nlp_entities_combine_model_span_takes_rule_fields():
    text = "Hemoglobin at least 9 g/dL"
    rule = _tag("value", "9 g/dL", text, comparator=">=", number=9.0, unit="g/dL")
    out = combine(text, [""] * 6, [rule], _ents(text, ("value", "at least 9 g/dL")), load_concepts(), Policy())
    assert [(t.label, t.text, t.comparator, t.number) for t in out] == [("value", "at least 9 g/dL", ">=", 9.0)]


def test_nlp_entities_combine_model_overrules_vocabulary_label():
    text = "Symptoms of infection"
    rule = _tag("condition", "Symptoms", text, norm="symptom")
    out = combine(text, [""] * 3, [rule], _ents(text, ("condition", "infection")), load_concepts(),
                  Policy(keep_rules=()))
    assert [(t.label, t.text) for t in out] == [("condition", "infection")]


def test_nlp_entities_combine_vocabulary_term_beats_partial_model_span():
    text = "Treated with AMG 103 before"
    rule = _tag("drug", "AMG 103", text, norm="blinatumomab")
    out = combine(text, [""] * 5, [rule], _ents(text, ("measurement", "AMG")), load_concepts(), Policy())
    assert [(t.label, t.text, t.norm) for t in out] == [("drug", "AMG 103", "blinatumomab")]


@pytest.mark.parametrize("sentence, window, bounded", [
    ("Rituximab within 4 weeks of day 1", "within 4 weeks", "Rituximab"),
    ("Within 4 weeks of rituximab", "Within 4 weeks", "rituximab"),
    ("Stroke; chemotherapy within 4 weeks", "within 4 weeks", "chemotherapy"),
    ("Stroke. Within 4 weeks", "Within 4 weeks", None),
])
def test_nlp_entities_bind_windows(sentence, window, bounded):
    tags = [_tag("time_window", window, sentence)]
    for word in ("Rituximab", "rituximab", "chemotherapy", "Stroke"):
        if word in sentence:
            tags.append(_tag("drug" if word != "Stroke" else "condition", word, sentence, norm=word.lower()))
    out = next(t for t in bind_windows(sentence, tags) if t.label == "time_window")
    assert out.bounds == (bounded.lower() if bounded else None)


@pytest.mark.parametrize("sentence, window, entities, bounded", [
    ("Patients must be at least 2 weeks from major surgery, radiation therapy", "at least 2 weeks from major surgery",
     [("procedure", "major surgery"), ("procedure", "radiation therapy")], "major surgery"),
    ("radiotherapy or surgery for brain metastases was completed at least 2 weeks prior to the first administration",
     "at least 2 weeks prior to the first administration",
     [("procedure", "radiotherapy"), ("procedure", "surgery"), ("condition", "brain metastases")], "surgery"),
    ("Surgery on the main organs within the past six weeks.", "within the past six weeks.",
     [("procedure", "Surgery"), ("condition", "main organs")], "surgery"),
    ("A diagnosis of schizophrenia for at least 6 months prior to screening.", "for at least 6 months prior to screening",
     [("condition", "schizophrenia")], "schizophrenia"),
])
def test_nlp_entities_bind_windows_real_criteria(sentence, window, entities, bounded):
    [found] = [t for t in find_time_windows(sentence) if t.text == window]
    tags = [found] + [_tag(label, word, sentence, norm=word.lower()) for label, word in entities]
    out = next(t for t in bind_windows(sentence, tags) if t.label == "time_window")
    assert out.bounds == bounded


def test_nlp_entities_link_values_skips_a_measurement_with_its_own_value():
    text = "ECOG <= 2 for participants >= 16 years"
    tags = [_tag("measurement", "ECOG", text, norm="ECOG"), _tag("value", "<= 2", text),
            _tag("value", ">= 16 years", text, measurement="age")]
    linked = {t.text: t.measurement for t in link_values(text, tags) if t.label == "value"}
    assert linked == {"<= 2": "ECOG", ">= 16 years": "age"}


def _train_tagger():
    load_script("chia")  # the training script imports its sibling by name
    return load_script("train_tagger")


# training data: overlapping Chia spans reduced to one layer, deterministically
@pytest.mark.parametrize("spans, kept", [
    ([(0, 20, "condition"), (0, 6, "drug")], [(0, 20, "condition")]),
    ([(0, 6, "drug"), (0, 6, "condition")], [(0, 6, "drug")]),
    ([(4, 10, "value"), (0, 6, "measurement"), (12, 14, "temporal")], [(0, 6, "measurement"), (12, 14, "temporal")]),
    ([], []),
])
def test_nlp_entities_training_spans_one_layer(spans, kept):
    assert _train_tagger().one_layer(spans) == kept
