"""The spaCy pipeline: scispaCy tokenizer and abbreviation detector plus the trial taggers.

Components (registered as spaCy factories through the `spacy_factories`
entry-point group, so `nlp.add_pipe("trial_terms")` works in any pipeline):

- `trial_abbreviations`: scispaCy's abbreviation detector, run only on docs
  with a bracket (a definition needs one);
- `trial_terms`: drug and condition tags from the shipped lexicon, with
  abbreviations defined in the doc expanded;
- `trial_time_windows`: time windows with an amount, and other temporal cues;
- `trial_values`: measured values with comparator, number and unit;
- `trial_entities`: the trained model's entities (drug, condition,
  measurement, procedure, value, temporal; `ner` of `toolkit/nlp/model/`)
  combined with the tags above (`toolkit.nlp.entities`): norms and ids from
  the vocabularies, drug classes, values linked to their measurement, time
  windows naming the entity they bound;
- `trial_cues`: negation and exception cues, marking the tags they govern.

`build_nlp` loads the shipped model (tokenizer, `tok2vec`, `ner`) and adds the
trial components after it; without a model folder the pipeline runs on the
vocabularies and rules alone.

Each component reads and extends `doc._.trial_tags` (a list of `Tag`, character
offsets into `doc.text`) and mirrors it in `doc.spans["trial"]`.
"""

from __future__ import annotations

import gc
import threading
from pathlib import Path
import warnings
from typing import List, Optional

from spacy.language import Language
from spacy.tokens import Doc

from toolkit.nlp import cues, entities, terms, timex, values
from toolkit.nlp.concepts import load_concepts
from toolkit.nlp.lexicon import LEXICON_PATH, doc_lowers, doc_text, load_lexicon
from toolkit.nlp.tokenizer import make_tokenizer_nlp
from toolkit.records import Tag

SPAN_KEY = "trial"
COMPONENTS = ("trial_abbreviations", "trial_terms", "trial_time_windows", "trial_values", "trial_entities",
              "trial_cues")
MODEL_DIR = Path(__file__).resolve().parent / "model"
_LOCK = threading.Lock()
_NLP: Optional[Language] = None

if not Doc.has_extension("trial_tags"):
    Doc.set_extension("trial_tags", default=None)


# where spaCy keeps the value of `doc._.trial_tags`; read directly in the hot path
_TAGS_KEY = ("._.", "trial_tags", None, None)


def current_tags(doc: Doc) -> List[Tag]:
    """`doc._.trial_tags` (empty list when unset), without the extension lookup."""
    return doc.user_data.get(_TAGS_KEY) or []


def sorted_tags(tags: List[Tag]) -> List[Tag]:
    """Tags by start offset, the longer first at one start, then by label."""
    return sorted(tags, key=lambda tag: (tag.start, -tag.end, tag.label))


def doc_tags(doc: Doc) -> List[Tag]:
    """The tags the trial components put on a doc, sorted by offset."""
    return sorted_tags(current_tags(doc))


def _extend(doc: Doc, tags: List[Tag]) -> None:
    if tags:
        doc.user_data[_TAGS_KEY] = current_tags(doc) + tags


class AbbreviationGate:
    """scispaCy's abbreviation detector, run only on docs that can define one.

    A definition needs a pair of round brackets ("allogeneic hematopoietic
    stem cell transplant (alloHSCT)": the detector matches the tokens "(" ...
    ")" only); other docs get an empty `doc._.abbreviations` without the
    detector's two matcher passes.
    """

    def __init__(self, nlp: Language, name: str):
        from scispacy.abbreviation import AbbreviationDetector

        self.name = name
        self.detector = AbbreviationDetector(nlp, name=name)
        # an impossible pattern keeps its empty global matcher from warning on every doc
        self.detector.global_matcher.add("trial_no_global_pattern", [[{"ORTH": "\u0000"}]])

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        if "(" in text and ")" in text:
            return self.detector(doc)
        return doc  # `doc._.abbreviations` keeps its default: none


