"""The record model round trip on real records: to_dict / JSON / from_dict / hash."""

from __future__ import annotations

import dataclasses
import json

import pytest

from toolkit.errors import RecordError
from toolkit.records import Tag, TrialRecord, content_hash, walk_criteria


def test_records_round_trip_through_json_is_lossless(sample_records):
    for record in sample_records:
        text = json.dumps(record.to_dict(), ensure_ascii=False)
        back = TrialRecord.from_dict(json.loads(text))
        assert back == record, record.trial_id
        assert content_hash(back) == record.content_hash


def test_records_json_form_leaves_out_empty_values(sample_records):
    for record in sample_records:
        text = json.dumps(record.to_dict())
        assert "null" not in text.replace('"null"', "")
        assert "[]" not in text and "{}" not in text


def test_records_hash_ignores_derived_criteria_and_tags(sample_records):
    seed = next(r for r in sample_records if r.trial_id == "NCT06054113")
    criterion = seed.eligibility.criteria[0]
    tagged = dataclasses.replace(criterion, tags=(Tag("drug", "x", 0, 1),))
    changed = dataclasses.replace(seed, eligibility=dataclasses.replace(
        seed.eligibility, criteria=(tagged,), headings=()))
    assert content_hash(changed) == seed.content_hash
    assert content_hash(dataclasses.replace(seed, status="COMPLETED")) != seed.content_hash


def test_records_criteria_ids_unique_within_a_record(sample_records):
    for record in sample_records:
        ids = [c.id for c in record.all_criteria()]
        assert len(ids) == len(set(ids)), record.trial_id


def test_records_walk_criteria_visits_children(sample_records):
    nested = [r for r in sample_records
              if any(c.children for c in r.all_criteria())]
    for record in nested:
        top = record.eligibility.criteria
        assert len(list(walk_criteria(top))) > len(top)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(colour="red"), "unknown key 'colour'"),
    (lambda d: d.pop("registry"), "registry"),
    (lambda d: d.update(phases="PHASE2"), "expected a list"),
    (lambda d: d.update(enrollment=18), "expected an object"),
])
def test_records_from_dict_rejects_bad_shapes(sample_records, change, message):
    data = next(r for r in sample_records if r.trial_id == "NCT06054113").to_dict()
    change(data)
    with pytest.raises(RecordError, match=message):
        TrialRecord.from_dict(data)
