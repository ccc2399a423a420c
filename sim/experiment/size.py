"""Estimating the size of replicated experiments (a comparison, the calibration table) before
they run, and refusing what cannot fit.

A comparison holds every replication's results until the end (its handoffs, metrics and
summaries: about 20 bytes per account and policy plus 20 KB, measured by pickling the results of
one replication of the enterprise preset at 2,000 accounts with the six shipped policies: 240 KB;
rounded up below), and simulates as many worlds at once as it has workers
(:func:`sim.world.simulate.world_memory` each).
"""

from __future__ import annotations

from sim.experiment.executors import Executor, Processes
from sim.limits import check_count, check_fits
from sim.world.scenario import Scenario
from sim.world.simulate import world_memory

# The most replications a comparison runs (its results are kept in memory until the end).
MAX_REPLICATIONS = 100_000
RESULT_BYTES_PER_ACCOUNT_POLICY = 32
RESULT_BYTES_PER_REPLICATION = 32 * 1024


def comparison_memory(sc: Scenario, n_policies: int, replications: int, at_once: int) -> int:
    """Estimated peak bytes of comparing ``n_policies`` on ``replications`` worlds of ``sc``,
    ``at_once`` of them simulated at the same time."""
    kept = sc.accounts.count * n_policies * RESULT_BYTES_PER_ACCOUNT_POLICY
    per_replication = kept + RESULT_BYTES_PER_REPLICATION
    return world_memory(sc) * min(at_once, replications) + per_replication * replications


def check_replications(
    sc: Scenario, replications: int, executor: Executor | None, what: str, kept: int
) -> None:
    """Refuse (``sim.limits.LimitError``, exit 2) ``replications`` worlds of ``sc`` above the
    replication cap or the memory this process may use (``kept``: bytes of results kept per
    replication), naming the estimate and the limit; ``what`` says what they are for."""
    check_count(
        replications,
        MAX_REPLICATIONS,
        "replications",
        "a 95% interval narrows with the square root of the replications: 10 to 100 are usual",
    )
    workers = executor.workers if executor is not None else 1
    at_once = min(workers or Processes(0).workers, replications)  # Dask: the cores here
    check_fits(
        world_memory(sc) * at_once + kept * replications,
        f"{what} {replications:,} worlds of {sc.accounts.count:,} accounts ({at_once} at once)",
        "use fewer replications or accounts, or fewer workers",
    )


def check_comparison_size(
    sc: Scenario, n_policies: int, replications: int, executor: Executor | None = None
) -> None:
    """:func:`check_replications` for comparing ``n_policies`` policies."""
    kept = sc.accounts.count * n_policies * RESULT_BYTES_PER_ACCOUNT_POLICY
    what = f"comparing {n_policies} polic{'y' if n_policies == 1 else 'ies'} on"
    check_replications(sc, replications, executor, what, kept + RESULT_BYTES_PER_REPLICATION)
