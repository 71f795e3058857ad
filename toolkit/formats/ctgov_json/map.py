"""Map a ClinicalTrials.gov API v2 study to a `TrialRecord`.

Every module of `protocolSection` has a handler that takes the keys it maps;
whatever a handler leaves (and every module without a handler) is kept in
`extra` under the module's name, verbatim, so nothing of the source is
silently dropped. `derivedSection` gives the MeSH terms (`condition_mesh`,
`intervention_mesh`; the rest of it is kept in `extra`); `resultsSection`
is not mapped, only marked (`extra["has_results"]`, `extra["results_modules"]`).
Sections are the titled text blocks, in the order the website shows them.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional

from toolkit.errors import InputError
from toolkit.normalize.ages import parse_age
from toolkit.normalize.fields import (
    as_int, clean_text, enrollment_type, enum_token, iso_date, phase_list, sex_enum,
    status_enum, text_list,
)
from toolkit.formats.raw import RawRecord
from toolkit.records import (
    Arm, Design, Eligibility, Enrollment, Identifier, Intervention, Investigator, Link,
    Location, Outcome, Section, Sponsor, TrialRecord,
)

__all__ = ["to_record", "REGISTRY"]

REGISTRY = "ctgov"

_DATE_FIELDS = {
    "startDateStruct": "start_date",
    "primaryCompletionDateStruct": "primary_completion_date",
    "completionDateStruct": "completion_date",
    "studyFirstPostDateStruct": "first_posted",
    "lastUpdatePostDateStruct": "last_updated",
}
_REFERENCE_KINDS = {"BACKGROUND": "reference", "RESULT": "results_reference", "DERIVED": "derived_reference"}
_OUTCOME_KINDS = {"primaryOutcomes": "primary", "secondaryOutcomes": "secondary", "otherOutcomes": "other"}


class _Module:
    """A source object whose keys are taken one by one; `rest()` is what was not."""

    def __init__(self, data: Any, name: str = "study"):
        if data is None:
            data = {}
        elif type(data) is not dict and not isinstance(data, Mapping):
            raise TypeError(f"{name}: expected an object, got {type(data).__name__}")
        self.data = data
        self.name = name
        self.taken = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.taken.add(key)
        return self.data.get(key, default)

    def sub(self, key: str) -> "_Module":
        return _Module(self.get(key), key)

    def items(self, key: str) -> List["_Module"]:
        values = self.get(key)
        if values is not None and not isinstance(values, list):
            raise TypeError(f"{key}: expected a list, got {type(values).__name__}")
        return [_Module(v, key) for v in values or ()]

    def rest(self) -> dict:
        if len(self.taken) >= len(self.data) and self.taken.issuperset(self.data):
            return {}
        return {k: v for k, v in self.data.items() if k not in self.taken}


class _Out:
    """What the handlers build: record fields, sections and extra."""

    def __init__(self):
        self.fields: Dict[str, Any] = {}
        self.sections: List[Section] = []
        self.extra: Dict[str, Any] = {}

    def add(self, name: str, *values: Any) -> None:
        self.fields.setdefault(name, []).extend(v for v in values if v is not None)

    def section(self, heading: str, text: Any) -> Optional[str]:
        text = clean_text(text)
        if text:
            self.sections.append(Section(heading, text))
        return text

    def keep(self, name: str, value: Any) -> None:
        if value not in (None, {}, []):
            self.extra[name] = value

    def keep_rest(self, name: str, parts: List[_Module]) -> None:
        """Keep the untaken keys of list items, with their position."""
        rests = ((i, part.rest()) for i, part in enumerate(parts))
        self.keep(name, [dict(index=i, **rest) for i, rest in rests if rest])


# --- module handlers ---------------------------------------------------------

def _identification(module: _Module, out: _Out) -> None:
    out.fields["trial_id"] = clean_text(module.get("nctId"))
    out.fields["title"] = clean_text(module.get("briefTitle"))
    out.fields["official_title"] = clean_text(module.get("officialTitle"))
    out.fields["acronym"] = clean_text(module.get("acronym"))
    org = module.sub("orgStudyIdInfo")
    if clean_text(org.get("id")):
        out.add("secondary_ids", Identifier(org.get("id").strip(), type=org.get("type") or "ORG_STUDY_ID",
                                            source=clean_text(org.get("link"))))
    out.keep("identificationModule.orgStudyIdInfo", org.rest())
    out.add("secondary_ids", *(Identifier(alias, type="NCT_ALIAS") for alias in text_list(module.get("nctIdAliases"))))
    infos = module.items("secondaryIdInfos")
    for info in infos:
        if clean_text(info.get("id")):
            out.add("secondary_ids", Identifier(info.get("id").strip(), type=info.get("type"),
                                                source=clean_text(info.get("domain"))))
    out.keep_rest("identificationModule.secondaryIdInfos", infos)


def _status(module: _Module, out: _Out) -> None:
    out.fields["status"] = status_enum(module.get("overallStatus"))
    out.fields["why_stopped"] = out.section("Why Stopped", module.get("whyStopped"))
    types = {}
    for key, name in _DATE_FIELDS.items():
        struct = module.sub(key)
        out.fields[name] = iso_date(struct.get("date")) or clean_text(struct.get("date"))
        if struct.get("type"):
            types[name] = struct.get("type")
        out.keep(f"statusModule.{key}", struct.rest())
    out.keep("date_types", types)
    update = iso_date(module.get("lastUpdateSubmitDate"))
    out.fields["version"] = out.fields.get("last_updated") or update
    if update:
        out.extra["last_update_submitted"] = update
    if module.data.get("lastKnownStatus"):
        out.extra["last_known_status"] = status_enum(module.get("lastKnownStatus"))


def _sponsors(module: _Module, out: _Out) -> None:
    lead = module.sub("leadSponsor")
    if clean_text(lead.get("name")):
        out.add("sponsors", Sponsor(lead.get("name").strip(), role="lead", class_=lead.get("class")))
    out.keep("sponsorCollaboratorsModule.leadSponsor", lead.rest())
    collaborators = module.items("collaborators")
    for item in collaborators:
        if clean_text(item.get("name")):
            out.add("sponsors", Sponsor(item.get("name").strip(), role="collaborator", class_=item.get("class")))
    out.keep_rest("sponsorCollaboratorsModule.collaborators", collaborators)
    party = module.get("responsibleParty")
    out.keep("responsible_party", party)
    party = _Module(party, "responsibleParty")
    name = clean_text(party.data.get("investigatorFullName")) or clean_text(party.data.get("oldNameTitle"))
    if name:
        out.add("investigators", Investigator(
            name=name, role="RESPONSIBLE_PARTY", degree=clean_text(party.data.get("investigatorTitle")),
            affiliation=clean_text(party.data.get("investigatorAffiliation"))
            or clean_text(party.data.get("oldOrganization")),
        ))


def _description(module: _Module, out: _Out) -> None:
    out.fields["brief_summary"] = out.section("Brief Summary", module.get("briefSummary"))
    out.fields["detailed_description"] = out.section("Detailed Description", module.get("detailedDescription"))


def _conditions(module: _Module, out: _Out) -> None:
    out.add("conditions", *text_list(module.get("conditions")))
    out.add("keywords", *text_list(module.get("keywords")))


def _design(module: _Module, out: _Out) -> None:
    out.fields["study_type"] = module.get("studyType")
    out.add("phases", *phase_list(module.get("phases") or ()))
    enrollment = module.sub("enrollmentInfo")
    if enrollment.data:
        out.fields["enrollment"] = Enrollment(as_int(enrollment.get("count")), enrollment_type(enrollment.get("type")))
    out.keep("designModule.enrollmentInfo", enrollment.rest())
    info = module.sub("designInfo")
    masking = info.sub("maskingInfo")
    description = out.section("Intervention Model Description", info.get("interventionModelDescription"))
    out.section("Masking Description", masking.get("maskingDescription"))
    out.fields["design"] = Design(
        allocation=info.get("allocation"), intervention_model=info.get("interventionModel"),
        primary_purpose=info.get("primaryPurpose"), masking=masking.get("masking"),
        who_masked=text_list(masking.get("whoMasked")), observational_model=info.get("observationalModel"),
        time_perspective=info.get("timePerspective"), description=description,
    )
    out.keep("designModule.designInfo", info.rest())
    out.keep("designModule.designInfo.maskingInfo", masking.rest())
    bio_spec = module.sub("bioSpec")
    out.section("Biospecimen Description", bio_spec.get("description"))
    out.keep("designModule.bioSpec", bio_spec.rest())


def _arms_interventions(module: _Module, out: _Out) -> None:
    groups = module.items("armGroups")
    for group in groups:
        out.add("arms", Arm(
            label=clean_text(group.get("label")) or "", type=group.get("type"),
            description=clean_text(group.get("description")), interventions=text_list(group.get("interventionNames")),
        ))
    out.keep_rest("armsInterventionsModule.armGroups", groups)
    interventions = module.items("interventions")
    for item in interventions:
        out.add("interventions", Intervention(
            name=clean_text(item.get("name")) or "", type=item.get("type"),
            description=clean_text(item.get("description")), other_names=text_list(item.get("otherNames")),
            arm_labels=text_list(item.get("armGroupLabels")),
        ))
    out.keep_rest("armsInterventionsModule.interventions", interventions)


def _outcomes(module: _Module, out: _Out) -> None:
    for key, kind in _OUTCOME_KINDS.items():
        items = module.items(key)
        for item in items:
            out.add("outcomes", Outcome(
                kind=kind, measure=clean_text(item.get("measure")) or "",
                time_frame=clean_text(item.get("timeFrame")), description=clean_text(item.get("description")),
            ))
        out.keep_rest(f"outcomesModule.{key}", items)


def _eligibility(module: _Module, out: _Out) -> None:
    text = module.get("eligibilityCriteria")
    text = text if isinstance(text, str) else ""
    out.section("Eligibility Criteria", text)
    out.fields["eligibility"] = Eligibility(
        text=text,
        min_age=parse_age(clean_text(module.get("minimumAge"))),
        max_age=parse_age(clean_text(module.get("maximumAge"))),
        sex=sex_enum(module.get("sex")),
        healthy_volunteers=module.get("healthyVolunteers"),
        std_ages=text_list(module.get("stdAges")),
        gender_based=module.get("genderBased"),
        gender_description=out.section("Gender Description", module.get("genderDescription")),
        sampling_method=module.get("samplingMethod"),
        study_population=out.section("Study Population", module.get("studyPopulation")),
    )


def _person(item: _Module, role: str, affiliation: Optional[str] = None) -> Investigator:
    phone, ext = clean_text(item.get("phone")), clean_text(item.get("phoneExt"))
    return Investigator(
        name=clean_text(item.get("name")), role=role,
        affiliation=clean_text(item.get("affiliation")) or affiliation,
        email=clean_text(item.get("email")), phone=f"{phone} ext {ext}" if phone and ext else phone,
    )


def _contacts_locations(module: _Module, out: _Out) -> None:
    central = module.items("centralContacts")
    out.add("investigators", *(_person(c, "CENTRAL_" + (c.get("role") or "CONTACT")) for c in central))
    out.keep_rest("contactsLocationsModule.centralContacts", central)
    officials = module.items("overallOfficials")
    out.add("investigators", *(_person(o, o.get("role") or "OFFICIAL") for o in officials))
    out.keep_rest("contactsLocationsModule.overallOfficials", officials)
    sites = module.items("locations")
    for site in sites:
        _location(site, out)
    out.keep_rest("contactsLocationsModule.locations", sites)


def _location(site: _Module, out: _Out) -> None:
    facility = clean_text(site.get("facility"))
    out.add("locations", Location(
        facility=facility, city=clean_text(site.get("city")), state=clean_text(site.get("state")),
        zip=clean_text(site.get("zip")), country=clean_text(site.get("country")), status=site.get("status"),
    ))
    contacts = site.items("contacts")
    out.add("investigators", *(_person(c, "SITE_" + (c.get("role") or "CONTACT"), facility) for c in contacts))
    leftovers = [c.rest() for c in contacts]
    if any(leftovers):
        site.data = dict(site.data, contacts=leftovers)
        site.taken.discard("contacts")


def _references(module: _Module, out: _Out) -> None:
    references = module.items("references")
    for ref in references:
        kind = _REFERENCE_KINDS.get(ref.get("type"), enum_token(ref.get("type")) or "reference")
        out.add("links", Link(label=clean_text(ref.get("citation")), kind=kind.lower(), pmid=clean_text(ref.get("pmid"))))
    out.keep_rest("referencesModule.references", references)
    see_also = module.items("seeAlsoLinks")
    for link in see_also:
        out.add("links", Link(label=clean_text(link.get("label")), url=clean_text(link.get("url")), kind="link"))
    out.keep_rest("referencesModule.seeAlsoLinks", see_also)


def _ipd_sharing(module: _Module, out: _Out) -> None:
    out.section("IPD Sharing Statement", module.data.get("description"))
    out.keep("ipdSharingStatementModule", dict(module.data))
    module.taken.update(module.data)


_MODULES: Dict[str, Callable[[_Module, _Out], None]] = {
    "identificationModule": _identification,
    "statusModule": _status,
    "sponsorCollaboratorsModule": _sponsors,
    "descriptionModule": _description,
    "conditionsModule": _conditions,
    "designModule": _design,
    "armsInterventionsModule": _arms_interventions,
    "outcomesModule": _outcomes,
    "eligibilityModule": _eligibility,
    "contactsLocationsModule": _contacts_locations,
    "referencesModule": _references,
    "ipdSharingStatementModule": _ipd_sharing,
}


# --- the study ---------------------------------------------------------------

def to_record(raw: RawRecord) -> TrialRecord:
    """Map one API v2 study to a `TrialRecord`.

    Args:
        raw: a raw record whose payload is the study dict.

    Returns:
        The record (criteria tree not yet attached; see `toolkit.formats.mapping`).

    Raises:
        InputError: the payload is not a study, has no `nctId`, or has a
            module of the wrong shape.
    """
    study = raw.payload
    if not isinstance(study, Mapping) or not isinstance(study.get("protocolSection"), Mapping):
        raise InputError(raw.path, "not a ClinicalTrials.gov study: no protocolSection object", raw.where())
    try:
        out = _map_study(study)
    except (AttributeError, TypeError, ValueError) as exc:
        raise InputError(raw.path, f"study of unexpected shape: {exc}", raw.where()) from None
    if not out.fields.get("trial_id"):
        raise InputError(raw.path, "study without protocolSection.identificationModule.nctId", raw.where())
    return _build(out, raw)


def _map_study(study: Mapping) -> _Out:
    out = _Out()
    for name, data in study["protocolSection"].items():
        handler = _MODULES.get(name)
        if handler is None:
            out.keep(name, data)
            continue
        module = _Module(data, name)
        handler(module, out)
        out.keep(name, module.rest())
    _derived(_Module(study.get("derivedSection"), "derivedSection"), out)
    for key, value in study.items():
        if key not in ("protocolSection", "derivedSection", "resultsSection", "hasResults"):
            out.keep(key, value)
    results = study.get("resultsSection")
    out.extra["has_results"] = bool(study.get("hasResults", isinstance(results, Mapping)))
    if isinstance(results, Mapping):
        out.extra["results_modules"] = sorted(results)
    return out


def _derived(section: _Module, out: _Out) -> None:
    for key, field in (("conditionBrowseModule", "condition_mesh"), ("interventionBrowseModule", "intervention_mesh")):
        browse = section.sub(key)
        meshes = browse.items("meshes")
        out.add(field, *text_list([mesh.get("term") for mesh in meshes]))
        out.keep_rest(f"derivedSection.{key}.meshes", meshes)
        rest = browse.rest()
        if rest:
            section.data = dict(section.data, **{key: rest})
            section.taken.discard(key)
    out.keep("derivedSection", section.rest())


def _build(out: _Out, raw: RawRecord) -> TrialRecord:
    fields = {name: tuple(value) if isinstance(value, list) else value for name, value in out.fields.items()}
    return TrialRecord(
        registry=REGISTRY, sections=tuple(out.sections), extra=out.extra,
        source=raw.source(), **fields,
    )
