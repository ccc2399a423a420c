"""Benchmark ``policies.evaluate`` on ``mql`` rules with points below 0 and recycling, against
the shipped ``mql_scored`` (points >= 0) on the same log in the same run.

Usage::

    python benchmarks/speed/bench_mql.py                 # the default world (2,000 accounts)
    python benchmarks/speed/bench_mql.py --events 5000000
    python benchmarks/speed/bench_mql.py --quick         # ~300,000 events, CI smoke run

Nothing is asserted: it always exits 0 (unless it crashes). Every rule is evaluated
``--repeats`` times on a fresh ``Frame`` (no work shared between runs); the best run is
reported, and its ratio to the best run of ``mql_scored``. A rule where most people have a
negative touch (``email_open: -1``) makes scores rise without a touch (a negative touch leaving
the window or fading), which once sent evaluation to scoring every (contact, event) pair of an
account; now every rule takes the per-lead score intervals (``policies/kernels/lead_scores.py``),
so the ratios should stay near 1. Each variant's handoffs are counted for a sanity check.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time

import numpy as np
import pandas as pd
from _common import console, git_commit
from bench_policies import build_log
from rich.table import Table

import policies
import sim
from sim.world.presets import DEFAULT_SCENARIO

NEGATIVE = {"email_open": -1.0}


def variants() -> dict[str, dict]:
    """The rules timed: the shipped MQLs and variants with points below 0 or recycling."""
    scored = policies.load_policy("mql_scored").model_dump(mode="json", exclude_none=True)
    only = policies.load_policy("mql_only").model_dump(mode="json", exclude_none=True)

    def var(base: dict, drop: tuple[str, ...] = (), **kw) -> dict:
        out = {k: v for k, v in base.items() if k not in drop}
        out["points"] = {**base["points"], **kw.pop("points", {})}
        return {**out, **kw}

    return {
        "mql_scored (baseline: window 90, recycle 90)": scored,
        "mql_scored, email_open -1": var(scored, points=NEGATIVE),
        "mql_scored, email_open -1, no recycling": var(
            scored, drop=("recycle_days",), points=NEGATIVE
        ),
        "mql_scored, email_open -1, no decay": var(scored, drop=("decay",), points=NEGATIVE),
        "mql_only (half-life 30, no recycling)": only,
        "mql_only, email_open -1": var(only, points=NEGATIVE),
        "mql_only, email_open -1, recycle 30": var(only, points=NEGATIVE, recycle_days=30.0),
    }


def default_log() -> sim.EventLog:
    """The default world, as ``qualsim world`` simulates it (seed 0)."""
    return sim.EventLog.from_world(sim.simulate(sim.load_scenario(DEFAULT_SCENARIO), seed=0))


def time_rule(policy, log: sim.EventLog, repeats: int) -> tuple[float, pd.DataFrame]:
    """(best seconds of ``repeats`` evaluations, the handoffs)."""
    best, out = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = policies.evaluate(policy, log)
        best = min(best, time.perf_counter() - t0)
    assert out is not None
    return best, out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Benchmark mql rules with points below 0.")
    p.add_argument("--events", type=int, default=None, help="a larger enterprise world")
    p.add_argument("--quick", action="store_true", help="~300,000 events: CI smoke run")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    console.print(
        f"[bold]qualsim mql benchmark[/bold] (commit {git_commit()}): Python "
        f"{platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs"
    )
    if args.quick:
        args.events = 300_000
    if args.events is None:
        log = default_log()
    else:
        ns = argparse.Namespace(
            events=args.events, scenario="enterprise", horizon_days=365.0, seed=0
        )
        log = build_log(ns)[0]
    ev = log.events
    console.print(
        f"  {len(ev):,} events, {ev['account_id'].nunique():,} accounts, "
        f"{int((ev['contact_id'] >= 0).sum()):,} by known contacts; email opens are "
        f"{(ev['activity'] == 'email_open').mean():.0%} of the events"
    )
    table = Table(title=f"mql rules, best of {args.repeats} (fresh Frame each run)")
    for col in ("rule", "best s", "/ baseline", "handoffs"):
        table.add_column(col, justify="left" if col == "rule" else "right")
    base = None
    for name, spec in variants().items():
        secs, out = time_rule(policies.load_policy({**spec, "name": "bench"}), log, args.repeats)
        base = base or secs
        table.add_row(name, f"{secs:.3f}", f"{secs / base:.2f}x", f"{len(out):,}")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
