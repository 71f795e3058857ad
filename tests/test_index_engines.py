"""Index correctness on real records: every engine against a brute-force scan.

The records are the shipped sample plus the first legacy ClinicalTrials.gov
XML studies of the shared bulk download, parsed and tagged by the pipeline.
"""

from __future__ import annotations

import dataclasses
import fcntl
import itertools
import re

import pytest

from conftest import CORPUS, data_path
from toolkit.errors import SearchIndexError
from toolkit.index import Filters, SearchIndex, build_index, compile_query, count_hits, refresh, run_search
from toolkit.index.analysis import analyze
from toolkit.index.concepts import default_concepts
from toolkit.index.engines import engine_class

ENGINES = ("whoosh", "tantivy")
SHARED_SLICE = 200


@pytest.fixture(scope="module")
def records():
    """Real tagged records, one (the last read) per trial."""
    from toolkit.nlp import tag_record
    from toolkit.ingest import iter_parsed

    tarball = data_path("ctgov-xml", "ctgov_xml_2023-02.tar.gz")
    outcomes = itertools.chain(
        iter_parsed([CORPUS / "seed", CORPUS / "ctgov-xml"], tagger=tag_record),
        itertools.islice(iter_parsed([tarball], tagger=tag_record), SHARED_SLICE))
    by_key = {o.record.key: o.record for o in outcomes if o.record is not None}
    return list(by_key.values())


@pytest.fixture(scope="module")
def indexes(records, tmp_path_factory):
    """One built index per engine over `records`."""
    root = tmp_path_factory.mktemp("indexes")
    built = {}
    for engine in ENGINES:
        index = SearchIndex(root, engine=engine)
        index.rebuild(records)
        built[engine] = index
    yield built
    for index in built.values():
        index.close()


# --- the brute-force scan ------------------------------------------------------

def _contains(tokens, words) -> bool:
    n = len(words)
    return any(tuple(tokens[i:i + n]) == words for i in range(len(tokens) - n + 1))


def _mentions(tokens, phrase: str) -> bool:
    """True when the analyzed tokens hold the phrase or one of its synonyms."""
    return any(_contains(tokens, variant) for variant in default_concepts().expand(tuple(analyze(phrase))))


def _tag_tokens(criterion, label):
    values = []
    for tag in criterion.tags:
        if tag.label == label:
            values.append(analyze(tag.text))
            if tag.norm:
                values.append(analyze(tag.norm))
    return values


def scan(records, keep):
    """(trial_id, criterion_id) of every criterion for which keep(record, criterion)."""
    return sorted((r.trial_id, c.id) for r in records for c in r.all_criteria() if keep(r, c))


def hit_ids(index, query, filters=Filters(), *, exact=False):
    """Hits of a query; `exact` leaves concepts out (a scan of the analyzed words is then the answer)."""
    hits = run_search(index, compile_query(query, filters, exact=exact), limit=None)
    return sorted((h.trial_id, h.criterion_id) for h in hits)


# --- term and phrase queries, per polarity --------------------------------------

