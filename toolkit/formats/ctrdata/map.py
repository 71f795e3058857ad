"""Map a ctrdata version line to a `TrialRecord`.

ctrdata stores each register's record in its own shape. CTGOV2 records are
ClinicalTrials.gov API v2 studies and go through `toolkit.formats.ctgov_json.map`;
the other registers (CTGOV legacy XML as JSON, EUCTR, ISRCTN, CTIS) are
mapped by a table of paths per register (`_PATHS`). Top-level keys a table
does not use are kept verbatim in `extra`, so nothing is lost. `version` is
the snapshot the version was first seen in; ctrdata's converter sometimes
collapses one-element lists to scalars, which every path accepts.
"""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any, Iterable, List, Optional, Tuple

from toolkit.errors import InputError
from toolkit.normalize.ages import parse_age
from toolkit.normalize.aliases import alias_of
from toolkit.normalize.fields import as_int, iso_date, phase_list, sex_enum, status_enum
from toolkit.formats.raw import RawRecord
from toolkit.records import (
    Eligibility, Enrollment, Identifier, Location, Outcome, Sponsor, TrialRecord,
)

__all__ = ["to_record"]

_REGISTRY = {"CTGOV": "ctgov", "CTGOV2": "ctgov", "EUCTR": "euctr", "ISRCTN": "isrctn", "CTIS": "ctis"}
_CTIS_INFO = "authorizedPartI.trialDetails.trialInformation"
_CTIS_INFO_NEW = "authorizedApplication." + _CTIS_INFO  # CTIS records since 2024


def _ctis_info(path: str) -> Tuple[str, str]:
    """A path under CTIS trial information, in the old and the since-2024 shape."""
    return f"{_CTIS_INFO}.{path}", f"{_CTIS_INFO_NEW}.{path}"


_PATHS = {
    "CTGOV": {
        "trial_id": "id_info.nct_id", "title": "brief_title", "official_title": "official_title",
        "acronym": "acronym", "status": "overall_status", "phases": "phase", "study_type": "study_type",
        "start_date": "start_date", "primary_completion_date": "primary_completion_date",
        "completion_date": "completion_date", "first_posted": "study_first_posted",
        "last_updated": "last_update_posted", "why_stopped": "why_stopped", "enrollment": "enrollment",
        "conditions": "condition", "keywords": "keyword", "brief_summary": "brief_summary.textblock",
        "detailed_description": "detailed_description.textblock",
        "criteria": "eligibility.criteria.textblock", "sex": "eligibility.gender",
        "min_age": "eligibility.minimum_age", "max_age": "eligibility.maximum_age",
        "primary": "primary_outcome", "secondary": "secondary_outcome",
        "lead_sponsor": "sponsors.lead_sponsor.agency", "collaborators": "sponsors.collaborator.agency",
        "countries": "location_countries.country",
    },
    "EUCTR": {
        "trial_id": "a2_eudract_number", "title": "a31_title_of_the_trial_for_lay_people_in_easily_understood_ie_nontechnical_language",
        "official_title": "a3_full_title_of_the_trial", "status": "x5_trial_status",
        "inclusion": "e3_principal_inclusion_criteria", "exclusion": "e4_principal_exclusion_criteria",
        "primary": "e51_primary_end_points", "primary_frame": "e511_timepoints_of_evaluation_of_this_end_point",
        "secondary": "e52_secondary_end_points", "secondary_frame": "e521_timepoints_of_evaluation_of_this_end_point",
        "conditions": "e11_medical_conditions_being_investigated", "lead_sponsor": "b1_sponsor.b11_name_of_sponsor",
        "brief_summary": "e21_main_objective_of_the_trial",
    },
    "ISRCTN": {
        "title": "trialDescription.title", "official_title": "trialDescription.scientificTitle",
        "acronym": "trialDescription.acronym", "status": "trialDesign.overallStatusOverride",
        "start_date": "trialDesign.overallStartDate", "completion_date": "trialDesign.overallEndDate",
        "enrollment": "participants.targetEnrolment", "sex": "participants.gender",
        "inclusion": "participants.inclusion", "exclusion": "participants.exclusion",
        "primary": "trialDescription.primaryOutcome", "secondary": "trialDescription.secondaryOutcome",
        "conditions": "conditions.condition.description", "brief_summary": "trialDescription.plainEnglishSummary",
        "countries": "participants.recruitmentCountries.country",
    },
    "CTIS": {
        "trial_id": "ctNumber", "title": "title", "status": ("ctPublicStatus", "ctStatus"), "phases": "trialPhase",
        "start_date": "trialStartDate", "last_updated": "lastUpdated", "sex": "gender",
        "enrollment": "totalNumberEnrolled",
        "inclusion": _ctis_info("eligibilityCriteria.principalInclusionCriteria.principalInclusionCriteria"),
        "exclusion": _ctis_info("eligibilityCriteria.principalExclusionCriteria.principalExclusionCriteria"),
        "primary": _ctis_info("endPoint.primaryEndPoints.endPoint"),
        "secondary": _ctis_info("endPoint.secondaryEndPoints.endPoint"),
        "conditions": _ctis_info("medicalCondition.partIMedicalConditions.medicalCondition"),
        "lead_sponsor": "primarySponsor.organisation.name",
    },
}


