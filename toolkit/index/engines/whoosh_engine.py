"""The Whoosh engine (default; pure Python)."""

from __future__ import annotations

from collections import Counter
from itertools import islice
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from whoosh import columns as wc
from whoosh import fields as wf
from whoosh import index as windex
from whoosh import query as wq
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.matching import NullMatcher
from whoosh.query.spans import Span, SpanNear2

from toolkit.errors import SearchIndexError
from toolkit.index.engines.base import Engine, Hit, best_trials_kept
from toolkit.index.engines.whoosh_codec import WriteCodec, install as _compact_pickles
from toolkit.index.engines.whoosh_columns import DistinctBytes, StoredBlocks
from toolkit.index.engines.whoosh_fields import PreAnalyzedText, PreSplitKeywords
from toolkit.index.engines.whoosh_filters import FilterCache, MaskSet, hundredths, members, split_filters
from toolkit.index.engines.whoosh_phrases import install as _rarest_first_phrases
from toolkit.index.engines.whoosh_postings import install as _bisecting_skips
from toolkit.index.engines.whoosh_writer import PlainWriter
from toolkit.index.query import All, And, Node, Not, Or, Phrase, Prefix, Range, Word
from toolkit.index.schema import (
    FACET_FIELD, FIELDS, KEYS_FIELD, STORED, TRIAL_NUMBER, facet_terms, facets_of_terms, keyword_term,
)

__all__ = ["WhooshEngine", "ENGINE"]

INDEX_NAME = "criteria"
_FACET_JOIN = "\x1f"
# One column holds every stored field of a document (see `whoosh_columns.StoredBlocks`).
STORED_FIELD = "stored"
_STORED_NAMES = frozenset(STORED) | {"kind_raw"}
_bisecting_skips()
_rarest_first_phrases()
_compact_pickles()


def build_schema() -> wf.Schema:
    """The Whoosh schema from `toolkit.index.schema.FIELDS` (analysis done upstream)."""
    spaces = SpaceSeparatedTokenizer()
    kinds = {
        "id": lambda: wf.ID(unique=True),
        "text": lambda: PreAnalyzedText(analyzer=spaces, phrase=True),
        "number": lambda: wf.NUMERIC(int, bits=32, signed=True, shift_step=32),  # ranges: whoosh_filters
    }
    spec = {name: kinds[kind]() for name, kind in FIELDS.items() if kind != "keyword" and name not in _UNINDEXED}
    spec[KEYS_FIELD] = PreSplitKeywords(scorable=True)  # a length column spares Whoosh a stat() per posting
    spec[STORED_FIELD] = wf.COLUMN(StoredBlocks())
    spec[TRIAL_NUMBER] = wf.COLUMN(wc.NumericColumn("Q"))
    spec[FACET_FIELD] = wf.COLUMN(DistinctBytes())  # a document's facet terms, joined by _FACET_JOIN
    return wf.Schema(**spec)


# Fields no query reads, kept in the stored column only (documents are replaced by `trial_key`).
_UNINDEXED = frozenset({"doc_id"})


