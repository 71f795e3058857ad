"""`ptk history` and `ptk diff`: follow a trial's versions and compare them.

Versions come from the corpus store, or from files (`--input`, or two
paths given to `ptk diff`) in any format the readers know.
"""

from __future__ import annotations

import os
from typing import List, Sequence

import click

from toolkit.cli.options import library_errors, store_option
from toolkit.errors import ToolkitError
from toolkit.cli.output import emit, emit_json, emit_jsonl, message, output_options

__all__ = ["history", "diff"]

_HISTORY_COLUMNS = ["seq", "version", "date", "status", "enrollment", "enrollment_type", "changed"]


def _input_option(command):
    return click.option(
        "-i", "--input", "inputs", multiple=True, type=click.Path(exists=True),
        help="Read versions from this file (any supported format) instead of the store; repeatable.",
    )(command)


@click.command()
@click.argument("trial_id")
@click.option("--registry", metavar="NAME", help="Registry, when the trial id is ambiguous.")
@_input_option
@store_option
@output_options
@library_errors
def history(trial_id, registry, inputs, store_path, fmt):
    """Every version of a trial: date, status, enrollment, what changed."""
    from toolkit.diff.history import history_rows

    rows = history_rows(_versions(trial_id, registry=registry, inputs=inputs, store_path=store_path))
    if fmt == "json":
        emit_json({"trial_id": trial_id, "versions": rows})
    else:
        emit(rows, fmt=fmt, columns=_HISTORY_COLUMNS)


@click.command()
@click.argument("items", nargs=-1, required=True, metavar="TRIAL_ID | OLD NEW")
@click.option("--from", "from_", metavar="V",
              help="Old version: vN (N-th version), label, date or hash prefix; an ambiguous value is an error.")
@click.option("--to", "to", metavar="V", help="New version (default: the latest).")
@click.option("--registry", metavar="NAME", help="Registry, when the trial id is ambiguous.")
@click.option("--summary", is_flag=True, help="OLD_DUMP NEW_DUMP: one line per trial (added, removed, changed, parts).")
@click.option("--json", "as_json", is_flag=True, help="Output the diff as JSON.")
@click.option("--html", "as_html", is_flag=True, help="Output one self-contained HTML page.")
@click.option("--all", "show_all", is_flag=True, help="Show unchanged criteria and outcomes too.")
@click.option("--significance", type=click.Choice(["substantive", "cosmetic"]),
              help="Only changes of this significance (cosmetic: case, punctuation, renumbering, same words).")
@click.option("--exit-code", is_flag=True, help="Exit with 1 when the versions differ (like git diff).")
@click.option("--tag/--no-tag", default=True, show_default=True,
              help="Tag criteria read from files (drugs, windows, values) before comparing.")
@_input_option
@store_option
@library_errors
@click.pass_context
def diff(ctx, items, from_, to, registry, summary, as_json, as_html, show_all, significance, exit_code, tag, inputs,
         store_path):
    """Compare two versions of a trial, two record files, or two dumps.

    \b
    ptk diff NCT02007772                 the last two stored versions
    ptk diff NCT02007772 --from v4 --to v5 --html > diff.html
    ptk diff NCT02007772 --significance substantive   what changed in substance
    ptk diff old.json new.json           two files holding one trial each
    ptk diff old_dump new_dump --summary per trial: added, removed, changed parts
    """
    if as_json and as_html:
        raise click.UsageError("choose one of --json, --html")
    if summary or (len(items) == 2 and _both_paths(items) and _is_dump(items)):
        differs = _run_summary(items, as_json=as_json)
    else:
        old, new = _pair(items, from_=from_, to=to, registry=registry, inputs=inputs,
                         store_path=store_path, tag=tag)
        differs = _show_pair(old, new, as_json=as_json, as_html=as_html, show_all=show_all,
                             significance=significance)
    if exit_code and differs:
        ctx.exit(1)


