"""Map a classic ClinicalTrials.gov API study to a `TrialRecord`.

The classic API (2019-2023) carries the same fields as API v2 under other
names: modules in UpperCamel (`StatusModule`), lists wrapped in an object
(`"ConditionList": {"Condition": [...]}`), every field prefixed with its
object's name (`LocationFacility`, `PrimaryOutcomeMeasure`), values spelt
as the website shows them ("Phase 2", "Completed", "Yes"). `to_v2` renames
a classic study into the v2 shape by these rules (plus the few irregular
names of `_RENAMES`), and the v2 mapper (`toolkit.formats.ctgov_json.map`)
does the rest, so both APIs give the same record; fields it does not map
are kept in `extra` as it keeps v2 ones.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from toolkit.errors import InputError
from toolkit.formats.ctgov_json import map as v2
from toolkit.formats.raw import RawRecord
from toolkit.normalize.fields import enum_token
from toolkit.records import TrialRecord

__all__ = ["to_record", "to_v2"]

# classic key (after the parent's prefix is stripped) -> v2 key, where the rules do not give it
_RENAMES = {
    "NCTId": "nctId", "NCTIdAliasList": "nctIdAliases", "OrgStudyId": "id", "Gender": "sex",
    "GenderBased": "genderBased", "GenderDescription": "genderDescription",
    "DesignWhoMaskedList": "whoMasked", "DesignObservationalModelList": "observationalModel",
    "DesignTimePerspectiveList": "timePerspective", "DesignMasking": "masking",
}
# objects whose fields carry a prefix other than their own name
_PREFIXES = {"Organization": "Org", "LeadSponsor": "LeadSponsor", "ResponsibleParty": "ResponsibleParty",
             "ExpandedAccessTypes": "Exp", "LargeDoc": "LargeDoc"}
# v2 fields that hold one value where the classic API has a list
_SINGLE = {"observationalModel", "timePerspective"}
# v2 booleans the classic API writes "Yes" / "No"
_BOOLEANS = {"healthyVolunteers", "oversightHasDmc", "isFdaRegulatedDrug", "isFdaRegulatedDevice",
             "isUnapprovedDevice", "isPpsd", "isUsExport", "hasExpandedAccess", "patientRegistry",
             "genderBased", "fdaaa801Violation"}
_INTEGERS = {"count"}
# v2 fields whose values are enums (the classic API wrote "Parallel Assignment", v2 PARALLEL)
_ENUMS = {"allocation", "interventionModel", "primaryPurpose", "masking", "whoMasked", "observationalModel",
          "timePerspective", "type", "class", "role", "status", "overallStatus", "lastKnownStatus",
          "stdAges", "samplingMethod", "studyType", "sex", "phases"}
_ENUM_SPELLINGS = {
    "PARALLEL_ASSIGNMENT": "PARALLEL", "SINGLE_GROUP_ASSIGNMENT": "SINGLE_GROUP",
    "CROSSOVER_ASSIGNMENT": "CROSSOVER", "FACTORIAL_ASSIGNMENT": "FACTORIAL",
    "SEQUENTIAL_ASSIGNMENT": "SEQUENTIAL", "NONE_OPEN_LABEL": "NONE", "ESTIMATE": "ESTIMATED",
    "ANTICIPATED": "ESTIMATED", "OTHER_GRANT_FUNDING_NUMBER": "OTHER_GRANT", "PHASE_1": "PHASE1",
    "PHASE_2": "PHASE2", "PHASE_3": "PHASE3", "PHASE_4": "PHASE4", "EARLY_PHASE_1": "EARLY_PHASE1",
    "NOT_APPLICABLE": "NA", "PROBABILITY_SAMPLE": "PROBABILITY_SAMPLE",
}
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|\d+|[A-Z]+")


def to_record(raw: RawRecord) -> TrialRecord:
    """Map one `{"Rank": .., "Study": {...}}` item.

    Raises:
        InputError: the item is not a classic study.
    """
    item = raw.payload
    study = item.get("Study") if isinstance(item, dict) else None
    if not isinstance(study, dict) or not isinstance(study.get("ProtocolSection"), dict):
        raise InputError(raw.path, "not a classic ClinicalTrials.gov study", raw.where())
    record = v2.to_record(RawRecord("ctgov_json", to_v2(study), path=raw.path, entry=raw.entry,
                                    index=raw.index))
    extra = dict(record.extra)
    if isinstance(item.get("Rank"), int):
        extra["classic_rank"] = item["Rank"]
    return dataclasses.replace(record, extra=extra, source=raw.source())


def to_v2(study: dict) -> dict:
    """A classic study renamed into the API v2 shape (values converted where v2 types differ)."""
    return {_lower_camel(key): _convert(value, "") for key, value in study.items()}


def _convert(value: Any, prefix: str) -> Any:
    """Rename the keys of a classic object whose fields carry `prefix`."""
    if isinstance(value, list):
        return [_convert(v, prefix) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, child in value.items():
        if key.endswith("List") and isinstance(child, dict) and len(child) == 1:
            name, items = _list(key, child, prefix)
            items = _typed(name, items)
            out[name] = items[0] if name in _SINGLE and len(items) == 1 else items
        else:
            name = _v2_name(key, prefix)
            out[name] = _typed(name, _convert(child, _struct_prefix(key)))
    return out


def _list(key: str, child: dict, prefix: str) -> tuple:
    """(v2 name, converted items) of `"XList": {"X": [...]}`: the name comes from the items' key."""
    (item_key, items), = child.items()
    items = items if isinstance(items, list) else [items]
    item_prefix = _struct_prefix(item_key) or item_key
    converted = [_convert(v, item_prefix) for v in items]
    if key in _RENAMES:
        return _RENAMES[key], converted
    stripped = item_key[len(prefix):] if prefix and item_key.startswith(prefix) and item_key != prefix else item_key
    return _plural(_lower_camel(stripped)), converted


