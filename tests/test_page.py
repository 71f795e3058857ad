"""The plain-text trial page: reader, mapper and renderer on the seed page and its variants."""

from __future__ import annotations

import dataclasses
import io
import random
from pathlib import Path

import pytest

from conftest import CORPUS, data_path
from toolkit.errors import Failure, InputError
from toolkit.formats.ctgov_page.map import registry_of, split_page, to_record
from toolkit.formats.ctgov_page.layout import RULES
from toolkit.formats.ctgov_page import read as page_reader
from toolkit.formats.raw import RawRecord
from toolkit.records import Arm, Design, Identifier, Intervention, Link, Location, TrialRecord
from toolkit.formats.ctgov_page.render import render_page

FIXTURES = Path(__file__).parent / "fixtures" / "page"


def read_page(path: Path) -> TrialRecord:
    """Read one page file with the page reader and map it."""
    with path.open("rb") as stream:
        (raw,) = list(page_reader.read(stream, path=str(path)))
    assert isinstance(raw, RawRecord), raw
    return to_record(raw)


@pytest.fixture(scope="module")
def seed(request) -> TrialRecord:
    return read_page(Path(request.config.rootpath) / "corpus" / "seed" / "NCT06054113.txt")


SEED_FIELDS = [
    ("registry", "ctgov"),
    ("trial_id", "NCT06054113"),
    ("version", "2025-11-13"),
    ("last_updated", "2025-11-13"),
    ("status", "ACTIVE_NOT_RECRUITING"),
    ("phases", ("PHASE2",)),
    ("enrollment.count", 18),
    ("study_type", "INTERVENTIONAL"),
    ("start_date", "2024-07-23"),
    ("primary_completion_date", None),
    ("completion_date", "2027-10-14"),
    ("design", Design(allocation="NA", intervention_model="SINGLE_GROUP", primary_purpose="TREATMENT",
                      masking="NONE")),
    ("conditions", ()),
    ("keywords", ()),
    ("brief_summary", None),
    ("detailed_description", None),
    ("interventions", (Intervention(name="Blinatumomab", description="Administered via CIVI",
                                    arm_labels=("Blinatumomab",)),)),
    ("eligibility.min_age.text", "1 Month"),
    ("eligibility.min_age.unit", "months"),
    ("eligibility.max_age.text", "204 Months"),
    ("eligibility.max_age.years", 17.0),
    ("eligibility.sex", "ALL"),
    ("eligibility.healthy_volunteers", False),
    ("sponsors.0.name", "Amgen"),
    ("sponsors.0.class_", "INDUSTRY"),
    ("sponsors.0.role", "lead"),
    ("investigators.0.name", None),
    ("investigators.0.degree", "MD"),
    ("investigators.0.role", "STUDY_DIRECTOR"),
    ("investigators.0.affiliation", "Amgen"),
    ("locations.0", Location(facility="The Second Hospital of Anhui Medical University", city="Hefei",
                             state="Anhui", country="China")),
    ("locations.6.facility", "Institute of Hematology & Blood Diseases Hospital, Chinese Academy of Medical Sciences"),
    ("locations.6.city", "Tianjin"),
    ("links", (Link(label="AmgenTrials clinical trials website"),)),
    ("secondary_ids", (Identifier(id="20190359", type="ORG_STUDY_ID", source=None),)),
]


def field(record, path: str):
    """Follow a dotted path of attributes and tuple indexes."""
    value = record
    for part in path.split("."):
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    return value


@pytest.mark.parametrize("path,expected", SEED_FIELDS, ids=[p for p, _ in SEED_FIELDS])
def test_page_seed_field(seed, path, expected):
    assert field(seed, path) == expected


def test_page_seed_arm(seed):
    (arm,) = seed.arms
    assert arm.label == "Blinatumomab"
    assert arm.description.startswith("Participants will receive up to 5 cycles of blinatumomab")
    assert arm.description.endswith("and a 14-day treatment free interval.")
    assert arm.interventions == ("Blinatumomab",)


