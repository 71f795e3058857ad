"""From a trial record to search documents: one per criterion, one per trial.

A document is a plain dict keyed by the names in `toolkit.index.schema`:
text fields hold analyzed strings, keyword and number fields lists, stored
fields raw strings. Trial-level fields (status, phases, ages, ...) are copied
onto every criterion document so a filtered query is a one-document test.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator, List, Optional

from toolkit.index.analysis import analyze, join_values
from toolkit.index.schema import (
    AGE_UNBOUNDED, COUNTRY_SEPARATOR, TRIAL_NUMBER, normalize_keyword, trial_key, trial_number,
)
from toolkit.index.values import value_fields
from toolkit.canonical import content_hash
from toolkit.records import Criterion, TrialRecord

__all__ = ["COUNTRY_SEPARATOR", "trial_key", "record_documents", "bound_windows", "date_number"]



def record_documents(record: TrialRecord) -> Iterator[dict]:
    """Yield the trial document, then one document per criterion (parents before children)."""
    shared = _trial_fields(record)
    yield _trial_document(record, shared)
    criteria = record.eligibility.criteria if record.eligibility else ()
    yield from _walk(criteria, context="", shared=shared)


def _trial_document(record: TrialRecord, shared: dict) -> dict:
    """The one document describing a trial as a whole (kind `trial`)."""
    doc = dict(shared)
    key = doc["trial_key"]
    doc.update(
        doc_id=key,
        kind=["trial"],
        title=" ".join(analyze(record.title or record.official_title or "")),
        text=" ".join(analyze(record.brief_summary or "")),
        condition=join_values(record.conditions + record.condition_mesh),
        drug=join_values(_intervention_names(record)),
        content_hash=record.content_hash or content_hash(record),  # as the store keys it
        dates_raw=_dates(record),
    )
    return doc


def _walk(criteria, *, context: str, shared: dict) -> Iterator[dict]:
    """Documents of criteria and their children, parents first; `context` is the parent's analyzed text."""
    for criterion in criteria:
        doc = _criterion_document(criterion, context, shared)
        yield doc
        yield from _walk(criterion.children, context=doc["text"], shared=shared)


def _criterion_document(criterion: Criterion, context: str, shared: dict) -> dict:
    tags = _TagFields(criterion.tags)
    return {
        **shared,
        "doc_id": f"{shared['trial_key']}#{criterion.id}",
        "kind": ["criterion"],
        "criterion_id": criterion.id,
        "polarity": _polarity(criterion.polarity),
        "polarity_raw": criterion.polarity,
        "category": _analyzed_label(criterion.category or ""),
        "category_raw": criterion.category or "",
        "text": " ".join(analyze(criterion.text)),
        "text_raw": criterion.text,
        "context": context,
        "drug": join_values(tags.drug),
        "condition": join_values(tags.condition),
        "measurement": join_values(tags.measurement),
        "window": tags.window,
        "windows_raw": bound_windows(criterion.tags),
        **value_fields(criterion.tags, criterion.text),
    }


class _TagFields:
    """The tag values a criterion document indexes, read in one pass over its tags."""

    __slots__ = ("drug", "condition", "measurement", "window")

    def __init__(self, tags):
        self.drug, self.condition, self.measurement, self.window = [], [], [], []
        for tag in tags:
            label = tag.label
            if label == "drug" or label == "condition":
                values = self.drug if label == "drug" else self.condition
                values.append(tag.text)  # surface and normalised name
                if tag.norm and tag.norm.lower() != tag.text.lower():
                    values.append(tag.norm)
            elif label == "value":
                if tag.measurement:
                    self.measurement.append(tag.measurement)
            elif label == "time_window":
                days = _window_days(tag)
                if days is not None:
                    self.window.append(days)


@lru_cache(maxsize=4096)
def _analyzed_label(label: str) -> str:
    """Analyzed form of a short label from a small closed set (criterion categories)."""
    return " ".join(analyze(label))


@lru_cache(maxsize=64)
def _polarity_keywords(polarity: Optional[str]) -> tuple:
    return tuple(_keywords("polarity", [polarity]))


def _polarity(polarity: Optional[str]) -> List[str]:
    """The polarity keyword list (a fresh list: documents are plain data)."""
    return list(_polarity_keywords(polarity))


