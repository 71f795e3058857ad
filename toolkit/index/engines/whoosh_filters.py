"""Filter clauses of a Whoosh query as cached document masks.

A compiled query is an `And` of a scored part (words, phrases, ...) and
filters (keyword values, number ranges, `NOT kind:trial`). Matching a broad
filter through Whoosh's matchers walks every posting of every query in
Python; here each filter becomes a mask over the index's document numbers
(one byte per document, 1 where it passes), built once per searcher from the
postings and reused by every later query. Masks are combined as big
integers (a bytewise AND, OR or XOR of 0/1 bytes keeps them 0/1), so the
search path needs no numpy. Filters do not score: they only decide which
documents may match.
"""

from __future__ import annotations

import operator
from bisect import bisect_left, bisect_right
from typing import Dict, Iterator, List, Optional, Tuple

from whoosh.idsets import DocIdSet

from toolkit.index.query import And, Node, Not, Or, Prefix, Range, Word
from toolkit.index.schema import FIELDS, KEYS_FIELD, keyword_term

__all__ = ["is_filter", "split_filters", "FilterCache", "MaskSet", "members"]


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
    """A read-only document set over a mask (what Whoosh's `filter=` takes)."""

    def __init__(self, mask: bytes):
        self.mask = mask
        self._count = mask.count(1)

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __contains__(self, docnum) -> bool:
        return 0 <= docnum < len(self.mask) and self.mask[docnum] == 1

    def __iter__(self) -> Iterator[int]:
        return members(self.mask)


def members(mask: bytes) -> Iterator[int]:
    """The document numbers a mask holds, ascending."""
    at = mask.find(1)
    while at >= 0:
        yield at
        at = mask.find(1, at + 1)


def _combine(masks: List[bytes], bitwise) -> bytes:
    """Masks joined by a bitwise operator on their integer forms (`operator.and_`, `or_`, `xor`)."""
    size = len(masks[0])
    value = int.from_bytes(masks[0], "little")
    for mask in masks[1:]:
        value = bitwise(value, int.from_bytes(mask, "little"))
    return value.to_bytes(size, "little")


class FilterCache:
    """Masks of filter clauses for one searcher (drop it with the searcher).

    Args:
        searcher: an open Whoosh searcher; its reader's documents are masked.
    """

    def __init__(self, searcher):
        self._reader = searcher.reader()
        self._schema = searcher.schema
        self._size = self._reader.doc_count_all()
        self._masks: Dict[Node, bytes] = {}
        self._numbers: Dict[str, Tuple[List[int], List[List[int]]]] = {}
        self._live: Optional[bytes] = None

    def mask(self, nodes: List[Node]) -> bytes:
        """Documents (not deleted) that pass every filter clause."""
        return _combine([self.live()] + [self._mask(node) for node in nodes], operator.and_)

    def live(self) -> bytes:
        """Documents that are not deleted."""
        if self._live is None:
            if self._reader.has_deletions():
                self._live = self._with(self._reader.all_doc_ids())
            else:
                self._live = b"\x01" * self._size
        return self._live

    def _mask(self, node: Node) -> bytes:
        cached = self._masks.get(node)
        if cached is None:
            cached = self._masks[node] = self._build(node)
        return cached

    def _build(self, node: Node) -> bytes:
        if isinstance(node, And):
            return _combine([self._mask(item) for item in node.items], operator.and_)
        if isinstance(node, Or):
            return _combine([self._mask(item) for item in node.items], operator.or_)
        if isinstance(node, Not):
            return _combine([self._mask(node.item), b"\x01" * self._size], operator.xor)
        if isinstance(node, Range):
            return self._range(node)
        if isinstance(node, Prefix):
            terms = self._reader.expand_prefix(KEYS_FIELD, keyword_term(node.field, node.text))
            return self._postings([t.decode("utf-8") if isinstance(t, bytes) else t for t in terms])
        return self._postings([keyword_term(node.field, node.text)])

    def _with(self, *id_lists) -> bytes:
        """A mask holding the documents of every list (or iterator) of ids."""
        mask = bytearray(self._size)
        for ids in id_lists:
            for docnum in ids:
                mask[docnum] = 1
        return bytes(mask)

    def _postings(self, terms: List[str]) -> bytes:
        return self._with(*(self._reader.postings(KEYS_FIELD, term).all_ids() for term in terms
                            if (KEYS_FIELD, term) in self._reader))

    def _range(self, node: Range) -> bytes:
        values, docs = self._number_table(node.field)
        low = 0 if node.low is None else bisect_left(values, hundredths(node.low))
        high = len(values) if node.high is None else bisect_right(values, hundredths(node.high))
        return self._with(*docs[low:high])

    def _number_table(self, field: str) -> Tuple[List[int], List[List[int]]]:
        """Distinct values of a number field, ascending, with the documents of each."""
        table = self._numbers.get(field)
        if table is None:
            values, docs = [], []
            if field in self._schema.names():
                kind = self._schema[field]
                for token in kind.sortable_terms(self._reader, field):
                    values.append(kind.from_bytes(token))
                    docs.append(list(self._reader.postings(field, token).all_ids()))
            table = self._numbers[field] = (values, docs)
        return table


def hundredths(value) -> Optional[int]:
    """Numbers are indexed as integer hundredths: small, exact, fast ranges."""
    return None if value is None else int(round(float(value) * 100))
