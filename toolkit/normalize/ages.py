"""Age limits as registries write them: "18 Years", "204 Months", "N/A",
"20years-old", "19 Year(s)", "18 Y", "6 mois", "no limit".

`parse_age(text)` keeps the text as written and adds the number, the unit
(normalised to years, months, weeks, days, hours or minutes) and the age in
years (4 decimals; the unit lengths are `toolkit.units`). Text that states no limit ("N/A", "None", "no maximum
age") gives an `Age` with only its text; missing text gives `None`.
"""

from __future__ import annotations

import re
from typing import Optional

from toolkit import units
from toolkit.records import Age

__all__ = ["parse_age", "in_years"]

# unit words other than the English ones of `toolkit.units` (German, French, Chinese)
_UNIT_WORDS = {
    "years": ("jahr", "jahre", "ans", "an", "année", "années", "annee", "annees", "a", "岁", "周岁"),
    "months": ("monat", "monate", "mois", "个月", "月"),
    "weeks": ("woche", "wochen", "semaine", "semaines", "周"),
    "days": ("tag", "tage", "jour", "jours", "天"),
}
_UNIT_OF_WORD = {word: unit for unit, words in _UNIT_WORDS.items() for word in words}

_AGE = re.compile(
    r"^\s*(?:[<>≤≥]=?\s*)?(?P<value>\d+(?:[.,]\d+)?)\s*"
    r"(?P<unit>[^\W\d_]+|周岁|岁|个月|月|周|天)?(?:\(s\))?\.?"
    r"(?:[\s-]*(?:old|of\s+age|and\s+(?:older|over|above|under|younger)"
    r"|or\s+(?:older|more|over|above|less|under|younger)|\+))?\s*$",
    re.IGNORECASE,
)
_BARE_NUMBER = re.compile(r"\d+(\.\d+)?")


def in_years(text: str) -> str:
    """A bare number written out as years ("18" -> "18 Years"); other text as is."""
    return f"{text} Years" if _BARE_NUMBER.fullmatch(text) else text


def parse_age(text: Optional[str]) -> Optional[Age]:
    """Parse one age limit.

    Args:
        text: the limit as written ("18 Years", "1 Month", "N/A", "" ...).

    Returns:
        `Age` with value, unit and years when a number and unit are found
        (a bare number counts as years); `Age(text=...)` when the text states
        no number; `None` when `text` is None or blank.
    """
    if text is None or not str(text).strip():
        return None
    written = str(text).strip()
    match = _AGE.match(written)
    if match is None:
        return Age(text=written)
    unit = _unit(match.group("unit"))
    if unit is None:
        return Age(text=written)
    value = float(match.group("value").replace(",", "."))
    return Age(text=written, value=value, unit=unit, years=units.years(value, unit))


def _unit(word: Optional[str]) -> Optional[str]:
    """The normalised unit of a unit word ("Y", "mois", "Year"); a missing word means years."""
    if word is None:
        return "years"
    found = units.unit_named(word)
    if found is not None:
        return found.name + "s"
    return _UNIT_OF_WORD.get(word.lower())
