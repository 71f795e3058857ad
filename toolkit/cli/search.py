"""`ptk search` and `ptk index`: the CLI over `toolkit.index`."""

from __future__ import annotations

import sys
import time

import click

from toolkit.cli.options import library_errors, store_option
from toolkit.errors import QueryError, ToolkitError
from toolkit.index import (
    Filters, SearchIndex, age_in_years, parse_duration, resolve_index_dir, search as run_query, suggest_terms,
    update_index,
)
from toolkit.index.engines import ENGINES
from toolkit.index.query import Fuzzy, Prefix, Word, parse_query
from toolkit.cli.output import Progress, emit, emit_json, emit_jsonl, format_table, message, output_options, quiet_option

__all__ = ["search", "index"]

HIT_COLUMNS = ("trial_id", "status", "criterion_id", "polarity", "category", "score", "title")
GROUP_COLUMNS = ("trial_id", "status", "phases", "count", "score", "criteria", "title")
TRIAL_COLUMNS = ("trial_id", "status", "phases", "countries", "dates", "score", "title")


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
@click.option("--phase", multiple=True, metavar="PHASE", help="Trial phase, e.g. 2, phase2, \"Phase II\" (repeatable: any of).")
@click.option("--age", metavar="AGE", help="Trials whose age range includes AGE, e.g. 10y, 6m, 70.")
@click.option("--window-min", metavar="DURATION", help="Criteria with a time window of at least DURATION (e.g. 2w); "
              "with --drug or drug:, that drug's window.")
@click.option("--window-max", metavar="DURATION", help="Criteria with a time window of at most DURATION (e.g. 4w); "
              "with --drug or drug:, that drug's window.")
@click.option("--drug", metavar="NAME", help="Criteria naming this drug (synonyms, abbreviations, class members).")
@click.option("--condition", metavar="NAME", help="Criteria naming this condition (synonyms included).")
@click.option("--value", "values", multiple=True, metavar="THRESHOLD",
              help="Criteria whose threshold lies in a range, units converted, e.g. \"hba1c <= 8%\", "
                   "\"creatinine > 133 umol/L\" (repeatable: all of).")
@click.option("--started-after", metavar="DATE", help="Trials started on or after DATE (2020, 2020-06, 2020-06-30).")
@click.option("--started-before", metavar="DATE", help="Trials started on or before DATE.")
@click.option("--completed-after", metavar="DATE", help="Trials completed on or after DATE.")
@click.option("--completed-before", metavar="DATE", help="Trials completed on or before DATE.")
@click.option("--trials", "trials", is_flag=True, help="Search trials (title, conditions, interventions, summary) "
              "instead of criteria.")
@click.option("--exact", is_flag=True, help="Search the words as written: no synonyms, abbreviations or class members.")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True, help="Most hits (or trials) shown.")
@click.option("--group-by", type=click.Choice(["trial"]), help="One row per trial with its matching criteria.")
@click.option("--count", "count_only", is_flag=True,
              help="Print how many criteria match (trials with --trials or --group-by trial), with facet counts.")
