"""Tags do not depend on how criteria reach the tagger: batch size, doc construction, matrix-product backend.

`scripts/compare_tags.py` checks the same against the tags of the code before a
change, on every shared record; these tests keep the invariants the faster
paths rely on, on real records of a shipped slice.
"""

from __future__ import annotations

import itertools

import pytest
from thinc.api import NumpyOps

from conftest import V2_ARRAYS, data_path
from toolkit.ingest import iter_parsed
from toolkit.nlp import _group_tags, get_nlp, tag_record, tag_records, tag_texts
from toolkit.nlp.lexicon import doc_text, text_doc
from toolkit.nlp.ops import OneThreadBlasOps

pytestmark = pytest.mark.slow
RECORDS = 40


@pytest.fixture(scope="module")
def records():
    parsed = (o.record for o in iter_parsed([str(data_path("ctgov-v2", V2_ARRAYS[1]))]))
    with_criteria = (r for r in parsed if r is not None and r.eligibility and r.eligibility.criteria)
    return list(itertools.islice(with_criteria, RECORDS))


def _tags(records):
    return [[c.tags for c in r.all_criteria()] for r in records]


@pytest.mark.parametrize("per_call", [1, 7, RECORDS])
def test_nlp_batching_records_per_call_do_not_change_tags(records, per_call):
    one_by_one = [tag_record(r) for r in records]
    batched = [r for first in range(0, len(records), per_call) for r in tag_records(records[first:first + per_call])]
    assert any(any(tags) for tags in _tags(one_by_one))
    assert _tags(batched) == _tags(one_by_one)


def test_nlp_batching_doc_made_knowing_its_text_is_the_tokenised_text(records):
    nlp = get_nlp()
    for criterion in (c for r in records for c in r.all_criteria()):
        doc = text_doc(nlp, criterion.text)
        assert doc_text(doc) == doc.text == criterion.text


def test_nlp_batching_plain_docs_tag_like_docs_knowing_their_text(records):
    nlp = get_nlp()
    texts = [c.text for c in records[0].all_criteria()]
    plain = _group_tags(nlp, list(nlp.pipe(texts)))  # the record-level step of both; doc.text joined from tokens
    assert plain == tag_texts(texts)


def test_nlp_batching_numpy_blas_products_tag_like_thinc_blis(records):
    nlp = get_nlp()
    layers = [layer for _, pipe in nlp.pipeline if hasattr(getattr(pipe, "model", None), "walk")
              for layer in pipe.model.walk()]
    assert layers and all(isinstance(layer.ops, OneThreadBlasOps) for layer in layers)
    fast = _tags(tag_records(records))
    try:
        blis = NumpyOps(use_blis=True)
        for layer in layers:
            layer.ops = blis
        assert _tags(tag_records(records)) == fast
    finally:
        for layer in layers:
            layer.ops = OneThreadBlasOps()
