"""Filter clauses of a Whoosh query as cached document masks.

A compiled query is an `And` of a scored part (words, phrases, ...) and
filters (keyword values, number ranges, `NOT kind:trial`). Matching a broad
filter through Whoosh's matchers walks every posting of every query in
Python; here each filter becomes a boolean mask over the index's document
numbers, built once per searcher from the postings and reused by every later
query. Filters do not score: they only decide which documents may match.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np
from whoosh.idsets import DocIdSet

from toolkit.index.query import And, Node, Not, Or, Prefix, Range, Word
from toolkit.index.schema import FIELDS, KEYS_FIELD, keyword_term

__all__ = ["is_filter", "split_filters", "FilterCache", "MaskSet"]


def is_filter(node: Node) -> bool:
    """True for a clause that only restricts: keyword values, ranges and their combinations."""
    if isinstance(node, (And, Or)):
        return all(is_filter(item) for item in node.items)
    if isinstance(node, Not):
        return is_filter(node.item)
    if isinstance(node, Range):
        return True
    return isinstance(node, (Word, Prefix)) and FIELDS.get(node.field) == "keyword"


def split_filters(node: Node) -> Tuple[List[Node], List[Node]]:
    """(scored clauses, filter clauses) of a tree read as an AND of clauses.

    Nested ANDs are flattened first, so `a AND (b AND status:x)` gives the
    filter `status:x` too.
    """
    scored, filters = [], []
    for item in _and_items(node):
        (filters if is_filter(item) else scored).append(item)
    return scored, filters


def _and_items(node: Node) -> List[Node]:
    if not isinstance(node, And):
        return [node]
    return [leaf for item in node.items for leaf in _and_items(item)]


class MaskSet(DocIdSet):
    """A read-only document set over a boolean mask (what Whoosh's `filter=` takes)."""

    def __init__(self, mask: np.ndarray):
        self.mask = mask
        self._count = int(mask.sum())

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __contains__(self, docnum) -> bool:
        return 0 <= docnum < len(self.mask) and bool(self.mask[docnum])

    def __iter__(self):
        return iter(np.flatnonzero(self.mask).tolist())


class FilterCache:
    """Masks of filter clauses for one searcher (drop it with the searcher).

    Args:
        searcher: an open Whoosh searcher; its reader's documents are masked.
    """

    def __init__(self, searcher):
        self._reader = searcher.reader()
        self._schema = searcher.schema
        self._size = self._reader.doc_count_all()
        self._masks: Dict[Node, np.ndarray] = {}
        self._numbers: Dict[str, Tuple[np.ndarray, List[np.ndarray]]] = {}
        self._live: Optional[np.ndarray] = None

    def mask(self, nodes: List[Node]) -> np.ndarray:
        """Documents (not deleted) that pass every filter clause."""
        out = self.live()
        for node in nodes:
            out = out & self._mask(node)
        return out

    def live(self) -> np.ndarray:
        """Documents that are not deleted."""
        if self._live is None:
            live = np.ones(self._size, dtype=bool)
            if self._reader.has_deletions():
                live[:] = False
                live[np.fromiter(self._reader.all_doc_ids(), dtype=np.int64)] = True
            self._live = live
        return self._live

    def _mask(self, node: Node) -> np.ndarray:
        cached = self._masks.get(node)
        if cached is None:
            cached = self._masks[node] = self._build(node)
        return cached

    def _build(self, node: Node) -> np.ndarray:
        if isinstance(node, And):
            return np.logical_and.reduce([self._mask(item) for item in node.items])
        if isinstance(node, Or):
            return np.logical_or.reduce([self._mask(item) for item in node.items])
        if isinstance(node, Not):
            return ~self._mask(node.item)
        if isinstance(node, Range):
            return self._range(node)
        if isinstance(node, Prefix):
            terms = self._reader.expand_prefix(KEYS_FIELD, keyword_term(node.field, node.text))
            return self._postings([t.decode("utf-8") if isinstance(t, bytes) else t for t in terms])
        return self._postings([keyword_term(node.field, node.text)])

    def _postings(self, terms: List[str]) -> np.ndarray:
        mask = np.zeros(self._size, dtype=bool)
        for term in terms:
            if (KEYS_FIELD, term) in self._reader:
                mask[_doc_ids(self._reader.postings(KEYS_FIELD, term))] = True
        return mask

    def _range(self, node: Range) -> np.ndarray:
        values, docs = self._number_table(node.field)
        low = 0 if node.low is None else int(np.searchsorted(values, hundredths(node.low), side="left"))
        high = len(values) if node.high is None else int(np.searchsorted(values, hundredths(node.high), side="right"))
        mask = np.zeros(self._size, dtype=bool)
        for ids in docs[low:high]:
            mask[ids] = True
        return mask

    def _number_table(self, field: str) -> Tuple[np.ndarray, List[np.ndarray]]:
        """Distinct values of a number field, ascending, with the documents of each."""
        table = self._numbers.get(field)
        if table is None:
            values, docs = [], []
            if field in self._schema.names():
                kind = self._schema[field]
                for token in kind.sortable_terms(self._reader, field):
                    values.append(kind.from_bytes(token))
                    docs.append(_doc_ids(self._reader.postings(field, token)))
            table = self._numbers[field] = (np.array(values, dtype=np.int64), docs)
        return table


def _doc_ids(matcher) -> np.ndarray:
    return np.fromiter(matcher.all_ids(), dtype=np.int64)


def hundredths(value) -> Optional[int]:
    """Numbers are indexed as integer hundredths: small, exact, fast ranges."""
    return None if value is None else int(round(float(value) * 100))
