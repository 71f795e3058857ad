"""One vocabulary across registries: real spellings to ClinicalTrials.gov enums and ISO 3166."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import data_path
from toolkit.normalize.countries import country, country_code
from toolkit.normalize.vocabulary import (
    NO_VALUE, is_mapped, map_phases, map_value, normalize_record, unmappable_reason,
)

FIXTURES = Path(__file__).parent / "fixtures" / "normalize"


@pytest.mark.parametrize("text,phases", [
    ("Phase 2/Phase 3", ("PHASE2", "PHASE3")),            # ClinicalTrials.gov via ICTRP
    ("Phase 2/ Phase 3", ("PHASE2", "PHASE3")),           # CTRI
    ("II-III", ("PHASE2", "PHASE3")),                     # DRKS
    ("Phase-1", ("PHASE1",)),                             # PACTR
    ("2020-03-02", ("PHASE2", "PHASE3")),                 # IRCT "2-3" read as 2 March 2020
    ("2020-02-01", ("PHASE1", "PHASE2")),                 # IRCT and ChiCTR "1-2" read as 1 February
    ("1-2", ("PHASE1", "PHASE2")),                        # the same range as the XML export keeps it
    ("Retrospective study", ("NA",)),                     # ChiCTR: no drug phase
    ("New Treatment Measure Clinical Study", ("NA",)),    # ChiCTR
    ("0 (exploratory trials)", ("EARLY_PHASE1",)),        # IRCT
    ("Post Marketing Surveillance", ("PHASE4",)),         # CTRI
    ("Not selected", ()),                                 # JPRN: nothing chosen
    ("Not Applicable", ("NA",)),                          # ANZCTR, ISRCTN
    ("Phase III", ("PHASE3",)),                           # ISRCTN
    (["PHASE1", "PHASE2"], ("PHASE1", "PHASE2")),         # already enums
])
def test_normalize_phases_of_real_spellings(text, phases):
    assert map_phases(text) == phases


@pytest.mark.parametrize("text", ["2020-09-15", "Phase 2020", "stage B"])
def test_normalize_phase_never_guessed(text):
    assert map_phases(text) is None


@pytest.mark.parametrize("kind,text,enum", [
    ("status", "Recruiting", "RECRUITING"),
    ("status", "Active, not recruiting", "ACTIVE_NOT_RECRUITING"),
    ("status", "Prematurely Ended", "TERMINATED"),                 # EU CTR
    ("status", "Temporarily Halted", "SUSPENDED"),                 # EU CTR
    ("status", "ACTIVE_NOT_RECRUITING", "ACTIVE_NOT_RECRUITING"),
    ("study_type", "Interventional clinical trial of medicinal product", "INTERVENTIONAL"),  # EU CTR via ICTRP
    ("study_type", "Observational [Patient Registry]", "OBSERVATIONAL"),
    ("study_type", "interventional", "INTERVENTIONAL"),
    ("study_type", "Epidemilogical research", "OBSERVATIONAL"),    # ChiCTR, spelt so
    ("study_type", "Expanded Access", "EXPANDED_ACCESS"),
    ("sex", "Both males and females", "ALL"),
    ("sex", "Male/Female", "ALL"),
    ("sex", "Females", "FEMALE"),
    ("sex", "-", NO_VALUE),
])
def test_normalize_enums_of_real_spellings(kind, text, enum):
    assert map_value(kind, text) == enum


@pytest.mark.parametrize("kind,text", [
    ("status", "Not recruiting"), ("status", "Authorised"), ("study_type", "Diagnostic test"),
    ("study_type", "Others,meta-analysis etc"),
])
def test_normalize_unmappable_values_stay_unmapped_with_a_reason(kind, text):
    assert map_value(kind, text) is None
    assert unmappable_reason(kind, text)


@pytest.mark.parametrize("text,name,code", [
    ("Russia", "Russian Federation", "RU"),
    ("Russian Federation", "Russian Federation", "RU"),
    ("Iran (Islamic Republic of)", "Iran, Islamic Republic of", "IR"),
    ("Iran", "Iran, Islamic Republic of", "IR"),
    ("The Netherlands", "Netherlands", "NL"),
    ("Czech Republic", "Czechia", "CZ"),
    ("MALAYSIA", "Malaysia", "MY"),
    ("United States of America", "United States", "US"),
    ("Korea, Republic of", "Korea, Republic of", "KR"),
])
def test_normalize_countries_to_iso_3166(text, name, code):
    assert country(text) == name and country_code(text) == code
    assert is_mapped("country", name)


@pytest.mark.parametrize("text", ["Wuhan", "EUROPE", "South America", "??", "Chinese"])
def test_normalize_country_not_a_country_stays_unmapped(text):
    assert country(text) is None and not is_mapped("country", text)


@pytest.fixture(scope="module")
def odd_records():
    """ICTRP weekly versions with odd phases, statuses, sexes and countries (real lines)."""
    from toolkit.ingest import iter_parsed

    return {o.record.trial_id: o.record for o in iter_parsed([str(FIXTURES / "ictrp_versions_odd_values.jsonl")])}


def test_normalize_record_keeps_the_registry_spelling_beside_the_enum(odd_records):
    irct = next(r for r in odd_records.values() if r.raw_values.get("phases") == "2020-03-02")
    assert irct.phases == ("PHASE2", "PHASE3")
    registry_phase = next(r for r in odd_records.values() if r.raw_values.get("phases") == "Retrospective study")
    assert registry_phase.phases == ("NA",)
    for record in odd_records.values():
        assert all(is_mapped("phase", p) for p in record.phases)
        assert record.study_type in ("INTERVENTIONAL", "OBSERVATIONAL")
        assert record.eligibility.sex in ("ALL", "FEMALE", "MALE", None)
        if record.raw_values.get("status") == "Recruiting":
            assert record.status == "RECRUITING"


def test_normalize_record_eu_phase_flags_are_kept_from_the_mapper(odd_records):
    eu = next(r for r in odd_records.values() if "Therapeutic exploratory" in str(r.raw_values.get("phases")))
    said_yes = re.findall(r"\(Phase (I+V?|IV)\): yes", eu.raw_values["phases"])
    assert said_yes and eu.phases == tuple(f"PHASE{('I', 'II', 'III', 'IV').index(p) + 1}" for p in said_yes)
    assert eu.registry == "euctr"


def test_normalize_record_countries_iso_with_raw_spellings(odd_records):
    iran = next(r for r in odd_records.values() if "Iran (Islamic Republic of)" in r.raw_values.get("countries", ()))
    names = [loc.country for loc in iran.locations]
    assert "Iran, Islamic Republic of" in names
    assert len(iran.raw_values["countries"]) == len(names)


def test_normalize_unmapped_status_stays_as_written(odd_records):
    not_recruiting = [r for r in odd_records.values() if (r.raw_values.get("status") or "").lower() == "not recruiting"]
    assert not_recruiting and all(r.status == r.raw_values["status"] for r in not_recruiting)
    assert normalize_record(not_recruiting[0]) == not_recruiting[0]  # applying twice changes nothing


@pytest.mark.data
def test_normalize_all_shared_ictrp_data_has_no_unmapped_phase_and_only_listed_statuses():
    from toolkit.ingest import iter_parsed

    folder = data_path("ictrp")
    phases, statuses, types = set(), set(), set()
    for outcome in iter_parsed([str(folder)]):
        record = outcome.record
        assert record is not None, outcome.failure
        phases.update(p for p in record.phases if not is_mapped("phase", p))
        statuses.update([record.status] if not is_mapped("status", record.status) else [])
        types.update([record.study_type] if not is_mapped("study_type", record.study_type) else [])
    assert phases == set()
    assert statuses and all(unmappable_reason("status", s) for s in statuses)
    assert all(unmappable_reason("study_type", t) for t in types)


def test_normalize_a_new_spelling_of_the_same_value_is_no_change(odd_records):
    """Versions that only respell a mapped value ("Phase 2/Phase 3" then "2-3") do not differ."""
    import dataclasses

    from toolkit.diff import diff_records

    irct = next(r for r in odd_records.values() if r.raw_values.get("phases") == "2020-03-02")
    respelt = dataclasses.replace(irct, raw_values={**irct.raw_values, "phases": "Phase 2/Phase 3"})
    assert normalize_record(respelt).phases == irct.phases
    assert not diff_records(irct, normalize_record(respelt)).changed
