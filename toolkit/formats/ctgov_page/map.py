"""Map a plain-text trial page (the seed's layout) to a `TrialRecord`.

Layout rules (the renderer in `toolkit.formats.ctgov_page.render` writes exactly these):

- Header: a title line, then `Label: value` lines (`NCT ID:` or any
  `<registry> ID:` / `... Number:` line, whose first token is the id;
  `Last Updated:`, optionally `Version:` (when not the last update),
  `Registry:` (when the id prefix does not tell), `Official Title:`,
  `Acronym:`, `First Posted:`). Other header lines become a preamble
  section (heading "").
- A heading is a line starting in column 0 equal to a known heading of
  `page_headings.json` (case-insensitive, optional trailing colon), or an
  unknown short title-case line followed by a caption-like sentence (its own
  section, never dropped). The line after a heading is the page's caption
  when it matches the known caption (fuzzy ratio >= 85) and is dropped;
  otherwise it is a value. A value line that would read as a heading is
  written with a leading backslash (`\\Conditions`).
- Free-text sections (summaries, eligibility criteria) keep their lines as
  written. In the structured sections a value is one line; a value spanning
  several lines continues on lines indented by four spaces; `-` stands for a
  missing value in a fixed position. Bare values are recognised by shape and
  position; where that would be ambiguous the renderer writes `Label: value`
  lines, which the parser accepts in their section:
  * Basic Information: status, phase lines, `N participants [(TYPE)]` (`-`
    for an unknown count), study
    type, dates (2 bare dates = start, completion; 3 = start, primary
    completion, completion; otherwise `Start Date:` ... lines).
  * MeSH Terms (optional): `Condition:` / `Intervention:` lines.
  * Study Design: allocation, intervention model, primary purpose, masking
    (disjoint enums); other design fields as `Label:` lines.
  * Outcome Measures (optional): `Primary Outcome: measure`, `Time Frame:`,
    `Description:`.
  * Study Groups: per arm a label line (`TYPE: label` when the arm type is
    known) and a description line, then per intervention a name line and a
    description line. A line is one of the arm's interventions when it has a
    title-case type prefix (`Drug: x`) or when it and the next line repeat an
    entry of Interventions (or it repeats the name of one without a
    description). On the site's pages a line after a blank line, or a list
    item after a list item or a `:` line, continues a description.
  * Interventions: name (`Drug: name` when typed) and description pairs, each
    followed by `Intervention Type:` for a type outside the enum, and by
    `Arm Group: label` lines only when the study groups do not give its arm
    labels in order. Other Intervention Names: `name: other`
    lines (`name [n]: other` when interventions share a name); the site's
    bare lines go to the only intervention or the one mentioning them, else
    stay in the section text only.
  * Eligibility Criteria: the criteria text as written (`\\>` escapes kept),
    ending with four lines: minimum age, maximum age, sex, healthy volunteers
    (`-` if absent), or `Minimum Age:` ... lines when one is out of shape.
    Pages that leave some out are read back by shape (one bare age is the
    minimum age).
  * Study Population (optional): `Sampling Method:`, `Standard Ages:`,
    `Gender Based:`, `Gender Description:`, `Description:`.
  * Sponsors: name and class pairs; the first is the lead sponsor, the
    others collaborators, unless each pair is followed by a `Role:` line.
  * Principal Investigators: [name], [degree], `Role: ROLE`, affiliation,
    then optional `Email:` / `Phone:` lines; a lone line before `Role:` is a
    degree when it reads as one (`MD`), else a name. The site leaves out
    what is missing: lines between two `Role:` lines split into affiliation
    and next name/degree by count and shape (`page_parties`).
  * Locations: facility, `city, [state], [zip], country` (or `City:` ...
    lines when a part holds a comma; a country holding one, such as
    `Korea, Republic of`, stays whole), optional site status.
  * Countries: derived from the sites, not read back.
  * Related Links: label, then optional URL / `PMID:` / `Type:` lines.
  * Other Identifiers: id, `Identifier Type:`, `Identifier Source:` (the
    site writes the sponsor's own id as type `-`, source `org_study_id`).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

from toolkit.errors import InputError
from toolkit.formats.ctgov_page import eligibility as page_eligibility, parties as page_parties
from toolkit.formats.ctgov_page.layout import (
    DATE, ENROLLMENT, MISSING, VALUES, PageLayout, PageSection, free_text, labelled,
    missing_to_none, split_page, values,
)
from toolkit.normalize.registries import registry_of
from toolkit.formats.raw import RawRecord
from toolkit.records import (
    Arm, Design, Eligibility, Enrollment, Intervention, Outcome, Section, TrialRecord,
)

__all__ = [
    "ARM_GROUP", "INTERVENTION_TYPE", "derive_arm_labels", "other_names_key", "registry_of",
    "split_page", "to_record",
]

# --- field handlers -------------------------------------------------------------------

BASIC_LABELS = {"status": "status", "phase": "phase", "enrollment": "enrollment",
                "study type": "study_type", "start date": "start_date",
                "primary completion date": "primary_completion_date",
                "completion date": "completion_date", "why stopped": "why_stopped"}


def _enrollment(text: str) -> Optional[Enrollment]:
    match = ENROLLMENT.match(text)
    if not match:
        return None
    count = None if match.group(1) == MISSING else int(match.group(1))
    return Enrollment(count=count, type=match.group(2).upper() if match.group(2) else None)


def _basic(lines, context) -> dict:
    out: dict = {"phases": []}
    dates = []
    for line in values(lines):
        pair = labelled(line, BASIC_LABELS)
        if pair and pair[0] == "phase":
            out["phases"].append(pair[1])
        elif pair and pair[0] == "enrollment":
            out["enrollment"] = _enrollment(pair[1])
        elif pair:
            out[pair[0]] = pair[1]
        elif line in VALUES["status"]:
            out["status"] = line
        elif line in VALUES["phase"]:
            out["phases"].append(line)
        elif line in VALUES["study_type"]:
            out["study_type"] = line
        elif enrollment := _enrollment(line):
            out["enrollment"] = enrollment
        elif DATE.match(line):
            dates.append(line)
    out.update(_bare_dates(dates))
    out["phases"] = tuple(out["phases"])
    return out


def _bare_dates(dates: List[str]) -> dict:
    """Two bare dates are start and completion; three add primary completion."""
    names = {1: ("start_date",), 2: ("start_date", "completion_date"),
             3: ("start_date", "primary_completion_date", "completion_date")}.get(len(dates), ())
    return dict(zip(names, dates))


DESIGN_FIELDS = ("allocation", "intervention_model", "primary_purpose", "masking")
DESIGN_LABELS = {"allocation": "allocation", "intervention model": "intervention_model",
                 "primary purpose": "primary_purpose", "masking": "masking",
                 "who masked": "who_masked", "observational model": "observational_model",
                 "time perspective": "time_perspective", "design description": "description"}


def _design(lines, context) -> dict:
    found: dict = {}
    for line in values(lines):
        pair = labelled(line, DESIGN_LABELS)
        if pair:
            found[pair[0]] = pair[1]
            continue
        name = next((f for f in DESIGN_FIELDS if f not in found and line in VALUES[f]), None)
        if name:
            found[name] = line
    if "who_masked" in found:
        found["who_masked"] = tuple(v.strip() for v in found["who_masked"].split(","))
    return {"design": Design(**found)} if found else {}


def _list(lines, context) -> Tuple[str, ...]:
    return tuple(values(lines))


TYPE_PREFIX = {title: enum for enum, title in VALUES["intervention_type"].items()}


def _typed(line: str, types) -> Tuple[Optional[str], str]:
    """Split `TYPE: name` when TYPE is one of `types` (a dict title -> enum or a set)."""
    prefix, sep, rest = line.partition(": ")
    if sep and prefix in types:
        return (types[prefix] if isinstance(types, dict) else prefix), rest
    return None, line


ARM_GROUP = "Arm Group: "
INTERVENTION_TYPE = "Intervention Type: "


def _interventions(lines, context) -> dict:
    """Name and description pairs, each optionally followed by `Intervention Type:`
    (a type outside the enum) and `Arm Group:` lines."""
    items = values(lines, paragraphs=True)
    bare = _bare_list(items)
    group_lines = context.get("group_lines", [])
    found, explicit, i = [], set(), 0
    while i < len(items):
        kind, name = _typed(items[i], TYPE_PREFIX)
        described = i + 1 < len(items) and (not bare or _is_description(items[i], items[i + 1], group_lines))
        description = missing_to_none(items[i + 1]) if described else None
        i += 2 if described else 1
        labels = []
        while i < len(items) and items[i].startswith((ARM_GROUP, INTERVENTION_TYPE)):
            if items[i].startswith(INTERVENTION_TYPE):
                kind = items[i][len(INTERVENTION_TYPE):]
            else:
                labels.append(items[i][len(ARM_GROUP):])
            i += 1
        if labels:
            explicit.add(len(found))
        arm_labels = tuple(label for label in labels if label != MISSING)
        found.append(Intervention(name=name, type=kind, description=description, arm_labels=arm_labels))
    return {"interventions": tuple(found), "explicit_arm_labels": explicit}


def _bare_list(items: List[str]) -> bool:
    """Whether Interventions is written the site's way: no type prefix, no `-`
    filler, no labelled line (then a missing description is left out)."""
    return not any(line == MISSING or _typed(line, TYPE_PREFIX)[0] or line.startswith((ARM_GROUP, INTERVENTION_TYPE))
                   for line in items)


def _is_description(name: str, line: str, group_lines: List[str]) -> bool:
    """On a bare Interventions list, whether `line` after `name` is its description:
    Study Groups pair them, or (with study groups) it is no line of them, or
    (without) it does not read as a name."""
    if any(group_lines[k:k + 2] == [name, line] for k in range(len(group_lines) - 1)):
        return True
    return line not in group_lines if group_lines else not _reads_as_name(line)


def _reads_as_sentence(line: str) -> bool:
    """A line of eight or more words ending a sentence: text, not a label."""
    return len(line.split()) >= 8 and line.endswith((".", ".)"))


def _reads_as_name(line: str) -> bool:
    """A short line that is no sentence: on a bare page without study groups,
    the next intervention's name rather than a description."""
    return "\n" not in line and len(line.split()) <= 4 and not line.endswith((".", ":", ")"))


