"""Text analysis shared by every engine: tokens, case folding, spelling, inflections.

Both engines index the *output* of `analyze` (space-separated stems) with a
plain whitespace tokenizer, so a word means the same thing in Whoosh, in
tantivy and in a brute-force scan of the records. A word's stem is its
American spelling without its inflection (`toolkit.index.stemmers`: tumours
-> tumor, anaemia -> anemia, hepatitis and hepatic stay apart).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterator, List, Tuple

from toolkit.index.stemmers import STEMMERS, american, inflections

__all__ = ["STEMMERS", "SEPARATOR", "analyze", "words", "fold", "stem", "tokens_with_offsets", "join_values"]

# A token no analyzer produces: put between the values of a multi-valued text
# field so a phrase never matches across two values.
SEPARATOR = "_"

# Han, kana and hangul characters are one token each (the text has no spaces
# between words: a query word becomes a phrase of characters); other runs of
# letters/digits are one token, a decimal part staying with its number ("2.5").
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
# Arrows, mathematical and technical symbols and geometric shapes (∅, ≥, ±, ⌀) are
# one token each too: a query of a symbol finds the symbol.
_SYMBOLS = "\u2190-\u21ff\u2200-\u23ff\u25a0-\u25ff"
_TOKEN = re.compile(rf"[{_CJK}{_SYMBOLS}]|(?:(?![{_CJK}])[^\W_])+(?:[.,]\d+)?")
# The same tokens for a folded ASCII text (no CJK, no look-ahead): several times faster.
_ASCII_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)?")


def fold(text: str) -> str:
    """Unicode-normalise and case-fold a text."""
    return unicodedata.normalize("NFKC", text).casefold()


_STEM_CACHE_SIZE = 500_000


class _StemCache(dict):
    """word -> stem; a miss stems the word (and remembers it while there is room)."""

    def __missing__(self, word: str) -> str:
        stemmed = word if len(word) <= 2 or not word.isalpha() else inflections(american(word))
        if len(self) < _STEM_CACHE_SIZE:
            self[word] = stemmed
        return stemmed


_STEMS = _StemCache()


def stem(word: str) -> str:
    """The stem of a folded word (see module docstring); numbers and short words stay as they are."""
    return _STEMS[word]


def tokens_with_offsets(text: str) -> Iterator[Tuple[str, int, int]]:
    """Yield (folded word, start, end) for each word of a text.

    Offsets index the text as given; folding happens per word, so offsets
    stay valid for highlighting.
    """
    if text.isascii():  # lower() keeps every offset of an ASCII text
        for match in _ASCII_TOKEN.finditer(text.lower()):
            yield match.group(), match.start(), match.end()
        return
    for match in _TOKEN.finditer(text):
        yield fold(match.group()), match.start(), match.end()


def analyze(text: str) -> List[str]:
    """The indexed form of a text: one stem per word, in order.

    Args:
        text: any text (criterion, title, query word).

    Returns:
        The stems, in text order.
    """
    return list(map(_STEMS.__getitem__, words(text)))


def words(text: str) -> List[str]:
    """The folded words of a text, in order (no offsets: faster than `tokens_with_offsets`)."""
    if text.isascii():  # NFKC leaves ASCII alone and casefold is lower
        return _ASCII_TOKEN.findall(text.lower())
    return _TOKEN.findall(fold(text))


def join_values(values) -> str:
    """Analyze several values into one field string, separated by `SEPARATOR`."""
    parts = [" ".join(analyze(value)) for value in values if value]
    return f" {SEPARATOR} ".join(part for part in parts if part)
