"""Text cues the criteria parser reads: titles, dangling line ends, list markers.

Small pure functions over the eligibility text (offsets in, answers out), kept
apart from the parser state in `toolkit.criteria.tree`.
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

from toolkit.criteria.bullets import marker_rank

__all__ = [
    "DANGLING", "MIDLINE_HEADING", "NOT_A_TITLE", "block_category", "lead_in", "ends_criterion", "find_colon", "list_goes_on",
    "opens_list", "restarts", "strip_emphasis", "title_words",
]

# An item ending like this is followed by more items of its list.
_LIST_GOES_ON = re.compile(r"(?:[;,:；，：]|\b(?:or|and|and/or|OR|AND))\s*$")
# A line ending like this cannot end a criterion: the next line goes on with it.
DANGLING = re.compile(
    r"(?:\b(?:a|an|the|of|to|in|on|at|by|for|with|from|and|or|if|than|that|which|who|whose"
    r"|as|is|are|be|been|not|no|per|via|including|between|within|without|under|over|after"
    r"|before|during|such|e\.g\.|i\.e\.)|[,(/&+-])[ \t]*$",
    re.IGNORECASE,
)
# A capitalised block heading inside a line ("... relationship Exclusion Criteria:- Primary").
MIDLINE_HEADING = re.compile(r"(?:Inclusion|Exclusion|INCLUSION|EXCLUSION)\s+(?:Criteria|CRITERIA|criteria)\s*:")
# Words that make the text before such a heading part of the heading ("Other Exclusion Criteria:").
_HEADING_PREFIX_WORDS = frozenset(
    "other key main major general specific additional further the following of for list all".split()
)
# Remarks read like titles but introduce the text under them, and a lone "OR"
# joins two items (EudraCT texts): they stay criteria.
NOT_A_TITLE = re.compile(
    r"(?:notes?|n\.?b\.?|remarks?|comments?|examples?)\b|(?:or|and|and/or|either)\s*:?$",
    re.IGNORECASE,
)
_SMALL_WORDS = frozenset("a an and or of the for in on to with at by vs per from".split())


def ends_criterion(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is criterion text (3+ words, not a heading prefix)."""
    words = text[start:end].split()
    return len(words) >= 3 and words[-1].strip("-:,(").lower() not in _HEADING_PREFIX_WORDS


def title_words(title: str) -> Tuple[int, int]:
    """(capitalised words, words) of a title, small words and numbers left out."""
    capitalised = words = 0
    for word in title.split():
        word = word.strip("()[]/:-,'\"")
        if not word or not word[0].isalpha() or word.lower() in _SMALL_WORDS:
            continue
        words += 1
        capitalised += word[0].isupper()
    return capitalised, words


# A block heading naming a group of participants is also the category of its criteria.
_QUALIFIED_BLOCK = re.compile(
    r"\b(?:for|cohorts?|parts?|groups?|arms?|phase|stage|step|sub-?study|donors?|recipients?"
    r"|partners?|caregivers?|parents?|healthy|controls?|cases?|volunteers?)\b|\s-\s",
    re.IGNORECASE,
)


_NAMES_CRITERIA = re.compile(r"inclusion|exclusion|criteria", re.IGNORECASE)


# Words of a bare block heading ("Key Inclusion Criteria:", "II. EXCLUSION CRITERIA"):
# any other word is a qualifier the criteria keep as their category.
_BARE_BLOCK_WORDS = frozenset(
    "inclusion exclusion non noninclusion criteria criterion requirements eligibility key main the study"
    " trial and or include includes are will be were i ii iii iv v".split()
)
_WORD = re.compile(r"[^\W\d_]+|\d+")


def block_category(heading: str) -> Optional[str]:
    """The category a block heading gives, else None.

    A heading naming a group ("Inclusion Criteria for Group 1") or carrying
    any qualifier ("Disease-specific exclusion criteria", "Pre-Operative
    Exclusion Criteria", "Additional inclusion criteria") gives itself; a bare
    one ("Inclusion Criteria:", "Key Exclusion Criteria") gives none.
    """
    if _NAMES_CRITERIA.search(heading) is None:
        return None
    words = [w.lower() for w in _WORD.findall(heading) if not w.isdigit() and len(w) > 1 or w.lower() in "iv"]
    if _QUALIFIED_BLOCK.search(heading) is None and all(w in _BARE_BLOCK_WORDS for w in words):
        return None
    return heading.strip().strip("*_#").rstrip(":： \t").strip()


def lead_in(heading: str) -> Optional[str]:
    """A block heading that is a sentence ("Patients may be eligible for this study if they:")
    as the category of its criteria; None for one that names the criteria."""
    if _NAMES_CRITERIA.search(heading) is not None:
        return None
    return heading.strip().strip("*_#").rstrip(":： \t").strip() or None


def find_colon(text: str, pos: int, end: int) -> int:
    """Offset of the first colon (ASCII or full-width) in text[pos:end], else -1."""
    colon = text.find(":", pos, end)
    wide = text.find("：", pos, colon if colon >= 0 else end)
    return wide if wide >= 0 else colon


def strip_emphasis(text: str, pos: int, end: int) -> Tuple[int, int]:
    """Skip markdown emphasis and heading marks around a line's content."""
    if text[pos] not in "*_#" and text[end - 1] not in "*_":
        return pos, end
    while pos < end and text[pos] in "*_#":
        pos += 1
    while end > pos and text[end - 1] in "*_":
        end -= 1
    while pos < end and text[pos] in " \t":
        pos += 1
    return pos, end


def opens_list(text: str, node) -> bool:
    """An item ending with a colon and no children yet introduces a list."""
    return node is not None and not node.children and text[node.end - 1] in ":："


def list_goes_on(text: str, previous, node) -> bool:
    """Whether an unindented item still belongs to the implicit list of `previous`.

    Numbered and lettered items of one style go on; others go on while the
    item before ends like a list item (";", ",", ":", "or", "and") or both
    start with the same two words.
    """
    if node.style == previous.style and 0 <= marker_rank(node.style) < 3:
        return True
    if _LIST_GOES_ON.search(text, max(previous.start, previous.end - 8), previous.end):
        return True
    return _first_words(text, previous.start) == _first_words(text, node.start)


_FIRST_MARKERS = frozenset(("1", "a", "A", "i", "I", "01"))


def restarts(marker: str) -> bool:
    """True when a numbered or lettered marker is the first of its list ("1.", "(a)", "i)")."""
    return marker.strip(" \t().)、．*+-•") in _FIRST_MARKERS


def _first_words(text: str, start: int) -> List[str]:
    return text[start:start + 40].lower().split()[:2]
