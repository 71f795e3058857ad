"""`ptk search` and `ptk index`: the CLI over `toolkit.index`."""

from __future__ import annotations

import sys
import time

import click

from toolkit.cli.options import library_errors, store_option
from toolkit.errors import QueryError, ToolkitError
from toolkit.index import (
    Filters, SearchIndex, age_in_years, compile_query, count_and_facets, facet_counts, group_by_trial,
    parse_duration, render, resolve_index_dir, run_search, suggest_terms, update_index,
)
from toolkit.index.engines import ENGINES
from toolkit.index.query import Fuzzy, Prefix, Word, parse_query
from toolkit.cli.output import Progress, emit, emit_json, emit_jsonl, format_table, message, output_options, quiet_option

__all__ = ["search", "index"]

HIT_COLUMNS = ("trial_id", "status", "criterion_id", "polarity", "category", "score", "title")
GROUP_COLUMNS = ("trial_id", "status", "phases", "count", "score", "criteria", "title")


def index_options(command):
    """Add `--index DIR` and `--engine NAME`."""
    command = click.option("--engine", type=click.Choice(sorted(ENGINES)), default=None,
                           help="Search engine (default: $PTK_ENGINE, else the one built, else whoosh).")(command)
    return click.option("--index", "index_dir", type=click.Path(file_okay=False), default=None,
                        help="Index directory (default: $PTK_INDEX, else indexes/).")(command)


# --- ptk index ------------------------------------------------------------------

@click.command("index")
@click.option("--rebuild", is_flag=True, help="Rebuild from scratch instead of updating what changed.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes building documents (the index itself is written by one).")
@index_options
@store_option
@quiet_option
@library_errors
def index(rebuild, jobs, index_dir, engine, store_path, quiet):
    """Build or update the search index from the corpus store (latest versions)."""
    from toolkit.store import Store

    started = time.perf_counter()
    with Store(store_path) as store, Progress("indexing", quiet=quiet, unit="trials") as progress:
        meta, action = update_index(store, index_dir=index_dir, engine=engine, rebuild=rebuild,
                                    progress=_Progressed(progress), jobs=jobs)
    seconds = time.perf_counter() - started
    for failure in meta.get("last_batch", {}).get("failed", []):
        message(f"failed: {failure}")
    if not quiet:
        message(f"{meta['engine']} index {resolve_index_dir(index_dir) / meta['engine']} {action}:"
                f" {meta['trials']:,} trials, {meta['criteria']:,} criteria in {seconds:.1f}s")


class _Progressed:
    """Adapts the index's progress callback (trials done so far) to `Progress`."""

    def __init__(self, progress: Progress):
        self.progress, self.seen = progress, 0

    def __call__(self, done: int) -> None:
        self.progress.update(done - self.seen)
        self.seen = done


# --- ptk search -----------------------------------------------------------------

@click.command("search")
@click.argument("query", nargs=-1)
@click.option("--polarity", type=click.Choice(["inclusion", "exclusion"]), help="Only inclusion or exclusion criteria.")
@click.option("--status", multiple=True, metavar="STATUS", help="Trial status, e.g. recruiting (repeatable: any of).")
@click.option("--phase", multiple=True, metavar="PHASE", help="Trial phase, e.g. 2 or phase2 (repeatable: any of).")
@click.option("--age", metavar="AGE", help="Trials whose age range includes AGE, e.g. 10y, 6m, 70.")
@click.option("--window-min", metavar="DURATION", help="Criteria with a time window of at least DURATION (e.g. 2w).")
@click.option("--window-max", metavar="DURATION", help="Criteria with a time window of at most DURATION (e.g. 4w).")
@click.option("--drug", metavar="NAME", help="Criteria naming this drug (synonyms included).")
@click.option("--condition", metavar="NAME", help="Criteria naming this condition (synonyms included).")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True, help="Most hits (or trials) shown.")
@click.option("--group-by", type=click.Choice(["trial"]), help="One row per trial with its matching criteria.")
@click.option("--count", "count_only", is_flag=True, help="Print how many criteria match, with facet counts.")
@click.option("--facets", is_flag=True, help="Also print counts by status, phase, polarity and country.")
@click.option("--show-query", is_flag=True, help="Print the parsed query and stop.")
@index_options
@store_option
@output_options
@library_errors
def search(query, polarity, status, phase, age, window_min, window_max, drug, condition, limit,
           group_by, count_only, facets, show_query, index_dir, engine, store_path, fmt):
    """Search eligibility criteria across trials; hits are criteria with their trial.

    QUERY: words (stemmed, case-folded), "phrases", AND/OR/NOT, (groups), prefix*,
    fuzzy~, and fields such as polarity:exclusion drug:"CAR T" condition:GvHD
    status:recruiting phase:2 category:therapy trial:NCT06054113 country:france.
    """
    text = " ".join(query)
    try:
        filters = Filters(
            polarity=polarity, status=status, phase=phase,
            age_years=age_in_years(age) if age else None,
            window_min_days=parse_duration(window_min) if window_min else None,
            window_max_days=parse_duration(window_max) if window_max else None,
            drug=drug, condition=condition)
        node = compile_query(text, filters)
    except QueryError as exc:
        raise click.UsageError(str(exc)) from None
    if facets and fmt == "csv":
        raise click.UsageError("--facets cannot go with --csv (use --count --csv for the counts)")
    if show_query:
        click.echo(render(node))
        return
    target = SearchIndex(index_dir, engine=engine)
    target.check_usable()
    _warn_if_stale(target, store_path)
    try:
        if count_only:
            if not _print_counts(target, node, fmt=fmt):
                _no_results(target, text)
            return
        hits = run_search(target, node, limit=None if group_by else limit)
        counts = facet_counts(target, node) if facets else None
        _print_hits(hits, group_by=group_by, limit=limit, fmt=fmt, facets=counts)
        if not hits:
            _no_results(target, text)
    finally:
        target.close()


