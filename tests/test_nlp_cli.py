"""`ptk tag`: files and stdin, offsets into the file as stored (CRLF included)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import data_path
from toolkit.cli import main


def _jsonl(output):
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_nlp_cli_offsets_count_crlf_of_chia_file(tmp_path):
    source = data_path("chia-train", "NCT00182520_exc.txt")
    raw = source.read_bytes()
    assert b"\r\n" in raw
    result = CliRunner().invoke(main, ["tag", "--jsonl", str(source)])
    assert result.exit_code == 0, result.output
    text = raw.decode("utf-8")
    rows = _jsonl(result.output)
    assert rows and all(text[r["start"]:r["end"]] == r["text"] for r in rows)
    assert {"file", "label", "start", "end"} <= set(rows[0])
    assert any(r["label"] == "time_window" and r.get("days") == 120 for r in rows)
    assert ("drug", "Topiramate", "DB00273") in [(r["label"], r.get("norm"), r.get("code")) for r in rows]


def test_nlp_cli_reads_stdin():
    text = "Immunotherapy (eg, rituximab) within 4 weeks prior to start of protocol-specified therapy.\r\n"
    result = CliRunner().invoke(main, ["tag", "--jsonl", "-"], input=text)
    assert result.exit_code == 0
    rows = _jsonl(result.output)
    assert {r["file"] for r in rows} == {"<stdin>"}
    assert ("drug", "rituximab") in [(r["label"], r.get("norm")) for r in rows]


def test_nlp_cli_prints_table_by_default(seed_path):
    result = CliRunner().invoke(main, ["tag", str(seed_path)])
    assert result.exit_code == 0
    header = result.output.splitlines()[0].split()
    assert header == ["file", "start", "end", "label", "text", "norm", "detail"]
    assert "blinatumomab" in result.output


@pytest.mark.parametrize("content", [b"\xff\xfe\x00bad", None])
def test_nlp_cli_reports_bad_file_and_goes_on(tmp_path, content):
    bad = tmp_path / "bad.txt"
    if content is not None:
        bad.write_bytes(content)
    good = tmp_path / "good.txt"
    good.write_text("No history of epilepsy\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["tag", "--jsonl", str(bad), str(good)])
    assert result.exit_code == 1
    assert "bad.txt" in result.output or "bad.txt" in (result.stderr if result.stderr_bytes else "")
    assert any(r["label"] == "condition" and r["negated"] for r in _jsonl(
        "\n".join(line for line in result.output.splitlines() if line.startswith("{"))))
