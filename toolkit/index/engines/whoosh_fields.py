"""Whoosh field types for text analysed upstream (see `toolkit.index.analysis`).

Documents reach Whoosh as space-separated stems and keyword terms. The stock
TEXT and KEYWORD fields would run a tokenizer over them, one Token object per
word; these fields count words and positions straight from `str.split`,
giving the same postings (same terms, frequencies, weights and encoded
positions) at a fraction of the cost.
"""

from __future__ import annotations

from collections import Counter
from typing import Dict, List

from whoosh import fields as wf
from whoosh.system import pack_uint

__all__ = ["PreAnalyzedText", "PreSplitKeywords"]


class PreAnalyzedText(wf.TEXT):
    """A TEXT field (positions kept, for phrases) over space-separated stems."""

    def index(self, value, **kwargs):
        positions: Dict[str, List[int]] = {}
        for position, word in enumerate(value.split()):
            positions.setdefault(word, []).append(position)
        encode, boost = self.format.encode, self.format.field_boost
        return [(word.encode("utf-8"), len(found), len(found) * boost, encode(found))
                for word, found in positions.items()]


class PreSplitKeywords(wf.KEYWORD):
    """A KEYWORD field (frequencies only) over space-separated terms."""

    def index(self, value, **kwargs):
        boost = self.format.field_boost
        return [(word.encode("utf-8"), count, count * boost, pack_uint(count))
                for word, count in Counter(value.split()).items()]
