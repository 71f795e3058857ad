"""Concepts: the norm and id of a tagged span, abbreviations and drug classes.

Shipped tables (in `data/`, each entry with its source):
- `abbreviations.json`: common criteria abbreviations (HCQ, MI, CrCl, ANC,
  ULN, HBV ...) -> long form and label; matched case-sensitively as whole words;
- `drug_classes.json`: drug classes (PD-1 inhibitor, immune checkpoint
  inhibitor, corticosteroid, anticoagulant, CYP3A4 inhibitor ...) -> surface
  forms and member drugs.
The lexicon (`lexicon.json.gz`) gives norms and DrugBank/MeSH ids.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from toolkit.nlp.lexicon import DATA_DIR, LEXICON_PATH, Lexicon, lexicon_key, load_lexicon
from toolkit.records import Tag, replace_fields

CONCEPT_LABELS = ("drug", "condition", "measurement", "procedure")
# (word, norm): a vocabulary norm that names another concept than the word ("refractory" is not a relapse)
_NOT_SYNONYMS = (("refractory", "relapse"),)


_WRONG_NORMS = frozenset(wrong for _, wrong in _NOT_SYNONYMS)


def misnamed(key: str, norm: Optional[str]) -> bool:
    """Whether a vocabulary norm names another concept than the words it was found for."""
    if not norm or norm.lower() not in _WRONG_NORMS:
        return False
    words = key.lower().split()
    return bool(norm) and any(word in words and norm.lower() == wrong and not any(w.startswith(wrong) for w in words)
                              for word, wrong in _NOT_SYNONYMS)


@dataclass(frozen=True)
class Abbreviation:
    """A short form's long form, label and where the expansion is attested."""

    short: str
    long: str
    label: str
    source: str


@dataclass(frozen=True)
class DrugClass:
    """A drug class: its norm, surface forms, member drugs and source."""

    norm: str
    forms: Tuple[str, ...]
    members: Tuple[str, ...]
    source: str


def class_key(text: str) -> str:
    """Letters and digits of a class mention, lower-cased ("Anti-PD-1" -> "antipd1")."""
    return _NOT_KEY.sub("", text.lower())


_NOT_KEY = re.compile(r"[^a-z0-9]")


@lru_cache(maxsize=1)
def load_abbreviations(path: Path = DATA_DIR / "abbreviations.json") -> Dict[str, Abbreviation]:
    """The shipped abbreviation table, short form -> `Abbreviation`."""
    data = json.loads(path.read_text(encoding="utf-8"))["abbreviations"]
    return {short: Abbreviation(short, row["long"], row["label"], row["source"]) for short, row in data.items()}


@lru_cache(maxsize=1)
def load_drug_classes(path: Path = DATA_DIR / "drug_classes.json") -> Dict[str, DrugClass]:
    """The shipped drug-class table, class norm -> `DrugClass`."""
    data = json.loads(path.read_text(encoding="utf-8"))["classes"]
    return {norm: DrugClass(norm, tuple(row["forms"]), tuple(row["members"]), row["source"])
            for norm, row in data.items()}


