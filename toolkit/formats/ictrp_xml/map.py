"""Mapper of WHO ICTRP XML trials (`<Trial>`) to `TrialRecord`.

ICTRP re-publishes records of many registries in one flat shape: one element
per field, free text everywhere. The registry is named from the TrialID
prefix (`registries.json`). Inclusion and exclusion criteria come in two
fields with HTML line breaks (`<br>`); they are joined into one headed text,
"Inclusion criteria:\\n...\\n\\nExclusion criteria:\\n...", for the shared
criteria parser. Trials re-published from ClinicalTrials.gov carry both
blocks, already headed, in the inclusion field: that text is kept as it is.
Every field not mapped is kept in `extra`.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from itertools import zip_longest
from typing import Dict, Mapping, Optional, Tuple

from toolkit.errors import InputError, RecordError
from toolkit.normalize import fields
from toolkit.normalize.registries import registry_of
from toolkit.formats.xml_fields import age_limit, block_text, design_from, enum_value
from toolkit.formats.raw import RawRecord
from toolkit.records import (
    Design, Eligibility, Enrollment, Intervention, Investigator, Link, Location, Outcome,
    Section, Source, Sponsor, TrialRecord,
)

__all__ = ["to_record", "record_from_fields", "unbreak", "registry_of", "eligibility_text", "phases_of"]

_BREAK = re.compile(r"\n?<br\s*/?>", re.IGNORECASE)
_INCLUSION_HEAD = re.compile(r"^\s*(?:key\s+)?inclusion\s+criteria\s*[:：.]?[ \t]*\n?", re.IGNORECASE)
_EXCLUSION_HEAD = re.compile(r"^\s*(?:key\s+)?exclusion\s+criteria\s*[:：.]?[ \t]*\n?", re.IGNORECASE)
_EXCLUSION_INSIDE = re.compile(r"^\s*(?:key\s+)?exclusion\s+criteria\b", re.IGNORECASE | re.MULTILINE)
_DESIGN_PARTS = re.compile(r"[.,]\s+(?=[A-Z][A-Za-z ]*:)")
_KNOWN_PHASES = frozenset({"EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"})
# the registry's spellings kept beside the vocabulary values (`toolkit.normalize.vocabulary`)
_RAW_VALUES = {"status": "Recruitment_Status", "phases": "Phase", "study_type": "Study_type",
               "sex": "Inclusion_gender"}
_STUDY_TYPES = {"interventional": "INTERVENTIONAL", "observational": "OBSERVATIONAL",
                "expanded access": "EXPANDED_ACCESS"}
# ClinicalTrials.gov intervention types, as ICTRP writes them before a colon.
_INTERVENTION_TYPES = {
    "drug", "device", "biological", "procedure", "radiation", "behavioral", "genetic",
    "dietary supplement", "combination product", "diagnostic test", "other",
}

# Fields read by the handlers below; every other field goes to `extra`.
MAPPED = {
    "TrialID", "Last_Refreshed_on", "Public_title", "Scientific_title", "Acronym",
    "Primary_sponsor", "Date_registration", "web_address", "Recruitment_Status",
    "Inclusion_agemin", "Inclusion_agemax", "Inclusion_gender", "Date_enrollement",
    "Target_size", "Study_type", "Study_design", "Phase", "Countries", "Contact_Firstname",
    "Contact_Lastname", "Contact_Email", "Contact_Tel", "Contact_Affiliation",
    "Inclusion_Criteria", "Exclusion_Criteria", "Condition", "Intervention",
    "Primary_outcome", "Secondary_outcome", "results_url_link",
}


def to_record(raw: RawRecord) -> TrialRecord:
    """Map one ICTRP `<Trial>` element to a `TrialRecord`.

    Args:
        raw: a raw record whose payload is the `<Trial>` element.

    Returns:
        The record (criteria tree not yet attached; see `toolkit.formats.mapping`).

    Raises:
        InputError: the payload is not a `<Trial>` or has no TrialID.
    """
    values = _values(raw)
    if not values.get("TrialID"):
        raise InputError(raw.path, "no <TrialID> in <Trial>", raw.where())
    return _record(values, raw.source())


def record_from_fields(values: Mapping[str, Optional[str]], *, source: Optional[Source] = None
                       ) -> TrialRecord:
    """Map ICTRP fields by name to a `TrialRecord` (the XML and the CSV/JSON exports).

    Args:
        values: field name -> text; names as in the XML export ("Public_title")
            or with spaces ("Public title"); None and blank values are skipped.
        source: where the record came from.

    Returns:
        The record (criteria tree not yet attached).

    Raises:
        RecordError: there is no TrialID.
    """
    values = {
        name.replace(" ", "_"): text.strip()
        for name, text in values.items() if isinstance(text, str) and text.strip()
    }
    if not values.get("TrialID"):
        raise RecordError("ICTRP record without TrialID")
    return _record(values, source)


def _record(values: Dict[str, str], source: Optional[Source]) -> TrialRecord:
    """The record of fields named as in the XML export (stripped, none blank, a TrialID)."""
    trial_id = values["TrialID"]
    refreshed = _date(values.get("Last_Refreshed_on"))
    criteria = _criteria(values)
    return TrialRecord(
        registry=registry_of(trial_id), trial_id=trial_id, version=refreshed,
        title=values.get("Public_title"), official_title=values.get("Scientific_title"),
        acronym=values.get("Acronym"), status=fields.status_enum(values.get("Recruitment_Status")),
        phases=phases_of(values.get("Phase")), study_type=_study_type(values.get("Study_type")),
        enrollment=_enrollment(values.get("Target_size")), design=_design(values.get("Study_design")),
        start_date=_date(values.get("Date_enrollement")),
        first_posted=_date(values.get("Date_registration")), last_updated=refreshed,
        conditions=_split(values.get("Condition")),
        interventions=tuple(_intervention(i) for i in _split(_decoded(values.get("Intervention")))),
        outcomes=_outcomes(values), sponsors=_sponsors(values), investigators=_contacts(values),
        locations=tuple(Location(country=c) for c in dict.fromkeys(_split(values.get("Countries")))),
        links=_links(values), sections=_sections(values, criteria),
        eligibility=_eligibility(values, criteria),
        extra=_extra(values), source=source,
        raw_values={key: values[name] for key, name in _RAW_VALUES.items() if values.get(name)},
    )


def _values(raw: RawRecord) -> Dict[str, str]:
    """The trial's fields by name (text stripped; empty fields left out)."""
    trial = raw.payload
    if not isinstance(trial, ET.Element) or trial.tag != "Trial":
        raise InputError(raw.path, "payload is not a <Trial> element", raw.where())
    values: Dict[str, str] = {}
    for child in trial:
        text = (child.text or "").strip()
        if text:
            values[child.tag] = text
    return values


