"""Legacy ClinicalTrials.gov XML: safe reading, the study mapper, real studies."""

from __future__ import annotations

import functools
import io
import shutil
import tarfile
import xml.etree.ElementTree as ET
import zipfile

import pytest

from conftest import CORPUS, data_path
from toolkit.errors import Failure
from toolkit.formats import parse_record
from toolkit.formats.ctgov_xml.map import MAPPED_ELEMENTS
from toolkit.formats.xml_fields import block_text, enum_value, iso_date
from toolkit.formats import iter_records
from toolkit.formats.ctgov_xml import read as ctgov_xml
from toolkit.formats.ictrp_xml import read as ictrp_xml
from toolkit.formats.raw import RawRecord
from toolkit.records import Identifier

XML_DIR = CORPUS / "ctgov-xml"
TARBALL = ("ctgov-xml", "ctgov_xml_2023-02.tar.gz")


@functools.lru_cache(maxsize=None)
def _corpus_record(name: str):
    path = XML_DIR / f"{name}.xml"
    with open(path, "rb") as stream:
        (raw,) = ctgov_xml.read(stream, path=str(path))
    return parse_record(raw)


# Studies of the tarball with cases the shipped sample lacks.
TARBALL_CASES = {
    "NCT00005388": "no <criteria> at all",
    "NCT00007579": "criteria with an empty exclusion block",
    "NCT00001351": "Enrolling by invitation",
    "NCT00002644": "Active, not recruiting; Triple masking with roles",
    "NCT00460928": "Early Phase 1; allocation N/A",
    "NCT00499720": "expanded access, approved for marketing, >= sign",
}


@pytest.fixture(scope="module")
def tarball_records():
    """The TARBALL_CASES studies, read from the real tarball in one pass."""
    found = {}
    with tarfile.open(data_path(*TARBALL)) as archive:
        for member in archive:
            stem = member.name.rsplit("/", 1)[-1][:-4]
            if stem in TARBALL_CASES:
                stream = archive.extractfile(member)
                (raw,) = ctgov_xml.read(stream, path=TARBALL[1], entry=member.name)
                found[stem] = parse_record(raw)
    return found


def _get(record, path: str):
    value = record
    for part in path.split("."):
        value = value[int(part)] if part.lstrip("-").isdigit() else getattr(value, part)
    return value


@pytest.mark.parametrize("name,path,expected", [
    ("NCT00000155", "status", "UNKNOWN"),
    ("NCT00000155", "start_date", "1995-06"),
    ("NCT00000155", "version", "2005-06-24"),
    ("NCT00000155", "last_updated", "2005-06-24"),
    ("NCT00000155", "first_posted", "1999-09-24"),
    ("NCT00000155", "study_type", "OBSERVATIONAL"),
    ("NCT00000155", "design.time_perspective", "PROSPECTIVE"),
    ("NCT00000155", "secondary_ids.0", Identifier("NEI-57", type="org_study_id")),
    ("NCT00000155", "sponsors.0.class_", "NIH"),
    ("NCT00000155", "eligibility.sex", "ALL"),
    ("NCT00000155", "eligibility.min_age.years", 12.0),
    ("NCT00000155", "eligibility.max_age.text", "N/A"),
    ("NCT00000155", "eligibility.healthy_volunteers", False),
    ("NCT00000155", "locations.0.city", "Berkeley"),
    ("NCT00000155", "locations.13.facility", "Gundersen Lutheran"),
    ("NCT00000155", "condition_mesh", ("Keratoconus",)),
    ("NCT00002597", "phases", ("PHASE3",)),
    ("NCT00002597", "enrollment.count", 2028),
    ("NCT00002597", "enrollment.type", "ACTUAL"),
    ("NCT00002597", "completion_date", "2018-05-14"),
    ("NCT00002597", "primary_completion_date", "2011-07"),
    ("NCT00002597", "design.masking", "NONE"),
    ("NCT00002597", "design.who_masked", ()),
    ("NCT00002597", "interventions.0.other_names", ("Eulexin",)),
    ("NCT00002597", "interventions.3.arm_labels", ("Neoadjuvant TAS + RT", "Radiation therapy alone")),
    ("NCT00002597", "arms.1.interventions", ("Radiation: radiation therapy",)),
    ("NCT00002597", "arms.0.type", "EXPERIMENTAL"),
    ("NCT00002597", "eligibility.sex", "MALE"),
    ("NCT00003616", "phases", ("PHASE1", "PHASE2")),
    ("NCT00003616", "start_date", "1998-10-22"),
    ("NCT00002499", "phases", ("PHASE2", "PHASE3")),
    ("NCT00009594", "secondary_ids.-1", Identifier("NCT00009282", type="nct_alias")),
    ("NCT00001159", "eligibility.study_population", "anyone meeting eligibility criteria."),
    ("NCT00001159", "eligibility.min_age.years", 0.5),
    ("NCT00001159", "design.observational_model", "CASE_ONLY"),
    ("NCT00001159", "sections.2.heading", "Study Population"),
    ("NCT00000251", "eligibility.healthy_volunteers", True),
    ("NCT00003224", "outcomes.-1.kind", "other"),
    ("NCT00003729", "why_stopped", "low accrual"),
    ("NCT00003729", "status", "TERMINATED"),
    ("NCT00461825", "outcomes.1.measure", "The incidence and the delay of occurrence of graft dysfunction "
     "episode defined as ³ 20 % increase in serum creatinine level (mean of three results obtained in "
     "the same laboratory) and requiring a graft biopsy."),
])
def test_ctgov_xml_maps_fields_of_real_studies(name, path, expected):
    assert _get(_corpus_record(name), path) == expected


