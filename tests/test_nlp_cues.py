"""Negation and exception cues on real criteria, and the tags they govern."""

from __future__ import annotations

import pytest

from toolkit.nlp import tag_text
from toolkit.nlp.cues import find_cues


@pytest.mark.parametrize("text,label,cue,scope_text", [
    ("Direct bilirubin > 1.5 mg/dl at screening (unless related to Gilbert's or Meulengracht disease).",
     "exception", "unless", " related to Gilbert's or Meulengracht disease"),
    ("Coumadin with the exception of low dose warfarin (1 mg or less) for lines",
     "exception", "with the exception of", " low dose warfarin (1 mg or less) for lines"),
    ("Active malignancy other than ALL.", "exception", "other than", " ALL"),
    ("No history of HIV; prior surgery allowed", "negation", "No", " history of HIV"),
    ("Hemoglobin not below 9.5 g/dL", "negation", "not", " below 9.5 g/dL"),
])
def test_nlp_cues_finds_cue_and_scope(text, label, cue, scope_text):
    found = find_cues(text)
    tag = next(t for t in found if t.text == cue)
    start, end = tag.attrs["scope"]
    assert tag.label == label and text[start:end] == scope_text


@pytest.mark.parametrize("text", ["non-smoker", "patient no. 3", "Nonsmoking for 4 months"])
def test_nlp_cues_ignores_words_that_only_look_like_cues(text):
    assert find_cues(text) == []


def test_nlp_cues_negates_tags_in_scope_only():
    tags = tag_text("No history of HIV infection; hepatitis B allowed")
    by_norm = {t.norm: t for t in tags if t.label == "condition"}
    assert by_norm["HIV infection"].negated is True and by_norm["HIV infection"].cue == "No"
    assert by_norm["hepatitis B"].negated is None


def test_nlp_cues_nearest_cue_governs():
    text = "Patients taking warfarin with the exception of low dose warfarin (1 mg or less)"
    tags = [t for t in tag_text(text) if t.label == "drug"]
    assert [(t.text, t.cue) for t in tags] == [("warfarin", None), ("warfarin", "with the exception of")]
