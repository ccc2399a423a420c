"""Replaying a team's real touch log through policies: what would these rules have done on
*our* last year? (``qualsim evaluate``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from policies import evaluate, filter_counts, load_policy, stage_entries
from policies.kernels.frame import Frame
from policies.quiet import quiet_reasons, sales_touch_counts
from policies.schema import Stages
from sim.errors import QualsimError
from sim.files import write_tables
from sim.real.opportunity_truth import EPS_DAYS, OpportunityTruth
from sim.real.outcomes import (
    opportunities_table,
    other_truth,
    outcome_metrics,
    truth_from_outcomes,
    uncounted_note,
)
from sim.real.read import read_log
from sim.real.reallog import RealLog
from sim.tables import STAGE_ENTRIES
from sim.vocab import NEW_BUSINESS


@dataclass(frozen=True)
class Replay:
    """The result of replaying a real log: tables in the input's ids and time format."""

    real: RealLog
    qualifications: pd.DataFrame  # policy, account_id, contact_id, time, rule, score
    stages: pd.DataFrame  # policy, account_id, stage, time (stage policies only)
    metrics: pd.DataFrame | None  # per policy precision / recall, when outcomes were given
    details: pd.DataFrame | None = None  # per policy: volume, timing and wins (outcomes given)
    handoff_days: pd.DataFrame | None = None  # per handoff: policy, account code, t (days), true
    # per policy handing off nothing or almost nothing: why, from the log (policies.quiet)
    quiet: dict[str, list[str]] = field(default_factory=dict)
    sales_touches: dict[str, int] = field(default_factory=dict)  # per sales activity: count
    # per policy and declared filter (exclude): the touches it removed (policies.filter_counts)
    filtered: pd.DataFrame = field(default_factory=lambda: filter_counts_of([], None))

    def write(self, out: str | Path, safe: bool = True) -> list[Path]:
        """Write qualifications.csv, stages.csv (if any stage policy) and metrics.csv (if
        outcomes were given, with outcomes.csv: volume, timing and wins) and filters.csv (if
        a policy declares filters: the touches each removed) under ``out``, replacing that
        folder as a whole (no file of a previous run survives). Text cells a spreadsheet would
        run as a formula get a leading ``'`` unless not ``safe`` (:func:`sim.files.neutralise`)."""
        tables = {"qualifications": self.qualifications}
        if len(self.stages) or not self.stages.empty:
            tables["stages"] = self.stages
        if self.metrics is not None:
            tables["metrics"] = self.metrics
        if self.details is not None:
            tables["outcomes"] = self.details
        if len(self.filtered):
            tables["filters"] = self.filtered
        return write_tables(tables, out, "csv", safe)