@pytest.mark.parametrize("name,path,expected", [
    ("NCT00005388", "eligibility.text", ""),
    ("NCT00005388", "eligibility.criteria", ()),
    ("NCT00005388", "eligibility.sex", "MALE"),
    ("NCT00007579", "eligibility.text",
     "Inclusion Criteria:\n\nVeterans with Prostate Cancer\n\nExclusion Criteria:"),
    ("NCT00001351", "status", "ENROLLING_BY_INVITATION"),
    ("NCT00001351", "start_date", "1993-06-01"),
    ("NCT00002644", "status", "ACTIVE_NOT_RECRUITING"),
    ("NCT00002644", "design.masking", "TRIPLE"),
    ("NCT00002644", "design.who_masked", ("PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR")),
    ("NCT00002644", "completion_date", "2026-12"),
    ("NCT00460928", "phases", ("EARLY_PHASE1",)),
    ("NCT00460928", "design.allocation", "NA"),
    ("NCT00460928", "design.intervention_model", "SINGLE_GROUP"),
    ("NCT00499720", "status", "APPROVED_FOR_MARKETING"),
    ("NCT00499720", "study_type", "EXPANDED_ACCESS"),
])
def test_ctgov_xml_maps_odd_studies_of_the_tarball(tarball_records, name, path, expected):
    assert _get(tarball_records[name], path) == expected


def test_ctgov_xml_keeps_non_ascii_criteria(tarball_records):
    text = tarball_records["NCT00499720"].eligibility.text
    assert "≥ 6 years of age" in text
    assert any("≥" in c.text for c in tarball_records["NCT00499720"].all_criteria())


@pytest.mark.parametrize("name", ["NCT00002597", "NCT00001277", "NCT00002931"])
def test_ctgov_xml_marks_posted_results_without_mapping_them(name):
    record = _corpus_record(name)
    marker = record.extra["clinical_results"]
    assert marker["present"] is True and marker["mapped"] is False
    assert marker["omitted_bytes"] > 1000
    assert record.extra["results_first_posted"][:2] == "20"


@pytest.mark.parametrize("path", sorted(XML_DIR.glob("*.xml")), ids=lambda p: p.stem)
def test_ctgov_xml_criteria_text_keeps_every_word_of_the_source(path):
    source = ET.parse(path).getroot().findtext("eligibility/criteria/textblock") or ""
    text = _corpus_record(path.stem).eligibility.text
    assert "\r" not in text
    assert text.split() == source.split()
    assert text == block_text(source)


@pytest.mark.parametrize("path", sorted(XML_DIR.glob("*.xml")), ids=lambda p: p.stem)
def test_ctgov_xml_keeps_every_unmapped_element_in_extra(path):
    tags = {child.tag for child in ET.parse(path).getroot()}
    record = _corpus_record(path.stem)
    assert tags - MAPPED_ELEMENTS <= set(record.extra)
    assert record.trial_id == path.stem and record.registry == "ctgov"
    assert [s.heading for s in record.sections][:1] == ["Brief Summary"]


@pytest.mark.parametrize("element,added,key", [
    (b"<intervention>", b"<dose_unit>mg</dose_unit>", "intervention.dose_unit"),
    (b"<arm_group>", b"<arm_group_note>n</arm_group_note>", "arm_group.arm_group_note"),
    (b"<primary_outcome>", b"<safety_issue>No</safety_issue>", "primary_outcome.safety_issue"),
    (b"<clinical_study>", b"<future_element>x</future_element>", "future_element"),
])
def test_ctgov_xml_keeps_unknown_children_of_mapped_elements(element, added, key):
    data = (XML_DIR / "NCT00002597.xml").read_bytes().replace(element, element + added, 1)
    (raw,) = ctgov_xml.read(io.BytesIO(data), path="NCT00002597.xml")
    record = parse_record(raw)
    assert record.extra[key] == added.split(b">")[1].split(b"<")[0].decode()
    assert record.trial_id == "NCT00002597"


