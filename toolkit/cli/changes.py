"""`ptk changes` and `ptk check`: change events across the corpus, conflicts within a version.

`ptk changes` keeps a change log beside the store (`toolkit.diff.changes`)
and brings it up to date before each query: only version pairs the store
gained since the last run are diffed.
"""

from __future__ import annotations

import click

from toolkit.cli.options import library_errors, store_option
from toolkit.errors import ToolkitError
from toolkit.cli.output import Progress, emit, emit_json, message, output_options, quiet_option

__all__ = ["changes", "check"]

_CHANGE_COLUMNS = ["registry", "trial_id", "date", "old_version", "new_version", "kind", "significance", "message"]
_SUMMARY_COLUMNS = ["kind", "events", "trials", "share"]
_CONFLICT_COLUMNS = ["registry", "trial_id", "version", "kind", "structured", "stated", "criterion", "message"]


@click.command()
@click.option("--event", "events", multiple=True, metavar="KIND",
              help="Only this event kind, or a group: primary_outcome, primary_outcome_omitted, "
                   "start_date_moved, age_range, outcome (repeatable).")
@click.option("--significance", type=click.Choice(["substantive", "cosmetic"]), help="Only this significance.")
@click.option("--since", metavar="DATE", help="Changes dated on or after DATE (the new version's date).")
@click.option("--until", metavar="DATE", help="Changes dated on or before DATE.")
@click.option("--after", type=click.Choice(["start", "primary-completion", "registration"]),
              help="Changes made after the trial's start, primary completion or registration date.")
@click.option("--registry", metavar="NAME", help="Only trials of this registry.")
@click.option("--trial", "trial_id", metavar="TRIAL_ID", help="Only this trial.")
@click.option("--summary", is_flag=True, help="Counts per event kind and the share of trials with each.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes that diff new versions side by side.")
@store_option
@quiet_option
@output_options
@library_errors
def changes(events, significance, since, until, after, registry, trial_id, summary, jobs, store_path, quiet, fmt):
    """Change events across every stored trial (kept up to date as versions arrive).

    \b
    ptk changes --event primary_outcome --significance substantive
    ptk changes --event start_date_moved --after registration --csv
    ptk changes --summary
    """
    from toolkit.diff.changes import ChangeFilter, ChangeLog, changes_path
    from toolkit.store import Store

    where = ChangeFilter.build(events=events, significance=significance, since=since, until=until,
                               after=after, registry=registry, trial_id=trial_id)
    with Store(store_path) as store, ChangeLog(changes_path(store.path)) as log:
        with Progress("diffing new versions", quiet=quiet, unit="trials") as bar:
            done = log.sync(store, jobs=jobs, progress=lambda n: bar.update(n - bar.count))
        if done.pairs and not quiet:
            message(f"{done.pairs:,} new version pair(s) of {done.updated:,} trial(s) diffed")
        if summary:
            _emit_summary(log.summary(where), fmt)
        else:
            rows = list(log.events(where))
            emit(rows, fmt=fmt, columns=_CHANGE_COLUMNS if fmt in ("table", "csv") else None)


def _emit_summary(data: dict, fmt: str) -> None:
    if fmt == "json":
        emit_json(data)
        return
    rows = [dict(row, share=f"{100 * row['share']:.1f}%" if fmt == "table" else row["share"]) for row in data["kinds"]]
    emit(rows, fmt=fmt, columns=_SUMMARY_COLUMNS)
    if fmt == "table":
        message(f"{data['trials']:,} trials, {data['trials_with_history']:,} with two or more versions")


@click.command()
@click.argument("trial_id", required=False)
@click.option("--all", "check_all", is_flag=True, help="Check the latest version of every stored trial.")
@click.option("--registry", metavar="NAME", help="Registry, when the trial id is ambiguous (or to limit --all).")
@click.option("-i", "--input", "inputs", multiple=True, type=click.Path(exists=True),
              help="Read records from this file instead of the store; repeatable.")
@store_option
@output_options
@library_errors
@click.pass_context
def check(ctx, trial_id, check_all, registry, inputs, store_path, fmt):
    """Conflicts between structured eligibility fields and the criteria text.

    \b
    ptk check NCT00938743                minimum age 18 against "16-50 years of age"
    ptk check --all --json               every stored trial's latest version
    Exit code 1 when a conflict is found.
    """
    if bool(trial_id) == check_all:
        raise click.UsageError("give a TRIAL_ID or --all")
    from toolkit.diff.conflicts import find_conflicts

    found = [c.to_dict() for record in _latest(trial_id, registry, inputs, store_path) for c in find_conflicts(record)]
    if fmt == "json":
        emit_json(found)
    elif found or fmt != "table":
        emit(found, fmt=fmt, columns=_CONFLICT_COLUMNS)
    else:
        message("no conflicts")
    if found:
        ctx.exit(1)


def _latest(trial_id, registry, inputs, store_path):
    """The latest version of one trial (or of every trial), from files or the store."""
    if inputs:
        from toolkit.ingest import iter_parsed

        latest = {}
        for outcome in iter_parsed(list(inputs)):
            record = outcome.record
            if record is not None and (trial_id is None or record.trial_id == trial_id) and (
                    registry is None or record.registry == registry):
                latest[record.key] = record
        if trial_id and not latest:
            raise ToolkitError(f"{trial_id} is in none of: {', '.join(inputs)}")
        yield from latest.values()
        return
    from toolkit.store import Store

    with Store(store_path) as store:
        if trial_id:
            yield store.get(trial_id, registry=registry)
        else:
            yield from store.iter_latest(registry=registry)
