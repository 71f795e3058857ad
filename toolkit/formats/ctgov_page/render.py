"""Render a `TrialRecord` as a plain-text trial page (the seed's layout).

The output follows the layout rules documented in `toolkit.formats.ctgov_page.map`: the
seed's headings, captions and bare value lines in the seed's order, so that
`toolkit.formats.ctgov_page.map` reads the same fields back. Where a bare line would be
ambiguous the renderer writes what the parser needs to read it back:
`-` for a missing value in a fixed position, `Label: value` lines for values
out of their usual shape, four-space continuation lines for values spanning
several lines, and a leading backslash on a value line that reads as a heading.
Optional headings (MeSH Terms, Outcome Measures, Study Population) are
written only when they have values.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional

from toolkit.formats.ctgov_page.map import (
    ARM_GROUP, INTERVENTION_TYPE, derive_arm_labels, other_names_key, registry_of,
)
from toolkit.formats.ctgov_page.layout import (
    AGE, CONTINUATION, DATE, MISSING, RULES, URL, VALUES, escape_lines, labelled,
)
from toolkit.formats.ctgov_page.parties import LINK_LABELS, ORG_STUDY_SOURCE, looks_like_degree
from toolkit.formats.ctgov_page.render_faithful import render_faithful_page
from toolkit.records import Age, Eligibility, Intervention, TrialRecord

__all__ = ["render_page"]

ID_LABELS = {"ctgov": "NCT ID"}


# Sections a record has no fields for: a record read from a page gets its own text back.
PAGE_ONLY = ("results", "responsible_party", "countries")


def render_page(record: TrialRecord, *, faithful: bool = False) -> str:
    """Write a record as a trial page.

    A record read from a page also gets back what only the page held: its
    preamble lines, the text of Study Results, Responsible Party and
    Countries, and its unknown sections (at the end, in source order).

    Args:
        record: the record to write.
        faithful: write only what the real site's page shows, the site's way
            (`toolkit.formats.ctgov_page.render_faithful`): not lossless, but what real
            pages look like.

    Returns:
        The page text, lines joined with `\\n`, no trailing newline (as the seed).
    """
    if faithful:
        return render_faithful_page(record)
    own = _own_sections(record)
    lines = _header(record) + own.pop("", [])
    for entry in RULES["headings"]:
        kept = own.pop(entry["heading"], None)
        body = kept if kept is not None and entry["field"] in PAGE_ONLY else _body(record, entry["field"])
        if body or not entry.get("optional"):
            lines += [entry["heading"], entry["caption"]] + body
    for heading, body in own.items():
        lines += [heading] + body
    return "\n".join(lines)


def _body(record: TrialRecord, field: str) -> List[str]:
    """The value lines of one heading, escaped where they would read as headings."""
    items = BODIES.get(field, _nothing)(record)
    return escape_lines([line for item in items for line in item.split("\n")])


def _own_sections(record: TrialRecord) -> Dict[str, List[str]]:
    """Heading -> raw lines of the sections of a record read from a page."""
    if record.source is None or record.source.format != "page":
        return {}
    own: Dict[str, List[str]] = {}
    for section in record.sections:
        own.setdefault(section.heading, section.text.split("\n") if section.text else [])
    return own


def _header(record: TrialRecord) -> List[str]:
    """Title, id line, then labelled lines; `Version:` and `Registry:` only where
    the last update and the id's prefix do not tell them."""
    lines = _lines(_continued(record.title)) if record.title and record.title.strip() else []
    lines.append(f"{ID_LABELS.get(record.registry, 'Trial ID')}: {record.trial_id}")
    version = record.version if record.version != record.last_updated else None
    registry = record.registry if record.registry != registry_of(record.trial_id) else None
    labels = (("Last Updated", record.last_updated), ("Version", version), ("Registry", registry),
              ("Official Title", record.official_title), ("Acronym", record.acronym),
              ("First Posted", record.first_posted))
    lines += _lines(*(f"{label}: {_continued(value)}" for label, value in labels if value))
    return lines


