"""Text normalisation and word-level diffs.

Two texts that differ only by whitespace, line wrapping, bullet markers,
list numbering, markdown escapes, converter debris (`_x000D_`, `<br>`) or
mojibake (UTF-8 read as cp1252 or Mac Roman, repaired with ftfy) normalise
alike: the diff reports them unchanged.
"""

from __future__ import annotations

import difflib
import functools
import html
import re
from collections import defaultdict, deque
from typing import Callable, Dict, Optional, Sequence, Tuple

import ftfy
import numpy
from rapidfuzz import fuzz, process, utils

from toolkit.diff.model import WordOp

__all__ = ["normalize", "comparison_key", "word_ops", "similarity", "exact_pairs", "best_pairs"]

_DEBRIS = re.compile(r"_x000[dD]_|<br\s*/?>|</?(?:p|div|span|li|ul|ol|b|i|u|strong|em)\b[^>]*>", re.I)
_ESCAPE = re.compile(r"\\([<>\[\]()*_#+\-.!~`|])")
# leading list markers: bullets, "1.", "1)", "(1)", "a.", "a)", "i.", "ii)", "-", "*", "•" ...
_MARKER = re.compile(
    r"^\s*(?:[-*•·●○◦▪■►o]\s+|[-*•·●○◦▪■►]"
    r"|\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,5})(?:\.\d{1,3})*[.)](?=\s|[A-Za-z(])\s*)+"
)
_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})
_TRAILING = re.compile(r"[\s;,.:]+$")
_WORD = re.compile(r"\S+")
_INLINE_HEADING = re.compile(r"^(?:key\s+)?(?:inclusion|exclusion)(?:\s+criteria)?\s*:\s*", re.I)
_OPERATORS = ((re.compile(r"<\s*/\s*=|<=|=<|≦"), "≤"), (re.compile(r">\s*/\s*=|>=|=>|≧"), "≥"))
_OPERATOR_SPACE = re.compile(r"([<>≤≥=±])\s+(?=[\d.])")


@functools.lru_cache(maxsize=65536)
def normalize(text: Optional[str]) -> str:
    """Return the comparison form of a text.

    Args:
        text: a criterion, outcome or section text as written.

    Returns:
        The text without markup debris, escapes, list markers (at the start
        of every line), trailing punctuation and with runs of whitespace
        collapsed to one space. Case is kept.
    """
    if not text:
        return ""
    if not text.isascii():  # converters' mojibake: "â€œ" and "‚Äú" are both a quote
        text = ftfy.fix_text(text, uncurl_quotes=False)
    text = html.unescape(_DEBRIS.sub("\n", text)).translate(_QUOTES)
    text = _ESCAPE.sub(r"\1", text)
    lines = (_MARKER.sub("", line) for line in text.splitlines())
    return _TRAILING.sub("", _SPACE.sub(" ", " ".join(lines)).strip())


@functools.lru_cache(maxsize=65536)
def comparison_key(text: Optional[str]) -> str:
    """What decides "unchanged": the normalised text, case-folded, with no
    space between a comparator and its number (`≥ 35` equals `≥35`), one
    spelling per comparator (`</=`, `<=` and `≤` alike) and
    without an inline "Inclusion criteria:" lead-in."""
    text = _INLINE_HEADING.sub("", normalize(text))
    for pattern, sign in _OPERATORS:
        text = pattern.sub(sign, text)
    return _OPERATOR_SPACE.sub(r"\1", text).casefold()


def word_ops(old: Optional[str], new: Optional[str]) -> Tuple[WordOp, ...]:
    """Word-level diff of two texts (after normalisation).

    Returns:
        Runs of equal, deleted and inserted words; a replacement is a
        delete followed by an insert.
    """
    a = _WORD.findall(normalize(old))
    b = _WORD.findall(normalize(new))
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    ops = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(WordOp("equal", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            ops.append(WordOp("delete", " ".join(a[i1:i2])))
        if j2 > j1:
            ops.append(WordOp("insert", " ".join(b[j1:j2])))
    return tuple(ops)


def similarity(old: Optional[str], new: Optional[str]) -> float:
    """rapidfuzz ratio (0-100) of the normalised texts, rounded to 0.1."""
    return round(fuzz.ratio(normalize(old), normalize(new)), 1)


def exact_pairs(a: Sequence[str], b: Sequence[str]) -> Dict[int, int]:
    """Pair equal keys of `a` and `b` in order: index in `a` -> first free index in `b`."""
    waiting: Dict[str, deque] = defaultdict(deque)
    for j, key in enumerate(b):
        waiting[key].append(j)
    pairs = {}
    for i, key in enumerate(a):
        if waiting[key]:
            pairs[i] = waiting[key].popleft()
    return pairs


def best_pairs(a: Sequence[str], b: Sequence[str], *, threshold: float,
               rank: Callable[[float, int, int], tuple]) -> Dict[int, Tuple[int, float]]:
    """Pair texts of `a` with texts of `b`, best fuzzy score first, each at most once.

    The score is the mean of rapidfuzz's ratio and token-set ratio (0-100).

    Args:
        a: old texts.
        b: new texts.
        threshold: lowest score a pair may have.
        rank: sort key of a candidate (score, index in a, index in b); ties keep a-major order.

    Returns:
        Index in `a` -> (index in `b`, score rounded to one decimal).
    """
    if not a or not b:
        return {}
    scores = process.cdist(a, b, scorer=fuzz.ratio, processor=utils.default_process)
    scores += process.cdist(a, b, scorer=fuzz.token_set_ratio, processor=utils.default_process)
    scores = (scores / 2).astype(numpy.float64)  # compared and ranked as Python floats
    xs, ys = numpy.nonzero(scores >= threshold)  # a-major order
    candidates = list(zip(scores[xs, ys].tolist(), xs.tolist(), ys.tolist()))
    candidates.sort(key=lambda c: rank(*c))
    pairs: Dict[int, Tuple[int, float]] = {}
    taken = set()
    for score, x, y in candidates:
        if x not in pairs and y not in taken:
            pairs[x] = (y, round(score, 1))
            taken.add(y)
    return pairs
