"""Shared fixtures: paths to the shipped sample and the shared real data."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"
SEED = SHARED / "seed" / "NCT06054113.txt"
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


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data; skips the test when the shared data is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


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