def _known_intervention_pairs(context, *, typed: bool) -> set:
    """(name line, description line) of each intervention: typed (`Drug: x`) or bare."""
    known = set()
    for item in context.get("interventions", ()):
        description = item.description or MISSING
        title = VALUES["intervention_type"].get(item.type or "")
        if typed and title:
            known.add((f"{title}: {item.name}", description))
        elif not typed:
            known.add((item.name, description))
    return known


def _arms(lines, context) -> dict:
    """Arms: label, description, then (name, description) pairs of their interventions.

    A line is one of the arm's interventions when it carries an intervention
    type prefix (`Drug: x`), or, on a page whose study groups show no such
    prefix (the seed's bare form), when it and the next line repeat an entry
    of Interventions, or it repeats the name of an intervention without a
    description (the site then writes the name alone). An arm whose label is
    directly followed by such a pair has no description line. On a site page
    (no prefix, no `-` filler) a sentence line after an arm's description,
    before its interventions, continues the description.
    """
    items = values(lines, paragraphs=True) + [MISSING, MISSING]
    typed_page = any(_typed(line, TYPE_PREFIX)[0] for line in items)
    known = _known_intervention_pairs(context, typed=typed_page)
    arms: List[dict] = []
    i, end = 0, len(items) - 2
    bare_names = set() if typed_page else {item.name for item in context.get("interventions", ())
                                           if not item.description}
    site_page = not typed_page and MISSING not in items[:end]
    while i < end:
        if arms and _is_arm_intervention(items[i], items[i + 1], known):
            arms[-1]["interventions"].append(items[i])
            i += 2
            continue
        if arms and items[i] in bare_names:
            arms[-1]["interventions"].append(items[i])
            i += 1
            continue
        if site_page and arms and arms[-1]["description"] and not arms[-1]["interventions"] \
                and _reads_as_sentence(items[i]):
            arms[-1]["description"] += "\n" + items[i]
            i += 1
            continue
        kind, label = _typed(items[i], ARM_TYPES)
        bare = i + 1 < end and (items[i + 1], items[i + 2]) in known
        description = None if bare else missing_to_none(items[i + 1] if i + 1 < end else None)
        arms.append({"label": label, "type": kind, "description": description, "interventions": []})
        i += 1 if bare else 2
    return {"arms": tuple(Arm(**{**a, "interventions": tuple(a["interventions"])}) for a in arms)}


