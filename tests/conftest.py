"""Shared fixtures: paths to the shipped sample and the shared real data."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
SHARED_DATA = Path(os.environ.get("PTK_DATA") or REPO.parent / "shared" / "data")
HAVE_DATA = (SHARED_DATA / "ctgov-xml").is_dir()
SLICES = REPO / "tests" / "fixtures" / "data"
# The API v2 "Download JSON" arrays of ../shared/data/ctgov-v2 (377 studies).
V2_ARRAYS = (
    "UserZetsu_dtx-analysis__ctg-studies.json",
    "dgg32_clinical-trials-public__ctg-studies.json",
    "dgg32_clinical-trials-public__ctg-studies2.json",
    "dgg32_clinical-trials-public__ctg-studies5.json",
    "dgg32_graph_bigquery__ctg-studies.json",
    "scampbe3_my-website__ctg-studies.json",
)


def load_script(name: str):
    """A module of `scripts/` (evaluation code kept out of the package), imported by its path."""
    if name not in sys.modules:  # registered under its own name: sibling scripts import it so
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def data_path(*parts: str) -> Path:
    """A file of the shared registry data: the whole file where `../shared/data` (or
    `$PTK_DATA`) is, else its shipped slice in `tests/fixtures/data` (same relative path;
    `scripts/make_test_slices.py` cuts it). Tests that need the whole file carry `data`."""
    whole = SHARED_DATA.joinpath(*parts)
    return whole if HAVE_DATA else SLICES.joinpath(*parts)


def pytest_collection_modifyitems(config, items):
    """Deselect the whole-data checks when the shared data is absent, and say so."""
    if HAVE_DATA:
        return
    whole = [item for item in items if item.get_closest_marker("data")]
    if whole:
        config.hook.pytest_deselected(items=whole)
        items[:] = [item for item in items if not item.get_closest_marker("data")]
        config._ptk_data_deselected = len(whole)


def pytest_terminal_summary(terminalreporter, config):
    count = getattr(config, "_ptk_data_deselected", 0)
    if count:
        terminalreporter.write_line(
            f"{count} whole-data checks deselected: no shared data at {SHARED_DATA}"
            " (set PTK_DATA to the folder of the shared registry data to run them)")


@pytest.fixture
def seed_path() -> Path:
    """The founding trial page (shipped copy in corpus/seed)."""
    return CORPUS / "seed" / "NCT06054113.txt"


@pytest.fixture
def corpus_dir() -> Path:
    """The shipped sample corpus."""
    return CORPUS


@pytest.fixture
def store_dir(tmp_path, monkeypatch) -> Path:
    """An empty store location; also set as the default through the environment."""
    path = tmp_path / "store"
    monkeypatch.setenv("PTK_STORE", str(path))
    return path


@pytest.fixture(scope="session")
def sample_records():
    """Real records parsed from the shipped sample: the seed page and the legacy XML files.

    Used by the store, record-model and schema tests.
    """
    from toolkit.ingest import iter_parsed

    paths = [CORPUS / "seed" / "NCT06054113.txt", CORPUS / "ctgov-xml"]
    return [o.record for o in iter_parsed(paths) if o.record is not None]


@pytest.fixture(scope="session")
def history_versions():
    """Load a version-history file once per session: path -> {trial_id: [records, oldest first]}.

    Used by the history-reader and diff tests (parsed with the criteria tree, untagged).
    """
    from toolkit.ingest import iter_parsed

    cache = {}

    def load(path):
        if path not in cache:
            groups = {}
            for outcome in iter_parsed([path]):
                if outcome.record is not None:
                    groups.setdefault(outcome.record.trial_id, []).append(outcome.record)
            cache[path] = groups
        return cache[path]

    return load
