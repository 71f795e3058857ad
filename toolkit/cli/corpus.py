"""`ptk parse`, `ptk show`, `ptk stats`: fill the corpus store and look into it."""

from __future__ import annotations

import click

from toolkit.cli.options import library_errors, store_option
from toolkit.cli.output import Progress, emit, emit_json, format_record, message, quiet_option
from toolkit.canonical import compact_json

__all__ = ["parse", "show", "stats"]


# --- ptk parse ------------------------------------------------------------------

@click.command()
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
@click.option("--cluster", metavar="ADDRESS",
              help="Read, parse and tag on a Dask cluster (tcp://scheduler:8786); this process writes the store."
                   " Needs pip install 'ptk[cluster]'.")
@click.option("--max-record-mb", type=click.FloatRange(min=0, min_open=True), metavar="MB",
              help="Largest record accepted, in MiB, counted while decompressing"
                   " (default: $PTK_MAX_RECORD_MB, else 8).")
@library_errors
def parse(paths, format_, store_path, jsonl_out, strict, quiet, jobs, no_tag, cluster, max_record_mb):
    """Parse registry dumps (files, folders, .zip, .tar.gz, '-') into the corpus store.

    Exit code 0 when every record went in, 1 when any record failed. When the
    records are stored but the search index cannot be refreshed (another
    process holds its lock), the index is said to be behind and the exit code
    stays 0: `ptk index` brings it up to date later.
    """
    import os

    from toolkit.ingest import default_tagger, run_parse
    from toolkit.io.limits import ENV_VAR
    from toolkit.store import Store

    if max_record_mb:
        os.environ[ENV_VAR] = f"{max_record_mb:g}"  # read by the readers, in worker processes too

    tagger = None if no_tag else default_tagger()
    with Store(store_path, create=True) as store, Progress("parsing", quiet=quiet) as progress:
        summary = run_parse(
            list(paths), store=store, format=format_, strict=strict, tagger=tagger, jobs=jobs, cluster=cluster,
            on_record=_record_sink(jsonl_out, progress),
            on_failure=lambda failure: progress.update(0, failed=1))
        _report_parse(summary, store_path=store.path, quiet=quiet)
        _refresh_index(store, quiet=quiet, jobs=jobs)
    if not summary.ok:
        raise SystemExit(1)


def _refresh_index(store, *, quiet: bool, jobs: int) -> None:
    """Keep an existing search index current; a locked index is reported as behind, not as a failure."""
    from toolkit.errors import SearchIndexError
    from toolkit.index import refresh

    try:
        refresh(store, jobs=jobs, on_status=None if quiet else _report_index)
    except SearchIndexError as exc:
        message(f"records stored; the search index is behind ({exc}); run `ptk index` to bring it up to date")


def _report_index(path: str, status) -> None:
    """One line on stderr per search index kept current by `ptk parse`."""
    action = "up to date" if status.current else f"updated ({status.describe()})"
    message(f"search index {path}: {action}")


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

@click.command()
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
        aliases = store.aliases(trial_id, registry=record.registry)
    if as_json or view == "json":
        emit_json(record.to_dict())
    elif view == "page":
        from toolkit.formats.ctgov_page.render import render_page

        click.echo(render_page(record))
    else:
        click.echo(format_record(record, versions=versions))
        click.echo(_format_aliases(aliases))


def _format_aliases(aliases) -> str:
    """The "Aliases" block of `ptk show`: ids in linked registries, and who else is stored under them."""
    lines = ["", "Aliases (the same trial in other registries):"]
    for alias in aliases[1:]:
        stored = ", ".join(f"{registry}:{trial}" for registry, trial in alias.stored)
        lines.append(f"  {alias.registry:<7} {alias.id}" + (f"  (stored: {stored})" if stored else ""))
    own = aliases[0] if aliases else None
    if own is not None and own.stored:
        lines.append(f"  {own.registry:<7} {own.id}  (stored: "
                     + ", ".join(f"{r}:{t}" for r, t in own.stored) + ")")
    if len(lines) == 2:
        lines.append("  (none)")
    return "\n".join(lines)


# --- ptk stats ------------------------------------------------------------------


def _check_store(store) -> None:
    """`--check`: report the store's damage and exit 1, or say it is sound."""
    problems = store.check()
    if problems:
        for problem in problems:
            message(f"store check: {problem}")
        message(f"{store.path}: corrupt corpus store; restore a copy or parse the dumps again into a new store")
        raise SystemExit(1)
    message(f"store check: {store.path}: ok")

@click.command()
@click.option("--json", "as_json", is_flag=True, help="Output one JSON document.")
@click.option("--check", is_flag=True,
              help="Check the store's pages (SQLite quick_check) first; exit 1 when damaged.")
@store_option
@library_errors
def stats(as_json, check, store_path):
    """Counts of the corpus: by registry, status, phase, study type; versions per trial."""
    from toolkit.store import Store

    with Store(store_path) as store:
        if check:
            _check_store(store)
        numbers = store.stats()
    if as_json:
        emit_json(numbers.to_dict())
        return
    click.echo(f"{numbers.trials:,} trials, {numbers.versions:,} versions")
    click.echo(f"{numbers.unique_trials:,} unique trials (the records of one trial in several"
               f" registries linked by their ids)")
    for title, counts in (("registry", numbers.by_registry), ("status", numbers.by_status),
                          ("phase", numbers.by_phase), ("study type", numbers.by_study_type),
                          ("versions per trial", numbers.versions_per_trial),
                          ("records per linked trial", numbers.linked)):
        if counts:
            click.echo("")
            emit([{title: key, "trials": count} for key, count in counts.items()],
                 fmt="table", columns=[title, "trials"])
    _echo_unmapped(numbers.unmapped)


def _echo_unmapped(unmapped: dict) -> None:
    """Values outside the one vocabulary, kept as the registry wrote them, with the reason."""
    from toolkit.normalize.vocabulary import unmappable_reason

    rows = [{"field": kind, "unmapped value": value, "trials": count,
             "why": unmappable_reason(kind, value) or "" if kind != "country" else ""}
            for kind, counts in unmapped.items() for value, count in counts.items()]
    click.echo("")
    if not rows:
        click.echo("unmapped values: none (every status, phase, study type, sex and country is in the vocabulary)")
        return
    emit(rows, fmt="table", columns=["field", "unmapped value", "trials", "why"])