class WhooshEngine(Engine):
    """Whoosh index in `path`; `write` is one committed writer."""

    name = "whoosh"

    def __init__(self, path):
        super().__init__(path)
        self._index = None
        self._searcher = None
        self._filters = None
        self._stored = None

    def exists(self) -> bool:
        return self.path.is_dir() and windex.exists_in(str(self.path), indexname=INDEX_NAME)

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self._index = windex.create_in(str(self.path), build_schema(), indexname=INDEX_NAME)

    def _open(self):
        if self._index is None:
            if not self.exists():
                raise SearchIndexError(f"no whoosh index in {self.path}")
            self._index = windex.open_dir(str(self.path), indexname=INDEX_NAME)
        return self._index

    @staticmethod
    def encode(document: dict) -> dict:
        return _whoosh_fields(document)

    def write(self, documents: Iterable[dict], *, delete_keys: Iterable[str] = ()) -> int:
        self._drop_searcher()
        # compound=False: Whoosh reads a compound segment whole into memory on every open
        writer = PlainWriter(self._open(), limitmb=256, codec=WriteCodec(), compound=False)
        added = 0
        try:
            for key in delete_keys:
                writer.delete_by_term("trial_key", key)
            for doc in documents:
                writer.add_document(**doc)
                added += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return added

    def _search_with(self):
        if self._searcher is None:
            self._searcher = self._open().searcher()
        return self._searcher

    def search(self, node: Node, *, limit: Optional[int] = 10) -> List[Hit]:
        searcher = self._search_with()
        query, allowed = self._plan(node)
        if allowed is not None and not allowed:
            return []
        if query is None:  # filters only: every allowed document, in index order
            docnums = list(islice(members(allowed.mask), limit))
            return [Hit(1.0, self._stored_fields(d)) for d in docnums]
        results = searcher.search(query, limit=limit, filter=allowed)
        return [Hit(hit.score or 0.0, self._stored_fields(hit.docnum)) for hit in results]

    def best_trial_hits(self, node: Node, trials: int) -> List[Hit]:
        searcher = self._search_with()
        query, allowed = self._plan(node)
        if query is None or (allowed is not None and not allowed):
            return self.search(node, limit=None)
        matches = searcher.search(query, limit=None, filter=allowed).top_n
        column = searcher.reader().column_reader(TRIAL_NUMBER)
        kept = best_trials_kept([score or 0.0 for score, _ in matches], [column[d] for _, d in matches], trials)
        return [Hit(score or 0.0, self._stored_fields(docnum))
                for (score, docnum), keep in zip(matches, kept) if keep]

    def count(self, node: Node) -> int:
        query, allowed = self._plan(node)
        if query is None:
            return len(allowed)
        return sum(1 for _ in self._matching(query, allowed))

    def tally(self, node: Node, *, by_trial: bool = False) -> Optional[Tuple[int, Dict[str, Dict[str, int]]]]:
        reader = self._search_with().reader()
        if not reader.has_column(FACET_FIELD):
            return None
        facets = reader.column_reader(FACET_FIELD)
        if not by_trial:
            combinations = Counter(facets[d] for d in self._docnums(node))
            counts: Counter = Counter()
            for joined, n in combinations.items():
                for term in _facet_terms_of(joined):
                    counts[term] += n
            return sum(combinations.values()), facets_of_terms(counts.items())
        trials = reader.column_reader(TRIAL_NUMBER)
        combinations = {(trials[d], facets[d]) for d in self._docnums(node)}
        pairs = {(trial, term) for trial, joined in combinations for term in _facet_terms_of(joined)}
        return len({trial for trial, _ in combinations}), facets_of_terms(Counter(term for _, term in pairs).items())

    def stored_values(self, node: Node, names: Iterable[str]) -> List[Dict[str, str]]:
        names = list(names)
        out = []
        for docnum in self._docnums(node):
            stored = self._stored_fields(docnum)
            out.append({n: stored.get(n, "") for n in names})
        return out

    def _stored_fields(self, docnum: int) -> dict:
        """A document's stored fields (a fresh dict)."""
        if self._stored is None:
            reader = self._search_with().reader()
            self._stored = reader.column_reader(STORED_FIELD, translate=False) if reader.has_column(STORED_FIELD) else False
        return dict(self._stored[docnum] or {}) if self._stored is not False else {}

    def _plan(self, node: Node) -> Tuple[Optional[wq.Query], Optional[MaskSet]]:
        """(scored Whoosh query or None, allowed documents or None) of a tree.

        Filter clauses (see `whoosh_filters`) become a cached document mask;
        the rest is translated and scored as before.
        """
        scored, filters = split_filters(node)
        if not filters:
            return translate(node), None
        if self._filters is None:
            self._filters = FilterCache(self._search_with())
        allowed = MaskSet(self._filters.mask(filters))
        if not scored:
            return None, allowed
        return translate(scored[0] if len(scored) == 1 else And(tuple(scored))), allowed

    def _docnums(self, node: Node) -> Iterator[int]:
        return self._matching(*self._plan(node))

    def _matching(self, query: Optional[wq.Query], allowed: Optional[MaskSet]) -> Iterator[int]:
        """Document numbers of a planned query (see `_plan`), matched segment by segment."""
        if query is None:
            return iter(allowed)
        matched = self._search_with().docs_for_query(query)
        return matched if allowed is None else (d for d in matched if d in allowed)

    def _drop_searcher(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self._filters = None
        self._stored = None

    def close(self) -> None:
        self._drop_searcher()
        if self._index is not None:
            self._index.close()
            self._index = None


def _whoosh_fields(doc: dict) -> dict:
    out, keys = {}, []
    stored = {"kind_raw": doc["kind"][0]}
    for name, value in doc.items():
        if value in ("", [], None):
            continue
        if name in _STORED_NAMES:
            stored[name] = value
        kind = FIELDS.get(name)
        if kind == "keyword":
            keys.extend(keyword_term(name, item) for item in value)
        elif kind == "number":
            out[name] = [hundredths(v) for v in value]
        elif (kind is not None and name not in _UNINDEXED) or name == TRIAL_NUMBER:
            out[name] = value  # the TRIAL_NUMBER column passes through as it is
    out[KEYS_FIELD] = " ".join(keys)
    out[STORED_FIELD] = dict(sorted(stored.items()))  # in the order Whoosh's own stored fields had
    out[FACET_FIELD] = _FACET_JOIN.join(facet_terms(doc)).encode("utf-8")
    return out


def _facet_terms_of(joined: bytes) -> List[str]:
    """A document's facet terms, as its facet column holds them (see `_whoosh_fields`)."""
    return joined.decode("utf-8").split(_FACET_JOIN)


def translate(node: Node) -> wq.Query:
    """A resolved query tree (`SearchIndex.resolve`: no fuzzy words) as a Whoosh query."""
    if isinstance(node, And):
        return wq.And([translate(item) for item in node.items])
    if isinstance(node, Or):
        return wq.Or(_or_items(node.items))
    if isinstance(node, Not):
        return wq.Not(translate(node.item))
    if isinstance(node, All):
        return wq.Every()
    if isinstance(node, Word) and FIELDS[node.field] == "keyword":
        return wq.Term(KEYS_FIELD, keyword_term(node.field, node.text))
    if isinstance(node, Prefix) and FIELDS[node.field] == "keyword":
        return wq.Prefix(KEYS_FIELD, keyword_term(node.field, node.text))
    if isinstance(node, Word):
        return wq.Term(node.field, node.text)
    if isinstance(node, Phrase):
        return _Gapped(node.field, [node]) if node.positions else wq.Phrase(node.field, list(node.words))
    if isinstance(node, Prefix):
        return wq.Prefix(node.field, node.text)
    if isinstance(node, Range):
        return wq.NumericRange(node.field, hundredths(node.low), hundredths(node.high))
    raise TypeError(f"cannot translate {node!r}")


def _or_items(items) -> List[wq.Query]:
    """The Whoosh queries of an OR's items, phrases with gaps that share their first and last
    words in one query (a concept's coordinated forms: one pass over the documents, not eight)."""
    out: List[wq.Query] = []
    groups: Dict[tuple, List[Phrase]] = {}
    for item in items:
        if isinstance(item, Phrase) and item.positions:
            groups.setdefault((item.field, item.words[0], item.words[-1]), []).append(item)
        else:
            out.append(translate(item))
    out += [_Gapped(field, phrases) for (field, _, _), phrases in groups.items()]
    return out


class _Gapped(wq.Query):
    """Phrases with gaps ("hepatitis * or c": words at 0, 2, 3) that share their first and
    last words: documents holding both ends (rarest first), each phrase's ends at their
    distance, and only then its inner words ("or") looked up in the few documents left,
    so their long posting lists are skipped through, not walked."""

    def __init__(self, fieldname: str, phrases: List[Phrase]):
        self.fieldname = fieldname
        self.phrases = tuple(phrases)

    def __eq__(self, other):
        return type(other) is type(self) and (self.fieldname, self.phrases) == (other.fieldname, other.phrases)

    def __hash__(self):
        return hash((self.fieldname, self.phrases))

    def __repr__(self):
        return f"_Gapped({self.fieldname!r}, {self.phrases!r})"

    def _ends(self) -> List[wq.Query]:
        first = self.phrases[0]
        return [wq.Term(self.fieldname, first.words[0]), wq.Term(self.fieldname, first.words[-1])]

    def estimate_size(self, ixreader) -> int:
        return min(q.estimate_size(ixreader) for q in self._ends())

    def estimate_min_size(self, ixreader) -> int:
        return 0

    def matcher(self, searcher, context=None):
        ends = [q.matcher(searcher, context) for q in self._ends()]
        if not all(m.is_active() for m in ends):  # a word this segment lacks
            return NullMatcher()
        inner = {w for phrase in self.phrases for w in phrase.words[1:-1]}
        lazy = {w: wq.Term(self.fieldname, w).matcher(searcher, context) for w in inner}
        return _GappedMatcher(ends, self.phrases, lazy)


class _GappedMatcher(SpanNear2.SpanNear2Matcher):
    def __init__(self, ends, phrases, lazy):
        self.ends, self.phrases, self.lazy = ends, phrases, lazy  # set before the first match is sought
        super().__init__(ends)

    def copy(self):
        return self.__class__([m.copy() for m in self.ends], self.phrases,
                              {w: m.copy() for w, m in self.lazy.items()})

    def _get_spans(self):
        firsts = [span.start for span in self.ends[0].spans()]
        lasts = {span.start for span in self.ends[1].spans()}
        spans = set()
        for phrase in self.phrases:
            length = phrase.positions[-1]
            starts = [p for p in firsts if p + length in lasts]
            for word, offset in zip(phrase.words[1:-1], phrase.positions[1:-1]):
                if not starts:
                    break
                here = self._positions(word)
                starts = [p for p in starts if p + offset in here]
            spans.update(Span(p, p + length) for p in starts)
        return sorted(spans)

    def _positions(self, word: str) -> set:
        """Positions of an inner word in the current document."""
        m, doc = self.lazy[word], self.child.id()
        if m.is_active() and m.id() < doc:
            m.skip_to(doc)
        if not m.is_active() or m.id() != doc:
            return set()
        return {span.start for span in m.spans()}


ENGINE = WhooshEngine
