"""`ptk parse`, `ptk show`, `ptk stats` through click's CliRunner on the shipped corpus."""

from __future__ import annotations

import io
import json
import shutil

import click
import pytest
from click.testing import CliRunner

from conftest import CORPUS
from toolkit.cli import main

SEED_ID = "NCT06054113"
XML_SAMPLE = CORPUS / "ctgov-xml"
SEED_PAGE = CORPUS / "seed" / "NCT06054113.txt"


def ptk(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kwargs)


@pytest.fixture(scope="module")
def parsed_store_path(tmp_path_factory):
    """A store holding the seed page and the legacy XML sample (parsed once, without tags)."""
    path = tmp_path_factory.mktemp("parsed") / "store"
    result = ptk("parse", SEED_PAGE, XML_SAMPLE, "--no-tag", "--quiet", "--store", path)
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture
def parsed_store(parsed_store_path, monkeypatch):
    """The parsed sample store, set as the default store."""
    monkeypatch.setenv("PTK_STORE", str(parsed_store_path))
    return parsed_store_path


def test_cli_parse_corpus_exit_zero_and_summary_on_stderr(store_dir, corpus_dir):
    result = ptk("parse", corpus_dir, "--no-tag", "--store", store_dir)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "failed" in result.stderr and " 0 failed" in result.stderr
    assert (store_dir / "ptk.sqlite").exists()


def test_cli_parse_twice_reports_all_unchanged(parsed_store, seed_path):
    result = ptk("parse", seed_path, XML_SAMPLE, "--no-tag")
    records = 1 + len(list(XML_SAMPLE.glob("*.xml")))
    assert result.exit_code == 0
    assert f"read {records:,} records: 0 new trials, 0 new versions, {records:,} unchanged" \
        in result.stderr


def test_cli_parse_jsonl_stdout_is_only_json_lines(store_dir, seed_path):
    result = ptk("parse", seed_path, XML_SAMPLE, "--no-tag", "--jsonl", "-")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 1 + len(list(XML_SAMPLE.glob("*.xml")))
    assert records[0]["trial_id"] == SEED_ID
    assert all(r["content_hash"] for r in records)
    assert f"read {len(records)} records:" in result.stderr


def test_cli_parse_jsonl_to_file(store_dir, seed_path, tmp_path):
    out = tmp_path / "records.jsonl"
    result = ptk("parse", seed_path, "--no-tag", "--jsonl", out)
    assert result.exit_code == 0
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["trial_id"] == SEED_ID


