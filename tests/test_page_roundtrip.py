"""Round trip of real studies through the trial page: source -> record -> page -> record.

Every ClinicalTrials.gov API v2 study of the shared data (arrays and the
urology zip) is mapped with the JSON mapper, rendered as a page, read back
with the page reader and mapper, and compared field by field; so are a sample
of legacy ctgov XML studies and records of other registries and formats
(ICTRP XML, ctrdata, cthist CSV, ICTRP versions), with their odd cases. Only what a page does not carry is left out:
where the record was read from (`source`), the source's own titled blocks
(`sections`), the verbatim leftovers (`extra`) and the hash over them. An
empty design reads back as no design; texts compare with `\n` line endings
and without trailing or surrounding whitespace (a page line cannot carry it).
"""

from __future__ import annotations

import io
import itertools
import json
import tarfile
import zipfile
from typing import Iterator, List, Tuple

import pytest

from conftest import V2_ARRAYS, data_path
from toolkit.formats import parse_record
from toolkit.formats.ctgov_page import read as page_reader
from toolkit.formats.raw import RawRecord
from toolkit.records import TrialRecord
from toolkit.formats.ctgov_page.render import render_page

NOT_ON_THE_PAGE = ("source", "sections", "extra", "content_hash", "raw_values")
ARRAYS = list(V2_ARRAYS)
URO_ZIP = "Marc-Morcos_urology__ctg-studies.json.zip"


def _studies(name: str) -> Iterator[dict]:
    path = data_path("ctgov-v2", name)
    if name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.endswith(".json"):
                    yield json.loads(archive.read(member))
    else:
        yield from json.loads(path.read_text("utf-8"))


def page_view(record: TrialRecord) -> dict:
    """The JSON form of a record without what a page does not carry."""
    data = _one_line_ending(record.to_dict())
    for key in NOT_ON_THE_PAGE:
        data.pop(key, None)
    if data.get("design") == {}:
        del data["design"]
    return data


def _one_line_ending(value):
    """A page has no carriage returns, and its lines no trailing blanks: compare
    texts with `\n` line endings, without trailing or surrounding whitespace."""
    if isinstance(value, str):
        lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "\n".join(line.rstrip() for line in lines).strip()
    if isinstance(value, list):
        return [_one_line_ending(v) for v in value]
    if isinstance(value, dict):
        return {k: _one_line_ending(v) for k, v in value.items()}
    return value


def through_page(record: TrialRecord) -> TrialRecord:
    """Render a record as a page and read it back with the page reader and mapper."""
    text = render_page(record)
    assert page_reader.sniff(text.encode("utf-8")[:16384], "page.txt")
    (raw,) = list(page_reader.read(io.BytesIO(text.encode("utf-8")), path="page.txt"))
    return parse_record(raw)


def mismatches(original: TrialRecord, back: TrialRecord) -> List[Tuple[str, str]]:
    """(trial id, field) for every top-level or eligibility field that differs."""
    want, got = page_view(original), page_view(back)
    found = [(original.trial_id, key) for key in sorted(set(want) | set(got))
             if key != "eligibility" and want.get(key) != got.get(key)]
    want_e, got_e = want.get("eligibility", {}), got.get("eligibility", {})
    found += [(original.trial_id, f"eligibility.{key}") for key in sorted(set(want_e) | set(got_e))
              if want_e.get(key) != got_e.get(key)]
    return found


@pytest.mark.data
@pytest.mark.parametrize("name", ARRAYS + [URO_ZIP])
def test_page_roundtrip_every_study(name):
    count, failed = 0, []
    for study in _studies(name):
        record = parse_record(RawRecord("ctgov_json", study, path=name))
        failed += mismatches(record, through_page(record))
        count += 1
    assert count > 0
    assert failed == []


@pytest.mark.data
def test_page_roundtrip_covers_the_page_fields():
    """The shared arrays exercise every part of the page the round trip guards."""
    seen = set()
    for name in ARRAYS:
        for study in _studies(name):
            record = parse_record(RawRecord("ctgov_json", study, path=name))
            seen.update(key for key, value in page_view(record).items() if value)
            seen.update(f"eligibility.{key}" for key in page_view(record).get("eligibility", {}))
    assert {"status", "phases", "enrollment", "study_type", "start_date", "primary_completion_date",
            "completion_date", "design", "arms", "interventions", "sponsors", "investigators",
            "locations", "links", "secondary_ids", "conditions", "keywords", "brief_summary",
            "detailed_description", "outcomes", "eligibility.text", "eligibility.criteria",
            "eligibility.min_age", "eligibility.max_age", "eligibility.sex",
            "eligibility.healthy_volunteers", "eligibility.study_population"} <= seen


