"""Combine the trained model's entities with the rule and vocabulary tags.

Pure functions; `toolkit.nlp.pipeline.EntityTagger` wires them to the doc.

The model (`toolkit/nlp/model/`) finds the spans of six labels: drug,
condition, measurement, procedure, value, temporal. The rules keep what they
are good at:
- a model value or temporal span overlapping a rule value or time window takes
  the rule tag's structured fields (measurement, comparator, number, unit;
  relation, amount, unit, days, direction, anchor) and its label
  (`time_window` stays `time_window`);
- a model drug, condition, measurement or procedure span takes its `norm` and
  id from the vocabularies (the span itself, then the shipped abbreviation
  table, then the longest vocabulary term inside it), else its lower-cased text;
- rule and vocabulary tags the model did not confirm are kept only for the
  labels of `Policy.keep_rules` (measured on the dev part of Chia's training
  split, see `scripts/eval_chia.py --split dev`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

from toolkit.nlp.concepts import Concepts
from toolkit.records import Tag, replace_fields

MODEL_LABELS = ("drug", "condition", "measurement", "procedure", "value", "temporal")
CONCEPT_LABELS = ("drug", "condition", "measurement", "procedure")
# rule / vocabulary tag label -> the model label it competes with
MODEL_LABEL_OF = {"drug": "drug", "condition": "condition", "measurement": "measurement",
                  "procedure": "procedure", "value": "value", "time_window": "temporal", "temporal": "temporal"}
_CURATED = frozenset()  # filled below from data/classes.json
_UNSURE_OVER_TERMS = ("measurement", "value")  # model labels that yield to an exact vocabulary term
_CLAUSE_BREAK = re.compile(r"[;.]\s|\bor\b|\band\b")
_CLAUSE_END = re.compile(r"[;.]\s")  # a sentence or clause ends: links and bounds do not cross it
_LINK_GAP = 40  # characters between a measurement and its value


@dataclass(frozen=True)
class Entity:
    """A model span: label, character offsets and token offsets into the doc."""

    label: str
    start: int
    end: int
    token_start: int
    token_end: int


@dataclass(frozen=True)
class Policy:
    """How model spans and rule tags combine.

    Attributes:
        keep_rules: labels of rule / vocabulary tags kept where no model span
            overlaps them ("drug", "condition", "value", "time_window", "temporal").
        rule_spans: labels whose overlapping rule tag keeps its own span
            (else it takes the model's span and keeps its fields); on dev the
            token-classifier model's temporal spans are worse than the time
            window rules' (strict .397 vs .424), the `ner` model's better.
        coded_only: of the vocabulary's drug and condition tags the model did
            not confirm, keep only those with an id (DrugBank, MeSH), an
            expansion, several words or a curated class norm: single uncoded
            words ("renal", "sensitive", "Symptoms") are the vocabulary's
            most frequent false tags.
    """

    keep_rules: Tuple[str, ...] = ("drug", "condition", "time_window", "temporal", "value")
    rule_spans: Tuple[str, ...] = ("time_window",)
    coded_only: bool = True


def _curated_norms() -> frozenset:
    import json

    from toolkit.nlp.lexicon import DATA_DIR

    data = json.loads((DATA_DIR / "classes.json").read_text(encoding="utf-8"))
    return frozenset(norm for group in data.values() for norm in group)


_CURATED = _curated_norms()


def doc_entities(doc, *, bio: bool = False) -> List[Entity]:
    """The model's entities of a doc: `doc.ents` (`ner`), or the spans of BIO token tags (`bio`: `tagger`)."""
    if bio:
        return bio_entities(doc)
    return [Entity(e.label_, e.start_char, e.end_char, e.start, e.end) for e in doc.ents]


def bio_entities(doc) -> List[Entity]:
    """Spans of BIO token tags ("B-drug", "I-drug", "O").

    An I after another label starts a span; a B right after a span of its own
    label continues it (the token classifier has no transition constraints).
    """
    from spacy.attrs import IDX, LENGTH, TAG

    rows = doc.to_array([TAG, IDX, LENGTH]).tolist()
    parts = _BIO_PARTS
    out: List[Entity] = []
    label, first = None, 0
    for i, (tag_hash, _, _) in enumerate(rows + [[0, 0, 0]]):
        kind_name = parts.get(tag_hash)
        if kind_name is None:
            kind_name = parts[tag_hash] = _bio_parts(doc.vocab.strings[tag_hash] if tag_hash else "O")
        kind, name = kind_name
        if label is None and kind not in ("B", "I"):
            continue  # outside any span
        if label is not None and (kind != "I" or name != label):
            out.append(Entity(label, rows[first][1], rows[i - 1][1] + rows[i - 1][2], first, i))
            label = None
        if kind in ("B", "I") and label is None and name:
            label, first = name, i
            if out and out[-1].label == name and out[-1].token_end == i:  # B right after the same label
                first = out.pop().token_start
    return out


# TAG hash -> (kind, label) of a BIO tag ("B-drug" -> ("B", "drug")); the model has a dozen
_BIO_PARTS: dict = {}


def _bio_parts(tag: str) -> Tuple[str, str]:
    kind, _, name = tag.partition("-")
    return kind, name


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return min(a_end, b_end) - max(a_start, b_start)


def combine(text: str, lowers, tags: Sequence[Tag], ents: Sequence[Entity],
            concepts: Concepts, policy: Policy) -> List[Tag]:
    """The doc's tags with the model's entities folded in (see the module docstring).

    Args:
        text: the doc text.
        lowers: the doc's tokens in the lexicon's key space, or a function returning them (called when needed).
        tags: the rule and vocabulary tags of the doc.
        ents: the model's entities.
        concepts: vocabularies, abbreviation and class tables.
        policy: the combination choices.
    """
    competing = [concepts.checked(t) for t in tags if t.label in MODEL_LABEL_OF] + concepts.table_tags(text)
    out = [t for t in tags if t.label not in MODEL_LABEL_OF]
    used = set()
    trusted = _trusted(text, ents, competing)
    for ent in trusted:
        partners = [i for i, t in enumerate(competing)
                    if MODEL_LABEL_OF[t.label] == ent.label and _overlap(t.start, t.end, ent.start, ent.end) > 0]
        used.update(partners)
        if callable(lowers) and ent.label in CONCEPT_LABELS:
            lowers = lowers()
        out.extend(_entity_tags(text, lowers, ent, [competing[i] for i in partners], concepts, policy))
    taken = [(e.start, e.end) for e in trusted] + [(t.start, t.end) for t in out if t.label in MODEL_LABEL_OF]
    # the shipped tables first, then the longer tag
    order = sorted(range(len(competing)), key=lambda i: (not competing[i].attrs.get("table"),
                                                         competing[i].start - competing[i].end, i))
    for i in order:
        tag = competing[i]
        if i in used or not _kept(tag, policy):
            continue
        if tag.label != "time_window" and any(
                _overlap(tag.start, tag.end, s, e) > 0 and not _nested(tag, s, e, trusted) for s, e in taken):
            continue  # the model gave this text another label (a time window stays: its fields are structured)
        out.append(_untabled(tag))
        taken.append((tag.start, tag.end))
    return out


def _untabled(tag: Tag) -> Tag:
    """A tag without the internal `table` mark of the shipped-table ruler."""
    if "table" not in tag.attrs:
        return tag
    return replace_fields(tag, attrs={k: v for k, v in tag.attrs.items() if k != "table"})


def _trusted(text: str, ents: Sequence[Entity], competing: Sequence[Tag]) -> List[Entity]:
    """The model spans that overrule the vocabularies.

    A model span inside a longer vocabulary term of another label gives way to
    it ("AMG" of "AMG 103"), and so does a measurement or value span that is
    exactly a drug or condition term ("Burkitt's leukemia"); so does a drug or condition span made of
    vocabulary terms only, some of the other of those two labels ("ACE
    inhibitor intolerance": a drug and a condition).
    """
    terms = [t for t in competing if t.label in ("drug", "condition")]
    out = []
    for ent in ents:
        inside = any(t.label != ent.label and t.start <= ent.start and ent.end <= t.end
                     and (t.end - t.start > ent.end - ent.start or ent.label in _UNSURE_OVER_TERMS) for t in terms)
        within = [t for t in terms if ent.start <= t.start and t.end <= ent.end]
        mixed = (ent.label in ("drug", "condition") and any(t.label != ent.label for t in within)
                 and _covers(text, within, ent))
        if not inside and not mixed:
            out.append(ent)
    return out


def _nested(tag: Tag, start: int, end: int, trusted: Sequence[Entity]) -> bool:
    """Whether a shipped-table term lies strictly inside a model span of another label ("allergy to HCQ").

    Chia nests such spans; the model keeps one layer, the curated tables add
    the inner one (all vocabulary terms nested so cost precision on dev).
    """
    if not tag.attrs.get("table") or not (start <= tag.start and tag.end <= end) or (start, end) == (
            tag.start, tag.end):
        return False
    return any(e.start == start and e.end == end and e.label != tag.label for e in trusted)


def _covers(text: str, tags: Sequence[Tag], ent: Entity) -> bool:
    """Whether the tags cover every word of a span."""
    rest = list(text[ent.start:ent.end])
    for tag in tags:
        rest[tag.start - ent.start:tag.end - ent.start] = " " * (tag.end - tag.start)
    return not "".join(rest).strip()


def _kept(tag: Tag, policy: Policy) -> bool:
    if tag.attrs.get("table"):
        return True
    if tag.label not in policy.keep_rules:
        return False
    if not policy.coded_only or tag.label not in CONCEPT_LABELS:
        return True
    return bool(tag.code or tag.attrs.get("expansion")) or " " in tag.text.strip() or tag.norm in _CURATED


def _entity_tags(text: str, lowers: Sequence[str], ent: Entity, partners: List[Tag], concepts: Concepts,
                 policy: Policy) -> List[Tag]:
    """The tags one model span becomes."""
    span_text = text[ent.start:ent.end]
    if ent.label in ("value", "temporal") and partners:
        if _separate(text, partners) or any(p.label in policy.rule_spans for p in partners):
            return partners  # distinct structured tags in one model span: each keeps its own
        best = max(partners, key=lambda p: (_overlap(p.start, p.end, ent.start, ent.end), p.end - p.start))
        return [replace_fields(best, text=span_text, start=ent.start, end=ent.end)]
    longer = [p for p in partners if p.start <= ent.start and ent.end <= p.end and p.end - p.start > ent.end - ent.start]
    if longer:
        return [max(longer, key=lambda p: p.end - p.start)]  # part of a vocabulary term ("AMG" of "AMG 103")
    if ent.label in CONCEPT_LABELS:
        key = " ".join(w for w in lowers[ent.token_start:ent.token_end] if w)
        label = concepts.table_label(span_text) or ent.label
        norm, code, extra = concepts.concept(span_text, key, label, partners)
        return [Tag(label, span_text, ent.start, ent.end, norm=norm, code=code, attrs=extra)]
    return [Tag(ent.label, span_text, ent.start, ent.end, norm=span_text.lower())]


_WORD = re.compile(r"[A-Za-z]{2,}")


def _separate(text: str, partners: Sequence[Tag]) -> bool:
    """Whether rule tags are distinct values: two words between two of them ("50% for participants < 16"),
    or one between two bounds ("> 1 month and < 18 years")."""
    ordered = sorted(partners, key=lambda p: p.start)
    return any(_WORD.search(text, a.end, max(a.end, b.start)) and (a.comparator and b.comparator or len(
        _WORD.findall(text, a.end, max(a.end, b.start))) >= 2) for a, b in zip(ordered, ordered[1:]))


def link_values(text: str, tags: Sequence[Tag]) -> List[Tag]:
    """Values linked to the measurement they are about (the nearest before them in the clause).

    A linked value gets the measurement's norm as `measurement` (when the value
    rules found none) and `attrs["measurement_span"]`; the measurement gets
    `attrs["value_span"]`.
    """
    measurements = [t for t in tags if t.label == "measurement"]
    if not measurements:
        return list(tags)
    links = {}
    values = [t for t in tags if t.label == "value"]
    for value in values:
        found = _nearest_before(text, value, measurements)
        if found is not None and any(found.end <= v.start < value.start for v in values):
            found = None  # the measurement's own value comes first ("ECOG <= 2 for participants >= 16 years")
        if found is not None:
            links[id(value)] = found
    out = []
    value_of = {id(m): v for v_id, m in links.items() for v in tags if id(v) == v_id}
    for tag in tags:
        if id(tag) in links:
            m = links[id(tag)]
            tag = replace_fields(tag, measurement=m.norm or m.text.lower(),
                                 attrs={**tag.attrs, "measurement_span": [m.start, m.end]})
        elif id(tag) in value_of:
            v = value_of[id(tag)]
            tag = replace_fields(tag, attrs={**tag.attrs, "value_span": [v.start, v.end]})
        out.append(tag)
    return out


def _same_clause(text: str, start: int, end: int) -> bool:
    """No sentence or clause ends between `start` and `end` (`start <= end`)."""
    return _CLAUSE_END.search(text, start, end) is None


def _nearest_before(text: str, value: Tag, candidates: Iterable[Tag]) -> Optional[Tag]:
    before = [c for c in candidates if c.end <= value.start and value.start - c.end <= _LINK_GAP
              and _same_clause(text, c.end, value.start)]
    return max(before, key=lambda c: c.end) if before else None


BOUNDED_LABELS = ("drug", "procedure", "condition")


def bind_windows(text: str, tags: Sequence[Tag]) -> List[Tag]:
    """Time windows naming the drug, procedure or condition they limit (`bounds`).

    The bounded entity is the nearest one before the window in its clause
    ("rituximab within 4 weeks"), else the first one after it ("within 4 weeks
    of rituximab"). `bounds` is its norm; `attrs["bounds_span"]` its offsets.
    """
    targets = [t for t in tags if t.label in BOUNDED_LABELS]
    if not targets:
        return list(tags)
    out = []
    for tag in tags:
        if tag.label == "time_window" and tag.bounds is None:
            target = _bounded(text, tag, targets)
            if target is not None:
                tag = replace_fields(tag, bounds=target.norm or target.text.lower(),
                                     attrs={**tag.attrs, "bounds_span": [target.start, target.end]})
        out.append(tag)
    return out


def _bounded(text: str, window: Tag, targets: Sequence[Tag]) -> Optional[Tag]:
    """The nearest target before the window in its clause, else the one it counts from ('at least 2 weeks
    from major surgery'), else the first after it."""
    before = [t for t in targets if t.end <= window.start and _same_clause(text, t.end, window.start)]
    if before:
        return _head(text, before, max(before, key=lambda t: (t.end, t.end - t.start)))
    inside = [t for t in targets if t.start >= window.start and t.end <= window.end and window.direction == "after"]
    if inside:
        return inside[0]
    after = [t for t in targets if t.start >= window.end and _same_clause(text, window.end, t.start)]
    return min(after, key=lambda t: (t.start, -(t.end - t.start))) if after else None


_FOR_OR_ON = re.compile(r"[\s),]*\b(?:for|on)\s+(?:the\s+)?", re.I)


def _head(text: str, candidates: Sequence[Tag], nearest: Tag) -> Tag:
    """'surgery for brain metastases', 'psychotherapy for depression': the treatment, not the condition it treats."""
    if nearest.label != "condition":
        return nearest
    treatments = [t for t in candidates if t.end <= nearest.start and t.label in ("drug", "procedure")]
    head = max(treatments, key=lambda t: t.end) if treatments else None
    return head if head is not None and _FOR_OR_ON.fullmatch(text, head.end, nearest.start) else nearest
