"""Mapper of legacy ClinicalTrials.gov XML (`<clinical_study>`) to `TrialRecord`.

One pass over the children of `<clinical_study>`: each element name has a
handler that fills the fields of the record; an element without a handler is
kept whole in `extra` (as nested dicts and lists), so nothing of the source
is dropped. Values are spelled as in API v2 (`ACTIVE_NOT_RECRUITING`,
`PHASE1`); the irregular spellings live in `ctgov_xml_enums.json`.

Value helpers (dates, enums, text blocks, ages) are in `toolkit.formats.xml_fields`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Callable, Dict, Optional

from toolkit.errors import InputError
from toolkit.formats.xml_fields import (
    ENUMS, age_limit, as_json, block_text, design_from, enum_value, iso_date,
)
from toolkit.formats.raw import RawRecord
from toolkit.io.safe_xml import XMLReadError, parse_bytes
from toolkit.records import (
    Arm, Eligibility, Enrollment, Identifier, Intervention, Investigator,
    Link, Location, Outcome, Section, Sponsor, TrialRecord,
)

__all__ = ["to_record", "MAPPED_ELEMENTS"]

# Titled text blocks -> section headings (also the order they come in).
SECTION_TITLES = {
    "brief_summary": "Brief Summary",
    "detailed_description": "Detailed Description",
    "criteria": "Eligibility Criteria",
    "study_pop": "Study Population",
    "biospec_descr": "Biospecimen Description",
}

# Dates kept in extra under their element name (ISO when they parse).
EXTRA_DATES = (
    "verification_date", "study_first_submitted", "study_first_submitted_qc",
    "last_update_submitted", "last_update_submitted_qc", "results_first_submitted",
    "results_first_submitted_qc", "results_first_posted", "disposition_first_submitted",
    "disposition_first_submitted_qc", "disposition_first_posted", "firstreceived_date",
    "firstreceived_results_date",
)


# --- the mapper ----------------------------------------------------------------


def to_record(raw: RawRecord) -> TrialRecord:
    """Map one `<clinical_study>` to a `TrialRecord`.

    Args:
        raw: a raw record whose payload is the element (or the file's bytes).

    Returns:
        The record (criteria tree not yet attached; see `toolkit.formats.mapping`).

    Raises:
        InputError: the payload is not a study or has no `<nct_id>`.
    """
    root = _root(raw)
    state = _State()
    for child in root:
        _HANDLERS.get(child.tag, _keep)(child, state)
        known = _CHILD_TAGS.get(child.tag)
        if known is not None:
            _keep_unknown_children(child, known, state)
    if not state.fields.get("trial_id"):
        raise InputError(raw.path, "no <id_info><nct_id> in <clinical_study>", raw.where())
    return state.build(raw)


def _root(raw: RawRecord) -> ET.Element:
    payload = raw.payload
    if isinstance(payload, (bytes, bytearray)):
        try:
            payload = parse_bytes(bytes(payload))
        except XMLReadError as exc:
            raise InputError(raw.path, str(exc), raw.where()) from None
    if not isinstance(payload, ET.Element) or payload.tag != "clinical_study":
        raise InputError(raw.path, "payload is not a <clinical_study> element", raw.where())
    return payload


class _State:
    """What the handlers collect while walking one study."""

    def __init__(self):
        self.fields: Dict[str, Any] = {}
        self.lists: Dict[str, list] = {}
        self.extra: Dict[str, Any] = {}
        self.eligibility: Dict[str, Any] = {}

    def add(self, name: str, value: Any) -> None:
        """Append a value to a repeated field."""
        if value is not None:
            self.lists.setdefault(name, []).append(value)

    def keep(self, name: str, value: Any) -> None:
        """Keep a value in `extra` (repeated names become lists)."""
        if name in self.extra:
            old = self.extra[name]
            self.extra[name] = old + [value] if isinstance(old, list) else [old, value]
        else:
            self.extra[name] = value

    def build(self, raw: RawRecord) -> TrialRecord:
        """The record from everything collected."""
        lists = {k: tuple(v) for k, v in self.lists.items()}
        arms = _link_arms(lists.pop("arms", ()), lists.get("interventions", ()))
        eligibility = Eligibility(**self.eligibility) if self.eligibility else None
        source = raw.source()
        return TrialRecord(
            registry="ctgov", arms=arms, eligibility=eligibility, extra=self.extra,
            source=source, **self.fields, **lists,
        )


def _keep_unknown_children(elem: ET.Element, known: frozenset, state: _State) -> None:
    """Keep in `extra` the children a handler does not read ("arm_group.x")."""
    for child in elem:
        if child.tag not in known:
            state.keep(f"{elem.tag}.{child.tag}", as_json(child))


def _stripped(text: Optional[str]) -> Optional[str]:
    """An element's text without surrounding space; None when there is none."""
    return (text.strip() or None) if text else None


def _text(elem: Optional[ET.Element]) -> Optional[str]:
    return None if elem is None else _stripped(elem.text)


def _child(elem: ET.Element, tag: str) -> Optional[str]:
    return _stripped(elem.findtext(tag))  # findtext: "" for an element without text, None for none


def _texts(elem: ET.Element) -> Dict[str, Optional[str]]:
    """`_child` of every child at once, by tag (the first of a repeated tag)."""
    out: Dict[str, Optional[str]] = {}
    for child in elem:
        if child.tag not in out:
            out[child.tag] = _stripped(child.text)
    return out


# --- handlers: one per element name -------------------------------------------


def _keep(elem: ET.Element, state: _State) -> None:
    state.keep(elem.tag, as_json(elem))


def _field(name: str, convert: Callable[[Optional[str]], Any] = lambda t: t):
    def handler(elem: ET.Element, state: _State) -> None:
        value = convert(_text(elem))
        if value is not None:
            state.fields[name] = value
        _date_type(elem, state)
    return handler


def _date_type(elem: ET.Element, state: _State) -> None:
    """Keep the Actual/Anticipated type of a date in `extra["date_types"]`."""
    if elem.get("type"):
        state.extra.setdefault("date_types", {})[elem.tag] = enum_value(
            elem.get("type"), "enrollment_type")


def _list(name: str):
    def handler(elem: ET.Element, state: _State) -> None:
        state.add(name, _text(elem))
    return handler


def _id_info(elem: ET.Element, state: _State) -> None:
    for child in elem:
        text = _text(child)
        if child.tag == "nct_id":
            state.fields["trial_id"] = text
        elif text:
            state.add("secondary_ids", Identifier(text, type=child.tag))


def _sponsors(elem: ET.Element, state: _State) -> None:
    for child in elem:
        name = _child(child, "agency")
        if name is None:
            state.keep("sponsors", as_json(child))
            continue
        role = "lead" if child.tag == "lead_sponsor" else "collaborator"
        klass = enum_value(_child(child, "agency_class"), "agency_class")
        state.add("sponsors", Sponsor(name, role=role, class_=klass))


def _textblock(name: Optional[str]):
    def handler(elem: ET.Element, state: _State) -> None:
        text = block_text(elem.findtext("textblock"))
        if name:
            state.fields[name] = text
        state.add("sections", Section(SECTION_TITLES[elem.tag], text))
    return handler


def _status(elem: ET.Element, state: _State) -> None:
    state.fields["status"] = enum_value(_text(elem), "status")


def _phase(elem: ET.Element, state: _State) -> None:
    text = _text(elem)
    if not text:
        return
    parts = [text] if text in ENUMS["phase"] else text.split("/")
    state.fields["phases"] = tuple(enum_value(p, "phase") for p in parts)


def _study_type(elem: ET.Element, state: _State) -> None:
    text = _text(elem)
    state.fields["study_type"] = enum_value(text, "study_type")
    if text and "[" in text:
        state.extra["study_type_detail"] = text[text.index("[") + 1:].rstrip("]")


def _design(elem: ET.Element, state: _State) -> None:
    values = {child.tag: _text(child) for child in elem}
    state.fields["design"] = design_from(values)
    if values:
        state.keep("study_design_info", values)


def _enrollment(elem: ET.Element, state: _State) -> None:
    text = _text(elem)
    count = int(text) if text and text.isdigit() else None
    kind = enum_value(elem.get("type"), "enrollment_type")
    state.fields["enrollment"] = Enrollment(count=count, type=kind)
    if text and count is None:
        state.extra["enrollment_text"] = text


def _arm_group(elem: ET.Element, state: _State) -> None:
    state.add("arms", Arm(
        label=_child(elem, "arm_group_label") or "",
        type=enum_value(_child(elem, "arm_group_type")),
        description=block_text(_child(elem, "description")) or None,
    ))


def _intervention(elem: ET.Element, state: _State) -> None:
    state.add("interventions", Intervention(
        name=_child(elem, "intervention_name") or "",
        type=enum_value(_child(elem, "intervention_type")),
        description=block_text(_child(elem, "description")) or None,
        other_names=tuple(_text(e) for e in elem.iterfind("other_name") if _text(e)),
        arm_labels=tuple(_text(e) for e in elem.iterfind("arm_group_label") if _text(e)),
    ))


def _link_arms(arms, interventions):
    """Fill each arm's intervention names ("Drug: Aspirin", as API v2 does)."""
    if not arms:
        return ()
    names: Dict[str, list] = {}
    for item in interventions:
        label = f"{item.type.replace('_', ' ').title()}: {item.name}" if item.type else item.name
        for arm in item.arm_labels:
            names.setdefault(arm, []).append(label)
    return tuple(
        Arm(a.label, a.type, a.description, tuple(names.get(a.label, ()))) for a in arms
    )


def _outcome(kind: str):
    def handler(elem: ET.Element, state: _State) -> None:
        state.add("outcomes", Outcome(
            kind=kind, measure=_child(elem, "measure") or "",
            time_frame=_child(elem, "time_frame"),
            description=block_text(_child(elem, "description")) or None,
        ))
    return handler


def _eligibility(elem: ET.Element, state: _State) -> None:
    out = state.eligibility
    for child in elem:
        tag = child.tag
        if tag in ("criteria", "study_pop"):
            _section(child, state)
            key = "text" if tag == "criteria" else "study_population"
            out[key] = state.lists["sections"][-1].text
        elif tag == "gender":
            out["sex"] = enum_value(_text(child), "sex")
        elif tag in ("minimum_age", "maximum_age"):
            out["min_age" if tag == "minimum_age" else "max_age"] = age_limit(_text(child))
        elif tag == "healthy_volunteers":
            out["healthy_volunteers"] = ENUMS["healthy_volunteers"].get(_text(child))
        elif tag == "gender_based":
            out["gender_based"] = _text(child) == "Yes"
        elif tag in ("sampling_method", "gender_description"):
            out[tag] = _text(child) if tag == "gender_description" else enum_value(_text(child))
        else:
            state.keep(f"eligibility.{tag}", as_json(child))


def _person(role: str, elem: ET.Element, affiliation: Optional[str] = None) -> Investigator:
    texts = _texts(elem)
    get = texts.get
    phone, ext = get("phone"), get("phone_ext")
    names = (get("first_name"), get("middle_name"), get("last_name"))
    return Investigator(
        name=" ".join(filter(None, names)) or None, role=role,
        affiliation=get("affiliation") or affiliation, degree=get("degree"),
        email=get("email"), phone=f"{phone} ext {ext}" if phone and ext else phone,
    )


def _official(elem: ET.Element, state: _State) -> None:
    state.add("investigators", _person(enum_value(_child(elem, "role")) or "OFFICIAL", elem))


def _contact(role: str):
    def handler(elem: ET.Element, state: _State) -> None:
        state.add("investigators", _person(role, elem))
    return handler


def _responsible_party(elem: ET.Element, state: _State) -> None:
    state.keep("responsible_party", as_json(elem))
    name = _child(elem, "investigator_full_name") or _child(elem, "name_title")
    if name:
        state.add("investigators", Investigator(
            name=name, role="RESPONSIBLE_PARTY", degree=_child(elem, "investigator_title"),
            affiliation=_child(elem, "investigator_affiliation") or _child(elem, "organization"),
        ))


def _location(elem: ET.Element, state: _State) -> None:
    name = city = region = zip_code = country = None
    facility = elem.find("facility")
    if facility is not None:
        name = _child(facility, "name")
        address = facility.find("address")
        if address is not None:
            texts = _texts(address)
            city, region = texts.get("city"), texts.get("state")
            zip_code, country = texts.get("zip"), texts.get("country")
    state.add("locations", Location(
        facility=name, city=city, state=region, zip=zip_code, country=country,
        status=enum_value(elem.findtext("status")),
    ))
    if len(elem) > 2 or facility is None:
        _site_people(elem, name, state)


def _site_people(elem: ET.Element, facility: Optional[str], state: _State) -> None:
    """Contacts and investigators of a site, with the site as affiliation."""
    for child in elem:
        if child.tag in ("contact", "contact_backup"):
            state.add("investigators", _person(f"SITE_{child.tag.upper()}", child, facility))
        elif child.tag == "investigator":
            role = enum_value(_child(child, "role")) or "INVESTIGATOR"
            state.add("investigators", _person(f"SITE_{role}", child, facility))
        elif child.tag not in ("facility", "status"):
            state.keep(f"location.{child.tag}", as_json(child))


def _web_link(elem: ET.Element, state: _State) -> None:
    state.add("links", Link(label=_child(elem, "description"), url=_child(elem, "url"), kind="link"))


def _reference(kind: str):
    def handler(elem: ET.Element, state: _State) -> None:
        state.add("links", Link(label=_child(elem, "citation"), kind=kind, pmid=_child(elem, "PMID")))
    return handler


def _mesh(name: str):
    def handler(elem: ET.Element, state: _State) -> None:
        for term in elem.iterfind("mesh_term"):
            state.add(name, _text(term))
    return handler


def _date_or_text(text: Optional[str]) -> Optional[str]:
    return iso_date(text) or text


def _last_update(elem: ET.Element, state: _State) -> None:
    date = _date_or_text(_text(elem))
    state.fields["last_updated"] = date
    state.fields["version"] = date
    _date_type(elem, state)


def _lastchanged(elem: ET.Element, state: _State) -> None:
    date = _date_or_text(_text(elem))
    state.fields.setdefault("last_updated", date)
    state.fields.setdefault("version", date)
    state.extra["lastchanged_date"] = date


def _extra_date(elem: ET.Element, state: _State) -> None:
    state.keep(elem.tag, _date_or_text(_text(elem)))
    _date_type(elem, state)


def _results(elem: ET.Element, state: _State) -> None:
    marker = {"present": True, "mapped": False}
    if elem.get("omitted_bytes"):
        marker["omitted_bytes"] = int(elem.get("omitted_bytes"))
    state.extra["clinical_results"] = marker


_section = _textblock(None)  # a titled text block kept as a section only


_HANDLERS: Dict[str, Callable[[ET.Element, _State], None]] = {
    "id_info": _id_info,
    "brief_title": _field("title"),
    "official_title": _field("official_title"),
    "acronym": _field("acronym"),
    "sponsors": _sponsors,
    "brief_summary": _textblock("brief_summary"),
    "detailed_description": _textblock("detailed_description"),
    "biospec_descr": _section,
    "overall_status": _status,
    "why_stopped": _field("why_stopped"),
    "phase": _phase,
    "study_type": _study_type,
    "study_design_info": _design,
    "start_date": _field("start_date", _date_or_text),
    "completion_date": _field("completion_date", _date_or_text),
    "primary_completion_date": _field("primary_completion_date", _date_or_text),
    "study_first_posted": _field("first_posted", _date_or_text),
    "last_update_posted": _last_update,
    "lastchanged_date": _lastchanged,
    "enrollment": _enrollment,
    "condition": _list("conditions"),
    "keyword": _list("keywords"),
    "arm_group": _arm_group,
    "intervention": _intervention,
    "primary_outcome": _outcome("primary"),
    "secondary_outcome": _outcome("secondary"),
    "other_outcome": _outcome("other"),
    "eligibility": _eligibility,
    "overall_official": _official,
    "overall_contact": _contact("CONTACT"),
    "overall_contact_backup": _contact("CONTACT_BACKUP"),
    "responsible_party": _responsible_party,
    "location": _location,
    "link": _web_link,
    "reference": _reference("reference"),
    "results_reference": _reference("results_reference"),
    "condition_browse": _mesh("condition_mesh"),
    "intervention_browse": _mesh("intervention_mesh"),
    "clinical_results": _results,
    **{tag: _extra_date for tag in EXTRA_DATES},
}

# Elements of <clinical_study> mapped to fields; all others are kept in `extra`.
MAPPED_ELEMENTS = frozenset(_HANDLERS)

# Children each structured handler reads; any other child is kept in `extra`.
_PERSON = frozenset({"first_name", "middle_name", "last_name", "degree", "role", "affiliation",
                     "phone", "phone_ext", "email"})
_OUTCOME = frozenset({"measure", "time_frame", "description"})
_CHILD_TAGS = {
    "arm_group": frozenset({"arm_group_label", "arm_group_type", "description"}),
    "intervention": frozenset({"intervention_type", "intervention_name", "description",
                               "arm_group_label", "other_name"}),
    "primary_outcome": _OUTCOME, "secondary_outcome": _OUTCOME, "other_outcome": _OUTCOME,
    "overall_official": _PERSON, "overall_contact": _PERSON, "overall_contact_backup": _PERSON,
    "link": frozenset({"url", "description"}),
    "reference": frozenset({"citation", "PMID"}),
    "results_reference": frozenset({"citation", "PMID"}),
    "condition_browse": frozenset({"mesh_term"}),
    "intervention_browse": frozenset({"mesh_term"}),
}
