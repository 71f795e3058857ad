"""From a parsed query and command options to the tree an engine runs.

Compiling resolves every raw word to what the index holds: stems for text
fields, normalised keywords for keyword fields; it adds the option filters
and restricts the search to criterion documents. A plain word or phrase of a
text field also finds its concept (`toolkit.index.concepts`: spellings,
abbreviations, a class's member drugs) and its hyphen joins (wash-out ->
washout); `exact` turns that off.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

from toolkit.errors import QueryError
from toolkit.index.analysis import analyze, stem, words as words_of
from toolkit.index.concepts import holds
from toolkit.index.coordination import COORDINATORS, coordinated_phrases
from toolkit.index.derivations import derived_forms
from toolkit.index.stemmers import american
from toolkit.index.term_lists import MIN_PREFIX
from toolkit.index.query import (
    All, And, Fuzzy, Node, Not, Or, Phrase, Prefix, Range, Word, parse_query,
)
from toolkit.index.schema import FIELDS, normalize_keyword
from toolkit import units

__all__ = ["CRITERIA_ONLY", "TRIALS_ONLY", "Filters", "compile_query", "compile_node", "parse_duration",
           "age_in_years", "query_terms", "MAX_EXPANDED_TERMS"]

# A compiled query holds at most this many terms once concepts are expanded.
MAX_EXPANDED_TERMS = 2000

DEFAULT_FIELD = "text"
CRITERIA_ONLY = Not(Word("kind", "trial"))
TRIALS_ONLY = Word("kind", "trial")

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
    values: Sequence[str] = ()
    started_after: Optional[str] = None
    started_before: Optional[str] = None
    completed_after: Optional[str] = None
    completed_before: Optional[str] = None


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
    text: Optional[str], filters: Filters = Filters(), *, concepts=None, exact: bool = False,
    trials: bool = False,
) -> Node:
    """Parse and compile a query string with its option filters.

    Args:
        text: the query; empty or None searches every criterion (the CLI
            refuses an empty query without a filter).
        filters: option filters, ANDed with the query.
        concepts: what a word also finds: an object with `expand(words)`
            (an index's `ConceptStore`; the shipped table by default).
        exact: no concept expansion (words are still folded and stemmed).
        trials: search trial documents instead of criteria.

    Returns:
        The engine-ready tree.

    Raises:
        QueryError: on bad syntax, a term with nothing searchable, or a
            query that expands to more than `MAX_EXPANDED_TERMS` terms.
    """
    if concepts is None and not exact:
        from toolkit.index.concepts import default_concepts
        concepts = default_concepts()
    expand = None if exact else Expansion(concepts)
    # "not a trial document" rather than "a criterion document": the same set, and
    # engines then walk the (short) trial list instead of every criterion's
    parts = [TRIALS_ONLY if trials else CRITERIA_ONLY]
    if text and text.strip():
        parsed = parse_query(text)
        parts.append(compile_node(_over_trial_fields(parsed) if trials else parsed, expand=expand))
    parts.extend(_filter_nodes(filters, expand))
    node = And(tuple(parts))
    size = term_count(node)
    if size > MAX_EXPANDED_TERMS:
        raise QueryError(f"the query expands to {size:,} terms (at most {MAX_EXPANDED_TERMS:,}): "
                         "use fewer words, or --exact to search the words as written")
    return node


# What a word without a field searches in a `--trials` search.
TRIAL_FIELDS = ("title", "condition", "drug", "text")


def _over_trial_fields(node: Node) -> Node:
    """A parsed tree whose field-less terms search every `TRIAL_FIELDS` field."""
    if isinstance(node, (And, Or)):
        return type(node)(tuple(_over_trial_fields(item) for item in node.items))
    if isinstance(node, Not):
        return Not(_over_trial_fields(node.item))
    if getattr(node, "field", "set") is not None:
        return node
    return Or(tuple(dataclasses.replace(node, field=field) for field in TRIAL_FIELDS))


def term_count(node: Node) -> int:
    """How many leaf terms a tree holds."""
    if isinstance(node, (And, Or)):
        return sum(term_count(item) for item in node.items)
    if isinstance(node, Not):
        return term_count(node.item)
    return 1


def compile_node(node: Node, *, expand=None) -> Node:
    """Resolve the raw words of a parsed tree (see module docstring).

    Args:
        node: a parsed tree.
        expand: words -> the spellings they also find (None: exact words); an
            `Expansion` also keeps found loose words out of their guard phrases.
    """
    if isinstance(node, And) and expand is not None:
        return And(tuple(_and_items(node.items, expand)))
    if isinstance(node, (And, Or)):
        return type(node)(tuple(compile_node(item, expand=expand) for item in node.items))
    if isinstance(node, Not):
        return Not(compile_node(node.item, expand=expand))
    if isinstance(node, (All, Range)):
        return node
    if node.field == "value":
        return _value_node(" ".join(node.words) if isinstance(node, Phrase) else node.text)
    field = node.field or DEFAULT_FIELD
    if FIELDS[field] == "keyword":
        return _keyword_node(node, field)
    return _text_node(node, field, expand)


def _value_node(text: str) -> Range:
    """`hba1c<=8`, `"creatinine > 133 umol/L"`: thresholds of a measurement in a range (`toolkit.index.values`)."""
    from toolkit.index.values import parse_value_query

    field, low, high = parse_value_query(text)
    return Range(field, _two_places(low), _two_places(high))


# Longest run of plain words read as one concept: `heart failure` (unquoted) also finds "CHF".
_MAX_RUN = 4


def _and_items(items: Sequence[Node], expand) -> Iterable[Node]:
    """Compiled items of an AND; a run of plain words naming a concept also finds the concept.

    The run keeps its meaning (all its words, anywhere in the text; each word
    as written, not expanded on its own) and gains the concept's spellings:
    `heart failure` -> (heart AND failure) OR "cardiac failure" OR CHF ...
    """
    at = 0
    while at < len(items):
        run = _concept_run(items, at, expand)
        if run is None:
            yield compile_node(items[at], expand=expand)
            at += 1
            continue
        size, words, field = run
        others = _spelling_nodes(field, [v for v in _without_longer(list(expand(words))) if v != words], expand)
        yield Or((*coordinated_phrases(field, words), *others))
        at += size


# At most this many of a concept's other spellings are also sought coordinated (each costs 9 phrases).
_MAX_COORDINATED_SPELLINGS = 12


def _spelling_nodes(field: str, spellings: Sequence[Tuple[str, ...]], expand) -> List[Node]:
    """The nodes of the spellings a concept named by a run of words adds: two-word ones also
    coordinated ("psychiatric or physical illness"), the first `_MAX_COORDINATED_SPELLINGS` of them.
    (A one-word query finds its own word in any coordination already.)"""
    out: List[Node] = []
    coordinated = 0
    for words in spellings:
        if len(words) == 2 and coordinated < _MAX_COORDINATED_SPELLINGS and not _guards(words, expand):
            coordinated += 1
            out += coordinated_phrases(field, words)
        else:
            out.append(_found_node(field, words, expand))
    return out


def _concept_run(items: Sequence[Node], at: int, expand):
    """(size, analyzed words, field) of the longest run of plain words from `at` that names a concept."""
    for size in range(min(_MAX_RUN, len(items) - at), 1, -1):
        run = items[at:at + size]
        if not all(type(item) is Word for item in run) or len({item.field for item in run}) != 1:
            continue
        field = run[0].field or DEFAULT_FIELD
        if FIELDS[field] != "text":
            continue
        words = tuple(w for item in run for w in analyze(item.text))
        if len(words) > 1 and len(expand(words)) > 1:
            return size, words, field
    return None


def _keyword_node(node: Node, field: str) -> Node:
    raw = " ".join(node.words) if isinstance(node, Phrase) else node.text
    value = normalize_keyword(field, raw)
    if value is None:
        raise QueryError(f"nothing to search in {field}:{raw!r}")
    if isinstance(node, Prefix):
        return Prefix(field, value)
    return Word(field, value)


def _text_node(node: Node, field: str, expand) -> Node:
    raw = " ".join(node.words) if isinstance(node, Phrase) else node.text
    words = tuple(analyze(raw))
    if not words:
        raise QueryError(f"nothing searchable in {raw!r}: give letters, digits or symbols")
    if isinstance(node, Prefix):
        if len(words) != 1:
            raise QueryError(f"prefix* applies to one word, not {raw!r}")
        return Prefix(field, _prefix(words_of(raw)[0]))
    if isinstance(node, Fuzzy):
        if len(words) != 1:
            raise QueryError(f"fuzzy~ applies to one word, not {raw!r}")
        return Fuzzy(field, words[0], node.distance or (1 if len(words[0]) <= 5 else 2))
    spellings = [words] if expand is None else list(expand(words))
    if expand is not None and len(words) == 1:  # psoriasis also finds psoriatic, septic sepsis
        spellings.extend(v for v in (tuple(analyze(f)) for f in derived_forms(words[0])) if v not in spellings)
    if expand is not None and 1 < len(words) <= 3 and all(w.isalpha() for w in words_of(raw)):
        joined = tuple(analyze("".join(words_of(raw))))  # wash-out, wash out -> washout
        if joined not in spellings:
            spellings.extend(v for v in expand(joined) if v not in spellings)
    kept = _without_longer(spellings)
    variants = [_words_node(field, words)] if words in kept else []
    variants += [_found_node(field, v, expand) for v in kept if v != words]
    return variants[0] if len(variants) == 1 else Or(tuple(variants))


def _without_longer(spellings: Sequence[Tuple[str, ...]]) -> List[Tuple[str, ...]]:
    """The spellings, less those holding a shorter one ("pd 1 inhibitor" goes when "pd 1" is there)."""
    kept: List[Tuple[str, ...]] = []
    for words in sorted(spellings, key=len):
        if not any(holds(words, shorter) for shorter in kept if len(shorter) < len(words)):
            kept.append(words)
    return sorted(kept, key=spellings.index)


def _prefix(word: str) -> str:
    """What indexed stems a folded prefix stands for: its stem when that is a prefix of it (receiving* ->
    receiv*), else its American spelling (haem* -> hem*).

    Raises:
        QueryError: fewer than `MIN_PREFIX` letters.
    """
    if len(word) < MIN_PREFIX:
        raise QueryError(f"{word}* is too short a prefix: give at least {MIN_PREFIX} letters before '*'")
    spelled = american(word)
    stemmed = stem(word)
    return stemmed if spelled.startswith(stemmed) and len(stemmed) >= MIN_PREFIX else spelled


def _words_node(field: str, words: Tuple[str, ...]) -> Node:
    return Word(field, words[0]) if len(words) == 1 else Phrase(field, words)


def _found_node(field: str, words: Tuple[str, ...], expand) -> Node:
    """A spelling a concept adds; a loose word leaves out the phrases where it names something else."""
    guards = _guards(words, expand)
    node = _words_node(field, words)
    return node if not guards else And((node, Not(_any_of([_words_node(field, p) for p in guards]))))


def _guards(words: Tuple[str, ...], expand) -> Tuple[Tuple[str, ...], ...]:
    """The phrases in which a loose spelling does not name its concept (none for a table without them)."""
    return expand.guards(words) if isinstance(expand, Expansion) else ()


class Expansion:
    """What a query word or phrase also finds, from a concept table (`ConceptStore` or `ConceptTable`)."""

    def __init__(self, concepts):
        self._concepts = concepts

    def __call__(self, words: Tuple[str, ...]) -> Tuple[Tuple[str, ...], ...]:
        return self._concepts.expand(words)

    def guards(self, words: Tuple[str, ...]) -> Tuple[Tuple[str, ...], ...]:
        """Phrases in which a found loose word does not name its concept."""
        return self._concepts.guards(words)


def _filter_nodes(filters: Filters, expand) -> Iterable[Node]:
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
            yield _text_node(Phrase(field, (value,)), field, expand)
    for text in filters.values:
        yield _value_node(text)
    for field, low, high in (("start", filters.started_after, filters.started_before),
                             ("completion", filters.completed_after, filters.completed_before)):
        if low or high:
            yield Range(field, _date(low, end=False), _date(high, end=True))


def _date(text: Optional[str], *, end: bool) -> Optional[float]:
    """A date option as the indexed number; a year or month given as the upper end includes all of it."""
    if not text:
        return None
    from toolkit.index.documents import date_number

    number = date_number(text)
    if number is None or not re.fullmatch(r"\s*\d{4}(-\d{1,2}(-\d{1,2})?)?\s*", text):
        raise QueryError(f"not a date: {text!r} (write 2023, 2023-06 or 2023-06-30)")
    if end:
        pieces = text.strip().count("-")
        number += 1231 if pieces == 0 else 31 if pieces == 1 else 0
    return number


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
    elif isinstance(node, Phrase) and node.positions:  # coordinated: its words, not its coordinator
        terms.stems.update(word for word in node.words if word not in COORDINATORS)
    elif isinstance(node, Phrase):
        terms.phrases.append(node.words)
    elif isinstance(node, Prefix):
        terms.prefixes.append(node.text)
