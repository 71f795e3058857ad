"""Search over eligibility criteria: documents, query language, engines.

Public entry points:
    build_index(store, ...)   rebuild the index from the store's latest versions;
    update_index(store, ...)  build it, or bring an existing one level with the store (`ptk index`);
    refresh(store, ...)       bring the index level with the store (after `ptk parse`);
    search(query, ...)        the one search entry point: hits, groups or counts of a
                              query string and option filters (`SearchResult`);
    SearchIndex, Filters      the index on disk and the option filters.

Every Whoosh and tantivy import stays inside this package.
"""

from __future__ import annotations

from typing import Callable, Optional, Tuple

from toolkit.index.engines import ENGINES
from toolkit.index.compile import Filters, compile_query, age_in_years, parse_duration
from toolkit.index.search_index import IndexStatus, SearchIndex, _store_path, resolve_index_dir
from toolkit.index.query import parse_query, render
from toolkit.index.schema import SCHEMA_VERSION
from toolkit.index.searching import SearchResult, search
from toolkit.index.hits import (
    CriterionHit, TrialHit, TrialGroup, count_and_facets, count_hits, facet_counts, group_by_trial, run_search, suggest_terms,
)

__all__ = [
    "Filters", "SearchIndex", "SearchResult", "IndexStatus", "CriterionHit", "TrialHit", "TrialGroup", "build_index", "update_index", "refresh",
    "search", "compile_query", "parse_query", "render", "age_in_years", "parse_duration",
    "count_hits", "count_and_facets", "facet_counts", "group_by_trial", "run_search", "suggest_terms", "resolve_index_dir",
]


def build_index(store, *, index_dir=None, engine: Optional[str] = None,
                progress: Optional[Callable[[int], None]] = None, jobs: int = 1) -> dict:
    """Rebuild the index from the latest version of every stored trial.

    `jobs` processes decode the stored records and build their documents
    while this one writes the index.

    Returns:
        The index metadata (engine, trials, criteria, ...).

    Raises:
        SearchIndexError: another writer holds the index, or the engine is missing.
    """
    index = SearchIndex(index_dir, engine=engine)
    try:
        generation = store.generation()  # read first: a write during the build leaves the index stale
        meta = index.rebuild(store.iter_latest_bodies(), source=_store_path(store), progress=progress, jobs=jobs)
        index.note_store_generation(generation)
        return dict(meta, store_generation=generation)
    finally:
        index.close()


def update_index(store, *, index_dir=None, engine: Optional[str] = None, rebuild: bool = False,
                 progress: Optional[Callable[[int], None]] = None, jobs: int = 1) -> Tuple[dict, str]:
    """Build the index, or bring an existing one level with the store.

    A missing index, one of an older schema version, or `rebuild` starts
    over; otherwise only trials with a new version are re-indexed.

    Returns:
        The index metadata and what was done ("built", "up to date", "updated: ...").

    Raises:
        SearchIndexError: another writer holds the index, or the engine is missing.
    """
    target = SearchIndex(index_dir, engine=engine)
    try:
        if (rebuild or not target.exists() or target.meta().get("schema_version") != SCHEMA_VERSION
                or target.missing_parts()):
            target.close()
            return build_index(store, index_dir=index_dir, engine=target.engine_name, progress=progress,
                               jobs=jobs), "built"
        status = target.refresh(store, progress=progress, jobs=jobs)
        return target.meta(), ("up to date" if status.current else f"updated: {status.describe()}")
    finally:
        target.close()


def refresh(store, *, index_dir=None, engine: Optional[str] = None, jobs: int = 1,
            on_status: Optional[Callable[[str, IndexStatus], None]] = None) -> Optional[IndexStatus]:
    """Keep existing indexes current with their store: index new and changed
    trials, drop removed ones.

    Does nothing when there is no index at that place (`ptk index` builds
    one; `ptk search` says so) or when the index was built from another
    store, which it must not be mixed with. A trial's previous version loses
    its documents; nothing is indexed twice.

    Args:
        store: an open `toolkit.store.Store`.
        index_dir: index root (default `$PTK_INDEX` or `indexes/`).
        engine: whoosh or tantivy (default: every engine built there).
        jobs: processes building documents (see `build_index`).
        on_status: called with each refreshed index's path and what was out of date.

    Returns:
        What was out of date before the refresh (of the first index refreshed),
        or None when nothing was done.
    """
    root = resolve_index_dir(index_dir)
    statuses = [_refresh_one(store, root, name, jobs=jobs, on_status=on_status)
                for name in ([engine] if engine else ENGINES)]
    return next((status for status in statuses if status is not None), None)


def _refresh_one(store, root, engine: str, *, jobs: int, on_status) -> Optional[IndexStatus]:
    index = SearchIndex(root, engine=engine)
    try:
        if not index.exists() or not index.built_from(store):
            return None
        status = index.refresh(store, jobs=jobs)
    finally:
        index.close()
    if on_status is not None:
        on_status(str(index.path), status)
    return status


