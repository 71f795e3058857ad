"""History readers and mappers: cthist CSV, ICTRP weekly versions, ctrdata."""

from __future__ import annotations

import functools
import gzip
import io
import json

import pytest

from tests.conftest import CORPUS, data_path
from toolkit.errors import Failure, InputError
from toolkit.formats.cthist_csv import map as cthist_map
from toolkit.formats.ctrdata import map as ctrdata_map
from toolkit.formats.ictrp_versions import map as ictrp_map
from toolkit.formats.cthist_csv import read as cthist_csv
from toolkit.formats.ctrdata import read as ctrdata
from toolkit.formats.ictrp_versions import read as ictrp_versions
from toolkit.formats.raw import RawRecord

SHIPPED_CTGOV = CORPUS / "history" / "NCT02007772_cthist.csv"
SHIPPED_DRKS = CORPUS / "history" / "DRKS00000058_cthist.csv"


def _read(module, data: bytes, name="x"):
    return list(module.read(io.BytesIO(data), path=name))


@pytest.mark.parametrize("module,parts,expected", [
    (cthist_csv, ("versions-cthist", "ctgov_versions_2022-03.csv.gz"), True),
    (cthist_csv, ("versions-cthist", "drks_versions_2022-03.csv.gz"), True),
    (cthist_csv, ("ictrp", "ictrp_covid19_versions.jsonl.gz"), False),
    (ictrp_versions, ("ictrp", "ictrp_covid19_versions.jsonl.gz"), True),
    (ictrp_versions, ("multiregistry", "ctrdata_versions.jsonl.gz"), False),
    (ctrdata, ("multiregistry", "ctrdata_versions.jsonl.gz"), True),
    (ctrdata, ("ictrp", "ictrp_covid19_versions.jsonl.gz"), False),
    (ctrdata, ("ictrp", "ICTRP-Results_18Mar2020.xml"), False),
])
def test_history_readers_sniff_decompressed_heads(module, parts, expected):
    path = data_path(*parts)
    raw = path.read_bytes()[:200_000]
    head = gzip.decompress(path.read_bytes())[:16384] if raw[:2] == b"\x1f\x8b" else raw[:16384]
    assert module.sniff(head, path.name) is expected


def test_history_readers_cthist_sniffs_gzipped_head():
    path = data_path("versions-cthist", "drks_versions_2022-03.csv.gz")
    assert cthist_csv.sniff(path.read_bytes()[:4096], path.name)


@pytest.mark.parametrize("parts,module,count", [
    (("versions-cthist", "ctgov_versions_2022-03.csv.gz"), cthist_csv, 432),
    (("versions-cthist", "drks_versions_2022-03.csv.gz"), cthist_csv, 418),
    (("ictrp", "ictrp_covid19_versions.jsonl.gz"), ictrp_versions, 6176),
    (("multiregistry", "ctrdata_versions.jsonl.gz"), ctrdata, 179),
])
@pytest.mark.data
def test_history_readers_read_and_map_every_version(parts, module, count):
    path = data_path(*parts)
    mapper = {cthist_csv: cthist_map, ictrp_versions: ictrp_map, ctrdata: ctrdata_map}[module]
    with gzip.open(path) as stream:
        items = list(module.read(stream, path=str(path)))
    assert [i for i in items if isinstance(i, Failure)] == []
    records = [mapper.to_record(item) for item in items]
    assert len(records) == count
    assert all(r.trial_id and r.version for r in records)


@pytest.mark.parametrize("path,trial_id,versions,first_date", [
    (SHIPPED_CTGOV, "NCT02007772", 8, "2013-12-06"),
    (SHIPPED_DRKS, "DRKS00000058", 9, "2008-12-19"),
])
def test_history_readers_shipped_sample_versions(path, trial_id, versions, first_date):
    records = [cthist_map.to_record(r) for r in cthist_csv.read(path.open("rb"), path=str(path))]
    assert {r.trial_id for r in records} == {trial_id}
    assert [r.version for r in records] == [str(n) for n in range(1, versions + 1)]
    assert records[0].last_updated == first_date


def _ctgov_row(**changes):
    path = SHIPPED_CTGOV
    row = next(r for r in cthist_csv.read(path.open("rb"), path=str(path))).payload
    return RawRecord("cthist_csv", {**row, **changes}, path="rows.csv", index=3)