ARM_TYPES = set(VALUES["arm_type"])


def _is_arm_intervention(line: str, following: str, known: set) -> bool:
    typed = _typed(line, TYPE_PREFIX)[0] is not None and _typed(line, ARM_TYPES)[0] is None
    return typed or (line, following) in known


def other_names_key(interventions, index: int) -> str:
    """How Other Intervention Names refers to an intervention: its name, plus
    `[n]` (1-based) when several interventions share that name."""
    name = interventions[index].name
    same = [i for i, item in enumerate(interventions) if item.name == name]
    return name if len(same) == 1 else f"{name} [{same.index(index) + 1}]"


def _other_names(lines, context) -> dict:
    interventions = list(context.get("interventions", ()))
    keys = sorted(((i, other_names_key(interventions, i)) for i in range(len(interventions))),
                  key=lambda pair: -len(pair[1]))
    others: Dict[int, List[str]] = {}
    for line in values(lines):
        hit = next(((i, key) for i, key in keys if line.startswith(key + ": ")), None)
        if hit is not None:
            others.setdefault(hit[0], []).append(line[len(hit[1]) + 2:])
        elif (owner := _owner_of_bare_name(interventions, line)) is not None:
            others.setdefault(owner, []).append(line)
    for i, extra in others.items():
        interventions[i] = dataclasses.replace(interventions[i], other_names=tuple(extra))
    return {"interventions": tuple(interventions)}