@pytest.mark.parametrize("text,table,expected", [
    ("Active, not recruiting", "status", "ACTIVE_NOT_RECRUITING"),
    ("Enrolling by invitation", "status", "ENROLLING_BY_INVITATION"),
    ("Unknown status", "status", "UNKNOWN"),
    ("N/A", "phase", "NA"),
    ("Early Phase 1", "phase", "EARLY_PHASE1"),
    ("Single Group Assignment", "intervention_model", "SINGLE_GROUP"),
    ("Educational/Counseling/Training", "primary_purpose", "ECT"),
    ("Health Services Research", "primary_purpose", "HEALTH_SERVICES_RESEARCH"),
    ("Case-Only", None, "CASE_ONLY"),
    ("U.S. Fed", "agency_class", "FED"),
    ("Anticipated", "enrollment_type", "ESTIMATED"),
    ("  ", None, None),
])
def test_ctgov_xml_spells_values_as_api_v2_enums(text, table, expected):
    assert enum_value(text, table) == expected


@pytest.mark.parametrize("text,expected", [
    ("March 2001", "2001-03"),
    ("June 1995", "1995-06"),
    ("October 22, 1998", "1998-10-22"),
    ("2023-01-25", "2023-01-25"),
    ("", None),
    (None, None),
])
def test_ctgov_xml_dates_become_iso(text, expected):
    assert iso_date(text) == expected


# --- safety and bad input --------------------------------------------------------

SAFETY_CASES = [
    ("external_entity",
     b'<?xml version="1.0"?>\n<!DOCTYPE clinical_study [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
     b"<clinical_study><id_info><nct_id>NCT00000001</nct_id></id_info>&x;</clinical_study>",
     "DTD (DOCTYPE) not allowed"),
    ("billion_laughs",
     b'<?xml version="1.0"?>\n<!DOCTYPE clinical_study [\n <!ENTITY a "ha">\n'
     + b"".join(b' <!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">\n' % ((c,) + (c - 1,) * 10)
                for c in range(ord("b"), ord("k")))
     + b"]>\n<clinical_study>&j;</clinical_study>",
     "DTD (DOCTYPE) not allowed"),
    ("external_subset",
     b'<!DOCTYPE clinical_study SYSTEM "http://example.invalid/public.dtd">\n<clinical_study/>',
     "DTD (DOCTYPE) not allowed"),
    ("undeclared_entity",
     b"<clinical_study><brief_title>&nbsp;</brief_title></clinical_study>",
     "undefined entity"),
    ("truncated",
     b"<clinical_study>\n  <id_info>\n    <nct_id>NCT00000001</nct_id>\n  </id_in",
     "truncated XML"),
    ("declared_utf8_written_latin1",
     '<?xml version="1.0" encoding="UTF-8"?>\n<clinical_study><brief_title>Étude caféine</brief_title>'
     "</clinical_study>".encode("latin-1"),
     "not well-formed (invalid token)"),
]


@pytest.mark.parametrize("name,data,reason", SAFETY_CASES, ids=[c[0] for c in SAFETY_CASES])
def test_ctgov_xml_bad_input_gives_a_failure_naming_file_and_reason(name, data, reason):
    assert ctgov_xml.sniff(data[:4096], f"{name}.xml")
    (failure,) = ctgov_xml.read(io.BytesIO(data), path="/dump/studies.zip", entry=f"{name}.xml")
    assert isinstance(failure, Failure)
    assert reason in failure.reason
    assert failure.path == "/dump/studies.zip" and failure.record == f"{name}.xml"
    assert "root:" not in failure.describe()


@pytest.mark.parametrize("name,data,reason", SAFETY_CASES, ids=[c[0] for c in SAFETY_CASES])
def test_ctgov_xml_bad_file_in_a_folder_does_not_lose_the_next_one(tmp_path, name, data, reason):
    (tmp_path / "a_bad.xml").write_bytes(data)
    shutil.copy(XML_DIR / "NCT00000155.xml", tmp_path / "b_good.xml")
    found = list(iter_records(tmp_path))
    assert [type(item) for item in found] == [Failure, RawRecord]
    assert reason in found[0].reason and found[0].path.endswith("a_bad.xml")
    assert parse_record(found[1]).trial_id == "NCT00000155"