class TermTagger:
    """Drug and condition tags from a lexicon (find, then annotate)."""

    def __init__(self, nlp: Language, name: str, *, lexicon_path: str = ""):
        self.name = name
        self.lexicon = load_lexicon(Path(lexicon_path) if lexicon_path else LEXICON_PATH)

    def __call__(self, doc: Doc) -> Doc:
        found = terms.term_tags(doc, self.lexicon)
        table = terms.abbreviation_table(doc)
        found += terms.abbreviation_tags(doc, table, self.lexicon, terms.covered(found, ("drug", "condition")))
        _extend(doc, found)
        return doc


class TimeWindowTagger:
    """Time windows with an amount, then temporal cues outside them."""

    def __init__(self, nlp: Language, name: str, *, temporal: bool = True):
        self.name = name
        self.temporal = temporal

    def __call__(self, doc: Doc) -> Doc:
        windows = timex.find_time_windows(doc_text(doc))
        taken = terms.covered(windows, ("time_window",))
        found = windows + (timex.find_temporal(doc_text(doc), taken) if self.temporal else [])
        _extend(doc, found)
        return doc


class ValueTagger:
    """Measured values outside the time windows already tagged."""

    def __init__(self, nlp: Language, name: str, *, qualitative: bool = True):
        self.name = name
        self.qualitative = qualitative

    def __call__(self, doc: Doc) -> Doc:
        taken = terms.covered(current_tags(doc), ("time_window",))
        found = values.find_values(doc_text(doc), taken)
        if not self.qualitative:
            found = [tag for tag in found if tag.norm is None]
        _extend(doc, found)
        return doc


class EntityTagger:
    """The model's entities combined with the rule and vocabulary tags (see `toolkit.nlp.entities`)."""

    def __init__(self, nlp: Language, name: str, *, keep_rules=(), rule_spans=(), coded_only: bool = False,
                 lexicon_path: str = ""):
        self.name = name
        self.policy = entities.Policy(tuple(keep_rules), tuple(rule_spans), coded_only)
        self.concepts = load_concepts(Path(lexicon_path) if lexicon_path else LEXICON_PATH)
        self.bio = "tagger" in nlp.pipe_names  # the token-classifier model: entities as BIO tags
        self.model = self.bio or "ner" in nlp.pipe_names

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        tags = current_tags(doc)
        if self.model:
            found = entities.doc_entities(doc, bio=self.bio)
            tags = entities.combine(text, lambda: doc_lowers(doc), tags, found, self.concepts, self.policy)
        else:  # no model in the pipeline: the vocabularies and rules alone
            tags = list(tags) + [t for t in self.concepts.table_tags(text)
                                 if not any(t.start < o.end and o.start < t.end for o in tags)]
        tags = [self.concepts.with_class(tag) for tag in tags]
        tags = entities.bind_windows(text, entities.link_values(text, tags))
        doc.user_data[_TAGS_KEY] = tags
        return doc


class CueTagger:
    """Negation and exception cues; marks governed tags and (`spans=True`) fills `doc.spans`."""

    def __init__(self, nlp: Language, name: str, *, spans: bool = True):
        self.name = name
        self.spans = spans

    def __call__(self, doc: Doc) -> Doc:
        found = cues.find_cues(doc_text(doc))
        tags = cues.apply_cues(current_tags(doc), found) + found
        doc.user_data[_TAGS_KEY] = tags
        if self.spans:
            doc.spans[SPAN_KEY] = [
                span for span in (doc.char_span(t.start, t.end, label=t.label, alignment_mode="expand")
                                  for t in tags) if span is not None
            ]
        return doc


@Language.factory("trial_abbreviations", assigns=["doc._.abbreviations"])
def make_abbreviation_gate(nlp: Language, name: str) -> AbbreviationGate:
    """Factory of `trial_abbreviations` (scispaCy's detector, skipped on docs without brackets)."""
    return AbbreviationGate(nlp, name)


