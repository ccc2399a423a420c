"""What a policy did on one world: the metrics (``docs/comparison.md`` explains each).

``handoff_metrics(world, sales_result)`` returns one number per metric in
:data:`METRICS` for one (policy, replication). A handoff of account *a* at *t* is **true** when *a*
is in an active buying journey then (``in_market`` and ``journey_start <= t < t_decision``).
Ratios whose denominator is empty are NaN (e.g. lead precision of an account-level policy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.sales.handoff import SalesResult
from sim.world.simulate import World


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: str
    better: str  # "higher", "lower" or "" (neither: context)
    doc: str


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("handoffs", "Handoffs", "accounts", "", "handoffs the policy made"),
        Metric("handoffs_per_week", "Handoffs / week", "per week", "", "handoffs per week"),
        Metric(
            "capacity_per_week", "SDR capacity / week", "per week", "", "handoffs SDRs can work"
        ),
        Metric("precision", "Precision", "share", "higher", "true handoffs / handoffs"),
        Metric(
            "lead_precision",
            "Lead precision",
            "share",
            "higher",
            "lead-level handoffs whose person is in the committee of an active account / all",
        ),
        Metric(
            "recall",
            "Recall",
            "share",
            "higher",
            "accounts deciding within the horizon (journey visible in it) that got a true "
            "handoff / all such",
        ),
        Metric(
            "lead_time_days",
            "Lead time",
            "days",
            "higher",
            "mean t_decision - t over true handoffs of accounts that decided in the horizon",
        ),
        Metric(
            "timing_vs_intent_days",
            "Timing vs intent",
            "days",
            "",
            "mean t - t_sales_ready over true handoffs (negative: before purchase intent)",
        ),
        Metric(
            "time_to_qualify_days",
            "Time to qualify",
            "days",
            "lower",
            "mean t - max(journey_start, 0) over true handoffs",
        ),
        Metric(
            "buying_group_coverage",
            "Buying-group coverage",
            "share",
            "higher",
            "mean share of the committee seen (a known touch) by the time of a true handoff",
        ),
        Metric(
            "queue_wait_hours",
            "Queue wait",
            "hours",
            "lower",
            "mean handoff -> first SDR work, over worked handoffs (expired ones are counted in "
            "never_followed_up)",
        ),
        Metric(
            "sla_breach_rate",
            "SLA breaches",
            "share",
            "lower",
            "worked handoffs first worked later than sales.sla_hours / worked handoffs",
        ),
        Metric(
            "never_followed_up",
            "Never followed up",
            "handoffs",
            "lower",
            "handoffs that waited longer than sales.max_wait_days",
        ),
        Metric(
            "acceptance_rate", "Acceptance rate", "share", "higher", "accepted / worked handoffs"
        ),
        Metric("opportunities", "Opportunities", "deals", "higher", "opportunities from handoffs"),
        Metric("wins", "Wins", "deals", "higher", "deals won from handoffs"),
        Metric("win_rate", "Win rate", "share", "higher", "wins / opportunities"),
        Metric("revenue", "Revenue", "currency", "higher", "value of deals won from handoffs"),
        Metric(
            "false_handoff_hours",
            "Hours on false handoffs",
            "hours",
            "lower",
            "SDR hours spent on handoffs that were not true",
        ),
        Metric("sales_hours", "Sales hours", "hours", "", "all hours spent on handoffs"),
        Metric(
            "lost_to_competitor",
            "Lost to competitor first",
            "deals",
            "lower",
            "buying opportunities lost where a competitor engaged before sales did",
        ),
        Metric(
            "missed_accounts",
            "In-market never handed off",
            "accounts",
            "lower",
            "accounts in an active journey in the horizon that got no true handoff",
        ),
        Metric("inbound_wins", "Late inbound wins", "deals", "", "won without a handoff"),
        Metric("total_wins", "Total wins", "deals", "higher", "wins + late inbound wins"),
        Metric("total_revenue", "Total revenue", "currency", "higher", "revenue incl. inbound"),
    ]
}

# The columns `qualsim run` and `compare` print by default.
HEADLINE = [
    "handoffs_per_week",
    "precision",
    "recall",
    "lead_time_days",
    "queue_wait_hours",
    "opportunities",
    "wins",
    "false_handoff_hours",
    "total_revenue",
]


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if np.size(x) else float("nan")


def committee_first_seen(world: World) -> tuple[dict[int, np.ndarray], pd.Series]:
    """Per account: the sorted times at which its committee members were first seen (a known
    touch), and each account's committee size. One pass over the events: compute it once per
    world and pass it to :func:`coverage_at` / :func:`handoff_metrics` for every policy."""
    ev = world.events
    known = ev[(ev["contact_id"] >= 0).to_numpy()]
    first = known.groupby("contact_id", sort=False)["time"].min()
    c = world.contacts
    members = c[c["in_committee"].to_numpy(bool)]
    seen = pd.DataFrame(
        {
            "account_id": members["account_id"].to_numpy(np.int64),
            "t": first.reindex(members["contact_id"]).to_numpy(np.float64),
        }
    )
    by_acc = {a: np.sort(g["t"].dropna().to_numpy()) for a, g in seen.groupby("account_id")}
    return by_acc, world.truth.set_index("account_id")["committee_size"]


def coverage_at(world: World, accounts: np.ndarray, times: np.ndarray, seen=None) -> np.ndarray:
    """Per handoff: committee members with a known touch at or before ``t`` / committee size
    (``seen``: :func:`committee_first_seen` of ``world``, computed here when not given)."""
    by_acc, size = seen if seen is not None else committee_first_seen(world)
    out = np.full(len(accounts), np.nan)
    for i, (a, t) in enumerate(zip(accounts, times, strict=True)):
        n = size.get(int(a), 0)
        if n:
            out[i] = np.searchsorted(by_acc.get(int(a), np.zeros(0)), t, side="right") / n
    return out


def handoff_metrics(
    world: World,
    result: SalesResult,
    tier: int | None = None,
    coverage: bool = True,
    seen=None,
) -> dict[str, float]:
    """The metrics of one policy on one world (see :data:`METRICS`); with ``tier``, only that
    tier's accounts count (handoffs, denominators and inbound alike; the SDR queue they went
    through is still the shared one, and capacity is the whole team's). ``coverage=False``
    skips the buying-group coverage (NaN), the one slow metric, for sweeps; ``seen`` (see
    :func:`committee_first_seen`) shares its one pass over the events between policies."""
    sc = world.scenario
    weeks = sc.horizon_days / 7.0
    o = result.outcomes
    tr = world.truth.set_index("account_id")
    inbound = result.inbound
    if tier is not None:
        keep = world.accounts.loc[world.accounts["tier"] == tier, "account_id"].to_numpy()
        o = o[o["account_id"].isin(keep).to_numpy()]
        tr = tr[tr.index.isin(keep)]
        inbound = inbound[inbound["account_id"].isin(keep).to_numpy()]
    true = o["true_handoff"].to_numpy(bool)
    a = o["account_id"].to_numpy(np.int64)
    t = o["t_handoff"].to_numpy(np.float64)
    t_dec = tr["t_decision"].reindex(a).to_numpy(np.float64)
    t_sr = tr["t_sales_ready"].reindex(a).to_numpy(np.float64)
    start = tr["journey_start"].reindex(a).to_numpy(np.float64)

    lead = o["contact_id"].to_numpy(np.int64) >= 0
    lead_ok = np.zeros(lead.sum(), dtype=bool)
    if lead.any():
        inc = world.contacts.set_index("contact_id")["in_committee"]
        lead_ok = inc.reindex(o["contact_id"][lead]).fillna(False).to_numpy(bool) & true[lead]

    active = (tr["in_market"] & tr["active_in_window"]).to_numpy(bool)
    decided = active & tr["t_decision"].notna().to_numpy()
    ids = tr.index.to_numpy(np.int64)
    got_true = np.isin(ids, a[true])

    status = o["status"].to_numpy(str)
    worked = np.isin(status, ["accepted", "rejected"])
    wait = o["queue_wait_hours"].to_numpy(np.float64)[worked]
    won = o["won"].to_numpy(bool)
    hours = o["sales_hours"].to_numpy(np.float64)
    td = true & ~np.isnan(t_dec)
    tsr = true & ~np.isnan(t_sr)
    m = {
        "handoffs": float(len(o)),
        "handoffs_per_week": len(o) / weeks,
        "capacity_per_week": sc.sales.capacity_per_week,
        "precision": _ratio(true.sum(), len(o)),
        "lead_precision": _ratio(lead_ok.sum(), lead.sum()),
        "recall": _ratio((got_true & decided).sum(), decided.sum()),
        "lead_time_days": _mean(t_dec[td] - t[td]),
        "timing_vs_intent_days": _mean(t[tsr] - t_sr[tsr]),
        "time_to_qualify_days": _mean(t[true] - np.maximum(start[true], 0.0)),
        "buying_group_coverage": (
            _mean(coverage_at(world, a[true], t[true], seen)) if coverage else float("nan")
        ),
        "queue_wait_hours": _mean(wait),
        "sla_breach_rate": _ratio((wait > sc.sales.sla_hours).sum(), worked.sum()),
        "never_followed_up": float((status == "expired").sum()),
        "acceptance_rate": _ratio((status == "accepted").sum(), worked.sum()),
        "opportunities": float(o["t_opportunity"].notna().sum()),
        "wins": float(won.sum()),
        "win_rate": _ratio(won.sum(), o["t_opportunity"].notna().sum()),
        "revenue": float(o["value"].sum()),
        "false_handoff_hours": float(hours[~true].sum()),
        "sales_hours": float(hours.sum()),
        "lost_to_competitor": float(o["lost_to_competitor"].sum()),
        "missed_accounts": float((active & ~got_true).sum()),
        "inbound_wins": float(inbound["won"].sum()),
        "total_wins": float(won.sum() + inbound["won"].sum()),
        "total_revenue": float(o["value"].sum() + inbound["value"].sum()),
    }
    assert set(m) == set(METRICS)
    return m
