"""`ptk export`: the corpus store as flat tables (Parquet, CSV or SQLite)."""

from __future__ import annotations

import click

from toolkit.cli.options import library_errors, store_option
from toolkit.cli.output import Progress, emit, emit_json, message, quiet_option

__all__ = ["export"]


@click.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv", "sqlite"]), default="parquet",
              show_default=True, help="parquet: one file per table; csv: one file per table;"
                                      " sqlite: one ptk_export.sqlite with every table.")
@click.option("--latest/--all-versions", "latest", default=True, show_default=True,
              help="The latest version of each trial, or every stored version.")
@click.option("--registry", metavar="NAME", help="Only this registry (ctgov, chictr, euctr ...).")
@click.option("--events", is_flag=True,
              help="Also write the events table: what changed from each version to the next"
                   " (use with --all-versions).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON document.")
@store_option
@quiet_option
@library_errors
def export(folder, fmt, latest, registry, events, as_json, store_path, quiet):
    """Export the corpus as documented flat tables: trials, conditions, interventions,
    outcomes, sites, sponsors, ids, criteria, tags (and events).

    Columns and types are listed in the README ("Export") and in
    toolkit/export/tables.json. Tables in FOLDER are replaced.
    """
    from toolkit.export import export_store
    from toolkit.store import Store

    with Store(store_path) as store, Progress("exporting", quiet=quiet, unit="versions") as progress:
        summary = export_store(store, folder, fmt=fmt, all_versions=not latest, registry=registry,
                               events=events, on_version=progress.update)
    if as_json:
        emit_json(summary.to_dict())
        return
    if not quiet:
        message(f"exported {summary.versions:,} versions as {fmt} -> {folder}")
    emit([{"table": name, "rows": rows, "file": summary.files[name]}
          for name, rows in summary.rows.items()], fmt="table", columns=["table", "rows", "file"])