def test_page_seed_sites_in_china(seed):
    assert len(seed.locations) == 7
    assert {site.country for site in seed.locations} == {"China"}
    assert [site.city for site in seed.locations] == [
        "Hefei", "Chongqing", "Guangzhou", "Wuhan", "Suzhou", "Shanghai", "Tianjin"]


def test_page_seed_eligibility_text_keeps_escapes(seed):
    text = seed.eligibility.text
    lines = text.split("\n")
    assert lines[0] == "Inclusion Criteria"
    assert lines[1] == "* Pediatric participants aged \\> 1 month and \\< 18 years at the time of informed consent"
    assert lines[-1].startswith("* Male participants unwilling to abstain from donating sperm")
    assert "\\- Currently receiving treatment" in text
    assert "1 Month" not in text and "204 Months" not in text


def test_page_seed_sections_in_order_without_captions(seed):
    headings = [s.heading for s in seed.sections]
    assert headings == [
        "Study Results", "Basic Information", "Brief Summary", "Detailed Description", "Conditions",
        "Keywords", "Study Design", "Study Groups", "Interventions", "Other Intervention Names",
        "Eligibility Criteria", "Sponsors", "Responsible Party", "Principal Investigators", "Locations",
        "Countries", "Related Links", "Other Identifiers"]
    texts = {s.heading: s.text for s in seed.sections}
    assert texts["Brief Summary"] == texts["Conditions"] == texts["Countries"] == ""
    assert texts["Basic Information"].split("\n")[0] == "ACTIVE_NOT_RECRUITING"
    assert not any("Review" in s.text.split("\n")[0] for s in seed.sections if s.text)


def test_page_seed_criteria_tree(seed):
    from toolkit.criteria import attach_criteria

    record = attach_criteria(seed)
    polarities = {c.polarity for c in record.eligibility.criteria}
    assert polarities == {"inclusion", "exclusion"}
    texts = [c.text for c in record.all_criteria()]
    assert any(t.startswith("Pediatric participants aged > 1 month") for t in texts)


def test_page_render_seed_gives_the_seed_back(seed, seed_path):
    assert render_page(seed) == seed_path.read_text("utf-8")


def test_page_render_derives_countries_for_other_sources(seed, seed_path):
    """A record not read from a page gets its Countries from its sites."""
    source = seed_path.read_text("utf-8").split("\n")
    countries = source.index("Countries") + 2
    expected = source[:countries] + ["China"] + source[countries:]
    assert render_page(dataclasses.replace(seed, source=None)).split("\n") == expected


@pytest.mark.parametrize("name", ["missing_headings.txt", "crlf_unknown_heading.txt", "other_registry.txt"])
def test_page_render_variant_reads_back_the_same(name):
    """Fields read back the same; every section of the page is still there."""
    record = read_page(FIXTURES / name)
    again = to_record(RawRecord("page", render_page(record), path=record.source.path))
    assert dataclasses.replace(again, sections=(), source=None) == dataclasses.replace(
        record, sections=(), source=None)
    assert {s.heading for s in record.sections} <= {s.heading for s in again.sections}
    assert [s for s in again.sections if s.heading == "Study Documents"] == [
        s for s in record.sections if s.heading == "Study Documents"]


# --- golden variants of the seed -----------------------------------------------------

