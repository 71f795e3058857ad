"""One vocabulary across registries: status, phase, study type, sex, country.

Every registry spells these its own way ("Not Recruiting", "Authorised",
"Interventional study", "Both", "Iran (Islamic Republic of)"). `map_value`
maps one spelling to the ClinicalTrials.gov API v2 enum (countries: the ISO
3166 name, through `countries`), or returns None: a value that names no
single enum is never guessed. `normalize_record` applies the vocabulary to a
mapped record: mapped values replace the registry's, the registry's own
spelling is kept beside them in `TrialRecord.raw_values`, and an unmappable
value stays as written (stats count it as unmapped, see `unmapped_value`).
The tables are data: `vocabulary.json` plus the aliases of `fields.json`.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import replace
from importlib import resources
from typing import Any, Dict, Iterable, Optional, Tuple

from toolkit.normalize.countries import country
from toolkit.normalize.fields import clean_text
from toolkit.records import TrialRecord

__all__ = ["KINDS", "enums", "map_value", "map_phases", "normalize_record", "is_mapped",
           "unmappable_reason"]

KINDS = ("status", "phase", "study_type", "sex")
NO_VALUE = ""  # map_value's answer for a spelling that states no value ("Not selected", "-")
# ICTRP's spreadsheet export read IRCT/ChiCTR phase ranges "1-2", "2-3" as day-month dates
_PHASE_AS_DATE = re.compile(r"^20\d\d-0?([1-4])-0?([0-4])$")
_PHASE_SPLIT = re.compile(r"\s*(?:/|,|\+|&|\band\b|-)\s*")


@functools.lru_cache(maxsize=1)
def _tables() -> dict:
    """kind -> {"map": {spelling: enum}, "enums": set, "none": set, "unmappable": {spelling: reason}}."""
    own = json.loads(resources.files("toolkit.normalize").joinpath("vocabulary.json").read_text("utf-8"))
    shared = json.loads(resources.files("toolkit.normalize").joinpath("fields.json").read_text("utf-8"))
    tables = {}
    for kind in KINDS:
        spec = own[kind]
        found: Dict[str, str] = {}
        for source in (shared.get(kind, {}), spec["aliases"]):
            for enum, spellings in source.items():
                found.update({_key(s): enum for s in spellings})
        enum_set = set(spec["enums"])
        found = {s: e for s, e in found.items() if e in enum_set}  # fields.json holds legacy extras
        found.update({_key(e): e for e in enum_set})
        tables[kind] = {"map": found, "enums": frozenset(enum_set),
                        "none": frozenset(_key(s) for s in spec.get("no_phase", spec.get("no_value", ()))),
                        "unmappable": {_key(s): r for s, r in spec.get("unmappable", {}).items()}}
    return tables


def _key(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").split())


def enums(kind: str) -> frozenset:
    """The enums of a kind (status, phase, study_type, sex)."""
    return _tables()[kind]["enums"]


def map_value(kind: str, value: Any) -> Optional[str]:
    """The enum one spelling means, `NO_VALUE` for a spelling that states none, else None.

    Args:
        kind: status, study_type or sex (phases: `map_phases`).
        value: the spelling as the registry wrote it, or an enum.
    """
    text = clean_text(value)
    if text is None:
        return NO_VALUE
    table = _tables()[kind]
    key = _key(text)
    if key in table["none"]:
        return NO_VALUE
    return table["map"].get(key)


def unmappable_reason(kind: str, value: Any) -> Optional[str]:
    """Why a spelling met in real data maps to no enum (None when not listed)."""
    text = clean_text(value)
    return _tables()[kind]["unmappable"].get(_key(text)) if text else None


def map_phases(value: Any) -> Optional[Tuple[str, ...]]:
    """The phase enums of a phase text or list, in order; None when any part is unmappable.

    Reads "Phase 2/Phase 3", "II-III", "Phase 2/ Phase 3", "4", "Post Marketing
    Surveillance", "Retrospective study" (NA) and the ICTRP date artifact
    "2020-03-02" ("2-3" read as a day-month date); "Not selected" gives ().
    """
    if isinstance(value, (list, tuple)):
        parts = [clean_text(v) for v in value if clean_text(v)]
    else:
        text = clean_text(value)
        if text is None:
            return ()
        parts = _phase_parts(text)
    out = []
    for part in parts:
        found = _one_phase(part)
        if found is None:
            return None
        if found and found not in out:
            out.append(found)
    return tuple(out)


def _phase_parts(text: str) -> list:
    table = _tables()["phase"]
    if _key(text) in table["map"] or _key(text) in table["none"]:
        return [text]
    date = _PHASE_AS_DATE.match(text)
    if date:
        low, high = int(date.group(2)), int(date.group(1))
        return [str(low), str(high)] if high == low + 1 or (low == 0 and high == 1) else [text]
    return [p for p in _PHASE_SPLIT.split(text) if p.strip()]


def _one_phase(part: str) -> Optional[str]:
    table = _tables()["phase"]
    key = _key(part)
    if key in table["none"]:
        return NO_VALUE
    found = table["map"].get(key) or table["map"].get(_key(f"phase {part}"))
    return found


def is_mapped(kind: str, value: Any) -> bool:
    """Whether a stored value is in the vocabulary (an enum; a country: an ISO 3166 name)."""
    if value is None:
        return True
    if kind == "country":
        return country(value) == value
    return value in enums(kind)


# --- applying the vocabulary to a record ------------------------------------------

def normalize_record(record: TrialRecord) -> TrialRecord:
    """The record in the one vocabulary, with the registry's spellings in `raw_values`.

    A mapper may leave its source spellings in `record.raw_values` (status,
    phases, study_type, sex); the value it set is mapped otherwise. Values
    already in the vocabulary are left alone.
    """
    raw = dict(record.raw_values)
    changes: Dict[str, Any] = {}
    for kind in ("status", "study_type"):
        value = _mapped_field(kind, getattr(record, kind), raw)
        if value != getattr(record, kind):
            changes[kind] = value
    phases = _mapped_phases(record.phases, raw)
    if phases != record.phases:
        changes["phases"] = phases
    if record.eligibility is not None:
        sex = _mapped_field("sex", record.eligibility.sex, raw)
        if sex != record.eligibility.sex:
            changes["eligibility"] = replace(record.eligibility, sex=sex)
    locations = _mapped_countries(record.locations, raw)
    if locations is not None:
        changes["locations"] = locations
    raw = {k: v for k, v in raw.items() if v not in (None, "", [], ())}
    if raw != dict(record.raw_values):
        changes["raw_values"] = raw
    return replace(record, **changes) if changes else record


def _mapped_field(kind: str, current: Optional[str], raw: dict) -> Optional[str]:
    """The vocabulary value of a field; keeps the source spelling in `raw` when it differs."""
    source = clean_text(raw.get(kind)) or current
    if source is None:
        raw.pop(kind, None)
        return None
    mapped = map_value(kind, source)
    if mapped is None and current in enums(kind):
        mapped = current  # the mapper read more than the spelling (EU CTR flags ...)
    if mapped is None:
        raw[kind] = source
        return source
    if source != mapped:
        raw[kind] = source
    else:
        raw.pop(kind, None)
    return mapped or None


def _mapped_phases(current: Tuple[str, ...], raw: dict) -> Tuple[str, ...]:
    source = raw.get("phases")
    source = clean_text(source) if isinstance(source, str) else source
    if not source:
        raw.pop("phases", None)
        if all(p in enums("phase") for p in current):
            return current
        source = list(current)
    mapped = map_phases(source)
    if mapped is None:
        mapped = current if all(p in enums("phase") for p in current) and current else None
    if mapped is None:
        raw["phases"] = source
        return (source,) if isinstance(source, str) else tuple(source)
    if (",".join(mapped) if isinstance(source, str) else list(mapped)) != source:
        raw["phases"] = source
    return mapped


def _mapped_countries(locations: Iterable, raw: dict) -> Optional[tuple]:
    """Locations with ISO 3166 country names (None when none changed); raw spellings kept."""
    written, out, changed = [], [], False
    for location in locations:
        name = location.country
        iso = country(name) if name else None
        written.append(name)
        if iso and iso != name:
            location, changed = replace(location, country=iso), True
        out.append(location)
    if changed:
        raw["countries"] = written
        return tuple(out)
    return None