@pytest.mark.parametrize("changes,check", [
    # rows with posted results hold a note instead of outcome JSON (NCT02534285, NCT01171820)
    ({"outcome_measures": "[See Results Section.]"},
     lambda r: r.outcomes == () and r.extra["outcome_measures"] == "[See Results Section.]"),
    ({"overall_status": "Terminated "}, lambda r: r.status == "TERMINATED"),
    ({"overall_status": "Unknown status "}, lambda r: r.status == "UNKNOWN"),
    ({"enrolment_type": "NA", "enrolment": "NA"}, lambda r: r.enrollment is None),
    ({"enrolment_type": "Anticipated"}, lambda r: r.enrollment.type == "ESTIMATED"),
    ({"max_age": "NA", "min_age": "17"}, lambda r: r.eligibility.max_age is None and r.eligibility.min_age.years == 17),
    ({"accepts_healthy_volunteers": ""}, lambda r: r.eligibility.healthy_volunteers is None),
    ({"sex": "Female"}, lambda r: r.eligibility.sex == "FEMALE"),
])
def test_history_readers_cthist_odd_ctgov_cells(changes, check):
    assert check(cthist_map.to_record(_ctgov_row(**changes)))


def test_history_readers_cthist_outcome_time_frames_split():
    record = cthist_map.to_record(_ctgov_row())
    primary = [o for o in record.outcomes if o.kind == "primary"]
    assert primary and all(o.time_frame for o in primary)
    assert "[ Time Frame" not in primary[0].measure


@pytest.mark.parametrize("changes,reason", [
    ({"nctid": "  "}, "no nctid or drksid"),
    ({"criteria": "[\"unterminated"}, "column 'criteria' is not JSON"),
])
def test_history_readers_cthist_bad_row_names_record(changes, reason):
    with pytest.raises(InputError) as caught:
        cthist_map.to_record(_ctgov_row(**changes))
    assert reason in str(caught.value) and "rows.csv" in str(caught.value) and "#3" in str(caught.value)


def test_history_readers_cthist_short_row_is_failure_and_reading_goes_on():
    data = b"nctid,version_number,version_date\nNCT1,1,2020-01-01\nNCT1,2\nNCT1,3,2020-03-01\n"
    items = _read(cthist_csv, data, "short.csv")
    assert [type(i).__name__ for i in items] == ["RawRecord", "Failure", "RawRecord"]
    assert "2 columns" in items[1].reason and items[1].path == "short.csv"


def _drks_row():
    path = SHIPPED_DRKS
    return next(r for r in cthist_csv.read(path.open("rb"), path=str(path)))


def test_history_readers_drks_row_maps_lists_and_hidden_values():
    record = cthist_map.to_record(_drks_row())
    assert record.registry == "drks"
    assert "Inclusion Criteria:" in record.eligibility.text and "Exclusion Criteria:" in record.eligibility.text
    assert record.eligibility.sex == "ALL"
    assert {o.kind for o in record.outcomes} == {"primary", "secondary"}
    # "[---]*" is DRKS's hidden value: no phone, no fax in the record
    assert all(i.phone != "[---]*" for i in record.investigators)


@pytest.mark.parametrize("status,expected", [
    ("Recruiting ongoing", "RECRUITING"),
    ("Recruiting complete, follow-up complete", "COMPLETED"),
    ("Recruiting complete, follow-up continuing", "ACTIVE_NOT_RECRUITING"),
    ("Recruiting planned", "NOT_YET_RECRUITING"),
    ("Recruiting stopped after recruiting started ", "TERMINATED"),
])
def test_history_readers_drks_statuses(status, expected):
    raw = _drks_row()
    raw = RawRecord(raw.format, {**raw.payload, "recruitment_status": status}, path=raw.path, index=raw.index)
    record = cthist_map.to_record(raw)
    assert record.status == expected and record.extra["recruitment_status"] == status.strip()


def _ictrp_line(trial_id: str, index: int = 0) -> dict:
    return _ictrp_lines(str(data_path("ictrp", "ictrp_covid19_versions.jsonl.gz")))[(trial_id, index)]


@functools.lru_cache(maxsize=1)
def _ictrp_lines(path: str) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = (json.loads(line) for line in handle)
        return {(data["TrialID"], data["version_index"]): data for data in lines}