class Concepts:
    """Vocabularies and tables behind a tag's norm, id and class."""

    def __init__(self, lexicon: Lexicon, abbreviations: Mapping[str, Abbreviation],
                 classes: Mapping[str, DrugClass]):
        self.lexicon = lexicon
        self.abbreviations = dict(abbreviations)
        self.class_of = {class_key(form): cls for cls in classes.values() for form in cls.forms}
        shorts = sorted((s for s, a in self.abbreviations.items() if a.label in CONCEPT_LABELS), key=len, reverse=True)
        self.pattern = re.compile(rf"(?<![\w-])(?:{'|'.join(map(re.escape, shorts))})(?![\w-])") if shorts else None
        self.shorts = tuple(shorts)
        forms = sorted({form for cls in classes.values() for form in cls.forms}, key=len, reverse=True)
        # a class form contains one of these (lower case): a cheap test before the pattern runs
        self.class_triggers = tuple(sorted({_trigger(form) for form in forms}))

        self.class_pattern = re.compile(
            rf"(?<![\w-])(?:{'|'.join(_loose(form) for form in forms)})(?![\w-])", re.IGNORECASE) if forms else None

    def concept(self, text: str, key: str, label: str, partners: Sequence[Tag]) -> Tuple[Optional[str], Optional[str], dict]:
        """(norm, id, attrs) of a span tagged `label`.

        Order: a drug class; the vocabulary entry of the span; a rule tag
        with exactly this span (a record-defined abbreviation); the shipped
        abbreviation table; the longest rule tag inside it; its lower-cased text.

        Args:
            text: the span as written.
            key: the span in the lexicon's key space.
            label: the model's label.
            partners: rule / vocabulary tags of the same label overlapping it.
        """
        drug_class = self.class_of.get(class_key(text)) if label == "drug" else None
        if drug_class is not None:
            return drug_class.norm, None, class_attrs(drug_class)
        exact = [p for p in partners if p.text == text]
        if exact and exact[0].attrs.get("expansion"):
            return exact[0].norm, exact[0].code, {"expansion": exact[0].attrs["expansion"]}
        entry = self.lexicon.lookup(key)
        if entry is not None and not misnamed(key, entry.norm):
            return entry.norm, entry.code, {}
        abbreviation = self.abbreviations.get(text)
        if abbreviation is not None:
            norm, code = self.long_form_concept(abbreviation.long)
            return norm, code, {"expansion": abbreviation.long}
        inside = [p for p in partners if p.norm and not misnamed(p.text, p.norm) and (p.code or " " in p.text)]
        if inside:
            best = max(inside, key=lambda p: p.end - p.start)
            return best.norm, best.code, {}
        return (key or text.lower()), None, {}

    def table_label(self, text: str) -> Optional[str]:
        """The label the shipped tables give a span written exactly as a class form or a short form."""
        if class_key(text) in self.class_of:
            return "drug"
        abbreviation = self.abbreviations.get(text)
        return abbreviation.label if abbreviation is not None and abbreviation.label in CONCEPT_LABELS else None

    def long_form_concept(self, long_form: str) -> Tuple[str, Optional[str]]:
        """(norm, id) of a long form: the vocabulary's for this term, else the long form.

        A vocabulary norm without an id that shares no word with the long form
        is a broader grouping ("myocardial infarction" -> "cardiovascular
        disease"): the long form is kept instead.
        """
        entry = self.lexicon.lookup(lexicon_key(long_form.split()))
        if entry is not None and (entry.code or set(entry.norm.lower().split()) & set(long_form.lower().split())):
            return entry.norm, entry.code
        return long_form, None

    def table_tags(self, text: str) -> List[Tag]:
        """Tags for the drug classes (any case) and abbreviations (case-sensitive) of the shipped tables."""
        out = []
        lower = text.lower()
        if self.class_pattern is not None and any(t in lower for t in self.class_triggers):
            for found in self.class_pattern.finditer(text):
                drug_class = self.class_of[class_key(found.group())]
                out.append(Tag("drug", found.group(), found.start(), found.end(), norm=drug_class.norm,
                               attrs={**class_attrs(drug_class), "table": True}))
        if self.pattern is None or not any(short in text for short in self.shorts):
            return out
        for found in self.pattern.finditer(text):
            if any(t.start < found.end() and found.start() < t.end for t in out):
                continue
            abbreviation = self.abbreviations[found.group()]
            norm, code = self.long_form_concept(abbreviation.long)
            out.append(Tag(abbreviation.label, found.group(), found.start(), found.end(), norm=norm, code=code,
                           attrs={"expansion": abbreviation.long, "table": True}))
        return out

    def checked(self, tag: Tag) -> Tag:
        """A vocabulary tag whose norm names another concept ("Refractory" -> "relapse") renamed by its text."""
        if tag.label in CONCEPT_LABELS and misnamed(tag.text, tag.norm):
            return replace_fields(tag, norm=tag.text.lower(), code=None)
        return tag

    def with_class(self, tag: Tag) -> Tag:
        """A drug tag naming a class, with the class norm and members (other tags unchanged)."""
        if tag.label != "drug":
            return tag
        drug_class = self.class_of.get(class_key(tag.text))
        if drug_class is None:
            return tag
        return replace_fields(tag, norm=drug_class.norm, attrs={**tag.attrs, **class_attrs(drug_class)})


_STEMS = ("pd", "ctla", "checkpoint", "steroid", "corticoid", "coagula", "cyp3a", "ici")


def _trigger(form: str) -> str:
    """A distinctive piece of a class form, lower-cased: a shared stem, else its longest word."""
    lower = form.lower()
    return next((stem for stem in _STEMS if stem in lower), max(re.split(r"[\s-]+", lower), key=len))


def _loose(form: str) -> str:
    """A pattern for a form where spaces and hyphens may be written either way or left out."""
    parts = re.split(r"[\s-]+", form)
    return r"[\s-]?".join(re.escape(part) for part in parts)


def class_attrs(drug_class: DrugClass) -> dict:
    """The attrs a class mention carries."""
    return {"drug_class": drug_class.norm, "members": list(drug_class.members)}


@lru_cache(maxsize=1)
def load_concepts(lexicon_path: Path = LEXICON_PATH) -> Concepts:
    """The shipped lexicon and tables, loaded once."""
    return Concepts(load_lexicon(lexicon_path), load_abbreviations(), load_drug_classes())
