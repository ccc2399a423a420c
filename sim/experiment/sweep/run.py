"""Running a sweep: each unit simulates one world (:class:`sim.experiment.replicate.Replica`)
and plays every policy variant on it (common random numbers: variants differ only by their
rule); units run on an executor, and each unit's cells go to the results store as it finishes."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

import policies as pol
from sim import __version__
from sim.eventlog import EventLog
from sim.experiment.executors import Executor, executor_for
from sim.experiment.replicate import Replica
from sim.experiment.sweep.design import scenario_samples, unit_seeds, variants
from sim.experiment.sweep.spec import (
    SweepSpec,
    _jsonable,
    _load_policy,
    _set_path,
    config_hash,
    scenario_source,
)
from sim.experiment.sweep.store import (
    ROW_COLUMNS,
    ForeignCellsWarning,
    load_cells,
    open_store,
    remove_stale_partials,
    write_cell,
)
from sim.world.presets import load_scenario

# The metrics each cell stores (the sweep's summaries and recommendations read these).
STORED_METRICS = [
    "handoffs_per_week",
    "precision",
    "recall",
    "lead_time_days",
    "queue_wait_hours",
    "acceptance_rate",
    "opportunities",
    "wins",
    "revenue",
    "false_handoff_hours",
    "total_wins",
    "total_revenue",
    "inbound_wins",  # deals the accounts brought in themselves (late inbound)
    "inbound_revenue",
    # what the handoffs caused: the totals minus the same world with no handoff
    "opportunities_caused",
    "wins_caused",
    "revenue_caused",
    # the week-by-week load: `qualsim recommend` constrains a quantile week, not the mean
    "weekly_load_p50",
    "weekly_load_p90",
    "weekly_load_max",
    "weeks_over_capacity",
]


def run_unit(
    spec: SweepSpec, base: Path | None, sample: int, sample_values: dict, rep: int, seed: int
) -> pd.DataFrame:
    """One (sample, replication): simulate, play every variant, return its rows."""
    over: dict = json.loads(json.dumps(spec.overrides))
    for path, value in sample_values.items():
        _set_path(over, path, _jsonable(value))
    sc = load_scenario(scenario_source(spec, base), overrides=over or None)
    rep_ = Replica.simulate(sc, int(seed))
    tiers = sorted(sc.accounts.tiers) if spec.tiers else []
    h = config_hash(spec, base)
    provenance = (int(seed), h, __version__)
    rows = []
    for name, label, params, p, q in _evaluate_variants(spec, base, rep_.log, rep_.frame):
        res = rep_.play(rep_.rolled_out(p, q))
        for tier in [None, *tiers]:
            m = rep_.metrics(res, tier, coverage=False)
            t = -1 if tier is None else tier
            for metric in STORED_METRICS:
                cell = (sample, rep, name, label, json.dumps(params), t, metric, m[metric])
                rows.append((*cell, *provenance))
    df = pd.DataFrame(rows, columns=ROW_COLUMNS)
    for path, value in sample_values.items():
        df[f"u:{path}"] = float(value) if isinstance(value, int | float) else str(value)
    return df


def _evaluate_variants(
    spec: SweepSpec, base: Path | None, log: EventLog, frame: pol.Frame
) -> Iterator[tuple[str, str, dict, pol.PolicyBase, pd.DataFrame]]:
    """(policy name, label, params, policy, handoffs) of every variant. A grid over one path uses
    ``policies.sweep`` (one pass over the log where the policy kind allows it); others loop
    ``policies.evaluate`` over a shared Frame."""
    all_variants = variants(spec, base)
    i = 0
    for pg in spec.policies:
        n = int(np.prod([len(v) for v in pg.grid.values()])) if pg.grid else 1
        chunk = all_variants[i : i + n]
        i += n
        if len(pg.grid) == 1:
            ((path, values),) = pg.grid.items()
            p0 = _load_policy(pg.policy, base)
            swept = pol.sweep(p0, log, path, values)
            by_value = dict(iter(swept.groupby("value", sort=False)))
            for (name, label, params, p), v in zip(chunk, values, strict=True):
                q = by_value.get(v)
                q = swept.iloc[:0] if q is None else q
                yield name, label, params, p, q.drop(columns="value").reset_index(drop=True)
        else:
            for name, label, params, p in chunk:
                yield name, label, params, p, pol.evaluate(p, log, frame)


def store_meta(spec: SweepSpec, h: str, n_samples: int, names: list[tuple[str, str]]) -> dict:
    """What ``sweep.json`` records: the config hash, the spec and the design's shape (what
    every cell is checked against)."""
    return {
        "config_hash": h,
        "samples": n_samples,
        "replications": spec.replications,
        "seed": spec.seed,
        "variants": [list(v) for v in names],
        "metrics": list(STORED_METRICS),
        "spec": spec.model_dump(mode="json"),
    }


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    base: Path | None = None,
    workers: int = 0,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    limit: int | None = None,
) -> dict[str, int]:
    """Run (or resume) a sweep into ``out``. Returns counts: units total, done before, run now.

    Units run on ``executor`` (``sim.experiment.executors``: ``Sequential()``,
    ``Processes(workers)``, ``Dask(client)``), by default in ``workers`` local processes (0: one
    per core, 1: this process). ``progress(done, total)`` is called as units finish; ``limit``
    runs at most that many missing units (for tests of resuming).

    Resuming reuses only the cells that :func:`~sim.experiment.sweep.store.load_cells` accepts
    (this config hash, whole, readable); a unit whose file is foreign, truncated or corrupt runs
    again and replaces it (``rejected`` counts the files left out, with a
    :class:`~sim.experiment.sweep.store.ForeignCellsWarning` naming them).
    """
    out = Path(out)
    run_on = executor_for(workers, executor)
    names = [(n, label) for n, label, _, _ in variants(spec, base)]  # fails early on bad policies
    samples = scenario_samples(spec)
    h = config_hash(spec, base)
    open_store(out, store_meta(spec, h, len(samples), names))
    remove_stale_partials(out)
    cells = load_cells(out, keep_rows=False)
    seeds = unit_seeds(spec, len(samples))
    units = [(s, r) for s in range(len(samples)) for r in range(spec.replications)]
    todo = [u for u in units if u not in cells.units]
    done_before = len(units) - len(todo)
    if limit is not None:
        todo = todo[:limit]
    if cells.rejected:
        warnings.warn(cells.message(out), ForeignCellsWarning, stacklevel=2)
    if progress:
        progress(done_before, len(units))
    tasks = [(spec, base, s, samples[s], r, int(seeds[s, r])) for s, r in todo]
    finished = 0
    with run_on as ex:
        for i, df in ex.map(run_unit, tasks):
            write_cell(out, *todo[i], df)
            finished += 1
            if progress:
                progress(done_before + finished, len(units))
    return {
        "units": len(units),
        "done_before": done_before,
        "ran": finished,
        "rejected": len(cells.rejected),
    }
