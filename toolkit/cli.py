"""Command-line interface: a thin click layer over the library.

Library errors (`ToolkitError`) become exit code 1 with a one-line message;
usage errors are click's exit code 2.
"""

from __future__ import annotations

import functools

import click

from toolkit import __version__
from toolkit.errors import ToolkitError
from toolkit.records import compact_json
from toolkit.output import (
    Progress, emit, emit_json, format_record, message, quiet_option,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ptk")
def main() -> None:
    """ptk: parse, search and diff clinical-trial registry records."""


def library_errors(command):
    """Turn a `ToolkitError` raised by the library into exit code 1 and its message."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ToolkitError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def store_option(command):
    """Add `--store PATH`: the corpus store (directory or file; default $PTK_STORE
    or corpus/ptk.sqlite)."""
    return click.option(
        "--store", "store_path", type=click.Path(dir_okay=True, file_okay=True),
        help="Corpus store: a directory (holding ptk.sqlite) or a file."
             " Default: $PTK_STORE, else corpus/ptk.sqlite.")(command)


# --- ptk parse ------------------------------------------------------------------

@main.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, allow_dash=True))
@click.option("--format", "format_", metavar="FORMAT",
              help="Reader format (ctgov_json, ctgov_xml, ictrp_xml, page ...);"
                   " detected per file by default.")
@store_option
@click.option("--jsonl", "jsonl_out", type=click.File("w", lazy=False), metavar="FILE|-",
              help="Also write every parsed record as a JSON line ('-' for stdout).")
@click.option("--strict", is_flag=True,
              help="Stop at the first bad record; the batch in progress is not stored.")
@quiet_option
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes for parsing.")
@click.option("--no-tag", is_flag=True, help="Do not run the NLP taggers on the criteria.")
@library_errors
def parse(paths, format_, store_path, jsonl_out, strict, quiet, jobs, no_tag):
    """Parse registry dumps (files, folders, .zip, .tar.gz, '-') into the corpus store.

    Exit code 0 when every record went in, 1 when any record failed.
    """
    from toolkit.pipeline import default_tagger, run_parse
    from toolkit.store import Store

    tagger = None if no_tag else default_tagger()
    with Store(store_path, create=True) as store, Progress("parsing", quiet=quiet) as progress:
        summary = run_parse(
            list(paths), store=store, format=format_, strict=strict, tagger=tagger, jobs=jobs,
            on_record=_record_sink(jsonl_out, progress),
            on_failure=lambda failure: progress.update(0, failed=1))
        _report_parse(summary, store_path=store.path, quiet=quiet)
        from toolkit.index import refresh  # keeps an existing search index current
        refresh(store, quiet=quiet, jobs=jobs)
    if not summary.ok:
        raise SystemExit(1)


def _record_sink(jsonl_out, progress):
    """The per-record callback: count it, and stream it as a JSON line if asked."""

    def on_record(record):
        progress.update()
        if jsonl_out is not None:
            jsonl_out.write(compact_json(record.to_dict()).decode("utf-8") + "\n")

    return on_record


def _report_parse(summary, *, store_path, quiet: bool) -> None:
    """The closing summary on stderr: counts, then one line per failure."""
    if not quiet:
        message(f"read {summary.read:,} records: {summary.new_trials:,} new trials,"
                f" {summary.new_versions:,} new versions, {summary.unchanged:,} unchanged,"
                f" {len(summary.failed):,} failed  -> {store_path}")
    for failure in summary.failed:
        message(f"failed: {failure.describe()}")
    if summary.stopped:
        message("stopped at the first failure (--strict): the batch in progress was not stored")


# --- ptk show -------------------------------------------------------------------

@main.command()
@click.argument("trial_id")
@click.option("--version", "version", metavar="V",
              help="Version label, date, sequence number or content-hash prefix (default: latest).")
@click.option("--registry", metavar="NAME", help="Registry, when the trial id is ambiguous.")
@click.option("--format", "view", type=click.Choice(["text", "json", "page"]), default="text",
              show_default=True, help="text: readable summary; json: the record; page: registry page.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@store_option
@library_errors
def show(trial_id, version, registry, view, as_json, store_path):
    """Show one version of a stored trial record."""
    from toolkit.store import Store

    with Store(store_path) as store:
        record = store.get(trial_id, registry=registry, version=version)
        versions = store.versions(trial_id, registry=record.registry)
    if as_json or view == "json":
        emit_json(record.to_dict())
    elif view == "page":
        from toolkit.render.page import render_page

        click.echo(render_page(record))
    else:
        click.echo(format_record(record, versions=versions))


# --- ptk stats ------------------------------------------------------------------

@main.command()
@click.option("--json", "as_json", is_flag=True, help="Output one JSON document.")
@store_option
@library_errors
def stats(as_json, store_path):
    """Counts of the corpus: by registry, status, phase, study type; versions per trial."""
    from toolkit.store import Store

    with Store(store_path) as store:
        numbers = store.stats()
    if as_json:
        emit_json(numbers.to_dict())
        return
    click.echo(f"{numbers.trials:,} trials, {numbers.versions:,} versions")
    for title, counts in (("registry", numbers.by_registry), ("status", numbers.by_status),
                          ("phase", numbers.by_phase), ("study type", numbers.by_study_type),
                          ("versions per trial", numbers.versions_per_trial)):
        click.echo("")
        emit([{title: key, "trials": count} for key, count in counts.items()],
             fmt="table", columns=[title, "trials"])


# Commands of other modules register themselves below (one import each).
from toolkit.cli_diff import diff, history  # noqa: E402

main.add_command(history)
main.add_command(diff)
from toolkit.cli_tag import tag  # noqa: E402
main.add_command(tag)
from toolkit.cli_search import index as _index_command, search as _search_command  # noqa: E402

main.add_command(_search_command)
main.add_command(_index_command)
from toolkit.cli_changes import changes as _changes_command, check as _check_command  # noqa: E402
main.add_command(_changes_command)
main.add_command(_check_command)
