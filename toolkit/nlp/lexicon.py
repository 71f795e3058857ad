"""Dictionary tagging of drugs and conditions: load the shipped lexicon, match token runs.

The lexicon maps a key (lower-cased tokens joined by one space) to
`[label, norm, code]`. On disk the distinct rows are stored once (`norms`)
and keys point at them by index, which halves the parse time. Matching is greedy longest-first from left to right over
the tokens of a `Doc`, which costs a handful of dict look-ups per token.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import orjson

from toolkit.errors import LexiconError

DATA_DIR = Path(__file__).resolve().parent / "data"
LEXICON_PATH = DATA_DIR / "lexicon.json.gz"
# key space: curly quotes straightened, hyphens inside words dropped ("anti-coagulant" = "anticoagulant")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "–": "", "—": "", "-": ""})


@dataclass(frozen=True)
class Entry:
    """What a surface form means: label (drug, condition), canonical name, id."""

    label: str
    norm: str
    code: Optional[str] = None


@dataclass(frozen=True)
class Match:
    """A lexicon hit over tokens `[start, end)` of a doc."""

    start: int
    end: int
    entry: Entry


def lexicon_key(tokens: Iterable[str]) -> str:
    """The lookup key of a run of token texts."""
    words = (tok.lower().translate(_QUOTES) for tok in tokens if tok.strip())
    return " ".join(word for word in words if word)


class Lexicon:
    """Surface forms -> `[label, norm, code]` rows, with the longest form length per first token.

    Rows stay as loaded (lists) and become `Entry` objects only when matched,
    which keeps loading the shipped ~180k forms well under a second.
    """

    def __init__(self, entries: Dict[str, Sequence], max_len: Optional[Dict[str, int]] = None,
                 max_len2: Optional[Dict[str, int]] = None):
        self.rows: Dict[str, Sequence] = entries
        self.max_len: Dict[str, int] = max_len if max_len is not None else first_token_lengths(entries)
        self.max_len2: Dict[str, int] = max_len2 if max_len2 is not None else first_bigram_lengths(entries)

    def add(self, key: str, entry: Entry) -> None:
        """Add (or replace) one surface form."""
        words = key.split(" ")
        self.rows[key] = [entry.label, entry.norm, entry.code]
        self.max_len[words[0]] = max(self.max_len.get(words[0], 0), len(words))
        if len(words) > 1:
            bigram = " ".join(words[:2])
            self.max_len2[bigram] = max(self.max_len2.get(bigram, 0), len(words))

    def lookup(self, key: str) -> Optional[Entry]:
        """The entry of a key, if any."""
        row = self.rows.get(key)
        return Entry(*row) if row is not None else None

    def match(self, lowers: Sequence[str]) -> List[Match]:
        """Greedy longest-first matches over lower-cased token texts.

        Args:
            lowers: the doc's tokens, lower-cased and quote-normalised.

        Returns:
            Non-overlapping matches in text order.
        """
        out: List[Match] = []
        rows, max_len, max_len2 = self.rows, self.max_len, self.max_len2
        i, count = 0, len(lowers)
        while i < count:  # one dict look-up for a token no key starts with (most of them)
            longest = max_len.get(lowers[i], 0)
            if longest > 1:
                longest = max_len2.get(f"{lowers[i]} {lowers[i + 1]}", 1) if i + 1 < count else 1
            for n in range(min(longest, count - i), 0, -1):
                row = rows.get(" ".join(lowers[i:i + n]))
                if row is not None:
                    out.append(Match(i, i + n, Entry(*row)))
                    i += n
                    break
            else:
                i += 1
        return out


def first_bigram_lengths(entries: Dict[str, Sequence]) -> Dict[str, int]:
    """First two tokens -> the most tokens of a key starting with them (keys of 2+ tokens)."""
    return _longest_by_prefix(entries, 2)


def first_token_lengths(entries: Dict[str, Sequence]) -> Dict[str, int]:
    """First token -> the most tokens of a key starting with it."""
    return _longest_by_prefix(entries, 1)


def _longest_by_prefix(entries: Dict[str, Sequence], size: int) -> Dict[str, int]:
    """First `size` tokens -> the most tokens of a key starting with them (keys of `size`+ tokens)."""
    lengths: Dict[str, int] = {}
    for key in entries:
        words = key.split(" ")
        if len(words) >= size:
            prefix = " ".join(words[:size])
            if lengths.get(prefix, 0) < len(words):
                lengths[prefix] = len(words)
    return lengths


@lru_cache(maxsize=1)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """Load the shipped lexicon once per process.

    Raises:
        LexiconError: the file is missing or not a lexicon.
    """
    try:
        with gzip.open(path, "rb") as handle:
            data = orjson.loads(handle.read())  # a third of the json module's time: pipeline load
        norms = data["norms"]
        entries = {key: norms[index] for key, index in data["entries"].items()}
        return Lexicon(entries, data["max_len"], data["max_len2"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LexiconError(f"cannot load lexicon {path}: {exc}") from None


def doc_lowers(doc) -> List[str]:
    """Lower-cased, quote-normalised token texts of a doc (the lexicon's key space), computed once per doc.

    Reads the LOWER column of the doc array: no `Token` objects are made.
    """
    lowers = doc.user_data.get(_LOWERS_KEY)
    if lowers is None:
        lowers = doc.user_data[_LOWERS_KEY] = _lowers(doc)
    return lowers


def _lowers(doc) -> List[str]:
    from spacy.attrs import LOWER

    keys = doc.to_array(LOWER).tolist()
    cache = _KEY_OF_LOWER
    out = [cache.get(key) for key in keys]
    if None in out:
        strings = doc.vocab.strings
        for position, key in enumerate(keys):
            if out[position] is None:
                out[position] = cache[key] = strings[key].translate(_QUOTES)
    return out


# LOWER hash -> key-space word; grows with the vocabulary seen (as spaCy's own vocab does)
_KEY_OF_LOWER: Dict[int, str] = {}
# where a doc keeps its text and its key-space words (`doc.user_data`)
_TEXT_KEY = "trial_text"
_LOWERS_KEY = "trial_lowers"


def doc_text(doc) -> str:
    """`doc.text`, computed once per doc (spaCy joins the tokens on every access)."""
    text = doc.user_data.get(_TEXT_KEY)
    if text is None:
        text = doc.user_data[_TEXT_KEY] = doc.text
    return text


def text_doc(nlp, text: str):
    """`nlp.make_doc(text)` that knows its text: `doc_text` returns `text` without joining the tokens.

    The tokenizer keeps every character, so `doc.text == text`.
    """
    doc = nlp.make_doc(text)
    doc.user_data[_TEXT_KEY] = text
    return doc