def _warn_if_stale(target: SearchIndex, store_path) -> None:
    from toolkit.store import Store, resolve_store_path

    path = resolve_store_path(store_path)
    if not path.exists():
        return
    try:
        with Store(path) as store:
            stale = target.is_stale(store)
    except ToolkitError as exc:  # the store is not needed to search: say so and go on
        message(f"warning: cannot compare the index with the store: {exc}")
        return
    if stale:
        message(f"warning: the search index is behind the store {path}: run `ptk index`")


def _print_counts(target: SearchIndex, node, *, fmt: str) -> int:
    """Print the number of matching criteria and the facet counts; return the number."""
    total, counts = count_and_facets(target, node)
    if fmt == "json":
        emit_json({"count": total, "facets": counts})
    elif fmt == "jsonl":
        emit_jsonl([{"count": total, "facets": counts}])
    elif fmt == "csv":
        emit([{"facet": "total", "value": "", "criteria": total}] + _facet_rows(counts), fmt=fmt)
    elif total:
        click.echo(f"{total:,} criteria\n")
        emit(_facet_rows(counts), fmt=fmt, columns=["facet", "value", "criteria"])
    else:
        click.echo("0 criteria")
    return total


def _facet_rows(counts: dict) -> list:
    return [{"facet": facet, "value": value, "criteria": n}
            for facet, values in counts.items() for value, n in values.items()]


def _print_hits(hits, *, group_by, limit: int, fmt: str, facets=None) -> None:
    """Hits (or trial groups) in the chosen format; facet counts after them when given."""
    if group_by:
        groups = group_by_trial(hits)[:limit]
        json_like = fmt in ("json", "jsonl")
        rows = [g.to_dict() if json_like else dict(g.to_dict(), criteria=[h.criterion_id for h in g.hits])
                for g in groups]
        columns = GROUP_COLUMNS
    else:
        rows, columns = [hit.to_dict() for hit in hits], HIT_COLUMNS + ("text", "snippet")
    if fmt == "json" and facets is not None:
        emit_json({"hits": rows, "facets": facets})
    elif fmt == "table" and not group_by:
        if rows:
            _print_hit_table(hits)
    else:
        _emit_rows(rows, columns, fmt)
    if facets is not None and fmt == "jsonl":
        emit_jsonl([{"facets": facets}])
    elif facets is not None and fmt == "table":
        click.echo("")
        emit(_facet_rows(facets), fmt=fmt, columns=["facet", "value", "criteria"])


def _emit_rows(rows, columns, fmt: str) -> None:
    if rows or fmt in ("json", "csv"):
        emit(rows, fmt=fmt, columns=list(columns))


def _print_hit_table(hits) -> None:
    """The readable form: one row of fields per hit, its text under it, matches in bold."""
    rows = [dict(hit.to_dict(), score=f"{hit.score:.2f}") for hit in hits]
    lines = format_table(rows, HIT_COLUMNS).split("\n")
    click.echo("\n".join(lines[:2]))
    bold = sys.stdout.isatty()
    for hit, line in zip(hits, lines[2:]):
        marked = hit.marked_text("\x1b[1m", "\x1b[0m") if bold else hit.marked_text()
        click.echo(line)
        click.echo("    " + " ".join(marked.split()))


def _no_results(target: SearchIndex, text: str) -> None:
    message("no criteria match the query")
    words = _plain_words(text)
    suggestions = suggest_terms(target, words) if words else []
    if suggestions:
        message("close terms in the index: " + ", ".join(suggestions))


def _plain_words(text: str) -> list:
    """The free words of a query (not fields, prefixes or fuzzy terms), for suggestions."""
    if not text.strip():
        return []
    words = []
    _words_of(parse_query(text), words)
    return words


def _words_of(node, words: list) -> None:
    for item in getattr(node, "items", ()):
        _words_of(item, words)
    if isinstance(node, (Word, Prefix, Fuzzy)) and node.field in (None, "text", "drug", "condition"):
        words.append(node.text)
