"""Threshold sweeps under scenario uncertainty, with a resumable Parquet results store.

A sweep file (YAML, validated; errors name the file, line and field path)::

    name: q3-thresholds
    scenario: enterprise               # a preset or a scenario file (relative to this one)
    overrides: {accounts: {count: 2000}}
    seed: 1
    replications: 5
    design: {kind: lhs, samples: 20}   # grid (levels per range), lhs or random
    uncertain:                         # scenario parameters by dotted path
      touches.identification_rate: 0.2..0.5      # a range
      accounts.tiers.2.committee_size.mean: [6, 8, 10]   # a list of values
    policies:
      - policy: mqa_count              # a shipped name or a policy file
        grid:
          any.0.unique_contacts: 2..8  # integers 2, 3, ..., 8
          window_days: [14, 30, 60, 90]
      - policy: mql_only
        grid: {threshold: 40..120 by 10}

**Cells.** A *unit* of work is one (scenario sample, replication): it simulates one world and
plays every policy variant on it (common random numbers: variants differ only by their rule).
Each unit writes one Parquet file ``cells/s{sample}-r{replication}.parquet`` atomically (a
temporary name, then a rename), with one row per (variant, tier, metric) and its provenance:
the sweep's config hash, the world seed and the package version. A sweep started again skips
the units whose file exists (for the same config hash), so a killed sweep resumes, losing at
most the units in flight, and never duplicates a row. ``results(out)`` loads them all.

**Executors.** Units run in local processes (default: one per core) or on a Dask cluster;
their seeds come from ``SeedSequence(seed)`` (samples and replications), so results do not
depend on the executor or the number of workers.
"""

from sim.experiment.sweep.design import scenario_samples, unit_seeds, variants
from sim.experiment.sweep.run import STORED_METRICS, run_sweep, run_unit
from sim.experiment.sweep.spec import SweepSpec, config_hash, load_sweep, parse_values
from sim.experiment.sweep.store import ROW_COLUMNS, results

__all__ = [
    "ROW_COLUMNS",
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
