"""Drug and condition tags from the lexicon, and expansion of defined abbreviations.

Pure functions over a tokenised `Doc`; the pipeline component in
`toolkit.nlp.pipeline` only wires them to the doc.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from spacy.attrs import IDX

from toolkit.nlp.lexicon import Entry, Lexicon, Match, doc_lowers, doc_text, lexicon_key
from toolkit.nlp.rules import load_rules, overlaps
from toolkit.records import Tag

_MIN_SHORT_FORM = 2
_SHORT_WORD = 3


def term_tags(doc, lexicon: Lexicon) -> List[Tag]:
    """Drug and condition tags of every lexicon match in a doc."""
    matches = lexicon.match(doc_lowers(doc))
    if not matches:
        return []
    starts = doc.to_array(IDX).tolist()
    text = doc_text(doc)
    tags = (_tag_of(text, starts, match) for match in matches)
    filters = load_rules().context_filters
    return [tag for tag in tags if not _short_lowercase_word(tag) and not _bad_context(text, tag, filters)]


_WORD_BEFORE = re.compile(r"([A-Za-z]+)[^A-Za-z]{0,2}$")
_WORD_AFTER = re.compile(r"(?:\s*\([^()]{1,12}\))?[^A-Za-z]{0,2}([A-Za-z]+)")  # over "(G6PD)"


def _bad_context(text: str, tag: Tag, filters) -> bool:
    """Whether the word right before or after a term marks it as something else ("pregnancy test")."""
    for label, side, words in filters:
        if label != tag.label:
            continue
        if side == "next":
            found = _WORD_AFTER.match(text, tag.end)
        else:
            found = _WORD_BEFORE.search(text, max(0, tag.start - 30), tag.start)
        if found and found.group(1).lower() in words:
            return True
    return False


def _short_lowercase_word(tag: Tag) -> bool:
    """'met', 'art', 'all' in lower case are words; as names they are written MET, ART, ALL."""
    return len(tag.text) <= _SHORT_WORD and tag.text.isalpha() and tag.text.islower()


def _tag_of(text: str, starts: List[int], match: Match) -> Tag:
    start = starts[match.start]
    end = starts[match.end] if match.end < len(starts) else len(text)
    end = len(text[start:end].rstrip())
    entry = match.entry
    return Tag(entry.label, text[start:start + end], start, start + end, norm=entry.norm, code=entry.code)


def abbreviation_table(doc) -> Dict[str, Tuple[str, ...]]:
    """Short form -> long-form tokens of the abbreviations a doc defines ("alloHSCT"), built once per doc."""
    table = doc.user_data.get("trial_abbreviation_table")
    if table is None:
        table = doc.user_data["trial_abbreviation_table"] = _defined_abbreviations(doc)
    return table


def _defined_abbreviations(doc) -> Dict[str, Tuple[str, ...]]:
    text = doc_text(doc)
    if "(" not in text and "[" not in text:
        return {}
    table = {}
    for short in getattr(doc._, "abbreviations", None) or ():
        long_form = short._.long_form
        if long_form is not None and len(short.text) >= _MIN_SHORT_FORM:
            table.setdefault(short.text, tuple(tok.text for tok in long_form))
    return table


def short_form_variants(table: Dict[str, Tuple[str, ...]]) -> Dict[str, Tuple[str, ...]]:
    """Each short form as written and with a capital first letter -> its long-form tokens."""
    forms: Dict[str, Tuple[str, ...]] = {}
    for short, long_form in table.items():
        forms[short] = long_form
        forms.setdefault(short[:1].upper() + short[1:], long_form)
    return forms


class ShortForms:
    """Defined short forms and one compiled pattern finding their uses.

    Short forms match whole words as written, or with a capital first letter
    ("alloHSCT" also matches "AlloHSCT"; "ALL" never matches "all").
    """

    def __init__(self, table: Dict[str, Tuple[str, ...]]):
        self.forms = short_form_variants(table)
        alternatives = "|".join(map(re.escape, sorted(self.forms, key=len, reverse=True)))
        self.pattern = _whole_words(alternatives) if self.forms else None

    def tags(self, doc, lexicon: Lexicon, taken: Iterable[Tuple[int, int]], *, skip=frozenset()) -> List[Tag]:
        """Tags for the uses of the short forms in a doc.

        Each use gets an `abbreviation` tag whose `norm` is the long form and,
        when the long form is a lexicon term, a drug/condition tag normalised
        like it.

        Args:
            doc: the tokenised criterion.
            lexicon: the drug/condition lexicon.
            taken: character ranges already tagged as drug/condition.
            skip: short forms whose uses were tagged already (defined in this doc).
        """
        if self.pattern is None:
            return []
        occupied = list(taken)
        tags: List[Tag] = []
        text = doc_text(doc)
        filters = load_rules().context_filters
        for found in self.pattern.finditer(text):
            if found.group() not in skip:
                tags.extend(tag for tag in _expand(found, self.forms[found.group()], lexicon, occupied)
                            if tag.label == "abbreviation" or not _bad_context(text, tag, filters))
        return tags


@lru_cache(maxsize=4096)
def _whole_words(alternatives: str) -> re.Pattern:
    """The pattern of the alternatives as whole words, compiled once per set of short forms (they recur:
    "ULN", "ECOG", "ANC" are defined in record after record)."""
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def abbreviation_tags(doc, table: Dict[str, Tuple[str, ...]], lexicon: Lexicon, taken: Iterable[Tuple[int, int]]) -> List[Tag]:
    """Tags for the uses of the short forms a table defines (see `ShortForms.tags`)."""
    return ShortForms(table).tags(doc, lexicon, taken) if table else []


def _expand(found: re.Match, long_tokens: Tuple[str, ...], lexicon: Lexicon, occupied: list) -> List[Tag]:
    start, end = found.span()
    long_form = " ".join(long_tokens)
    tags = [Tag("abbreviation", found.group(), start, end, norm=long_form)]
    entry = long_form_entry(long_tokens, lexicon)
    if entry is not None and not overlaps(start, end, occupied):
        tags.append(Tag(entry.label, found.group(), start, end, norm=entry.norm, code=entry.code,
                        attrs={"expansion": long_form}))
        occupied.append((start, end))
    return tags


def long_form_entry(long_tokens: Tuple[str, ...], lexicon: Lexicon) -> Optional[Entry]:
    """The entry of a long form, or of its longest lexicon term."""
    words = lexicon_key(long_tokens).split(" ")
    exact = lexicon.lookup(" ".join(words))
    if exact is not None:
        return exact
    matches = lexicon.match(words)
    return max(matches, key=lambda m: m.end - m.start).entry if matches else None


def covered(tags: Sequence[Tag], labels: Iterable[str]) -> List[Tuple[int, int]]:
    """Character ranges of the tags with one of the labels."""
    wanted = set(labels)
    return [(tag.start, tag.end) for tag in tags if tag.label in wanted]
