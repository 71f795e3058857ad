"""scripts/bench_scale.py runs end to end on a small corpus made from the shipped slices."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO, data_path


@pytest.mark.slow
def test_bench_scale_small_corpus_parses_tags_indexes_and_updates(tmp_path):
    out = tmp_path / "rows.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_scale.py"), "--trials", "24", "--engines", "tantivy",
         "--update", "6", "--data", str(data_path()), "--json", str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text())
    rows = {row["name"]: row for row in figures["rows"]}
    assert set(rows) == {"parse", "tag", "index tantivy"}
    assert all(row["trials"] == 24 and row["failed"] == 0 for row in rows.values())
    assert rows["index tantivy"]["criteria"] == rows["tag"]["criteria"] > 24
    assert "extrapolated to 600,000 trials" in done.stdout
    update = figures["update"]  # six changed trials: each a new version, re-indexed, nothing else
    assert (update["trials"], update["failed"], update["new_versions"]) == (6, 0, 6)
    assert update["reindexed"] == {"tantivy": 6}
    assert "update of 6 changed trials into a 24-trial store" in done.stdout
