"""Tag changes inside a modified criterion: drugs, conditions, windows, values.

Criteria tagged by `toolkit.nlp` carry their tags; the two texts of a
modified pair that came untagged (a diff of raw files) are tagged here by the
same tagger, so a diff names window and value changes ("within 14 days",
"> 1.5 mg/dL") with the one reading of them the toolkit has.
"""

from __future__ import annotations

import collections
import functools
import re
from dataclasses import dataclass
from typing import Iterable, List, Optional, Tuple

from toolkit.diff.model import TagChange

__all__ = ["Quantity", "quantities", "prime_tags", "clear_cache", "tag_changes", "threshold_direction"]

_UPPER = {"<", "<=", "≤", "=<", "less than", "less than or equal to", "fewer than", "at most",
          "no more than", "below", "under", "up to", "maximum of"}
_LOWER = {">", ">=", "≥", "=>", "greater than", "greater than or equal to", "more than",
          "at least", "no less than", "above", "over", "exceeding", "exceeds", "minimum of"}


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
    """Time windows and value limits of a criterion, from its tags (tagging it first if it has none).

    Args:
        criterion: a `toolkit.records.Criterion`.
    """
    tags = criterion.tags or _tagged(criterion.text)
    return [q for q in (_from_tag(t) for t in tags) if q is not None]


_CACHE: "collections.OrderedDict[str, tuple]" = collections.OrderedDict()
_CACHE_SIZE = 4096


def _tagged(text: str) -> tuple:
    """The tags of an untagged criterion's text, by the toolkit's tagger.

    A value needs a number and a window a time unit, so a text with neither
    (most criteria of a history) is not tagged; tags are cached, as a history
    repeats its texts version after version (`prime_tags` fills the cache in
    one model pass).
    """
    if text not in _CACHE:
        prime_tags([text])
    return _CACHE.get(text, ())


def prime_tags(texts: Iterable[str]) -> None:
    """Tag the texts not yet cached that may hold an amount, all in one model pass."""
    todo = list(dict.fromkeys(t for t in texts if t not in _CACHE))
    tagging = [t for t in todo if _may_hold_amount(t)]
    tagged = dict(zip(tagging, _tag_each(tagging))) if tagging else {}
    for text in todo:
        _CACHE[text] = tagged.get(text, ())
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


def clear_cache() -> None:
    """Forget the tags of texts seen so far (benchmarks time the tagging again)."""
    _CACHE.clear()


def _tag_each(texts: List[str]) -> List[tuple]:
    """Each text tagged on its own (no abbreviation shared between them), in one batch."""
    from toolkit.nlp import tag_text_groups

    return [tuple(group[0]) for group in tag_text_groups([[text] for text in texts])]


def _may_hold_amount(text: str) -> bool:
    """Whether a text has a digit or one of the tagger's time-unit words."""
    return any(ch.isdigit() for ch in text) or bool(_unit_words().search(text))


@functools.lru_cache(maxsize=1)
def _unit_words():
    from toolkit.nlp.rules import load_rules

    forms = sorted(load_rules().unit_of_form, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, forms)) + r")\b", re.I)


def _from_tag(tag) -> Optional[Quantity]:
    if tag.label == "time_window" and tag.days is not None:
        return Quantity("time_window", tag.text, float(tag.days), "days", tag.relation)
    if tag.label == "value" and tag.number is not None:
        return Quantity("value", tag.text, float(tag.number), tag.unit, tag.comparator, tag.measurement)
    return None


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
