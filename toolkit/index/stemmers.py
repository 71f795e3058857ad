"""Word normalisers the analyzer can use: British spellings folded, and two stemmers.

`inflections` (the analyzer's choice) undoes English inflections only:
plurals, -ed, -ing, a final e. `porter` is the Porter stemmer, which also
strips derivational suffixes. Measured on the case table of
`tests/fixtures/search/concepts.json` (`scripts/eval_search.py` prints it),
Porter joins distinct words (hepatitis/hepatic, lactating/lactate,
steroid/steroidal, general/generic, organ/organic, international/internal)
that no query can separate again, while the derivational joins it adds
(pregnant/pregnancy, allergic/allergy) are better made by concept expansion,
which names them explicitly.
"""

from __future__ import annotations

import re

__all__ = ["american", "inflections", "porter", "STEMMERS"]

# British -> American spellings, applied to whole folded words (both sides of the index).
_OUR = re.compile(r"(tum|col|behavi|fav|lab|hon|hum|od|vap|rum|neighb|flav|harb|rig)our")
_ISE = re.compile(r"(?<=[a-z]{4})is(e|ed|es|ing|ation|ations|er|ers)$")
_RE = re.compile(r"(?<=[a-z][a-z])(t|b)re(s?)$")
_OE_START = re.compile(r"^oe(?=d|s|st)")
_OEA = re.compile(r"(?<=[nh])oea")
_WORDS = {"coeliac": "celiac", "foetal": "fetal", "foetus": "fetus", "foetuses": "fetuses", "ageing": "aging",
          "programme": "program", "programmes": "programs", "grey": "gray", "sulphate": "sulfate",
          "sulphur": "sulfur", "aluminium": "aluminum", "manoeuvre": "maneuver", "orthopaedic": "orthopedic"}
_BRITISH_HINTS = ("ae", "our", "is", "re", "oe", "ph", "ei", "mme", "ey", "ium")


def american(word: str) -> str:
    """The American spelling of a folded word (tumour -> tumor, anaemia -> anemia, randomised -> randomized)."""
    if not any(hint in word for hint in _BRITISH_HINTS):
        return word
    if word in _WORDS:
        return _WORDS[word]
    if "ae" in word[1:]:
        word = word[0] + word[1:].replace("ae", "e")
    if "oe" in word:
        word = _OEA.sub("ea", _OE_START.sub("e", word))
        word = word.replace("sulph", "sulf")
    if "our" in word:
        word = _OUR.sub(r"\1or", word)
    if "is" in word:
        word = _ISE.sub(r"iz\1", word)
    if word.endswith(("re", "res")):
        word = _RE.sub(r"\1er\2", word)
    return word


# Plurals that are not the singular plus -s, and words whose -ing/-ed is not an inflection to undo.
_IRREGULAR = {
    "women": "woman", "men": "man", "children": "child", "feet": "foot", "teeth": "tooth", "mice": "mouse",
    "people": "person", "data": "datum", "criteria": "criterion", "phenomena": "phenomenon",
    "metastases": "metastasis", "diagnoses": "diagnosis", "prognoses": "prognosis", "analyses": "analysis",
    "prostheses": "prosthesis", "hypotheses": "hypothesis", "crises": "crisis", "stenoses": "stenosis",
    "thromboses": "thrombosis", "psychoses": "psychosis", "neuroses": "neurosis", "fibroses": "fibrosis",
    "necroses": "necrosis", "anastomoses": "anastomosis", "dermatoses": "dermatosis", "paralyses": "paralysis",
    "dialyses": "dialysis", "syntheses": "synthesis", "parentheses": "parenthesis", "scleroses": "sclerosis",
    "hepatitides": "hepatitis", "arthritides": "arthritis", "indices": "index", "appendices": "appendix",
    "vertebrae": "vertebra", "larvae": "larva", "bacteria": "bacterium", "emboli": "embolus", "thrombi": "thrombus",
}
_KEEP = frozenset({
    "nursing", "lactating", "during", "morning", "evening", "thing", "things", "nothing", "something",
    "anything", "everything", "string", "strings", "ring", "rings", "king", "bring", "spring", "sibling",
    "siblings", "wedding", "dressing", "dressings", "ceiling", "lactated", "seed", "need", "feed", "bleed",
    "breed", "speed", "exceed", "proceed", "succeed", "indeed", "news", "lens", "series", "species",
    "diabetes", "herpes", "rabies", "scabies", "measles", "mumps", "rickets", "aids", "always", "perhaps",
    "whereas", "was", "has", "does", "is", "this", "thus", "yes", "less", "unless", "gas", "bias", "atlas",
    "pancreas", "fungus", "virus", "status", "fetus", "uterus", "plus", "versus", "focus", "nucleus",
    "stimulus", "sinus", "thymus", "bronchus", "onus", "census", "consensus", "corpus", "glomerulus",
})
_DOUBLE = re.compile(r"([bdfgkmnprtv])\1$")
_VOWEL = re.compile(r"[aeiouy]")


def inflections(word: str) -> str:
    """A folded word without its inflection: allergies -> allergy, received/receiving/receive -> receiv.

    Derivational suffixes stay (hepatic vs hepatitis, steroidal vs steroid); a
    final e goes so that a verb's forms meet (smoke, smoking, smoked -> smok).
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word in _IRREGULAR:
        return _drop_e(_IRREGULAR[word])
    if word in _KEEP:
        return word
    base = _strip_plural(word)
    if base is word:
        base = _strip_verb(word)
    return _drop_e(base)


def _strip_plural(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ys", "as", "os")):
        return word[:-1]
    return word


def _strip_verb(word: str) -> str:
    for suffix in ("ing", "ed"):
        if word.endswith(suffix):
            base = word[: -len(suffix)]
            if len(base) < 4 or not _VOWEL.search(base) or base.endswith("e") and suffix == "ed":
                return word
            if base.endswith("i") and suffix == "ed":  # studied -> study
                return base[:-1] + "y"
            return _DOUBLE.sub(r"\1", base)
    return word


def _drop_e(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("e") and not word.endswith(("ee", "ye")) else word


def porter(word: str) -> str:
    """The Porter stemmer (Whoosh's), for comparison: `scripts/eval_search.py`."""
    from whoosh.lang.porter import stem

    return stem(word)


STEMMERS = {"inflections": inflections, "porter": porter}
