"""The one table of time units: a duration in days, an age in years.

Durations count days the way protocols write them: a week is 7 days, a month
30 and a year 365, so "within 1 month" and "within 30 days" are the same
window, whether the tagger reads it from a criterion or a user types `1m` in
a search. Ages count years the way registries give them: a month is a
twelfth of a year, a week 7 / 365.25 of one ("6 Months" is 0.5 years).
Every stage that turns a time unit into a number reads it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

__all__ = ["Unit", "UNITS", "days", "years", "unit_named"]

_YEAR_DAYS = 365.25  # an age's year: leap years averaged


@dataclass(frozen=True)
class Unit:
    """A time unit: its name, length as a duration (days) and as an age (years)."""

    name: str
    days: float
    years: float


UNITS: Dict[str, Unit] = {u.name: u for u in (
    Unit("minute", 1 / 1440, 1 / (_YEAR_DAYS * 1440)),
    Unit("hour", 1 / 24, 1 / (_YEAR_DAYS * 24)),
    Unit("day", 1.0, 1 / _YEAR_DAYS),
    Unit("week", 7.0, 7 / _YEAR_DAYS),
    Unit("month", 30.0, 1 / 12),
    Unit("year", 365.0, 1.0),
)}

# short and plural spellings of the names above (search options, ages, diff text)
_ALIASES = {
    "min": "minute", "mins": "minute", "minutes": "minute",
    "h": "hour", "hr": "hour", "hrs": "hour", "hours": "hour",
    "d": "day", "days": "day",
    "w": "week", "wk": "week", "wks": "week", "weeks": "week",
    "m": "month", "mo": "month", "mos": "month", "mth": "month", "mths": "month", "months": "month",
    "y": "year", "yr": "year", "yrs": "year", "years": "year",
}


def unit_named(word: str) -> Optional[Unit]:
    """The unit a word names ("weeks", "wk", "m" ...), or None."""
    key = word.strip().lower()
    return UNITS.get(key) or UNITS.get(_ALIASES.get(key, ""))


def days(amount: float, unit: str) -> float:
    """A duration in days ("4", "week" -> 28.0).

    Raises:
        KeyError: `unit` names no time unit.
    """
    return amount * _unit(unit).days


def years(amount: float, unit: str) -> float:
    """An age in years, rounded to 4 decimals ("6", "months" -> 0.5).

    Raises:
        KeyError: `unit` names no time unit.
    """
    return round(amount * _unit(unit).years, 4)


def _unit(name: str) -> Unit:
    found = unit_named(name)
    if found is None:
        raise KeyError(name)
    return found