def _date(text: Optional[str]) -> Optional[str]:
    return fields.iso_date(text) or text


def _split(text: Optional[str]) -> Tuple[str, ...]:
    """Items of a `;`-separated field (blank items dropped)."""
    if not text:
        return ()
    return tuple(item.strip() for item in text.split(";") if item.strip())


def phases_of(text: Optional[str]) -> Tuple[str, ...]:
    """Phases named by an ICTRP phase text ("Phase 2/Phase 3", "1-2", "4", "N/A").

    Args:
        text: the phase as written.

    Returns:
        API v2 phase enums; () when the text names no phase
        ("Retrospective study"), so the caller keeps the text.
    """
    if not text:
        return ()
    found = fields.phase_list(text)
    return found if found and all(phase in _KNOWN_PHASES for phase in found) else ()


def _study_type(text: Optional[str]) -> Optional[str]:
    if not text:
        return None
    lowered = text.lower()
    for word, enum in _STUDY_TYPES.items():
        if lowered.startswith(word):
            return enum
    return enum_value(text)


def _design(text: Optional[str]) -> Optional[Design]:
    """ClinicalTrials.gov style "Allocation: Randomized. Masking: None (Open Label)."

    Other registries' designs ("Parallel", "Single arm") stay in `Design.description`.
    """
    if not text:
        return None
    values = {}
    for part in _DESIGN_PARTS.split(text.strip().rstrip(".")):
        key, colon, value = part.partition(":")
        if colon:
            values[key.strip().lower().replace(" ", "_")] = value.strip()
    design = design_from(values)
    if design == Design():
        return Design(description=text)
    return design


def _enrollment(text: Optional[str]) -> Optional[Enrollment]:
    """Target size: a number, or ChiCTR's "group:n;group:n;" (summed)."""
    if not text:
        return None
    if text.isdigit():
        return Enrollment(count=int(text))
    sizes = [item.rpartition(":")[2].strip() for item in _split(text)]
    if sizes and all(size.isdigit() for size in sizes):
        return Enrollment(count=sum(int(size) for size in sizes))
    return None


def _decoded(text: Optional[str]) -> Optional[str]:
    """Undo ICTRP's escaped characters (`&#32;`) and `<br>` line breaks in a field."""
    if text and ("&#" in text or "<" in text):
        return unbreak(html.unescape(text))
    return text


def _intervention(item: str) -> Intervention:
    """"Drug: Arbidol" (ClinicalTrials.gov style) or ChiCTR "group:treatment"."""
    head, colon, rest = item.partition(":")
    if colon and head.strip().lower() in _INTERVENTION_TYPES:
        return Intervention(name=rest.strip(), type=enum_value(head))
    if colon and rest.strip():
        return Intervention(name=rest.strip(), arm_labels=(head.strip(),))
    return Intervention(name=item)


