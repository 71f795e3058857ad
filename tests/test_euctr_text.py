"""The EU CTR plain-text "full trial details" export: every block read, broken fields named."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import data_path
from toolkit.errors import Failure
from toolkit.formats import iter_records, parse_record
from toolkit.formats.euctr_text.read import parse_fields, sniff

FIXTURE = Path(__file__).parent / "fixtures" / "euctr_text" / "two_member_states.txt"


def _read(path):
    items = list(iter_records(path))
    return [i for i in items if not isinstance(i, Failure)], [i for i in items if isinstance(i, Failure)]


def _blocks(path) -> int:
    return sum(1 for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip() == "Summary")


def test_euctr_text_sniff():
    assert sniff(FIXTURE.read_bytes()[:4096], "export.txt")
    assert not sniff(b"Brief Summary\nSome trial page", "page.txt")


def test_euctr_text_every_block_read_and_broken_fields_named():
    records, failures = _read(FIXTURE)
    assert len(records) == _blocks(FIXTURE) == 2
    assert [(f.record.split()[3], f.reason.split("'")[0]) for f in failures] == [
        ("2022-002568-62", "field A.7 "), ("2021-002179-21", "field A.8 ")]
    assert all("JSON_ERROR_HERE" in f.reason and "rest of the record kept" in f.reason for f in failures)
    kept = [code for code, _, _ in records[0].payload["fields"]]
    assert "A.7" not in kept and "A.8" in kept and "E.3" in kept


def test_euctr_text_maps_the_trial():
    record = parse_record(_read(FIXTURE)[0][0])
    assert (record.registry, record.trial_id) == ("euctr", "2022-002568-62-ES")
    assert record.phases == ("PHASE1", "PHASE2") and record.study_type == "INTERVENTIONAL"
    assert record.status == "Ongoing" and record.raw_values["status"] == "Ongoing"  # EU CTR: not mappable
    assert record.enrollment.count == 15
    assert record.eligibility.sex == "ALL" and record.eligibility.healthy_volunteers is False
    polarities = {c.polarity for c in record.all_criteria()}
    assert polarities == {"inclusion", "exclusion"} and len(list(record.all_criteria())) > 10
    assert record.sponsors[0].name == "AviadoBio Ltd"
    assert record.interventions[0].other_names == ("AVB-101",)
    assert record.locations[0].country == "Spain"
    assert {i.id for i in record.secondary_ids} == {"AVB-PGRN-001"}
    # translations and unmapped fields are kept as sections
    assert any(s.heading == "E.3 Principal inclusion criteria (es)" for s in record.sections)


def test_euctr_text_member_states_of_one_trial_are_aliases(tmp_path):
    from toolkit.store import Store

    with Store(tmp_path / "s", create=True) as store:
        store.put_many(parse_record(r) for r in _read(data_path("multiregistry", "euctr_text_export_sample.txt"))[0])
        stats = store.stats()
        assert stats.unique_trials == 2 and stats.trials == 8


@pytest.mark.parametrize("line,code,label", [
    ("B.3.1 and B.3.2\tStatus of the sponsor: Commercial", "B.3.1 and B.3.2", "Status of the sponsor"),
    ("N. Competent Authority Decision: Authorised", "N.", "Competent Authority Decision"),
    ("E.8.9.1 In the Member State concerned years: 6", "E.8.9.1", "In the Member State concerned years"),
])
def test_euctr_text_field_lines(line, code, label):
    assert parse_fields([line])[0][:2] == (code, label)


def test_euctr_text_criterion_line_starting_like_a_code_stays_in_its_field():
    fields = parse_fields(["E.3 Principal inclusion criteria: 1. Adults", "E. coli bacteraemia excluded", "2. Consent"])
    assert fields == [("E.3", "Principal inclusion criteria", "1. Adults\nE. coli bacteraemia excluded\n2. Consent")]


def test_euctr_text_shared_sample_nothing_lost():
    path = data_path("multiregistry", "euctr_text_export_sample.txt")
    records, failures = _read(path)
    assert len(records) == _blocks(path) == 10
    assert len(failures) == 2
    assert all(parse_record(r).trial_id for r in records)
