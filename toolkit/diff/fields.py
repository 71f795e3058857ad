"""Field-level changes: scalars, collections, free texts and sections.

Every field of `TrialRecord` is compared: the table `_FIELDS` names how and
which part of the record it belongs to; a field missing from the table is
compared whole, so nothing of a record escapes the diff. Identity and
bookkeeping fields (`_SKIPPED`) are not compared.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterator, List, Tuple

from toolkit.diff.model import FieldChange, TextChange
from toolkit.diff.significance import COSMETIC, text_significance, value_significance, worst
from toolkit.diff.text import comparison_key, normalize, similarity, word_ops
from toolkit.records import TrialRecord, to_dict

__all__ = ["diff_fields", "PARTS", "BOOKKEEPING"]

# raw_values: the registry's spellings of fields compared in the vocabulary (a spelling alone
# changing is not a change of the trial)
_SKIPPED = {"registry", "trial_id", "version", "content_hash", "last_updated", "source",
            "outcomes", "eligibility", "sections", "extra", "raw_values"}

# `extra` keys that describe the snapshot or file, not the trial: not compared
BOOKKEEPING = frozenset({
    "total_versions", "version_index", "export_date", "seen_in", "content_md5",
    "first_snapshot", "seen_in_snapshots", "record_last_import",
    "required_header", "rank", "@attributes",  # legacy ClinicalTrials.gov: download date, search rank
})
# the same, nested inside kept values (API v2 `derivedSection.miscInfoModule.versionHolder`)
# and the size of a legacy XML results block that the reader leaves out
_NESTED_BOOKKEEPING = frozenset({"versionHolder", "download_date", "omitted_bytes"})
# masking as the legacy XML spelled it before 2017 ("Double Blind (Subject, Caregiver, ...)"):
# the level is the number of roles masked; roles renamed
_MASKING_LEVELS = {1: "SINGLE", 2: "DOUBLE", 3: "TRIPLE", 4: "QUADRUPLE"}
_ROLE_NAMES = {"SUBJECT": "PARTICIPANT", "CAREGIVER": "CARE_PROVIDER"}

# field -> (how, part)
_FIELDS = {
    "status": ("scalar", "status"), "why_stopped": ("scalar", "status"),
    "start_date": ("scalar", "dates"), "primary_completion_date": ("scalar", "dates"),
    "completion_date": ("scalar", "dates"), "first_posted": ("scalar", "dates"),
    "study_type": ("scalar", "design"), "phases": ("set", "design"), "design": ("object", "design"),
    "enrollment": ("object", "enrollment"),
    "title": ("text", "titles"), "official_title": ("text", "titles"), "acronym": ("scalar", "titles"),
    "brief_summary": ("text", "description"), "detailed_description": ("text", "description"),
    "conditions": ("set", "conditions"), "keywords": ("set", "conditions"),
    "condition_mesh": ("set", "conditions"), "intervention_mesh": ("set", "interventions"),
    "arms": ("items", "interventions"), "interventions": ("items", "interventions"),
    "sponsors": ("items", "sponsors"), "investigators": ("items", "contacts"),
    "locations": ("items", "locations"), "links": ("items", "identifiers"),
    "secondary_ids": ("items", "identifiers"),
}
_ELIGIBILITY = {
    "min_age": "age", "max_age": "age", "sex": "scalar", "healthy_volunteers": "scalar",
    "std_ages": "set", "gender_based": "scalar", "gender_description": "text",
    "sampling_method": "scalar", "study_population": "text",
}
# (field, how, part) of every compared `TrialRecord` field, in field order
_COMPARED = tuple((f.name, *_FIELDS.get(f.name, ("object", "other")))
                  for f in dataclasses.fields(TrialRecord) if f.name not in _SKIPPED)
PARTS = ("status", "enrollment", "dates", "design", "eligibility", "criteria", "outcomes",
         "conditions", "interventions", "sponsors", "contacts", "locations", "titles",
         "description", "sections", "identifiers", "other")


def diff_fields(old: TrialRecord, new: TrialRecord) -> Tuple[Tuple[FieldChange, ...], Tuple[TextChange, ...]]:
    """Compare every field of two versions outside criteria and outcomes.

    Returns:
        (field changes, text changes), in record field order.
    """
    fields: List[FieldChange] = []
    texts: List[TextChange] = []
    for name, how, part in _COMPARED:
        _compare(how, name, part, getattr(old, name), getattr(new, name), fields, texts)
    _compare_eligibility(old.eligibility, new.eligibility, fields, texts)
    texts.extend(_section_changes(old.sections, new.sections))
    fields.extend(_extra_changes(old.extra, new.extra))
    return tuple(fields), tuple(texts)


def _compare(how: str, name: str, part: str, a: Any, b: Any, fields: list, texts: list) -> None:
    if a == b:
        return
    if how == "text":
        change = _text_change(name, part, a, b)
        if change is not None:
            texts.append(change)
    elif how == "set":
        fields.extend(_set_change(name, part, [str(v) for v in a or ()], [str(v) for v in b or ()]))
    elif how == "items":
        fields.extend(_item_changes(name, part, a, b))
    elif how == "object" and dataclasses.is_dataclass(a or b):
        fields.extend(_object_changes(name, part, a, b))
    elif how == "age":
        if _age_text(a) != _age_text(b):
            fields.append(FieldChange(name, part, _age_text(a), _age_text(b),
                                      significance=_age_significance(a, b)))
    elif _plain(a) != _plain(b):
        fields.append(FieldChange(name, part, _plain(a), _plain(b),
                                  significance=scalar_significance(name, _plain(a), _plain(b))))


def scalar_significance(name: str, a: Any, b: Any) -> str:
    """Cosmetic: same words (case, punctuation), or a date given at another precision."""
    if name.endswith("date") or name in ("first_posted",):
        return COSMETIC if _same_date(a, b) else "substantive"
    return value_significance(a, b)


def _same_date(a: Any, b: Any) -> bool:
    """"2011-05" and "2011-05-01" alike; compared at the coarser precision."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    x, y = a.strip()[:10], b.strip()[:10]
    size = min(len(x), len(y))
    if size < 7:
        return x[:4] == y[:4] and size >= 4
    return x[:size] == y[:size] or (x[:7] == y[:7] and {x[8:], y[8:]} <= {"", "01"})


