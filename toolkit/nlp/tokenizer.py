"""The tokenizer every trial pipeline uses, registered for spaCy configs.

scispaCy's combined rule tokenizer on a blank English pipeline. The trained
entity model (`toolkit/nlp/model/`) names it in its config as
`ptk.scispacy_tokenizer.v1`, so the model is trained and run with the same
tokenizer; importing this module registers it.
"""

from __future__ import annotations

from typing import Callable

import spacy
from spacy.language import Language

TOKENIZER_NAME = "ptk.scispacy_tokenizer.v1"


@spacy.registry.tokenizers(TOKENIZER_NAME)
def create_scispacy_tokenizer() -> Callable[[Language], object]:
    """Config factory: scispaCy's `combined_rule_tokenizer` for the pipeline being built."""
    from scispacy.custom_tokenizer import combined_rule_tokenizer

    def make(nlp: Language):
        if getattr(nlp, "tokenizer", None) is None:  # called while the pipeline is built
            nlp.tokenizer = spacy.registry.tokenizers.get("spacy.Tokenizer.v1")()(nlp)
        return combined_rule_tokenizer(nlp)

    return make


def make_tokenizer_nlp() -> Language:
    """A blank English pipeline with scispaCy's rule tokenizer and nothing else."""
    nlp = spacy.blank("en")
    nlp.tokenizer = create_scispacy_tokenizer()(nlp)
    return nlp