@pytest.mark.parametrize("trial_id,index,check", [
    # converter debris: "_x000D_<br>" becomes one line break
    ("ChiCTR2000029949", 0, lambda r: "_x000D_" not in r.eligibility.text and "<br>" not in r.eligibility.text),
    ("ChiCTR2000029949", 0, lambda r: r.registry == "chictr" and r.version == "2020-03-25"),
    ("ChiCTR2000029949", 0, lambda r: [o.measure for o in r.outcomes][:2] == ["inhospital length", "inhospital mortality"]),
    # EU CTR: "<br>Female: yes<br>Male: yes<br>" and labelled outcome segments
    ("EUCTR2020-000890-25-FR", 0, lambda r: r.eligibility.sex == "ALL"),
    ("EUCTR2020-000890-25-FR", 0, lambda r: r.outcomes[0].time_frame == "Day 1, Day 4, Day 7 and Day 14"),
    ("EUCTR2020-000890-25-FR", 0, lambda r: r.outcomes[0].measure == "Results of SARS-COV2 virus detection"),
    ("NCT04312997", 0, lambda r: r.registry == "ctgov" and r.extra["export_date"]),
])
def test_history_readers_ictrp_odd_cases(trial_id, index, check):
    line = _ictrp_line(trial_id, index)
    assert check(ictrp_map.to_record(RawRecord("ictrp_versions", line, path="v.jsonl", index=0)))


def test_history_readers_ictrp_reordered_eu_segments_map_alike():
    """EUCTR2020-000890-25-FR: versions 3 and 4 differ only by the order of the segments."""
    a = ictrp_map.to_record(RawRecord("ictrp_versions", _ictrp_line("EUCTR2020-000890-25-FR", 3)))
    b = ictrp_map.to_record(RawRecord("ictrp_versions", _ictrp_line("EUCTR2020-000890-25-FR", 4)))
    assert a.outcomes == b.outcomes
    assert sorted(a.sections, key=lambda s: s.heading) == sorted(b.sections, key=lambda s: s.heading)


def test_history_readers_jsonl_bad_line_is_failure_and_reading_goes_on():
    good = json.dumps({"TrialID": "X1", "first_seen_snapshot": "2020-01-01", "record": {"TrialID": "X1"}})
    data = (good + "\n{broken\n" + good + "\n").encode()
    items = _read(ictrp_versions, data, "v.jsonl")
    assert [type(i).__name__ for i in items] == ["RawRecord", "Failure", "RawRecord"]


def _ctrdata_lines(register: str):
    return [line for line in _all_ctrdata(str(data_path("multiregistry", "ctrdata_versions.jsonl.gz")))
            if line["ctrname"] == register]


@functools.lru_cache(maxsize=1)
def _all_ctrdata(path: str) -> list:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.mark.parametrize("register,registry,check", [
    ("CTGOV", "ctgov", lambda r: r.trial_id.startswith("NCT") and "inclusion criteria" in r.eligibility.text.lower()),
    ("CTGOV", "ctgov", lambda r: "&#xD;" not in r.eligibility.text and "&lt;" not in r.eligibility.text),
    # CTGOV2: ctrdata collapses one-element lists ("conditions": "Neuroblastoma")
    ("CTGOV2", "ctgov", lambda r: r.trial_id.startswith("NCT") and r.conditions and r.outcomes),
    ("EUCTR", "euctr", lambda r: r.trial_id.count("-") == 3 and r.outcomes and r.eligibility.text),
    ("ISRCTN", "isrctn", lambda r: r.trial_id.startswith("ISRCTN") and r.eligibility.text),
    ("CTIS", "ctis", lambda r: r.status and r.outcomes and "Inclusion Criteria:" in r.eligibility.text),
])
def test_history_readers_ctrdata_registers(register, registry, check):
    lines = _ctrdata_lines(register)
    assert lines
    for line in lines:
        record = ctrdata_map.to_record(RawRecord("ctrdata", line, path="c.jsonl"))
        assert record.registry == registry and record.version == line["first_snapshot"].split("_")[0]
        assert check(record), line["_id"]


def test_history_readers_ctrdata_keeps_unmapped_keys():
    line = _ctrdata_lines("EUCTR")[0]
    record = ctrdata_map.to_record(RawRecord("ctrdata", line, path="c.jsonl"))
    assert record.extra["e81_controlled"] == line["record"]["e81_controlled"]
    assert record.extra["ctrdata_id"] == line["_id"]


def test_history_readers_ctrdata_unknown_register_names_record():
    with pytest.raises(InputError) as caught:
        ctrdata_map.to_record(RawRecord("ctrdata", {"_id": "1", "ctrname": "XYZ", "record": {}}, path="c.jsonl", index=7))
    assert "XYZ" in str(caught.value) and "#7" in str(caught.value)