@click.option("--facets", is_flag=True, help="Also print counts by status, phase, polarity and country.")
@click.option("--show-query", is_flag=True, help="Print the query as it runs (expansions, filters) and stop.")
@index_options
@store_option
@output_options
@library_errors
def search(query, polarity, status, phase, age, window_min, window_max, drug, condition, values, started_after,
           started_before, completed_after, completed_before, trials, exact, limit, group_by, count_only, facets,
           show_query, index_dir, engine, store_path, fmt):
    """Search eligibility criteria across trials; hits are criteria with their trial.

    QUERY: words (case-folded, inflections and British spellings joined; a
    drug, condition or class also finds its synonyms, abbreviations and member
    drugs), "phrases", AND/OR/NOT, (groups), prefix*, fuzzy~, and fields such
    as polarity:exclusion drug:"CAR T" condition:GvHD status:recruiting
    phase:2 category:therapy trial:NCT06054113 country:france value:hba1c<=8.
    """
    text = " ".join(query)
    if facets and fmt == "csv":
        raise click.UsageError("--facets cannot go with --csv (use --count --csv for the counts)")
    try:
        filters = Filters(
            polarity=polarity, status=status, phase=phase,
            age_years=age_in_years(age) if age else None,
            window_min_days=parse_duration(window_min) if window_min else None,
            window_max_days=parse_duration(window_max) if window_max else None,
            drug=drug, condition=condition, values=values, started_after=started_after, started_before=started_before,
            completed_after=completed_after, completed_before=completed_before)
        if trials and (polarity or window_min or window_max or group_by):
            raise QueryError("--trials searches whole trials: --polarity, --window-min/max and --group-by "
                             "apply to criteria")
        if not show_query:
            SearchIndex(index_dir, engine=engine).check_usable()
            _warn_if_stale(SearchIndex(index_dir, engine=engine), store_path)
        result = run_query(text, filters=filters, index_dir=index_dir, engine=engine, limit=limit, exact=exact,
                           trials=trials, group_by=group_by, count=count_only, facets=facets,
                           show_query=show_query)
    except QueryError as exc:
        raise click.UsageError(str(exc)) from None
    if show_query:
        click.echo(result.query)
        return
    if count_only:
        _print_counts(result, fmt=fmt, unit="trials" if trials or group_by else "criteria")
        found = result.total
    else:
        _print_hits(result, group_by=group_by, trials=trials, fmt=fmt)
        found = len(result.hits)
    if not found:
        _no_results(index_dir, engine, text, result, trials=trials)


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
    finally:
        target.close()
    if stale:
        message(f"warning: the search index is behind the store {path}: run `ptk index`")


def _print_counts(result, *, fmt: str, unit: str) -> None:
    """Print the number of matches and the facet counts."""
    total, counts = result.total, result.facets
    if fmt == "json":
        emit_json({"count": total, "unit": unit, "facets": counts})
    elif fmt == "jsonl":
        emit_jsonl([{"count": total, "unit": unit, "facets": counts}])
    elif fmt == "csv":
        emit([{"facet": "total", "value": "", unit: total}] + _facet_rows(counts, unit), fmt=fmt)
    elif total:
        click.echo(f"{total:,} {unit}\n")
        emit(_facet_rows(counts, unit), fmt=fmt, columns=["facet", "value", unit])
    else:
        click.echo(f"0 {unit}")


def _facet_rows(counts: dict, unit: str = "criteria") -> list:
    return [{"facet": facet, "value": value, unit: n}
            for facet, values in counts.items() for value, n in values.items()]


def _print_hits(result, *, group_by, trials: bool, fmt: str) -> None:
    """Hits (or trial groups) in the chosen format; facet counts after them when given."""
    facets = result.facets
    if group_by:
        json_like = fmt in ("json", "jsonl")
        rows = [g.to_dict() if json_like else dict(g.to_dict(), criteria=[h.criterion_id for h in g.hits])
                for g in result.groups]
        columns = GROUP_COLUMNS
    elif trials:
        rows, columns = [hit.to_dict() for hit in result.hits], TRIAL_COLUMNS
    else:
        rows, columns = [hit.to_dict() for hit in result.hits], HIT_COLUMNS + ("text", "snippet")
    if fmt == "json" and facets is not None:
        emit_json({"hits": rows, "facets": facets})
    elif fmt == "table" and not group_by and not trials:
        if rows:
            _print_hit_table(result.hits)
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


def _no_results(index_dir, engine, text: str, result, *, trials: bool) -> None:
    message(f"no {'trials' if trials else 'criteria'} match the query")
    if result.emptied_by:
        message(f"the query alone matches; {result.emptied_by} removed every hit")
        return
    words = _plain_words(text)
    if not words:
        return
    target = SearchIndex(index_dir, engine=engine)
    try:
        suggestions = suggest_terms(target, words)
    finally:
        target.close()
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
