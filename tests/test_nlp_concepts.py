"""Concepts: the shipped abbreviation and drug-class tables, norms and ids of tags."""

from __future__ import annotations

import pytest

from toolkit.nlp import tag_text
from toolkit.nlp.concepts import (
    CONCEPT_LABELS, class_key, load_abbreviations, load_concepts, load_drug_classes, misnamed,
)

# short form, label, norm: the abbreviations the issue names and a few more, in a criterion
ABBREVIATIONS = [
    ("HCQ", "drug", "Hydroxychloroquine"),
    ("MI", "condition", "myocardial infarction"),
    ("CrCl", "measurement", "creatinine clearance"),
    ("ANC", "measurement", "absolute neutrophil count"),
    ("HBV", "condition", "hepatitis B"),
    ("LVEF", "measurement", "left ventricular ejection fraction"),
    ("CABG", "procedure", "coronary artery bypass graft"),
]


@pytest.mark.parametrize("short, label, norm", ABBREVIATIONS)
def test_concepts_abbreviation_table_tags(short, label, norm):
    tags = load_concepts().table_tags(f"History of {short} or abnormal values")
    assert [(t.label, t.text) for t in tags] == [(label, short)]
    assert tags[0].norm.lower() == norm.lower()
    assert tags[0].attrs["expansion"] == load_abbreviations()[short].long


@pytest.mark.parametrize("text", ["hcq", "HCQs", "anti-HCQ", "mi", "ANCA", "Ulna"])
def test_concepts_abbreviation_table_whole_words_as_written(text):
    assert load_concepts().table_tags(f"History of {text} noted") == []


def test_concepts_abbreviation_table_rows_are_sourced():
    table = load_abbreviations()
    assert len(table) >= 50
    for short, row in table.items():
        assert row.short == short and row.long and row.source.startswith("defined as")
        assert row.label in CONCEPT_LABELS + ("value",)


# mention, class norm, one member
CLASSES = [
    ("anti-PD-1", "PD-1 inhibitor", "pembrolizumab"),
    ("anti-PD1 antibodies", "PD-1 inhibitor", "nivolumab"),
    ("PD-1 inhibitors", "PD-1 inhibitor", "cemiplimab"),
    ("checkpoint inhibitors", "immune checkpoint inhibitor", "ipilimumab"),
    ("immune checkpoint inhibitor", "immune checkpoint inhibitor", "atezolizumab"),
    ("corticosteroids", "corticosteroid", "dexamethasone"),
    ("systemic steroids", "corticosteroid", "prednisone"),
    ("anticoagulants", "anticoagulant", "warfarin"),
    ("anti-coagulants", "anticoagulant", "apixaban"),
    ("CYP3A4 inhibitors", "CYP3A4 inhibitor", "ketoconazole"),
    ("strong CYP3A4 inhibitors", "CYP3A4 inhibitor", "clarithromycin"),
]


@pytest.mark.parametrize("mention, norm, member", CLASSES)
def test_concepts_class_table_tags(mention, norm, member):
    tags = load_concepts().table_tags(f"Prior treatment with {mention} is not allowed")
    assert [(t.label, t.text, t.norm) for t in tags] == [("drug", mention, norm)]
    assert member in tags[0].attrs["members"]


@pytest.mark.parametrize("mention, norm, member", CLASSES)
def test_concepts_class_in_tagged_criterion(mention, norm, member):
    tags = [t for t in tag_text(f"Prior treatment with {mention} within 4 weeks of enrollment.") if t.label == "drug"]
    assert [(t.text, t.norm) for t in tags] == [(mention, norm)]
    assert tags[0].attrs["drug_class"] == norm and member in tags[0].attrs["members"]


def test_concepts_class_table_rows_are_sourced():
    classes = load_drug_classes()
    for name in ("PD-1 inhibitor", "immune checkpoint inhibitor", "corticosteroid", "anticoagulant", "CYP3A4 inhibitor"):
        assert classes[name].source and len(classes[name].members) >= 2
    owners = {}
    for drug_class in classes.values():
        for form in drug_class.forms:
            owners.setdefault(class_key(form), set()).add(drug_class.norm)
    assert all(len(names) == 1 for names in owners.values())  # one class per form


@pytest.mark.parametrize("key, norm, wrong", [
    ("refractory", "relapse", True),
    ("Refractory disease", "relapse", True),
    ("relapsed or refractory", "relapse", False),
    ("relapse", "relapse", False),
    ("refractory", None, False),
])
def test_concepts_misnamed(key, norm, wrong):
    assert misnamed(key, norm) is wrong
