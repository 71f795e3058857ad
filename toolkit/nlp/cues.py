"""Negation and exception cues and the tags they govern.

"no history of HIV" negates the HIV tag; "unless related to Gilbert's
disease" and "with the exception of intrathecal chemotherapy" mark the tags
that follow as exceptions. A cue governs the text after it up to the end of its
clause: the next `.`, `;` or `:`, or the `)` that closes a bracket opened
before the cue.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import List, Sequence

from toolkit.nlp.rules import load_rules
from toolkit.records import Tag, replace_fields

_GOVERNED = {"drug", "condition", "value", "time_window", "temporal"}


@lru_cache(maxsize=1)
def _cue_pattern() -> re.Pattern:
    rules = load_rules()
    exceptions = "|".join(re.escape(cue) for cue in sorted(rules.exception_cues, key=len, reverse=True))
    negations = "|".join(re.escape(cue) for cue in sorted(rules.negation_cues, key=len, reverse=True))
    return re.compile(rf"\b(?:(?P<exception>{exceptions})|(?P<negation>{negations}))\b", re.IGNORECASE)


def find_cues(text: str) -> List[Tag]:
    """Negation and exception cue tags; `attrs["scope"]` is the governed [start, end).

    Args:
        text: a criterion text.

    Returns:
        `negation` and `exception` tags, in text order.
    """
    tags = []
    for match in _cue_pattern().finditer(text):
        label = "exception" if match.group("exception") else "negation"
        if label == "negation" and _is_hyphen_prefix(text, match):
            continue
        scope = (match.end(), _scope_end(text, match.start(), match.end()))
        tags.append(Tag(label, match.group(), match.start(), match.end(),
                        norm=match.group().lower(), attrs={"scope": list(scope)}))
    return tags


def _is_hyphen_prefix(text: str, match: re.Match) -> bool:
    """'non-smoker' and 'no.' are words, not cues."""
    return text[match.end():match.end() + 1] in ("-", ".")


def _scope_end(text: str, cue_start: int, pos: int) -> int:
    depth = text.count("(", 0, cue_start) - text.count(")", 0, cue_start)
    for index in range(pos, len(text)):
        char = text[index]
        if char in ".;:" and not _decimal_point(text, index):
            return index
        if char == ")" and depth > 0:
            return index
    return len(text)


def _decimal_point(text: str, index: int) -> bool:
    return text[index] == "." and 0 < index < len(text) - 1 and text[index + 1].isdigit()


def apply_cues(tags: Sequence[Tag], cues: Sequence[Tag]) -> List[Tag]:
    """Mark the tags each cue governs.

    Negation sets `negated=True` and `cue`; an exception sets `cue` and
    `attrs["exception"] = True`.

    Returns:
        The tags, governed ones replaced.
    """
    return [_governed_by(tag, cues) for tag in tags]


def _governed_by(tag: Tag, cues: Sequence[Tag]) -> Tag:
    if tag.label not in _GOVERNED:
        return tag
    for cue in reversed(cues):  # the nearest cue before the tag governs it
        start, end = cue.attrs["scope"]
        if start <= tag.start and tag.end <= end:
            return _mark(tag, cue)
    return tag


def _mark(tag: Tag, cue: Tag) -> Tag:
    if cue.label == "negation":
        return replace_fields(tag, negated=True, cue=cue.text)
    return replace_fields(tag, cue=cue.text, attrs={**tag.attrs, "exception": True})
