"""ClinicalTrials.gov API v2 JSON: reader, mapper and field normalisers, on real studies."""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import io
import json
import sys
import tarfile
import zipfile

import pytest

from conftest import data_path
from toolkit.errors import Failure, InputError
from toolkit.formats import parse_record
from toolkit.normalize import fields
from toolkit.formats.ctgov_json.map import to_record
from toolkit.formats import iter_records
from toolkit.formats.raw import RawRecord
from toolkit.records import TrialRecord

URO_ZIP = "Marc-Morcos_urology__ctg-studies.json.zip"
ARRAY_COUNTS = [
    ("UserZetsu_dtx-analysis__ctg-studies.json", 128),
    ("dgg32_clinical-trials-public__ctg-studies.json", 10),
    ("dgg32_clinical-trials-public__ctg-studies2.json", 1),
    ("dgg32_clinical-trials-public__ctg-studies5.json", 50),
    ("dgg32_graph_bigquery__ctg-studies.json", 100),
    ("scampbe3_my-website__ctg-studies.json", 88),
]


def _array_study(name: str, nct_id: str) -> dict:
    studies = json.loads(data_path("ctgov-v2", name).read_text("utf-8"))
    return next(s for s in studies if s["protocolSection"]["identificationModule"]["nctId"] == nct_id)


def _zip_study(nct_id: str) -> dict:
    with zipfile.ZipFile(data_path("ctgov-v2", URO_ZIP)) as archive:
        return json.loads(archive.read(f"{nct_id}.json"))


def _parse_one(path) -> "TrialRecord":
    found = list(iter_records(path))
    assert len(found) == 1 and isinstance(found[0], RawRecord), found
    return parse_record(found[0])


def _without_source(record):
    return dataclasses.replace(record, source=None)


def _leaves(value, key=""):
    """(key, text) of every string and number in a JSON value."""
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from _leaves(child, child_key)
    elif isinstance(value, list):
        for child in value:
            yield from _leaves(child, key)
    elif isinstance(value, str):
        yield key, value.strip()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield key, str(value)


def _dropped(study: dict, record) -> list:
    """Source values found nowhere in the record (reference types are renamed into Link.kind)."""
    kept = "\x00".join(text for _, text in _leaves(record.to_dict()))
    return [(key, text) for key, text in _leaves(study["protocolSection"])
            if text not in kept and not (key == "type" and text in ("BACKGROUND", "RESULT", "DERIVED"))]


# --- whole shared data set ---------------------------------------------------

@pytest.mark.data
@pytest.mark.parametrize("name,count", ARRAY_COUNTS + [(URO_ZIP, 635)])
def test_ctgov_json_every_shared_study_parses_and_keeps_every_value(name, count):
    path = data_path("ctgov-v2", name)
    records, failures = [], []
    for raw in iter_records(path):
        if isinstance(raw, Failure):
            failures.append(raw.describe())
            continue
        record = parse_record(raw)
        assert record.trial_id.startswith("NCT") and record.registry == "ctgov"
        assert record.eligibility is not None and record.version
        assert _dropped(raw.payload, record) == []
        records.append(record)
    assert failures == []
    assert len(records) == count


@pytest.mark.data
def test_ctgov_json_arrays_hold_377_studies_in_source_order():
    total = 0
    for name, _ in ARRAY_COUNTS:
        path = data_path("ctgov-v2", name)
        expected = [s["protocolSection"]["identificationModule"]["nctId"] for s in json.loads(path.read_text("utf-8"))]
        assert [raw.payload["protocolSection"]["identificationModule"]["nctId"] for raw in iter_records(path)] == expected
        assert [raw.index for raw in iter_records(path)] == list(range(len(expected)))
        total += len(expected)
    assert total == 377


# --- field by field ----------------------------------------------------------

