"""`ptk export` on real tagged records: row counts equal the store's, stable columns, DuckDB."""

from __future__ import annotations

import csv
import json
import re
import sqlite3

import pytest
from click.testing import CliRunner

from conftest import CORPUS, REPO
from toolkit.cli import main
from toolkit.export import TABLES, export_store
from toolkit.store import Store

README = (REPO / "README.md").read_text(encoding="utf-8")
SOURCES = [CORPUS / "seed", CORPUS / "history", CORPUS / "ictrp"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store of the seed page, two version histories and the ICTRP sample, tagged."""
    from toolkit.ingest import default_tagger, iter_parsed

    path = tmp_path_factory.mktemp("export") / "store"
    records = [o.record for o in iter_parsed([str(p) for p in SOURCES], tagger=default_tagger())
               if o.record is not None]
    with Store(path, create=True) as opened:
        opened.put_many(records)
    with Store(path) as opened:
        yield opened


def _expected_rows(store: Store, *, latest_only: bool) -> dict:
    """Rows every table must hold, counted from the decoded records of the store."""
    from toolkit.store import decode_body

    counts = dict.fromkeys(TABLES, 0)
    for stored in store.iter_versions(latest_only=latest_only):
        record = decode_body(stored.codec, stored.body)
        criteria = list(record.all_criteria())
        for name, n in (("trials", 1), ("conditions", len(record.conditions)),
                        ("interventions", len(record.interventions)), ("outcomes", len(record.outcomes)),
                        ("sites", len(record.locations)), ("sponsors", len(record.sponsors)),
                        ("ids", len(record.secondary_ids)), ("criteria", len(criteria)),
                        ("tags", sum(len(c.tags) for c in criteria))):
            counts[name] += n
    del counts["events"]
    return counts


@pytest.mark.parametrize("fmt", ["parquet", "csv", "sqlite"])
@pytest.mark.parametrize("latest_only", [True, False])
def test_export_row_counts_equal_the_store(store, tmp_path, fmt, latest_only):
    summary = export_store(store, tmp_path / "out", fmt=fmt, all_versions=not latest_only)
    expected = _expected_rows(store, latest_only=latest_only)
    assert summary.rows == expected
    assert summary.versions == store.count_versions(latest_only=latest_only)
    assert expected["tags"] > 100 and expected["criteria"] > 100  # the fixture is tagged
    assert _rows_on_disk(fmt, tmp_path / "out") == expected


def _rows_on_disk(fmt: str, folder) -> dict:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return {name: pq.ParquetFile(folder / f"{name}.parquet").metadata.num_rows
                for name in TABLES if name != "events"}
    if fmt == "csv":
        counts = {}
        for name in TABLES:
            if name != "events":
                with open(folder / f"{name}.csv", encoding="utf-8", newline="") as handle:
                    counts[name] = sum(1 for _ in csv.reader(handle)) - 1
        return counts
    db = sqlite3.connect(folder / "ptk_export.sqlite")
    return {name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in TABLES if name != "events"}


def test_export_parquet_columns_and_types_are_the_documented_ones(store, tmp_path):
    import pyarrow.parquet as pq

    export_store(store, tmp_path, events=True, all_versions=True)
    arrow_names = {"string": "string", "int64": "int64", "float64": "double", "bool": "bool"}
    for table in TABLES.values():
        schema = pq.read_schema(tmp_path / f"{table.name}.parquet")
        assert schema.names == list(table.names)
        assert [str(f.type) for f in schema] == [arrow_names[c.type] for c in table.columns]


def test_export_all_versions_marks_one_latest_per_trial_and_writes_events(store, tmp_path):
    import pyarrow.parquet as pq

    export_store(store, tmp_path, all_versions=True, events=True)
    trials = pq.read_table(tmp_path / "trials.parquet").to_pylist()
    by_trial = {}
    for row in trials:
        by_trial.setdefault((row["registry"], row["trial_id"]), []).append(row)
    assert all(sum(r["latest"] for r in rows) == 1 for rows in by_trial.values())
    history = sorted(r["seq"] for r in by_trial[("ctgov", "NCT02007772")])
    assert history == list(range(1, len(history) + 1)) and len(history) > 2
    events = pq.read_table(tmp_path / "events.parquet").to_pylist()
    assert {e["trial_id"] for e in events} >= {"NCT02007772"}
    assert all(e["from_seq"] == e["seq"] - 1 for e in events)


def test_export_criteria_keep_the_tree_and_offsets(store, tmp_path):
    import pyarrow.parquet as pq

    export_store(store, tmp_path)
    record = store.get("NCT06054113")
    rows = [r for r in pq.read_table(tmp_path / "criteria.parquet").to_pylist()
            if r["trial_id"] == "NCT06054113"]
    assert [r["criterion_id"] for r in rows] == [c.id for c in record.all_criteria()]
    text = record.eligibility.text
    nested = [r for r in rows if r["parent_id"]]
    assert nested and all(r["criterion_id"].startswith(r["parent_id"] + ".") for r in nested)
    assert all(r["text"].split()[0] in text[r["start"]:r["end"]] for r in rows)


def test_export_registry_filter(store, tmp_path):
    summary = export_store(store, tmp_path, fmt="csv", registry="chictr")
    with open(tmp_path / "trials.csv", encoding="utf-8") as handle:
        registries = {row["registry"] for row in csv.DictReader(handle)}
    assert registries == {"chictr"} and summary.versions == store.count_versions(registry="chictr")


def _readme_export_section() -> str:
    return README.split("## Export", 1)[1].split("\n## ", 1)[0]


def test_export_readme_documents_every_table_and_column():
    section = _readme_export_section()
    for table in TABLES.values():
        assert f"### `{table.name}`" in section
        block = section.split(f"### `{table.name}`", 1)[1].split("\n### ", 1)[0]
        documented = re.findall(r"^\| `([a-z_]+)` \| (\w+) \|", block, flags=re.MULTILINE)
        assert documented == [(c.name, c.type) for c in table.columns]


def test_export_readme_duckdb_example_runs(store, tmp_path, monkeypatch):
    duckdb = pytest.importorskip("duckdb")
    query = re.search(r"```sql\n(.*?)```", _readme_export_section(), flags=re.DOTALL).group(1)
    export_store(store, tmp_path)
    monkeypatch.chdir(tmp_path)
    rows = duckdb.sql(query).fetchall()
    assert rows and all(trials >= 1 and criteria >= trials for _, trials, criteria in rows)
    # the same count computed from the store itself
    expected = {}
    for record in store.iter_latest():
        hits = [c for c in record.all_criteria()
                if c.polarity == "exclusion" and any(t.label == "drug" for t in c.tags)]
        if hits:
            trials, criteria = expected.get(record.status, (0, 0))
            expected[record.status] = (trials + 1, criteria + len(hits))
    assert {status: (t, c) for status, t, c in rows} == expected


def test_export_cli_writes_tables_and_reports_counts(store, tmp_path):
    result = CliRunner().invoke(main, ["export", str(tmp_path / "out"), "--format", "csv", "--json",
                                       "-q", "--store", str(store.path)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rows"] == _expected_rows(store, latest_only=True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{name}.csv" for name in TABLES if name != "events")


def test_export_cli_missing_store_is_a_clean_error(tmp_path):
    result = CliRunner().invoke(main, ["export", str(tmp_path / "out"), "--store", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no corpus store" in result.output and "Traceback" not in result.output


def test_export_keeps_the_registry_spelling_beside_the_vocabulary(tmp_path):
    import pyarrow.parquet as pq

    from toolkit.ingest import iter_parsed

    fixture = REPO / "tests" / "fixtures" / "normalize" / "ictrp_versions_odd_values.jsonl"
    with Store(tmp_path / "s", create=True) as opened:
        opened.put_many(o.record for o in iter_parsed([str(fixture)]))
        export_store(opened, tmp_path / "out", all_versions=True)
    trials = pq.read_table(tmp_path / "out" / "trials.parquet").to_pylist()
    assert ("PHASE2,PHASE3", "2020-03-02") in {(t["phases"], t["phases_raw"]) for t in trials}
    assert ("OBSERVATIONAL", "Observational [Patient Registry]") in {(t["study_type"], t["study_type_raw"])
                                                                     for t in trials}
    sites = pq.read_table(tmp_path / "out" / "sites.parquet").to_pylist()
    assert ("Iran, Islamic Republic of", "IR", "Iran (Islamic Republic of)") in {
        (s["country"], s["country_code"], s["country_raw"]) for s in sites}
    assert all(s["country_raw"] is None for s in sites if s["country"] == "China")
