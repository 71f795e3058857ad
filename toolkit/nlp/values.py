"""Measured values: "Direct bilirubin > 1.5 mg/dl", "Karnofsky performance status ≥ 50%", ages.

Pure functions over a criterion text. A value is a comparator, a number (or a
range) and a unit; the measurement it bounds is the noun phrase just before it
("age" when the unit is a time unit said of a person). Qualitative results
(positive, negative, normal, elevated ...) are values without a number.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple

from toolkit.nlp.rules import (
    NUMBER, alternation, amount_range, classify, lead_start, load_rules, number_value, overlaps,
)
from toolkit.records import Tag

QUALITATIVE = re.compile(
    r"\b(?:positive|negative|normal|abnormal|elevated|detectable|undetectable|non-reactive|"
    r"seropositive|seronegative|decreased)\b",
    re.IGNORECASE,
)
_GRADE_WORD = (
    r"grade|stage|class|nyha(?: class)?|gold(?: stage)?|asa(?: class)?|child[- ]pugh(?: class| score)?|"
    r"ecog(?: performance status)?|ecog ps|who performance status|tanner stage|fitzpatrick(?: skin type)?|gcs"
)
_GRADE_VALUE = r"(?:[IV]{1,4}[ab]?|[0-5][ab]?|[A-D])"
GRADED = re.compile(
    rf"\b(?P<what>{_GRADE_WORD})\s*(?:of\s*|:\s*|≤\s*|≥\s*|<=?\s*|>=?\s*)?"
    rf"(?P<value>{_GRADE_VALUE}(?:\s*(?:-|–|to|or|and|,)\s*{_GRADE_VALUE})*)(?![\w])",
    re.IGNORECASE,
)
_LEAD_WORDS = {
    "with", "a", "an", "the", "and", "or", "of", "for", "has", "have", "having", "is", "are", "be",
    "if", "in", "at", "to", "as", "by", "than", "who", "whose", "their", "his", "her", "known",
    "any", "documented", "defined", "measured", "level", "levels", "value", "values", "count",
}
_TIME_UNITS = ("year", "month", "week", "day")
_COMPARATOR_REACH = 40  # characters before a number searched for its comparator
_UNIT_CASE = {"dl": "dL", "ml": "mL", "l": "L", "ul": "µL", "μl": "µL", "umol": "µmol", "μmol": "µmol",
              "mcl": "µL", "uln": "ULN", "mmhg": "mmHg", "iu": "IU", "u": "U"}


@lru_cache(maxsize=1)
def _patterns() -> Tuple[re.Pattern, re.Pattern, re.Pattern]:
    """Compiled: number core (range, unit, trailing comparator), comparator ending before it, between-range."""
    rules = load_rules()
    units = "|".join(rules.value_units)
    value = re.compile(
        rf"(?<![\w.]){amount_range(NUMBER, joiner='and')}"
        rf"(?:\s*(?P<unit>(?:{units})(?![\w/])))?"
        rf"(?:\s*(?P<after>or (?:more|greater|higher|above|older|less|lower|below|younger)|and (?:above|older|below)))?",
        re.IGNORECASE,
    )
    comparator = re.compile(rf"(?:(?<!\w)|(?=[^\w\s]))(?:{alternation(rules.comparators)})\s*$", re.IGNORECASE)
    between = re.compile(rf"\bbetween\s+(?P<low>{NUMBER})\s*(?P<u1>{units})?\s+and\s+(?P<high>{NUMBER})\s*(?P<unit>{units})?", re.I)
    return value, comparator, between


def find_values(text: str, taken: Sequence[Tuple[int, int]] = ()) -> List[Tag]:
    """Values with a comparator or a unit, plus qualitative results.

    Args:
        text: a criterion text.
        taken: character ranges already tagged (time windows); overlapping hits are skipped.

    Returns:
        `value` tags (measurement, comparator, number or low/high, unit), in text order.
    """
    value_re, comparator_re, between_re = _patterns()
    spans = list(taken)
    tags: List[Tag] = []
    for match in between_re.finditer(text):
        tags.append(_range_tag(text, match, spans))
    for match in value_re.finditer(text):
        start = lead_start(comparator_re, text, match, reach=_COMPARATOR_REACH)
        if overlaps(start, match.end(), spans):
            continue
        tag = _value_tag(text, start, match, tags)
        if tag is not None:
            tags.append(tag)
            spans.append((tag.start, tag.end))
    tags.extend(_graded(text, spans))
    tags.extend(_qualitative(text, spans))
    return sorted(tags, key=lambda tag: tag.start)


def _graded(text: str, spans: list) -> List[Tag]:
    """Grades, stages and classes: "grade 3", "NYHA class III or IV", "ECOG 0-1"."""
    out = []
    for match in GRADED.finditer(text):
        start, end = match.span("value")
        if overlaps(start, end, spans):
            continue
        spans.append((start, end))
        out.append(Tag("value", match.group("value"), start, end, norm=match.group("value").upper(),
                       measurement=match.group("what").lower()))
    return out


def _range_tag(text: str, match: re.Match, spans: list) -> Tag:
    unit = normalise_unit(match.group("unit") or match.group("u1"))
    spans.append((match.start(), match.end()))
    return Tag(
        "value", match.group(), match.start(), match.end(), comparator="between",
        low=_number(match.group("low")), high=_number(match.group("high")), unit=unit,
        measurement=_measurement(text, match.start(), unit, []),
    )


def _value_tag(text: str, start: int, match: re.Match, previous: List[Tag]) -> Optional[Tag]:
    cmp_text = text[start:match.start()].strip()
    after = match.group("after")
    unit_text = match.group("unit")
    if not unit_text and not after and (not cmp_text or _glued(text, match.end())):
        return None
    comparator = classify(cmp_text, load_rules().comparators) if cmp_text else None
    if after:
        comparator = ">=" if re.search(r"more|greater|higher|above|older", after, re.I) else "<="
    unit = normalise_unit(unit_text)
    low, high = _number(match.group("low")), match.group("high")
    return Tag(
        "value", text[start:match.end()], start, match.end(),
        comparator="between" if high and comparator in (None, "=") else comparator,
        number=None if high else low, low=low if high else None, high=_number(high) if high else None,
        unit=unit, measurement=_measurement(text, start, unit, previous),
    )


def _glued(text: str, end: int) -> bool:
    """A number glued to letters ("852A") is a name, not a value."""
    return end < len(text) and text[end].isalpha()


def _number(text: Optional[str]) -> Optional[float]:
    return number_value(text) if text else None


def normalise_unit(unit: Optional[str]) -> Optional[str]:
    """Canonical spelling of a unit: mg/dl -> mg/dL, umol/l -> µmol/L, years -> year."""
    if not unit:
        return None
    unit = re.sub(r"\s+", " ", unit.strip())
    lowered = unit.lower()
    for time_unit in _TIME_UNITS:
        if lowered.startswith(time_unit):
            return time_unit
    parts = re.split(r"([/ ])", unit.replace("×", "x"))
    return "".join(_UNIT_CASE.get(part.lower(), part) for part in parts)


def _measurement(text: str, start: int, unit: Optional[str], previous: List[Tag]) -> Optional[str]:
    before = text[max(0, start - 60):start]
    if unit in _TIME_UNITS and re.search(r"\b(?:aged?|ages|participants|patients|subjects|children|adults|men|women|years? of age)\b[^.;]{0,25}$", before, re.I):
        return "age"
    if previous and re.fullmatch(r"\s*(?:and|or|to|,|\(|\[)?\s*", text[previous[-1].end:start]):
        return previous[-1].measurement
    words = re.findall(r"[A-Za-z][\w'’-]*(?:\s*\([^)]{1,15}\))?", re.split(r"[.;,:()\[\]]", before)[-1])
    words = words[-4:]
    while words and words[0].lower() in _LEAD_WORDS:
        words.pop(0)
    while words and words[-1].lower() in _LEAD_WORDS:
        words.pop()
    return " ".join(words).lower() or None


def _qualitative(text: str, spans) -> List[Tag]:
    """Qualitative results: positive, negative, normal, elevated ..."""
    return [
        Tag("value", m.group(), m.start(), m.end(), norm=m.group().lower())
        for m in QUALITATIVE.finditer(text)
        if not overlaps(m.start(), m.end(), spans)
    ]