def test_ctgov_json_maps_terminated_digital_therapeutic_study():
    raw = RawRecord("ctgov_json", _array_study("UserZetsu_dtx-analysis__ctg-studies.json", "NCT05144685"))
    record = parse_record(raw)
    assert record.trial_id == "NCT05144685"
    assert record.status == "TERMINATED"
    assert record.why_stopped.startswith("Data Safety Monitoring Board (DSMB) recommendation")
    assert record.phases == ("PHASE2", "PHASE3")
    assert [(i.id, i.type) for i in record.secondary_ids] == [("2020-Oui-001", "ORG_STUDY_ID"), ("2R42MH123357-02", "NIH")]
    assert record.extra["identificationModule.secondaryIdInfos"] == [
        {"index": 0, "link": "https://reporter.nih.gov/quickSearch/2R42MH123357-02"}]
    assert (record.start_date, record.completion_date, record.first_posted) == ("2022-04-07", "2024-06-14", "2021-12-03")
    assert record.version == record.last_updated == "2025-01-13"
    assert record.extra["last_update_submitted"] == "2025-01-09"
    assert record.design.masking == "DOUBLE"
    assert record.design.who_masked == ("PARTICIPANT", "OUTCOMES_ASSESSOR")
    assert record.design.intervention_model == "SEQUENTIAL"
    assert record.enrollment.count == 356 and record.enrollment.type == "ACTUAL"
    assert [(a.label, a.interventions) for a in record.arms][0] == (
        "Experimental App + Treatment as Usual", ("Device: OTX-202",))
    assert record.interventions[1].arm_labels == ("Other App + Treatment as Usual",)
    eligibility = record.eligibility
    assert eligibility.text.startswith("Inclusion Criteria:\n\n1. Ages \u226518 years old")
    assert eligibility.min_age.years == 18 and eligibility.max_age is None
    assert eligibility.healthy_volunteers is True and eligibility.sex == "ALL"
    assert eligibility.std_ages == ("ADULT", "OLDER_ADULT")
    assert record.locations[0].facility == "UCDDenver / Denver Health"
    assert record.extra["contactsLocationsModule.locations"][0]["geoPoint"] == {"lat": 39.73915, "lon": -104.9847}


def test_ctgov_json_maps_sections_in_website_order():
    raw = RawRecord("ctgov_json", _array_study("UserZetsu_dtx-analysis__ctg-studies.json", "NCT05144685"))
    record = to_record(raw)
    headings = [s.heading for s in record.sections]
    assert headings[:2] == ["Why Stopped", "Brief Summary"]
    assert headings.index("Masking Description") < headings.index("Eligibility Criteria")
    by_heading = {s.heading: s.text for s in record.sections}
    assert by_heading["Eligibility Criteria"] == record.eligibility.text.strip()
    assert by_heading["Masking Description"].startswith("Participants and research assessors")


def test_ctgov_json_maps_contacts_other_names_and_links():
    record = to_record(RawRecord("ctgov_json", _array_study("dgg32_clinical-trials-public__ctg-studies5.json", "NCT05819398")))
    assert ("2022-501074-19-00", "REGISTRY", "CTIS (EU)") in [(i.id, i.type, i.source) for i in record.secondary_ids]
    assert record.interventions[0].other_names == ("Spevigo\u00ae",)
    assert record.links[0].kind == "link" and record.links[0].url == "https://www.mystudywindow.com"
    roles = {i.role for i in record.investigators}
    assert {"CENTRAL_CONTACT", "SITE_CONTACT"} <= roles
    site = next(i for i in record.investigators if i.role == "SITE_CONTACT")
    assert site.affiliation == "Dermatology Research Associates" and site.phone == "833-602-2368"
    assert record.extra["date_types"]["primary_completion_date"] == "ESTIMATED"


def test_ctgov_json_maps_references_mesh_and_results_marker():
    record = parse_record(RawRecord("ctgov_json", _zip_study("NCT01130532"), entry="NCT01130532.json", index=0))
    assert record.extra["has_results"] is True
    assert "participantFlowModule" in record.extra["results_modules"]
    assert record.intervention_mesh == ("Tadalafil",)
    assert record.links[0].kind == "derived_reference" and record.links[0].pmid == "25455432"
    assert record.eligibility.sex == "MALE" and record.eligibility.min_age.years == 18
    assert record.version == "2013-01-04"
    assert "resultsSection" not in record.extra


