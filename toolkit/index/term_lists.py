"""The index's terms per text field, and fuzzy words and prefixes resolved against them.

Whoosh matches a fuzzy word by Levenshtein distance keeping its first
letter; tantivy's fuzzy query counts transpositions and cannot keep the first
letter of the same term. So a fuzzy word is resolved here, once, into the
indexed terms it stands for, and both engines search those words: the same
hits, and no term-dictionary walk in Python for Whoosh.

A prefix of a text field is resolved the same way, bounded: at least
`MIN_PREFIX` letters and at most `MAX_PREFIX_TERMS` indexed words, else a
`QueryError` says what to do (Whoosh would otherwise walk its whole term
dictionary in Python: `a*` took a minute at 170k criteria).

Term lists live in `<index>/terms/<field>.txt`, one term per line, one file
for every text field (an index missing one is incomplete: see
`SearchIndex.check_usable`). They only grow: a term whose documents were all
replaced matches nothing, which is harmless.
"""

from __future__ import annotations

import bisect
import os
from pathlib import Path
from typing import Dict, Iterable, List

from toolkit.errors import QueryError
from toolkit.index.analysis import SEPARATOR
from toolkit.index.query import And, Fuzzy, Node, Not, Or, Prefix, Word
from toolkit.index.schema import FIELDS, indexed_fields

__all__ = ["TERMS_DIR", "MAX_EXPANSIONS", "MIN_PREFIX", "MAX_PREFIX_TERMS", "TEXT_FIELDS", "document_terms",
           "TermLists", "resolve_terms", "term_list_files"]

TERMS_DIR = "terms"
# At most this many terms stand for one fuzzy word (the closest, then in order).
MAX_EXPANSIONS = 64
TEXT_FIELDS = indexed_fields("text")
MIN_PREFIX = 3
MAX_PREFIX_TERMS = 200


def term_list_files() -> List[str]:
    """The term list files every index holds, relative to its directory."""
    return [f"{TERMS_DIR}/{field}.txt" for field in TEXT_FIELDS]


def document_terms(document: dict, into: Dict[str, set]) -> None:
    """Add the terms of a document's text fields to `into` ({field: terms})."""
    for field in TEXT_FIELDS:
        value = document.get(field)
        if value:
            into.setdefault(field, set()).update(value.split())


class TermLists:
    """The term lists of one index directory."""

    def __init__(self, path: Path):
        self.path = Path(path) / TERMS_DIR
        self._by_letter: Dict[str, Dict[str, List[str]]] = {}
        self._sorted: Dict[str, List[str]] = {}

    def read(self, field: str) -> set:
        """Every term of a field (empty when the index has no list for it)."""
        try:
            return set((self.path / f"{field}.txt").read_text("utf-8").split())
        except OSError:
            return set()

    def write(self, terms: Dict[str, set]) -> None:
        """Write the list of every text field (empty when `terms` has none), each atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
        for field in TEXT_FIELDS:
            values = terms.get(field, set())
            target = self.path / f"{field}.txt"
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_text("\n".join(sorted(values - {SEPARATOR})) + "\n", encoding="utf-8")
            os.replace(tmp, target)
        self._by_letter.clear()
        self._sorted.clear()

    def within(self, field: str, word: str, distance: int) -> List[str]:
        """Terms of `field` starting with `word`'s first letter, within `distance` edits of it."""
        from rapidfuzz import process  # only for fuzzy words: kept off the plain search path
        from rapidfuzz.distance import Levenshtein

        candidates = self._letters(field).get(word[:1], [])
        found = process.extract(word, candidates, scorer=Levenshtein.distance, score_cutoff=distance,
                                limit=None)
        return [term for term, _, _ in sorted(found, key=lambda item: (item[1], item[0]))][:MAX_EXPANSIONS]

    def starting(self, field: str, prefix: str, *, limit: int) -> List[str]:
        """Terms of `field` starting with `prefix`, in order; at most `limit` + 1 (to tell "too many")."""
        if field not in self._sorted:
            self._sorted[field] = sorted(self.read(field))
        terms = self._sorted[field]
        at = bisect.bisect_left(terms, prefix)
        out = []
        while at < len(terms) and terms[at].startswith(prefix) and len(out) <= limit:
            out.append(terms[at])
            at += 1
        return out

    def _letters(self, field: str) -> Dict[str, List[str]]:
        if field not in self._by_letter:
            grouped: Dict[str, List[str]] = {}
            for term in sorted(self.read(field)):
                grouped.setdefault(term[:1], []).append(term)
            self._by_letter[field] = grouped
        return self._by_letter[field]


def resolve_terms(node: Node, terms: TermLists) -> Node:
    """The tree with every fuzzy word and text prefix replaced by the indexed terms it matches.

    A fuzzy word or prefix matching no term becomes a word that matches nothing.

    Raises:
        QueryError: a prefix shorter than `MIN_PREFIX` letters, or matching
            more than `MAX_PREFIX_TERMS` terms.
    """
    if isinstance(node, (And, Or)):
        return type(node)(tuple(resolve_terms(item, terms) for item in node.items))
    if isinstance(node, Not):
        return Not(resolve_terms(node.item, terms))
    if isinstance(node, Fuzzy):
        words = terms.within(node.field, node.text, node.distance) or [node.text]
        return _any_word(node.field, words)
    if isinstance(node, Prefix) and FIELDS.get(node.field) == "text":
        return _any_word(node.field, _prefix_terms(node, terms) or [node.text + "*"])
    return node


def _prefix_terms(node: Prefix, terms: TermLists) -> List[str]:
    if len(node.text) < MIN_PREFIX:
        raise QueryError(f"{node.text}* is too short a prefix: give at least {MIN_PREFIX} letters before '*'")
    found = terms.starting(node.field, node.text, limit=MAX_PREFIX_TERMS)
    if len(found) > MAX_PREFIX_TERMS:
        raise QueryError(f"{node.text}* matches more than {MAX_PREFIX_TERMS} indexed words: "
                         "give more letters before '*'")
    return found


def _any_word(field: str, words: Iterable[str]) -> Node:
    nodes = tuple(Word(field, word) for word in words)
    return nodes[0] if len(nodes) == 1 else Or(nodes)
