"""The examples of docs/changes.md run, and print what the page says they print."""

from __future__ import annotations

import re
import shlex

from click.testing import CliRunner

from conftest import REPO
from toolkit.cli import main

DOC = (REPO / "docs" / "changes.md").read_text(encoding="utf-8")


def examples():
    """(command, expected output lines) for every `$ ptk ...` line of the console blocks."""
    out = []
    for block in re.findall(r"```console\n(.*?)```", DOC, flags=re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, *lines = chunk.rstrip("\n").split("\n")
            out.append((command, [line for line in lines if line != "..."]))
    return out


def test_changes_docs_has_examples_for_both_commands():
    commands = {shlex.split(command)[1] for command, _ in examples()}
    assert {"parse", "changes", "check"} <= commands


def test_changes_docs_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    runner = CliRunner()
    for command, expected in examples():
        args = [str(tmp_path / a) if a.endswith(".sqlite") else a for a in shlex.split(command)[1:]]
        result = runner.invoke(main, args, catch_exceptions=False)
        assert result.exit_code in (0, 1), (command, result.output)
        shown = result.stdout.splitlines()
        position = 0
        for line in expected:  # in order, each as printed ("..." skips lines)
            assert line in shown[position:], (command, line, result.stdout)
            position = shown.index(line, position) + 1
