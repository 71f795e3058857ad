"""Shared field normalisers: dates to ISO, registry enums, yes/no, text.

Every source format spells dates, statuses, phases and sexes its own way;
these functions turn them into the spelling of the record model
(ClinicalTrials.gov API v2 enums, ISO 8601 dates). The alias tables are
data, in `fields.json` next to this module.

Each normaliser returns `None` for empty input and for values it cannot
read; callers that must not lose the source value keep it in `extra`.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any, Iterable, Optional, Tuple

__all__ = [
    "clean_text", "iso_date", "status_enum", "phase_list", "sex_enum",
    "enrollment_type", "yes_no", "as_int", "enum_token", "text_list",
]

_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")],
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"^(\d{4})(?:[-/.](\d{1,2}))?(?:[-/.](\d{1,2}))?(?:[T ].*)?$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_WORDY = re.compile(r"^(?:(\d{1,2})(?:st|nd|rd|th)?\s+)?([A-Za-z]+)\.?\s*(\d{1,2})?(?:st|nd|rd|th)?,?\s+(\d{4})$")
_ENUM_JUNK = re.compile(r"[^A-Za-z0-9]+")


@functools.lru_cache(maxsize=1)
def _aliases() -> dict:
    """The alias tables of `fields.json`, inverted: table -> {alias: canonical}."""
    text = resources.files("toolkit.normalize").joinpath("fields.json").read_text("utf-8")
    tables = {}
    for table, canon in json.loads(text).items():
        tables[table] = {alias: name for name, aliases in canon.items() for alias in aliases}
        tables[table].update({name.lower(): name for name in canon})
    return tables


def clean_text(value: Any) -> Optional[str]:
    """Strip a text value; `None` when it is empty or not a string."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def text_list(values: Any) -> Tuple[str, ...]:
    """A tuple of the non-empty stripped strings of a list (or one string)."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)):
        return ()
    return tuple(text for text in (clean_text(v) for v in values) if text)


def _valid(year: int, month: int, day: int) -> bool:
    return 1800 <= year <= 2200 and 1 <= month <= 12 and 1 <= day <= 31


def _iso(year: int, month: Optional[int] = None, day: Optional[int] = None) -> Optional[str]:
    if not _valid(year, month or 1, day or 1):
        return None
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def iso_date(value: Any) -> Optional[str]:
    """Turn a registry date into ISO 8601, keeping its precision (cached for text).

    Reads `2023-09-15`, `2023-09`, `2023/09/15`, `15/09/2023` (day first, as
    ICTRP and most non-US registries write it), `September 15, 2023`,
    `15 September 2023`, `Sept. 2023` and ISO timestamps.

    Args:
        value: the date as written.

    Returns:
        `YYYY-MM-DD`, `YYYY-MM` or `YYYY`; `None` when empty or unreadable.
    """
    if isinstance(value, str):
        return _iso_of_text(value)
    return _iso_of_text(clean_text(value)) if value is not None else None


@functools.lru_cache(maxsize=4096)
def _iso_of_text(value: Optional[str]) -> Optional[str]:
    """`iso_date` of a text; dumps repeat the same few thousand dates, so it is cached."""
    text = clean_text(value)
    if text is None:
        return None
    match = _ISO.match(text)
    if match:
        year, month, day = match.groups()
        return _iso(int(year), month and int(month), day and int(day))
    match = _DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return _iso(year, month, day)
    return _wordy_date(text)


def _wordy_date(text: str) -> Optional[str]:
    match = _WORDY.match(text)
    if not match:
        return None
    day_first, month_name, day_after, year = match.groups()
    month = _MONTHS.get(month_name.lower())
    if month is None:
        return None
    day = day_first or day_after
    return _iso(int(year), month, int(day) if day else None)


def enum_token(value: Any) -> Optional[str]:
    """Upper-case a label and join its words with `_` (`Active, not recruiting` -> `ACTIVE_NOT_RECRUITING`)."""
    text = clean_text(value)
    if text is None:
        return None
    token = _ENUM_JUNK.sub("_", text).strip("_").upper()
    return token or None


def _lookup(table: str, value: Any) -> Optional[str]:
    text = clean_text(value)
    if text is None:
        return None
    key = " ".join(text.lower().replace("_", " ").split())
    found = _aliases()[table].get(key)
    if found is None:
        found = _aliases()[table].get(text.lower())
    return found


def status_enum(value: Any) -> Optional[str]:
    """A recruitment status in ClinicalTrials.gov spelling (`RECRUITING`, `ACTIVE_NOT_RECRUITING` ...).

    Unknown spellings become an enum-style token of the text, so nothing is lost.
    """
    return _lookup("status", value) or enum_token(value)


def sex_enum(value: Any) -> Optional[str]:
    """`ALL`, `FEMALE` or `MALE`; other spellings become an enum-style token."""
    return _lookup("sex", value) or enum_token(value)


def enrollment_type(value: Any) -> Optional[str]:
    """`ACTUAL` or `ESTIMATED` (`Anticipated` is the legacy spelling of the latter)."""
    return _lookup("enrollment_type", value) or enum_token(value)


def yes_no(value: Any) -> Optional[bool]:
    """A boolean from `true`/`false`, `Yes`/`No` and similar; `None` when unreadable."""
    if isinstance(value, bool):
        return value
    found = _lookup("boolean", value)
    return None if found is None else found == "true"


def as_int(value: Any) -> Optional[int]:
    """An integer from an int, a float without fraction or a numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = clean_text(value)
    if text and re.fullmatch(r"[+-]?\d[\d,]*", text):
        return int(text.replace(",", ""))
    return None


def phase_list(value: Any) -> Tuple[str, ...]:
    """Phases in ClinicalTrials.gov spelling, in order, without repeats.

    Reads lists (`["PHASE1", "PHASE2"]`) and combined labels such as
    `Phase 1/Phase 2`, `Phase 2/3`, `Phase II/III`, `Early Phase 1`, `N/A`.
    """
    parts: Iterable[Any] = value if isinstance(value, (list, tuple)) else _split_phases(value)
    out = []
    for part in parts:
        phase = _lookup("phase", part) or enum_token(part)
        if phase and phase not in out:
            out.append(phase)
    return tuple(out)


def _split_phases(value: Any) -> Iterable[str]:
    text = clean_text(value)
    if text is None:
        return ()
    if _lookup("phase", text):
        return (text,)
    pieces = [p.strip() for p in re.split(r"\s*(?:/|,|\+|&|\band\b|-)\s*", text) if p.strip()]
    return [p if p.lower().startswith(("phase", "early")) else f"phase {p}" for p in pieces]
