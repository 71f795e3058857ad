"""The tantivy engine (optional extra `ptk[tantivy]`; Rust, much faster)."""

from __future__ import annotations

import base64
from typing import Dict, Iterable, List, Optional, Tuple

import orjson
import tantivy

from toolkit.errors import SearchIndexError
from toolkit.index.engines.base import Engine, Hit
from toolkit.index.query import All, And, Node, Not, Or, Phrase, Prefix, Range, Word
from toolkit.index.schema import (
    FACET_FIELD, FIELDS, KEYS_FIELD, STORED, TRIAL_NUMBER, facet_terms, facets_of_terms, indexed_fields, keyword_term,
)

__all__ = ["TantivyEngine", "ENGINE"]

BLOB = "_stored"
MARKER = "meta.json"
WRITER_HEAP = 256_000_000


def build_schema() -> tantivy.Schema:
    """The tantivy schema from `toolkit.index.schema.FIELDS` (analysis done upstream)."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(KEYS_FIELD, tokenizer_name="raw", index_option="basic")
    for name, kind in FIELDS.items():
        if kind == "id":
            builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
        elif kind == "text":
            builder.add_text_field(name, tokenizer_name="whitespace", index_option="position")
        elif kind == "number":
            builder.add_float_field(name, indexed=True, fast=True)
    builder.add_bytes_field(BLOB, stored=True)
    builder.add_unsigned_field(TRIAL_NUMBER, indexed=True, fast=True)
    builder.add_text_field(FACET_FIELD, tokenizer_name="raw", index_option="basic", fast=True)
    return builder.build()


class TantivyEngine(Engine):
    """tantivy index in `path`; stored fields travel as one JSON blob."""

    name = "tantivy"

    def __init__(self, path):
        super().__init__(path)
        self._index = None
        self._searcher = None
        self._schema = None

    def exists(self) -> bool:
        return (self.path / MARKER).is_file()

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self._index = tantivy.Index(build_schema(), path=str(self.path))

    def _open(self) -> tantivy.Index:
        if self._index is None:
            if not self.exists():
                raise SearchIndexError(f"no tantivy index in {self.path}")
            self._index = tantivy.Index.open(str(self.path))
        return self._index

    @staticmethod
    def encode(document: dict) -> str:
        return _tantivy_json(document)

    def write(self, documents: Iterable[str], *, delete_keys: Iterable[str] = ()) -> int:
        index = self._open()
        try:
            writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
        except ValueError as exc:
            raise SearchIndexError(f"tantivy index {self.path} is locked by another writer: {exc}") from None
        added = 0
        try:
            for key in delete_keys:
                writer.delete_documents_by_term("trial_key", key)
            for doc in documents:
                writer.add_json(doc)
                added += 1
        except BaseException:
            writer.rollback()
            raise
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self._searcher = None
        return added

    def _search_with(self):
        """The index's searcher and schema (kept until the next write)."""
        if self._searcher is None:
            index = self._open()
            self._searcher, self._schema = index.searcher(), index.schema
        return self._searcher, self._schema

    def search(self, node: Node, *, limit: Optional[int] = 10) -> List[Hit]:
        searcher, schema = self._search_with()
        query = translate(node, schema)
        limit = limit if limit is not None else max(1, searcher.num_docs)
        result = searcher.search(query, limit, count=False)
        return [Hit(score, _stored(searcher.doc(address))) for score, address in result.hits]

    def best_trial_hits(self, node: Node, trials: int) -> List[Hit]:
        searcher, schema = self._search_with()
        if not hasattr(searcher, "fast_field_values"):  # an older tantivy reads no column from Python
            return super().best_trial_hits(node, trials)
        query = translate(node, schema)
        kept = _best_trial_numbers(searcher, query, trials)
        if not kept:
            return []
        Q = tantivy.Query
        # the hits of the kept trials only; the trial clause scores 0, so each hit keeps its score
        of_kept = Q.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, Q.boost_query(
            Q.term_set_query(schema, TRIAL_NUMBER, sorted(kept)), 0.0))])
        matches = searcher.search(of_kept, max(1, searcher.num_docs), count=False).hits
        return [Hit(score, _stored(searcher.doc(address))) for score, address in matches]

    def tally(self, node: Node, *, by_trial: bool = False) -> Optional[Tuple[int, Dict[str, Dict[str, int]]]]:
        searcher, schema = self._search_with()
        query = translate(node, schema)
        counts = _term_counts(searcher, query)
        if not by_trial:
            return searcher.search(query, 1, count=True).count, counts
        numbers = _trial_numbers(searcher, query)
        Q = tantivy.Query
        of_trials = Q.boolean_query([
            (tantivy.Occur.Must, Q.term_query(schema, KEYS_FIELD, keyword_term("kind", "trial"))),
            (tantivy.Occur.Must, Q.term_set_query(schema, TRIAL_NUMBER, sorted(numbers)))])
        trial_counts = _term_counts(searcher, of_trials) if numbers else {}
        # polarity is a criterion's, not a trial's: trials with a matching criterion of each polarity
        trial_counts["polarity"] = {value: len(_trial_numbers(searcher, Q.boolean_query([
            (tantivy.Occur.Must, query), (tantivy.Occur.Must, Q.term_query(schema, FACET_FIELD, f"polarity={value}"))])))
            for value in counts.get("polarity", {})}
        return len(numbers), trial_counts

    def count(self, node: Node) -> int:
        searcher, schema = self._search_with()
        return searcher.search(translate(node, schema), 1, count=True).count

    def close(self) -> None:
        self._index = self._searcher = self._schema = None


