"""Map a plain-text trial page (the seed's layout) to a `TrialRecord`.

Layout rules (the renderer in `toolkit.render.page` writes exactly these):

- Header: a title line, then `Label: value` lines (`NCT ID:` or any
  `<registry> ID:` line, `Last Updated:`, optionally `Official Title:`,
  `Acronym:`, `First Posted:`). Other header lines become a preamble section.
- A heading is a line equal to a known heading of `page_headings.json`
  (case-insensitive, optional trailing colon), or an unknown short title-case
  line followed by a caption-like sentence. The line after a heading is the
  page's caption when it matches the known caption (fuzzy, >= 85) and is
  dropped; otherwise it is a value. A value line that would read as a heading
  is written with a leading backslash (`\\Conditions`).
- In the structured sections a value is one line; a value spanning several
  lines continues on lines indented by four spaces. `-` stands for a missing
  value. Bare values are recognised by shape and position; where shape is
  ambiguous the renderer writes `Label: value` lines instead, which the
  parser accepts anywhere in their section:
  * Basic Information: status, phase lines, `N participants [(TYPE)]`, study
    type, dates (2 bare dates = start, completion; 3 = start, primary
    completion, completion), else `Start Date:` ... lines.
  * Study Design: allocation, intervention model, primary purpose, masking
    (disjoint enums), other design fields as `Label:` lines.
  * Study Groups: per arm a label line (`TYPE: label` when the arm type is
    known), a description line, then per intervention a name line and a
    description line. An intervention line carries a title-case type prefix
    (`Drug: x`) or is a name listed under Interventions.
  * Interventions: name (`Drug: name` when typed) and description pairs;
    Other Intervention Names: `name: other name` lines.
  * Eligibility Criteria: the criteria text as written, ending with four
    lines: minimum age, maximum age, sex, healthy volunteers (`-` if absent).
  * Sponsors: name and class pairs; the first is the lead sponsor.
  * Principal Investigators: [name], [degree], `Role: ROLE`, affiliation,
    then optional `Email:` / `Phone:` lines.
  * Locations: facility, `city, [state], [zip], country`, optional status.
  * Related Links: label, then optional URL / `PMID:` / `Type:` lines.
  * Other Identifiers: id, `Identifier Type:`, `Identifier Source:`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Dict, Iterator, List, Optional, Tuple

from rapidfuzz import fuzz, utils

from toolkit.errors import InputError
from toolkit.readers.base import RawRecord
from toolkit.records import (
    Age, Arm, Design, Eligibility, Enrollment, Identifier, Intervention, Investigator,
    Link, Location, Outcome, Section, Source, Sponsor, TrialRecord,
)

__all__ = [
    "PageLayout", "PageSection", "RULES", "split_page", "is_heading_line", "escape_lines",
    "looks_like_degree", "other_names_key", "registry_of", "to_record",
]

RULES = json.loads(resources.files("toolkit.parse").joinpath("page_headings.json").read_text("utf-8"))
HEADINGS = {entry["heading"].lower(): entry for entry in RULES["headings"]}
VALUES = RULES["values"]
CONTINUATION = "    "
MISSING = "-"
CAPTION_CUTOFF = 85.0

ID_LINE = re.compile(r"^\s*(?:[\w.\- ]{0,30}?\s)?(?:ID|Identifier|Number|No\.?)\s*:\s*(\S.*?)\s*$", re.I)
HEADER_LABELS = {"last updated": "last_updated", "official title": "official_title",
                 "acronym": "acronym", "first posted": "first_posted"}
DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
ENROLLMENT = re.compile(r"^(\d+) participants?(?: \((\w+)\))?$", re.I)
AGE = re.compile(r"^\d+(?:\.\d+)?\s+[A-Za-z]+$")
URL = re.compile(r"^(?:https?|ftp)://\S+$", re.I)


@dataclass(frozen=True)
class PageSection:
    """A titled block of a page: heading and its lines, caption dropped."""

    heading: str
    lines: Tuple[str, ...]
    field: Optional[str] = None


@dataclass(frozen=True)
class PageLayout:
    """A page split into header and sections."""

    title: Optional[str]
    header: Dict[str, str]
    preamble: Tuple[str, ...]
    sections: Tuple[PageSection, ...]


# --- splitting a page into sections -------------------------------------------------


def _heading_key(line: str) -> str:
    return line.strip().rstrip(":").strip().lower()


def _looks_like_caption(line: str) -> bool:
    words = line.split()
    return len(words) >= 6 and words[0] in RULES["caption_verbs"] and line.rstrip().endswith(".")


def _looks_like_title(line: str) -> bool:
    words = line.strip().split()
    return 0 < len(words) <= 6 and all(w[:1].isupper() or w in {"and", "of", "or", "&"} for w in words) \
        and not re.search(r"[.:;,!?*\\]", line)


def is_heading_line(lines: List[str], index: int) -> bool:
    """Whether `lines[index]` opens a section (a known or a caption-led heading)."""
    line = lines[index]
    if line[:1].isspace() or not line.strip():
        return False
    if _heading_key(line) in HEADINGS:
        return True
    following = next((later for later in lines[index + 1:] if later.strip()), "")
    return _looks_like_title(line) and _looks_like_caption(following.strip())


def _is_caption(heading: Optional[dict], line: str) -> bool:
    if heading is None:
        return _looks_like_caption(line)
    score = fuzz.ratio(line, heading["caption"], processor=utils.default_process)
    return score >= CAPTION_CUTOFF


def split_page(text: str) -> PageLayout:
    """Split a page into title, header labels, preamble lines and sections."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    starts = [i for i in range(len(lines)) if is_heading_line(lines, i)]
    head = lines[: starts[0]] if starts else lines
    title, header, preamble = _split_header(head)
    sections = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        sections.append(_section(lines[start], lines[start + 1:end]))
    return PageLayout(title, header, tuple(preamble), tuple(sections))


