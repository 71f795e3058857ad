"""The page reader on pages written the real site's way (bare lines, as the seed).

`render_page(record, faithful=True)` writes what the site shows and nothing
more; these tests read such pages of real ClinicalTrials.gov studies back and
hold the per-field recovery at the level reached, check odd real studies one
by one, and read hand-made variants of the seed (golden pages in
`fixtures/page/site`).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pytest

from conftest import V2_ARRAYS, data_path
from toolkit.formats import parse_record
from toolkit.formats.ctgov_page import read as page_reader
from toolkit.formats.raw import RawRecord
from toolkit.records import Identifier, Investigator, Location, TrialRecord
from toolkit.formats.ctgov_page.render import render_page
from toolkit.formats.ctgov_page.render_faithful import page_fields

SITE_PAGES = Path(__file__).parent / "fixtures" / "page" / "site"
ARRAYS = list(V2_ARRAYS)
ABSENT = (None, (), "", (None,) * 4)


def read_text(text: str, path: str = "page.txt") -> TrialRecord:
    (raw,) = list(page_reader.read(io.BytesIO(text.encode("utf-8")), path=path))
    assert isinstance(raw, RawRecord), raw
    return parse_record(raw)


def studies():
    for name in ARRAYS:
        for study in json.loads(data_path("ctgov-v2", name).read_text("utf-8")):
            yield parse_record(RawRecord("ctgov_json", study, path=name))


@pytest.fixture(scope="module")
def recovery() -> dict:
    """Field -> (studies having it, share read back exactly) over the shared arrays."""
    have, same = Counter(), Counter()
    for record in studies():
        want = page_fields(record)
        got = page_fields(read_text(render_page(record, faithful=True)))
        for field, value in want.items():
            if value not in ABSENT:
                have[field] += 1
                same[field] += got[field] == value
    return {field: (have[field], same[field] / have[field]) for field in have}


# Floors at the level reached; the misses left are ambiguous on a bare page
# (a city holding a comma, a person named like a degree, other names of one of
# several interventions, a description line shaped like a name).
RECOVERY_FLOORS = [
    ("title", 1.0), ("trial_id", 1.0), ("last_updated", 1.0), ("status", 1.0), ("phases", 1.0),
    ("enrollment", 1.0), ("study_type", 1.0), ("start_date", 1.0), ("primary_completion_date", 1.0),
    ("completion_date", 1.0), ("brief_summary", 1.0), ("detailed_description", 0.99),
    ("conditions", 1.0), ("keywords", 1.0), ("design", 1.0), ("arms", 0.96), ("interventions", 0.98),
    ("other_names", 0.31), ("sponsors", 1.0), ("investigators", 0.97), ("locations", 0.98),
    ("links", 1.0), ("secondary_ids", 1.0), ("eligibility.text", 0.99), ("eligibility.min_age", 0.99),
    ("eligibility.max_age", 0.96), ("eligibility.sex", 1.0), ("eligibility.healthy_volunteers", 1.0),
]


@pytest.mark.data
@pytest.mark.parametrize("field,floor", RECOVERY_FLOORS, ids=[f for f, _ in RECOVERY_FLOORS])
def test_page_site_field_recovery(recovery, field, floor):
    count, rate = recovery[field]
    assert count >= 50 or field == "other_names"
    assert rate >= floor, f"{field}: {rate:.1%} of {count} studies read back exactly"


ODD_STUDIES = [
    ("NCT05146765", "locations", "a country holding a comma (Korea, Republic of)"),
    ("NCT06868446", "investigators", "a central contact without affiliation before a named PI"),
    ("NCT06791122", "investigators", "contacts named after the sponsor"),
    ("NCT05838625", "secondary_ids", "the sponsor's own id, the site's org_study_id form"),
    ("NCT05801965", "arms", "an arm description of two paragraphs"),
    ("NCT03103880", "arms", "a numbered list after a line ending in a colon"),
    ("NCT02724163", "interventions", "arm descriptions made of bullet lists"),
    ("NCT05302050", "interventions", "an intervention description of several paragraphs"),
    ("NCT06230445", "investigators", "a responsible party with a title, then contacts"),
]


@pytest.fixture(scope="module")
def by_id() -> dict:
    return {record.trial_id: record for record in studies()}


@pytest.mark.data
@pytest.mark.parametrize("nct_id,field,odd", ODD_STUDIES, ids=[f"{n}:{f}" for n, f, _ in ODD_STUDIES])
def test_page_site_odd_study(by_id, nct_id, field, odd):
    record = by_id[nct_id]
    back = read_text(render_page(record, faithful=True))
    assert page_fields(back)[field] == page_fields(record)[field], odd


def test_page_site_seed_rendered_faithfully(seed_path):
    """The seed read and written the site's way is the seed, plus the country its sites name."""
    source = seed_path.read_text("utf-8")
    lines = source.split("\n")
    countries = lines.index("Countries") + 2
    expected = lines[:countries] + ["China"] + lines[countries:]
    assert render_page(read_text(source), faithful=True).split("\n") == expected


def test_page_site_page_has_no_lossless_labels(seed_path):
    text = render_page(read_text(seed_path.read_text("utf-8")), faithful=True)
    for label in ("Drug:", "EXPERIMENTAL:", "Arm Group:", "Intervention Type:", "Version:", "Registry:",
                  "Minimum Age:", "Start Date:"):
        assert label not in text


