"""The README and the CLI help agree: every command is documented in both places."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from conftest import REPO
from toolkit.cli import main

README = (REPO / "README.md").read_text(encoding="utf-8")
COMMANDS = main.list_commands(None)


def test_docs_readme_first_screen_has_the_two_commands():
    first_screen = README.split("\n---", 1)[0]
    commands = re.findall(r"^bash (scripts/\S+)", first_screen, flags=re.MULTILINE)
    assert commands == ["scripts/demo.sh", "scripts/test.sh"]
    assert all((REPO / path).is_file() for path in commands)


def test_docs_ci_runs_the_readme_test_command():
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", COMMANDS)
def test_docs_every_command_has_help(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    summary = result.output.split("\n\n")[1].strip()
    assert len(summary) > 20, f"ptk {command} has no help text"


@pytest.mark.parametrize("command", COMMANDS)
def test_docs_every_command_is_in_the_readme(command):
    assert re.search(rf"\bptk {command}\b", README), f"ptk {command} is missing from README.md"


@pytest.mark.parametrize("command", COMMANDS)
def test_docs_every_command_is_run_by_the_demo(command):
    demo = (REPO / "scripts" / "demo.sh").read_text(encoding="utf-8")
    assert re.search(rf'"\$ptk" {command}\b', demo), f"ptk {command} is not run by scripts/demo.sh"
