"""The record JSON Schema: generated from the model, and real records validate."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import jsonschema
import pytest

from conftest import REPO, data_path
from toolkit.errors import ToolkitError
from toolkit.ingest import iter_parsed
from toolkit.records import TrialRecord
from toolkit.schema import load_schema, schema_names
from toolkit.schema.build import build_record_schema


@pytest.fixture(scope="module")
def validator():
    schema = load_schema("record")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_shipped_file_equals_fresh_generation():
    assert load_schema("record") == build_record_schema()


def test_schema_build_script_check_passes():
    script = REPO / "scripts" / "build_schema.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_schema_names_and_unknown_name():
    assert "record" in schema_names()
    with pytest.raises(ToolkitError, match="no schema named 'nope'"):
        load_schema("nope")


def test_schema_required_keys_match_the_model():
    schema = load_schema("record")
    required = [f.name for f in dataclasses.fields(TrialRecord)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    assert schema["required"] == required
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {f.name for f in dataclasses.fields(TrialRecord)}
    assert "class" in schema["$defs"]["Sponsor"]["properties"]


def test_schema_sample_records_validate(validator, sample_records):
    for record in sample_records:
        errors = sorted(validator.iter_errors(record.to_dict()), key=str)
        assert not errors, f"{record.trial_id}: {errors[0].message} at {list(errors[0].path)}"


@pytest.mark.data
@pytest.mark.parametrize("parts", [
    ("ctgov-v2", "scampbe3_my-website__ctg-studies.json"),
    ("ictrp", "ICTRP-Results_18Mar2020.xml"),
])
def test_schema_shared_records_validate(validator, parts):
    path = data_path(*parts)
    records = [o.record for o in iter_parsed([path]) if o.record is not None]
    assert records
    for record in records:
        error = jsonschema.exceptions.best_match(validator.iter_errors(record.to_dict()))
        assert error is None, f"{record.trial_id}: {error.message} at {list(error.path)}"


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(sponsor_name="x"), "Additional properties"),
    (lambda d: d.pop("trial_id"), "'trial_id' is a required property"),
    (lambda d: d.update(phases="PHASE2"), "is not of type 'array'"),
    (lambda d: d["eligibility"]["criteria"][0].update(start="0"), "is not of type 'integer'"),
])
def test_schema_rejects_broken_records(validator, sample_records, mutate, message):
    data = next(r for r in sample_records if r.trial_id == "NCT06054113").to_dict()
    mutate(data)
    assert message in jsonschema.exceptions.best_match(validator.iter_errors(data)).message