def _age_significance(a, b) -> str:
    years = [getattr(age, "years", None) for age in (a, b)]
    if None not in years and abs(years[0] - years[1]) < 1e-6:
        return COSMETIC
    return value_significance(_age_text(a), _age_text(b))


def _object_changes(name: str, part: str, a: Any, b: Any) -> Iterator[FieldChange]:
    cls = type(a if a is not None else b)
    same_masking = name == "design" and _same_masking(masking_key(a), masking_key(b))
    for f in dataclasses.fields(cls):
        x = getattr(a, f.name) if a is not None else None
        y = getattr(b, f.name) if b is not None else None
        x, y = _plain(x), _plain(y)
        if x != y:
            cosmetic = same_masking and f.name in ("masking", "who_masked")
            yield FieldChange(f"{name}.{f.name}", part, x, y, significance=COSMETIC if cosmetic
                              else scalar_significance(f"{name}.{f.name}", x, y))


def _same_masking(x: tuple, y: tuple) -> bool:
    return x[0] == y[0] and (x[1] == y[1] or x[1] is None or y[1] is None)


def masking_key(design: Any) -> tuple:
    """(level, roles) of a design's masking, alike across the 2017 schema change.

    Before 2017 the legacy XML wrote "Double Blind (Subject, Caregiver,
    Investigator, Outcomes Assessor)"; after, "Quadruple (Participant, Care
    Provider, Investigator, Outcomes Assessor)". With roles named, the level
    is their number; a side that names no roles is compared by level only.
    """
    if design is None:
        return (None, None)
    roles = tuple(sorted({_ROLE_NAMES.get(r, r) for r in design.who_masked or ()}))
    level = _MASKING_LEVELS.get(len(roles), design.masking) if roles else design.masking
    if level in ("NONE", "OPEN_LABEL", None):
        return ("NONE", ())
    return (level, roles or None)


def _compare_eligibility(a, b, fields: list, texts: list) -> None:
    for name, how in _ELIGIBILITY.items():
        x = getattr(a, name) if a is not None else None
        y = getattr(b, name) if b is not None else None
        _compare(how, name, "eligibility", x, y, fields, texts)


def _text_change(name: str, part: str, a: Any, b: Any):
    if comparison_key(a) == comparison_key(b):
        return None
    if not normalize(a):
        return TextChange(name, part, "added", word_ops("", b), significance="substantive")
    if not normalize(b):
        return TextChange(name, part, "removed", word_ops(a, ""), significance="substantive")
    return TextChange(name, part, "modified", word_ops(a, b), similarity(a, b),
                      significance=text_significance(a, b))


