"""Benchmark reading a sweep (``qualsim recommend``, the report's sweep section): the one-groupby
summaries against the loops they replaced, measured in the same run.

Usage::

    python benchmarks/speed/bench_recommend.py           # a full-size store: 20 samples x 5
                                                         # replications x 18 variants (~30 s)
    python benchmarks/speed/bench_recommend.py --quick   # the docs' small store, CI smoke (~10 s)
    python benchmarks/speed/bench_recommend.py --full    # also `qualsim recommend` and `report`
                                                         # end to end on the docs' example sweep

Measured in one run (nothing asserted; always exits 0), on a synthetic store of the shape a sweep
writes (4 tiers, the 16 stored metrics, random values with NaNs):

1. ``recommend.summary`` (one ``groupby`` for every variant's t intervals) against
   ``summary_reference`` (one ``t_interval`` per variant and metric in a loop) and against the
   same loop with ``scipy.stats.t.ppf``, as the code was before (10,092 calls of it on the
   issue's store);
2. ``best_per_sample`` (every scenario sample judged in one pass) against
   ``best_per_sample_reference`` (each sample summarised and judged on its own);
3. ``recommend_by_tier`` as ``qualsim recommend`` calls it.

Times are CPU seconds of this process (``time.process_time``, the best of the repeats), ratios
reference / fast. With ``--full``, ``qualsim recommend`` and ``qualsim report --sweep`` run as
subprocesses and their wall time and CPU time (user + system, ``os.wait4``) are printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from _common import console, git_commit
from rich.table import Table
from scipy import stats

from sim.experiment import recommend as rec
from sim.experiment.sweep import STORED_METRICS

TIERS = [-1, 1, 2, 3]
VARIANTS = [("mqa_depth", f"c={c},t={t}") for c in range(1, 5) for t in (2, 4, 6)] + [
    ("mql_scored", f"threshold={v}") for v in range(60, 180, 20)
]


def synthetic_store(samples: int, replications: int, seed: int = 1) -> pd.DataFrame:
    """Rows shaped like a sweep's: every (sample, replication, variant, tier, metric) once."""
    rng = np.random.default_rng(seed)
    index = pd.MultiIndex.from_product(
        [range(samples), range(replications), range(len(VARIANTS)), TIERS, STORED_METRICS],
        names=["sample", "replication", "v", "tier", "metric"],
    )
    df = index.to_frame(index=False)
    df["policy"] = [VARIANTS[i][0] for i in df["v"]]
    df["variant"] = [VARIANTS[i][1] for i in df["v"]]
    df["value"] = rng.gamma(2.0, 2.0, len(df))
    df.loc[rng.random(len(df)) < 0.02, "value"] = np.nan  # a metric undefined in some worlds
    df["u:rate"] = df["sample"].map(dict(enumerate(rng.random(samples))))
    return df.drop(columns="v")


def loop_with_t_ppf(df: pd.DataFrame, keys: list[str], value: str, level: float) -> pd.DataFrame:
    """The per-group loop as it was before: ``scipy.stats.t.ppf`` once per group."""
    rows = []
    for key, g in df.groupby(keys, sort=False, observed=True):
        v = g[value].to_numpy(np.float64)
        v = v[~np.isnan(v)]
        n = v.size
        mean = float(v.mean()) if n else np.nan
        half = stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        rows.append((*key, mean, mean - half, mean + half, n))
    return pd.DataFrame(rows, columns=[*keys, "mean", "ci_low", "ci_high", "n"])


def cpu(fn: Callable[[], object], repeats: int) -> float:
    """The best CPU time of ``repeats`` calls."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def in_process(df: pd.DataFrame, repeats: int) -> None:
    limits = (5.0, 0.3, "weekly_load_p90")
    rows = [
        (
            "summary (all accounts)",
            lambda: rec.summary(df),
            [
                ("loop of t_interval", lambda: rec.summary_reference(df)),
                ("loop with t.ppf (before)", lambda: rec.summary(df, _intervals=loop_with_t_ppf)),
            ],
        ),
        (
            "best variant per sample",
            lambda: rec.best_per_sample(df, -1, "total_wins", *limits),
            [
                (
                    "loop of per-sample summaries",
                    lambda: rec.best_per_sample_reference(df, -1, "total_wins", *limits),
                )
            ],
        ),
    ]
    t = Table(title=f"Reading a store of {len(df):,} rows (CPU s)", title_justify="left")
    for col in ("step", "fast", "reference", "reference s", "ratio"):
        t.add_column(col, justify="left" if col in ("step", "reference") else "right")
    for name, fast, refs in rows:
        f = cpu(fast, repeats)
        for label, ref in refs:
            r = cpu(ref, max(1, repeats // 2))
            t.add_row(name, f"{f:.3f}", label, f"{r:.3f}", f"{r / f:.1f}x")
    console.print(t)
    s = cpu(lambda: rec.recommend_by_tier(df, 5.0, 0.3), max(1, repeats // 2))
    console.print(f"recommend_by_tier ({len(TIERS)} tiers, as qualsim recommend): {s:.3f} CPU s")


SWEEP = """name: bench-recommend
scenario: enterprise
overrides: {accounts: {count: 300}}
seed: 1
replications: 2
design: {kind: lhs, samples: 4}
uncertain:
  touches.identification_rate: 0.2..0.5
  in_market.at_fit_1: 0.3..0.5
  accounts.tiers.2.committee_size.mean: [6, 8, 10]
policies:
  - policy: mqa_depth
    grid: {all.0.unique_contacts: 1..4, all.0.min_touches_per_contact: [2, 4, 6]}
  - policy: mql_scored
    grid: {threshold: 60..160 by 20}
"""


def qualsim(*args: str) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one ``qualsim`` command in a subprocess."""
    code = "import sys; from sim.cli import main; sys.argv[0] = 'qualsim'; sys.exit(main())"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        console.print(f"[red]qualsim {' '.join(args)} failed[/red]: {proc.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime


def end_to_end() -> None:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        (folder / "sweep.yaml").write_text(SWEEP, encoding="utf-8")
        store, cmp = folder / "runs", folder / "cmp"
        qualsim("sweep", str(folder / "sweep.yaml"), "--out", str(store))
        qualsim("compare", "enterprise", "mql_only", "mqa_count", "-r", "5", "--out", str(cmp))
        t = Table(title="End to end, as a user runs them (one run each)", title_justify="left")
        for col in ("command", "wall s", "CPU s"):
            t.add_column(col, justify="left" if col == "command" else "right")
        for name, args in (
            ("qualsim recommend", ("recommend", str(store), "--max-handoffs-per-week", "2")),
            (
                "qualsim report --sweep",
                ("report", str(cmp), "--sweep", str(store), "--out", str(folder / "r.html")),
            ),
        ):
            wall, cpu_s = qualsim(*args)
            t.add_row(name, f"{wall:.2f}", f"{cpu_s:.2f}")
        console.print(t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the docs' small store, CI smoke run")
    ap.add_argument("--full", action="store_true", help="also recommend and report end to end")
    args = ap.parse_args()
    samples, reps, repeats = (4, 2, 3) if args.quick else (20, 5, 3)
    console.print(
        f"bench_recommend: commit {git_commit()}, {os.cpu_count()} cores, a store of {samples} "
        f"scenario samples x {reps} replications x {len(VARIANTS)} variants x {len(TIERS)} tiers"
    )
    in_process(synthetic_store(samples, reps), repeats)
    if args.full:
        end_to_end()


if __name__ == "__main__":
    main()