def _section(heading_line: str, body: List[str]) -> PageSection:
    entry = HEADINGS.get(_heading_key(heading_line))
    heading = entry["heading"] if entry else heading_line.strip()
    first = next((i for i, line in enumerate(body) if line.strip()), None)
    if first is not None and _is_caption(entry, body[first].strip()):
        body = body[first + 1:]
    return PageSection(heading, tuple(_trim(body)), entry["field"] if entry else None)


def _trim(lines: List[str]) -> List[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _split_header(lines: List[str]) -> Tuple[Optional[str], Dict[str, str], List[str]]:
    title, header, preamble = None, {}, []
    for line in lines:
        if not line.strip():
            continue
        label, _, value = line.partition(":")
        match = ID_LINE.match(line)
        if match and "id" not in header:
            header["id"] = match.group(1)
        elif value and label.strip().lower() in HEADER_LABELS:
            header[HEADER_LABELS[label.strip().lower()]] = value.strip()
        elif title is None:
            title = line.strip()
        else:
            preamble.append(line)
    return title, header, preamble


def _escapable(text: str) -> bool:
    """Whether a line could read as a heading (or as an escaped line) by itself."""
    if text.startswith("\\"):
        return _escapable(text[1:])
    return _heading_key(text) in HEADINGS or _looks_like_title(text)


def _unescape(line: str) -> str:
    return line[1:] if line.startswith("\\") and _escapable(line[1:]) else line


def escape_lines(lines: List[str]) -> List[str]:
    """Backslash-escape the lines that would read as headings or as escapes."""
    out = []
    for i, line in enumerate(lines):
        clash = is_heading_line(lines, i) or (line.startswith("\\") and _escapable(line[1:]))
        out.append("\\" + line if clash else line)
    return out


def free_text(lines) -> str:
    """The text of a free-text section: lines as written, escapes removed."""
    return "\n".join(_unescape(line) for line in lines)


def values(lines) -> List[str]:
    """Value lines of a structured section: continuations folded, blanks skipped."""
    out: List[str] = []
    for line in lines:
        if line.startswith(CONTINUATION) and out:
            out[-1] += "\n" + line[len(CONTINUATION):]
        elif line.strip():
            out.append(_unescape(line.strip()))
    return out


def _value(text: Optional[str]) -> Optional[str]:
    return None if text is None or text == MISSING else text


def _labelled(line: str, labels: Dict[str, str]) -> Optional[Tuple[str, str]]:
    label, sep, value = line.partition(":")
    key = labels.get(label.strip().lower())
    return (key, value.strip()) if sep and key else None


# --- field handlers -------------------------------------------------------------------

BASIC_LABELS = {"status": "status", "phase": "phase", "enrollment": "enrollment",
                "study type": "study_type", "start date": "start_date",
                "primary completion date": "primary_completion_date",
                "completion date": "completion_date", "why stopped": "why_stopped"}


def _enrollment(text: str) -> Optional[Enrollment]:
    match = ENROLLMENT.match(text)
    if not match:
        return None
    return Enrollment(count=int(match.group(1)), type=match.group(2).upper() if match.group(2) else None)


def _basic(lines, context) -> dict:
    out: dict = {"phases": []}
    dates = []
    for line in values(lines):
        pair = _labelled(line, BASIC_LABELS)
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
        elif _enrollment(line):
            out["enrollment"] = _enrollment(line)
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
        pair = _labelled(line, DESIGN_LABELS)
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


def _interventions(lines, context) -> dict:
    """Name and description pairs, each optionally followed by `Arm Group:` lines."""
    items = values(lines)
    found, explicit, i = [], set(), 0
    while i < len(items):
        kind, name = _typed(items[i], TYPE_PREFIX)
        description = _value(items[i + 1]) if i + 1 < len(items) else None
        i += 2
        labels = []
        while i < len(items) and items[i].startswith(ARM_GROUP):
            labels.append(items[i][len(ARM_GROUP):])
            i += 1
        if labels:
            explicit.add(len(found))
        arm_labels = tuple(label for label in labels if label != MISSING)
        found.append(Intervention(name=name, type=kind, description=description, arm_labels=arm_labels))
    return {"interventions": tuple(found), "explicit_arm_labels": explicit}


def _known_intervention_pairs(context) -> set:
    """(name line, description line) of each intervention, bare and typed."""
    known = set()
    for item in context.get("interventions", ()):
        description = item.description or MISSING
        known.add((item.name, description))
        if item.type in VALUES["intervention_type"]:
            known.add((f"{VALUES['intervention_type'][item.type]}: {item.name}", description))
    return known


def _arms(lines, context) -> dict:
    """Arms: label, description, then (name, description) pairs of their interventions.

    A line is one of the arm's interventions when it carries an intervention
    type prefix (`Drug: x`), or when it and the next line repeat an entry of
    the Interventions section (the seed's bare form).
    """
    known = _known_intervention_pairs(context)
    arm_types = set(VALUES["arm_type"])
    arms: List[dict] = []
    items = values(lines)
    i = 0
    while i < len(items):
        line, following = items[i], items[i + 1] if i + 1 < len(items) else MISSING
        typed = _typed(line, TYPE_PREFIX)[0] is not None and _typed(line, arm_types)[0] is None
        if arms and (typed or (line, following) in known):
            arms[-1]["interventions"].append(line)
        else:
            kind, label = _typed(line, arm_types)
            arms.append({"label": label, "type": kind, "description": _value(following),
                         "interventions": []})
        i += 2
    return {"arms": tuple(Arm(**{**a, "interventions": tuple(a["interventions"])}) for a in arms)}


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
    for i, extra in others.items():
        interventions[i] = dataclasses.replace(interventions[i], other_names=tuple(extra))
    return {"interventions": tuple(interventions)}


ELIGIBILITY_LABELS = {"minimum age": "min_age", "maximum age": "max_age", "sex": "sex",
                      "healthy volunteers": "healthy_volunteers"}


def _tail_shapes(line: str) -> Tuple[bool, bool, bool]:
    """Whether a line can be an age, a sex, a healthy-volunteers line."""
    bare = line.strip()
    return (bool(AGE.match(bare)) or bare == MISSING, bare in VALUES["sex"] or bare == MISSING,
            bare in VALUES["healthy_volunteers"] or bare == MISSING)


TAIL = ("min_age", "max_age", "sex", "healthy_volunteers")


def _split_tail(lines: List[str]) -> Tuple[List[str], dict]:
    """Split the eligibility block into criteria lines and the age/sex/volunteer tail."""
    body = _trim(list(lines))
    filled = [i for i, line in enumerate(body) if line.strip()][-4:]
    tail = [body[i] for i in filled]
    if len(tail) == 4 and _tail_shapes(tail[0])[0] and _tail_shapes(tail[1])[0] \
            and _tail_shapes(tail[2])[1] and _tail_shapes(tail[3])[2]:
        found = dict(zip(TAIL, (t.strip() for t in tail)))
        return _trim(body[: filled[0]]), {k: v for k, v in found.items() if v != MISSING}
    return _split_partial_tail(body)


def _split_partial_tail(body: List[str]) -> Tuple[List[str], dict]:
    """Tail of a page that leaves some lines out: labelled lines, else bare by shape.

    A single bare age is read as the minimum age.
    """
    found: dict = {}
    while body and _labelled(body[-1].strip(), ELIGIBILITY_LABELS):
        key, value = _labelled(body[-1].strip(), ELIGIBILITY_LABELS)
        found[key] = value
        body = _trim(body[:-1])
    if found:
        return body, found
    for name, shape in (("healthy_volunteers", 2), ("sex", 1)):
        if body and body[-1].strip() != MISSING and _tail_shapes(body[-1])[shape]:
            found[name] = body[-1].strip()
            body = _trim(body[:-1])
    ages: List[str] = []
    while found and body and len(ages) < 2 and AGE.match(body[-1].strip()):
        ages.insert(0, body[-1].strip())
        body = _trim(body[:-1])
    found.update(zip(("min_age", "max_age"), ages))
    return body, found


def _age(text: Optional[str]) -> Optional[Age]:
    if text is None:
        return None
    try:
        from toolkit.parse.ages import parse_age
    except ImportError:
        return Age(text=text)
    return parse_age(text)


def _eligibility(lines, context) -> dict:
    body, tail = _split_tail(list(lines))
    volunteers = VALUES["healthy_volunteers"].get(tail.get("healthy_volunteers", ""))
    eligibility = Eligibility(
        text=free_text(body), min_age=_age(tail.get("min_age")), max_age=_age(tail.get("max_age")),
        sex=tail.get("sex"), healthy_volunteers=volunteers,
    )
    return {"eligibility": eligibility}


SPONSOR_CLASSES = set(VALUES["sponsor_class"]) | {MISSING}


def _sponsors(lines, context) -> dict:
    items = values(lines)
    found, i = [], 0
    while i < len(items):
        has_class = i + 1 < len(items) and items[i + 1] in SPONSOR_CLASSES
        role = "collaborator" if found else "lead"
        found.append(Sponsor(name=items[i], role=role, class_=_value(items[i + 1]) if has_class else None))
        i += 2 if has_class else 1
    return {"sponsors": tuple(found)}


DEGREE = re.compile(r"^[A-Z][A-Za-z.]{0,9}(?:,\s*[A-Z][A-Za-z.]{0,9})*$")
CONTACT_LABELS = {"email": "email", "phone": "phone"}


def looks_like_degree(text: str) -> bool:
    """Whether a line reads as academic degrees (`MD`, `MD, PhD`, `M.D.`)."""
    tokens = [t.strip() for t in text.split(",")]
    return bool(DEGREE.match(text)) and all(sum(c.isupper() for c in t) >= 2 for t in tokens)


def _name_degree(pending: List[str]) -> Tuple[Optional[str], Optional[str]]:
    if not pending:
        return None, None
    if len(pending) == 1:
        only = _value(pending[0])
        return (None, only) if only and looks_like_degree(only) else (only, None)
    return _value(" ".join(pending[:-1])), _value(pending[-1])


def _investigators(lines, context) -> dict:
    people: List[dict] = []
    pending: List[str] = []
    items = values(lines)
    i = 0
    while i < len(items):
        line = items[i]
        contact = _labelled(line, CONTACT_LABELS)
        if line.startswith("Role:"):
            name, degree = _name_degree(pending)
            pending = []
            affiliation = items[i + 1] if i + 1 < len(items) and not _is_person_label(items[i + 1]) else None
            people.append({"name": name, "degree": degree, "role": _value(line[5:].strip()),
                           "affiliation": _value(affiliation)})
            i += 2 if affiliation is not None else 1
            continue
        if contact and people and not pending:
            people[-1][contact[0]] = contact[1]
        else:
            pending.append(line)
        i += 1
    if pending:
        name, degree = _name_degree(pending)
        people.append({"name": name, "degree": degree})
    return {"investigators": tuple(Investigator(**p) for p in people)}


def _is_person_label(line: str) -> bool:
    return line.startswith("Role:") or _labelled(line, CONTACT_LABELS) is not None


SITE_STATUSES = set(VALUES["status"])


def _place(line: str) -> dict:
    """`city, [state], [zip], country` -> Location fields; `-` parts are missing."""
    parts = [p.strip() for p in line.split(", ")]
    if len(parts) == 1:
        return {"country": _value(parts[0])}
    place = {"city": _value(parts[0]), "country": _value(parts[-1])}
    middle = parts[1:-1]
    if middle and re.search(r"\d", middle[-1]):
        place["zip"] = middle.pop()
    if middle:
        place["state"] = ", ".join(middle)
    return place


PLACE_LABELS = {"city": "city", "state": "state", "zip": "zip", "country": "country"}


def _locations(lines, context) -> dict:
    items = values(lines)
    found, i = [], 0
    while i < len(items):
        site = {"facility": _value(items[i])}
        i += 1
        if i < len(items) and not _labelled(items[i], PLACE_LABELS):
            site.update(_place(items[i]))
            i += 1
        while i < len(items) and _labelled(items[i], PLACE_LABELS):
            key, value = _labelled(items[i], PLACE_LABELS)
            site[key] = value
            i += 1
        if i < len(items) and items[i] in SITE_STATUSES:
            site["status"] = items[i]
            i += 1
        found.append(Location(**site))
    return {"locations": tuple(found)}


LINK_LABELS = {"pmid": "pmid", "type": "kind", "url": "url"}


def _links(lines, context) -> dict:
    found: List[dict] = []
    for line in values(lines):
        pair = _labelled(line, LINK_LABELS)
        if URL.match(line) and found and "url" not in found[-1]:
            found[-1]["url"] = line
        elif URL.match(line):
            found.append({"url": line})
        elif pair and found:
            found[-1][pair[0]] = pair[1]
        else:
            found.append({"label": _value(line)})
    return {"links": tuple(Link(**link) for link in found)}


IDENTIFIER_LABELS = {"identifier type": "type", "identifier source": "source"}


def _identifiers(lines, context) -> dict:
    found: List[dict] = []
    for line in values(lines):
        pair = _labelled(line, IDENTIFIER_LABELS)
        if pair and found:
            found[-1][pair[0]] = _value(pair[1])
        else:
            found.append({"id": line})
    return {"secondary_ids": tuple(Identifier(**item) for item in found)}


OUTCOME_KINDS = {"primary outcome": "primary", "secondary outcome": "secondary", "other outcome": "other"}
OUTCOME_LABELS = {"time frame": "time_frame", "description": "description"}


def _outcomes(lines, context) -> dict:
    found: List[dict] = []
    for line in values(lines):
        kind = _labelled(line, OUTCOME_KINDS)
        detail = _labelled(line, OUTCOME_LABELS)
        if kind:
            found.append({"kind": kind[0], "measure": kind[1]})
        elif detail and found:
            found[-1][detail[0]] = detail[1]
    return {"outcomes": tuple(Outcome(**item) for item in found)}


POPULATION_LABELS = {"sampling method": "sampling_method", "standard ages": "std_ages",
                     "gender based": "gender_based", "gender description": "gender_description",
                     "description": "study_population"}


def _population(lines, context) -> dict:
    """Study Population: labelled eligibility details (`Sampling Method: ...`)."""
    found: dict = {}
    for line in values(lines):
        pair = _labelled(line, POPULATION_LABELS)
        if pair:
            found[pair[0]] = pair[1]
    if "std_ages" in found:
        found["std_ages"] = tuple(v.strip() for v in found["std_ages"].split(","))
    if "gender_based" in found:
        found["gender_based"] = VALUES["healthy_volunteers"].get(found["gender_based"])
    return {"population": found}


MESH_LABELS = {"condition": "condition_mesh", "intervention": "intervention_mesh"}


def _mesh(lines, context) -> dict:
    found: Dict[str, List[str]] = {"condition_mesh": [], "intervention_mesh": []}
    for line in values(lines):
        pair = _labelled(line, MESH_LABELS)
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
    "eligibility": _eligibility,
    "population": _population,
    "mesh": _mesh,
    "sponsors": _sponsors,
    "investigators": _investigators,
    "locations": _locations,
    "links": _links,
    "identifiers": _identifiers,
}
# Interventions are read first: study groups and other names refer to them.
HANDLER_ORDER = ("interventions",) + tuple(name for name in HANDLERS if name != "interventions")


