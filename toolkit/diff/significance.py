"""Is a change cosmetic or substantive?

A change is `cosmetic` when the two sides say the same thing: they differ
only by case, punctuation, whitespace or wrapping, list numbering, the order
of the same words, or an abbreviation spelled out ("Disease Free Survival"
and "Disease Free Survival (DFS)"). Anything else is `substantive`.

Outcome measures are judged more leniently, as outcome-switching raters
judge them: a measure is substantively changed only when the new wording
brings content words the old outcome (measure, time frame, description, and
the version's other primary outcomes) did not have, once registry boilerplate
("Percentage of Participants With", "The primary endpoint is to ...") and a
newly named specimen ("Plasma HIV RNA") are set aside, an abbreviation one
side uses undefined ("target IH") is read as the words the other side spells
out ("Target Infantile Hemangioma"), and a word with the stem of a known one
("Responder", "response") is known; or when most of what the old measure
named is in none of the new outcome's texts. A time frame is substantively
changed only when it names a time point (number and unit) or an event the old
outcome did not name ("end of study" and "study completion or exit, whichever
occurs first" are one anchor), or when a time point the old outcome named
("after 1 and 2 years") is named nowhere in the new one. A description only
when it sets a threshold on a number the old outcome never named ("CO less
than or equal to 10 ppm").

The rules are plain functions on strings; `toolkit.diff` calls them when it
builds a diff, and the renderers and `ptk changes` read the result.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

from toolkit.diff.text import comparison_key
from toolkit.nlp.values import find_values
from toolkit.units import unit_named

__all__ = [
    "COSMETIC", "SUBSTANTIVE", "LEVELS", "worst", "text_significance", "value_significance",
    "words", "content_words", "implied_definitions", "measure_significance", "time_frame_significance", "time_points",
    "description_significance",
]

COSMETIC = "cosmetic"
SUBSTANTIVE = "substantive"
LEVELS = (COSMETIC, SUBSTANTIVE)

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_PAREN = re.compile(r"\(([^()]{1,40})\)")
_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "i": "1", "ii": "2", "iii": "3", "iv": "4",
}
_SPELLING = {"randomisation": "randomization", "haemoglobin": "hemoglobin", "tumour": "tumor",
             "centralised": "centralized", "hospitalisation": "hospitalization", "oedema": "edema"}
# small words that carry no content of their own
_STOP = frozenset("""
a an and are as at be been being by during for from has have in into is it its of on or over per
the their this that these those to was were which who with within will after before up until
through than then both each any all including include includes ie eg i e g vs versus where least between
""".split())
# registry boilerplate around an outcome measure: how it is phrased, not what is measured
_BOILERPLATE = frozenset("""
primary secondary endpoint endpoints end point outcome outcomes measure measures measured measurement
objective aim study trial assess assessed assessment evaluate evaluated evaluation determine determined
demonstrate compare comparison investigate efficacy effect effects
percentage percent proportion number numbers rate rates participant participants subject subjects
patient patients people person persons individual individuals population
defined define definition as using use used via based determined
change changes changed baseline time frame timeframe score scores value values
achieve achieving achieved analysis analyse analyze interim final itt mitt intention intent treat population
""".split())
# a specimen named where the old measure named none ("HIV RNA" -> "Plasma HIV RNA"): where it is measured
_SPECIMENS = frozenset({"plasma", "serum"})
# how a time frame is phrased around its time points and its study anchors ("end of study" ~
# "from enrollment to study completion or exit, whichever occurred first")
_TIME_FRAME_WORDS = frozenset("""
whichever occur occurs occurred occured first come comes earliest earlier approximately about estimated
expected enrollment enrolment randomization randomisation study completion complete end exit
""".split())
_RANGE_WORDS = frozenset({"to", "of", "or", "and", "through", "thru"})
_LABELS = frozenset({"visit", "v"})
_SCHEDULE = frozenset({"visit", "cycle", "day", "week", "month", "year", "hour", "minute"})


def worst(levels: Iterable[Optional[str]]) -> str:
    """`substantive` if any of `levels` is, else `cosmetic`."""
    return SUBSTANTIVE if SUBSTANTIVE in set(levels) else COSMETIC


_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_UNIT_WORDS = {"wk": "week", "w": "week", "d": "day", "h": "hour", "hr": "hour", "hrs": "hour",
               "mo": "month", "m": "month", "yr": "year", "y": "year", "min": "minute", "mins": "minute"}


@functools.lru_cache(maxsize=65536)
def words(text: Optional[str]) -> Tuple[str, ...]:
    """The words of a text, case-folded, singular, numbers as digits, with an
    abbreviation defined in the text ("Disease Free Survival (DFS)") spelled
    out wherever it is used and its parenthesised definition dropped.

    Args:
        text: any text, or None.

    Returns:
        The words in order.
    """
    return spelled_out(text, definitions(text))


def definitions(*texts: Optional[str]) -> Dict[str, Tuple[str, ...]]:
    """Abbreviations the texts define ("Left Ventricular (LV)"): abbreviation -> words."""
    found: Dict[str, Tuple[str, ...]] = {}
    for text in texts:
        if text:
            found.update(_drop_definitions(text)[1])
    return found


_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")


@functools.lru_cache(maxsize=65536)
def _spelled(text: str, expansions: Tuple[Tuple[str, Tuple[str, ...]], ...]) -> Tuple[str, ...]:
    table = dict(expansions)
    text = _POSSESSIVE.sub("", _drop_definitions(text)[0])
    out: List[str] = []
    for token in _TOKEN.findall(text):
        if token.casefold() in table and token.upper() == token:
            out.extend(table[token.casefold()])
            continue
        pieces = _LETTER_DIGIT.split(token)
        if len(pieces) > 1:  # "W24", "24h", "HIV1": a unit letter beside a number
            out.extend(_word(_UNIT_WORDS.get(p.casefold(), p.casefold())) for p in pieces)
        else:
            out.append(_word(token.casefold()))
    return tuple(out)


def spelled_out(text: Optional[str], expansions: Dict[str, Tuple[str, ...]]) -> Tuple[str, ...]:
    """The words of a text with the abbreviations of `expansions` spelled out."""
    if not text:
        return ()
    return _spelled(text, tuple(sorted(expansions.items())))


def _word(token: str) -> str:
    token = _NUMBER_WORDS.get(token, _SPELLING.get(token, _UNIT_WORDS.get(token, token) if len(token) > 1 else token))
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss") and not token.isdigit():
        token = token[:-1]
    return token


# the word lists above, also in the form `words` gives them ("analysis" -> "analysi", "this" -> "thi")
_STOP, _BOILERPLATE, _TIME_FRAME_WORDS = (
    ws | frozenset(w for w in map(_word, ws) if not w.isdigit()) for ws in (_STOP, _BOILERPLATE, _TIME_FRAME_WORDS))


def _drop_definitions(text: str) -> Tuple[str, Dict[str, Tuple[str, ...]]]:
    """Remove "(ABBR)" after the words it abbreviates; return abbr -> words."""
    expansions: Dict[str, Tuple[str, ...]] = {}
    pieces, last = [], 0
    for m in _PAREN.finditer(text):
        abbr = m.group(1).strip()
        expansion = _expansion(text[: m.start()], abbr)
        if expansion is None:
            continue
        expansions[abbr.casefold()] = expansion
        pieces.append(text[last:m.start()])
        last = m.end()
    pieces.append(text[last:])
    return "".join(pieces), expansions


_ABBREVIATION = re.compile(r"\b[A-Z][A-Z]{1,7}\b")


def implied_definitions(abbreviating: Iterable[Optional[str]], *spelling: Optional[str]) -> Dict[str, Tuple[str, ...]]:
    """Abbreviations used undefined in `abbreviating` ("target IH") that a text of
    `spelling` spells out ("Target Infantile Hemangioma"): abbreviation -> words."""
    found: Dict[str, Tuple[str, ...]] = {}
    abbreviations = {m.group() for text in abbreviating if text for m in _ABBREVIATION.finditer(text)}
    for text in spelling:
        tokens = [t.casefold() for t in _TOKEN.findall(_POSSESSIVE.sub("", text or ""))]
        for abbr in abbreviations - {a.upper() for a in found} - {t.upper() for t in tokens}:
            letters = abbr.casefold()
            for start, token in enumerate(tokens):
                run = [t for t in tokens[start:start + len(letters) + 3] if t not in _STOP]
                spelled = token[0] == letters[0] and next(
                    (run[:n] for n in range(2, len(letters) + 1) if _initials_spell(run[:n], letters)), None)
                if spelled:
                    found[letters] = tuple(map(_word, spelled))
                    break
    return found


def _expansion(before: str, abbr: str) -> Optional[Tuple[str, ...]]:
    """The words ending `before` whose initials spell `abbr` (letters only), if any."""
    letters = "".join(ch for ch in abbr.casefold() if ch.isalpha())
    if not 2 <= len(letters) <= 8 or " " in abbr.strip():
        return None
    tokens = [t.casefold() for t in _TOKEN.findall(_POSSESSIVE.sub("", before))[-(len(letters) + 3):]]
    for start in range(len(tokens)):
        run = [t for t in tokens[start:] if t not in _STOP]
        if _initials_spell(run, letters):
            return tuple(_word(t) for t in run)
    return None


def _initials_spell(run: List[str], letters: str, *, first: bool = True) -> bool:
    """True when the words spell `letters` in order, each giving one to four of its
    letters: the first word its initial and maybe more, later words their initial
    or letters from inside ("ALanine aminoTransferase (ALT)")."""
    if not run or not letters:
        return not run and not letters
    word, rest = run[0], run[1:]
    if first and word[0] != letters[0]:
        return False
    for taken in range(1, min(len(letters), 4) + 1):
        piece = letters[:taken]
        fits = _in_order(piece[1:], word[1:]) if word[0] == piece[0] else not first and _in_order(piece, word[1:])
        if fits and _initials_spell(rest, letters[taken:], first=False):
            return True
    return False


def _in_order(letters: str, word: str) -> bool:
    """`letters` is a subsequence of `word`."""
    position = 0
    for letter in letters:
        position = word.find(letter, position) + 1
        if not position:
            return False
    return True


def text_significance(old: Optional[str], new: Optional[str]) -> str:
    """Cosmetic when two texts have the same words in any order (see module doc).

    Args:
        old: the old text.
        new: the new text.
    """
    if comparison_key(old) == comparison_key(new):
        return COSMETIC
    if not words(old) or not words(new):
        return SUBSTANTIVE
    if "".join(words(old)) == "".join(words(new)):  # "Post Graduate" / "Postgraduate", "follow-up" / "follow up"
        return COSMETIC
    return COSMETIC if Counter(words(old)) == Counter(words(new)) else SUBSTANTIVE


def value_significance(old, new) -> str:
    """Significance of a structured value (scalar, list or dict) that changed.

    Lists compare as sets of item texts, dicts by their values' texts; a
    text by its words in any order, or by its letters run together.
    """
    return COSMETIC if _equivalent(old, new) else SUBSTANTIVE


def _equivalent(a, b) -> bool:
    """Equal but for cosmetic differences; equal subtrees are skipped, so a large
    JSON value with one changed leaf costs that leaf."""
    if a == b or (_empty(a) and _empty(b)):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return all(_equivalent(a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return _small(a, b) and _keys_equal(a, b)  # an item more or fewer, unless it repeats one
        if all(_equivalent(x, y) for x, y in zip(a, b)):
            return True
        return _sorted_json(a) == _sorted_json(b)  # reordered
    if isinstance(a, str) and isinstance(b, str):
        return text_significance(a, b) == COSMETIC
    return any(_value_key(a, bag) == _value_key(b, bag) for bag in (True, False))


def _small(*values) -> bool:
    """Short lists of plain values: worth comparing item by item as texts."""
    return all(len(v) <= 50 and not any(isinstance(x, (dict, list, tuple)) for x in v) for v in values)


def _keys_equal(a, b) -> bool:
    return any(_value_key(a, bag) == _value_key(b, bag) for bag in (True, False))


def _sorted_json(items) -> list:
    return sorted(json.dumps(item, sort_keys=True, default=str) for item in items)


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _value_key(value, bag: bool):
    if value is None or value == "" or value == [] or value == {}:
        return ()
    if isinstance(value, dict):
        keys = ((str(k), _value_key(v, bag)) for k, v in value.items())
        return tuple(sorted(item for item in keys if item[1] != ()))
    if isinstance(value, (list, tuple)):
        return tuple(sorted({_value_key(v, bag) for v in value} - {()}, key=repr))
    if isinstance(value, (bool, int, float)):
        return (value,)
    tokens = words(str(value))
    return tuple(sorted(Counter(tokens).items())) if bag else ("".join(tokens),)


def content_words(text: Optional[str], expansions: Optional[Dict[str, Tuple[str, ...]]] = None) -> FrozenSet[str]:
    """Words of a text that say what is measured: no small words, no boilerplate.

    Args:
        text: the text.
        expansions: abbreviations to spell out (default: those the text defines).
    """
    tokens = words(text) if expansions is None else spelled_out(text, expansions)
    return frozenset(w for i, w in enumerate(tokens) if w not in _STOP and w not in _BOILERPLATE
                     and not (w in _SCHEDULE and _numbered(tokens, i)) and not (w.isdigit() and _scheduled(tokens, i)))


def _numbered(tokens: Tuple[str, ...], i: int) -> bool:
    """A unit word next to a number ("Week 12", "12 weeks"): part of a time point."""
    return (i > 0 and tokens[i - 1].isdigit()) or (i + 1 < len(tokens) and tokens[i + 1].isdigit())


def _scheduled(tokens: Tuple[str, ...], i: int) -> bool:
    """A number that names a point of the schedule ("Visit 7", "Week 12", "12 weeks",
    the 24 of "Weeks 20 and 24"): compared as a time point, not as a word."""
    return ((i > 0 and tokens[i - 1] in _SCHEDULE) or (i + 1 < len(tokens) and tokens[i + 1] in _SCHEDULE)
            or _run_unit(tokens, i) is not None)


_SENTENCE = re.compile(r"(?<=[.;])\s+(?=[A-Z])")


def measure_significance(old_measure: Optional[str], new_measure: Optional[str], *,
                         old_context: Iterable[Optional[str]] = (),
                         new_context: Iterable[Optional[str]] = ()) -> str:
    """Substantive when the new measure brings content words the old outcome lacked.

    Args:
        old_measure: the old measure title.
        new_measure: the new measure title.
        old_context: other texts of the old outcome (time frame, description)
            whose words the new title may take up without changing meaning.
        new_context: other texts of the new outcome: a sentence of the old title
            whose content words are mostly in none of the new texts was dropped
            (an objective of a composite primary outcome left out).
    """
    if text_significance(old_measure, new_measure) == COSMETIC:
        return COSMETIC
    old_context = tuple(old_context)
    expansions = definitions(old_measure, new_measure, *old_context)
    new = _unknown_words(old_measure, new_measure, old_context, expansions)
    if new:  # abbreviations one side uses undefined and the other spells out
        implied = {**implied_definitions((new_measure,), old_measure, *old_context),
                   **implied_definitions((old_measure, *old_context), new_measure)}
        expansions = {**implied, **expansions}
        new = _unknown_words(old_measure, new_measure, old_context, expansions)
    if new or not words(new_measure):
        return SUBSTANTIVE
    if _sentence_dropped(old_measure, (new_measure, *new_context), expansions):
        return SUBSTANTIVE
    points = [p for text in (old_measure, *old_context) for p in time_points(text) if p > 0]
    fresh = [p for p in time_points(new_measure) if p > 0 and not any(_close(p, k) for k in points)]
    return SUBSTANTIVE if fresh else COSMETIC


def _unknown_words(old_measure, new_measure, old_context, expansions) -> set:
    """Content words of the new measure that no text of the old outcome has (a
    specimen counts only where the old outcome named one)."""
    known = set(content_words(old_measure, expansions))
    for text in old_context:
        known |= content_words(text, expansions)
    new = {w for w in content_words(new_measure, expansions) - known if not _stem_known(w, known)}
    return new if known & _SPECIMENS else new - _SPECIMENS


def _stem_known(word: str, known) -> bool:
    """A word with the stem of a known one ("responder" and "response")."""
    return len(word) >= 7 and any(len(k) >= 7 and k[:6] == word[:6] for k in known)


def _sentence_dropped(old: Optional[str], new_texts, expansions) -> bool:
    """A sentence of `old` with 3+ content words, 60% of them in none of `new_texts`;
    or half the content words of the whole of `old`."""
    kept = set()
    for text in new_texts:
        kept |= content_words(text, expansions)
    whole = content_words(old, expansions)
    if len(whole) >= 3 and len({w for w in whole - kept if not _stem_known(w, kept)}) > 0.5 * len(whole):
        return True
    sentences = _SENTENCE.split(old or "")
    return len(sentences) > 1 and any(len(own) >= 3 and len(own - kept) >= 0.6 * len(own)
                                      for own in (content_words(sentence, expansions) for sentence in sentences))


def time_points(text: Optional[str]) -> Tuple[float, ...]:
    """The time points a text names, in days ("Week 48", "48 weeks", "one year");
    a bare number counts as itself (negative: not a duration).

    A unit is shared along a run of numbers ("6-8 weeks", "6/8 weeks", "Weeks 9
    to 12"), and a visit number ("Visit 7") is a label, not a time point, when
    the text also names a time with a unit ("Visit 7, Week 12").
    """
    tokens = words(text)
    timed, labels = [], []
    for i, token in enumerate(tokens):
        if not token.isdigit():
            continue
        labelled = i > 0 and tokens[i - 1] in _LABELS
        unit = None if labelled else _run_unit(tokens, i)
        if unit:
            timed.append(float(token) * unit_named(unit).days)
        else:
            (labels if labelled else timed).append(-float(token))
    return tuple(timed) if any(p >= 0 for p in timed) else tuple(timed + labels)


def _run_unit(tokens: Tuple[str, ...], i: int) -> Optional[str]:
    """The unit of the number at `i`: beside it, or beside the run of numbers it is in."""
    unit = _unit_near(tokens, i)
    if unit:
        return unit
    for step in (1, -1):
        j = i + step
        while 0 <= j < len(tokens) and (tokens[j].isdigit() or tokens[j] in _RANGE_WORDS):
            j += step
        ends_run = tokens[j - step].isdigit() and j - step != i
        if ends_run and 0 <= j < len(tokens) and unit_named(tokens[j]):
            return tokens[j]
    return None


def _unit_near(tokens: Tuple[str, ...], i: int) -> Optional[str]:
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    before = tokens[i - 1] if i > 0 else None
    for candidate in (after, before):
        if candidate and unit_named(candidate):
            return candidate
    return None


def time_frame_significance(old: Optional[str], new: Optional[str], *,
                            old_context: Iterable[Optional[str]] = (),
                            new_context: Iterable[Optional[str]] = ()) -> str:
    """Substantive when the new time frame names a time point (or anchor) the old outcome did not.

    "2 years" and "up to 2 years" are alike: the raters judged that edit both ways.

    Args:
        old: the old time frame.
        new: the new time frame.
        old_context: other texts of the old outcome (its measure title, description).
        new_context: other texts of the new outcome: a time point the old outcome
            named ("after 1 and 2 years") that no new text names was given up.
    """
    if text_significance(old, new) == COSMETIC:
        return COSMETIC
    old_context = tuple(old_context)
    known = list(time_points(old))
    for text in old_context:
        known += time_points(text)
    fresh = [p for p in time_points(new) if not any(_close(p, k) for k in known)]
    if fresh or _new_anchor(old, new, old_context):
        return SUBSTANTIVE
    if not time_points(new) and time_points(old):  # a time point given up for a vague frame
        return SUBSTANTIVE
    kept = [p for text in (new, *new_context) for p in time_points(text)]
    dropped = [p for p in known if p > 0 and not any(_close(p, k) for k in kept)]
    return SUBSTANTIVE if dropped else COSMETIC


def _new_anchor(old: Optional[str], new: Optional[str], old_context: Tuple[Optional[str], ...]) -> bool:
    """The new time frame names an event the old outcome did not ("after the end of surgery")."""
    if not words(old) or measure_significance(old, new, old_context=old_context) == COSMETIC:
        return False
    known = content_words(old).union(*(content_words(text) for text in old_context))
    return bool(content_words(new) - known - _TIME_FRAME_WORDS)


def _close(a: float, b: float) -> bool:
    if (a < 0) != (b < 0):
        return False
    return abs(a - b) <= 0.05 * max(abs(a), abs(b))


_BOUNDS = frozenset({"<", "<=", ">", ">="})
_UNIT_GLUED = re.compile(r"(?<=\d)(?=[^\W\d_]{2,}\b)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def description_significance(old: Optional[str], new: Optional[str], *,
                             old_context: Iterable[Optional[str]] = ()) -> str:
    """Substantive when the new description sets a threshold on a number the old outcome never named.

    A description explains how the outcome is reported: a definition, a scale,
    a reworded method are cosmetic; a new cut-off ("carbon monoxide less than
    or equal to 10 ppm", "no more than 1 L") changes what counts. A bound
    relative to the normal range (">5x ULN") restates a grade, and a time
    ("< 24 hours") is the time frame's business.

    Args:
        old: the old description.
        new: the new description.
        old_context: other texts of the old outcome (measure, time frame).
    """
    if text_significance(old, new) == COSMETIC:
        return COSMETIC
    named = {n for text in (old, *old_context) if text for n in _NUMBER.findall(text)}
    return SUBSTANTIVE if any(n not in named for n in _thresholds(new)) else COSMETIC


def _thresholds(text: Optional[str]) -> List[str]:
    """The numbers a text bounds with a comparator, as written, but times and multiples of normal."""
    text = _UNIT_GLUED.sub(" ", text or "")  # "10ppm": a number and its unit
    out = []
    for tag in find_values(text):
        unit = (tag.unit or next(iter(_TOKEN.findall(text[tag.end:tag.end + 12])), "")).casefold()
        if tag.comparator in _BOUNDS and tag.number is not None and not unit_named(unit) \
                and "upper limit" not in unit and unit != "uln":
            out += _NUMBER.findall(tag.text)
    return out
