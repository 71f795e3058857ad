"""`search()`: the one entry point from a query and options to an answer.

It opens the index, compiles the query with the index's concepts, runs it,
binds time windows to their entity, groups or counts, and when nothing is
left says which filter removed every hit. The CLI only prints the result.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from toolkit.errors import QueryError
from toolkit.index.compile import Filters, compile_query
from toolkit.index.hits import (
    FACETS, CriterionHit, TrialGroup, count_and_facets, facet_counts, group_by_trial, run_search,
)
from toolkit.index.query import Node, render
from toolkit.index.search_index import SearchIndex, engine_errors
from toolkit.index.windows import WindowBinding, window_binding

__all__ = ["SearchResult", "search", "answer", "filter_names"]


@dataclass(frozen=True)
class SearchResult:
    """What a search found.

    Attributes:
        query: the compiled query as `--show-query` prints it (expansions included).
        hits: criterion hits (or trial hits with `trials`), best first, at most `limit`.
        groups: the hits grouped by trial (with `group_by="trial"`), at most `limit`.
        total: how many criteria (trials with `trials` or `group_by`) match, when counted.
        facets: {facet: {value: count}} when asked.
        emptied_by: when nothing matches but the query alone does, the option that removed every hit.
    """

    query: str
    hits: Tuple[CriterionHit, ...] = ()
    groups: Tuple[TrialGroup, ...] = ()
    total: Optional[int] = None
    facets: Optional[Dict[str, Dict[str, int]]] = None
    emptied_by: Optional[str] = None

    def __iter__(self):
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)


def search(query: Optional[str], *, filters: Filters = Filters(), index_dir=None, engine: Optional[str] = None,
           limit: Optional[int] = 20, exact: bool = False, trials: bool = False, group_by: Optional[str] = None,
           count: bool = False, facets: bool = False, show_query: bool = False) -> SearchResult:
    """Search criteria (or trials) with a query string and option filters.

    Args:
        query: words, "phrases", fields, AND/OR/NOT (see `toolkit.index.query`).
        filters: the option filters.
        index_dir, engine: which index (see `SearchIndex`).
        limit: most hits (or groups) returned; None for all.
        exact: no concept expansion.
        trials: search trial documents (title, conditions, interventions, ...).
        group_by: "trial" to group criterion hits by trial.
        count: count matches (criteria, or trials with `trials`/`group_by`) with facet counts; no hits.
        facets: add facet counts to the hits.
        show_query: only compile the query (`SearchResult.query`).

    Raises:
        QueryError: bad syntax, an empty query without filters, a query over the bounds.
        SearchIndexError: no usable index (the message names the command to run).
    """
    if not (query and query.strip()) and filters == Filters():
        raise QueryError('empty query: give words, "phrases" or field:value terms, or a filter option')
    index = SearchIndex(index_dir, engine=engine)
    try:
        usable = _usable(index, required=not show_query)
        concepts = index.concepts() if usable else None
        node = compile_query(query, filters, concepts=concepts, exact=exact, trials=trials)
        if show_query:
            return SearchResult(query=render(node))
        result = answer(index, node, filters, limit=limit, trials=trials, group_by=group_by, count=count,
                        facets=facets)
        if (result.total if count else len(result.hits)) == 0:
            result = dataclasses.replace(result, emptied_by=_emptied_by(index, query, filters, concepts, exact,
                                                                        trials))
        return result
    finally:
        index.close()


def _usable(index: SearchIndex, *, required: bool) -> bool:
    if required:
        index.check_usable()
        return True
    try:
        index.check_usable()
    except Exception:  # --show-query works without an index (the shipped concepts then)
        return False
    return True


def answer(index: SearchIndex, node: Node, filters: Filters = Filters(), *, limit: Optional[int] = 20,
           trials: bool = False, group_by: Optional[str] = None, count: bool = False,
           facets: bool = False) -> SearchResult:
    """Run a compiled query on an open index: hits, groups or counts (`search` without opening or compiling)."""
    binding = window_binding(filters, node)
    by_trial = trials or group_by == "trial"
    if count:
        total, counts = _count(index, node, binding, by_trial=by_trial)
        return SearchResult(query=render(node), total=total, facets=counts)
    keep = (lambda fields: binding.keeps(fields.get("windows_raw", ""))) if binding is not None else None
    hits = run_search(index, node, limit=limit, keep=keep, trials=limit if group_by else None)
    groups = tuple(group_by_trial(hits)) if group_by else ()
    counts = facet_counts(index, node) if facets else None
    return SearchResult(query=render(node), hits=tuple(hits), groups=groups, facets=counts)


def _count(index: SearchIndex, node: Node, binding: Optional[WindowBinding], *, by_trial: bool):
    """(matches, facet counts): criteria, or distinct trials when `by_trial`."""
    extra = ("trial_key", "windows_raw")
    total, counts = count_and_facets(index, node, FACETS, extra=extra,
                                     keep=(lambda row: binding.keeps(row["windows_raw"])) if binding else None,
                                     distinct="trial_key" if by_trial else None)
    return total, counts


_OPTION_NAMES = {"values": "value", "age_years": "age", "window_min_days": "window-min", "window_max_days": "window-max"}


def filter_names(filters: Filters) -> List[Tuple[str, Filters]]:
    """Each option set in `filters` with the filters holding only it: [("--phase 2", Filters(phase=("2",))), ...]."""
    out = []
    for item in dataclasses.fields(filters):
        value = getattr(filters, item.name)
        if value in (None, (), ""):
            continue
        shown = ", ".join(value) if isinstance(value, (tuple, list)) else f"{value:g}" if isinstance(
            value, float) else str(value)
        shown += " days" if item.name.startswith("window") else " years" if item.name == "age_years" else ""
        option = _OPTION_NAMES.get(item.name, item.name.replace("_", "-"))
        out.append((f"--{option} {shown}", Filters(**{item.name: value})))
    return out


def _emptied_by(index: SearchIndex, query, filters: Filters, concepts, exact: bool, trials: bool) -> Optional[str]:
    """The first option that alone leaves the query nothing, when the query without options matches."""
    if not (query and query.strip()) or filters == Filters():
        return None
    with engine_errors(index.path):
        bare = compile_query(query, Filters(), concepts=concepts, exact=exact, trials=trials)
        if not index.engine.count(index.resolve(bare)):
            return None
        for name, alone in filter_names(filters):
            node = compile_query(query, alone, concepts=concepts, exact=exact, trials=trials)
            binding = window_binding(alone, node)
            if binding is None and not index.engine.count(index.resolve(node)):
                return name
            if binding is not None and not _count(index, node, binding, by_trial=False)[0]:
                return name
    return "the options together"
