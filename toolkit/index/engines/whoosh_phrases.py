"""Whoosh phrase matching that intersects the phrase's rarest words first.

A phrase matcher first finds the documents holding all its words (an
intersection of their posting lists), then checks their positions. Stock
Whoosh nests the intersection in the phrase's word order, so in "programmed
cell death protein 1" the common "cell", "protein" and "1" are stepped
against each other before the rare "programmed" narrows them. Here the
intersection is nested from the shortest posting list up; positions are
still checked in the phrase's order, so the same documents match, and a
match's score and weight are summed over the words as Whoosh nests them, so
they are equal to the last bit.
"""

from __future__ import annotations

from whoosh.matching.binary import IntersectionMatcher
from whoosh.query.spans import SpanNear2, SpanWrappingMatcher

__all__ = ["install"]


def _postings_size(matcher) -> int:
    """Bytes of a segment's posting list (0 for a list inlined in the term info: a rare word)."""
    return getattr(matcher, "_length", 0)


def _init(self, ms, slop=1, ordered=True, mindist=1) -> None:
    """As `SpanNear2.SpanNear2Matcher.__init__`, the intersection built rarest first."""
    self.ms = ms
    self.slop = slop
    self.ordered = ordered
    self.mindist = mindist
    rarest = sorted(ms, key=_postings_size)
    both = rarest[0]
    for matcher in rarest[1:]:
        both = IntersectionMatcher(both, matcher)
    SpanWrappingMatcher.__init__(self, both)


def _stock_sum(matchers, value) -> float:
    """`value` of the matchers summed as Whoosh's phrase-order intersection tree sums it."""
    if len(matchers) == 1:
        return value(matchers[0])
    half = len(matchers) // 2
    return _stock_sum(matchers[:half], value) + _stock_sum(matchers[half:], value)


def _score(self) -> float:
    return _stock_sum(self.ms, lambda m: m.score())


def _weight(self) -> float:
    return _stock_sum(self.ms, lambda m: m.weight())


def install() -> None:
    """Use the rarest-first intersection in every phrase matcher (idempotent)."""
    matcher = SpanNear2.SpanNear2Matcher
    matcher.__init__, matcher.score, matcher.weight = _init, _score, _weight
