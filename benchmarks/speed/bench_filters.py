"""Benchmark a policy's declared filters (``exclude``: ``after_delivery``, ``burst``,
``no_account``) on the default world with email deliveries added, against the same rule
without filters and against pandas doing the burst count (``groupby().rolling()``), in the
same run.

Usage::

    python benchmarks/speed/bench_filters.py            # the default world (~1.3 M events)
    python benchmarks/speed/bench_filters.py --quick    # 200 accounts, CI smoke run

Nothing is asserted: it always exits 0 (unless it crashes). The world has no deliveries of its
own, so one is added before every email open and click of a known contact: 2 s before for one
in three (what a scanner does), an hour before for the others. Every timing is the best of
``--repeats`` runs on a fresh ``Frame``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _common import console, git_commit
from rich.table import Table

import policies
import sim
from sim.world.presets import DEFAULT_SCENARIO

S = 1 / 86400  # a second, in days
FILTERS = [
    {"after_delivery": {"seconds": 10}},
    {"burst": {"touches": 5, "seconds": 60}},
    {"no_account": True},
]


def with_deliveries(log: sim.EventLog) -> sim.EventLog:
    """``log`` with an ``email_delivered`` before every email open / click of a known
    contact: 2 s before for every third one, an hour before for the others."""
    ev = log.events
    email = ev[ev["activity"].isin(["email_open", "email_click"]) & (ev["contact_id"] >= 0)]
    gap = np.where(np.arange(len(email)) % 3 == 0, 2 * S, 3600 * S)
    delivered = email.assign(time=email["time"] - gap, activity="email_delivered")
    out = pd.concat([ev.astype({"activity": str}), delivered.astype({"activity": str})])
    out = out.sort_values(["account_id", "time"], kind="stable").reset_index(drop=True)
    out["activity"] = pd.Categorical(out["activity"], categories=list(sim.vocab.ACTIVITIES))
    return sim.EventLog(out, log.contacts, log.accounts)


def best(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """(best seconds of ``repeats`` calls, the last result)."""
    secs, out = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        secs = min(secs, time.perf_counter() - t0)
    return secs, out


def pandas_burst(log: sim.EventLog) -> int:
    """Touches with more than 5 of their sender's touches in the closed 60 s before them, the
    pandas way (a time-based rolling count per sender)."""
    ev = log.events[log.events["activity"] != "email_delivered"]
    sender = ev["contact_id"].where(ev["contact_id"] >= 0, -1 - ev["account_id"])
    df = pd.DataFrame(
        {"sender": sender.to_numpy(), "ts": pd.to_datetime(ev["time"].to_numpy(), unit="D")}
    ).sort_values(["sender", "ts"], kind="stable")
    counts = df.groupby("sender").rolling("60s", on="ts", closed="both")["ts"].count()
    return int((counts.to_numpy() > 5).sum())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Benchmark declared filters.")
    p.add_argument("--quick", action="store_true", help="200 accounts: CI smoke run")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    console.print(
        f"[bold]qualsim filters benchmark[/bold] (commit {git_commit()}): Python "
        f"{platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs"
    )
    over = {"accounts": {"count": 200}} if args.quick else None
    world = sim.simulate(sim.load_scenario(DEFAULT_SCENARIO, overrides=over), seed=0)
    log = with_deliveries(sim.EventLog.from_world(world))
    console.print(f"  {len(log.events):,} events with deliveries")
    base = policies.load_policy("mqa_count")
    spec = base.model_dump(by_alias=True, exclude_none=True)
    filtered = policies.load_policy({**spec, "name": "filtered", "exclude": FILTERS})
    table = Table(title=f"best of {args.repeats} (fresh Frame each run)")
    for col in ("what", "best s", "/ no filters", "result"):
        table.add_column(col, justify="left" if col == "what" else "right")
    t0, q0 = best(lambda: policies.evaluate(base, log), args.repeats)
    table.add_row("mqa_count, no filters (baseline)", f"{t0:.3f}", "1.00x", f"{len(q0):,} handoffs")
    t1, q1 = best(lambda: policies.evaluate(filtered, log), args.repeats)
    table.add_row(
        "mqa_count with the 3 filters", f"{t1:.3f}", f"{t1 / t0:.2f}x", f"{len(q1):,} handoffs"
    )
    t2, c = best(lambda: policies.filter_counts(filtered, log), args.repeats)
    for row in c.itertuples():
        table.add_row(f"  removed by {row.filter}", "", "", f"{row.removed:,} touches")
    table.add_row("filter_counts (every filter apart)", f"{t2:.3f}", f"{t2 / t0:.2f}x", "")
    burst_only = policies.load_policy({**spec, "name": "burst", "exclude": FILTERS[1:2]})
    t3, c3 = best(lambda: policies.filter_counts(burst_only, log), args.repeats)
    table.add_row(
        "burst filter alone", f"{t3:.3f}", f"{t3 / t0:.2f}x", f"{c3['removed'].iloc[0]:,}"
    )
    t4, n4 = best(lambda: pandas_burst(log), args.repeats)
    table.add_row("  the same count in pandas (rolling)", f"{t4:.3f}", f"{t4 / t0:.2f}x", f"{n4:,}")
    console.print(table)
    console.print(
        "  pandas' rolling count stops at the current row, so touches at one instant count "
        "fewer there: its count may be lower than the filter's."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