VARIANT_FIELDS = [
    ("missing_headings.txt", "conditions", ("Acute Lymphoblastic Leukemia",)),
    ("missing_headings.txt", "status", "ACTIVE_NOT_RECRUITING"),
    ("missing_headings.txt", "sponsors.0.class_", "INDUSTRY"),
    ("missing_headings.txt", "keywords", ()),
    ("crlf_unknown_heading.txt", "outcomes.0.measure",
     "Number of participants with treatment-emergent adverse events"),
    ("crlf_unknown_heading.txt", "outcomes.0.time_frame", "Up to 2 years"),
    ("crlf_unknown_heading.txt", "outcomes.0.kind", "primary"),
    ("crlf_unknown_heading.txt", "eligibility.max_age.text", "204 Months"),
    ("other_registry.txt", "registry", "chictr"),
    ("other_registry.txt", "trial_id", "ChiCTR2000029434"),
    ("other_registry.txt", "title", "A Randomized Trial of Lianhua Qingwen Capsules in Adults With Mild COVID-19"),
    ("other_registry.txt", "phases", ("PHASE2", "PHASE3")),
    ("other_registry.txt", "start_date", "2020-02-01"),
    ("other_registry.txt", "primary_completion_date", "2020-06-30"),
    ("other_registry.txt", "completion_date", "2020-12-31"),
    ("other_registry.txt", "eligibility.min_age.text", "18 Years"),
    ("other_registry.txt", "eligibility.max_age", None),
    ("other_registry.txt", "eligibility.sex", "ALL"),
    ("other_registry.txt", "eligibility.text",
     "Inclusion criteria:\n1. Laboratory-confirmed SARS-CoV-2 infection;\n2. Aged 18 years or older.\n"
     "Exclusion criteria:\n1. Pregnancy."),
    ("other_registry.txt", "sponsors.0.class_", None),
    ("other_registry.txt", "investigators.0.name", "Zhang Li"),
    ("other_registry.txt", "locations.0", Location(facility="Wuhan Jinyintan Hospital", city="Wuhan",
                                                   country="China", status="RECRUITING")),
]


@pytest.mark.parametrize("name,path,expected", VARIANT_FIELDS, ids=[f"{n}:{p}" for n, p, _ in VARIANT_FIELDS])
def test_page_variant_field(name, path, expected):
    assert field(read_page(FIXTURES / name), path) == expected


SAME_AS_SEED = ["trial_id", "title", "status", "phases", "enrollment", "study_type", "start_date",
                "completion_date", "design", "arms", "interventions", "sponsors", "investigators",
                "locations", "links", "secondary_ids"]


@pytest.mark.parametrize("name", ["missing_headings.txt", "crlf_unknown_heading.txt"])
def test_page_variant_keeps_seed_fields(seed, name):
    record = read_page(FIXTURES / name)
    for name_ in SAME_AS_SEED:
        assert getattr(record, name_) == getattr(seed, name_), name_
    seed_lines = [line for line in seed.eligibility.text.split("\n") if line]
    assert [line for line in record.eligibility.text.split("\n") if line] == seed_lines


@pytest.mark.parametrize("name,heading,text", [
    ("missing_headings.txt", "Basic Information", "A quick look at where the trial stands."),
    ("missing_headings.txt", "Sponsors", "Amgen\nINDUSTRY"),
    ("crlf_unknown_heading.txt", "Study Documents", "Study Protocol"),
])
def test_page_variant_section_keeps_lines(name, heading, text):
    """Unknown headings and unrecognised captions stay in the section text."""
    sections = {s.heading: s.text for s in read_page(FIXTURES / name).sections}
    assert text in sections[heading]


def test_page_variant_missing_headings_are_absent():
    headings = [s.heading for s in read_page(FIXTURES / "missing_headings.txt").sections]
    assert "Keywords" not in headings and "Countries" not in headings
    assert headings[0] == "Basic Information"


# --- reader ---------------------------------------------------------------------------


@pytest.mark.parametrize("parts,expected", [
    (CORPUS / "seed" / "NCT06054113.txt", True),
    (("multiregistry", "euctr_text_export_sample.txt"), False),
    (("ctgov-v2", "dgg32_clinical-trials-public__ctg-studies2.json"), False),
    (("chia-train", "NCT00050349_exc.txt"), False),
    (("README.md",), False),
])
def test_page_sniff_real_files(parts, expected):
    path = parts if isinstance(parts, Path) else data_path(*parts)
    assert page_reader.sniff(path.read_bytes()[:16384], path.name) is expected


@pytest.mark.parametrize("name", ["missing_headings.txt", "crlf_unknown_heading.txt", "other_registry.txt"])
def test_page_sniff_variants(name):
    assert page_reader.sniff((FIXTURES / name).read_bytes(), name)


@pytest.mark.parametrize("data,reason", [
    (b"", "empty page"),
    (b"  \n\n", "empty page"),
    (b"Title\nLast Updated: 2024-01-01\nBasic Information\nRECRUITING\n", "no trial id line"),
    (b"Title\nNCT ID: NCT1\n\xff\xfe\xfa broken", "not UTF-8"),
])
def test_page_read_bad_file_yields_failure(data, reason):
    (failure,) = list(page_reader.read(io.BytesIO(data), path="dump/bad.txt", entry="bad.txt"))
    assert isinstance(failure, Failure)
    assert reason in failure.reason
    assert failure.describe().startswith("dump/bad.txt [bad.txt]: ")


