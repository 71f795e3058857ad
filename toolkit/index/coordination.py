"""A concept's words as a phrase, and coordinated with other words around "or"/"and".

"hepatitis B or C" names hepatitis C, "alcohol or drug abuse" names alcohol abuse;
"organ dysfunction precluding transplantation" names no organ transplant. The
phrases have gaps (`Phrase.positions`); each engine matches them exactly.
"""

from __future__ import annotations

from itertools import product
from typing import List, Tuple

from toolkit.index.query import Phrase

__all__ = ["COORDINATORS", "coordinated_phrases"]

# Words that join two modifiers of one head ("alcohol or drug abuse") or two heads of one
# modifier ("hepatitis B or C"), so that the concept is named through them.
COORDINATORS = ("or", "and")
# At most this many other words coordinated in ("hepatitis A, B or C": 2).
_MAX_COORDINATED = 2
# Word parts a hyphen joins to a word ("anti-platelet", "hypo-thyroidism"): never coordinated.
_BOUND_PREFIXES = frozenset("""
anti non pre post co re sub semi multi self hyper hypo intra inter extra trans ultra pro de un bi tri mid over under
counter pseudo peri para neo
""".split())


def coordinated_phrases(field: str, words: Tuple[str, ...]) -> List[Phrase]:
    """A concept's words as a phrase, also coordinated with other words.

    For `hepatitis c`: "hepatitis c", "hepatitis * or c" (hepatitis B or C),
    "hepatitis * * and c" (hepatitis A, B and C); for `alcohol abuse`: also
    "alcohol or * abuse" (alcohol or drug abuse). The words are not found
    apart ("organ dysfunction precluding transplantation" is no organ transplant),
    and a hyphenated word is not coordinated ("anti-platelet").
    """
    out = [Phrase(field, words)]
    if _BOUND_PREFIXES.intersection(words):
        return out
    for split in range(1, len(words)):
        for coordinator, others in product(COORDINATORS, range(1, _MAX_COORDINATED + 1)):
            coordinated = (*words[:split], coordinator, *words[split:])
            right = tuple(range(split + others + 1, len(words) + others + 1))
            out.append(Phrase(field, coordinated, (*range(split), split + others, *right)))  # "hepatitis * or c"
            out.append(Phrase(field, coordinated, (*range(split + 1), *right)))  # "alcohol or * abuse"
    return out
