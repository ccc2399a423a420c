"""Benchmark: ``qualsim evaluate`` on a team's export at real sizes, end to end, against DuckDB.

Run from the repository root (``python benchmarks/speed/bench_real.py [--quick]``). In one run it

1. writes a seeded export (``_real_export.py``: string ids, 20,000 accounts x 10 contacts,
   10,000,000 events by default) as Parquet and as CSV;
2. times ``qualsim evaluate`` with the seed MQA rule (``policies/shipped/mqa_count.yaml``) as a
   fresh process on each, and a fresh Python process running DuckDB's windowed
   ``COUNT(DISTINCT contact_id)`` form of the same rule (the query of ``bench_policies.py``) on
   the same file; prints the ratios (targets: Parquet at least 2x faster than DuckDB, CSV
   within 1.5x) and whether both found the same first handoff per account;
3. writes a 100,000-account, 1,000,000-event CSV export, runs ``qualsim import`` (identity
   mapping) and ``qualsim evaluate`` with every shipped rule, and prints the total (target
   < 30 s);
4. prints each child's peak memory (``os.wait4``'s ``ru_maxrss``) next to the input size;
5. with ``--baseline TREE`` (another source tree, e.g. ``git archive main`` unpacked), also
   times that tree's ``qualsim evaluate`` on the same files, taking turns, and checks that
   both write the same ``qualifications.csv`` byte for byte.

A missed target prints MISS; nothing is asserted (the script exits 0).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from _common import console, git_commit, verdict
from _real_export import write_export
from bench_policies import SQL_WINDOW
from rich.table import Table

import policies

ROOT = Path(__file__).resolve().parents[2]
SEED_RULE = ROOT / "policies" / "shipped" / "mqa_count.yaml"
SHIPPED = sorted((ROOT / "policies" / "shipped").glob("*.yaml"))
# Each child writes its own peak resident memory (VmHWM) at exit: ru_maxrss of a child would
# count the parent's memory copied by fork before exec.
PEAK = """
import atexit, os
def _peak():
    with open("/proc/self/status") as fh, open(os.environ["BENCH_PEAK_FILE"], "w") as out:
        out.write(next((l.split()[1] for l in fh if l.startswith("VmHWM:")), "0"))
atexit.register(_peak)
"""
QUALSIM = PEAK + "import sys; from sim.cli import main; sys.argv[0] = 'qualsim'; main()"

# The seed rule as SQL: the bench_policies.py query on the file's own columns and timestamps.
DUCKDB_CHILD = (
    PEAK
    + """
import sys, duckdb
path, sql, out = sys.argv[1:4]
duckdb.connect().execute(sql.replace("@SOURCE@", path)).df().to_csv(out, index=False)
"""
)


def seed_rule_sql(kind: str) -> str:
    """The windowed COUNT(DISTINCT) query of the seed rule over a file (@SOURCE@)."""
    rule = policies.load_policy(SEED_RULE)
    acts = ", ".join(f"'{a}'" for a in rule.activities)
    read = (
        "read_parquet('@SOURCE@')"
        if kind == "parquet"
        else "read_csv('@SOURCE@', all_varchar = true, header = true)"
    )
    events = (
        "(SELECT account_id, contact_id, activity, CAST(timestamp AS TIMESTAMP) AS time "
        f"FROM {read}) AS e"
    )
    sql = SQL_WINDOW.format(
        counting=f"contact_id <> '' AND activity IN ({acts})",
        window=f"INTERVAL {int(rule.window_days)} DAY",
    )
    return sql.replace("FROM events", f"FROM {events}")


def run_child(args: list[str], tree: Path = ROOT) -> tuple[float, float, int]:
    """Run a fresh Python process with the code of source ``tree``: (wall seconds, its peak
    resident memory in MiB, exit code)."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak:
        env = {**os.environ, "BENCH_PEAK_FILE": peak.name, "PYTHONPATH": str(tree)}
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, *args], cwd=tree, env=env, capture_output=True, check=False
        )
        secs = time.perf_counter() - t0
        kib = peak.read().strip()
    if proc.returncode != 0:
        console.print(f"[red]{' '.join(args[2:4])} failed:[/red] {proc.stderr.decode()[-2000:]}")
    return secs, int(kib or 0) / 1024, proc.returncode


def qualsim(*args: str | Path, tree: Path = ROOT) -> tuple[float, float, int]:
    return run_child(["-c", QUALSIM, *map(str, args)], tree)