def test_page_read_keeps_bom_and_crlf_out_of_values():
    data = "\ufeffA title\r\nNCT ID: NCT00000001\r\nLast Updated: 2024-02-03\r\n".encode("utf-8")
    (raw,) = list(page_reader.read(io.BytesIO(data), path="p.txt"))
    record = to_record(raw)
    assert (record.title, record.trial_id, record.last_updated) == ("A title", "NCT00000001", "2024-02-03")


def test_page_mapper_without_id_raises_input_error():
    with pytest.raises(InputError, match="no trial id line"):
        to_record(RawRecord("page", "Title\nBasic Information\nRECRUITING", path="x.txt"))


@pytest.mark.parametrize("trial_id,registry", [
    ("NCT06054113", "ctgov"), ("ChiCTR2000029434", "chictr"), ("DRKS00021234", "drks"),
    ("ISRCTN12345678", "isrctn"), ("2020-001234-56", "euctr"), ("EUCTR2020-001234-56-DE", "euctr"),
    ("IRCT20200217046528N1", "irct"), ("ACTRN12620000445976", "anzctr"), ("XYZ-1", "xyz"),
    ("2020-1", "unknown"),
])
def test_page_registry_of_id_prefix(trial_id, registry):
    assert registry_of(trial_id) == registry


# --- layout rules the renderer relies on -------------------------------------------------


def _round_trip(record: TrialRecord) -> TrialRecord:
    return to_record(RawRecord("page", render_page(record), path="rendered.txt"))


@pytest.mark.parametrize("changes,path,expected", [
    ({"brief_summary": "Background\nConditions\nSponsors:\nThe study tests X."}, "brief_summary",
     "Background\nConditions\nSponsors:\nThe study tests X."),
    ({"brief_summary": "Aims\nReview the evidence on dosing in children under two years of age."},
     "brief_summary", "Aims\nReview the evidence on dosing in children under two years of age."),
    ({"conditions": ("Keywords", "\\Keywords")}, "conditions", ("Keywords", "\\Keywords")),
    ({"start_date": None}, "completion_date", "2027-10-14"),
    ({"primary_completion_date": "2027-01-31"}, "primary_completion_date", "2027-01-31"),
    ({"arms": (Arm(label="Blinatumomab", type="EXPERIMENTAL", description="Administered via CIVI",
                   interventions=("Blinatumomab",)),)}, "arms.0.interventions", ("Blinatumomab",)),
    ({"arms": (Arm(label="Dose 1", description="Line one\n\n  line three"),)}, "arms.0.description",
     "Line one\n\n  line three"),
    ({"design": Design(observational_model="COHORT", time_perspective="OTHER")}, "design",
     Design(observational_model="COHORT", time_perspective="OTHER")),
    ({"locations": (Location(facility="Site", city="Washington, D.C.", country="United States"),)},
     "locations.0", Location(facility="Site", city="Washington, D.C.", country="United States")),
    ({"locations": (Location(city="Boston", state="Massachusetts", zip="02115", country="United States"),)},
     "locations.0", Location(city="Boston", state="Massachusetts", zip="02115", country="United States")),
    ({"investigators": ()}, "investigators", ()),
])
def test_page_render_round_trips_awkward_values(seed, changes, path, expected):
    assert field(_round_trip(dataclasses.replace(seed, **changes)), path) == expected


@pytest.mark.parametrize("name,degree", [
    (None, "MD"), ("MD", None), ("Jane Doe", None), (None, "Jane Doe"), ("Jane Doe", "MD, PhD"), (None, None),
])
def test_page_render_investigator_name_and_degree(seed, name, degree):
    person = dataclasses.replace(seed.investigators[0], name=name, degree=degree)
    back = _round_trip(dataclasses.replace(seed, investigators=(person,)))
    assert back.investigators == (person,)


