"""Issue 14, operations: a locked index after parse (14), a damaged store (16),
a parallel run killed with -9 (17). Stores are made in tmp_path from the shipped samples."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time

from click.testing import CliRunner

from conftest import CORPUS, REPO, data_path
from toolkit.cli import main

XML_FILES = sorted((CORPUS / "ctgov-xml").glob("*.xml"))


def _parse(store, *paths, extra=()):
    return CliRunner().invoke(
        main, ["parse", "--no-tag", "--store", str(store), *extra, *map(str, paths)])


# --- 14: the index is locked when parse wants to refresh it ------------------------------


def test_parse_with_a_locked_index_stores_the_records_and_says_the_index_is_behind(tmp_path, monkeypatch):
    from toolkit.index import search_index

    monkeypatch.setenv("PTK_INDEX", str(tmp_path / "indexes"))
    store = tmp_path / "store"
    assert _parse(store, *XML_FILES[:3]).exit_code == 0
    built = CliRunner().invoke(main, ["index", "--engine", "whoosh", "--store", str(store)])
    assert built.exit_code == 0, built.stderr
    monkeypatch.setattr(search_index.SearchIndex.__init__, "__kwdefaults__", {"engine": None, "lock_timeout": 0.3})
    lock_path = tmp_path / "indexes" / ".whoosh.lock"
    with open(lock_path, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another process is writing the index
        result = _parse(store, *XML_FILES[3:6])
    assert result.exit_code == 0, result.stderr
    assert "3 new trials" in result.stderr
    assert "search index is behind" in result.stderr and "ptk index" in result.stderr


# --- 16: a store with damaged pages --------------------------------------------------------


def _damage_middle(path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        for offset in range(size // 2 - 8192, size // 2 + 8192, 4096):
            handle.seek(offset - offset % 4096)
            handle.write(bytes(range(256)) * 16)


def test_stats_check_reports_damaged_pages(tmp_path):
    store = tmp_path / "store"
    assert _parse(store, CORPUS / "ctgov-xml").exit_code == 0
    runner = CliRunner()
    sound = runner.invoke(main, ["stats", "--check", "--store", str(store)])
    assert sound.exit_code == 0 and "ok" in sound.stderr
    _damage_middle(store / "ptk.sqlite")
    damaged = runner.invoke(main, ["stats", "--check", "--store", str(store)])
    assert damaged.exit_code == 1
    assert "corrupt corpus store" in damaged.stderr and "Traceback" not in damaged.stderr


_KILLED_WRITER = """
import os, sys
from toolkit.ingest import run_parse
from toolkit.store import Store
store = Store(sys.argv[1], create=True)
run_parse(sys.argv[2:], store=store)
os._exit(0)  # killed: never closed, the WAL file stays
"""


def test_parse_refuses_a_damaged_store_left_open(tmp_path):
    store = tmp_path / "store"
    assert _parse(store, *XML_FILES[:100]).exit_code == 0  # closed cleanly: all in the main file
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(store), *map(str, XML_FILES[100:])],
                   check=True, env=env, cwd=REPO)
    assert (store / "ptk.sqlite-wal").stat().st_size > 0
    _damage_middle(store / "ptk.sqlite")
    result = _parse(store, CORPUS / "seed" / "NCT06054113.txt")
    assert result.exit_code == 1
    assert "corrupt corpus store" in result.stderr and "quick_check" in result.stderr


# --- 17: a parallel run killed with -9 ---------------------------------------------------------


def test_parallel_parse_killed_leaves_no_traceback_and_no_worker(tmp_path):
    dump = data_path("ctgov-xml", "ctgov_xml_2023-02.tar.gz")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, "-c", "from toolkit.cli import main; main()", "parse", "--no-tag", "-q",
               "--jobs", "2", "--store", str(tmp_path / "store"), str(dump)]
    with open(tmp_path / "stderr", "wb") as err:
        proc = subprocess.Popen(command, stderr=err, env=env, cwd=REPO)
        workers = []
        for _ in range(200):  # until both workers are up and busy
            time.sleep(0.05)
            workers = _children(proc.pid)
            if len(workers) >= 2 and (tmp_path / "store" / "ptk.sqlite").exists():
                break
        assert len(workers) >= 2
        time.sleep(1.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for _ in range(100):
            if not any(_alive(pid) for pid in workers):
                break
            time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), "orphaned workers left running"
    assert "Traceback" not in (tmp_path / "stderr").read_text(errors="replace")


def _children(pid: int) -> list:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False