def _best_trial_numbers(searcher, query, trials: int, first: int = 256) -> set:
    """Trial numbers of the `trials` trials with the best hits, and of every trial tied with the last.

    Reads the best hits only, more of them until the cut is passed (a trial ranks by its best hit,
    as `best_trials_kept` ranks them).
    """
    wanted = first
    while True:
        matches = searcher.search(query, wanted, count=False).hits
        numbers = searcher.fast_field_values(TRIAL_NUMBER, [address for _, address in matches])
        best: Dict[int, float] = {}
        for (score, _), number in zip(matches, numbers):
            best.setdefault(number, round(score, 6))
        ranked = sorted(best.values(), reverse=True)
        cut = ranked[trials - 1] if len(ranked) >= trials else None
        exhausted = len(matches) < wanted
        if exhausted or (cut is not None and round(matches[-1][0], 6) < cut):
            return {number for number, score in best.items() if cut is None or score >= cut}
        wanted *= 4


def _trial_numbers(searcher, query) -> set:
    """The distinct trial numbers of every match (read from the column, not the stored documents)."""
    matches = searcher.search(query, max(1, searcher.num_docs), count=False, order_by_field=TRIAL_NUMBER).hits
    return {number for number, _ in matches}


def _term_counts(searcher, query) -> Dict[str, Dict[str, int]]:
    """{facet: {value: matching documents}} from the facet column."""
    found = searcher.aggregate(query, {"f": {"terms": {"field": FACET_FIELD, "size": _MOST_FACET_TERMS}}})
    return facets_of_terms((bucket["key"], bucket["doc_count"]) for bucket in found["f"]["buckets"])


_MOST_FACET_TERMS = 60_000  # under tantivy's bucket limit (65,000); a corpus has a few hundred
_TEXT_FIELDS = indexed_fields("id") + indexed_fields("text")
_KEYWORD_FIELDS = indexed_fields("keyword")
_NUMBER_FIELDS = indexed_fields("number")


def _tantivy_json(doc: dict) -> str:
    """A document as the JSON tantivy's `add_json` reads (bytes fields in base64).

    One JSON text per document is about twice as fast to build from Python as
    a `tantivy.Document` filled field by field.
    """
    out = {name: doc[name] for name in _TEXT_FIELDS if doc.get(name)}
    out[KEYS_FIELD] = [keyword_term(name, item) for name in _KEYWORD_FIELDS for item in doc.get(name) or ()]
    for name in _NUMBER_FIELDS:
        if doc.get(name):
            out[name] = [float(number) for number in doc[name]]
    stored = {name: doc[name] for name in STORED if doc.get(name)}
    stored["kind"] = doc["kind"][0]
    out[TRIAL_NUMBER] = doc[TRIAL_NUMBER]
    out[FACET_FIELD] = facet_terms(doc)
    out[BLOB] = base64.b64encode(orjson.dumps(stored)).decode("ascii")
    return orjson.dumps(out).decode("utf-8")


def _stored(document: tantivy.Document) -> dict:
    return orjson.loads(bytes(document[BLOB][0]))


def translate(node: Node, schema) -> tantivy.Query:
    """A resolved query tree (`SearchIndex.resolve`: no fuzzy words) as a tantivy query."""
    Q = tantivy.Query
    if isinstance(node, (And, Or)):
        return _boolean(node, schema)
    if isinstance(node, Not):
        return Q.boolean_query([(tantivy.Occur.Must, Q.all_query()),
                                (tantivy.Occur.MustNot, translate(node.item, schema))])
    if isinstance(node, All):
        return Q.all_query()
    if isinstance(node, Word) and FIELDS[node.field] == "keyword":
        return Q.term_query(schema, KEYS_FIELD, keyword_term(node.field, node.text))
    if isinstance(node, Prefix) and FIELDS[node.field] == "keyword":
        return Q.regex_query(schema, KEYS_FIELD, _escape_regex(keyword_term(node.field, node.text)) + ".*")
    if isinstance(node, Word):
        return Q.term_query(schema, node.field, node.text)
    if isinstance(node, Phrase):
        words = list(zip(node.positions, node.words)) if node.positions else list(node.words)
        return Q.phrase_query(schema, node.field, words)
    if isinstance(node, Prefix):
        return Q.regex_query(schema, node.field, _escape_regex(node.text) + ".*")
    if isinstance(node, Range):
        return Q.range_query(schema, node.field, tantivy.FieldType.Float,
                             _bound(node.low), _bound(node.high))
    raise TypeError(f"cannot translate {node!r}")


def _boolean(node, schema) -> tantivy.Query:
    Q = tantivy.Query
    if isinstance(node, Or):
        return Q.boolean_query([(tantivy.Occur.Should, translate(i, schema)) for i in node.items])
    clauses = []
    for item in node.items:
        if isinstance(item, Not):
            clauses.append((tantivy.Occur.MustNot, translate(item.item, schema)))
        else:
            clauses.append((tantivy.Occur.Must, translate(item, schema)))
    if all(occur == tantivy.Occur.MustNot for occur, _ in clauses):
        clauses.append((tantivy.Occur.Must, Q.all_query()))
    return Q.boolean_query(clauses)


def _bound(value: Optional[float]) -> Optional[float]:
    return None if value is None else float(value)


def _escape_regex(text: str) -> str:
    """Escape the characters tantivy's regex syntax treats specially (`\\<` and `\\>` would be word boundaries)."""
    return "".join("\\" + c if c in r".+*?()|[]{}^$\#&~-\"@" else c for c in text)


ENGINE = TantivyEngine
