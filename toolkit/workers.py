"""Ordered, bounded maps over workers: the scale-out engine of the pipeline.

`on_cluster(func, items, address=...)` runs `func(item)` on the workers of a
Dask distributed cluster (`dask scheduler` + `dask worker` on any number of
machines; Dask is the optional extra `ptk[cluster]`) and yields the results in
input order, with a bounded number of items in flight so memory stays flat
whatever the input size. A worker lost mid-run costs nothing but time: the
scheduler runs its items again elsewhere (`allowed-failures`), and an item
whose function raised is retried `retries` times before its error is raised
here.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Iterable, Iterator

from toolkit.errors import ClusterUnavailable

__all__ = ["on_cluster", "ClusterUnavailable"]


def on_cluster(func: Callable[[Any], Any], items: Iterable, *, address: Any, in_flight: int = 0,
               retries: int = 2) -> Iterator[Any]:
    """`map(func, items)` on a Dask cluster, results in input order.

    Args:
        func: a picklable, importable function (the workers import its module).
        items: picklable work items; read lazily.
        address: the scheduler (`tcp://host:8786`), or a `distributed.Client`
            or cluster object to use as it is.
        in_flight: items submitted ahead of the one awaited (default: 4 per worker thread).
        retries: how often an item whose function raised is tried again.

    Raises:
        ClusterUnavailable: no Dask, or no scheduler at `address`.
    """
    client, owned = _client(address)
    try:
        ahead = in_flight or 4 * max(1, sum(client.nthreads().values()))
        pending: deque = deque()
        for item in items:
            pending.append(client.submit(func, item, pure=False, retries=retries))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        if owned:
            client.close()


def _client(address: Any):
    """A `distributed.Client` for an address (owned: closed after the run) or the one given."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterUnavailable("--cluster needs Dask distributed: pip install 'ptk[cluster]'") from None
    if isinstance(address, Client):
        return address, False
    try:
        return Client(address, timeout="10s"), True
    except (OSError, TimeoutError) as exc:
        raise ClusterUnavailable(f"no Dask scheduler at {address}: {exc}") from None