def _continued(text: str) -> str:
    """A present value as written: stripped, continuation lines when multi-line
    (unlike `_value`, an empty value stays empty)."""
    return _value(text) if text is not None and str(text).strip() else str(text or "")


def _value(text: Optional[str]) -> str:
    """A value as page lines: `-` when missing, continuation lines when multi-line."""
    if text is None or not str(text).strip():
        return MISSING
    parts = str(text).strip().replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join([parts[0].strip()] + [CONTINUATION + part for part in parts[1:]])


def _lines(*values: str) -> List[str]:
    return [line for value in values for line in value.split("\n")]


def _nothing(record: TrialRecord) -> List[str]:
    return []


def _basic(record: TrialRecord) -> List[str]:
    out = []
    if record.status:
        out.append(record.status if record.status in VALUES["status"] else f"Status: {record.status}")
    out += [p if p in VALUES["phase"] else f"Phase: {p}" for p in record.phases]
    enrollment = record.enrollment
    if enrollment is not None and (enrollment.count is not None or enrollment.type):
        kind = f" ({enrollment.type})" if enrollment.type else ""
        count = MISSING if enrollment.count is None else enrollment.count
        out.append(f"{count} participants{kind}")
    if record.study_type:
        known = record.study_type in VALUES["study_type"]
        out.append(record.study_type if known else f"Study Type: {record.study_type}")
    out += _dates(record)
    if record.why_stopped:
        out += _lines("Why Stopped: " + _value(record.why_stopped))
    return out


def _dates(record: TrialRecord) -> List[str]:
    """Two or three bare dates when start and completion are known, else labelled."""
    named = (("Start Date", record.start_date),
             ("Primary Completion Date", record.primary_completion_date),
             ("Completion Date", record.completion_date))
    present = [(label, value) for label, value in named if value]
    bare = record.start_date and record.completion_date and all(DATE.match(v) for _, v in present)
    return [value if bare else f"{label}: {value}" for label, value in present]


def _text_lines(text: Optional[str]) -> List[str]:
    """A free text's lines as written, blank lines at either end dropped; none when blank."""
    text = text or ""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n").split("\n") if text.strip() else []


def _text(name: str) -> Callable[[TrialRecord], List[str]]:
    return lambda record: _text_lines(getattr(record, name))


def _list(name: str) -> Callable[[TrialRecord], List[str]]:
    return lambda record: _lines(*(_value(v) for v in getattr(record, name)))


DESIGN_LABELS = (("allocation", "Allocation"), ("intervention_model", "Intervention Model"),
                 ("primary_purpose", "Primary Purpose"), ("masking", "Masking"),
                 ("observational_model", "Observational Model"),
                 ("time_perspective", "Time Perspective"), ("description", "Design Description"))


def _design(record: TrialRecord) -> List[str]:
    design = record.design
    if design is None:
        return []
    out = []
    for name, label in DESIGN_LABELS:
        value = getattr(design, name)
        if value and name in VALUES and value in VALUES[name]:
            out.append(value)
        elif value:
            out += _lines(f"{label}: " + _value(value))
    if design.who_masked:
        out.append("Who Masked: " + ", ".join(design.who_masked))
    return out


def _outcomes(record: TrialRecord) -> List[str]:
    out = []
    for outcome in record.outcomes:
        out += _lines(f"{outcome.kind.title()} Outcome: " + _value(outcome.measure))
        if outcome.time_frame:
            out += _lines("Time Frame: " + _value(outcome.time_frame))
        if outcome.description:
            out += _lines("Description: " + _value(outcome.description))
    return out


def _typed_name(item: Intervention) -> str:
    title = VALUES["intervention_type"].get(item.type or "")
    return f"{title}: {item.name}" if title else item.name