def test_page_render_eligibility_tail_with_missing_values(seed):
    eligibility = dataclasses.replace(seed.eligibility, text="* Adults\nNo", max_age=None,
                                      healthy_volunteers=None)
    back = _round_trip(dataclasses.replace(seed, eligibility=eligibility)).eligibility
    assert (back.text, back.min_age.text, back.max_age, back.sex, back.healthy_volunteers) == (
        "* Adults\nNo", "1 Month", None, "ALL", None)


def test_page_split_page_header_and_preamble():
    layout = split_page("Title: With a Colon\nNCT ID: NCT1\nPosted by the registry\nConditions\nAsthma")
    assert layout.title == "Title: With a Colon"
    assert layout.header == {"id": "NCT1"}
    assert layout.preamble == ("Posted by the registry",)
    assert [s.heading for s in layout.sections] == ["Conditions"]


@pytest.mark.parametrize("head,title,trial_id,preamble", [
    ("Title\nNCT ID: NCT06054113", "Title", "NCT06054113", ()),
    ("NCT ID: NCT06054113\nLast Updated: 2025-11-13", None, "NCT06054113", ()),
    ("Phase 2 Study ID: ABC\nNCT ID: NCT06054113", "Phase 2 Study ID: ABC", "NCT06054113", ()),
    ("Title\nNCT ID: NCT06054113 (ClinicalTrials.gov)", "Title", "NCT06054113",
     ("NCT ID: NCT06054113 (ClinicalTrials.gov)",)),
    ("Title\nTrial ID: DRKS00021234", "Title", "DRKS00021234", ()),
    ("Title\nEudraCT Number: 2020-001234-56", "Title", "2020-001234-56", ()),
])
def test_page_split_page_id_line(head, title, trial_id, preamble):
    layout = split_page(head + "\nConditions\nAsthma")
    assert (layout.title, layout.header["id"], layout.preamble) == (title, trial_id, preamble)


@pytest.mark.parametrize("heading_line,caption", [
    ("Conditions", "See the medical conditions and disease areas that this research is targeting or investigating."),
    ("CONDITIONS", "See the medical conditions and disease areas that this research is targeting or investigating."),
    ("Conditions:  ", "See the medical conditions and disease areas this research is targeting or investigating"),
    ("Conditions", ""),
])
def test_page_heading_and_caption_tolerance(heading_line, caption):
    layout = split_page(f"Title\nNCT ID: NCT1\n{heading_line}\n{caption}\nAsthma\nCOPD")
    (section,) = layout.sections
    assert (section.heading, section.lines) == ("Conditions", ("Asthma", "COPD"))


# --- damaged pages: never a crash, never a lost line ------------------------------------

CAPTIONS = {entry["caption"] for entry in RULES["headings"]}
JUNK_LINES = ["Role:", "Identifier Type:", "Arm Group: ", "-", ":", "Drug: ", "Primary Outcome:",
              "Enrollment: many", "Who Masked:", "Gender Based: maybe", "0 participants", "\\", "ALL"]


def _damage(lines, rnd: random.Random):
    """Delete, duplicate, swap, blank lines or insert junk lines (header kept)."""
    lines = list(lines)
    for _ in range(rnd.randint(1, 8)):
        op, i, j = rnd.choice("ddsbj"), rnd.randrange(3, len(lines)), rnd.randrange(3, len(lines))
        if op == "d":
            lines.insert(j, lines[i]) if rnd.random() < 0.5 else lines.pop(i)
        elif op == "s":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "b":
            lines[i] = ""
        else:
            lines.insert(i, rnd.choice(JUNK_LINES))
    return lines


@pytest.mark.parametrize("seed_number", range(40))
def test_page_damaged_seed_keeps_every_line(seed_path, seed_number):
    lines = _damage(seed_path.read_text("utf-8").split("\n"), random.Random(seed_number))
    record = to_record(RawRecord("page", "\n".join(lines), path="damaged.txt"))
    assert record.trial_id == "NCT06054113"
    kept = "\n".join(s.text for s in record.sections).split("\n")
    headings = {s.heading for s in record.sections}
    header = {record.title, "NCT ID: NCT06054113", "Last Updated: 2025-11-13"}
    lost = [line for line in lines if line.strip() and line not in kept and line not in headings
            and line not in CAPTIONS and line not in header]
    assert lost == []


