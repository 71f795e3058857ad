"""The record model round trip on real records: to_dict / JSON / from_dict / hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from toolkit.errors import RecordError
from toolkit.canonical import compact_json, content_hash
from toolkit.records import Tag, TrialRecord, walk_criteria


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


def test_records_from_dict_generated_decoder_equals_the_key_by_key_one(sample_records):
    """A plain dict takes the generated decoder; any other mapping the key-by-key one: the same records."""
    from types import MappingProxyType

    from toolkit.codec import _checked_from_dict

    for record in sample_records:
        data = json.loads(json.dumps(record.to_dict()))
        fast = TrialRecord.from_dict(data)
        assert fast == _checked_from_dict(TrialRecord, MappingProxyType(data)) == record, record.trial_id
        assert fast.to_dict() == record.to_dict()


def _json_bytes(data, *, sort_keys=False) -> bytes:
    return json.dumps(data, sort_keys=sort_keys, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


@pytest.mark.parametrize("sort_keys", [False, True])
def test_records_compact_json_matches_json_module_on_real_records(sample_records, sort_keys):
    for record in sample_records:
        data = record.to_dict()
        assert compact_json(data, sort_keys=sort_keys) == _json_bytes(data, sort_keys=sort_keys)


@pytest.mark.parametrize("value", [
    1e-05, 1.9e-06, 5e-05, 0.0001, 18.0, 0.5, 1e16, 1.5e+17, 1e22, float("nan"), float("inf"),
    None, {"b": 1, "a": [None, True]}, {2: "int key"}, 2 ** 70, "Süß ≥ 18 \u2028 \x00 \\ \"",
    {"z": {"y": 1, "x": "0.00001 mg"}}, -2.5e-07, [3e-07, "e-mail", 7.25e-05], "re-test 3e-4 e+",
])
def test_records_compact_json_matches_json_module_on_odd_values(value):
    data = {"value": value, "list": [value]}
    assert compact_json(data, sort_keys=True) == _json_bytes(data, sort_keys=True)
    assert compact_json(data) == _json_bytes(data)


def test_records_hash_and_store_json_of_seed_are_stable(sample_records):
    seed = next(r for r in sample_records if r.trial_id == "NCT06054113")
    source = dataclasses.replace(seed, content_hash=None, source=None,
                                 eligibility=dataclasses.replace(seed.eligibility, criteria=(),
                                                                 headings=(), notes=()))
    blob = _json_bytes(source.to_dict(), sort_keys=True)
    assert content_hash(seed) == hashlib.sha256(blob).hexdigest()[:20] == seed.content_hash