def _arms(record: TrialRecord) -> List[str]:
    described: Dict[str, Optional[str]] = {}
    for item in record.interventions:
        described.setdefault(item.name, item.description)
        described.setdefault(_typed_name(item), item.description)
    out = []
    for arm in record.arms:
        label = f"{arm.type}: {arm.label}" if arm.type in VALUES["arm_type"] else arm.label
        out += _lines(_value(label), _value(arm.description))
        for name in arm.interventions:
            out += _lines(_value(name), _value(described.get(name)))
    return out


def _interventions(record: TrialRecord) -> List[str]:
    """Name and description pairs; `Arm Group:` lines where the study groups do not tell."""
    derived = derive_arm_labels(record.arms, record.interventions)
    out = []
    for item, labels in zip(record.interventions, derived):
        out += _lines(_value(_typed_name(item)), _value(item.description))
        if item.type and item.type not in VALUES["intervention_type"]:
            out += _lines(INTERVENTION_TYPE + _continued(item.type))
        if tuple(item.arm_labels) != labels:
            out += [ARM_GROUP + _continued(label) for label in item.arm_labels or (MISSING,)]
    return out


def _other_names(record: TrialRecord) -> List[str]:
    items = record.interventions
    return [f"{other_names_key(items, i)}: {_continued(other)}"
            for i, item in enumerate(items) for other in item.other_names]


def _age(age: Optional[Age]) -> Optional[str]:
    return age.text if age is not None and age.text else None


TAIL_LABELS = ("Minimum Age", "Maximum Age", "Sex", "Healthy Volunteers")


def _eligibility(record: TrialRecord) -> List[str]:
    """Criteria text, then minimum age, maximum age, sex and healthy volunteers:
    four bare lines when each has its usual shape, else labelled lines."""
    eligibility = record.eligibility or Eligibility()
    volunteers = {True: "Yes", False: "No"}.get(eligibility.healthy_volunteers)
    tail = [_age(eligibility.min_age), _age(eligibility.max_age), eligibility.sex, volunteers]
    bare = all(age is None or AGE.match(age) for age in tail[:2]) and tail[2] in VALUES["sex"] + [None]
    if bare:
        tail = [MISSING if value is None else value for value in tail]
    else:
        tail = [f"{label}: {_continued(value)}" for label, value in zip(TAIL_LABELS, tail) if value is not None]
    return _text_lines(eligibility.text) + tail


def _population(record: TrialRecord) -> List[str]:
    eligibility = record.eligibility or Eligibility()
    volunteers = {True: "Yes", False: "No"}
    named = (("Sampling Method", eligibility.sampling_method),
             ("Standard Ages", ", ".join(eligibility.std_ages)),
             ("Gender Based", volunteers.get(eligibility.gender_based)),
             ("Gender Description", eligibility.gender_description),
             ("Description", eligibility.study_population))
    return [line for label, value in named if value for line in _lines(f"{label}: " + _value(value))]


def _mesh(record: TrialRecord) -> List[str]:
    return [f"{label}: {_continued(term)}" for label, terms in
            (("Condition", record.condition_mesh), ("Intervention", record.intervention_mesh)) for term in terms]


def _sponsors(record: TrialRecord) -> List[str]:
    """Name and class pairs, the lead first; `Role:` lines when roles are not
    one lead and collaborators."""
    ordered = sorted(record.sponsors, key=lambda s: s.role != "lead")
    usual = [s.role for s in ordered] == ["lead"] + ["collaborator"] * (len(ordered) - 1)
    out = []
    for sponsor in ordered:
        out += _lines(_value(sponsor.name), _value(sponsor.class_))
        if not usual:
            out += _lines("Role: " + _value(sponsor.role))
    return out


def _results(record: TrialRecord) -> List[str]:
    """A note when the source has posted results (the page does not show them)."""
    posted = isinstance(record.extra, dict) and record.extra.get("has_results") is True
    return ["Results are posted for this trial in its registry."] if posted else []