def first_handoffs_agree(ours_csv: Path, sql_csv: Path) -> str:
    """Do both give the same accounts with the same first handoff time (to the second)?"""
    ours = pd.read_csv(ours_csv, dtype={"account_id": str})
    first = ours.groupby("account_id")["time"].min()
    theirs = pd.read_csv(sql_csv, dtype={"account_id": str}).set_index("account_id")["time"]
    a = pd.to_datetime(first).dt.round("s")
    b = pd.to_datetime(theirs).dt.round("s")
    if not a.index.sort_values().equals(b.index.sort_values()):
        return f"[red]accounts differ[/red] ({len(a):,} ours, {len(b):,} SQL)"
    differ = int((a.sort_index() != b.sort_index()).sum())
    return (
        f"[green]same[/green] ({len(a):,} accounts)"
        if differ == 0
        else f"[red]{differ} differ[/red]"
    )


def compare_with_duckdb(
    paths: dict[str, Path], kind: str, work: Path, repeats: int, baseline: Path | None = None
) -> dict:
    """Time evaluate and the DuckDB query on one export: fresh processes, taking turns,
    ``repeats`` times each; the best run of each counts (the machine is shared). With a
    ``baseline`` source tree, its evaluate takes turns too, and must write the same
    qualifications.csv byte for byte."""
    out = work / f"results-{kind}"
    sql_csv = work / f"duckdb-{kind}.csv"
    evaluate = ["evaluate", "--events", paths["events"], "--contacts", paths["contacts"]]
    ours, theirs, base = [], [], []
    for _ in range(repeats):
        ours.append(qualsim(*evaluate, "--policy", SEED_RULE, "--out", out))
        theirs.append(
            run_child(["-c", DUCKDB_CHILD, str(paths["events"]), seed_rule_sql(kind), str(sql_csv)])
        )
        if baseline is not None:
            base_out = work / f"baseline-{kind}"
            base.append(qualsim(*evaluate, "--policy", SEED_RULE, "--out", base_out, tree=baseline))
    agree = "not compared"
    if all(r[2] == 0 for r in ours + theirs):
        agree = first_handoffs_agree(out / "qualifications.csv", sql_csv)
    run = {
        "ours": min(ours),
        "duckdb": min(theirs),
        "runs": (ours, theirs),
        "agree": agree,
        "bytes": paths["events"].stat().st_size,
    }
    if base:
        run["baseline"] = min(base)
        run["baseline_runs"] = base
        same = (out / "qualifications.csv").read_bytes() == (
            work / f"baseline-{kind}" / "qualifications.csv"
        ).read_bytes()
        run["baseline_same"] = same and all(r[2] == 0 for r in ours + base)
    return run


