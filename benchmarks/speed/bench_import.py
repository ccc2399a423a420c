"""Benchmark ``qualsim import`` (``sim.real.import_files``) against hand-written conversions of
the same raw export, measured in the same run.

Usage::

    python benchmarks/speed/bench_import.py            # 100,000 accounts, 1,000,000 events
    python benchmarks/speed/bench_import.py --quick    # 5,000 accounts, 50,000 events

The raw export is made up on the spot, as a marketing-automation tool writes one: US local
times (``%m/%d/%Y %I:%M:%S %p``, America/New_York), its own activity names, a channel with
display names, 1% duplicate rows, 1% system rows to ignore; contacts with a job title; accounts
with a segment name and an employee count. The mapping translates all of it (activities, value
maps, a bin, a filter, duplicates dropped).

Baselines, on the same files in the same run, each doing the same conversion of the events
file (parse, localise to UTC, map activity and channel names, drop duplicates and system rows,
write CSV):

- **pandas script**: what a team writes by hand (``read_csv`` whole, ``to_datetime`` with the
  format, ``tz_localize``, ``map``, ``drop_duplicates``, ``to_csv``);
- **DuckDB**: one ``COPY (SELECT ...) TO`` query (``strptime``, ``timezone``, ``CASE``,
  ``DISTINCT``), multi-threaded.

It prints the wall times and the ratios import / baseline; nothing is asserted (exit 0).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from _common import console, git_commit
from rich.table import Table

from sim.real import import_files

ACTIVITIES = {
    "Visit Webpage": "web_visit",
    "Fill Out Form": "content_download",
    "Open Email": "email_open",
    "Click Email": "email_click",
}
CHANNELS = {"Paid Search": "paid_search", "Organic": "organic", "Email": "email"}
FORMAT = "%m/%d/%Y %I:%M:%S %p"
MAPPING = f"""\
timezone: America/New_York
timestamp_format: "{FORMAT}"
events:
  columns: {{timestamp: Activity Date, account_id: Account, contact_id: Email,
            activity: Activity Type, channel: Channel}}
  activities: {ACTIVITIES}
  ignore_activities: [Change Score]
  values: {{channel: {CHANNELS}}}
  duplicates: drop
contacts:
  columns: {{contact_id: Email, account_id: Account, title: Job Title}}
accounts:
  columns: {{account_id: Account, tier: Segment}}
  values: {{tier: {{Enterprise: 1, Mid-Market: 2, SMB: 3}}}}
  bins: {{icp_fit: {{column: Employees, edges: [0, 200, 1000], labels: [0.3, 0.6, 1.0]}}}}
  filters: [{{column: Status, not_in: [Deleted]}}]
"""


def make_export(folder: Path, accounts: int, events: int, seed: int = 0) -> None:
    """The raw files (events.csv, contacts.csv, accounts.csv) and mapping.yaml."""
    rng = np.random.default_rng(seed)
    acc = rng.integers(0, accounts, events)
    who = acc * 3 + rng.integers(0, 3, events)
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        rng.integers(0, 365 * 86_400, events), unit="s"
    )
    names = np.array([*ACTIVITIES, "Change Score"])
    kind = np.where(rng.random(events) < 0.01, 4, rng.integers(0, 4, events))
    ev = pd.DataFrame(
        {
            "Activity Date": when.strftime(FORMAT),
            "Account": "A" + pd.Series(acc).astype(str),
            "Email": "c" + pd.Series(who).astype(str) + "@example.com",
            "Activity Type": names[kind],
            "Channel": np.array(list(CHANNELS))[rng.integers(0, 3, events)],
        }
    )
    ev = pd.concat([ev, ev.sample(frac=0.01, random_state=seed)], ignore_index=True)
    ev.to_csv(folder / "events.csv", index=False)
    people = np.arange(accounts * 3)
    pd.DataFrame(
        {
            "Email": "c" + pd.Series(people).astype(str) + "@example.com",
            "Account": "A" + pd.Series(people // 3).astype(str),
            "Job Title": np.array(["VP Marketing", "Engineer", "CFO"])[people % 3],
        }
    ).to_csv(folder / "contacts.csv", index=False)
    pd.DataFrame(
        {
            "Account": "A" + pd.Series(np.arange(accounts)).astype(str),
            "Segment": np.array(["Enterprise", "Mid-Market", "SMB"])[rng.integers(0, 3, accounts)],
            "Employees": rng.integers(1, 5000, accounts),
            "Status": np.where(rng.random(accounts) < 0.02, "Deleted", "Active"),
        }
    ).to_csv(folder / "accounts.csv", index=False)
    (folder / "mapping.yaml").write_text(MAPPING, encoding="utf-8")


def pandas_script(folder: Path, out: Path) -> None:
    """The events conversion as a team writes it by hand."""
    ev = pd.read_csv(folder / "events.csv", dtype=str, keep_default_na=False)
    ev = ev[ev["Activity Type"] != "Change Score"].drop_duplicates()
    t = pd.to_datetime(ev["Activity Date"], format=FORMAT)
    t = t.dt.tz_localize("America/New_York", ambiguous="NaT", nonexistent="shift_forward")
    pd.DataFrame(
        {
            "timestamp": t.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "account_id": ev["Account"],
            "contact_id": ev["Email"],
            "activity": ev["Activity Type"].map(ACTIVITIES),
            "channel": ev["Channel"].map(CHANNELS),
        }
    ).to_csv(out, index=False)


def duckdb_query(folder: Path, out: Path) -> None:
    """The events conversion as one DuckDB query."""
    acts = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in ACTIVITIES.items())
    chans = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in CHANNELS.items())
    src = folder / "events.csv"
    duckdb.sql(
        f"""COPY (
          SELECT DISTINCT
            strftime(timezone('UTC', timezone('America/New_York',
              strptime("Activity Date", '{FORMAT}'))), '%Y-%m-%dT%H:%M:%SZ') AS timestamp,
            "Account" AS account_id, "Email" AS contact_id,
            CASE "Activity Type" {acts} END AS activity,
            CASE "Channel" {chans} END AS channel
          FROM read_csv('{src}', all_varchar = true)
          WHERE "Activity Type" <> 'Change Score'
        ) TO '{out}' (HEADER)"""
    )


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 accounts, 50,000 events")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    accounts, events = (5_000, 50_000) if args.quick else (args.accounts, args.events)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_export(folder, accounts, events)
        size = (folder / "events.csv").stat().st_size / 1e6
        t_import = timed(
            import_files,
            folder / "events.csv",
            folder / "contacts.csv",
            folder / "accounts.csv",
            folder / "out",
            folder / "mapping.yaml",
        )
        t_pandas = timed(pandas_script, folder, folder / "pandas.csv")
        t_duck = timed(duckdb_query, folder, folder / "duck.csv")
        shutil.rmtree(folder / "out")
    table = Table(
        title=f"qualsim import: {accounts:,} accounts, {events:,} events ({size:.0f} MB CSV)"
        f" + {3 * accounts:,} contacts, commit {git_commit()}"
    )
    for col in ("what", "wall time", "import / this"):
        table.add_column(col, justify="right" if col != "what" else "left")
    table.add_row("qualsim import (3 files)", f"{t_import:.2f} s", "1.00")
    table.add_row("pandas script (events only)", f"{t_pandas:.2f} s", f"{t_import / t_pandas:.2f}")
    table.add_row("DuckDB query (events only)", f"{t_duck:.2f} s", f"{t_import / t_duck:.2f}")
    console.print(table)


if __name__ == "__main__":
    main()
