"""Tag changes inside a modified criterion: drugs, conditions, windows, values.

Criteria tagged by `toolkit.nlp` carry their tags; untagged criteria get a
small built-in reading of time windows ("within 14 days") and value limits
("> 1.5 mg/dL") so a diff names those changes with or without the tagger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, List, Optional, Tuple

from toolkit.diff.model import TagChange

__all__ = ["Quantity", "quantities", "tag_changes", "threshold_direction"]

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_UNIT_DAYS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 30.4, "year": 365.25}
_TIME = re.compile(_NUMBER + r"\s*-?\s*(hours?|hrs?|days?|weeks?|wks?|months?|years?|yrs?)\b", re.I)
_COMPARATOR = (
    r"(<=|>=|≤|≥|=<|=>|<|>|less than or equal to|greater than or equal to|less than|greater than|"
    r"more than|fewer than|at least|at most|no more than|no less than|above|below|under|over|"
    r"exceeding|exceeds|up to|maximum of|minimum of)"
)
_VALUE = re.compile(_COMPARATOR + r"\s*" + _NUMBER + r"\s*([a-zA-Zµμ%][\w/%.^µμ³²]*)?", re.I)
_UPPER = {"<", "<=", "≤", "=<", "less than", "less than or equal to", "fewer than", "at most",
          "no more than", "below", "under", "up to", "maximum of"}
_LOWER = {">", ">=", "≥", "=>", "greater than", "greater than or equal to", "more than",
          "at least", "no less than", "above", "over", "exceeding", "exceeds", "minimum of"}
_WINDOW_CUES = re.compile(r"\b(within|past|last|prior|previous|preceding|before|after|during|in the)\b[^.;]{0,25}$", re.I)


@dataclass(frozen=True)
class Quantity:
    """A time window (in days) or a value limit read from a criterion."""

    label: str  # time_window | value
    text: str
    number: float
    unit: Optional[str] = None
    comparator: Optional[str] = None
    measurement: Optional[str] = None


def quantities(criterion) -> List[Quantity]:
    """Time windows and value limits of a criterion, from its tags or its text.

    Args:
        criterion: a `toolkit.records.Criterion`.
    """
    tagged = [q for q in (_from_tag(t) for t in criterion.tags) if q is not None]
    if tagged or any(t.label in ("time_window", "value") for t in criterion.tags):
        return tagged
    return _from_text(criterion.text)


def _from_tag(tag) -> Optional[Quantity]:
    if tag.label == "time_window" and tag.days is not None:
        return Quantity("time_window", tag.text, float(tag.days), "days", tag.relation)
    if tag.label == "value" and tag.number is not None:
        return Quantity("value", tag.text, float(tag.number), tag.unit, tag.comparator, tag.measurement)
    return None


def _from_text(text: str) -> List[Quantity]:
    found: List[Quantity] = []
    taken = []
    for match in _VALUE.finditer(text):
        number = float(match.group(2).replace(",", "."))
        found.append(Quantity("value", match.group(0).strip(), number, match.group(3),
                              match.group(1).lower(), _measurement(text[: match.start()])))
        taken.append(range(match.start(), match.end()))
    for match in _TIME.finditer(text):
        if any(match.start() in span for span in taken) or not _WINDOW_CUES.search(text[: match.start()]):
            continue
        unit = match.group(2).lower().rstrip("s")
        days = float(match.group(1).replace(",", ".")) * _UNIT_DAYS.get(_unit_key(unit), 1)
        found.append(Quantity("time_window", match.group(0), round(days, 2), "days"))
    return found


def _unit_key(unit: str) -> str:
    return {"hr": "hour", "wk": "week", "yr": "year"}.get(unit, unit)


def _measurement(before: str) -> Optional[str]:
    words = re.findall(r"[A-Za-z][\w-]*", before[-40:])
    return words[-1].lower() if words else None


def tag_changes(old, new) -> Tuple[TagChange, ...]:
    """Tags added, removed or changed in value between two criteria."""
    changes = list(_label_set_changes(old.tags, new.tags))
    changes += _quantity_changes(quantities(old), quantities(new))
    return tuple(changes)


def _label_set_changes(old_tags: Iterable, new_tags: Iterable):
    def keyed(tags):
        return {(t.label, (t.norm or t.text).lower()): t for t in tags
                if t.label not in ("time_window", "value")}

    before, after = keyed(old_tags), keyed(new_tags)
    for key in sorted(after.keys() - before.keys()):
        yield TagChange(label=key[0], change="added", after=after[key].norm or after[key].text)
    for key in sorted(before.keys() - after.keys()):
        yield TagChange(label=key[0], change="removed", before=before[key].norm or before[key].text)


def _quantity_changes(old: List[Quantity], new: List[Quantity]) -> List[TagChange]:
    changes = []
    for label in ("time_window", "value"):
        a = [q for q in old if q.label == label]
        b = [q for q in new if q.label == label]
        for before, after in _pair(a, b):
            if before is None:
                changes.append(TagChange(label, "added", after=after.text, after_value=after.number, unit=after.unit))
            elif after is None:
                changes.append(TagChange(label, "removed", before=before.text, before_value=before.number, unit=before.unit))
            elif before.number != after.number:
                changes.append(TagChange(
                    label, "changed", before=before.text, after=after.text,
                    before_value=before.number, after_value=after.number,
                    unit=after.unit or before.unit, comparator=after.comparator or before.comparator))
    return changes


def _pair(a: List[Quantity], b: List[Quantity]):
    """Pair quantities by position when counts agree, else by unit and measurement."""
    if len(a) == len(b):
        return list(zip(a, b))
    pairs, rest = [], list(b)
    for q in a:
        match = next((r for r in rest if (r.unit, r.measurement) == (q.unit, q.measurement)), None)
        if match is None:
            match = next((r for r in rest if r.unit == q.unit), None)
        if match is not None:
            rest.remove(match)
        pairs.append((q, match))
    return pairs + [(None, r) for r in rest]


def threshold_direction(comparator: Optional[str], polarity: str, before: float, after: float) -> str:
    """Whether a changed limit lets more people in ("loosened") or fewer ("tightened").

    Args:
        comparator: the limit's comparator (`<`, `at least` ...), if known.
        polarity: inclusion or exclusion.
        before: the old number.
        after: the new number.

    Returns:
        loosened, tightened or changed (when the comparator is unknown).
    """
    comparator = (comparator or "").lower()
    if comparator in _UPPER:
        wider = after > before
    elif comparator in _LOWER:
        wider = after < before
    else:
        return "changed"
    if polarity == "exclusion":
        wider = not wider
    return "loosened" if wider else "tightened"