def _field(record: TrialRecord, path: str):
    value = record
    for part in path.split("."):
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    return value


GOLDEN = [
    ("collaborators_and_contacts.txt", "primary_completion_date", "2025-12-31"),
    ("collaborators_and_contacts.txt", "completion_date", "2026-06-30"),
    ("collaborators_and_contacts.txt", "brief_summary",
     "The purpose of this study is to learn whether a smartphone program for insomnia improves sleep in "
     "adults with depression.\n\nParticipants will use the program every day for 6 weeks."),
    ("collaborators_and_contacts.txt", "conditions", ("Insomnia", "Major Depressive Disorder")),
    ("collaborators_and_contacts.txt", "keywords",
     ("digital therapeutic", "cognitive behavioral therapy for insomnia")),
    ("collaborators_and_contacts.txt", "design.masking", "DOUBLE"),
    ("collaborators_and_contacts.txt", "arms.0.description",
     "Participants use the sleep program daily for 6 weeks.\n\nThey also keep a sleep diary."),
    ("collaborators_and_contacts.txt", "arms.1.interventions", ("Sham Program",)),
    ("collaborators_and_contacts.txt", "interventions.1.description", None),
    ("collaborators_and_contacts.txt", "interventions.1.arm_labels", ("Sham App",)),
    ("collaborators_and_contacts.txt", "sponsors.2.role", "collaborator"),
    ("collaborators_and_contacts.txt", "sponsors.1.class_", "NIH"),
    ("collaborators_and_contacts.txt", "investigators",
     (Investigator(name="Study Coordinator", role="CENTRAL_CONTACT"),
      Investigator(name="Jane Q Smith, MD", role="PRINCIPAL_INVESTIGATOR", affiliation="Stanford University"),
      Investigator(role="STUDY_DIRECTOR", degree="MD", affiliation="Big Health Inc."))),
    ("collaborators_and_contacts.txt", "locations.1",
     Location(facility="Severance Hospital", city="Seoul", country="Korea, Republic of")),
    ("collaborators_and_contacts.txt", "secondary_ids",
     (Identifier(id="BH-INS-003", type="ORG_STUDY_ID"), Identifier(id="R44MH123456", type="NIH"))),
    ("collaborators_and_contacts.txt", "eligibility.max_age.text", "75 Years"),
    ("bare_interventions_and_ages.txt", "phases", ("PHASE1", "PHASE2")),
    ("bare_interventions_and_ages.txt", "start_date", "2019-03-01"),
    ("bare_interventions_and_ages.txt", "primary_completion_date", None),
    ("bare_interventions_and_ages.txt", "completion_date", "2022-08-15"),
    ("bare_interventions_and_ages.txt", "arms.0.interventions", ("Blinatumomab", "Dexamethasone premedication")),
    ("bare_interventions_and_ages.txt", "arms.1.label", "Expansion"),
    ("bare_interventions_and_ages.txt", "arms.1.description", "Participants receive the recommended dose."),
    ("bare_interventions_and_ages.txt", "interventions.0.arm_labels", ("Dose Escalation", "Expansion")),
    ("bare_interventions_and_ages.txt", "interventions.0.other_names", ()),
    ("bare_interventions_and_ages.txt", "eligibility.min_age.text", "1 Month"),
    ("bare_interventions_and_ages.txt", "eligibility.max_age", None),
    ("bare_interventions_and_ages.txt", "eligibility.sex", "ALL"),
    ("bare_interventions_and_ages.txt", "investigators.0",
     Investigator(name="Wei Zhang", degree="PhD", role="PRINCIPAL_INVESTIGATOR",
                  affiliation="Children's Hospital of Soochow University")),
    ("bare_interventions_and_ages.txt", "investigators.1",
     Investigator(degree="MD", role="STUDY_DIRECTOR", affiliation="Amgen")),
    ("bare_interventions_and_ages.txt", "locations.1", Location(facility="Research Site", city="Tokyo",
                                                                country="Japan")),
    ("legacy_drug_list.txt", "interventions.0.name", "thalidomide"),
    ("legacy_drug_list.txt", "interventions.0.description", None),
    ("legacy_drug_list.txt", "interventions.1.name", "dacarbazine"),
    ("legacy_drug_list.txt", "arms", ()),
    ("bare_interventions_and_ages.txt", "secondary_ids.1", Identifier(id="2017-000001-11", type="EUDRACT_NUMBER")),
]


def test_page_site_unassigned_other_names_stay_in_the_section():
    """Bare other names of one of several interventions are not guessed: the
    section text keeps them."""
    path = SITE_PAGES / "bare_interventions_and_ages.txt"
    record = read_text(path.read_text("utf-8"), str(path))
    section = next(s for s in record.sections if s.heading == "Other Intervention Names")
    assert section.text.split("\n") == ["AMG 103", "Blincyto"]


@pytest.mark.parametrize("name,path,expected", GOLDEN, ids=[f"{n}:{p}" for n, p, _ in GOLDEN])
def test_page_site_golden_field(name, path, expected):
    path_ = SITE_PAGES / name
    assert _field(read_text(path_.read_text("utf-8"), str(path_)), path) == expected
