"""Records to engine-ready documents, in this process or in worker processes.

Building documents (decoding a stored record, analysing its texts, encoding
each document for the engine) is pure Python and independent per trial, so
`encoded_units` can spread it over worker processes while the calling process
only writes. Items are records or the store's `StoredBody` rows: bodies
travel to workers cheaply, records do not.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from itertools import islice
from typing import Dict, Iterable, Iterator, List, Tuple

from toolkit.index.analysis import analyze, words
from toolkit.index.documents import record_documents, trial_key
from toolkit.index.engines import engine_class
from toolkit.index.term_lists import document_terms
from toolkit.records import TrialRecord

__all__ = ["EncodedUnit", "encode_unit", "encoded_units", "UNIT_TRIALS"]

# Trials per unit of work handed to a worker: small enough to keep every worker busy.
UNIT_TRIALS = 100


@dataclass
class EncodedUnit:
    """The encoded documents of a few trials, in input order."""

    trials: List[Tuple[str, list]] = field(default_factory=list)  # (trial key, encoded documents)
    vocabulary: set = field(default_factory=set)
    terms: Dict[str, set] = field(default_factory=dict)  # text field -> its terms (see toolkit.index.term_lists)
    compounds: Dict[str, set] = field(default_factory=dict)  # joined word -> its hyphenated parts (see below)
    failed: List[str] = field(default_factory=list)


def encode_unit(engine_name: str, items: List, first: int = 0) -> EncodedUnit:
    """Documents of `items` (records or `StoredBody` rows) encoded for an engine.

    A record that cannot be decoded or turned into documents is reported in
    `failed` (by trial key, else by its position `first + i` in the input)
    and the others are kept.
    """
    from toolkit.store import decode_body

    encode = engine_class(engine_name).encode
    unit = EncodedUnit()
    for offset, item in enumerate(items):
        key = _label(item, first + offset)
        try:
            record = item if isinstance(item, TrialRecord) else decode_body(item.codec, item.body)
            key = trial_key(record.registry, record.trial_id)
            documents = list(record_documents(record))
            encoded = [encode(doc) for doc in documents]
        except Exception as exc:  # a malformed record must not stop the others
            unit.failed.append(f"{key}: {type(exc).__name__}: {exc}")
            continue
        unit.trials.append((key, encoded))
        for doc in documents:
            document_terms(doc, unit.terms)
        for doc in documents[1:]:  # criterion documents (the first is the trial's)
            unit.vocabulary.update(vocabulary_words(doc["text_raw"]))
            hyphen_compounds(doc["text_raw"], unit.compounds)
    return unit


_HYPHENATED = re.compile(r"\b([A-Za-z]{2,})-([A-Za-z]{2,})\b")


def hyphen_compounds(text: str, into: Dict[str, set]) -> None:
    """Add the hyphenated words of a text: {analyzed joined word: {(part stems)}}.

    "wash-out" gives washout -> (wash, out), so that the query `washout` also
    finds "wash-out" and "wash out".
    """
    if "-" not in text:
        return
    for first, second in _HYPHENATED.findall(text):
        joined = analyze(first + second)
        if len(joined) == 1:
            into.setdefault(joined[0], set()).add(tuple(analyze(first) + analyze(second)))


def _label(item, position: int) -> str:
    """How a failure names an item before it is decoded."""
    registry, trial_id = getattr(item, "registry", None), getattr(item, "trial_id", None)
    return trial_key(registry, trial_id) if registry and trial_id else f"record #{position}"


def vocabulary_words(text: str) -> Iterator[str]:
    """The words of a criterion kept for "did you mean" suggestions."""
    return (word for word in words(text) if len(word) >= 3 and word.isalpha())


def encoded_units(engine_name: str, items: Iterable, *, jobs: int = 1) -> Iterator[EncodedUnit]:
    """Encoded units of `UNIT_TRIALS` items, in input order; `jobs > 1` uses worker processes."""
    units = _numbered_chunks(items, UNIT_TRIALS)
    if jobs <= 1:
        for first, chunk in units:
            yield encode_unit(engine_name, chunk, first)
        return
    from toolkit.workers import in_processes

    # the toolkit's process pool: at most a few units in flight, so memory stays flat
    yield from in_processes(functools.partial(_encode_numbered, engine_name), units, jobs=jobs)


def _encode_numbered(engine_name: str, unit: Tuple[int, list]) -> EncodedUnit:
    first, chunk = unit
    return encode_unit(engine_name, chunk, first)


def _numbered_chunks(items: Iterable, size: int) -> Iterator[Tuple[int, list]]:
    iterator, first = iter(items), 0
    while True:
        chunk = list(islice(iterator, size))
        if not chunk:
            return
        yield first, chunk
        first += len(chunk)
