"""Replaying a team's real touch log through policies: what would these rules have done on
*our* last year? (``qualsim evaluate``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import QualsimError
from sim.logio import RealLog, outcome_metrics, read_log

from . import evaluate, load_policy, stage_entries
from .window import Frame


@dataclass(frozen=True)
class Replay:
    """The result of replaying a real log: tables in the input's ids and time format."""

    real: RealLog
    qualifications: pd.DataFrame  # policy, account_id, contact_id, time, rule, score
    stages: pd.DataFrame  # policy, account_id, stage, time (stage policies only)
    metrics: pd.DataFrame | None  # per policy precision / recall, when outcomes were given

    def write(self, out: str | Path) -> list[Path]:
        """Write qualifications.csv, stages.csv (if any stage policy) and metrics.csv (if
        outcomes were given) under ``out``."""
        out = Path(out)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise QualsimError(f"{out}: cannot create output folder ({exc.strerror})") from None
        tables = {"qualifications": self.qualifications}
        if len(self.stages) or not self.stages.empty:
            tables["stages"] = self.stages
        if self.metrics is not None:
            tables["metrics"] = self.metrics
        written = []
        for name, df in tables.items():
            path = out / f"{name}.csv"
            tmp = path.with_name(path.name + ".partial")
            df.to_csv(tmp, index=False)
            tmp.replace(path)
            written.append(path)
        return written


def replay(
    events: str | Path,
    contacts: str | Path,
    policy_files: list[str | Path],
    accounts: str | Path | None = None,
    horizon_days: float = 90.0,
    skip_bad_rows: bool = False,
) -> Replay:
    """Read a real export, evaluate each policy on it, and score the handoffs against the CRM
    outcomes when the accounts file has them."""
    if not policy_files:
        raise QualsimError("give at least one --policy file")
    pols = [load_policy(p) for p in policy_files]
    names = [p.name for p in pols]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise QualsimError(f"policy names must be unique, repeated: {', '.join(dup)}")
    real = read_log(events, contacts, accounts, skip_bad_rows=skip_bad_rows)
    frame = Frame(real.log)
    quals = [evaluate(p, real.log, frame) for p in pols]
    q = pd.concat(quals, ignore_index=True) if quals else pd.DataFrame()
    st = [stage_entries(p, real.log) for p in pols if p.kind == "stages"]
    s = (
        pd.concat(st, ignore_index=True)
        if st
        else pd.DataFrame(columns=["policy", "account_id", "stage", "time"])
    )
    metrics = (
        outcome_metrics(q, real, horizon_days, policies=names)
        if real.outcomes is not None
        else None
    )
    labelled = pd.DataFrame(
        {
            "policy": q["policy"],
            "account_id": real.label_accounts(q["account_id"]),
            "contact_id": real.label_contacts(q["contact_id"]),
            "time": real.to_timestamps(q["time"]),
            "rule": q["rule"],
            "score": q["score"],
        }
    )
    stages = pd.DataFrame(
        {
            "policy": s["policy"],
            "account_id": real.label_accounts(s["account_id"]) if len(s) else [],
            "stage": s["stage"],
            "time": real.to_timestamps(s["time"]) if len(s) else [],
        }
    )
    return Replay(real, labelled, stages, metrics)
