"""The adjective of a medical noun and back, for query expansion: psoriasis ~ psoriatic,
endoscopy ~ endoscopic, anemia ~ anemic, sepsis ~ septic.

The analyzer joins inflections only (see `toolkit.index.stemmers`): a derivational
stemmer joins words no query can separate again (hepatitis and hepatic). A plain
query word instead also finds the few forms medical word formation makes of it
(-sis ~ -tic, -y ~ -ic/-ical/-ically, -ia ~ -ic), so the index keeps them apart and
`--exact` still finds the word alone. Pairs whose other form names something else
are left out: diagnosis and diagnostic (a test), hypoglycemia and hypoglycemic (a drug
class), history and historical, crisis and critic.
"""

from __future__ import annotations

from typing import Tuple

__all__ = ["derived_forms"]

# Noun endings whose adjective ends in -ic, -ical, -ically (endoscopy, radiography, neuropathy, atrophy, allergy).
_Y_NOUNS = ("scopy", "graphy", "pathy", "trophy", "ergy")
_Y_ADJECTIVES = ("ic", "ical", "ically")
_Y_ADJECTIVES_LONGEST_FIRST = tuple(sorted(_Y_ADJECTIVES, key=len, reverse=True))
# Words (either form) whose other form means something else.
_APART = frozenset("""
diagnosis diagnostic prognosis prognostic analysis analytic synthesis synthetic hypnosis hypnotic emesis emetic
narcosis narcotic genesis genetic crisis critic hypoglycemia hypoglycemic
""".split())
# Shorter words are left alone.
_MIN_LENGTH = 6


def derived_forms(word: str) -> Tuple[str, ...]:
    """The other forms of a folded word: its adjectives if it is such a noun, its noun
    if it is such an adjective (a form no text uses simply finds nothing)."""
    if len(word) < _MIN_LENGTH or word in _APART:
        return ()
    forms = _adjectives(word) or _nouns(word)
    return tuple(form for form in forms if form not in _APART)


def _adjectives(noun: str) -> Tuple[str, ...]:
    if noun.endswith("sis"):
        return (noun[:-3] + "tic",)  # psoriasis -> psoriatic
    if noun.endswith("ia"):
        return (noun[:-2] + "ic",)  # anemia -> anemic
    if noun.endswith(_Y_NOUNS):
        return tuple(noun[:-1] + end for end in _Y_ADJECTIVES)  # endoscopy -> endoscopic
    return ()


def _nouns(adjective: str) -> Tuple[str, ...]:
    for end in _Y_ADJECTIVES_LONGEST_FIRST:
        if adjective.endswith(end):
            stem = adjective[:-len(end)]
            if (stem + "y").endswith(_Y_NOUNS):
                return (stem + "y", *(stem + other for other in _Y_ADJECTIVES if other != end))
            break
    if adjective.endswith("tic"):
        return (adjective[:-3] + "sis",)  # septic -> sepsis
    if adjective.endswith("ic"):
        return (adjective[:-2] + "ia",)  # ischemic -> ischemia
    return ()
