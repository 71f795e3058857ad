"""Concepts a plain query word or phrase also finds: spellings, abbreviations, class members.

`load_concepts()` is the one place that reads the vocabularies: the curated
groups of `data/synonyms.json` (abbreviations, spellings, concepts with
their narrower terms such as a drug class and its member drugs), the drug
classes of the tagger (`toolkit/nlp/data/classes.json`) and the drug names
of its lexicon that carry a DrugBank id (brand names, codes, other names).
Lexicon rows without an id, and its condition rows, are left out: measured
on the concept case table they join different concepts ("tumor" with
"cancer", "stroke" with "heart failure").

A concept may name a word that means it only outside some phrases
(`loose` and `not_in`: "nursing" is lactation, not in "nursing home"); such
a word is found, as narrower terms are, but never expanded from, and each
search for it excludes criteria holding those phrases (`guards`).

A `ConceptTable` maps the analyzed words of a spelling to every analyzed
spelling of its concepts. An index keeps its table in `concepts.sqlite`
(`ConceptStore`), written when the index is built, so a query looks up only
its own words.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from toolkit.errors import ToolkitError
from toolkit.index.analysis import analyze

__all__ = ["Concept", "ConceptTable", "ConceptStore", "load_concepts", "default_concepts", "CONCEPTS_FILE",
           "MAX_VARIANTS", "holds"]

Words = Tuple[str, ...]
CONCEPTS_FILE = "concepts.sqlite"
# At most this many spellings stand for one query word or phrase (its own first).
MAX_VARIANTS = 120
_NLP_DATA = Path(__file__).resolve().parents[1] / "nlp" / "data"
_LEXICON = _NLP_DATA / "lexicon.json.gz"
_CLASSES = _NLP_DATA / "classes.json"
# Drug names shorter than this (once folded) are too ambiguous to expand to ("ara", "pan").
_MIN_NAME = 4


@dataclass(frozen=True)
class Concept:
    """One concept: equivalent spellings, and narrower terms it also finds (not the reverse)."""

    name: str
    spellings: Tuple[str, ...]
    narrower: Tuple[str, ...] = ()
    loose: Tuple[str, ...] = ()  # words naming the concept only outside the `not_in` phrases
    not_in: Tuple[str, ...] = ()


def load_concepts() -> List[Concept]:
    """Every concept of the shipped vocabularies (see module docstring)."""
    curated = _curated()
    return curated + _tagger_classes(curated) + _lexicon_drugs(_LEXICON)


def _curated() -> List[Concept]:
    from importlib import resources  # building an index or --show-query without one: kept off a search's start-up

    text = resources.files("toolkit.index").joinpath("data/synonyms.json").read_text("utf-8")
    data = json.loads(text)
    unknown = set(data) - {"groups", "concepts", "about"}
    if unknown:
        raise ToolkitError(f"synonym table: unknown keys {sorted(unknown)}")
    out = [Concept(group[0], tuple(group)) for group in data.get("groups", [])]
    for item in data.get("concepts", []):
        out.append(Concept(item["name"], tuple(item["spellings"]), tuple(item.get("narrower", ())),
                           tuple(item.get("loose", ())), tuple(item.get("not_in", ()))))
    return out


def _tagger_classes(curated: Sequence[Concept]) -> List[Concept]:
    """Drug classes of the tagger whose name a curated concept also lists (their members live there)."""
    try:
        classes = json.loads(_CLASSES.read_text("utf-8")).get("drug", {})
    except (OSError, ValueError):
        return []
    names = {spelling.lower(): concept for concept in curated for spelling in concept.spellings}
    out = []
    for name, spellings in classes.items():
        concept = names.get(name.lower())
        if concept is not None:
            out.append(Concept(concept.name, tuple(spellings) + concept.spellings, concept.narrower))
    return out


def _lexicon_drugs(path: Path) -> List[Concept]:
    """Drug names of the lexicon grouped by their DrugBank id."""
    import gzip  # read when an index is built, not when it is searched

    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return []
    norms = data["norms"]
    keep = {i for i, (label, _, code) in enumerate(norms) if label == "drug" and code and code.startswith("DB")}
    groups: Dict[int, List[str]] = {}
    for key, i in data["entries"].items():
        if i in keep and len(key) >= _MIN_NAME and " , " not in key:
            groups.setdefault(i, []).append(key)
    return [Concept(norms[i][1], tuple([norms[i][1].lower()] + spellings))
            for i, spellings in groups.items() if spellings]


class ConceptTable:
    """Analyzed spelling -> the analyzed spellings it also finds (itself first)."""

    def __init__(self, concepts: Iterable[Concept]):
        self._variants: Dict[Words, List[Words]] = {}
        self._guards: Dict[Words, List[Words]] = {}
        for concept in concepts:
            same = _analyzed(concept.spellings)
            loose = _analyzed(concept.loose)
            narrower = _analyzed(concept.narrower)
            for words in same:
                self._add(words, same + loose + narrower)
            for words in loose:
                self._guards[words] = [p for p in _analyzed(concept.not_in) if holds(p, words)]

    def _add(self, key: Words, variants: Sequence[Words]) -> None:
        known = self._variants.setdefault(key, [key])
        seen = set(known)
        for words in variants:
            if words not in seen:
                known.append(words)
                seen.add(words)

    def expand(self, words: Words) -> Tuple[Words, ...]:
        """Every spelling `words` also finds, itself first (at most `MAX_VARIANTS`)."""
        return tuple(self._variants.get(tuple(words), [tuple(words)])[:MAX_VARIANTS])

    def guards(self, words: Words) -> Tuple[Words, ...]:
        """Phrases in which `words`, found as a concept's loose word, does not name it."""
        return tuple(self._guards.get(tuple(words), ()))

    def add_compounds(self, compounds: Mapping[str, Set[Words]]) -> None:
        """Let a joined word find its hyphenated form (washout -> "wash out")."""
        for joined, parts in compounds.items():
            self._add((joined,), sorted(parts))

    def __len__(self) -> int:
        return len(self._variants)

    def save(self, path: Path) -> None:
        """Write the table as an SQLite file (`ConceptStore` reads it)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        with sqlite3.connect(tmp) as db:
            db.execute("CREATE TABLE expand (key TEXT PRIMARY KEY, variants TEXT NOT NULL) WITHOUT ROWID")
            rows = ((" ".join(k), "\n".join(" ".join(v) for v in vs[1:MAX_VARIANTS]))
                    for k, vs in self._variants.items() if len(vs) > 1)
            db.executemany("INSERT INTO expand VALUES (?, ?)", rows)
            db.execute("CREATE TABLE guard (variant TEXT PRIMARY KEY, phrases TEXT NOT NULL) WITHOUT ROWID")
            db.executemany("INSERT INTO guard VALUES (?, ?)",
                           ((" ".join(k), "\n".join(" ".join(p) for p in ps)) for k, ps in self._guards.items() if ps))
        tmp.replace(path)


def holds(words: Words, part: Words) -> bool:
    """Whether `part` occurs in `words` as consecutive words."""
    n = len(part)
    return any(words[i:i + n] == part for i in range(len(words) - n + 1))


def _analyzed(spellings: Iterable[str]) -> List[Words]:
    out: List[Words] = []
    for spelling in spellings:
        words = tuple(analyze(spelling))
        if words and words not in out:
            out.append(words)
    return out


class ConceptStore:
    """A `ConceptTable` read from an index's SQLite file, one look-up per query word or phrase."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._db: Optional[sqlite3.Connection] = None
        self._guards: Optional[Dict[Words, Tuple[Words, ...]]] = None

    def expand(self, words: Words) -> Tuple[Words, ...]:
        """Every spelling `words` also finds, itself first."""
        row = self._connection().execute("SELECT variants FROM expand WHERE key = ?", (" ".join(words),)).fetchone()
        if row is None:
            return (tuple(words),)
        return (tuple(words),) + _lines(row[0])

    def guards(self, words: Words) -> Tuple[Words, ...]:
        """Phrases in which `words`, found as a concept's loose word, does not name it."""
        if self._guards is None:  # a few rows: read whole on first use
            try:
                rows = self._connection().execute("SELECT variant, phrases FROM guard").fetchall()
            except sqlite3.OperationalError:  # a table written before guards existed
                rows = []
            self._guards = {tuple(variant.split(" ")): _lines(phrases) for variant, phrases in rows}
        return self._guards.get(tuple(words), ())

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _lines(text: str) -> Tuple[Words, ...]:
    """Stored spellings: one a line, words separated by spaces."""
    return tuple(tuple(line.split(" ")) for line in text.split("\n") if line)


@lru_cache(maxsize=1)
def default_concepts() -> ConceptTable:
    """The table of the shipped vocabularies (built in memory: a second or two)."""
    return ConceptTable(load_concepts())
