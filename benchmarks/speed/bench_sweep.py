"""Benchmark threshold sweeps (``policies.sweep``, ``sim.experiment.run_sweep``): how their time
grows with thresholds, replications and workers.

Usage::

    python benchmarks/speed/bench_sweep.py            # enterprise, 2,000 accounts (~1.5 min)
    python benchmarks/speed/bench_sweep.py --quick    # 300 accounts, CI smoke run (~20 s)
    python benchmarks/speed/bench_sweep.py --full     # also the issue's sweep: 4 policies x 30
                                                      # thresholds x 20 samples x 5 replications

Measured in one run (nothing asserted; always exits 0):

1. **Thresholds**: one world (one sweep unit) with each shipped policy swept over 1, 10 and 30
   values of its main threshold, the variants evaluated in one ``policies.sweep`` against a
   naive loop of ``policies.evaluate`` with a fresh Frame per value (the per-threshold
   re-evaluation a user would write); the ratio naive / sweep for evaluation alone, and the
   unit's full time (simulate + evaluate + sales + metrics).
2. **Replications**: ``run_sweep`` of 1, 2 and 4 units (one policy x 10 values), one worker.
3. **Workers**: the same 4-unit sweep with 1 and 2 local worker processes; the speed-up.
4. With ``--full``: the issue's sweep end to end on local processes, its time against the
   "minutes on 2 cores" target.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from _common import console, git_commit, scenario_overrides
from rich.table import Table

import policies
import sim
from sim.experiment.sweep import SweepSpec, run_sweep

GRIDS = {  # policy -> (path, values for n thresholds)
    "mql_only": ("threshold", lambda n: list(range(40, 40 + 5 * n, 5))),
    "mqa_count": ("any.0.unique_contacts", lambda n: list(range(1, n + 1))),
    "weighted_titles": ("threshold", lambda n: list(range(10, 10 + 3 * n, 3))),
    "progression_stages": ("stages.2.when.min_activities", lambda n: list(range(1, n + 1))),
}


def spec_for(args, policies_n: dict[str, int], replications: int, samples: int = 1) -> SweepSpec:
    over = scenario_overrides("enterprise", args.accounts, None)
    pols = []
    for name, n in policies_n.items():
        path, values = GRIDS[name]
        pols.append({"policy": name, "grid": {path: values(n)}})
    data = {
        "name": "bench",
        "scenario": "enterprise",
        "overrides": over,
        "seed": 1,
        "replications": replications,
        "policies": pols,
    }
    if samples > 1:
        data["design"] = {"kind": "lhs", "samples": samples}
        data["uncertain"] = {
            "touches.identification_rate": "0.25..0.45",
            "in_market.at_fit_1": "0.3..0.5",
        }
    return SweepSpec.model_validate(data)


def timed_sweep(spec: SweepSpec, workers: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        run_sweep(spec, d, workers=workers)
        return time.perf_counter() - t0


def thresholds(args) -> None:
    sc = sim.load_scenario(
        "enterprise", overrides=scenario_overrides("enterprise", args.accounts, None)
    )
    world = sim.simulate(sc, seed=1)
    log = sim.EventLog.from_world(world)
    t = Table(title=f"Thresholds: one world, {len(log.events):,} events", title_justify="left")
    for c in ["policy", "values", "sweep s", "naive loop s", "naive / sweep", "unit s"]:
        t.add_column(c, justify="right" if c != "policy" else "left")
    for name, (path, values) in GRIDS.items():
        p = policies.load_policy(name)
        for n in (1, 10, 30):
            vals = values(n)
            t0 = time.perf_counter()
            policies.sweep(p, log, path, vals)
            sweep_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            for v in vals:
                policies.evaluate(policies.with_value(p, path, v), log)
            naive_s = time.perf_counter() - t0
            unit_s = timed_sweep(spec_for(args, {name: n}, 1), workers=1)
            t.add_row(
                name,
                str(n),
                f"{sweep_s:.2f}",
                f"{naive_s:.2f}",
                f"{naive_s / sweep_s:.1f}x",
                f"{unit_s:.1f}",
            )
    console.print(t)


def scaling(args) -> None:
    t = Table(title="Replications and workers (mqa_count x 10 values)", title_justify="left")
    for c in ["units", "workers", "seconds", "s / unit"]:
        t.add_column(c, justify="right")
    base = None
    for reps in (1, 2, 4):
        s = timed_sweep(spec_for(args, {"mqa_count": 10}, reps), workers=1)
        base = base or s
        t.add_row(str(reps), "1", f"{s:.1f}", f"{s / reps:.2f}")
    s1 = s
    s2 = timed_sweep(spec_for(args, {"mqa_count": 10}, 4), workers=2)
    t.add_row("4", "2", f"{s2:.1f}", f"{s2 / 4:.2f}")
    console.print(t)
    console.print(f"2 workers vs 1 on 4 units: {s1 / s2:.2f}x ({os.cpu_count()} cores here)")


def full(args) -> None:
    spec = spec_for(args, {n: 30 for n in GRIDS}, replications=5, samples=20)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        counts = run_sweep(spec, d, workers=args.workers)
    s = time.perf_counter() - t0
    console.print(
        f"Full sweep: 4 policies x 30 values x 20 samples x 5 replications = {counts['units']} "
        f"worlds, {args.accounts:,} accounts: {s:.0f} s ({s / 60:.1f} min) with "
        f"{args.workers or os.cpu_count()} workers (target: minutes on 2 cores)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="300 accounts, CI smoke run")
    ap.add_argument("--full", action="store_true", help="also the issue's full sweep")
    ap.add_argument("--accounts", type=int, default=None)
    ap.add_argument("--workers", type=int, default=0)
    args = ap.parse_args()
    args.accounts = args.accounts or (300 if args.quick else 2000)
    console.print(
        f"bench_sweep: commit {git_commit()}, {os.cpu_count()} cores, "
        f"enterprise with {args.accounts:,} accounts"
    )
    thresholds(args)
    scaling(args)
    if args.full:
        full(args)


if __name__ == "__main__":
    main()
