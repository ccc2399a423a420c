"""Benchmark ``policies.evaluate`` on the MQA example against DuckDB SQL, and a threshold sweep.

Usage::

    python benchmarks/speed/bench_policies.py            # >= 10,000,000 events (~1.5 min)
    python benchmarks/speed/bench_policies.py --quick    # ~300,000 events, CI smoke run (~4 s)
    python benchmarks/speed/bench_policies.py --events 3000000 --no-join

Everything below is measured in one run. Nothing is asserted: it always exits 0 (unless it
crashes) and prints each result next to its target.

1. **The log**: ``sim.simulate`` (enterprise preset over 365 days, journeys starting by day 300)
   with enough accounts for at least ``--events`` touches (sized from a small pilot world; an
   account's rows depend only on the seed and its index), then ``EventLog.from_world``.
2. **Ours**: ``policies.evaluate`` of the MQA example (``window_days: 30``, five counting
   activities, ``any: [{unique_contacts: 4}, {unique_contacts: 3, min_activities: 9}]``; no
   tiers, no recycling), each run on a fresh ``Frame`` (no work shared between runs): the first
   run in this process and the best of ``--repeats``. The rule is monotone (no ``not:``) and
   does not recycle, so ``evaluate`` looks only at the touches its conditions count
   (``policies/kernels/rule.py``); the timed run still starts from the pandas EventLog.
3. **DuckDB**: the same events (time, account_id, contact_id, activity) copied into a DuckDB table
   (load timed apart), then SQL computing each account's first qualification: the first event
   time t (any activity) at which the known contacts with a counting touch in [t - 30, t] number
   >= 4, or >= 3 with >= 9 such touches. Two plain forms, each checked against ours (same
   accounts, identical times):

   - ``window``: ``COUNT(DISTINCT contact_id) FILTER (...) OVER (PARTITION BY account_id ORDER BY
     time RANGE BETWEEN 30 PRECEDING AND CURRENT ROW)`` (a RANGE frame includes the current
     row's peers: every event at time t);
   - ``self-join``: the distinct (account, time) evaluation points joined with the counting
     touches ``e.time BETWEEN q.time - 30 AND q.time``, ``GROUP BY`` with ``COUNT(DISTINCT)``.

   Both run with DuckDB's default threads and again with ``SET threads = 1``. The headline ratio
   divides the fastest DuckDB form (default threads) by our best run.
4. **Sweep**: ``policies.sweep(policy, log, "any.0.unique_contacts", range(1, 51))`` (one Frame
   shared by the 50 variants; a count threshold of a monotone rule is swept in one pass)
   against one evaluation; its value-4 rows must equal ``evaluate``.
5. **Profile**: cProfile of one ``evaluate`` and of one sweep: the functions with the most own
   time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import os
import platform
import pstats
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from _common import console, git_commit, scenario_overrides, verdict
from rich.table import Table

import policies
import sim

try:
    import duckdb
except ImportError:  # the rest of the benchmark still runs
    duckdb = None

# Targets from the issue (printed next to the measurements, never asserted).
TARGET_RATIO = 20.0  # ours at least 20x faster than DuckDB
TARGET_SWEEP = 2.0  # a 50-value sweep at most 2x one evaluation
SWEEP_PATH = "any.0.unique_contacts"
SWEEP_VALUES = range(1, 51)

ACTIVITIES = ["web_visit", "content_download", "webinar", "demo_request", "email_click"]
POLICY = {
    "name": "mqa-example",
    "kind": "mqa_count",
    "window_days": 30,
    "activities": ACTIVITIES,
    "any": [{"unique_contacts": 4}, {"unique_contacts": 3, "min_activities": 9}],
}


# --------------------------------------------------------------------------- the log


def build_log(args) -> tuple[sim.EventLog, int, float]:
    """A log of at least ``args.events`` touches: (log, accounts, simulate seconds)."""
    pilot_n = 500 if args.events < 1_000_000 else 2_000
    pilot = sim.simulate(
        sim.load_scenario(
            args.scenario, overrides=scenario_overrides(args.scenario, pilot_n, args.horizon_days)
        ),
        seed=args.seed,
    )
    per_account = max(len(pilot.events) / pilot_n, 1.0)
    n_acc = max(1, math.ceil(args.events / per_account * 1.02))
    del pilot
    while True:
        sc = sim.load_scenario(
            args.scenario, overrides=scenario_overrides(args.scenario, n_acc, args.horizon_days)
        )
        t0 = time.perf_counter()
        world = sim.simulate(sc, seed=args.seed)
        sim_s = time.perf_counter() - t0
        n = len(world.events)
        if n >= args.events:
            return sim.EventLog.from_world(world), n_acc, sim_s
        n_acc = math.ceil(n_acc * args.events / max(n, 1) * 1.02) + 1
        del world


# --------------------------------------------------------------------------- DuckDB

_COUNTING = "contact_id >= 0 AND activity IN ({acts})"

SQL_WINDOW = """
WITH w AS (
    SELECT account_id, time,
        COUNT(DISTINCT contact_id) FILTER (WHERE {counting}) OVER win AS unique_contacts,
        COUNT(*) FILTER (WHERE {counting}) OVER win AS touches
    FROM events
    WINDOW win AS (PARTITION BY account_id ORDER BY time
                   RANGE BETWEEN {window} PRECEDING AND CURRENT ROW)
)
SELECT account_id, MIN(time) AS time
FROM w
WHERE unique_contacts >= 4 OR (unique_contacts >= 3 AND touches >= 9)
GROUP BY account_id
ORDER BY account_id
"""

SQL_JOIN = """
WITH q AS (SELECT DISTINCT account_id, time FROM events),
e AS (SELECT account_id, time, contact_id FROM events WHERE {counting}),
c AS (
    SELECT q.account_id, q.time,
        COUNT(DISTINCT e.contact_id) AS unique_contacts, COUNT(*) AS touches
    FROM q JOIN e
        ON e.account_id = q.account_id AND e.time BETWEEN q.time - {window} AND q.time
    GROUP BY q.account_id, q.time
)
SELECT account_id, MIN(time) AS time
FROM c
WHERE unique_contacts >= 4 OR (unique_contacts >= 3 AND touches >= 9)
GROUP BY account_id
ORDER BY account_id
"""


def sql_text(template: str) -> str:
    acts = ", ".join(f"'{a}'" for a in ACTIVITIES)
    return template.format(counting=_COUNTING.format(acts=acts), window=POLICY["window_days"])


def duckdb_load(log: sim.EventLog):
    """An in-memory DuckDB with the log's events as table ``events``: (connection, seconds)."""
    con = duckdb.connect()
    ev = log.events[["time", "account_id", "contact_id", "activity"]]
    t0 = time.perf_counter()
    con.register("events_df", ev)
    con.execute("CREATE TABLE events AS SELECT * FROM events_df")
    con.unregister("events_df")
    return con, time.perf_counter() - t0