def test_ctgov_json_keeps_unmapped_keys_verbatim():
    study = _array_study("dgg32_clinical-trials-public__ctg-studies2.json", "NCT02663973")
    study = json.loads(json.dumps(study))
    study["protocolSection"]["futureModule"] = {"newField": [1, 2]}
    study["protocolSection"]["statusModule"]["newDate"] = "2030-01"
    record = to_record(RawRecord("ctgov_json", study))
    assert record.extra["futureModule"] == {"newField": [1, 2]}
    assert record.extra["statusModule"]["newDate"] == "2030-01"
    assert record.extra["oversightModule"] == study["protocolSection"]["oversightModule"]
    assert record.extra["identificationModule"]["organization"]["fullName"] == "Latin American Cooperative Oncology Group"


@pytest.mark.parametrize("name,nct_id,check", [
    # an id the registry merged into this one: searchable as a secondary id
    ("UserZetsu_dtx-analysis__ctg-studies.json", "NCT03103880",
     lambda r: ("NCT05712863", "NCT_ALIAS") in [(i.id, i.type) for i in r.secondary_ids]),
    # a key outside the API field tree, added by whoever saved the file: kept, not mapped twice
    ("dgg32_clinical-trials-public__ctg-studies.json", "NCT05923281",
     lambda r: len(r.extra["contactsLocationsModule"]["locations_nested"]) == len(r.locations) == 15),
    # interventionMappedName (empty list) appears only in some downloads
    ("dgg32_clinical-trials-public__ctg-studies.json", "NCT05915702",
     lambda r: r.extra["armsInterventionsModule.interventions"][0]["interventionMappedName"] == []),
    # the only study of its file: an observational study without arms or phases
    ("dgg32_clinical-trials-public__ctg-studies2.json", "NCT02663973",
     lambda r: r.arms == () and r.phases == () and r.design.observational_model == "CASE_ONLY"),
])
def test_ctgov_json_odd_real_studies(name, nct_id, check):
    record = parse_record(RawRecord("ctgov_json", _array_study(name, nct_id)))
    assert record.trial_id == nct_id
    assert check(record)


@pytest.mark.parametrize("mutate,reason", [
    (lambda s: s["protocolSection"]["identificationModule"].pop("nctId"), "without protocolSection.identificationModule.nctId"),
    (lambda s: s.pop("protocolSection"), "no protocolSection"),
    (lambda s: s["protocolSection"].__setitem__("armsInterventionsModule", {"armGroups": ["Arm A"]}), "unexpected shape: armGroups"),
    (lambda s: s["protocolSection"].__setitem__("statusModule", "COMPLETED"), "statusModule: expected an object"),
])
def test_ctgov_json_bad_study_raises_input_error_naming_record(mutate, reason):
    study = json.loads(json.dumps(_zip_study("NCT01130532")))
    mutate(study)
    raw = RawRecord("ctgov_json", study, path="dump.zip", entry="NCT01130532.json", index=0)
    with pytest.raises(InputError, match=reason) as caught:
        parse_record(raw)
    assert caught.value.path == "dump.zip" and caught.value.record == "NCT01130532.json"


# --- one study, every container shape ----------------------------------------