def replay(
    events: str | Path,
    contacts: str | Path,
    policy_files: list[str | Path],
    accounts: str | Path | None = None,
    horizon_days: float = 90.0,
    skip_bad_rows: bool = False,
    opportunities: str | Path | None = None,
    counted: Iterable[str] = (NEW_BUSINESS,),
) -> Replay:
    """Read a real export, evaluate each policy on it, and score the handoffs against the CRM
    opportunities of the ``counted`` types when the accounts file has outcomes or an
    opportunities file is given."""
    if not policy_files:
        raise QualsimError("give at least one --policy file")
    pols = [load_policy(p) for p in policy_files]
    names = [p.name for p in pols]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise QualsimError(f"policy names must be unique, repeated: {', '.join(dup)}")
    counted = tuple(counted)
    real = read_log(events, contacts, accounts, opportunities, skip_bad_rows=skip_bad_rows)
    if note := uncounted_note(real, counted):
        report = dataclasses.replace(real.report, warnings=(*real.report.warnings, note))
        real = dataclasses.replace(real, report=report)
    frame = Frame(real.log)
    quals = [evaluate(p, real.log, frame) for p in pols]
    q = pd.concat(quals, ignore_index=True) if quals else pd.DataFrame()
    st = [stage_entries(p, real.log) for p in pols if isinstance(p, Stages)]
    s = pd.concat(st, ignore_index=True) if st else pd.DataFrame(columns=STAGE_ENTRIES.names)
    truth = truth_from_outcomes(real, horizon_days, counted) if real.outcomes is not None else None
    metrics = (
        outcome_metrics(q, real, horizon_days, names, counted, truth) if truth is not None else None
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
    details = None
    days = pd.DataFrame({"policy": q["policy"], "account_id": q["account_id"], "time": q["time"]})
    if truth is not None and metrics is not None:
        details = replay_metrics(q, real, horizon_days, names, counted, truth, metrics)
        days["true"] = np.asarray(
            truth(q["account_id"].to_numpy(np.int64), q["time"].to_numpy(float)), dtype=bool
        )
    quiet = quiet_reasons(pols, quals, real.log, frame)
    sales = sales_touch_counts(real.log, frame)
    filtered = filter_counts_of(pols, frame)
    return Replay(
        real,
        labelled,
        stages,
        metrics,
        details,
        days,
        quiet=quiet,
        sales_touches=sales,
        filtered=filtered,
    )


def filter_counts_of(pols: list, frame: Frame | None) -> pd.DataFrame:
    """:func:`policies.filter_counts` of every policy on ``frame``'s log, one table (no rows
    when no policy declares filters)."""
    parts = [filter_counts(p, frame.log, frame) for p in pols if frame is not None and p.exclude]
    if not parts:
        return pd.DataFrame({"policy": [], "field": [], "filter": [], "removed": []}).astype(
            {"policy": object, "field": object, "filter": object, "removed": "int64"}
        )
    return pd.concat(parts, ignore_index=True)


# What the simulator's metrics need that a real history cannot give (reported, not guessed).
NOT_MEASURABLE = {
    "recall over in-market accounts": "accounts that were in market but never touched and "
    "never opened an opportunity are not in the export (recall here is over the CRM's "
    "opportunities of the counted types)",
    "timing vs intent": "needs the moment each account became sales-ready, which no CRM records",
    "time to qualify": "needs when each buying journey started",
    "buying-group coverage": "needs who was on the buying committee",
    "queue wait, acceptance, sales hours": "need the sales team's own records of each handoff "
    "(the sales model plays them out on simulated worlds only)",
    "lost to a competitor first": "needs when a competitor engaged",
}


def replay_metrics(
    q: pd.DataFrame,
    real: RealLog,
    horizon_days: float,
    names: list[str],
    counted: Iterable[str] = (NEW_BUSINESS,),
    truth: OpportunityTruth | None = None,
    metrics: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per policy, on a real history with outcomes: handoffs per week over the log's span,
    precision and recall (the truth rule over the ``counted`` opportunity types), days from a
    true handoff to the opportunity it found opening (runway; only opportunities opened at or
    after the handoff) and to its close, the accounts whose found opportunity was won and the
    won amount (each opportunity once), counted opportunities no true handoff found, and the
    false handoffs that fell inside an opportunity of a type not counted (renewals,
    expansions...: they opened within the horizon after the handoff or were open at it), and
    their share of the false handoffs. ``truth`` and ``metrics`` (:func:`outcome_metrics` of
    ``q``): what the caller already computed, if at hand."""
    if truth is None:
        truth = truth_from_outcomes(real, horizon_days, counted)
    other = other_truth(real, horizon_days, counted)
    ev_t = real.log.events["time"].to_numpy(float)
    weeks = max((ev_t.max() - ev_t.min()) / 7.0, 1 / 7) if ev_t.size else np.nan
    o = opportunities_table(real)
    rows_of = truth.rows if truth.rows is not None else np.arange(len(truth.account))
    won = o["status"].to_numpy(object)[rows_of] == "won"
    amount = o["amount"].to_numpy(float)[rows_of]
    known = bool(np.isfinite(o["amount"].to_numpy(float)).any())  # none given: unknown, not 0
    if metrics is None:
        metrics = outcome_metrics(q, real, horizon_days, names, counted, truth)
    base = metrics.set_index("policy")
    pol = q["policy"].astype(str).to_numpy()
    rows = []
    for name in names:
        sel = pol == name
        a = q["account_id"].to_numpy(np.int64)[sel]
        t = q["time"].to_numpy(float)[sel]
        m = truth.match(a, t) if a.size else np.zeros(0, np.int64)
        ok = m >= 0
        mm = np.where(ok, m, 0)
        opened = truth.created[mm] if len(truth.created) else np.full(a.size, np.nan)
        closed = truth.closed[mm] if len(truth.closed) else np.full(a.size, np.nan)
        # the handoff's time as the rule compares it (its day, when outcomes are plain dates)
        tq = np.floor(t + EPS_DAYS) if truth.by_day else t
        ahead = ok & (opened >= tq - EPS_DAYS)
        to_close = ok & ~np.isnan(closed) & (closed > t)
        won_opps = np.unique(m[ok & won[mm]]) if len(won) else np.zeros(0, np.int64)
        in_other = ~ok & (np.asarray(other(a, t), dtype=bool) if a.size else False)
        rows.append(
            {
                "policy": name,
                "handoffs": int(sel.sum()),
                "handoffs_per_week": sel.sum() / weeks,
                "precision": base.loc[name, "precision"],
                "recall": base.loc[name, "recall"],
                "days_to_opportunity": float(np.mean(opened[ahead] - tq[ahead]))
                if ahead.any()
                else np.nan,
                "days_to_close": float(np.mean(closed[to_close] - t[to_close]))
                if to_close.any()
                else np.nan,
                "won_accounts": int(np.unique(truth.account[won_opps]).size),
                "won_value": float(np.nansum(amount[won_opps])) if known else np.nan,
                "opportunities_missed": int(
                    base.loc[name, "opportunities"] - base.loc[name, "opportunities_found"]
                ),
                "false_in_other_types": int(np.sum(in_other)),
                "false_in_other_share": float(np.sum(in_other) / np.sum(~ok))
                if (~ok).any()
                else np.nan,
            }
        )
    return pd.DataFrame(rows)