def duckdb_threads(con) -> int:
    return int(con.execute("SELECT current_setting('threads')").fetchone()[0])


def time_sql(con, sql: str, runs: int) -> tuple[list[float], pd.DataFrame]:
    """Run ``sql`` ``runs`` times: (seconds of each run, the result of the last)."""
    secs, out = [], None
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        out = con.execute(sql).df()
        secs.append(time.perf_counter() - t0)
    return secs, out


def agreement(ours: pd.DataFrame, theirs: pd.DataFrame) -> dict:
    """Per account first handoff time of ours vs a SQL result (account_id, time)."""
    a = ours.groupby("account_id")["time"].min()
    b = theirs.set_index("account_id")["time"]
    both = a.index.intersection(b.index)
    differ = int((a.loc[both].to_numpy() != b.loc[both].to_numpy()).sum())
    only_ours = int(a.index.difference(b.index).size)
    only_sql = int(b.index.difference(a.index).size)
    return {
        "ours": int(a.size),
        "sql": int(b.size),
        "only_ours": only_ours,
        "only_sql": only_sql,
        "time_differs": differ,
        "ok": only_ours == 0 and only_sql == 0 and differ == 0 and len(ours) == a.size,
    }


# --------------------------------------------------------------------------- ours


def time_calls(fn, runs: int) -> tuple[list[float], object]:
    secs, out = [], None
    for _ in range(runs):
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        secs.append(time.perf_counter() - t0)
    return secs, out