def _set_change(name: str, part: str, a: List[str], b: List[str]) -> List[FieldChange]:
    old = {comparison_key(v): v for v in a}
    new = {comparison_key(v): v for v in b}
    added = tuple(new[k] for k in new if k not in old)
    removed = tuple(old[k] for k in old if k not in new)
    if not added and not removed:
        return []
    return [FieldChange(name, part, added=added, removed=removed,
                        significance=value_significance(list(removed), list(added)))]


# what identifies an item across versions; other attributes may change
_IDENTITY = {
    "locations": ("facility", "city", "state", "zip", "country"), "arms": ("label",),
    "interventions": ("name",), "sponsors": ("name", "role"), "investigators": ("name", "role"),
}


def _item_changes(name: str, part: str, a, b) -> List[FieldChange]:
    """Items added, removed, and (same identity, other attributes) changed.

    Changed items fill `before`/`after` with their old and new forms, so a
    site that stopped recruiting is not a site removed and another added.
    """
    keys = _IDENTITY.get(name)
    if keys is None:
        return _set_change(name, part, [_show(v) for v in a], [_show(v) for v in b])
    old = {_identity(v, keys): _show(v) for v in a}
    new = {_identity(v, keys): _show(v) for v in b}
    added = tuple(new[k] for k in new if k not in old)
    removed = tuple(old[k] for k in old if k not in new)
    changed = [k for k in old if k in new and comparison_key(old[k]) != comparison_key(new[k])]
    if not (added or removed or changed):
        return []
    before = [old[k] for k in changed] or None
    after = [new[k] for k in changed] or None
    significance = worst([value_significance(list(removed), list(added)),
                          value_significance(before, after)])
    return [FieldChange(name, part, before, after, added=added, removed=removed, significance=significance)]


def _identity(item: Any, keys) -> tuple:
    return tuple(comparison_key(str(getattr(item, k, None) or "")) for k in keys)


def _section_changes(a, b) -> Iterator[TextChange]:
    old = _by_heading(a)
    new = _by_heading(b)
    for heading in list(old) + [h for h in new if h not in old]:
        change = _text_change(f"sections[{heading}]", "sections", old.get(heading), new.get(heading))
        if change is not None:
            yield change


def _by_heading(sections) -> dict:
    out: dict = {}
    for section in sections:
        key = section.heading
        n = 2
        while key in out:
            key, n = f"{section.heading} ({n})", n + 1
        out[key] = section.text
    return out


def _extra_changes(a, b) -> Iterator[FieldChange]:
    a, b = a or {}, b or {}
    for key in list(a) + [k for k in b if k not in a]:
        if key in BOOKKEEPING or a.get(key) == b.get(key):
            continue
        x, y = _unstamped(a.get(key)), _unstamped(b.get(key))  # plain JSON already
        x, y = (None if x in ("", [], {}) else x), (None if y in ("", [], {}) else y)
        if x != y:
            yield FieldChange(f"extra.{key}", "other", x, y, significance=value_significance(x, y))


def _unstamped(value: Any) -> Any:
    """A JSON value without nested bookkeeping keys, nor empty ones (absent and "" alike)."""
    if isinstance(value, dict):
        items = ((k, _unstamped(v)) for k, v in value.items() if k not in _NESTED_BOOKKEEPING)
        return {k: v for k, v in items if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_unstamped(v) for v in value]
    return value


def _age_text(age) -> Any:
    if age is None:
        return None
    return age.text if age.text else (f"{age.years:g} years" if age.years is not None else None)


def _plain(value: Any) -> Any:
    """A comparable JSON value: models become dicts, tuples lists, '' None."""
    value = to_dict(value)
    if value in ("", [], {}):
        return None
    return value


def _show(item: Any) -> str:
    """A one-line readable form of a collection item (arm, site, sponsor ...)."""
    data = to_dict(item)
    if not isinstance(data, dict):
        return str(data)
    order = ("name", "label", "facility", "id", "role", "type", "class", "city", "state", "country",
             "status", "affiliation", "email", "phone", "url", "description", "other_names",
             "interventions", "arm_labels")
    parts = [_short(data[k]) for k in order if data.get(k)]
    parts += [_short(v) for k, v in data.items() if k not in order and v]
    return " | ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return " ".join(str(value).split())
