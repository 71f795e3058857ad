"""Ordered, bounded maps over workers: the one process pool of the toolkit, and its scale-out.

`in_processes(func, items, jobs=...)` runs `func(item)` in worker processes
(forked where the platform allows), results in input order with a bounded
number of items in flight, so memory stays flat whatever the input size.
Parsing (`toolkit.ingest`) and index building (`toolkit.index.batches`) both
use it. Workers ignore Ctrl-C (the parent stops them, and whatever it was
writing stays as it was) and end quietly with their parent (killed with -9:
no BrokenPipe traceback per worker, none left waiting for work).

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

import multiprocessing
import os
import signal
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Optional

from toolkit.errors import ClusterUnavailable

__all__ = ["in_processes", "on_cluster", "ClusterUnavailable"]


def in_processes(func: Callable[[Any], Any], items: Iterable, *, jobs: int, ahead: int = 3,
                 initializer: Optional[Callable] = None, initargs: tuple = (),
                 fallback: Optional[Callable[[Any, BaseException], Any]] = None) -> Iterator[Any]:
    """`map(func, items)` in `jobs` worker processes, results in input order.

    Args:
        func: a picklable function (module level).
        items: picklable work items, read lazily.
        jobs: worker processes.
        ahead: items in flight per worker (bounds memory).
        initializer: run once in each worker (with `initargs`), after the signal set-up.
        fallback: `fallback(item, error)` gives the result here when a worker
            could not (an unpicklable item, a worker that died); without it the
            error is raised.
    """
    with _pool(jobs, initializer, initargs) as pool:
        pending: deque = deque()
        for item in items:
            pending.append((item, pool.apply_async(func, (item,))))
            if len(pending) >= jobs * ahead:
                yield _result(*pending.popleft(), fallback)
        while pending:
            yield _result(*pending.popleft(), fallback)


def _result(item: Any, future, fallback) -> Any:
    try:
        return future.get()
    except Exception as exc:
        if fallback is None:
            raise
        return fallback(item, exc)


def _pool(jobs: int, initializer: Optional[Callable], initargs: tuple):
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return context.Pool(jobs, initializer=_start_worker, initargs=(initializer, initargs))


def _start_worker(initializer: Optional[Callable], initargs: tuple) -> None:
    """A worker's set-up: Ctrl-C is the parent's, end with the parent, then the caller's initializer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end_with_parent()
    if initializer is not None:
        initializer(*initargs)


def _end_with_parent() -> None:
    """A worker whose parent is gone (killed with -9) ends quietly.

    Writing a result into the pipe of a dead parent raises BrokenPipeError,
    which multiprocessing prints as a traceback per worker: with SIGPIPE at its
    default action the worker just ends. On Linux the worker is also told to
    end when its parent does (PR_SET_PDEATHSIG), so none is left waiting for work.
    """
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: SIGPIPE alone
        pass
    if os.getppid() == 1:  # the parent died before the call above
        os._exit(0)


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
