"""Threshold sweeps under scenario uncertainty, with a resumable Parquet results store.

A sweep file (:mod:`sim.experiment.sweep.spec` shows one) names a scenario and its uncertain
parameters, a design (grid, Latin hypercube or random samples), replications, and policies with
grids of their thresholds.

**Cells.** A *unit* of work is one (scenario sample, replication): it simulates one world and
plays every policy variant on it (common random numbers: variants differ only by their rule).
Each unit writes one Parquet file ``cells/s{sample}-r{replication}.parquet`` atomically (a
temporary name, then a rename), with one row per (variant, tier, metric) and its provenance:
the sweep's config hash, the world seed and the package version. ``sweep.json`` records the
configuration (hash, spec, the design's shape); every reader checks each cell file against it
(:func:`~sim.experiment.sweep.store.load_cells`) and leaves out, with a
:class:`ForeignCellsWarning` naming them, cells of another configuration, truncated or corrupt
ones. A sweep started again runs the units without a whole cell of its configuration, so a
killed sweep resumes, losing at most the units in flight, and never duplicates a row or reuses
a foreign one. :func:`results` loads the verified rows.

**Executors.** Units run on an executor (:mod:`sim.experiment.executors`: this process, local
processes, or a Dask cluster); their seeds come from ``SeedSequence(seed)`` (samples and
replications), so results do not depend on the executor or the number of workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim._lazy import lazy_api

if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers and editors
    from sim.experiment.sweep.design import scenario_samples, unit_seeds, variants
    from sim.experiment.sweep.run import STORED_METRICS, run_sweep, run_unit
    from sim.experiment.sweep.spec import SweepSpec, config_hash, load_sweep, parse_values
    from sim.experiment.sweep.store import (
        ROW_COLUMNS,
        ForeignCellsWarning,
        load_cells,
        results,
    )

# Each name is imported on first use (PEP 562): reading a store (``results``, what
# ``recommend`` and the report do) loads neither the simulator's design machinery nor
# ``scipy.stats`` (the Latin hypercube of ``design``).
_LAZY = {
    "scenario_samples": "sim.experiment.sweep.design",
    "unit_seeds": "sim.experiment.sweep.design",
    "variants": "sim.experiment.sweep.design",
    "STORED_METRICS": "sim.experiment.sweep.run",
    "run_sweep": "sim.experiment.sweep.run",
    "run_unit": "sim.experiment.sweep.run",
    "SweepSpec": "sim.experiment.sweep.spec",
    "config_hash": "sim.experiment.sweep.spec",
    "load_sweep": "sim.experiment.sweep.spec",
    "parse_values": "sim.experiment.sweep.spec",
    "ROW_COLUMNS": "sim.experiment.sweep.store",
    "ForeignCellsWarning": "sim.experiment.sweep.store",
    "load_cells": "sim.experiment.sweep.store",
    "results": "sim.experiment.sweep.store",
}

__all__ = [
    "ROW_COLUMNS",
    "ForeignCellsWarning",
    "load_cells",
    "STORED_METRICS",
    "SweepSpec",
    "config_hash",
    "load_sweep",
    "parse_values",
    "results",
    "run_sweep",
    "run_unit",
    "scenario_samples",
    "unit_seeds",
    "variants",
]

__getattr__, __dir__ = lazy_api(__name__, _LAZY, globals())