def _outcomes(values: Dict[str, str]) -> Tuple[Outcome, ...]:
    primary = [Outcome("primary", m) for m in _split(values.get("Primary_outcome"))]
    secondary = [Outcome("secondary", m) for m in _split(values.get("Secondary_outcome"))]
    return tuple(primary + secondary)


def _sponsors(values: Dict[str, str]) -> Tuple[Sponsor, ...]:
    name = values.get("Primary_sponsor")
    return (Sponsor(name, role="lead"),) if name else ()


def _contacts(values: Dict[str, str]) -> Tuple[Investigator, ...]:
    """Contacts: each contact field is a `;`-separated list, aligned by position."""
    columns = [values.get(name, "").split(";") for name in _CONTACT_FIELDS]
    people = []
    for first, last, affiliation, email, phone in zip_longest(*columns, fillvalue=""):
        name = " ".join(part.strip() for part in (first, last) if part.strip())
        person = Investigator(
            name=name or None, role="CONTACT", affiliation=affiliation.strip() or None,
            email=email.strip() or None, phone=phone.strip() or None,
        )
        if person != _NOBODY and person not in people:
            people.append(person)
    return tuple(people)


_CONTACT_FIELDS = ("Contact_Firstname", "Contact_Lastname", "Contact_Affiliation",
                   "Contact_Email", "Contact_Tel")
_NOBODY = Investigator(role="CONTACT")


def _links(values: Dict[str, str]) -> Tuple[Link, ...]:
    links = []
    if values.get("web_address"):
        links.append(Link(label="Registry record", url=values["web_address"], kind="registry"))
    if values.get("results_url_link"):
        links.append(Link(label="Results", url=values["results_url_link"], kind="results"))
    return tuple(links)


def unbreak(text: Optional[str]) -> str:
    """Restore line breaks written as HTML `<br>`, then dedent (see `block_text`)."""
    if not text:
        return ""
    return block_text(_BREAK.sub("\n", text.replace("\r\n", "\n")))


def eligibility_text(inclusion: Optional[str], exclusion: Optional[str]) -> str:
    """Join the inclusion and exclusion fields into one headed text.

    Args:
        inclusion: the `Inclusion_Criteria` field as written.
        exclusion: the `Exclusion_Criteria` field as written.

    Returns:
        "Inclusion criteria:\\n<text>\\n\\nExclusion criteria:\\n<text>" (a block
        left out when its field is empty); an inclusion field that already
        holds an exclusion block, with no exclusion field, is kept as written.
    """
    return _joined_criteria(unbreak(inclusion), unbreak(exclusion))


def _joined_criteria(inc: str, exc: str) -> str:
    """`eligibility_text` of fields whose line breaks are already restored."""
    if inc and not exc and _EXCLUSION_INSIDE.search(inc):
        return inc
    blocks = []
    body = _INCLUSION_HEAD.sub("", inc, count=1).strip("\n")
    if body:
        blocks.append("Inclusion criteria:\n" + body)
    body = _EXCLUSION_HEAD.sub("", exc, count=1).strip("\n")
    if body:
        blocks.append("Exclusion criteria:\n" + body)
    return "\n\n".join(blocks)


def _criteria(values: Dict[str, str]) -> Dict[str, str]:
    """The inclusion and exclusion fields with line breaks restored (see `unbreak`)."""
    return {name: unbreak(values.get(name)) for name in ("Inclusion_Criteria", "Exclusion_Criteria")}


def _eligibility(values: Dict[str, str], criteria: Dict[str, str]) -> Eligibility:
    return Eligibility(
        text=_joined_criteria(criteria["Inclusion_Criteria"], criteria["Exclusion_Criteria"]),
        min_age=age_limit(values.get("Inclusion_agemin")),
        max_age=age_limit(values.get("Inclusion_agemax")),
        sex=fields.sex_enum(values.get("Inclusion_gender")),
    )


def _sections(values: Dict[str, str], criteria: Dict[str, str]) -> Tuple[Section, ...]:
    sections = []
    if values.get("Study_design"):
        sections.append(Section("Study Design", unbreak(values["Study_design"])))
    for name, heading in (("Inclusion_Criteria", "Inclusion Criteria"),
                          ("Exclusion_Criteria", "Exclusion Criteria")):
        if values.get(name):
            sections.append(Section(heading, criteria[name]))
    return tuple(sections)


def _extra(values: Dict[str, str]) -> Dict[str, str]:
    """Every field not mapped, plus the texts the mapping interpreted."""
    extra = {name: text for name, text in values.items() if name not in MAPPED}
    for name in ("Phase", "Target_size", "Study_type", "Study_design", "Date_enrollement",
                 "Date_registration", "Last_Refreshed_on", "Recruitment_Status",
                 "Inclusion_gender", "Countries", "Contact_Address"):
        if name in values:
            extra[name] = values[name]
    return extra
