"""Whoosh's posting reader with a skip that bisects instead of stepping.

Intersections (phrases, `AND`) move a posting list forward with `skip_to`.
The stock W3 reader steps through the block's ids one Python call at a
time, which is most of the cost of a phrase with a common word ("or
nursing", "within 4 weeks"). Here the skip jumps whole blocks by their
largest id as before, then bisects the block's decoded ids: the reader ends
on the same posting, so matches and scores are unchanged.
"""

from __future__ import annotations

from bisect import bisect_left

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import ReadTooFar

__all__ = ["install"]


def _skip_to(self, targetid) -> None:
    """Move to the first posting whose id is `targetid` or more (as `W3LeafMatcher.skip_to`)."""
    if not self.is_active():
        raise ReadTooFar
    if targetid <= self.id():
        return
    if targetid > self._maxid:
        self._skip_to_block(lambda: targetid > self._maxid)
        if not self.is_active():
            return
    if self._ids is None:
        self._read_ids()
    self._i = bisect_left(self._ids, targetid, self._i)  # within the block: its largest id is >= targetid


def install() -> None:
    """Use the bisecting skip in every W3 posting reader (idempotent)."""
    W3LeafMatcher.skip_to = _skip_to
