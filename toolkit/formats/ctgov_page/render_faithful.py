"""Render a `TrialRecord` the way the real trial site shows it (the seed's page).

Unlike the lossless form of `toolkit.formats.ctgov_page.render`, this writes only what the
seed's layout shows, in the seed's way: every heading with its caption, bare
value lines whose meaning comes from heading, position and shape, no type
prefixes, no labelled lines beyond the site's own (`NCT ID:`, `Last Updated:`,
`Role:`, `Identifier Type:`, `Identifier Source:`), nothing written for a
missing value. Pages in this form test the reader on what real pages carry.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

from toolkit.formats.ctgov_page.layout import MISSING, RULES, VALUES
from toolkit.formats.ctgov_page.parties import ORG_STUDY_SOURCE
from toolkit.records import Age, Eligibility, TrialRecord

__all__ = ["render_faithful_page", "page_fields"]


def render_faithful_page(record: TrialRecord) -> str:
    """Write a record as the real site's page shows it.

    Args:
        record: the record to write.

    Returns:
        The page text, lines joined with `\\n`, no trailing newline (as the seed).
    """
    lines = _header(record)
    for entry in RULES["headings"]:
        body = BODIES.get(entry["field"], _nothing)(record)
        if body or not entry.get("optional"):
            lines += [entry["heading"], entry["caption"]] + body
    return "\n".join(lines)


def _split(text: Optional[str]) -> List[str]:
    """A value's lines as the site writes them: stripped, blank lines kept inside."""
    if text is None or not str(text).strip():
        return []
    return [line.rstrip() for line in str(text).replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")]


def _header(record: TrialRecord) -> List[str]:
    label = "NCT ID" if record.registry == "ctgov" else "Trial ID"
    lines = _split(record.title) + [f"{label}: {record.trial_id}"]
    if record.last_updated:
        lines.append(f"Last Updated: {record.last_updated}")
    return lines


def _nothing(record: TrialRecord) -> List[str]:
    return []


def _basic(record: TrialRecord) -> List[str]:
    """Status, phases, `N participants`, study type, then the dates the site shows."""
    out = [record.status] if record.status else []
    out += list(record.phases)
    if record.enrollment is not None and record.enrollment.count is not None:
        out.append(f"{record.enrollment.count} participants")
    out += [record.study_type] if record.study_type else []
    dates = (record.start_date, record.primary_completion_date, record.completion_date)
    return out + [date for date in dates if date]


def _text(name: str) -> Callable[[TrialRecord], List[str]]:
    return lambda record: _split(getattr(record, name))


def _list(name: str) -> Callable[[TrialRecord], List[str]]:
    return lambda record: [line for value in getattr(record, name) for line in _split(value)]


def _design(record: TrialRecord) -> List[str]:
    design = record.design
    if design is None:
        return []
    names = ("allocation", "intervention_model", "primary_purpose", "masking")
    return [getattr(design, name) for name in names if getattr(design, name)]


def _bare_name(name: str) -> str:
    """An arm's intervention reference without its type prefix (`Drug: x` -> `x`)."""
    prefix, sep, rest = name.partition(": ")
    return rest if sep and prefix in VALUES["intervention_type"].values() else name


def _arms(record: TrialRecord) -> List[str]:
    described: Dict[str, Optional[str]] = {}
    for item in record.interventions:
        described.setdefault(item.name, item.description)
    out = []
    for arm in record.arms:
        out += _split(arm.label) + _split(arm.description)
        for name in arm.interventions:
            bare = _bare_name(name)
            out += _split(bare) + _split(described.get(bare))
    return out


def _interventions(record: TrialRecord) -> List[str]:
    return [line for item in record.interventions for line in _split(item.name) + _split(item.description)]


def _other_names(record: TrialRecord) -> List[str]:
    return [line for item in record.interventions for other in item.other_names for line in _split(other)]


def _age(age: Optional[Age]) -> List[str]:
    return [age.text] if age is not None and age.text else []


def _eligibility(record: TrialRecord) -> List[str]:
    """The criteria text, then minimum age, maximum age, sex and healthy volunteers as present."""
    eligibility = record.eligibility or Eligibility()
    volunteers = {True: ["Yes"], False: ["No"]}.get(eligibility.healthy_volunteers, [])
    sex = [eligibility.sex] if eligibility.sex else []
    return _split(eligibility.text) + _age(eligibility.min_age) + _age(eligibility.max_age) + sex + volunteers


def _sponsors(record: TrialRecord) -> List[str]:
    ordered = sorted(record.sponsors, key=lambda s: s.role != "lead")
    return [line for sponsor in ordered for line in _split(sponsor.name) + _split(sponsor.class_)]


def _investigators(record: TrialRecord) -> List[str]:
    out = []
    for person in record.investigators:
        out += _split(person.name) + _split(person.degree)
        out += [f"Role: {person.role or MISSING}"] + _split(person.affiliation)
    return out


def _locations(record: TrialRecord) -> List[str]:
    out = []
    for site in record.locations:
        place = [part for part in (site.city, site.state, site.country) if part and part.strip()]
        out += _split(site.facility) + ([", ".join(p.strip() for p in place)] if place else [])
    return out


def _countries(record: TrialRecord) -> List[str]:
    return list(dict.fromkeys(site.country for site in record.locations if site.country))


def _links(record: TrialRecord) -> List[str]:
    return [line for link in record.links for line in _split(link.label)]


def _identifiers(record: TrialRecord) -> List[str]:
    out = []
    for ident in record.secondary_ids:
        own = ident.type == "ORG_STUDY_ID"
        kind = MISSING if own else (ident.type or MISSING)
        source = ORG_STUDY_SOURCE if own else (ident.source or MISSING)
        out += _split(ident.id) + [f"Identifier Type: {kind}", f"Identifier Source: {source}"]
    return out


BODIES: Dict[str, Callable[[TrialRecord], List[str]]] = {
    "basic": _basic,
    "brief_summary": _text("brief_summary"),
    "detailed_description": _text("detailed_description"),
    "conditions": _list("conditions"),
    "keywords": _list("keywords"),
    "design": _design,
    "arms": _arms,
    "interventions": _interventions,
    "other_names": _other_names,
    "eligibility": _eligibility,
    "sponsors": _sponsors,
    "investigators": _investigators,
    "locations": _locations,
    "countries": _countries,
    "links": _links,
    "identifiers": _identifiers,
}


def _joined(text: Optional[str]) -> Optional[str]:
    lines = _split(text)
    return "\n".join(lines) if lines else None


def _people(record: TrialRecord) -> tuple:
    return tuple((_joined(p.name), _joined(p.degree), p.role, _joined(p.affiliation)) for p in record.investigators)


def _sites(record: TrialRecord) -> tuple:
    return tuple((_joined(s.facility), s.city, s.state, s.country) for s in record.locations)


def _ids(record: TrialRecord) -> tuple:
    return tuple((i.id, i.type, i.source if i.type != "ORG_STUDY_ID" else None) for i in record.secondary_ids)


def _arm_view(record: TrialRecord) -> tuple:
    return tuple((_joined(a.label), _joined(a.description), tuple(_bare_name(n) for n in a.interventions))
                 for a in record.arms)


def _eligibility_view(record: TrialRecord) -> dict:
    e = record.eligibility or Eligibility()
    return {"eligibility.text": _joined(e.text),
            "eligibility.min_age": e.min_age.text if e.min_age else None,
            "eligibility.max_age": e.max_age.text if e.max_age else None,
            "eligibility.sex": e.sex, "eligibility.healthy_volunteers": e.healthy_volunteers}


def page_fields(record: TrialRecord) -> Dict[str, object]:
    """The fields a site-faithful page carries, as comparable values (texts as
    their stripped lines joined with `\\n`; `None`/empty when absent).

    Args:
        record: a record, from any source or read back from a page.

    Returns:
        Field name -> value, for per-field comparison of a record and its page.
    """
    design = record.design
    enrollment = record.enrollment.count if record.enrollment else None
    view: Dict[str, object] = {
        "title": _joined(record.title), "trial_id": record.trial_id, "last_updated": record.last_updated,
        "status": record.status, "phases": tuple(record.phases), "enrollment": enrollment,
        "study_type": record.study_type, "start_date": record.start_date,
        "primary_completion_date": record.primary_completion_date, "completion_date": record.completion_date,
        "brief_summary": _joined(record.brief_summary),
        "detailed_description": _joined(record.detailed_description),
        "conditions": tuple(record.conditions), "keywords": tuple(record.keywords),
        "design": tuple(getattr(design, n) for n in ("allocation", "intervention_model", "primary_purpose",
                                                     "masking")) if design else (None,) * 4,
        "arms": _arm_view(record),
        "interventions": tuple((_joined(i.name), _joined(i.description)) for i in record.interventions),
        "other_names": tuple(o for i in record.interventions for o in i.other_names),
        "sponsors": tuple((s.name, s.class_, s.role) for s in record.sponsors),
        "investigators": _people(record), "locations": _sites(record),
        "links": tuple(_joined(link.label) for link in record.links if _joined(link.label)),
        "secondary_ids": _ids(record),
    }
    view.update(_eligibility_view(record))
    return view
