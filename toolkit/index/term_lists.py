"""The index's terms per text field, and fuzzy words resolved against them.

Whoosh matches a fuzzy word by Levenshtein distance keeping its first
letter; tantivy's fuzzy query counts transpositions and cannot keep the first
letter of the same term. So a fuzzy word is resolved here, once, into the
indexed terms it stands for, and both engines search those words: the same
hits, and no term-dictionary walk in Python for Whoosh.

Term lists live in `<index>/terms/<field>.txt`, one term per line. They only
grow: a term whose documents were all replaced matches nothing, which is
harmless.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterable, List

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from toolkit.index.analysis import SEPARATOR
from toolkit.index.query import And, Fuzzy, Node, Not, Or, Word
from toolkit.index.schema import indexed_fields

__all__ = ["TERMS_DIR", "MAX_EXPANSIONS", "TEXT_FIELDS", "document_terms", "TermLists", "resolve_fuzzy"]

TERMS_DIR = "terms"
# At most this many terms stand for one fuzzy word (the closest, then in order).
MAX_EXPANSIONS = 64
TEXT_FIELDS = indexed_fields("text")


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

    def read(self, field: str) -> set:
        """Every term of a field (empty when the index has no list for it)."""
        try:
            return set((self.path / f"{field}.txt").read_text("utf-8").split())
        except OSError:
            return set()

    def write(self, terms: Dict[str, set]) -> None:
        """Write the lists of `terms`' fields, each atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
        for field, values in terms.items():
            target = self.path / f"{field}.txt"
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_text("\n".join(sorted(values - {SEPARATOR})) + "\n", encoding="utf-8")
            os.replace(tmp, target)
        self._by_letter.clear()

    def within(self, field: str, word: str, distance: int) -> List[str]:
        """Terms of `field` starting with `word`'s first letter, within `distance` edits of it."""
        candidates = self._letters(field).get(word[:1], [])
        found = process.extract(word, candidates, scorer=Levenshtein.distance, score_cutoff=distance,
                                limit=None)
        return [term for term, _, _ in sorted(found, key=lambda item: (item[1], item[0]))][:MAX_EXPANSIONS]

    def _letters(self, field: str) -> Dict[str, List[str]]:
        if field not in self._by_letter:
            grouped: Dict[str, List[str]] = {}
            for term in sorted(self.read(field)):
                grouped.setdefault(term[:1], []).append(term)
            self._by_letter[field] = grouped
        return self._by_letter[field]


def resolve_fuzzy(node: Node, terms: TermLists) -> Node:
    """The tree with every fuzzy word replaced by the indexed terms it matches.

    A fuzzy word matching no term becomes that word itself (which then
    matches nothing).
    """
    if isinstance(node, (And, Or)):
        return type(node)(tuple(resolve_fuzzy(item, terms) for item in node.items))
    if isinstance(node, Not):
        return Not(resolve_fuzzy(node.item, terms))
    if not isinstance(node, Fuzzy):
        return node
    words = terms.within(node.field, node.text, node.distance) or [node.text]
    return _any_word(node.field, words)


def _any_word(field: str, words: Iterable[str]) -> Node:
    nodes = tuple(Word(field, word) for word in words)
    return nodes[0] if len(nodes) == 1 else Or(nodes)