def test_ctgov_xml_study_without_id_fails_alone_in_the_pipeline(tmp_path):
    from toolkit.ingest import iter_parsed

    (tmp_path / "a_no_id.xml").write_bytes(b"<clinical_study><brief_title>No id</brief_title></clinical_study>")
    shutil.copy(XML_DIR / "NCT00000155.xml", tmp_path / "b_good.xml")
    outcomes = list(iter_parsed([tmp_path]))
    assert outcomes[0].record is None and "no <id_info><nct_id>" in outcomes[0].failure.reason
    assert outcomes[0].failure.path.endswith("a_no_id.xml")
    assert outcomes[1].record.trial_id == "NCT00000155" and outcomes[1].failure is None


@pytest.mark.parametrize("head,expected", [
    (b"<clinical_study>\n  <!-- This xml conforms", True),
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n<clinical_study>', True),
    (b'<!DOCTYPE clinical_study SYSTEM "x.dtd"><clinical_study/>', True),
    ("<?xml version='1.0' encoding='UTF-16'?><clinical_study>".encode("utf-16"), True),
    (b"<?xml version='1.0' encoding='UTF-8' ?><Trials_downloaded_from_ICTRP>\r\n", False),
    (b'{"studies": [{"protocolSection": {}}]}', False),
    (b"<clinical_studies><clinical_study>", False),
])
def test_ctgov_xml_sniffs_the_root_element(head, expected):
    assert ctgov_xml.sniff(head, "whatever.txt") is expected
    assert not (expected and ictrp_xml.sniff(head, "whatever.txt"))


# --- containers ---------------------------------------------------------------


def test_ctgov_xml_reads_the_shipped_folder():
    found = list(iter_records(XML_DIR))
    assert len(found) == 150
    assert all(isinstance(r, RawRecord) and r.format == "ctgov_xml" for r in found)
    assert {r.payload.findtext("id_info/nct_id") for r in found} == {p.stem for p in XML_DIR.glob("*.xml")}


def test_ctgov_xml_reads_a_zip_of_studies(tmp_path):
    names = sorted(p.name for p in XML_DIR.glob("*.xml"))[:12]
    archive = tmp_path / "studies.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for name in names:
            out.write(XML_DIR / name, f"NCT0000xxxx/{name}")
        out.writestr("NCT0000xxxx/broken.xml", b"<clinical_study><id_info>")
    found = list(iter_records(archive))
    records = [parse_record(r) for r in found if isinstance(r, RawRecord)]
    failures = [f for f in found if isinstance(f, Failure)]
    assert [r.trial_id + ".xml" for r in records] == names
    assert records[0].source.entry == f"NCT0000xxxx/{names[0]}"
    assert len(failures) == 1 and failures[0].record == "NCT0000xxxx/broken.xml"


@pytest.mark.data
def test_ctgov_xml_parses_every_study_of_the_tarball():
    records, failures, results = 0, [], 0
    ids, with_text, with_criteria = set(), 0, 0
    for raw in iter_records(data_path(*TARBALL)):
        if isinstance(raw, Failure):
            failures.append(raw.describe())
            continue
        record = parse_record(raw)
        records += 1
        ids.add(record.trial_id)
        results += "clinical_results" in record.extra
        with_text += bool(record.eligibility and record.eligibility.text)
        with_criteria += bool(record.eligibility and record.eligibility.criteria)
    assert failures == []
    assert records == len(ids) == 6786
    assert results == 440
    assert with_text == 6771  # the tarball's README: 6771 studies have <criteria>
    assert with_criteria >= 6770  # NCT00007579 holds one line under a heading


@pytest.mark.parametrize("xml", [
    b"<contact><last_name> Smith </last_name><phone>1</phone><phone>2</phone></contact>",
    b"<contact><last_name/><email>  </email><degree>\n MD\n</degree></contact>",
    b"<contact><role>Chair<x/>tail</role><last_name><b>inner</b></last_name></contact>",
    b"<contact/>",
])
def test_ctgov_xml_child_texts_read_as_each_child_alone(xml):
    from toolkit.formats.ctgov_xml.map import _child, _texts

    def first_child_text(elem, tag):  # the first such child's own text, stripped; None when blank
        found = elem.find(tag)
        text = found.text if found is not None else None
        return text.strip() or None if text else None

    elem = ET.fromstring(xml)
    texts = _texts(elem)
    for tag in ("last_name", "phone", "email", "degree", "role", "missing"):
        assert texts.get(tag) == _child(elem, tag) == first_child_text(elem, tag)