def _owner_of_bare_name(interventions, other: str) -> Optional[int]:
    """The intervention a bare other-name line (the site's form) belongs to: the
    only intervention, else the one whose name or description alone mentions it;
    `None` when that is not clear (the line stays in the section text)."""
    if len(interventions) == 1:
        return 0
    needle = other.lower()
    owners = [i for i, item in enumerate(interventions)
              if needle in item.name.lower() or item.name.lower() in needle
              or needle in (item.description or "").lower()]
    return owners[0] if len(owners) == 1 else None


OUTCOME_KINDS = {"primary outcome": "primary", "secondary outcome": "secondary", "other outcome": "other"}
OUTCOME_LABELS = {"time frame": "time_frame", "description": "description"}


def _outcomes(lines, context) -> dict:
    found: List[dict] = []
    for line in values(lines):
        kind = labelled(line, OUTCOME_KINDS)
        detail = labelled(line, OUTCOME_LABELS)
        if kind:
            found.append({"kind": kind[0], "measure": kind[1]})
        elif detail and found:
            found[-1][detail[0]] = detail[1]
    return {"outcomes": tuple(Outcome(**item) for item in found)}


MESH_LABELS = {"condition": "condition_mesh", "intervention": "intervention_mesh"}


def _mesh(lines, context) -> dict:
    found: Dict[str, List[str]] = {"condition_mesh": [], "intervention_mesh": []}
    for line in values(lines):
        pair = labelled(line, MESH_LABELS)
        if pair:
            found[pair[0]].append(pair[1])
    return {key: tuple(terms) for key, terms in found.items()}


def _text_field(name: str):
    def handler(lines, context) -> dict:
        text = free_text(lines)
        return {name: text} if text.strip() else {}

    return handler


