"""Executors: where the independent units of an experiment run, passed in as objects.

A unit (one simulated world and every policy on it) depends only on its own seed, so the same
experiment gives the same numbers on any executor with any number of workers::

    with Processes(workers=2) as ex:
        for i, result in ex.map(fn, [(a, b), (c, d)]):
            ...   # results arrive as units finish; i is the unit's index

:class:`Sequential` runs in this process (debugging, notebooks), :class:`Processes` in local
worker processes, :class:`Dask` on a Dask cluster (``pip install 'qualsim[dask]'``).

>>> with Sequential() as ex:
...     sorted(ex.map(pow, [(2, 3), (3, 2)]))
[(0, 8), (1, 9)]
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from sim.errors import QualsimError


class Executor:
    """Runs tasks ``fn(*args)``; :meth:`map` yields ``(index, result)`` as each finishes."""

    workers: int = 1

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workers={self.workers})"


class Sequential(Executor):
    """Every task in this process, in order."""

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        for i, args in enumerate(tasks):
            yield i, fn(*args)


def cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


PR_SET_PDEATHSIG = 1  # linux/prctl.h
POLL_SECONDS = 0.5


def die_with_parent() -> None:
    """Worker initializer: end this worker when the process that started it dies (``kill -9``
    of ``qualsim sweep``, the OOM killer), instead of idling on with its memory. On Linux the
    kernel sends SIGKILL (``prctl(PR_SET_PDEATHSIG)``); everywhere, a daemon thread polls
    :func:`os.getppid` and exits when the worker has been handed to another parent."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no libc prctl: the thread below still works
            pass
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(1)


class Processes(Executor):
    """Local worker processes: ``workers`` (0: one per core), never more than the cores or the
    tasks; with one worker (or one task) the tasks run in this process. Workers end when this
    process dies, however it dies (:func:`die_with_parent`)."""

    def __init__(self, workers: int = 0):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise QualsimError(f"workers: expected a whole number >= 0, got {workers!r}")
        self.requested = workers
        self.workers = min(workers or cores(), cores())

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        n = min(self.workers, len(tasks))
        if n <= 1:
            yield from Sequential().map(fn, tasks)
            return
        pool = ProcessPoolExecutor(n, initializer=die_with_parent)
        try:
            futures = {pool.submit(fn, *args): i for i, args in enumerate(tasks)}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        finally:  # a failed task or consumer (a full disk, Ctrl-C) stops the queued tasks too
            pool.shutdown(wait=True, cancel_futures=True)


class Dask(Executor):
    """A Dask cluster: a ``dask.distributed.Client``, or the address of its scheduler
    (``tcp://host:8786``; the client is then opened and closed here)."""

    def __init__(self, client: Any = None, scheduler: str | None = None):
        if client is None and not scheduler:
            raise QualsimError("a Dask executor needs a scheduler address (tcp://host:port)")
        self.client = client
        self.scheduler = scheduler
        self._own = client is None
        self.workers = 0

    def __enter__(self) -> Dask:
        if self.client is None:
            self.client = _dask().Client(self.scheduler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._own and self.client is not None:
            self.client.close()
            self.client = None

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        if self.client is None:
            raise QualsimError("use the Dask executor in a `with` block")
        futures = [self.client.submit(fn, *args, pure=False) for args in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        for f in _dask().as_completed(futures):
            yield index[f.key], f.result()


def _dask() -> Any:
    try:
        import dask.distributed as distributed
    except ImportError:
        raise QualsimError(
            "the Dask executor needs dask.distributed: pip install 'qualsim[dask]'"
        ) from None
    return distributed


def executor_for(workers: int | None = None, executor: Executor | None = None) -> Executor:
    """``executor`` when given, else local processes (``workers``; default 1: this process)."""
    if executor is not None:
        if not isinstance(executor, Executor):
            raise QualsimError(
                f"executor: expected an Executor (Sequential, Processes or Dask), got {executor!r}"
            )
        return executor
    return Processes(1 if workers is None else workers)
