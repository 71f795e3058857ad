"""`ptk history` and `ptk diff` on the shipped history sample."""

from __future__ import annotations

import collections
import csv
import dataclasses
import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from conftest import CORPUS
from toolkit.canonical import content_hash
from toolkit.cli import main
from toolkit.diff.events import EVENT_KINDS
from toolkit.schema import load_schema

SAMPLE = CORPUS / "history" / "NCT02007772_cthist.csv"
DRKS_SAMPLE = CORPUS / "history" / "DRKS00000058_cthist.csv"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def stored(store_dir):
    result = run("parse", SAMPLE, DRKS_SAMPLE, "--store", store_dir, "--no-tag", "-q")
    assert result.exit_code == 0, result.output
    return store_dir


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def test_diff_cli_history_from_file():
    result = run("history", "NCT02007772", "-i", SAMPLE, "--json")
    assert result.exit_code == 0, result.output
    versions = json.loads(result.output)["versions"]
    assert [v["version"] for v in versions] == [str(n) for n in range(1, 9)]
    assert versions[4]["changed"] == "criteria, dates, enrollment (cosmetic: outcomes)"  # a description added
    assert versions[5]["status"] == "COMPLETED" and versions[5]["enrollment"] == 105
    assert versions[6]["changed"] == "(no change)"  # v7 differs from v6 by its date only


def test_diff_cli_history_from_store(stored):
    result = run("history", "DRKS00000058", "--store", stored)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["seq", "version", "date", "status"]
    assert len(lines) == 2 + 9 and "(first version)" in lines[2]


def test_diff_cli_default_is_last_two_stored_versions(stored):
    result = run("diff", "NCT02007772", "--store", stored)
    assert result.exit_code == 0, result.output
    assert "v7 (2018-03-25) -> v8 (2018-11-14)" in result.output
    assert "start date slipped from 2009-11-01 to 2011-06-01" in result.output


def test_diff_cli_json_follows_the_schema(stored):
    jsonschema = pytest.importorskip("jsonschema")
    result = run("diff", "NCT02007772", "--from", "4", "--to", "5", "--json", "--store", stored)
    data = json.loads(result.output)
    jsonschema.validate(data, load_schema("diff"))
    assert [e["kind"] for e in data["events"]] == [
        "enrollment_raised", "primary_completion_date_slipped", "time_window_shortened"]
    assert data["old"]["version"] == "4" and data["new"]["version"] == "5"


def test_diff_cli_schema_names_every_event_kind():
    schema = load_schema("diff")
    assert schema["$defs"]["Event"]["properties"]["kind"]["enum"] == list(EVENT_KINDS)


@pytest.mark.parametrize("versions,code,text", [
    (("--from", "6", "--to", "7"), 0, "no changes"),          # v6 and v7 differ only by their date
    (("--from", "4", "--to", "5"), 1, "enrollment target raised from 85 to 100"),
    (("--from", "2016-07-14", "--to", "6"), 1, "status changed from RECRUITING to COMPLETED"),
])
def test_diff_cli_exit_code(stored, versions, code, text):
    result = run("diff", "NCT02007772", *versions, "--exit-code", "--store", stored)
    assert result.exit_code == code and text in result.output


def test_diff_cli_two_files(tmp_path):
    header, *rows = _rows(SAMPLE)
    old = _write(tmp_path / "old.csv", header, [rows[3]])
    new = _write(tmp_path / "new.csv", header, [rows[4]])
    result = run("diff", old, new, "--no-tag", "--exit-code")
    assert result.exit_code == 1
    assert "time window in E2 shortened" in result.output


def test_diff_cli_html_is_one_page(stored):
    result = run("diff", "NCT02007772", "--from", "4", "--to", "5", "--html", "--store", stored)
    page = result.output
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<del>6</del>" in page and "<ins>4</ins>" in page
    assert not any(tag in page for tag in ("<script", "<link", "src=", "@import"))  # self-contained


def test_diff_cli_summary_of_two_dumps(tmp_path):
    header, *rows = _rows(SAMPLE)
    drks_header, *drks_rows = _rows(DRKS_SAMPLE)
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old_dir.mkdir(), new_dir.mkdir()
    _write(old_dir / "ctgov.csv", header, [rows[0]])
    _write(old_dir / "drks.csv", drks_header, [drks_rows[0]])
    _write(new_dir / "ctgov.csv", header, [rows[1]])
    result = run("diff", old_dir, new_dir, "--summary", "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert "1 changed, 1 removed" in result.stderr
    assert [(r["trial_id"], r["change"], r["parts"]) for r in lines] == [
        ("NCT02007772", "changed", ["dates"]), ("DRKS00000058", "removed", [])]


@pytest.mark.parametrize("args,code,message", [
    (("diff", "NCT99999999"), 1, "NCT99999999"),
    (("history", "NCT02007772", "-i", DRKS_SAMPLE), 1, "NCT02007772 is in none of"),
    (("diff", "NCT02007772", "--from", "99"), 1, "no version '99'"),
])
def test_diff_cli_errors_are_one_line(stored, args, code, message):
    result = CliRunner().invoke(main, [*map(str, args), "--store", str(stored)])
    assert result.exit_code == code and message in result.output and "Traceback" not in result.output


def test_diff_cli_from_with_two_files_is_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["diff", str(SAMPLE), str(SAMPLE), "--from", "1"])
    assert result.exit_code == 2


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium (Debian package) not installed")
def test_diff_cli_html_renders_in_headless_chromium(stored, tmp_path):
    result = run("diff", "NCT02007772", "--from", "4", "--to", "5", "--html", "--store", stored)
    page = tmp_path / "diff.html"
    page.write_text(result.output, encoding="utf-8")
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True).stdout
    assert dom.count('<li data-kind="') == 3
    assert "<del>6</del>" in dom and "<ins>4</ins>" in dom
    tables = result.output.count("<table>")
    folded = result.output.count('<details class="cosmetic">')
    assert folded >= 1 and tables == 3 + folded  # fields, criteria, outcomes; each folded cosmetic block
    assert dom.count("<table>") == tables
    assert dom.count("<tbody>") == tables  # the browser parsed every table it was given


def test_diff_summary_of_dumps_spills_the_old_side_and_skips_unchanged_hashes(monkeypatch):
    """Unchanged trials are answered by their hash (no diff); a trial twice in the new dump counts once."""
    from toolkit.diff import history
    from toolkit.ingest import iter_parsed

    records = [o.record for o in iter_parsed([str(CORPUS / "ctgov-xml")]) if o.record is not None][:30]
    changed = dataclasses.replace(records[3], title=records[3].title + " (amended)")
    changed = dataclasses.replace(changed, content_hash=content_hash(changed))
    new = records[:3] + [changed] + records[4:20] + [records[5]]  # records[5] again, not consecutive
    diffed = []
    real = history.diff_records
    monkeypatch.setattr(history, "diff_records", lambda a, b: diffed.append(b.trial_id) or real(a, b))
    rows = list(history.summarize_dumps(records, new))
    counts = collections.Counter(row["change"] for row in rows)
    assert counts == {"unchanged": 19, "changed": 1, "removed": 10}
    assert diffed == [records[3].trial_id]
    assert [r["trial_id"] for r in rows if r["change"] == "removed"] == sorted(r.trial_id for r in records[20:])
