"""`ptk parse --cluster`: work on a Dask cluster gives the store a local run gives, a lost worker included."""

from __future__ import annotations

import pytest

from conftest import CORPUS
from toolkit import ingest
from toolkit.errors import ClusterUnavailable
from toolkit.store import Store

distributed = pytest.importorskip("distributed", reason="the cluster extra (distributed) is not installed")

SOURCES = [str(CORPUS / "ctgov-xml"), str(CORPUS / "ictrp"), str(CORPUS / "history")]


def _contents(path) -> list:
    """Every stored version of every trial: (registry, trial, [(seq, content hash, version)])."""
    with Store(path) as store:
        return sorted((r.registry, r.trial_id, [(v.seq, v.content_hash, v.version)
                                                for v in store.versions(r.trial_id, registry=r.registry)])
                      for r in store.iter_latest())


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as local:
        yield local


@pytest.mark.slow
def test_cluster_store_equals_a_local_run_when_a_worker_dies(cluster, tmp_path, monkeypatch):
    with Store(tmp_path / "local.sqlite", create=True) as store:
        local = ingest.run_parse(SOURCES, store=store)
    monkeypatch.setattr(ingest, "CHUNK_SIZE", 8)  # many small units, so one is surely lost with its worker
    killed = []

    def kill_one_worker(record):
        if not killed:
            nanny = next(iter(cluster.workers.values()))
            nanny.process.process.kill()
            killed.append(nanny)

    with distributed.Client(cluster) as client, Store(tmp_path / "cluster.sqlite", create=True) as store:
        remote = ingest.run_parse(SOURCES, store=store, cluster=client, on_record=kill_one_worker)
    assert killed
    assert (remote.read, remote.new_trials, remote.new_versions, len(remote.failed)) == \
        (local.read, local.new_trials, local.new_versions, len(local.failed))
    assert _contents(tmp_path / "cluster.sqlite") == _contents(tmp_path / "local.sqlite")


def test_cluster_unreachable_scheduler_is_a_clear_error(tmp_path):
    with Store(tmp_path / "s.sqlite", create=True) as store, pytest.raises(ClusterUnavailable, match="no Dask scheduler"):
        ingest.run_parse(SOURCES, store=store, cluster="tcp://127.0.0.1:9")
