"""The spaCy pipeline, its factories, and tag_record on real records."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import spacy

from toolkit.nlp import get_nlp, tag_record, tag_text
from toolkit.nlp.pipeline import COMPONENTS, SPAN_KEY
from toolkit.records import Criterion, Eligibility, TrialRecord


@pytest.mark.parametrize("name", COMPONENTS)
def test_nlp_pipeline_components_are_registered_factories(name):
    assert name in spacy.registry.factories.get_all() or spacy.util.registry.has("factories", name)
    nlp = spacy.blank("en")
    nlp.add_pipe(name)
    assert nlp.pipe_names == [name]


def test_nlp_pipeline_components_work_in_a_foreign_pipeline():
    nlp = spacy.blank("en")
    for name in COMPONENTS:
        nlp.add_pipe(name)
    doc = nlp("No rituximab within 4 weeks prior to randomization")
    labels = {span.label_ for span in doc.spans[SPAN_KEY]}
    assert {"drug", "time_window", "negation"} <= labels
    drug = next(t for t in doc._.trial_tags if t.label == "drug")
    assert drug.negated is True and drug.norm == "rituximab"


def test_nlp_pipeline_loads_once_per_process():
    assert get_nlp() is get_nlp()
    names = get_nlp().pipe_names  # the entity model (a token classifier or ner), then the trial components
    assert names[0] == "tok2vec" and names[1] in ("tagger", "ner") and names[2:] == list(COMPONENTS)


def test_nlp_pipeline_import_toolkit_does_not_load_spacy():
    code = "import sys, toolkit; assert 'spacy' not in sys.modules; assert callable(toolkit.tag_text); print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_nlp_pipeline_tag_text_of_empty_text():
    assert tag_text("") == []


def _record(criteria):
    return TrialRecord(registry="ctgov", trial_id="NCT00000000",
                       eligibility=Eligibility(text="x", criteria=tuple(criteria)))


def test_nlp_pipeline_tag_record_tags_children():
    child = Criterion("I1.1", "inclusion", "Direct bilirubin > 1.5 mg/dl", 0, 10)
    parent = Criterion("I1", "inclusion", "Adequate hepatic function:", 0, 10, children=(child,))
    tagged = tag_record(_record([parent]))
    grandchild_tags = tagged.eligibility.criteria[0].children[0].tags
    assert any(t.label == "value" and t.measurement == "direct bilirubin" for t in grandchild_tags)


def test_nlp_pipeline_tag_record_is_idempotent(sample_records):
    record = sample_records[0]
    once = tag_record(record)
    assert tag_record(once) == once


def test_nlp_pipeline_tag_record_keeps_record_without_criteria():
    record = TrialRecord(registry="ctgov", trial_id="NCT00000001")
    assert tag_record(record) is record


def test_nlp_pipeline_tag_record_keeps_everything_but_tags(sample_records):
    record = sample_records[0]
    tagged = tag_record(record)
    strip = lambda c: dataclasses.replace(c, tags=(), children=tuple(strip(k) for k in c.children))  # noqa: E731
    assert tuple(strip(c) for c in tagged.eligibility.criteria) == tuple(strip(c) for c in record.eligibility.criteria)
    assert tagged.content_hash == record.content_hash


@pytest.mark.data
def test_nlp_pipeline_tags_every_shipped_record_with_valid_offsets(sample_records):
    tagged_criteria = 0
    for record in sample_records:
        for criterion in tag_record(record).all_criteria():
            for tag in criterion.tags:
                assert criterion.text[tag.start:tag.end] == tag.text, (record.trial_id, criterion.id)
            tagged_criteria += bool(criterion.tags)
    assert tagged_criteria > 100


@pytest.mark.data
def test_nlp_pipeline_tags_shared_api_v2_records_with_valid_offsets():
    from conftest import data_path
    from toolkit.ingest import iter_parsed

    path = data_path("ctgov-v2", "dgg32_clinical-trials-public__ctg-studies5.json")
    labels = set()
    records = 0
    for outcome in iter_parsed([str(path)]):
        assert outcome.record is not None, outcome.failure
        records += 1
        for criterion in tag_record(outcome.record).all_criteria():
            for tag in criterion.tags:
                assert criterion.text[tag.start:tag.end] == tag.text, (outcome.record.trial_id, criterion.id, tag)
                labels.add(tag.label)
    assert records >= 50
    assert {"drug", "condition", "time_window", "temporal", "value", "negation"} <= labels