def _responsible_party(record: TrialRecord) -> List[str]:
    """The kind of responsible party, when the source kept it (`SPONSOR` ...); the
    person, if any, is listed under Principal Investigators."""
    party = record.extra.get("responsible_party") if isinstance(record.extra, dict) else None
    kind = party.get("type") if isinstance(party, dict) else None
    return [_continued(str(kind))] if kind else []


def _person_names(name: Optional[str], degree: Optional[str]) -> List[str]:
    """Name and degree lines; `-` fills in where one line alone would be misread."""
    if name and degree:
        return [name, degree]
    if name:
        return [name, MISSING] if looks_like_degree(name) else [name]
    if degree:
        return [degree] if looks_like_degree(degree) else [MISSING, degree]
    return [MISSING]


def _investigators(record: TrialRecord) -> List[str]:
    out = []
    for person in record.investigators:
        out += _person_names(_clean(person.name), _clean(person.degree))
        out += [f"Role: {person.role or MISSING}", _continued(person.affiliation or MISSING)]
        out += [f"{label}: {value}" for label, value in (("Email", person.email), ("Phone", person.phone))
                if value]
    return out


def _clean(text: Optional[str]) -> Optional[str]:
    return _continued(text) if text and text.strip() else None


def _place(site) -> List[str]:
    """The `city, [state], [zip], country` line, or labelled lines when that would misread."""
    parts = {"city": site.city, "state": site.state, "zip": site.zip, "country": site.country}
    odd = any(v and ", " in v for v in parts.values()) or (site.state and re.search(r"\d", site.state)) \
        or (site.zip and not re.search(r"\d", site.zip)) or (not site.city and not site.country)
    if not any(parts.values()):
        return [f"{MISSING}, {MISSING}"]
    if odd:
        return [f"{k.title()}: {_continued(v)}" for k, v in parts.items() if v]
    line = [site.city or MISSING] + [v for v in (site.state, site.zip) if v] + [site.country or MISSING]
    return [", ".join(_continued(v) for v in line)]


def _locations(record: TrialRecord) -> List[str]:
    out = []
    for site in record.locations:
        out += [_continued(site.facility or MISSING)] + _place(site)
        if site.status:
            out.append(site.status)
    return out


def _countries(record: TrialRecord) -> List[str]:
    return list(dict.fromkeys(site.country for site in record.locations if site.country))


def _links(record: TrialRecord) -> List[str]:
    out = []
    for link in record.links:
        label = _value(link.label)
        clash = URL.match(label) or labelled(label.split("\n")[0], LINK_LABELS)
        out += _lines("Label: " + label if clash else label)
        if link.url:
            out.append(link.url if URL.match(link.url) else f"URL: {link.url}")
        out += [f"{label}: {value}" for label, value in (("PMID", link.pmid), ("Type", link.kind)) if value]
    return out


def _identifiers(record: TrialRecord) -> List[str]:
    """Id, type and source lines; the sponsor's own id without a source the site's way."""
    out = []
    for ident in record.secondary_ids:
        kind, source = ident.type or MISSING, ident.source or MISSING
        if ident.type == "ORG_STUDY_ID" and not ident.source:
            kind, source = MISSING, ORG_STUDY_SOURCE
        out += [_continued(ident.id), f"Identifier Type: {kind}", f"Identifier Source: {source}"]
    return out


BODIES: Dict[str, Callable[[TrialRecord], List[str]]] = {
    "results": _results,
    "basic": _basic,
    "brief_summary": _text("brief_summary"),
    "detailed_description": _text("detailed_description"),
    "conditions": _list("conditions"),
    "keywords": _list("keywords"),
    "design": _design,
    "outcomes": _outcomes,
    "arms": _arms,
    "interventions": _interventions,
    "other_names": _other_names,
    "eligibility": _eligibility,
    "population": _population,
    "mesh": _mesh,
    "sponsors": _sponsors,
    "responsible_party": _responsible_party,
    "investigators": _investigators,
    "locations": _locations,
    "countries": _countries,
    "links": _links,
    "identifiers": _identifiers,
}