def test_cli_parse_bad_record_exit_one_names_file(store_dir, tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    shutil.copy(XML_SAMPLE / "NCT00000156.xml", dump)
    data = (XML_SAMPLE / "NCT00001001.xml").read_bytes()
    (dump / "NCT00001001.xml").write_bytes(data[:500])
    result = ptk("parse", dump, "--no-tag")
    assert result.exit_code == 1
    assert "1 new trials" in result.stderr
    assert "failed:" in result.stderr and "NCT00001001.xml" in result.stderr
    assert "Traceback" not in result.output
    strict = ptk("parse", dump, "--no-tag", "--strict", "--store", tmp_path / "other")
    assert strict.exit_code == 1
    assert "--strict" in strict.stderr


@pytest.mark.parametrize("args", [
    ["parse"],
    ["parse", "no/such/dump.json"],
    ["parse", "corpus", "--jobs", "0"],
    ["show"],
    ["show", SEED_ID, "--format", "pdf"],
    ["stats", "--bogus"],
])
def test_cli_usage_errors_exit_two(args, store_dir):
    assert ptk(*args).exit_code == 2


def test_cli_show_text_has_fields_and_criteria(parsed_store):
    result = ptk("show", SEED_ID)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{SEED_ID}  [")
    assert "Status:" in result.stdout and "ACTIVE_NOT_RECRUITING" in result.stdout
    assert "Eligibility: min age 1 Month, max age 204 Months, sex ALL" in result.stdout
    assert "Criteria:" in result.stdout
    assert "I1 [inclusion]" in result.stdout
    assert "[exclusion]" in result.stdout


@pytest.mark.parametrize("args", [["--json"], ["--format", "json"], ["--version", "1", "--json"]])
def test_cli_show_json_is_the_record(parsed_store, args):
    result = ptk("show", SEED_ID, *args)
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record["trial_id"] == SEED_ID
    assert record["eligibility"]["criteria"][0]["id"] == "I1"


@pytest.mark.parametrize("args, message", [
    (["show", "NCT00000000"], "not in the corpus store"),
    (["show", SEED_ID, "--version", "7"], "no version '7'"),
])
def test_cli_show_errors_exit_one_with_message(parsed_store, args, message):
    result = ptk(*args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [["show", SEED_ID], ["stats"]])
def test_cli_missing_store_names_the_command_that_creates_it(store_dir, command):
    result = ptk(*command)
    assert result.exit_code == 1
    assert "ptk parse" in result.stderr


def test_cli_stats_json_counts(parsed_store):
    result = ptk("stats", "--json")
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    trials = 1 + len(list(XML_SAMPLE.glob("*.xml")))
    assert stats["trials"] == stats["versions"] == trials
    assert sum(stats["by_registry"].values()) == trials
    assert stats["versions_per_trial"] == {"1": trials}


def test_cli_stats_table(parsed_store):
    result = ptk("stats")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].endswith("versions")
    assert "ACTIVE_NOT_RECRUITING" in result.stdout


def test_cli_show_page_format_renders_the_registry_page(parsed_store, seed_path):
    result = ptk("show", SEED_ID, "--format", "page")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == seed_path.read_text(encoding="utf-8").splitlines()[0]
    assert f"NCT ID: {SEED_ID}" in lines[:3]


def test_cli_parse_jobs_two_stores_the_same_as_one(tmp_path, seed_path):
    one = ptk("parse", seed_path, XML_SAMPLE, "--no-tag", "-q", "--store", tmp_path / "one")
    two = ptk("parse", seed_path, XML_SAMPLE, "--no-tag", "-q", "-j", "2", "--store", tmp_path / "two")
    assert one.exit_code == two.exit_code == 0
    stats = [json.loads(ptk("stats", "--json", "--store", tmp_path / name).stdout)
             for name in ("one", "two")]
    assert stats[0] == stats[1]
    shown = [ptk("show", SEED_ID, "--json", "--store", tmp_path / name).stdout
             for name in ("one", "two")]
    assert shown[0] == shown[1]


@pytest.mark.slow  # loads the NLP taggers
def test_cli_parse_tags_criteria_by_default(store_dir, seed_path):
    result = ptk("parse", seed_path, "-q")
    assert result.exit_code == 0, result.stderr
    record = json.loads(ptk("show", SEED_ID, "--json").stdout)
    labels = {t["label"] for c in record["eligibility"]["criteria"] for t in c.get("tags", [])}
    assert {"condition", "time_window"} <= labels
    assert "· time_window:" in ptk("show", SEED_ID).stdout


def test_cli_parse_unknown_format_exit_one(store_dir, seed_path):
    result = ptk("parse", seed_path, "--format", "docx")
    assert result.exit_code == 1
    assert "unknown format 'docx'" in result.stderr


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv"])
def test_output_emit_formats_carry_the_same_rows(parsed_store, fmt, capsys):
    from toolkit.cli.output import emit
    from toolkit.store import Store

    with Store(parsed_store) as store:
        rows = [v.to_dict() for v in store.versions(SEED_ID)]
    emit(rows, fmt=fmt, columns=["trial_id", "seq", "content_hash"])
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out) == rows
    elif fmt == "jsonl":
        assert [json.loads(line) for line in out.splitlines()] == rows
    elif fmt == "csv":
        assert out.splitlines() == ["trial_id,seq,content_hash",
                                    f"{SEED_ID},1,{rows[0]['content_hash']}"]
    else:
        header, rule, line = out.splitlines()
        assert header.split() == ["trial_id", "seq", "content_hash"]
        assert line.split() == [SEED_ID, "1", rows[0]["content_hash"]]


def test_output_one_format_flag_only():
    from toolkit.cli.output import output_format

    assert output_format() == "table"
    assert output_format(jsonl=True) == "jsonl"
    with pytest.raises(click.UsageError):
        output_format(json=True, csv=True)


def test_cli_parse_reads_stdin(store_dir, seed_path):
    result = ptk("parse", "-", "--no-tag", input=seed_path.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert "read 1 records: 1 new trials" in result.stderr
    assert json.loads(ptk("show", SEED_ID, "--json").stdout)["trial_id"] == SEED_ID


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream, quiet, drawn", [
    (_Terminal, False, True),
    (_Terminal, True, False),
    (io.StringIO, False, False),  # not a terminal: stderr stays clean for logs
])
def test_output_progress_only_on_a_terminal(stream, quiet, drawn):
    from toolkit.cli.output import Progress

    out = stream()
    with Progress("parsing", quiet=quiet, stream=out, interval=0) as progress:
        for _ in range(3):
            progress.update()
        progress.update(0, failed=1)
    text = out.getvalue()
    assert bool(text) == drawn
    if drawn:
        assert text.endswith("\n")
        assert "parsing: 3 records" in text and "/s" in text and "1 failed" in text