@pytest.mark.parametrize("groups,expected", [
    ("Arm A\nDrug A\nTablets\nArm B\nGiven daily\nDrug A\nTablets",
     (Arm(label="Arm A", interventions=("Drug A",)),
      Arm(label="Arm B", description="Given daily", interventions=("Drug A",)))),
    ("EXPERIMENTAL: Arm A\n-\nDrug: Drug A\nTablets\nOTHER: Drug A\nTablets",
     (Arm(label="Arm A", type="EXPERIMENTAL", interventions=("Drug: Drug A",)),
      Arm(label="Drug A", type="OTHER", description="Tablets"))),
    ("Arm A\n-", (Arm(label="Arm A"),)),
    ("Arm A", (Arm(label="Arm A"),)),
])
def test_page_study_groups_shapes(groups, expected):
    page = (f"T\nNCT ID: NCT1\nStudy Groups\n{groups}\nInterventions\nDrug: Drug A\nTablets")
    assert to_record(RawRecord("page", page)).arms == expected


@pytest.mark.parametrize("payload,expected", [
    ("Title\nNCT ID: NCT1".encode("utf-8-sig"), "NCT1"),
    (b"Title\nNCT ID: NCT1\n\xff", InputError),
    ("Title\nLast Updated: 2024-01-01", InputError),
])
def test_page_mapper_payload(payload, expected):
    raw = RawRecord("page", payload, path="p.txt", entry="p.txt")
    if expected is InputError:
        with pytest.raises(InputError, match=r"^p\.txt \[p\.txt\]: "):
            to_record(raw)
    else:
        assert to_record(raw).trial_id == expected


@pytest.mark.parametrize("name", ["../../../corpus/seed/NCT06054113.txt", "missing_headings.txt",
                                  "crlf_unknown_heading.txt", "other_registry.txt"])
def test_page_records_follow_the_json_schema(name):
    import json

    import jsonschema

    from toolkit.formats import parse_record

    path = (FIXTURES / name).resolve()
    (raw,) = list(page_reader.read(io.BytesIO(path.read_bytes()), path=str(path)))
    schema = json.loads((Path(__file__).parents[1] / "toolkit" / "schema" / "record.schema.json").read_text())
    jsonschema.validate(parse_record(raw).to_dict(), schema)


@pytest.mark.parametrize("extra,results_text", [
    ({"has_results": True}, "Results are posted for this trial in its registry."),
    ({"has_results": False}, ""),
    ({}, ""),
])
def test_page_render_notes_posted_results(seed, extra, results_text):
    record = dataclasses.replace(seed, extra=extra, source=None)
    sections = {s.heading: s.text for s in _round_trip(record).sections}
    assert sections["Study Results"] == results_text


@pytest.mark.parametrize("line, expected", [
    ("Review the sponsor-provided synopsis that highlights what the study is about and why it is being "
     "conducted.", True),
    ("Review the sponsor provided synopsis that highlights what the study is about, and why it is conducted", True),
    ("Review the sponsor-provided synopsis " * 50, False),  # far longer than the caption: never compared
])
def test_page_caption_check_skips_lines_that_cannot_match(line, expected):
    from toolkit.formats.ctgov_page.layout import HEADINGS, _heading_key, _is_caption

    assert _is_caption(HEADINGS[_heading_key("Brief Summary")], line) is expected


def test_page_huge_field_is_stored_whole(monkeypatch):
    """A fuzzed copy of the seed page (xz) whose investigator line grew to 14 MB: with the per-record
    limit raised to admit it, one record, the field whole (the default 8 MiB refuses it)."""
    from toolkit.formats import iter_records
    from toolkit.io.limits import ENV_VAR

    monkeypatch.setenv(ENV_VAR, "16")
    raws = list(iter_records([str(FIXTURES / "huge_field_page.txt.xz")]))
    assert len(raws) == 1
    record = to_record(raws[0])
    assert record.trial_id == "NCT06054113"
    assert len(record.investigators[0].name) > 14_000_000