def _trial_fields(record: TrialRecord) -> dict:
    """Fields shared by the trial document and every criterion document.

    The title is searched on the trial document only (hits show `title_raw`).
    """
    eligibility = record.eligibility
    countries = sorted({loc.country for loc in record.locations if loc.country})
    key = trial_key(record.registry, record.trial_id)
    return {
        "trial_key": key,
        TRIAL_NUMBER: trial_number(key),
        "trial_id": record.trial_id,
        "registry": _keywords("registry", [record.registry]),
        "version": record.version or "",
        "trial": _keywords("trial", [record.trial_id] + [i.id for i in record.secondary_ids]),
        "status": _keywords("status", [record.status]),
        "status_raw": record.status or "",
        "phase": _keywords("phase", list(record.phases)),
        "phases_raw": ", ".join(record.phases),
        "type": _keywords("type", [record.study_type]),
        "sex": _keywords("sex", [eligibility.sex if eligibility else None]),
        "healthy": _keywords("healthy", [_yes_no(eligibility.healthy_volunteers if eligibility else None)]),
        "title_raw": record.title or record.official_title or "",
        "sponsor": join_values(s.name for s in record.sponsors),
        "country": join_values(countries),
        "countries_raw": COUNTRY_SEPARATOR.join(countries),  # names may hold commas: "Korea, Republic of"
        "start": _date_number(record.start_date),
        "completion": _date_number(record.completion_date or record.primary_completion_date),
        "min_age": [_age_years(eligibility, "min_age", AGE_UNBOUNDED[0])],
        "max_age": [_age_years(eligibility, "max_age", AGE_UNBOUNDED[1])],
    }


def _dates(record: TrialRecord) -> str:
    """Start, primary completion, completion and last update dates, as `name=date; ...`."""
    names = ("start_date", "primary_completion_date", "completion_date", "last_updated")
    return "; ".join(f"{name}={getattr(record, name)}" for name in names if getattr(record, name))


def _date_number(value) -> List[float]:
    """A date (`2023-01-15`, `2023-01`, `2023`) as the number 20230115 (a missing day or month is 0)."""
    return [date_number(str(value))] if value and date_number(str(value)) else []


def date_number(text: str) -> Optional[float]:
    """`2023-01-15` -> 20230115.0; a year or year-month counts from its start; None when not a date."""
    match = re.match(r"^\s*(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", text or "")
    if not match:
        return None
    year, month, day = (int(part) if part else 0 for part in match.groups())
    return float(year * 10000 + month * 100 + day)


def _keywords(field: str, values) -> List[str]:
    out = []
    for value in values:
        norm = normalize_keyword(field, value) if value else None
        if norm and norm not in out:
            out.append(norm)
    return out


def _yes_no(value: Optional[bool]) -> Optional[str]:
    return None if value is None else ("yes" if value else "no")


def _age_years(eligibility, name: str, default: float) -> float:
    age = getattr(eligibility, name, None) if eligibility else None
    return round(float(age.years), 2) if age is not None and age.years is not None else default


def _intervention_names(record: TrialRecord) -> List[str]:
    names = []
    for intervention in record.interventions:
        names.append(intervention.name)
        names.extend(intervention.other_names)
    return names + list(record.intervention_mesh)


_BINDABLE = ("drug", "procedure")


def bound_windows(tags) -> str:
    """Each time window of a criterion with the entity it limits, as `analyzed entity=days; ...`.

    A window names its entity in `bounds` when the tagger filled it; else it
    is bound to the nearest drug or procedure tag of the same criterion
    ("rituximab within 4 weeks": rituximab). A window with no such tag is
    bound to nothing (`=days`).
    """
    entities = [tag for tag in tags if tag.label in _BINDABLE]
    out = []
    for tag in tags:
        days = _window_days(tag) if tag.label == "time_window" else None
        if days is None:
            continue
        bound = tag.bounds
        if not isinstance(bound, str) or not bound:
            near = min(entities, key=lambda e: _distance(e, tag), default=None)
            bound = (near.norm or near.text) if near is not None else ""
        out.append(f"{' '.join(analyze(bound))}={days:g}")
    return "; ".join(out)


def _distance(entity, window) -> int:
    """Characters between two spans of one text (0 when they touch or overlap)."""
    return max(entity.start - window.end, window.start - entity.end, 0)


def _window_days(tag) -> Optional[float]:
    """A time window's number of days: its days, else its upper or lower bound."""
    value = next((v for v in (tag.days, tag.high_days, tag.low_days) if v is not None), None)
    return None if value is None else round(float(value), 2)
