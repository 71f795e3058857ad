"""The tagger's rules as data: load `data/rules.json` once and compile its regexes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Pattern, Tuple

from toolkit import units as time_units
from toolkit.errors import RulesError
from toolkit.nlp.lexicon import DATA_DIR

RULES_PATH = DATA_DIR / "rules.json"
_KEYS = {
    "units", "number_words", "relations", "directions", "anchors", "temporal",
    "negation_cues", "exception_cues", "comparators", "value_units", "age_cues", "context_filters",
}


@dataclass(frozen=True)
class Rules:
    """Compiled rules: unit table, number words and ordered (regex, value) tables."""

    unit_days: Dict[str, float]
    unit_of_form: Dict[str, str]
    number_words: Dict[str, float]
    relations: Tuple[Tuple[Pattern, str], ...]
    directions: Tuple[Tuple[Pattern, str], ...]
    anchors: Tuple[Tuple[Pattern, str], ...]
    temporal: Tuple[Tuple[Pattern, str], ...]
    negation_cues: Tuple[str, ...]
    exception_cues: Tuple[str, ...]
    comparators: Tuple[Tuple[Pattern, str], ...]
    value_units: Tuple[str, ...]
    age_cues: Tuple[str, ...]
    # (label, "prev" | "next", words): a term with one of these words right before/after it is dropped
    context_filters: Tuple[Tuple[str, str, frozenset], ...] = ()

    @classmethod
    def from_dict(cls, data: dict) -> "Rules":
        """Build from the JSON form; unknown or missing keys raise `RulesError`."""
        if set(data) != _KEYS:
            raise RulesError(f"rules keys differ: {sorted(set(data) ^ _KEYS)}")
        units = data["units"]
        return cls(
            unit_days={name: time_units.UNITS[name].days for name in units},
            unit_of_form={form: name for name, spec in units.items() for form in spec["forms"]},
            number_words=dict(data["number_words"]),
            relations=_compile(data["relations"]),
            directions=_compile(data["directions"]),
            anchors=_compile(data["anchors"]),
            temporal=_compile(data["temporal"]),
            negation_cues=tuple(data["negation_cues"]),
            exception_cues=tuple(data["exception_cues"]),
            comparators=_compile(data["comparators"]),
            value_units=tuple(data["value_units"]),
            age_cues=tuple(data["age_cues"]),
            context_filters=_context_filters(data["context_filters"]),
        )


def _context_filters(rows: List[dict]) -> Tuple[Tuple[str, str, frozenset], ...]:
    out = []
    for row in rows:
        unknown = set(row) - {"label", "prev", "next", "why"}
        if unknown or "label" not in row:
            raise RulesError(f"context filter {row!r}: unknown keys {sorted(unknown)} or no label")
        out.extend((row["label"], side, frozenset(row[side])) for side in ("prev", "next") if side in row)
    return tuple(out)


def _compile(rows: List[list]) -> Tuple[Tuple[Pattern, str], ...]:
    try:
        return tuple((re.compile(rf"(?:{pattern})", re.IGNORECASE), value) for pattern, value in rows)
    except re.error as exc:
        raise RulesError(f"bad rule regex: {exc}") from None


NUMBER = r"\d+(?:[.,]\d+)?"


def number_value(text: str) -> float:
    """The number a `NUMBER` match spells ("1,5" reads as 1.5)."""
    return float(text.replace(",", "."))


def amount_range(amount: str, *, joiner: str) -> str:
    """Regex of an amount or a range of two ("2-4", "2 to 4", "2 <joiner> 4"), groups `low` and `high`."""
    return rf"(?P<low>{amount})(?:\s*(?:-|–|to|{joiner})\s*(?P<high>{amount}))?"


def lead_start(lead: Pattern, text: str, match: re.Match, *, reach: int) -> int:
    """Start of a match widened to the lead-in (relation, comparator) ending right before it.

    Args:
        lead: a pattern anchored at its end (`...\\s*$`).
        text: the searched text.
        match: the core match.
        reach: how many characters before the match the lead-in may start.
    """
    found = lead.search(text, max(0, match.start() - reach), match.start())
    return found.start() if found else match.start()


def overlaps(start: int, end: int, spans) -> bool:
    """Whether [start, end) overlaps any of the (start, end) ranges."""
    return any(s < end and start < e for s, e in spans)


def alternation(rows) -> str:
    """One regex alternative of every pattern of an ordered (regex, value) table."""
    return "|".join(f"(?:{pattern.pattern})" for pattern, _ in rows)


def classify(text: str, rows) -> str:
    """The value of the first rule whose regex matches the whole text."""
    for pattern, value in rows:
        if pattern.fullmatch(text):
            return value
    return ""


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    """Load the shipped rules once per process.

    Raises:
        RulesError: the file is unreadable or malformed.
    """
    try:
        data = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RulesError(f"cannot read {RULES_PATH}: {exc}") from None
    return Rules.from_dict(data)
