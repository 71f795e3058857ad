"""Map a cthist CSV row (one historical version) to a `TrialRecord`.

ClinicalTrials.gov rows (`nctid`) and DRKS rows (`drksid`) differ in their
columns; each has its own column table. `version` is the row's
`version_number`, `last_updated` its `version_date`. Columns without a
place in the model (date precisions and types, `total_versions`, raw DRKS
status) go to `extra`, so nothing of a row is lost. `NA`, empty and DRKS's
hidden `[---]*` are no value.
"""

from __future__ import annotations

import json
import re
from typing import Any, List, Optional, Tuple

from toolkit.errors import InputError
from toolkit.normalize.ages import in_years, parse_age
from toolkit.normalize.fields import as_int, enrollment_type, iso_date, sex_enum, status_enum, yes_no
from toolkit.formats.raw import RawRecord
from toolkit.records import (
    Eligibility, Enrollment, Investigator, Outcome, Sponsor, TrialRecord,
)

__all__ = ["to_record"]

_MISSING = {"", "NA", "N/A", "[---]*", "null", "None"}
_DRKS_STATUS = {
    "recruiting ongoing": "RECRUITING",
    "recruiting planned": "NOT_YET_RECRUITING",
    "recruiting complete, follow-up complete": "COMPLETED",
    "recruiting complete, follow-up continuing": "ACTIVE_NOT_RECRUITING",
    "recruiting stopped after recruiting started": "TERMINATED",
    "recruiting withdrawn before recruiting started": "WITHDRAWN",
    "recruiting suspended on temporary hold": "SUSPENDED",
}
_TIME_FRAME = re.compile(r"\[\s*Time Frame:\s*(.*?)\s*\]", re.S)
_CTGOV_EXTRA = ("total_versions", "study_start_date_precision", "primary_completion_date_precision",
                "primary_completion_date_type", "gender_based")
_DRKS_EXTRA = ("total_versions", "recruitment_status")


def to_record(raw: RawRecord) -> TrialRecord:
    """Map one cthist row.

    Raises:
        InputError: the row has no trial id or an unreadable JSON column.
    """
    row = raw.payload
    if not isinstance(row, dict):
        raise InputError(raw.path, "cthist row is not a mapping", raw.where())
    if _value(row.get("nctid")):
        return _ctgov(row, raw)
    if _value(row.get("drksid")):
        return _drks(row, raw)
    raise InputError(raw.path, "cthist row has no nctid or drksid", raw.where())


def _value(text: Any) -> Optional[str]:
    if not isinstance(text, str):
        return None
    text = text.strip()
    return None if text in _MISSING else text


def _json(row: dict, column: str, raw: RawRecord) -> Any:
    text = _value(row.get(column))
    if text is None:
        return []
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(raw.path, f"column {column!r} is not JSON: {exc}", raw.where()) from None


def _extra(row: dict, columns) -> dict:
    return {c: value for c in columns if (value := _value(row.get(c))) is not None}


# --- ClinicalTrials.gov rows --------------------------------------------------


def _ctgov(row: dict, raw: RawRecord) -> TrialRecord:
    criteria = _json(row, "criteria", raw)
    text = "\n\n".join(c for c in criteria if isinstance(c, str)) if isinstance(criteria, list) else str(criteria)
    eligibility = Eligibility(
        text=text, min_age=_ctgov_age(row.get("min_age")), max_age=_ctgov_age(row.get("max_age")),
        sex=sex_enum(_value(row.get("sex"))), healthy_volunteers=yes_no(_value(row.get("accepts_healthy_volunteers"))),
    )
    sponsors, responsible = _ctgov_sponsors(_json(row, "sponsor_collaborators", raw))
    outcomes, note = _outcomes_or_note(row, raw)
    return TrialRecord(
        registry="ctgov", trial_id=row["nctid"].strip(), version=_value(row.get("version_number")),
        status=status_enum(_value(row.get("overall_status"))),
        enrollment=_enrollment(row),
        start_date=iso_date(_value(row.get("study_start_date"))),
        primary_completion_date=iso_date(_value(row.get("primary_completion_date"))),
        last_updated=iso_date(_value(row.get("version_date"))),
        outcomes=tuple(_ctgov_outcomes(outcomes)),
        sponsors=sponsors, investigators=responsible + tuple(_ctgov_contacts(_json(row, "contacts", raw))),
        eligibility=eligibility, extra={**_extra(row, _CTGOV_EXTRA), **note}, source=raw.source(),
    )


def _outcomes_or_note(row: dict, raw: RawRecord) -> Tuple[Any, dict]:
    """Outcome JSON, or a note kept in `extra` (rows with results say "[See Results Section.]")."""
    text = _value(row.get("outcome_measures"))
    if text is not None and not text.startswith(("[{", "[]", "{")):
        return [], {"outcome_measures": text}
    return _json(row, "outcome_measures", raw), {}


def _ctgov_age(text: Any):
    value = _value(text)
    if value is None:
        return None
    return parse_age(in_years(value))


def _enrollment(row: dict) -> Optional[Enrollment]:
    count = as_int(_value(row.get("enrolment")))
    kind = _value(row.get("enrolment_type"))
    if count is None and kind is None:
        return None
    return Enrollment(count, enrollment_type("Estimated" if kind == "Planned" else kind))