TEXT_QUERIES = [
    "chemotherapy", "pregnant", "infections", "hepatitis", "steroids", "HIV", "AIDS",
    '"informed consent"', '"within 4 weeks"', '"bone marrow"', '"Kaposi\'s sarcoma"',
    '"graft-versus-host disease"',
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("polarity", [None, "inclusion", "exclusion"])
@pytest.mark.parametrize("query", TEXT_QUERIES)
def test_index_text_query_equals_scan(indexes, records, engine, polarity, query):
    phrase = query.strip('"')
    expected = scan(records, lambda r, c: (polarity is None or c.polarity == polarity)
                    and _mentions(analyze(c.text), phrase))
    assert hit_ids(indexes[engine], query, Filters(polarity=polarity)) == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_index_text_queries_find_something(indexes, engine):
    found = [q for q in TEXT_QUERIES if hit_ids(indexes[engine], q)]
    assert len(found) >= len(TEXT_QUERIES) - 2


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("query,keep", [
    ("pregnant AND lactating", lambda t: "pregnant" in t and "lactating" in t),
    ("pregnant OR lactating", lambda t: "pregnant" in t or "lactating" in t),
    ("pregnant NOT lactating", lambda t: "pregnant" in t and "lactating" not in t),
    ("(infection OR fever) AND active", lambda t: ("infection" in t or "fever" in t) and "activ" in t),
])
def test_index_boolean_query_equals_scan(indexes, records, engine, query, keep):
    expected = scan(records, lambda r, c: keep(set(analyze(c.text))))
    assert expected
    assert hit_ids(indexes[engine], query, exact=True) == expected


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("query,word,distance", [
    ("hiv~", "hiv", 1), ("zidovudne~", "zidovudn", 2), ("pregnancy~1", "pregnancy", 1), ("hepatits~", "hepatit", 2),
])
def test_index_fuzzy_query_equals_scan(indexes, records, engine, query, word, distance):
    """A fuzzy word: any stem keeping its first letter within `distance` Levenshtein edits."""
    def near(token):
        return token[:1] == word[:1] and _levenshtein(token, word) <= distance

    expected = scan(records, lambda r, c: any(near(t) for t in analyze(c.text)))
    assert expected
    assert hit_ids(indexes[engine], query, exact=True) == expected


# --- field filters against the same filters on the records ----------------------

def _age_ok(record, years):
    e = record.eligibility
    low = e.min_age.years if e and e.min_age and e.min_age.years is not None else 0
    high = e.max_age.years if e and e.max_age and e.max_age.years is not None else 999
    return low <= years <= high


def _window_days(criterion):
    days = []
    for tag in criterion.tags:
        if tag.label == "time_window":
            value = next((v for v in (tag.days, tag.high_days, tag.low_days) if v is not None), None)
            if value is not None:
                days.append(value)
    return days


FILTER_CASES = [
    ("status completed", "", Filters(status=("completed",)), lambda r, c: r.status == "COMPLETED"),
    ("status recruiting", "", Filters(status=("RECRUITING", "Active, not recruiting")),  # as the site writes it
     lambda r, c: r.status in ("RECRUITING", "ACTIVE_NOT_RECRUITING")),
    ("phase 2", "", Filters(phase=("2",)), lambda r, c: "PHASE2" in r.phases),
    ("phase field", "phase:2 prior", Filters(), lambda r, c: "PHASE2" in r.phases
     and "prior" in analyze(c.text)),
    ("age 10y", "", Filters(age_years=10), lambda r, c: _age_ok(r, 10)),
    ("age 70y exclusion", "", Filters(age_years=70, polarity="exclusion"),
     lambda r, c: _age_ok(r, 70) and c.polarity == "exclusion"),
    ("window max 4w", "", Filters(window_max_days=28), lambda r, c: any(d <= 28 for d in _window_days(c))),
    ("window 2w-6m", "", Filters(window_min_days=14, window_max_days=182.625),
     lambda r, c: any(14 <= d <= 182.625 for d in _window_days(c))),
    ("type", "type:interventional", Filters(), lambda r, c: r.study_type == "INTERVENTIONAL"),
    ("trial", "trial:NCT06054113", Filters(), lambda r, c: r.trial_id == "NCT06054113"),
    ("country", 'country:"united states"', Filters(),
     lambda r, c: any(l.country == "United States" for l in r.locations)),
    ("drug", "", Filters(drug="zidovudine"),
     lambda r, c: any(_contains(t, ("zidovudin",)) for t in _tag_tokens(c, "drug"))),
    ("condition", "condition:infection", Filters(),
     lambda r, c: any(_contains(t, ("infection",)) for t in _tag_tokens(c, "condition"))),
    ("category", "category:medication", Filters(), lambda r, c: "medication" in analyze(c.category or "")),
    ("status prefix", "status:comp*", Filters(), lambda r, c: (r.status or "").lower().startswith("comp")),
    ("not status", "NOT status:completed", Filters(), lambda r, c: r.status != "COMPLETED"),
    ("status or phase", "status:withdrawn OR phase:2", Filters(),
     lambda r, c: r.status == "WITHDRAWN" or "PHASE2" in r.phases),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name,query,filters,keep", FILTER_CASES, ids=[c[0] for c in FILTER_CASES])
def test_index_field_filter_equals_records(indexes, records, engine, name, query, filters, keep):
    expected = scan(records, keep)
    assert expected, f"the case {name!r} selects nothing in the records"
    assert hit_ids(indexes[engine], query, filters, exact=True) == expected


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("query,filters", [
    ("prior", Filters(age_years=10)), ("", Filters(polarity="exclusion")), ("chemotherapy", Filters()),
    ("hepat* NOT status:completed", Filters(window_max_days=28)),
])
def test_index_count_equals_hits(indexes, engine, query, filters):
    node = compile_query(query, filters)
    hits = run_search(indexes[engine], node, limit=None)
    assert hits
    assert count_hits(indexes[engine], node) == len(hits)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("query,filters", [
    ("chemotherapy", Filters()), ("pregnant OR infection", Filters(polarity="exclusion")), ("weeks", Filters()),
    ("hepat*", Filters(phase=("2",))),
])
@pytest.mark.parametrize("trials", [1, 2, 5, 40])
def test_index_best_trials_are_those_of_every_hit(indexes, engine, query, filters, trials):
    """Grouping reads the trial column: the kept hits are those the ranking of every hit keeps."""
    from toolkit.index.hits import _best_trials

    index = indexes[engine]
    node = index.resolve(compile_query(query, filters))
    every = sorted(index.engine.search(node, limit=None), key=lambda h: (-round(h.score, 6), h.fields["doc_id"]))
    expected = [hit.fields["doc_id"] for hit in _best_trials(every, trials)]
    grouped = run_search(index, compile_query(query, filters), trials=trials)
    assert expected
    assert [f"{h.registry}:{h.trial_id}#{h.criterion_id}" for h in grouped] == expected


@pytest.mark.parametrize("word,step", [("or", 1), ("or", 13), ("patient", 5), ("nurs", 1), ("week", 97)])
def test_whoosh_skips_land_on_the_first_posting_at_or_past_the_target(indexes, word, step):
    """The bisecting skip (`whoosh_postings`) ends where stepping through the postings ends."""
    from bisect import bisect_left

    reader = indexes["whoosh"].engine._search_with().reader()
    checked = 0
    for leaf, _ in reader.leaf_readers():
        if ("text", word) not in leaf:
            continue
        ids = list(leaf.postings("text", word).all_ids())
        matcher = leaf.postings("text", word)
        for target in range(0, ids[-1] + 2, step):
            at = bisect_left(ids, target)
            if at == len(ids):
                break
            matcher.skip_to(target)
            assert matcher.id() == ids[at]
            checked += 1
    assert checked > 10


@pytest.mark.parametrize("words", [
    ("or", "nursing"), ("within", "4", "week"), ("prior", "to", "study", "entry"), ("no", "history", "of"),
    ("human", "immunodeficiency", "virus"),
])
def test_whoosh_rarest_first_phrases_match_and_score_as_stock(indexes, words):
    """Phrases intersected rarest first (`whoosh_phrases`): the same documents, scores equal to the last bit."""
    from whoosh import query as wq
    from whoosh.matching.binary import IntersectionMatcher
    from whoosh.query.spans import SpanNear2, SpanWrappingMatcher
    from whoosh.util import make_binary_tree

    def stock(self, ms, slop=1, ordered=True, mindist=1):
        self.ms, self.slop, self.ordered, self.mindist = ms, slop, ordered, mindist
        SpanWrappingMatcher.__init__(self, make_binary_tree(IntersectionMatcher, ms))

    searcher = indexes["whoosh"].engine._search_with()
    phrase = wq.Phrase("text", list(words))
    ours = [(hit.docnum, hit.score) for hit in searcher.search(phrase, limit=None)]
    matcher = SpanNear2.SpanNear2Matcher
    kept = {name: matcher.__dict__.get(name) for name in ("__init__", "score", "weight")}
    try:
        _set_methods(matcher, {"__init__": stock, "score": None, "weight": None})
        theirs = [(hit.docnum, hit.score) for hit in searcher.search(phrase, limit=None)]
    finally:
        _set_methods(matcher, kept)
    assert ours
    assert ours == theirs


def _set_methods(cls, methods) -> None:
    """Set methods of a class; None removes the class's own (its base's is then used)."""
    for name, function in methods.items():
        if function is not None:
            setattr(cls, name, function)
        elif name in cls.__dict__:
            delattr(cls, name)


# --- both engines agree, synonyms, highlights ------------------------------------

@pytest.mark.parametrize("query", [
    "leuk*", "hepat*", "zidovudne~", "pregnancy~1", "hiv~", "the~2", "condition:>pregnan*", "drug:(zidovudine OR didanosine)",
    'condition:"kaposi sarcoma" OR condition:GvHD', "NOT pregnant", "-infection polarity:inclusion",
    "status:completed AND phase:2 AND weeks", "sponsor:national", 'context:"following"',
])
def test_index_engines_return_the_same_hits(indexes, query):
    whoosh, tantivy = (hit_ids(indexes[e], query) for e in ENGINES)
    assert whoosh
    assert whoosh == tantivy


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("query,surface", [
    ('drug:"CAR T"', "chimeric antigen receptor T cells"),
    ("condition:GvHD", "Graft-versus-Host-Disease"),
    ('"graft versus host disease"', "GvHD"),
])
def test_index_synonyms_find_the_seed_criteria(indexes, engine, query, surface):
    hits = run_search(indexes[engine], compile_query(query, Filters()), limit=None)
    seed = [h for h in hits if h.trial_id == "NCT06054113"]
    assert seed and all(h.polarity == "exclusion" for h in seed)
    assert any(surface.lower() in h.text.lower() for h in seed)


@pytest.mark.parametrize("engine", ENGINES)
def test_index_hits_highlight_the_matched_words(indexes, engine):
    hits = run_search(indexes[engine], compile_query('"informed consent" OR chemotherapies'), limit=50)
    assert hits
    for hit in hits:
        marked = [hit.text[s:e].lower() for s, e in hit.highlights]
        # the phrase, or chemotherapy in one of its spellings (concept expansion)
        assert any(word in m for m in marked for word in ("consent", "chemo", "antineoplastic", "cytotoxic",
                                                            "anticancer", "anti-cancer")), hit.text


@pytest.mark.parametrize("engine", ENGINES)
def test_index_nested_criteria_carry_the_parent_as_context(indexes, records, engine):
    nested = [(r, p, c) for r in records for p in r.all_criteria() for c in p.children]
    assert nested
    record, parent, child = nested[0]
    word = max(analyze(parent.text), key=len)
    hits = hit_ids(indexes[engine], f"context:{word} trial:{record.trial_id}")
    assert (record.trial_id, child.id) in hits


# --- keeping current: versions replace, refresh, locks, atomic rebuild -----------

def _new_version(record, marker):
    first = record.eligibility.criteria[0]
    changed = dataclasses.replace(first, text=first.text + f" {marker}", children=first.children)
    eligibility = dataclasses.replace(record.eligibility, criteria=(changed,) + record.eligibility.criteria[1:])
    return dataclasses.replace(record, eligibility=eligibility, version="new", content_hash=f"hash-{marker}")


@pytest.mark.parametrize("engine", ENGINES)
def test_index_update_replaces_the_old_version(records, tmp_path, engine):
    index = SearchIndex(tmp_path, engine=engine)
    subset = [r for r in records if r.eligibility and r.eligibility.criteria][:20]
    index.rebuild(subset)
    before = index.meta()
    record = subset[3]
    index.update([_new_version(record, "zzyzxmarker")])
    after = index.meta()
    assert (after["trials"], after["criteria"]) == (before["trials"], before["criteria"])
    assert hit_ids(index, "zzyzxmarker") == [(record.trial_id, record.eligibility.criteria[0].id)]
    assert index.trial_hashes()[f"{record.registry}:{record.trial_id}"] == "hash-zzyzxmarker"
    index.close()


def test_index_refresh_follows_the_store(records, tmp_path):
    from toolkit.store import Store

    subset = [r for r in records if r.eligibility and r.eligibility.criteria][:15]
    with Store(tmp_path / "store", create=True) as store:
        store.put_many(subset[:10])
        build_index(store, index_dir=tmp_path / "ix")
        build_index(store, index_dir=tmp_path / "ix", engine="tantivy")
        assert SearchIndex(tmp_path / "ix").status(store).current
        store.put_many([_new_version(subset[0], "qqvxmarker")] + subset[10:])
        index = SearchIndex(tmp_path / "ix")
        assert index.is_stale(store)
        status = refresh(store, index_dir=tmp_path / "ix")
        other = SearchIndex(tmp_path / "ix", engine="tantivy")  # every engine built there follows
        assert not other.is_stale(store) and other.meta()["trials"] == 15
        assert hit_ids(other, "qqvxmarker") == hit_ids(index, "qqvxmarker")
        other.close()
        assert len(status.missing) == 5 and len(status.changed) == 1 and not status.removed
        assert not index.is_stale(store) and index.status(store).current
        assert hit_ids(index, "qqvxmarker") == [(subset[0].trial_id, subset[0].eligibility.criteria[0].id)]
        assert index.meta()["trials"] == 15
        index.close()


def test_index_staleness_is_read_from_the_store_generation(records, tmp_path, monkeypatch):
    """A level index answers `is_stale` from the store's generation counter, without hashing the store."""
    from toolkit.store import Store

    subset = [r for r in records if r.eligibility and r.eligibility.criteria][:6]
    with Store(tmp_path / "store", create=True) as store:
        store.put_many(subset[:4])
        generation = store.generation()
        store.put_many(subset[:4])  # nothing new: the generation stays
        assert store.generation() == generation
        build_index(store, index_dir=tmp_path / "ix")
        index = SearchIndex(tmp_path / "ix")
        assert index.meta()["store_generation"] == generation

        def no_hashing():
            raise AssertionError("the store was hashed")

        monkeypatch.setattr(store, "latest_hashes", no_hashing)
        assert not index.is_stale(store)
        monkeypatch.undo()
        store.put_many([_new_version(subset[0], "ggenmarker")] + subset[4:])
        assert store.generation() == generation + 1
        assert index.is_stale(store)
        refresh(store, index_dir=tmp_path / "ix")
        assert SearchIndex(tmp_path / "ix").meta()["store_generation"] == generation + 1
        index.close()


@pytest.mark.parametrize("engine", ["whoosh", "tantivy"])
def test_index_refresh_asks_the_store_what_changed_not_every_trial(records, tmp_path, monkeypatch, engine):
    """A daily update costs what changed: the store names the trials written since the noted
    generation; neither the store's hashes nor the index's trials are read whole."""
    from toolkit.store import Store

    subset = [r for r in records if r.eligibility and r.eligibility.criteria][:9]
    with Store(tmp_path / "store", create=True) as store:
        store.put_many(subset[:6])
        build_index(store, index_dir=tmp_path / "ix", engine=engine)
        store.put_many([_new_version(subset[1], "dailymarker")] + subset[6:])

        def whole_read(*args, **kwargs):
            raise AssertionError("every trial was read")

        monkeypatch.setattr(store, "latest_hashes", whole_read)
        monkeypatch.setattr(engine_class(engine), "stored_values", whole_read)
        status = refresh(store, index_dir=tmp_path / "ix", engine=engine)
        assert (len(status.missing), len(status.changed), status.removed) == (3, 1, ())
        index = SearchIndex(tmp_path / "ix", engine=engine)
        assert not index.is_stale(store)
        assert hit_ids(index, "dailymarker") == [(subset[1].trial_id, subset[1].eligibility.criteria[0].id)]
        monkeypatch.undo()
        assert index.status(store).current and index.meta()["trials"] == 9
        index.update([_new_version(subset[2], "directmarker")])  # a library update notes no generation:
        assert index.is_stale(store)  # the index is compared with the store, trial by trial
        index.close()


def test_index_refresh_leaves_an_index_of_another_store(records, tmp_path):
    from toolkit.store import Store

    with Store(tmp_path / "a", create=True) as one, Store(tmp_path / "b", create=True) as other:
        one.put_many(records[:5])
        other.put_many(records[5:8])
        build_index(one, index_dir=tmp_path / "ix")
        assert refresh(other, index_dir=tmp_path / "ix") is None
        assert SearchIndex(tmp_path / "ix").meta()["trials"] == 5


@pytest.mark.parametrize("engine", ENGINES)
def test_index_second_writer_fails_cleanly(records, tmp_path, engine):
    index = SearchIndex(tmp_path, engine=engine, lock_timeout=0.3)
    index.rebuild(records[:10])
    with open(tmp_path / f".{engine}.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(SearchIndexError, match="being written by another process"):
            index.update(records[10:20])
    assert index.meta()["trials"] == 10
    assert hit_ids(index, "") == scan(records[:10], lambda r, c: True)
    index.close()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("jobs", [1, 2])
def test_index_interrupted_rebuild_keeps_the_old_index(records, tmp_path, engine, jobs):
    index = SearchIndex(tmp_path, engine=engine)
    index.rebuild(records[:10])

    def failing():
        yield from records[10:330]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index.rebuild(failing(), jobs=jobs)
    assert index.meta()["trials"] == 10
    assert hit_ids(index, "") == scan(records[:10], lambda r, c: True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".{engine}-")]
    index.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_index_missing_says_how_to_build(tmp_path, engine):
    with pytest.raises(SearchIndexError, match="run `ptk index`"):
        SearchIndex(tmp_path, engine=engine).check_usable()


@pytest.mark.parametrize("engine", ENGINES)
def test_index_malformed_record_is_reported_and_the_others_indexed(records, tmp_path, engine):
    good = [r for r in records if r.eligibility and r.eligibility.min_age][:6]
    broken_age = dataclasses.replace(good[0].eligibility.min_age, years="eighteen")
    broken = dataclasses.replace(good[0], eligibility=dataclasses.replace(good[0].eligibility, min_age=broken_age))
    index = SearchIndex(tmp_path, engine=engine)
    meta = index.rebuild([broken] + good[1:])
    assert meta["trials"] == 5
    assert len(meta["last_batch"]["failed"]) == 1
    assert meta["last_batch"]["failed"][0].startswith(f"{good[0].registry}:{good[0].trial_id}: ValueError")
    index.close()


# --- facets, and building from the store over several processes ----------------

def _record_facets(records, keep):
    """{facet: {value: criteria}} counted straight from the records."""
    from collections import Counter

    counts = {"status": Counter(), "phase": Counter(), "polarity": Counter(), "country": Counter()}
    for record in records:
        countries = sorted({loc.country for loc in record.locations if loc.country}) or ["(none)"]
        for criterion in record.all_criteria():
            if not keep(record, criterion):
                continue
            counts["status"][record.status or "(none)"] += 1
            counts["phase"].update(record.phases or ["(none)"])
            counts["polarity"][criterion.polarity or "(none)"] += 1
            counts["country"].update(countries)
    return {facet: dict(counter) for facet, counter in counts.items()}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("query,filters,keep", [
    ("", Filters(), lambda r, c: True),
    ("", Filters(polarity="exclusion"), lambda r, c: c.polarity == "exclusion"),
])
def test_index_facets_equal_record_counts(indexes, records, engine, query, filters, keep):
    from toolkit.index import facet_counts

    expected = _record_facets(records, keep)
    assert any("," in country for country in expected["country"]), "no country name with a comma to test"
    assert facet_counts(indexes[engine], compile_query(query, filters)) == expected


@pytest.mark.parametrize("query,filters,trials", [
    ("", Filters(), False), ("pregnant OR infection", Filters(polarity="exclusion"), False),
    ("chemotherapy", Filters(phase=("2",)), False), ("hepat* NOT status:completed", Filters(), False),
    ("zzzunfoundword", Filters(), False), ("HIV", Filters(), True),
])
@pytest.mark.parametrize("distinct", [None, "trial_key"])
@pytest.mark.parametrize("engine", ENGINES)
def test_index_tally_from_columns_equals_stored_fields(indexes, engine, query, filters, trials, distinct):
    """Counts and facets from the engine's columns are exactly what a pass over the stored fields counts."""
    from toolkit.index import count_and_facets

    index = indexes[engine]
    node = compile_query(query, filters, trials=trials)
    stored = count_and_facets(index, node, distinct=distinct, extra=("trial_key",), keep=lambda row: True)
    assert index.engine.tally(index.resolve(node), by_trial=bool(distinct)) is not None
    assert count_and_facets(index, node, distinct=distinct) == stored
    assert (stored[0] > 0) == (query != "zzzunfoundword")


def _stored(records, path):
    from toolkit.store import Store

    store = Store(path, create=True)
    store.put_many(records)
    return store


@pytest.mark.parametrize("engine", ENGINES)
def test_index_built_by_worker_processes_equals_a_serial_build(records, tmp_path, engine):
    with _stored(records, tmp_path / "store") as store:
        serial = build_index(store, index_dir=tmp_path / "one", engine=engine, jobs=1)
        parallel = build_index(store, index_dir=tmp_path / "two", engine=engine, jobs=2)
    assert (parallel["trials"], parallel["criteria"]) == (serial["trials"], serial["criteria"]) == (
        len(records), sum(1 for r in records for _ in r.all_criteria()))
    assert parallel["fingerprint"] == serial["fingerprint"]
    one, two = SearchIndex(tmp_path / "one", engine=engine), SearchIndex(tmp_path / "two", engine=engine)
    for query in ("chemotherapy", '"informed consent"', "hepat* NOT status:completed", ""):
        assert hit_ids(two, query) == hit_ids(one, query)
    assert two.vocabulary() == one.vocabulary()
    one.close(), two.close()


@pytest.mark.parametrize("jobs", [1, 2])
def test_index_undecodable_stored_record_is_reported_and_the_others_indexed(records, tmp_path, jobs):
    import sqlite3

    with _stored(records[:12], tmp_path / "store") as store:
        path = store.path
    with sqlite3.connect(path) as db:
        db.execute("UPDATE versions SET codec='json', body=? WHERE trial_id=?", (b'{"trial_id": ', records[4].trial_id))
    from toolkit.store import Store

    with Store(path) as store:
        meta = build_index(store, index_dir=tmp_path / "ix", jobs=jobs)
    assert meta["trials"] == 11
    (failure,) = meta["last_batch"]["failed"]
    assert failure.startswith(f"{records[4].registry}:{records[4].trial_id}: JSONDecodeError")


def _whoosh_postings(path, schema, documents, fast=False):
    """Every (field, term) -> [(doc, weight, value)] and every field length of a Whoosh index,
    written by the engine's writer and codec (`fast`) or by Whoosh's own."""
    from whoosh import index as windex

    from toolkit.index.engines.whoosh_codec import WriteCodec
    from toolkit.index.engines.whoosh_writer import PlainWriter

    ix = windex.create_in(str(path), schema)
    writer = PlainWriter(ix, codec=WriteCodec(), limitmb=4) if fast else ix.writer(limitmb=4)  # several sorted runs
    for doc in documents:
        writer.add_document(**doc)
    writer.commit()
    with ix.reader() as reader:
        postings = {(field, term): _term_postings(reader, field, term) for field, term in reader.all_terms()}
        lengths = [(field, doc, reader.doc_field_length(doc, field)) for field in schema.scorable_names()
                   for doc in range(reader.doc_count_all())]
    return postings, lengths


def _term_postings(reader, field, term):
    """A term's statistics, and per posting: document, weight, value (its positions where it has them) and its
    block's length range."""
    info = reader.term_info(field, term)
    matcher, out = reader.postings(field, term), [(info.min_length(), info.max_length(), info.max_weight())]
    positions = matcher.supports("positions")
    while matcher.is_active():
        value = (matcher.value_as("frequency"), matcher.value_as("positions")) if positions else matcher.value()
        out.append((matcher.id(), matcher.weight(), value, matcher.block_min_length(), matcher.block_max_length()))
        matcher.next()
    return out


def test_whoosh_fast_write_path_gives_the_stock_postings(records, tmp_path):
    from whoosh import fields as wf

    from toolkit.index.documents import record_documents
    from toolkit.index.engines.whoosh_engine import WhooshEngine, build_schema

    fast = build_schema()
    stock = wf.Schema(**{name: (wf.KEYWORD(scorable=True) if name == "keys" else
                                wf.TEXT(analyzer=field.analyzer, phrase=True) if isinstance(field, wf.TEXT) else field)
                         for name, field in fast.items()})
    assert type(fast["text"]) is not wf.TEXT and type(stock["text"]) is wf.TEXT
    documents = [WhooshEngine.encode(doc) for record in records[:60] for doc in record_documents(record)]
    (tmp_path / "fast").mkdir(), (tmp_path / "stock").mkdir()
    assert _whoosh_postings(tmp_path / "fast", fast, documents, fast=True) == \
        _whoosh_postings(tmp_path / "stock", stock, documents)


@pytest.mark.parametrize("jobs", [1, 2])
def test_index_refresh_of_many_trials_reads_only_their_rows(records, tmp_path, jobs):
    """Over 200 new trials: the refresh scans the store's rows and decodes only those it indexes."""
    assert len(records) > 230
    with _stored(records[:20], tmp_path / "store") as store:
        build_index(store, index_dir=tmp_path / "ix", engine="tantivy")
        store.put_many(records[20:])
        status = refresh(store, index_dir=tmp_path / "ix", jobs=jobs)
        build_index(store, index_dir=tmp_path / "full", engine="tantivy")
        assert len(status.missing) == len(records) - 20
        refreshed, full = SearchIndex(tmp_path / "ix"), SearchIndex(tmp_path / "full")
        assert refreshed.status(store).current
        assert refreshed.meta()["trials"] == len(records)
        for query in ("chemotherapy", "hiv~", ""):
            assert hit_ids(refreshed, query) == hit_ids(full, query)
        refreshed.close(), full.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_index_rebuild_keeps_the_last_version_across_batches(records, tmp_path, monkeypatch, engine):
    """A trial met again in a later batch of a rebuild ends with its last version only."""
    from toolkit.index import search_index as manager

    monkeypatch.setattr(manager, "BATCH_TRIALS", 4)
    monkeypatch.setattr("toolkit.index.batches.UNIT_TRIALS", 3)
    subset = [r for r in records if r.eligibility and r.eligibility.criteria][:12]
    again = _new_version(subset[1], "vvqmarker")
    index = SearchIndex(tmp_path, engine=engine)
    meta = index.rebuild(subset + [again])
    assert meta["trials"] == 12
    assert meta["criteria"] == sum(1 for r in subset for _ in r.all_criteria())
    assert hit_ids(index, "vvqmarker") == [(again.trial_id, again.eligibility.criteria[0].id)]
    assert index.trial_hashes()[f"{again.registry}:{again.trial_id}"] == "hash-vvqmarker"
    index.close()


def test_whoosh_segments_are_separate_files(indexes):
    """A compound segment is copied whole into memory by every process that opens it (BytesIO over
    the file): at 1M criteria, a gigabyte per `ptk search`. Separate files are read as needed."""
    files = [p.name for p in indexes["whoosh"].path.iterdir()]
    assert not [name for name in files if name.endswith(".seg")]
    assert [name for name in files if name.endswith(".pst")]


# --- concept words as a phrase or coordinated ("heart or renal failure") ----------

CONCEPT_RUNS = ["heart failure", "hepatitis C", "alcohol abuse", "renal function", "breast cancer", "liver disease"]


@pytest.mark.parametrize("query", CONCEPT_RUNS)
def test_index_concept_run_same_in_both_engines(indexes, query):
    assert hit_ids(indexes["whoosh"], query) == hit_ids(indexes["tantivy"], query)


def test_index_concept_runs_find_coordinated_words(indexes, records):
    """Some criteria name a concept only coordinated ("hepatic or renal function"); both engines find them."""
    texts = {(r.trial_id, c.id): " ".join(analyze(c.text)) for r in records for c in r.all_criteria()}
    coordinated = []
    for query in CONCEPT_RUNS:
        first, last = analyze(query)
        pattern = re.compile(rf"\b{first} (?:\w+ ){{0,2}}(?:or|and) (?:\w+ ){{0,2}}{last}\b")
        coordinated += [key for key in hit_ids(indexes["tantivy"], query)
                        if pattern.search(texts[key]) and f"{first} {last}" not in texts[key]]
    assert coordinated


@pytest.mark.parametrize("commits", [1, 4])
def test_whoosh_stored_column_gives_back_every_document(records, tmp_path, commits):
    """Stored fields come back as written, across blocks, segments, their merges and deletions."""
    from operator import itemgetter

    from toolkit.index.documents import record_documents
    from toolkit.index.engines.whoosh_engine import STORED_FIELD, WhooshEngine
    from toolkit.index.query import All
    from toolkit.index.schema import STORED

    documents = [WhooshEngine.encode(doc) for record in records[:40] for doc in record_documents(record)]
    engine = WhooshEngine(tmp_path)
    engine.create()
    size = -(-len(documents) // commits)
    for start in range(0, len(documents), size):
        engine.write(documents[start:start + size])
    gone = documents[size // 2][STORED_FIELD]["trial_key"]  # a trial of the first segment
    engine.write([], delete_keys=[gone])
    names = sorted(STORED)
    kept = [{n: d[STORED_FIELD].get(n, "") for n in names} for d in documents if d[STORED_FIELD]["trial_key"] != gone]
    by_id = itemgetter("doc_id")  # segments may merge out of writing order
    assert sorted(engine.stored_values(All(), names), key=by_id) == sorted(kept, key=by_id)
    engine.close()


@pytest.mark.parametrize("positions", [[0], [4, 5, 9], [254], [255], [3, 300, 301], [0, 70000, 70001]])
def test_whoosh_compact_positions_decode_as_written(positions):
    from toolkit.index.engines.whoosh_fields import CompactPositions

    value = CompactPositions().encode(positions)
    assert CompactPositions().decode_positions(value) == positions
    assert CompactPositions().decode_frequency(value) == len(positions)