# other registries' ids of the trial, by register: path -> identifier type (read by `alias_of`)
_OTHER_IDS = {
    "CTGOV": {"id_info.secondary_id": "secondary_id"},
    "EUCTR": {"a52_us_nct_clinicaltrialsgov_registry_number": "NCT",
              "a51_isrctn_international_standard_randomised_controlled_trial_number": "ISRCTN"},
    "ISRCTN": {"externalRefs.eudraCTNumber": "EudraCT", "externalRefs.clinicalTrialsGovNumber": "NCT"},
}


def _other_ids(register: str, rec: dict) -> Tuple[Identifier, ...]:
    """The ids of the trial in other registries that a record names (placeholders left out)."""
    found = []
    for path, kind in _OTHER_IDS.get(register, {}).items():
        for value in _texts(_values(rec, path)):
            if alias_of(value) is not None:
                found.append(Identifier(id=value, type=kind))
    return tuple(dict.fromkeys(found))


def to_record(raw: RawRecord) -> TrialRecord:
    """Map one ctrdata version line.

    Raises:
        InputError: unknown register, or no trial id.
    """
    line = raw.payload
    register = str(line.get("ctrname", "")).upper()
    if register == "CTGOV2":
        record = _ctgov2(line, raw)
    elif register in _PATHS:
        record = _by_table(register, line, raw)
    else:
        raise InputError(raw.path, f"unknown ctrdata register {register!r}", raw.where())
    extra = {**record.extra, "first_snapshot": line.get("first_snapshot"),
             "seen_in_snapshots": line.get("seen_in_snapshots"), "content_md5": line.get("content_md5"),
             "ctrdata_id": line.get("_id")}
    return dataclasses.replace(record, version=_snapshot_date(line.get("first_snapshot")),
                               extra={k: v for k, v in extra.items() if v not in (None, "", [])},
                               source=raw.source())


def _snapshot_date(value: Any) -> Optional[str]:
    """`2022-08-10_a5945f37` -> `2022-08-10`."""
    return str(value).split("_", 1)[0] if value else None


def _ctgov2(line: dict, raw: RawRecord) -> TrialRecord:
    from toolkit.formats.ctgov_json import map as ctgov_json

    study = _listify_ctgov2(line["record"])
    return ctgov_json.to_record(RawRecord("ctgov_json", study, path=raw.path, entry=raw.entry, index=raw.index))


_CTGOV2_LISTS = {"conditions", "keywords", "phases", "collaborators", "locations", "overallOfficials",
                 "armGroups", "interventions", "primaryOutcomes", "secondaryOutcomes", "otherOutcomes",
                 "secondaryIdInfos", "references", "seeAlsoLinks", "centralContacts", "whoMasked",
                 "interventionNames", "otherNames", "armGroupLabels", "stdAges", "meshes", "ancestors",
                 "browseLeaves", "browseBranches", "nctIdAliases"}


def _listify_ctgov2(value: Any, key: str = "") -> Any:
    """Undo ctrdata's collapsing of one-element lists (and `{}` for empty ones)."""
    if isinstance(value, dict):
        if not value and key in _CTGOV2_LISTS:
            return []
        out = {k: _listify_ctgov2(v, k) for k, v in value.items()}
        return [out] if key in _CTGOV2_LISTS else out
    if isinstance(value, list):
        return [_listify_ctgov2(v) for v in value]
    if key in _CTGOV2_LISTS and value is not None:
        return [value]
    return value


def _by_table(register: str, line: dict, raw: RawRecord) -> TrialRecord:
    table = _PATHS[register]
    rec = line["record"]
    get = {name: _values_any(rec, path) for name, path in table.items()}
    trial_id = _first(get.get("trial_id")) or str(line.get("_id") or "")
    if register == "EUCTR" and line.get("_id"):
        trial_id = str(line["_id"])  # one record per member state: 2014-002606-20-DE
    if register == "ISRCTN":
        trial_id = f"ISRCTN{rec.get('isrctn')}" if rec.get("isrctn") else trial_id
    if not trial_id:
        raise InputError(raw.path, "ctrdata record without a trial id", raw.where())
    used = {p.split(".", 1)[0] for path in table.values() for p in ((path,) if isinstance(path, str) else path)}
    return TrialRecord(
        registry=_REGISTRY[register], trial_id=trial_id, secondary_ids=_other_ids(register, rec),
        title=_first(get.get("title")),
        official_title=_first(get.get("official_title")), acronym=_first(get.get("acronym")),
        status=status_enum(_first(get.get("status"))), phases=_phases(register, rec, get.get("phases")),
        study_type=_first(get.get("study_type")), enrollment=_enrollment(_first(get.get("enrollment"))),
        start_date=iso_date(_first(get.get("start_date"))),
        primary_completion_date=iso_date(_first(get.get("primary_completion_date"))),
        completion_date=iso_date(_first(get.get("completion_date"))),
        first_posted=iso_date(_first(get.get("first_posted"))), last_updated=iso_date(_first(get.get("last_updated"))),
        why_stopped=_first(get.get("why_stopped")), conditions=_texts(get.get("conditions")),
        keywords=_texts(get.get("keywords")), brief_summary=_first(get.get("brief_summary")),
        detailed_description=_first(get.get("detailed_description")),
        outcomes=_outcomes(register, rec, get), sponsors=_sponsors(get),
        locations=tuple(Location(country=c) for c in _texts(get.get("countries"))),
        eligibility=_eligibility(get), extra={k: v for k, v in rec.items() if k not in used and k != "ctrname"},
    )