def big_export(work: Path, accounts: int, events: int, seed: int) -> dict:
    """Import a raw CSV export with the identity mapping, then evaluate every shipped rule."""
    raw = write_export(work / "big-raw", accounts, 10, events, seed, "csv")
    canon = work / "big-canonical"
    imp = qualsim(
        "import",
        "--events",
        raw["events"],
        "--contacts",
        raw["contacts"],
        "--accounts",
        raw["accounts"],
        "--out",
        canon,
    )
    rules = [a for p in SHIPPED for a in ("--policy", str(p))]
    ev = qualsim(
        "evaluate",
        "--events",
        canon / "events.csv",
        "--contacts",
        canon / "contacts.csv",
        "--accounts",
        canon / "accounts.csv",
        *rules,
        "--out",
        work / "big-results",
    )
    return {"import": imp, "evaluate": ev, "bytes": raw["events"].stat().st_size}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="CI smoke run (small sizes)")
    p.add_argument("--accounts", type=int, default=None, help="default 20,000 (quick 1,000)")
    p.add_argument("--contacts-per-account", type=int, default=10)
    p.add_argument("--events", type=int, default=None, help="default 10,000,000 (quick 200,000)")
    p.add_argument("--big-accounts", type=int, default=None, help="default 100,000 (quick 2,000)")
    p.add_argument("--big-events", type=int, default=None, help="default 1,000,000 (quick 20,000)")
    p.add_argument("--no-csv", action="store_true", help="skip the CSV comparison")
    p.add_argument("--repeats", type=int, default=None, help="runs of each (default 2, quick 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", type=Path, default=None, help="keep the files here")
    p.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="also time qualsim evaluate from this source tree (e.g. `git archive main` "
        "unpacked), taking turns on the same files",
    )
    a = p.parse_args(argv)
    a.accounts = a.accounts or (1_000 if a.quick else 20_000)
    a.events = a.events or (200_000 if a.quick else 10_000_000)
    a.big_accounts = a.big_accounts or (2_000 if a.quick else 100_000)
    a.big_events = a.big_events or (20_000 if a.quick else 1_000_000)
    a.repeats = max(1, a.repeats or (1 if a.quick else 2))
    return a


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def report(runs: dict[str, dict], big: dict, args: argparse.Namespace) -> None:
    t = Table(
        title=f"evaluate (seed MQA rule) vs DuckDB, {args.events:,} events, end to end "
        f"(best of {args.repeats})"
    )
    for col in ("input", "file", "qualsim s", "peak", "DuckDB s", "peak", "DuckDB / ours"):
        t.add_column(col, justify="left" if col == "input" else "right")
    t.add_column("target")
    t.add_column("same handoffs")
    targets = {"parquet": 2.0, "csv": 1 / 1.5}
    for kind, r in runs.items():
        ratio = r["duckdb"][0] / r["ours"][0]
        goal = targets[kind]
        t.add_row(
            kind,
            mib(r["bytes"]),
            f"{r['ours'][0]:.2f}",
            f"{r['ours'][1]:,.0f} MiB",
            f"{r['duckdb'][0]:.2f}",
            f"{r['duckdb'][1]:,.0f} MiB",
            f"{ratio:.2f}x",
            f">= {goal:.2f}x {verdict(ratio >= goal)}",
            r["agree"],
        )
    console.print(t)
    for kind, r in runs.items():
        ours, theirs = (", ".join(f"{x[0]:.2f}" for x in side) for side in r["runs"])
        console.print(f"  {kind}: every run, qualsim {ours} s; DuckDB {theirs} s (best counts)")
        if "baseline" in r:
            b, o = r["baseline"], r["ours"]
            every = ", ".join(f"{x[0]:.2f}" for x in r["baseline_runs"])
            same = "identical" if r["baseline_same"] else "[red]DIFFERENT[/red]"
            console.print(
                f"  {kind}: baseline {args.baseline}: {every} s, best {b[0]:.2f} s "
                f"({b[1]:,.0f} MiB) against {o[0]:.2f} s ({o[1]:,.0f} MiB): "
                f"{b[0] / o[0]:.2f}x; qualifications.csv {same}"
            )
    total = big["import"][0] + big["evaluate"][0]
    b = Table(
        title=f"{args.big_accounts:,} accounts, {args.big_events:,} events: import + all rules"
    )
    for col in ("step", "s", "peak"):
        b.add_column(col, justify="left" if col == "step" else "right")
    b.add_row(
        f"qualsim import ({mib(big['bytes'])} of events CSV)",
        f"{big['import'][0]:.2f}",
        f"{big['import'][1]:,.0f} MiB",
    )
    b.add_row(
        f"qualsim evaluate, {len(SHIPPED)} shipped rules",
        f"{big['evaluate'][0]:.2f}",
        f"{big['evaluate'][1]:,.0f} MiB",
    )
    b.add_row("total", f"{total:.2f}", f"< 30 s {verdict(total < 30)}")
    console.print(b)
    if args.quick:
        console.print(
            "  [dim]--quick: startup dominates at these sizes; the targets are for the full "
            "run.[/dim]"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console.print(
        f"[bold]qualsim real-export benchmark[/bold] (commit {git_commit()}): Python "
        f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"duckdb {duckdb.__version__}, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        runs = {}
        for kind in ("parquet",) if args.no_csv else ("parquet", "csv"):
            console.print(f"[dim]{kind}: writing {args.events:,} events ...[/dim]")
            paths = write_export(
                work / kind, args.accounts, args.contacts_per_account, args.events, args.seed, kind
            )
            console.print(f"[dim]{kind}: qualsim evaluate, then DuckDB ...[/dim]")
            runs[kind] = compare_with_duckdb(paths, kind, work, args.repeats, args.baseline)
        console.print(f"[dim]import + evaluate: {args.big_accounts:,} accounts ...[/dim]")
        big = big_export(work, args.big_accounts, args.big_events, args.seed + 1)
        report(runs, big, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