def _v2_name(key: str, prefix: str) -> str:
    """`LocationFacility` in a Location -> `facility`; `StartDate` in StartDateStruct -> `date`."""
    if key in _RENAMES:
        return _RENAMES[key]
    if key == prefix:  # a struct's own value: StartDate in StartDateStruct
        return "date" if key.endswith("Date") else ("id" if key.endswith("Id") else _lower_camel(key))
    stripped = key[len(prefix):] if prefix and key.startswith(prefix) else key
    return _RENAMES.get(stripped) or _lower_camel(stripped)


def _struct_prefix(key: str) -> str:
    """The prefix of a struct's fields: StartDateStruct -> StartDate, EnrollmentInfo -> Enrollment,
    ConditionBrowseModule -> Condition; "" for a module or section (fields unprefixed)."""
    for suffix in ("Struct", "Info"):
        if key.endswith(suffix) and key != suffix:
            return key[:-len(suffix)]
    if key.endswith("BrowseModule"):
        return key[:-len("BrowseModule")]
    return _PREFIXES.get(key, "")


def _typed(name: str, value: Any) -> Any:
    if name in _ENUMS:
        return [_enum(v) for v in value] if isinstance(value, list) else _enum(value)
    if name in _BOOLEANS and isinstance(value, str) and value.lower() in ("yes", "no"):
        return value.lower() == "yes"
    if name in _INTEGERS and isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _enum(value: Any) -> Any:
    token = enum_token(value) if isinstance(value, str) else None
    return _ENUM_SPELLINGS.get(token, token) if token else value


def _lower_camel(word: str) -> str:
    """`OversightHasDMC` -> `oversightHasDmc`, `NCTId` -> `nctId`, `IPDSharing` -> `ipdSharing`."""
    parts = _WORD.findall(word)
    if not parts:
        return word
    return parts[0].lower() + "".join(p.capitalize() for p in parts[1:])


def _plural(word: str) -> str:
    if word.endswith(("s", "sh", "x")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith("Leaf"):
        return word[:-1] + "ves"
    return word + "s"
