"""Measuring what a policy did on one world: one number per metric of
:data:`sim.sales.metrics.METRICS` for one (policy, replication). Ratios whose denominator is
empty are NaN (e.g. the per-lead metrics of an account-level policy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.sales.handoff import SalesResult
from sim.sales.metrics import METRICS, MONTH_METRICS
from sim.sales.uplift import caused_metrics, no_handoff_result, restrict
from sim.sales.weekly import go_live_day, weekly_load, weekly_series
from sim.world.simulate import World


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
    c = world.contacts
    person = known["contact_id"]
    if "duplicate_of" in c.columns:  # a duplicate record's touches are its person's
        dup = c.set_index("contact_id")["duplicate_of"]
        of = dup.reindex(person).to_numpy(np.int64)
        person = pd.Series(np.where(of >= 0, of, person.to_numpy(np.int64)), index=known.index)
        c = c[c["duplicate_of"].to_numpy(np.int64) < 0]
    first = known["time"].groupby(person, sort=False).min()
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
    counterfactual: SalesResult | None = None,
) -> dict[str, float]:
    """The metrics of one policy on one world (see :data:`METRICS`); with ``tier``, only that
    tier's accounts count (handoffs, denominators and inbound alike; the SDR queue they went
    through is still the shared one, and capacity is the whole team's). ``coverage=False``
    skips the buying-group coverage (NaN), the one slow metric, for sweeps; ``seen`` (see
    :func:`committee_first_seen`) shares its one pass over the events between policies;
    ``counterfactual`` (:func:`sim.sales.uplift.no_handoff_result` of ``world``, played here
    when not given) likewise for the uplift metrics.
    The month-by-month metrics need the rule's state at every event: see
    :func:`month_metrics`; here they are NaN."""
    o, tr, inbound = result.outcomes, world.truth.set_index("account_id"), result.inbound
    without = counterfactual if counterfactual is not None else no_handoff_result(world)
    if tier is not None:
        keep = world.accounts.loc[world.accounts["tier"] == tier, "account_id"].to_numpy()
        o = o[o["account_id"].isin(keep).to_numpy()]
        tr = tr[tr.index.isin(keep)]
        inbound = inbound[inbound["account_id"].isin(keep).to_numpy()]
        without = restrict(without, keep)
    m = {
        **_volume(world, o),
        **_weekly(world, o),
        **_truth_metrics(world, o, tr, coverage, seen),
        **_lead_metrics(world, o),
        **_sales_metrics(world, o, inbound),
        **caused_metrics(SalesResult(o, inbound), without),
        **dict.fromkeys(MONTH_METRICS, float("nan")),
        "backlog_recovery_weeks": backlog_recovery_weeks(world, o),
    }
    assert set(m) == set(METRICS), set(METRICS) ^ set(m)
    return m


def _volume(world: World, o: pd.DataFrame) -> dict[str, float]:
    sc = world.scenario
    return {
        "handoffs": float(len(o)),
        "handoffs_per_week": len(o) / (sc.horizon_days / 7.0),
        "capacity_per_week": sc.sales.capacity_per_week,
    }


def _weekly(world: World, o: pd.DataFrame) -> dict[str, float]:
    """The week-by-week load (see :mod:`sim.sales.weekly`)."""
    sc = world.scenario
    series = weekly_series(o, sc.horizon_days, sc.sales.capacity_per_week, go_live_day(sc))
    return weekly_load(series)


def _truth_metrics(world, o, tr, coverage, seen) -> dict[str, float]:
    """Precision under both truths, recall, timing against the journey, coverage."""
    true = o["true_handoff"].to_numpy(bool)
    a = o["account_id"].to_numpy(np.int64)
    t = o["t_handoff"].to_numpy(np.float64)
    t_dec = tr["t_decision"].reindex(a).to_numpy(np.float64)
    t_sr = tr["t_sales_ready"].reindex(a).to_numpy(np.float64)
    start = tr["journey_start"].reindex(a).to_numpy(np.float64)
    active = (tr["in_market"] & tr["active_in_window"]).to_numpy(bool)
    decided = active & tr["t_decision"].notna().to_numpy()
    got_true = np.isin(tr.index.to_numpy(np.int64), a[true])
    td = true & ~np.isnan(t_dec)
    tsr = true & ~np.isnan(t_sr)
    return {
        "precision": _ratio(true.sum(), len(o)),
        "acceptable_precision": _ratio(o["acceptable"].to_numpy(bool).sum(), len(o)),
        "recall": _ratio((got_true & decided).sum(), decided.sum()),
        "lead_time_days": _mean(t_dec[td] - t[td]),
        "timing_vs_intent_days": _mean(t[tsr] - t_sr[tsr]),
        "time_to_qualify_days": _mean(t[true] - np.maximum(start[true], 0.0)),
        "buying_group_coverage": (
            _mean(coverage_at(world, a[true], t[true], seen)) if coverage else float("nan")
        ),
        "missed_accounts": float((active & ~got_true).sum()),
    }


def _lead_metrics(world: World, o: pd.DataFrame) -> dict[str, float]:
    """Lead-level policies counted per person, as the field reports them (NaN otherwise)."""
    lead = o[(o["contact_id"].to_numpy(np.int64) >= 0)]
    inc = world.contacts.set_index("contact_id")["in_committee"]
    member = inc.reindex(lead["contact_id"]).fillna(False).to_numpy(bool)
    people = lead["contact_id"].nunique()
    return {
        "lead_precision": _ratio((member & lead["true_handoff"].to_numpy(bool)).sum(), len(lead)),
        "mql_people": float(people) if people else float("nan"),
        "mql_to_sal": _ratio(lead.loc[lead["accepted"], "contact_id"].nunique(), people),
        "mql_to_sql": _ratio(
            lead.loc[lead["t_opportunity"].notna(), "contact_id"].nunique(), people
        ),
    }


def _sales_metrics(world: World, o: pd.DataFrame, inbound: pd.DataFrame) -> dict[str, float]:
    """What the sales side did: queue, acceptance, opportunities, wins, hours, revenue."""
    sales = world.scenario.sales
    status = o["status"].to_numpy(str)
    worked = np.isin(status, ["accepted", "rejected"])
    wait = o["queue_wait_hours"].to_numpy(np.float64)[worked]
    won = o["won"].to_numpy(bool)
    hours = o["sales_hours"].to_numpy(np.float64)
    true = o["true_handoff"].to_numpy(bool)
    opportunities = o["t_opportunity"].notna().sum()
    return {
        "queue_wait_hours": _mean(wait),
        "sla_breach_rate": _ratio((wait > sales.sla_hours).sum(), worked.sum()),
        "never_followed_up": float((status == "expired").sum()),
        "acceptance_rate": _ratio((status == "accepted").sum(), worked.sum()),
        "opportunities": float(opportunities),
        "wins": float(won.sum()),
        "win_rate": _ratio(won.sum(), opportunities),
        "revenue": float(o["value"].sum()),
        "false_handoff_hours": float(hours[~true].sum()),
        "sales_hours": float(hours.sum()),
        "lost_to_competitor": float(o["lost_to_competitor"].sum()),
        **_deal_split(o, inbound),
    }


def _deal_split(o: pd.DataFrame, inbound: pd.DataFrame) -> dict[str, float]:
    """Late inbound deals (won without a handoff opportunity) and the totals: deals from
    handoffs plus late inbound ones (disjoint: late inbound needs no handoff opportunity)."""
    wins, revenue = float(o["won"].sum()), float(o["value"].sum())
    inbound_wins, inbound_revenue = float(inbound["won"].sum()), float(inbound["value"].sum())
    return {
        "inbound_wins": inbound_wins,
        "inbound_revenue": inbound_revenue,
        "total_wins": wins + inbound_wins,
        "total_revenue": revenue + inbound_revenue,
    }


def backlog_recovery_weeks(world: World, o: pd.DataFrame) -> float:
    """Whole weeks after the scenario's go-live (``rollout.go_live_day``) until a week's
    handoffs that join the SDR queue (not duplicates, not recycling) first number no more than
    the SDR capacity: 0 when the go-live week is within capacity. Weeks run from go-live; only
    whole weeks within the horizon count, and when none is within capacity the value is their
    number (a lower bound). NaN without a go-live."""
    sc = world.scenario
    if sc.rollout.go_live_day is None:
        return float("nan")
    series = weekly_series(o, sc.horizon_days, sc.sales.capacity_per_week, go_live_day(sc))
    whole = series[series["days"].to_numpy(np.float64) >= 7.0]
    within = np.flatnonzero(whole["queued"].to_numpy() <= whole["capacity"].to_numpy())
    return float(within[0]) if within.size else float(len(whole))


MONTH_DAYS = 30.44
OPPORTUNITY_WITHIN_DAYS = 90.0


def month_metrics(world: World, holds_at: pd.DataFrame) -> dict[str, float]:
    """The month-by-month metrics of a rule (:data:`sim.sales.metrics.MONTH_METRICS`).
    ``holds_at`` lists the (account_id, time) of the touches at which the rule holds; an
    account-month is *qualified* when the rule holds at one of its touches in that month. Its
    account *reaches an opportunity* when its journey enters "qualified" between the start of
    the month and 90 days after its end."""
    months = int(world.scenario.horizon_days // MONTH_DAYS)
    n_acc = len(world.accounts)
    if months == 0 or n_acc == 0:
        return dict.fromkeys(MONTH_METRICS, float("nan"))
    t_q = world.truth.set_index("account_id")["t_qualified"].reindex(world.accounts["account_id"])
    start = np.arange(months) * MONTH_DAYS
    # reaches[a, m]: account a's journey qualifies within the month m or the 90 days after it
    tq = t_q.to_numpy(np.float64)[:, None]
    reaches = (tq >= start[None, :]) & (tq < start[None, :] + MONTH_DAYS + OPPORTUNITY_WITHIN_DAYS)
    month = (holds_at["time"].to_numpy(np.float64) // MONTH_DAYS).astype(np.int64)
    acc = holds_at["account_id"].to_numpy(np.int64)
    ok = (month >= 0) & (month < months)
    qualified = np.zeros((n_acc, months), dtype=bool)
    qualified[acc[ok], month[ok]] = True
    return {
        "mqa_months": float(qualified.sum() / months),
        "month_precision": _ratio((qualified & reaches).sum(), qualified.sum()),
        "month_base_rate": _ratio(reaches.sum(), reaches.size),
    }
