"""From a parsed query and command options to the tree an engine runs.

Compiling resolves every raw word to what the index holds: stems for text
fields (with synonym expansion), normalised keywords for keyword fields; it
adds the option filters and restricts the search to criterion documents.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence, Tuple

from toolkit.errors import QueryError
from toolkit.index.analysis import analyze, words as words_of
from toolkit.index.query import (
    All, And, Fuzzy, Node, Not, Or, Phrase, Prefix, Range, Word, parse_query,
)
from toolkit.index.schema import FIELDS, normalize_keyword
from toolkit.index.synonyms import SynonymTable, default_synonyms
from toolkit import units

__all__ = ["CRITERIA_ONLY", "Filters", "compile_query", "compile_node", "parse_duration", "age_in_years", "query_terms"]

DEFAULT_FIELD = "text"
CRITERIA_ONLY = Not(Word("kind", "trial"))

# a unit's first letter -> the unit it names in `toolkit.units`
_UNIT_NAMES = {"d": "day", "w": "week", "m": "month", "y": "year", "h": "hour"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


@dataclass(frozen=True)
class Filters:
    """Structured restrictions given as command options (all optional)."""

    polarity: Optional[str] = None
    status: Sequence[str] = ()
    phase: Sequence[str] = ()
    age_years: Optional[float] = None
    window_min_days: Optional[float] = None
    window_max_days: Optional[float] = None
    drug: Optional[str] = None
    condition: Optional[str] = None


def parse_duration(text: str, *, default_unit: str = "d") -> float:
    """A duration such as `4w`, `28d`, `6 months`, `1y` in days (`toolkit.units`: a month is 30 days).

    Raises:
        QueryError: when the text is not a number with a known unit.
    """
    value, unit = _amount(text, default_unit=default_unit)
    return units.days(value, _UNIT_NAMES[unit])


def age_in_years(text: str) -> float:
    """An age option such as `10y`, `18`, `6m` in years (a bare number is years), as records give ages."""
    value, unit = _amount(text, default_unit="y")
    return units.years(value, _UNIT_NAMES[unit])


def _amount(text: str, *, default_unit: str) -> Tuple[float, str]:
    """The number and unit letter of a duration (see `parse_duration`)."""
    match = _DURATION.match(text.lower())
    unit = (match.group(2) or default_unit)[:1] if match else ""
    if not match or unit not in _UNIT_NAMES or (match.group(2) and match.group(2).startswith("mi")):
        raise QueryError(f"not a duration: {text!r} (write e.g. 4w, 28d, 6m, 1y)")
    return float(match.group(1)), unit


def compile_query(
    text: Optional[str], filters: Filters = Filters(), *, synonyms: Optional[SynonymTable] = None
) -> Node:
    """Parse and compile a query string with its option filters.

    Args:
        text: the query; empty or None searches every criterion.
        filters: option filters, ANDed with the query.
        synonyms: expansion table (the shipped one by default).

    Returns:
        The engine-ready tree, restricted to criterion documents.

    Raises:
        QueryError: on bad syntax or a term with nothing searchable.
    """
    synonyms = synonyms or default_synonyms()
    # "not a trial document" rather than "a criterion document": the same set, and
    # engines then walk the (short) trial list instead of every criterion's
    parts = [CRITERIA_ONLY]
    if text and text.strip():
        parts.append(compile_node(parse_query(text), synonyms=synonyms))
    parts.extend(_filter_nodes(filters, synonyms))
    return And(tuple(parts))


def compile_node(node: Node, *, synonyms: SynonymTable) -> Node:
    """Resolve the raw words of a parsed tree (see module docstring)."""
    if isinstance(node, (And, Or)):
        return type(node)(tuple(compile_node(item, synonyms=synonyms) for item in node.items))
    if isinstance(node, Not):
        return Not(compile_node(node.item, synonyms=synonyms))
    if isinstance(node, (All, Range)):
        return node
    field = node.field or DEFAULT_FIELD
    if FIELDS[field] == "keyword":
        return _keyword_node(node, field)
    return _text_node(node, field, synonyms)


def _keyword_node(node: Node, field: str) -> Node:
    raw = " ".join(node.words) if isinstance(node, Phrase) else node.text
    value = normalize_keyword(field, raw)
    if value is None:
        raise QueryError(f"nothing to search in {field}:{raw!r}")
    if isinstance(node, Prefix):
        return Prefix(field, value)
    return Word(field, value)


def _text_node(node: Node, field: str, synonyms: SynonymTable) -> Node:
    raw = " ".join(node.words) if isinstance(node, Phrase) else node.text
    words = tuple(analyze(raw))
    if not words:
        raise QueryError(f"nothing searchable in {raw!r}: give letters or digits")
    if isinstance(node, Prefix):
        if len(words) != 1:
            raise QueryError(f"prefix* applies to one word, not {raw!r}")
        return Prefix(field, words_of(raw)[0])  # folded, not stemmed: stems are matched by prefix
    if isinstance(node, Fuzzy):
        if len(words) != 1:
            raise QueryError(f"fuzzy~ applies to one word, not {raw!r}")
        return Fuzzy(field, words[0], node.distance or (1 if len(words[0]) <= 5 else 2))
    variants = [_words_node(field, v) for v in synonyms.expand(words)]
    return variants[0] if len(variants) == 1 else Or(tuple(variants))


def _words_node(field: str, words: Tuple[str, ...]) -> Node:
    return Word(field, words[0]) if len(words) == 1 else Phrase(field, words)


def _filter_nodes(filters: Filters, synonyms: SynonymTable) -> Iterable[Node]:
    if filters.polarity:
        yield _keyword_node(Word("polarity", filters.polarity), "polarity")
    for field, values in (("status", filters.status), ("phase", filters.phase)):
        if values:
            yield _any_of([_keyword_node(Word(field, v), field) for v in values])
    if filters.age_years is not None:
        age = _two_places(filters.age_years)
        yield Range("min_age", None, age)
        yield Range("max_age", age, None)
    if filters.window_min_days is not None or filters.window_max_days is not None:
        yield Range("window", _two_places(filters.window_min_days), _two_places(filters.window_max_days))
    for field, value in (("drug", filters.drug), ("condition", filters.condition)):
        if value:
            yield _text_node(Phrase(field, (value,)), field, synonyms)


def _two_places(value: Optional[float]) -> Optional[float]:
    """Numbers are compared to 1/100 (as the index keeps them)."""
    return None if value is None else round(float(value), 2)


def _any_of(nodes: Sequence[Node]) -> Node:
    return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))


# Fields whose words also appear in the criterion text (tags are spans of it).
_HIGHLIGHT_FIELDS = (DEFAULT_FIELD, "drug", "condition", "measurement")


@dataclass
class QueryTerms:
    """What a tree asks of the criterion text, for highlighting."""

    stems: set = dataclasses.field(default_factory=set)
    prefixes: list = dataclasses.field(default_factory=list)
    phrases: list = dataclasses.field(default_factory=list)  # tuples of stems that count only together


def query_terms(node: Node) -> QueryTerms:
    """Stems, phrases and prefixes a resolved tree (no fuzzy words) asks of the text (NOT branches left out)."""
    terms = QueryTerms()
    _collect(node, terms)
    return terms


def _collect(node: Node, terms: QueryTerms) -> None:
    if isinstance(node, (And, Or)):
        for item in node.items:
            _collect(item, terms)
    elif getattr(node, "field", None) not in _HIGHLIGHT_FIELDS:
        return
    elif isinstance(node, Word):
        terms.stems.add(node.text)
    elif isinstance(node, Phrase):
        terms.phrases.append(node.words)
    elif isinstance(node, Prefix):
        terms.prefixes.append(node.text)
