"""Executors run the same tasks to the same results, wherever they run; their limits are clear."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sim.errors import QualsimError
from sim.experiment.executors import Dask, Processes, Sequential, cores, executor_for


def square_plus(x: int, y: int) -> int:
    return x * x + y


TASKS = [(i, 10 * i) for i in range(7)]
EXPECTED = {i: square_plus(*t) for i, t in enumerate(TASKS)}


@pytest.mark.parametrize("executor", [Sequential(), Processes(1), Processes(2)], ids=repr)
def test_every_task_runs_once_with_its_index(executor) -> None:
    with executor as ex:
        got = list(ex.map(square_plus, TASKS))
    assert sorted(i for i, _ in got) == list(range(len(TASKS)))
    assert dict(got) == EXPECTED


def test_processes_never_exceed_the_cores() -> None:
    assert Processes(0).workers == cores()
    assert Processes(10_000).workers == cores()
    assert Processes(1).workers == 1


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_bad_worker_counts_are_clear_errors(bad) -> None:
    with pytest.raises(QualsimError, match="workers: expected a whole number >= 0"):
        Processes(bad)


def test_executor_for_takes_an_executor_or_builds_local_processes() -> None:
    seq = Sequential()
    assert executor_for(4, seq) is seq
    assert isinstance(executor_for(2), Processes)
    with pytest.raises(QualsimError, match="expected an Executor"):
        executor_for(1, "dask")  # type: ignore[arg-type]


def test_dask_needs_a_client_or_a_scheduler() -> None:
    with pytest.raises(QualsimError, match="scheduler address"):
        Dask()
    with pytest.raises(QualsimError, match="in a `with` block"):
        list(Dask(scheduler="tcp://127.0.0.1:1").map(square_plus, TASKS))


def sleepy_mark(folder: str, i: int) -> int:
    time.sleep(0.05)
    (Path(folder) / str(i)).touch()
    return i


@pytest.mark.skipif(cores() < 2, reason="needs 2 cores for worker processes")
def test_a_consumer_that_stops_stops_the_queued_tasks(tmp_path) -> None:
    """When the consumer of map stops (an error writing a result, Ctrl-C), the tasks not yet
    started are cancelled, not run to the end before the error surfaces."""
    tasks = [(str(tmp_path), i) for i in range(200)]
    with Processes(2) as ex:
        results = ex.map(sleepy_mark, tasks)
        next(results)
        results.close()
    assert len(list(tmp_path.iterdir())) < 50
