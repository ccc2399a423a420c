"""Experiments over simulated worlds: compare policies with confidence intervals, sweep their
thresholds under scenario uncertainty, recommend one, and gate changes in CI.

- :func:`compare` → :class:`Comparison` (paired on the same worlds), and its
  :func:`verdict` (which policy does best within capacity, by how much, at what cost);
- the replication pipeline every experiment shares (:class:`Replica`, :func:`replicate`);
- executors as objects (:class:`Sequential`, :class:`Processes`, :class:`Dask`);
- sweeps (:mod:`sim.experiment.sweep`), recommendations (:mod:`sim.experiment.recommend`), the
  regression gate (:mod:`sim.experiment.gate`).
"""

from typing import TYPE_CHECKING

from sim._lazy import lazy_api
from sim.experiment import recommend
from sim.experiment.compare import DEFAULT_BASELINES, SHIPPED_POLICIES, Comparison, compare
from sim.experiment.executors import Dask, Executor, Processes, Sequential
from sim.experiment.replicate import Replica, replicate, replication_seeds, run_replication
from sim.experiment.stats import interval_text, t_interval
from sim.experiment.verdict import Verdict, verdict

if TYPE_CHECKING:
    from sim.experiment.sweep import SweepSpec, load_sweep, results, run_sweep

# Running a sweep (its design draws a Latin hypercube with scipy.stats) is imported on first
# use (PEP 562), so reading a sweep's results does not pay for it.
__getattr__, __dir__ = lazy_api(
    __name__,
    dict.fromkeys(["SweepSpec", "load_sweep", "results", "run_sweep"], "sim.experiment.sweep"),
    globals(),
)

__all__ = [
    # comparing
    "DEFAULT_BASELINES",
    "SHIPPED_POLICIES",
    "Comparison",
    "compare",
    "Verdict",
    "verdict",
    # the replication pipeline and where it runs
    "Dask",
    "Executor",
    "Processes",
    "Replica",
    "Sequential",
    "replicate",
    "replication_seeds",
    "run_replication",
    # statistics
    "interval_text",
    "t_interval",
    # sweeps and recommendations
    "SweepSpec",
    "load_sweep",
    "recommend",
    "results",
    "run_sweep",
]