# --- the record -------------------------------------------------------------------


def registry_of(trial_id: str) -> str:
    """The registry an id belongs to, from its prefix (`NCT...` -> `ctgov`)."""
    for prefix, registry in sorted(RULES["registries"].items(), key=lambda p: -len(p[0])):
        if trial_id.upper().startswith(prefix.upper()):
            return registry
    if re.match(r"^\d{4}-\d{6}-\d{2}", trial_id):
        return "euctr"
    return "unknown"


def _fields(layout: PageLayout) -> dict:
    context: dict = {}
    by_field: Dict[str, List[PageSection]] = {}
    for section in layout.sections:
        by_field.setdefault(section.field, []).append(section)
    for name in HANDLER_ORDER:
        for section in by_field.get(name, ()):
            context.update(HANDLERS[name](section.lines, context))
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


def to_record(raw: RawRecord) -> TrialRecord:
    """Map a page (`raw.payload`, a str) to a `TrialRecord`.

    Raises:
        InputError: the page has no trial id line.
    """
    layout = split_page(raw.payload)
    trial_id = layout.header.get("id")
    if not trial_id:
        raise InputError(raw.path, "no trial id line (like 'NCT ID: NCT...') before the first heading",
                         raw.where() or None)
    header = {k: v for k, v in layout.header.items() if k != "id"}
    return TrialRecord(
        registry=registry_of(trial_id), trial_id=trial_id, version=header.get("last_updated"),
        title=layout.title, sections=_sections(layout),
        source=Source(format="page", path=raw.path, entry=raw.entry, index=raw.index),
        **header, **_fields(layout),
    )
