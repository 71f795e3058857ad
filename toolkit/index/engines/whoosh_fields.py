"""Whoosh field types for text analysed upstream (see `toolkit.index.analysis`).

Documents reach Whoosh as space-separated stems and keyword terms. The stock
TEXT and KEYWORD fields would run a tokenizer over them, one Token object per
word; these fields count words and positions straight from `str.split`,
giving the same postings (same terms, frequencies and weights) at a
fraction of the cost.

Positions are kept in `CompactPositions`: the stock format pickles every
posting's position list (about 14 bytes for one position), this one writes
one byte per position gap (four when a gap is 255 or more). Phrases decode
the same positions, so matches and scores are unchanged.
"""

from __future__ import annotations

from array import array
from collections import Counter
from typing import Dict, List

from whoosh import fields as wf
from whoosh import formats
from whoosh.system import pack_uint

__all__ = ["CompactPositions", "PreAnalyzedText", "PreSplitKeywords"]

_WIDE = b"\xff"  # first byte of a value whose gaps are 4-byte unsigned ints


def encode_positions(positions: List[int]) -> bytes:
    """Ascending positions as their gaps: one byte each, or `_WIDE` and 4-byte ints."""
    gaps = [position - before for position, before in zip(positions, [0] + positions)]
    if max(gaps) < 255:
        return bytes(gaps)
    return _WIDE + array("I", gaps).tobytes()


def decode_gaps(value: bytes):
    """The gaps `encode_positions` wrote."""
    if value[:1] == _WIDE:
        return array("I", value[1:])
    return value


class CompactPositions(formats.Positions):
    """Whoosh's Positions format (frequency, weight, positions) in fewer bytes."""

    def encode(self, poslist):
        return encode_positions(list(poslist))

    def decode_positions(self, valuestring):
        position, positions = 0, []
        for gap in decode_gaps(valuestring):
            position += gap
            positions.append(position)
        return positions

    def decode_frequency(self, valuestring):
        return len(decode_gaps(valuestring))


class PreAnalyzedText(wf.TEXT):
    """A TEXT field (positions kept in `CompactPositions`, for phrases) over space-separated stems."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.format = CompactPositions(field_boost=self.format.field_boost)

    def index(self, value, **kwargs):
        positions: Dict[str, List[int]] = {}
        for position, word in enumerate(value.split()):
            positions.setdefault(word, []).append(position)
        boost = self.format.field_boost
        return [(word.encode("utf-8"), len(found), len(found) * boost, encode_positions(found))
                for word, found in positions.items()]


class PreSplitKeywords(wf.KEYWORD):
    """A KEYWORD field (frequencies only) over space-separated terms."""

    def index(self, value, **kwargs):
        boost = self.format.field_boost
        return [(word.encode("utf-8"), count, count * boost, pack_uint(count))
                for word, count in Counter(value.split()).items()]