def _both_paths(items: Sequence[str]) -> bool:
    return all(os.path.exists(item) for item in items)


def _is_dump(items: Sequence[str]) -> bool:
    return any(os.path.isdir(item) for item in items)


def _pair(items, *, from_, to, registry, inputs, store_path, tag):
    from toolkit.diff.versions import resolve_pair

    if len(items) == 2 and _both_paths(items):
        if from_ or to:
            raise click.UsageError("--from/--to choose versions of one trial; give a TRIAL_ID")
        return _single(items[0], tag=tag), _single(items[1], tag=tag)
    if len(items) != 1:
        raise click.UsageError("give one TRIAL_ID, or two existing files OLD NEW")
    versions = _versions(items[0], registry=registry, inputs=inputs, store_path=store_path, tag=tag)
    return resolve_pair(versions, from_, to)


def _show_pair(old, new, *, as_json: bool, as_html: bool, show_all: bool, significance=None) -> bool:
    from toolkit.diff import diff_records
    from toolkit.diff.render_html import render_html
    from toolkit.diff.render_text import render_text

    result = diff_records(old, new)
    if significance:
        result = result.only(significance)
    if as_json:
        emit_json(result.to_dict(include_unchanged=show_all))
    elif as_html:
        click.echo(render_html(result, show_unchanged=True), nl=False)
    else:
        click.echo(render_text(result, show_unchanged=show_all, show_cosmetic=show_all or significance == "cosmetic"))
    return result.changed


def _run_summary(items, *, as_json: bool) -> bool:
    from toolkit.diff.history import summarize_dumps

    if len(items) != 2:
        raise click.UsageError("--summary needs OLD_DUMP NEW_DUMP")
    rows = summarize_dumps(_records([items[0]], tag=False), _records([items[1]], tag=False))
    totals: dict = {}

    def counted(stream):
        for row in stream:
            totals[row["change"]] = totals.get(row["change"], 0) + 1
            yield row

    if as_json:
        emit_jsonl(counted(rows))
    else:
        for row in counted(rows):
            if row["change"] != "unchanged":
                parts = f"  [{', '.join(row['parts'])}]" if row["parts"] else ""
                click.echo(f"{row['change']:<9} {row['registry']}:{row['trial_id']}{parts}")
    message(", ".join(f"{count:,} {change}" for change, count in sorted(totals.items())) or "no trials")
    return any(change != "unchanged" for change in totals)


def _records(paths: Sequence[str], *, tag: bool):
    """Parsed records of files; failures are reported on stderr and skipped."""
    from toolkit.ingest import default_tagger, iter_parsed

    tagger = default_tagger() if tag else None
    for outcome in iter_parsed(list(paths), tagger=tagger):
        if outcome.failure is not None:
            message(f"skipped: {outcome.failure.describe()}")
        if outcome.record is not None:
            yield outcome.record


def _single(path: str, *, tag: bool):
    records = list(_records([path], tag=tag))
    if len(records) != 1:
        found = "no record" if not records else f"{len(records)} records"
        raise ToolkitError(f"{path}: {found}; give a TRIAL_ID with --input to pick versions, or use --summary")
    return records[0]


def _versions(trial_id: str, *, registry, inputs, store_path, tag: bool = False) -> List:
    """Every distinct version of a trial, oldest first, from files or the store."""
    from toolkit.diff.versions import dedupe, select

    if inputs:
        tagger = None
        if tag:
            from toolkit.ingest import default_tagger
            tagger = default_tagger()
        try:
            return select(_records(inputs, tag=False), trial_id, registry=registry, tagger=tagger)
        except ToolkitError:
            raise ToolkitError(f"{trial_id} is in none of: {', '.join(inputs)}") from None
    from toolkit.store import Store

    with Store(store_path) as store:
        infos = store.versions(trial_id, registry=registry)
        return dedupe(store.get(trial_id, registry=i.registry, version=i.content_hash) for i in infos)