def traced_peak_mib(fn) -> float:
    """Peak memory traced (numpy arrays included) during one call of ``fn``, in MiB."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def profile_rows(fn, top: int) -> tuple[float, list[tuple[str, int, float, float]]]:
    """cProfile one call of ``fn``: (total seconds, top functions by own time)."""
    gc.collect()
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    fn()
    prof.disable()
    total = time.perf_counter() - t0
    stats = pstats.Stats(prof).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    roots = [str(Path(__file__).resolve().parents[2])] + [p for p in sys.path if p]
    roots = sorted({r.rstrip(os.sep) + os.sep for r in roots}, key=len, reverse=True)
    rows = []
    for (file, line, name), (_cc, nc, tt, ct, _callers) in stats.items():
        if file == "~":
            label = name  # a built-in: "<method 'searchsorted' of 'numpy.ndarray' objects>"
        else:
            short = next((file[len(r) :] for r in roots if file.startswith(r)), file)
            label = f"{short}:{line} {name}"
        rows.append((label, nc, tt, ct))
    rows.sort(key=lambda r: -r[2])
    return total, rows[:top]


# --------------------------------------------------------------------------- report


def fmt_runs(secs: list[float]) -> tuple[str, str]:
    """(first run, best run) as text."""
    return f"{secs[0]:.3f}", f"{min(secs):.3f}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark policies.evaluate (MQA example) against DuckDB SQL, and a sweep."
    )
    p.add_argument(
        "--events", type=int, default=None, help="at least this many events (default 10,000,000)"
    )
    p.add_argument("--quick", action="store_true", help="~300,000 events: CI smoke run")
    p.add_argument("--scenario", default="enterprise", help="preset name or YAML path")
    p.add_argument("--horizon-days", type=float, default=365.0, help="default 365")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3, help="runs of evaluate (best is reported)")
    p.add_argument("--sql-repeats", type=int, default=2, help="runs of each SQL form (default 2)")
    p.add_argument("--no-join", action="store_true", help="skip the self-join SQL form")
    p.add_argument(
        "--no-single-thread", action="store_true", help="skip the DuckDB runs with threads=1"
    )
    p.add_argument("--profile-top", type=int, default=12, help="functions shown per profile")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.events is None:
        args.events = 300_000 if args.quick else 10_000_000
    repeats = max(1, args.repeats)
    sql_repeats = max(1, args.sql_repeats)
    console.print(
        f"[bold]qualsim policy benchmark[/bold] (commit {git_commit()}): Python "
        f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, duckdb "
        f"{duckdb.__version__ if duckdb else 'not installed'}, {os.cpu_count()} CPUs"
    )

    # 1. The log.
    console.print(f"[dim]log: simulating at least {args.events:,} events ...[/dim]")
    log, n_acc, sim_s = build_log(args)
    ev = log.events
    n_events = len(ev)
    known = ev["contact_id"].to_numpy() >= 0
    counting = ev["activity"].isin(ACTIVITIES).to_numpy()
    n_points = int((~ev.duplicated(["account_id", "time"])).sum())
    sc = sim.load_scenario(
        args.scenario, overrides=scenario_overrides(args.scenario, n_acc, args.horizon_days)
    )
    console.print(
        f"  scenario {sc.name!r}, {n_acc:,} accounts, horizon {sc.horizon_days:g} days, journey "
        f"start window {list(sc.journey.start_window_days)}, seed {args.seed}: "
        f"[bold]{n_events:,} events[/bold] ({sim_s:.1f} s to simulate); "
        f"{int((known & counting).sum()):,} counting touches by known contacts; "
        f"{n_points:,} distinct (account, time) evaluation points."
    )

    policy = policies.load_policy(POLICY)
    console.print(
        f"  policy: window_days {POLICY['window_days']}, activities {ACTIVITIES}, "
        f"any: {POLICY['any']} (no tiers, no recycling)"
    )

    # 2. Ours: a fresh Frame on every run.
    console.print(f"[dim]ours: policies.evaluate x {repeats} ...[/dim]")
    ours_secs, ours = time_calls(lambda: policies.evaluate(policy, log), repeats)
    ours_best = min(ours_secs)

    # 4. The sweep (before DuckDB, so DuckDB's memory does not weigh on it).
    console.print(f"[dim]sweep: {SWEEP_PATH} over {SWEEP_VALUES} x 2 ...[/dim]")
    sweep_secs, swept = time_calls(lambda: policies.sweep(policy, log, SWEEP_PATH, SWEEP_VALUES), 2)
    sweep_best = min(sweep_secs)
    at4 = swept[swept["value"] == 4].drop(columns="value").reset_index(drop=True)
    sweep_same = at4.equals(ours.reset_index(drop=True))
    variants = int(swept["value"].nunique())

    # 5. Profiles (warm process, fresh Frame).
    console.print("[dim]profile: cProfile of one evaluate and one sweep ...[/dim]")
    prof_eval = profile_rows(lambda: policies.evaluate(policy, log), args.profile_top)
    prof_sweep = profile_rows(
        lambda: policies.sweep(policy, log, SWEEP_PATH, SWEEP_VALUES), args.profile_top
    )
    peak_mib = traced_peak_mib(lambda: policies.evaluate(policy, log))

    # 3. DuckDB.
    sql_runs = []  # (form, threads, seconds list, agreement)
    load_s = threads_default = None
    if duckdb is None:
        console.print(
            "[yellow]duckdb is not importable: the DuckDB comparison is skipped "
            "(install it with `pip install duckdb`).[/yellow]"
        )
    else:
        console.print("[dim]duckdb: loading the events ...[/dim]")
        con, load_s = duckdb_load(log)
        threads_default = duckdb_threads(con)
        forms = [("window", SQL_WINDOW)] + ([] if args.no_join else [("self-join", SQL_JOIN)])
        settings = [(threads_default, sql_repeats)]
        if not args.no_single_thread and threads_default != 1:
            settings.append((1, 1))
        for threads, runs in settings:
            con.execute(f"SET threads = {threads}")
            for form, template in forms:
                console.print(f"[dim]duckdb: {form}, threads={threads}, x {runs} ...[/dim]")
                secs, res = time_sql(con, sql_text(template), runs)
                sql_runs.append((form, threads, secs, agreement(ours, res)))
        con.close()
        del con

    # ---------------------------------------------------------------- results
    t = Table(title=f"1. First qualification per account, {n_events:,} events")
    for col in ("engine", "threads", "runs", "first s", "best s", "DuckDB best / ours best"):
        t.add_column(col, justify="left" if col == "engine" else "right")
    t.add_row(
        "policies.evaluate (fresh Frame)",
        "1",
        str(repeats),
        *fmt_runs(ours_secs),
        "",
    )
    for form, threads, secs, _agr in sql_runs:
        t.add_row(
            f"DuckDB SQL, {form}",
            str(threads),
            str(len(secs)),
            *fmt_runs(secs),
            f"{min(secs) / ours_best:,.1f}x",
        )
    console.print(t)
    if duckdb is not None:
        console.print(
            f"  DuckDB {duckdb.__version__}: the events were copied into a native table first "
            f"({load_s:.2f} s, not counted); the query times include reading back the result. "
            f"Ours includes building its Frame from the pandas log. threads={threads_default} "
            f"is DuckDB's default here ({os.cpu_count()} CPUs); numpy runs on one core."
        )

        a = Table(title="Agreement: handoff per account, ours vs SQL")
        for col in ("SQL form", "threads", "accounts ours", "accounts SQL"):
            a.add_column(col, justify="left" if col == "SQL form" else "right")
        for col in ("only ours", "only SQL", "time differs", ""):
            a.add_column(col, justify="right")
        for form, threads, _secs, agr in sql_runs:
            a.add_row(
                form,
                str(threads),
                f"{agr['ours']:,}",
                f"{agr['sql']:,}",
                str(agr["only_ours"]),
                str(agr["only_sql"]),
                str(agr["time_differs"]),
                "[green]same[/green]" if agr["ok"] else "[red]DIFFERENT[/red]",
            )
        console.print(a)
        console.print(
            f"  {len(ours):,} handoffs of {n_acc:,} accounts; times compared exactly (floats)."
        )

    s = Table(title=f"2. Sweep: {SWEEP_PATH} over {SWEEP_VALUES.start}..{SWEEP_VALUES.stop - 1}")
    for col in ("run", "first s", "best s", "/ one evaluate (best)"):
        s.add_column(col, justify="left" if col == "run" else "right")
    s.add_row("policies.evaluate", *fmt_runs(ours_secs), "1.0x")
    s.add_row(
        f"policies.sweep, {len(SWEEP_VALUES)} values",
        *fmt_runs(sweep_secs),
        f"{sweep_best / ours_best:,.2f}x",
    )
    console.print(s)
    console.print(
        f"  {len(swept):,} rows over {variants} values with handoffs; the value-4 rows "
        f"{'equal' if sweep_same else '[red]DIFFER FROM[/red]'} evaluate's; "
        f"{sweep_best / len(SWEEP_VALUES) * 1e3:,.1f} ms per variant."
    )

    for title, (total, rows) in (
        ("3a. Where one evaluate spends its time (cProfile, own time)", prof_eval),
        ("3b. Where one sweep spends its time (cProfile, own time)", prof_sweep),
    ):
        p = Table(title=f"{title}: {total:.3f} s profiled")
        for col in ("function", "calls", "own s", "share", "cumulative s"):
            p.add_column(col, justify="left" if col == "function" else "right")
        for label, nc, tt, ct in rows:
            p.add_row(label, f"{nc:,}", f"{tt:.3f}", f"{tt / total:.1%}", f"{ct:.3f}")
        console.print(p)
    console.print(
        f"  One evaluate allocates up to {peak_mib:,.0f} MiB of arrays at once (tracemalloc peak; "
        f"{peak_mib * 2**20 / n_events:,.0f} bytes per event); a first run in a fresh process "
        f"also pays the first-touch page faults of that memory (compare its first and best runs)."
    )

    f = Table(title="Summary")
    for col in ("metric", "measured", "target", ""):
        f.add_column(col, justify="left" if col in ("metric", "") else "right")
    f.add_row("events", f"{n_events:,}", ">= 10,000,000", verdict(n_events >= 10_000_000))
    f.add_row(
        "policies.evaluate, best / first", f"{ours_best:.3f} s / {ours_secs[0]:.3f} s", "", ""
    )
    if sql_runs:
        default = [r for r in sql_runs if r[1] == threads_default]
        fastest = min(default, key=lambda r: min(r[2]))
        sql_best = min(fastest[2])
        f.add_row(
            f"DuckDB, fastest form ({fastest[0]}, threads={threads_default}), best",
            f"{sql_best:.3f} s",
            "",
            "",
        )
        f.add_row(
            "ratio DuckDB / ours (best runs)",
            f"{sql_best / ours_best:,.1f}x",
            f">= {TARGET_RATIO:g}x",
            verdict(sql_best / ours_best >= TARGET_RATIO),
        )
        f.add_row(
            "ratio DuckDB / ours (first runs)",
            f"{fastest[2][0] / ours_secs[0]:,.1f}x",
            f">= {TARGET_RATIO:g}x",
            verdict(fastest[2][0] / ours_secs[0] >= TARGET_RATIO),
        )
        single = [r for r in sql_runs if r[1] == 1 and r[0] == fastest[0]]
        if single and threads_default != 1:
            f.add_row(
                f"ratio DuckDB ({fastest[0]}, threads=1) / ours",
                f"{min(single[0][2]) / ours_best:,.1f}x",
                "same resources",
                "",
            )
        all_ok = all(r[3]["ok"] for r in sql_runs)
        f.add_row(
            "same handoffs as every SQL run",
            "yes" if all_ok else "NO",
            "identical",
            verdict(all_ok),
        )
    else:
        f.add_row("DuckDB comparison", "skipped (pip install duckdb)", "", "")
    f.add_row(
        f"sweep of {len(SWEEP_VALUES)} values / one evaluate",
        f"{sweep_best / ours_best:,.2f}x",
        f"<= {TARGET_SWEEP:g}x",
        verdict(sweep_best / ours_best <= TARGET_SWEEP),
    )
    f.add_row("sweep value 4 == evaluate", "yes" if sweep_same else "NO", "", verdict(sweep_same))
    console.print(f)
    if n_events < 10_000_000:
        console.print(
            f"  Note: this run used {n_events:,} events; the targets are for at least 10,000,000."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