HANDLERS = {
    "basic": _basic,
    "brief_summary": _text_field("brief_summary"),
    "detailed_description": _text_field("detailed_description"),
    "conditions": lambda lines, context: {"conditions": _list(lines, context)},
    "keywords": lambda lines, context: {"keywords": _list(lines, context)},
    "design": _design,
    "outcomes": _outcomes,
    "interventions": _interventions,
    "arms": _arms,
    "other_names": _other_names,
    "eligibility": page_eligibility.eligibility,
    "population": page_eligibility.population,
    "mesh": _mesh,
    "sponsors": page_parties.sponsors,
    "investigators": page_parties.investigators,
    "locations": page_parties.locations,
    "links": page_parties.links,
    "identifiers": page_parties.identifiers,
}
# Interventions are read first: study groups and other names refer to them.
HANDLER_ORDER = ("interventions",) + tuple(name for name in HANDLERS if name != "interventions")


# --- the record -------------------------------------------------------------------


def _fields(layout: PageLayout) -> dict:
    context: dict = {}
    by_field: Dict[str, List[PageSection]] = {}
    for section in layout.sections:
        by_field.setdefault(section.field, []).append(section)
    context["group_lines"] = [line for s in by_field.get("arms", ()) for line in values(s.lines, paragraphs=True)]
    for name in HANDLER_ORDER:
        for section in by_field.get(name, ()):
            context.update(HANDLERS[name](section.lines, context))
    context.pop("group_lines")
    population = context.pop("population", None)
    if population:
        eligibility = context.get("eligibility") or Eligibility()
        context["eligibility"] = dataclasses.replace(eligibility, **population)
    explicit = context.pop("explicit_arm_labels", set())
    if context.get("arms") and context.get("interventions"):
        derived = derive_arm_labels(context["arms"], context["interventions"])
        context["interventions"] = tuple(
            item if n in explicit else dataclasses.replace(item, arm_labels=derived[n])
            for n, item in enumerate(context["interventions"]))
    return context


def derive_arm_labels(arms, interventions) -> List[Tuple[str, ...]]:
    """The arm labels of each intervention, from the study groups listing its name."""
    derived = []
    for item in interventions:
        lines = {item.name, f"{VALUES['intervention_type'].get(item.type or '', '')}: {item.name}"}
        derived.append(tuple(arm.label for arm in arms if lines & set(arm.interventions)))
    return derived


def _sections(layout: PageLayout) -> Tuple[Section, ...]:
    found = [Section(heading="", text="\n".join(layout.preamble))] if layout.preamble else []
    found += [Section(heading=s.heading, text="\n".join(s.lines)) for s in layout.sections]
    return tuple(found)


def _page_text(raw: RawRecord) -> str:
    if not isinstance(raw.payload, bytes):
        return raw.payload
    try:
        return raw.payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(raw.path, f"page is not UTF-8 text: {exc.reason} at byte {exc.start}",
                         raw.where() or None) from None


def to_record(raw: RawRecord) -> TrialRecord:
    """Map a page (`raw.payload`, its text) to a `TrialRecord`.

    Args:
        raw: a raw record of format `page`; its payload is a str (or UTF-8 bytes).

    Returns:
        The record, without criteria tree (see `toolkit.formats.mapping.parse_record`).

    Raises:
        InputError: the page has no trial id line, or its bytes are not UTF-8.
    """
    layout = split_page(_page_text(raw))
    trial_id = layout.header.get("id")
    if not trial_id:
        raise InputError(raw.path, "no trial id line (like 'NCT ID: NCT...') before the first heading",
                         raw.where() or None)
    header = {k: v for k, v in layout.header.items() if k != "id"}
    registry = header.pop("registry", None) or registry_of(trial_id)
    version = header.pop("version", None) or header.get("last_updated")
    return TrialRecord(
        registry=registry, trial_id=trial_id, version=version,
        title=layout.title, sections=_sections(layout),
        source=raw.source(),
        **header, **_fields(layout),
    )