@Language.factory("trial_terms", assigns=["doc._.trial_tags"], default_config={"lexicon_path": ""})
def make_term_tagger(nlp: Language, name: str, lexicon_path: str) -> TermTagger:
    """Factory of `trial_terms` (empty `lexicon_path`: the shipped lexicon)."""
    return TermTagger(nlp, name, lexicon_path=lexicon_path)


@Language.factory("trial_time_windows", assigns=["doc._.trial_tags"], default_config={"temporal": True})
def make_time_window_tagger(nlp: Language, name: str, temporal: bool) -> TimeWindowTagger:
    """Factory of `trial_time_windows`."""
    return TimeWindowTagger(nlp, name, temporal=temporal)


@Language.factory("trial_values", assigns=["doc._.trial_tags"], default_config={"qualitative": True})
def make_value_tagger(nlp: Language, name: str, qualitative: bool) -> ValueTagger:
    """Factory of `trial_values`."""
    return ValueTagger(nlp, name, qualitative=qualitative)


@Language.factory(
    "trial_entities", assigns=["doc._.trial_tags"],
    default_config={"keep_rules": list(entities.Policy().keep_rules), "rule_spans": list(entities.Policy().rule_spans),
                    "coded_only": entities.Policy().coded_only, "lexicon_path": ""},
)
def make_entity_tagger(nlp: Language, name: str, keep_rules: List[str], rule_spans: List[str], coded_only: bool,
                       lexicon_path: str) -> EntityTagger:
    """Factory of `trial_entities` (`keep_rules`, `rule_spans`, `coded_only`: see `toolkit.nlp.entities.Policy`)."""
    return EntityTagger(nlp, name, keep_rules=keep_rules, rule_spans=rule_spans, coded_only=coded_only,
                        lexicon_path=lexicon_path)


@Language.factory("trial_cues", assigns=["doc._.trial_tags", "doc.spans"], default_config={"spans": True})
def make_cue_tagger(nlp: Language, name: str, spans: bool) -> CueTagger:
    """Factory of `trial_cues` (`spans`: mirror the tags in `doc.spans["trial"]`)."""
    return CueTagger(nlp, name, spans=spans)


def load_model_nlp(model_dir: Path = MODEL_DIR) -> Language:
    """The shipped entity model (scispaCy's tokenizer, `tok2vec`, `ner`), or the tokenizer alone without one."""
    import spacy

    if not (model_dir / "meta.json").exists():
        return make_tokenizer_nlp()
    from toolkit.nlp.ops import use_numpy_blas

    # the tokenizer is rebuilt from the config (`toolkit.nlp.tokenizer`), not read from disk
    nlp = spacy.load(model_dir, exclude=["tokenizer"])
    use_numpy_blas(nlp)
    return nlp


def build_nlp(*, spans: bool = False, model: bool = True, model_dir: Path = MODEL_DIR, **configs) -> Language:
    """A new pipeline: the entity model and the trial components.

    Args:
        spans: also mirror the tags in `doc.spans["trial"]` (off for `tag_text`, which reads the tags).
        model: load the entity model (else vocabularies and rules only).
        model_dir: the entity model's folder (default: the shipped one).
        configs: component name -> config overrides (e.g. `trial_entities={"keep_rules": [...]}`).
    """
    nlp = load_model_nlp(model_dir) if model else make_tokenizer_nlp()
    for name in COMPONENTS[:-1]:
        nlp.add_pipe(name, config=configs.get(name, {}))
    nlp.add_pipe("trial_cues", config={"spans": spans})
    return nlp


def get_nlp() -> Language:
    """The process-wide pipeline, built on first use.

    Once built, the objects alive in the process (the pipeline, its lexicon of
    some 200,000 forms, the imported modules) are moved out of the cyclic
    garbage collector's passes (`gc.freeze`): they live as long as the process,
    and rescanning them took 5-8% of the tagging time.
    """
    global _NLP
    with _LOCK:
        if _NLP is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _NLP = build_nlp()
            gc.freeze()
        return _NLP
