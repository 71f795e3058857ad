"""The classic ClinicalTrials.gov API JSON (2019-2023): every study read or named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CORPUS
from toolkit.errors import Failure
from toolkit.formats import iter_records, parse_record
from toolkit.formats.ctgov_classic import read as classic_read

FIXTURE = Path(__file__).parent / "fixtures" / "ctgov_classic" / "full_studies.json"


def _read(path):
    items = list(iter_records(path))
    return [i for i in items if not isinstance(i, Failure)], [i for i in items if isinstance(i, Failure)]


def test_ctgov_classic_sniff_claims_only_the_classic_answer():
    assert classic_read.sniff(FIXTURE.read_bytes()[:16384], "x.json")
    assert not classic_read.sniff((CORPUS / "ctgov-v2" / "ctg-studies-sample.json").read_bytes()[:16384], "x")


def test_ctgov_classic_every_study_is_read_or_named():
    records, failures = _read(FIXTURE)
    announced = json.loads(FIXTURE.read_text())["FullStudiesResponse"]["NStudiesReturned"]
    assert len(records) + len(failures) == announced
    assert {r.format for r in records} == {"ctgov_classic"}
    assert len(failures) == 1 and "#4" in failures[0].record and "no Study.ProtocolSection" in failures[0].reason


def test_ctgov_classic_cut_file_names_the_studies_lost(tmp_path):
    answer = json.loads(FIXTURE.read_text())
    del answer["FullStudiesResponse"]["FullStudies"][1:3]
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(answer))
    records, failures = _read(cut)
    assert len(records) == 2
    assert any("announces 5 studies" in f.reason and "2 lost" in f.reason for f in failures)


def test_ctgov_classic_real_2021_answer_maps_every_part():
    record = parse_record(_read(FIXTURE)[0][0])
    assert (record.trial_id, record.status, record.study_type, record.start_date) == (
        "NCT01874691", "COMPLETED", "OBSERVATIONAL", "2013-01")
    assert record.enrollment.count == 20000 and record.enrollment.type == "ACTUAL"
    assert record.eligibility.sex == "ALL" and record.eligibility.healthy_volunteers is False
    assert [o.kind for o in record.outcomes] == ["primary", "secondary", "secondary", "other"]
    assert {i.id for i in record.secondary_ids} == {"2011BAI11B02-A", "2011BAI11B02"}
    assert record.locations[0].city == "Beijing" and record.condition_mesh == ("Myocardial Infarction", "Infarction")
    assert record.design.observational_model == "CASE_ONLY" and record.design.time_perspective == "PROSPECTIVE"
    assert [c.polarity for c in record.all_criteria()] == ["inclusion", "exclusion"]


@pytest.mark.parametrize("nct", ["NCT05838625", "NCT04616482", "NCT04770285"])
def test_ctgov_classic_same_record_as_api_v2(nct):
    """The fixture's v2-derived studies give the record the v2 mapper gives (extra aside)."""
    classic = {r.payload["Study"]["ProtocolSection"]["IdentificationModule"]["NCTId"]: r for r in _read(FIXTURE)[0]}
    v2 = {r.payload["protocolSection"]["identificationModule"]["nctId"]: r
          for r in _read(CORPUS / "ctgov-v2" / "ctg-studies-sample.json")[0]}
    left, right = parse_record(classic[nct]).to_dict(), parse_record(v2[nct]).to_dict()
    for key in ("extra", "source", "content_hash"):
        left.pop(key, None)
        right.pop(key, None)
    assert left == right


@pytest.mark.parametrize("content,named", [
    (b'<?xml version="1.0"?>\n<!-- feed -->\n<rss version="2.0"><channel></channel></rss>', "root <rss>"),
    (b'{"FullStudiesResponseX": {"APIVrs": "1"}}', "a JSON object with keys FullStudiesResponseX, APIVrs"),
    (b"%PDF-1.4\n%binary", "a PDF document"),
    (b"Date,Title\n2020-01-01,x\n", "recognises text"),  # text is named, never quoted (it may be a secret)
])
def test_ctgov_classic_unknown_format_message_names_what_it_saw(tmp_path, content, named):
    path = tmp_path / "input"
    path.write_bytes(content)
    (failure,) = list(iter_records(path))
    assert failure.reason.startswith("unknown format") and named in failure.reason