def _write_shapes(tmp_path, study: dict, others: list) -> dict:
    text = json.dumps(study)
    lines = "\n".join(json.dumps(s) for s in [others[0], study, others[1]]) + "\n"
    shapes = {
        "object": ("study.json", json.dumps(study, indent=2).encode()),
        "array": ("studies.json", json.dumps([others[0], study, others[1]], indent=1).encode()),
        "page": ("page.json", json.dumps({"studies": [others[0], study], "nextPageToken": "abc"}).encode()),
        "jsonl": ("studies.jsonl", lines.encode()),
        "gz": ("study.json.gz", gzip.compress(text.encode())),
        "bz2": ("study.json.bz2", bz2.compress(text.encode())),
        "txt_name": ("notes.txt", text.encode()),
    }
    paths = {}
    for shape, (name, data) in shapes.items():
        paths[shape] = tmp_path / name
        paths[shape].write_bytes(data)
    folder = tmp_path / "folder" / "sub"
    folder.mkdir(parents=True)
    (folder / "NCT.json").write_text(text)
    paths["folder"] = tmp_path / "folder"
    paths["zip"] = tmp_path / "bulk.zip"
    with zipfile.ZipFile(paths["zip"], "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("NCT.json", text)
    paths["tar_gz"] = tmp_path / "bulk.tar.gz"
    with tarfile.open(paths["tar_gz"], "w:gz") as archive:
        info = tarfile.TarInfo("dump/NCT.json")
        info.size = len(text.encode())
        archive.addfile(info, io.BytesIO(text.encode()))
    return paths


def test_ctgov_json_same_study_through_every_container_shape(tmp_path, monkeypatch):
    study = _zip_study("NCT04396795")
    others = [_zip_study("NCT01130532"), _zip_study("NCT03596047")]
    expected = _without_source(parse_record(RawRecord("ctgov_json", study)))
    paths = _write_shapes(tmp_path, study, others)
    for shape, path in paths.items():
        found = [parse_record(r) for r in iter_records(path)]
        matching = [_without_source(r) for r in found if r.trial_id == "NCT04396795"]
        assert matching == [expected], shape
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(paths["gz"].read_bytes())))
    assert [_without_source(parse_record(r)) for r in iter_records("-")] == [expected]


def test_ctgov_json_source_names_entry_and_index(tmp_path):
    paths = _write_shapes(tmp_path, _zip_study("NCT04396795"), [_zip_study("NCT01130532"), _zip_study("NCT03596047")])
    (raw,) = iter_records(paths["tar_gz"])
    assert (raw.path, raw.entry, raw.index) == (str(paths["tar_gz"]), "dump/NCT.json", 0)
    record = parse_record(list(iter_records(paths["array"]))[2])
    assert record.source.format == "ctgov_json" and record.source.index == 2
    assert record.trial_id == "NCT03596047"


# --- field normalisers -------------------------------------------------------

@pytest.mark.parametrize("text,iso", [
    ("2023-09", "2023-09"),
    ("2023-09-15", "2023-09-15"),
    ("September 15, 2023", "2023-09-15"),
    ("September 2023", "2023-09"),
    ("15/09/2023", "2023-09-15"),
    ("15 September 2023", "2023-09-15"),
    ("Sept. 2023", "2023-09"),
    ("2020-03-18T00:00:00", "2020-03-18"),
    ("2023-13-01", None),
    ("not a date", None),
    ("", None),
])
def test_fields_iso_date(text, iso):
    assert fields.iso_date(text) == iso


@pytest.mark.parametrize("text,phases", [
    ("Phase 1/Phase 2", ("PHASE1", "PHASE2")),
    ("Phase 2/3", ("PHASE2", "PHASE3")),
    ("Phase II/III", ("PHASE2", "PHASE3")),
    ("Early Phase 1", ("EARLY_PHASE1",)),
    ("Phase 0", ("EARLY_PHASE1",)),
    ("N/A", ("NA",)),
    ("Not Applicable", ("NA",)),
    (["PHASE2", "PHASE3"], ("PHASE2", "PHASE3")),
    ("Phase 1b", ("PHASE1",)),
])
def test_fields_phase_list(text, phases):
    assert fields.phase_list(text) == phases


@pytest.mark.parametrize("function,text,value", [
    (fields.status_enum, "Active, not recruiting", "ACTIVE_NOT_RECRUITING"),
    (fields.status_enum, "Unknown status", "UNKNOWN"),
    (fields.status_enum, "Not Recruiting", "NOT_RECRUITING"),
    (fields.status_enum, "Some New Status", "SOME_NEW_STATUS"),
    (fields.sex_enum, "Both", "ALL"),
    (fields.enrollment_type, "Anticipated", "ESTIMATED"),
    (fields.yes_no, "Accepts Healthy Volunteers", True),
    (fields.yes_no, "No", False),
    (fields.yes_no, "maybe", None),
    (fields.as_int, "1,200", 1200),
    (fields.as_int, "about 30", None),
])
def test_fields_normalisers(function, text, value):
    assert function(text) == value