def _ctgov_outcomes(items: Any) -> List[Outcome]:
    out = []
    for item in items if isinstance(items, list) else []:
        kind = str(item.get("section", "")).lower().split(" ")[0] or "other"
        content = str(item.get("content", ""))
        frame = _TIME_FRAME.search(content)
        head, _, description = content.partition("\n\n")
        measure = _TIME_FRAME.sub("", head).strip()
        out.append(Outcome(kind if kind in ("primary", "secondary") else "other", measure,
                           frame.group(1) if frame else None, description.strip() or None))
    return out


def _ctgov_sponsors(items: Any) -> Tuple[Tuple[Sponsor, ...], Tuple[Investigator, ...]]:
    sponsors, responsible = [], []
    for item in items if isinstance(items, list) else []:
        label = str(item.get("label", "")).lower()
        for line in str(item.get("content", "")).splitlines():
            if not line.strip():
                continue
            if label.startswith("sponsor"):
                sponsors.append(Sponsor(line.strip(), "lead"))
            elif label.startswith("collaborator"):
                sponsors.append(Sponsor(line.strip(), "collaborator"))
            else:
                responsible.append(Investigator(name=line.strip(), role=label.rstrip(":") or None))
    return tuple(sponsors), tuple(responsible)


def _ctgov_contacts(items: Any) -> List[Investigator]:
    out = []
    for item in items if isinstance(items, list) else []:
        role = str(item.get("label", "")).rstrip(":").strip() or None
        for block in re.split(r"\n\s*\n", str(item.get("content", ""))):
            person = _person(block, role)
            if person is not None:
                out.append(person)
    return out


def _person(block: str, role: Optional[str]) -> Optional[Investigator]:
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    if not lines:
        return None
    fields = {"name": lines[0], "role": role}
    rest = []
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() in ("telephone", "phone"):
            fields["phone"] = value.strip()
        elif key.strip().lower() == "email":
            fields["email"] = value.strip()
        else:
            rest.append(line)
    if rest:
        fields["affiliation"] = "; ".join(rest)
    return Investigator(**fields)


# --- DRKS rows ------------------------------------------------------------------


def _drks(row: dict, raw: RawRecord) -> TrialRecord:
    eligibility = Eligibility(
        text=_drks_criteria(_json(row, "inclusion_criteria", raw), _json(row, "exclusion_criteria", raw)),
        min_age=parse_age(_value(row.get("min_age"))), max_age=parse_age(_value(row.get("max_age"))),
        sex=sex_enum(_drks_sex(_value(row.get("gender")))),
    )
    outcomes = [Outcome("primary", m) for m in _strings(_json(row, "primary_outcomes", raw))]
    outcomes += [Outcome("secondary", m) for m in _strings(_json(row, "secondary_outcomes", raw))]
    contacts = _json(row, "contacts", raw)
    sponsors, investigators = _drks_contacts(contacts)
    details = _drks_contact_details(contacts)
    status = _value(row.get("recruitment_status"))
    return TrialRecord(
        registry="drks", trial_id=row["drksid"].strip(), version=_value(row.get("version_number")),
        status=_DRKS_STATUS.get((status or "").lower()) or status_enum(status),
        enrollment=_enrollment(row), start_date=iso_date(_value(row.get("start_date"))),
        completion_date=iso_date(_value(row.get("closing_date"))),
        last_updated=iso_date(_value(row.get("version_date"))),
        outcomes=tuple(outcomes), sponsors=sponsors, investigators=investigators,
        eligibility=eligibility, extra={**_extra(row, _DRKS_EXTRA), **details}, source=raw.source(),
    )


def _drks_sex(value: Optional[str]) -> Optional[str]:
    if value and value.lower().startswith("both"):
        return "ALL"
    return value


def _strings(items: Any) -> List[str]:
    return [s.strip() for s in (items if isinstance(items, list) else [items]) if isinstance(s, str) and s.strip()]


def _drks_criteria(inclusion: Any, exclusion: Any) -> str:
    """Eligibility text: each list is [heading, text]; headings end with a colon."""
    blocks = []
    for items, default in ((inclusion, "Inclusion Criteria"), (exclusion, "Exclusion Criteria")):
        parts = _strings(items)
        if not parts:
            continue
        heading, body = (parts[0], parts[1:]) if len(parts) > 1 else (default, parts)
        blocks.append(f"{heading.rstrip(':')}:\n" + "\n".join(body))
    return "\n\n".join(blocks)


def _drks_contacts(items: Any) -> Tuple[Tuple[Sponsor, ...], Tuple[Investigator, ...]]:
    sponsors, people = [], []
    for item in items if isinstance(items, list) else []:
        label = _value(item.get("label")) or ""
        name, affiliation = _value(item.get("name")), _value(item.get("affiliation"))
        if "sponsor" in label.lower() and affiliation:
            sponsors.append(Sponsor(affiliation, "lead" if "primary" in label.lower() else "collaborator"))
        people.append(Investigator(name=name, role=label or None, affiliation=affiliation,
                                   email=_value(item.get("email")), phone=_value(item.get("telephone"))))
    return tuple(sponsors), tuple(people)


def _drks_contact_details(items: Any) -> dict:
    """Fax numbers and web pages of the contacts, which the model has no field for."""
    details = []
    for item in items if isinstance(items, list) else []:
        kept = {k: value for k in ("fax", "url") if (value := _value(item.get(k)))}
        if kept:
            details.append({"label": _value(item.get("label")), **kept})
    return {"contact_details": details} if details else {}