def _values_any(data: Any, paths) -> List[Any]:
    """Values at the first of several alternative paths that has any."""
    for path in (paths,) if isinstance(paths, str) else paths:
        found = _values(data, path)
        if found:
            return found
    return []


def _values(data: Any, path: str) -> List[Any]:
    """Every value at a dotted path, walking into lists; texts cleaned."""
    current: List[Any] = [data]
    for key in path.split("."):
        nxt: List[Any] = []
        for item in current:
            for element in (item if isinstance(item, list) else [item]):
                if isinstance(element, dict) and key in element:
                    nxt.append(element[key])
        current = nxt
    out = []
    for value in current:
        for element in (value if isinstance(value, list) else [value]):
            cleaned = element if isinstance(element, dict) else _clean(element)
            if cleaned is not None:
                out.append(cleaned)
    return out


def _clean(value: Any) -> Optional[str]:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = "\n".join(line.rstrip() for line in html.unescape(str(value)).splitlines()).strip("\n")
    return text if text.strip() else None


def _texts(values: Optional[List[Any]]) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values or () if isinstance(v, str)))


def _first(values: Optional[List[Any]]) -> Optional[str]:
    for value in values or ():
        if isinstance(value, str):
            return value.strip()
    return None


def _phases(register: str, rec: dict, values) -> Tuple[str, ...]:
    if register == "EUCTR":
        names = {"e71_human_pharmacology_phase_i": "Phase 1", "e72_therapeutic_exploratory_phase_ii": "Phase 2",
                 "e73_therapeutic_confirmatory_phase_iii": "Phase 3", "e74_therapeutic_use_phase_iv": "Phase 4"}
        return phase_list([phase for key, phase in names.items() if str(rec.get(key, "")).lower() == "yes"])
    text = _first(values)
    if not text:
        return ()
    roman = re.search(r"\(Phase (I{1,3}|IV)\)", text)
    return phase_list(f"Phase {roman.group(1)}" if roman else text)


def _enrollment(text: Optional[str]) -> Optional[Enrollment]:
    count = as_int(text)
    return Enrollment(count=count) if count is not None else None


def _outcomes(register: str, rec: dict, get: dict) -> Tuple[Outcome, ...]:
    out: List[Outcome] = []
    for kind in ("primary", "secondary"):
        frame = _first(get.get(f"{kind}_frame"))
        for value in get.get(kind) or ():
            if isinstance(value, dict):
                measure = _clean(value.get("measure"))
                if measure:
                    out.append(Outcome(kind, measure, _clean(value.get("time_frame")), _clean(value.get("description"))))
            else:
                out.append(Outcome(kind, value, frame))
    return tuple(out)


def _sponsors(get: dict) -> Tuple[Sponsor, ...]:
    lead = [Sponsor(name, "lead") for name in _texts(get.get("lead_sponsor"))]
    others = [Sponsor(name, "collaborator") for name in _texts(get.get("collaborators"))]
    return tuple(lead + others)


def _eligibility(get: dict) -> Optional[Eligibility]:
    text = _first(get.get("criteria")) or _criteria_text(get.get("inclusion"), get.get("exclusion"))
    sex = _first(get.get("sex"))
    if sex and "male" in sex.lower() and "female" in sex.lower() or (sex or "").lower() == "both":
        sex = "ALL"
    min_age, max_age = _first(get.get("min_age")), _first(get.get("max_age"))
    if not (text or sex or min_age or max_age):
        return None
    return Eligibility(text=text or "", sex=sex_enum(sex) if sex else None,
                       min_age=parse_age(min_age), max_age=parse_age(max_age))


def _criteria_text(inclusion: Optional[Iterable[str]], exclusion: Optional[Iterable[str]]) -> str:
    blocks = []
    for items, heading in ((inclusion, "Inclusion Criteria"), (exclusion, "Exclusion Criteria")):
        texts = [t for t in items or () if isinstance(t, str)]
        if texts:
            body = "\n".join(f"- {t}" if len(texts) > 1 else t for t in texts)
            blocks.append(f"{heading}:\n{body}")
    return "\n\n".join(blocks)