@pytest.mark.parametrize("nct_id,name,awkward", [
    ("NCT06909500", "UserZetsu_dtx-analysis__ctg-studies.json", "interventions sharing a name"),
    ("NCT05701059", "scampbe3_my-website__ctg-studies.json", "an untyped arm named like an intervention"),
    ("NCT05838625", "UserZetsu_dtx-analysis__ctg-studies.json", "arm labels not in study-group order"),
    ("NCT05551195", "UserZetsu_dtx-analysis__ctg-studies.json", "a title in square brackets"),
    ("NCT00042536", URO_ZIP, "an empty design module"),
])
def test_page_roundtrip_odd_study(nct_id, name, awkward):
    matches = [s for s in _studies(name) if s["protocolSection"]["identificationModule"]["nctId"] == nct_id]
    assert matches, f"{nct_id} ({awkward}) not found in {name}"
    record = parse_record(RawRecord("ctgov_json", matches[0], path=name))
    assert mismatches(record, through_page(record)) == []


# --- legacy ClinicalTrials.gov XML: a sample and the odd studies it showed ------------

XML_ARCHIVE = ("ctgov-xml", "ctgov_xml_2023-02.tar.gz")
XML_SAMPLE = 400
XML_ODD = {
    "NCT00000460": "untyped arms named like description-less interventions",
    "NCT00000136": "a link whose label is its URL",
    "NCT00000919": "a site with a facility and nothing else",
    "NCT00000588": "a design description with CRLF line endings",
    "NCT00001978": "why stopped with CRLF line endings",
}


@pytest.fixture(scope="module")
def xml_studies() -> dict:
    """The first XML_SAMPLE studies of the legacy archive plus the odd ones, by id."""
    from toolkit.formats.ctgov_xml import read as ctgov_xml

    found = {}
    with tarfile.open(data_path(*XML_ARCHIVE)) as archive:
        for n, member in enumerate(m for m in archive if m.isfile() and m.name.endswith(".xml")):
            trial_id = member.name.rsplit("/", 1)[-1][:-4]
            if n < XML_SAMPLE or trial_id in XML_ODD:
                stream = io.BytesIO(archive.extractfile(member).read())
                found[trial_id] = next(ctgov_xml.read(stream, path=XML_ARCHIVE[1], entry=member.name))
            if n >= XML_SAMPLE and set(XML_ODD) <= set(found):
                break
    return found


@pytest.mark.data
def test_page_roundtrip_legacy_xml_sample(xml_studies):
    failed = []
    for raw in xml_studies.values():
        record = parse_record(raw)
        failed += mismatches(record, through_page(record))
    assert len(xml_studies) >= XML_SAMPLE
    assert failed == []


@pytest.mark.data
@pytest.mark.parametrize("nct_id", sorted(XML_ODD))
def test_page_roundtrip_legacy_xml_odd_study(xml_studies, nct_id):
    record = parse_record(xml_studies[nct_id])
    assert mismatches(record, through_page(record)) == [], XML_ODD[nct_id]


# --- other registries and formats: the page carries them too ----------------------------


@pytest.mark.data
@pytest.mark.parametrize("parts,limit", [
    (("ictrp", "ICTRP-Results_18Mar2020.xml"), None),
    (("multiregistry", "ctrdata_versions.jsonl.gz"), None),
    (("versions-cthist", "ctgov_versions_2022-03.csv.gz"), 150),
    (("versions-cthist", "drks_versions_2022-03.csv.gz"), 150),
    (("ictrp", "ictrp_covid19_versions.jsonl.gz"), 300),
])
@pytest.mark.data
def test_page_roundtrip_other_sources(parts, limit):
    from toolkit.errors import Failure
    from toolkit.formats import iter_records

    count, failed = 0, []
    for raw in itertools.islice(iter_records(str(data_path(*parts))), limit):
        if isinstance(raw, Failure):
            continue
        record = parse_record(raw)
        failed += mismatches(record, through_page(record))
        count += 1
    assert count >= min(limit or 150, 150)
    assert failed == []
