"""Drug and condition tags: lexicon look-ups, variants, context filters, abbreviations."""

from __future__ import annotations

import pytest

from toolkit.nlp import tag_text, tag_texts
from toolkit.nlp.lexicon import Lexicon, lexicon_key


def _terms(text):
    return [(t.label, t.text, t.norm) for t in tag_text(text) if t.label in ("drug", "condition")]


@pytest.mark.parametrize("text,label,surface,norm", [
    ("Known hypersensitivity to blinatumomab", "drug", "blinatumomab", "blinatumomab"),
    ("Treated with AMG 103 before", "drug", "AMG 103", "blinatumomab"),
    ("History of kidney stones on topiramate", "drug", "topiramate", "Topiramate"),
    ("Use of anti-coagulants", "drug", "anti-coagulants", "anticoagulant"),
    ("ACE inhibitor intolerance", "condition", "intolerance", "hypersensitivity"),
    ("graft versus host disease", "condition", "graft versus host disease", "graft vs host disease"),
    ("Burkitt's leukemia according to the WHO", "condition", "Burkitt's leukemia", "Burkitt lymphoma"),
])
def test_nlp_terms_tags_vocabulary_form(text, label, surface, norm):
    assert (label, surface, norm) in _terms(text)


@pytest.mark.parametrize("text,absent", [
    ("positive pregnancy test assessed at Screening by a highly sensitive urine or serum pregnancy test", "serum pregnancy"),
    ("Abnormal renal function", "renal"),
    ("If they met the criteria", "met"),
])
def test_nlp_terms_filters_word_in_wrong_context(text, absent):
    assert absent not in [surface.lower() for _, surface, _ in _terms(text)]


def test_nlp_terms_keeps_pregnancy_test_result_as_pregnancy():
    assert ("condition", "positive pregnancy test", "pregnancy") in _terms("with a positive pregnancy test at Screening")


def test_nlp_terms_record_abbreviation_expands_across_texts():
    first, second = tag_texts([
        "Any marrow relapse after allogeneic hematopoietic stem cell transplant (alloHSCT);",
        "AlloHSCT within 12 weeks prior to start of protocol-specified therapy.",
    ])
    assert [t.norm for t in second if t.label == "abbreviation"] == ["allogeneic hematopoietic stem cell transplant"]
    assert any(t.label == "abbreviation" and t.text == "alloHSCT" for t in first)


def test_nlp_terms_lexicon_prefers_longest_form():
    lexicon = Lexicon({"hepatitis": ["condition", "Hepatitis", None], "hepatitis b": ["condition", "Hepatitis B", "D006509"]})
    matches = lexicon.match(lexicon_key(["chronic", "hepatitis", "B"]).split(" "))
    assert [(m.start, m.end, m.entry.norm, m.entry.code) for m in matches] == [(1, 3, "Hepatitis B", "D006509")]


@pytest.mark.parametrize("tokens,key", [
    (["Anti-Coagulant"], "anticoagulant"),
    (["Gilbert’s", "disease"], "gilbert's disease"),
    (["a", " ", "b"], "a b"),
])
def test_nlp_terms_lexicon_key_normalises(tokens, key):
    assert lexicon_key(tokens) == key
