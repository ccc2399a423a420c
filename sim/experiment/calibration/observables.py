"""The figures of the calibration table, measured as :mod:`sim.experiment.calibration.bands`
defines them: from one simulated world (:func:`world_figures`), from one policy's lead funnel
through the sales side (:func:`funnel_figures`), and — for the rows a team's own export can show
— from a real history (:func:`export_figures`).

>>> import sim
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 300}}), seed=2)
>>> f = world_figures(w)
>>> 0 <= f["O3"] <= 1 and 0 <= f["O6"] <= 1 and f["B1.smb"] >= 1
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.eventlog import EventLog
from sim.real.outcomes import truth_from_outcomes
from sim.real.reallog import RealLog
from sim.sales.funnel import double_funnel
from sim.sales.handoff import SalesResult
from sim.vocab import ACTIVITIES
from sim.world.identity import FORM_FILLS
from sim.world.simulate import World

MONTH_DAYS = 30.44
QUARTER_DAYS = 91.31
# Engagement: what an ABM programme counts (never opens or impressions).
ENGAGEMENT = (
    "web_visit",
    "pricing_visit",
    "content_download",
    "webinar",
    "event",
    "demo_request",
    "email_click",
)
ENGAGED_MONTH_TOUCHES = 3  # O5: touches that make an engaged (target account, month)


def world_figures(world: World) -> dict[str, float]:
    """Every world row of the table for one simulated world."""
    sc = world.scenario
    known = world.contacts["t_known"].to_numpy(np.float64)
    out = log_figures(
        EventLog.from_world(world),
        _months_known(known, sc.horizon_days),
        sc.horizon_days,
        sc.crm.email_sends_per_month,
    )
    out["O4"] = _known_per_target(world)
    out["N1"] = _outsiders_engaged(world)
    out.update(_truth_figures(world))
    return out


def activity_index(events: pd.DataFrame) -> np.ndarray:
    """Each touch's activity as its index in ``ACTIVITIES`` (-1 if unknown), without turning
    the column into text (the categorical's codes, remapped)."""
    col = events["activity"]
    cat = col.cat if isinstance(col.dtype, pd.CategoricalDtype) else col.astype("category").cat
    table = np.array([ACTIVITIES.index(c) if c in ACTIVITIES else -1 for c in cat.categories])
    codes = cat.codes.to_numpy()
    return np.where(codes >= 0, table[codes] if table.size else -1, -1)


def _is(act: np.ndarray, names) -> np.ndarray:
    return np.isin(
        act, [ACTIVITIES.index(a) for a in ([names] if isinstance(names, str) else names)]
    )


def log_figures(
    log: EventLog, months_known: float, horizon_days: float, sends_per_month: float
) -> dict[str, float]:
    """O2 (email opens and clicks per delivered email), O3 (form fills per web visit), O5
    (target accounts engaged in a month), O6 (web visits tied to a known person)."""
    ev = log.events
    act = activity_index(ev)
    known = ev["contact_id"].to_numpy() >= 0
    visits = _is(act, "web_visit")
    delivered = months_known * sends_per_month
    return {
        "O2.opens": _ratio((_is(act, "email_open") & known).sum(), delivered),
        "O2.clicks": _ratio((_is(act, "email_click") & known).sum(), delivered),
        "O3": _ratio(_is(act, FORM_FILLS).sum(), visits.sum()),
        "O5": _engaged_account_months(log, horizon_days),
        "O6": _ratio((visits & known).sum(), visits.sum()),
    }


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def _months_known(t_known: np.ndarray, horizon_days: float) -> float:
    t = t_known[~np.isnan(t_known)]
    return float((horizon_days - t).sum() / MONTH_DAYS)


def _engaged_account_months(log: EventLog, horizon_days: float) -> float:
    """O5: (target account, month) pairs with enough engagement touches by known people."""
    ac = log.accounts
    targets = (
        ac.loc[ac["is_target"].astype(bool), "account_id"].to_numpy()
        if "is_target" in ac.columns
        else ac["account_id"].to_numpy()
    )
    months = int(horizon_days // MONTH_DAYS)
    if targets.size == 0 or months == 0:
        return float("nan")
    ev = log.events
    sel = _is(activity_index(ev), ENGAGEMENT) & (ev["contact_id"].to_numpy() >= 0)
    month = (ev["time"].to_numpy()[sel] // MONTH_DAYS).astype(np.int64)
    acc = ev["account_id"].to_numpy()[sel]
    ok = np.isin(acc, targets) & (month >= 0) & (month < months)
    pairs = pd.DataFrame({"a": acc[ok], "m": month[ok]}).value_counts()
    return float((pairs >= ENGAGED_MONTH_TOUCHES).sum() / (targets.size * months))


def _known_per_target(world: World) -> float:
    """O4: contacts known by the end of the horizon, per target account."""
    c = world.contacts[world.contacts["t_known"].notna().to_numpy()]
    targets = world.accounts.loc[world.accounts["is_target"], "account_id"]
    if targets.empty:
        return float("nan")
    return float(c["account_id"].isin(targets).sum() / len(targets))


def _outsiders_engaged(world: World) -> float:
    """N1: of the months people outside buying committees were known, the share with an
    engagement touch."""
    co = world.contacts
    outsider = ~co["in_committee"].to_numpy(bool)
    t_known = co["t_known"].to_numpy(np.float64)
    months = _months_known(t_known[outsider], world.scenario.horizon_days)
    ev = world.events
    cid = ev["contact_id"].to_numpy()
    sel = _is(activity_index(ev), ENGAGEMENT) & (cid >= 0)
    sel[sel] = outsider[cid[sel]]
    month = (ev["time"].to_numpy()[sel] // MONTH_DAYS).astype(np.int64)
    engaged = len(pd.DataFrame({"c": cid[sel], "m": month}).drop_duplicates())
    return _ratio(engaged, months)


def _truth_figures(world: World) -> dict[str, float]:
    """The rows that need the truth: O1, O7, B1, B3, W2, S1, OL, P4."""
    tr = world.truth
    decided = tr[tr["in_market"].to_numpy(bool) & (tr["decision"] != "").to_numpy()]
    buys = decided[(decided["decision"] == "buy").to_numpy()]
    opportunities = decided[decided["t_qualified"].notna().to_numpy()]
    size = tr["committee_size"].mean()
    out = {
        "O1": _in_market_per_quarter(world),
        "O7": _demo_requests_qualified(world),
        "B1.enterprise": float(size),
        "B1.smb": float(size),
        "W2": _ratio((opportunities["decision"] == "no_decision").sum(), len(opportunities)),
        "S1": float(((buys["t_decision"] - buys["journey_start"]) / MONTH_DAYS).median()),
        "OL": _days_form_to_buy(world, buys),
        "P4": _competitor_point(buys),
    }
    for name, sizes in (("B3.1", [1]), ("B3.6", [5, 6, 7])):
        g = decided[decided["committee_size"].isin(sizes).to_numpy()]
        out[name] = _ratio((g["decision"] == "buy").sum(), len(g))
    return out


def _in_market_per_quarter(world: World) -> float:
    tr = world.truth
    start = tr["journey_start"].to_numpy(np.float64)
    end = np.nan_to_num(tr["t_decision"].to_numpy(np.float64), nan=np.inf)
    im = tr["in_market"].to_numpy(bool)
    quarters = np.arange(0.0, world.scenario.horizon_days - QUARTER_DAYS + 1e-9, QUARTER_DAYS)
    if quarters.size == 0:
        return float("nan")
    shares = [(im & (start < q + QUARTER_DAYS) & (end > q)).mean() for q in quarters]
    return float(np.mean(shares))


def _demo_requests_qualified(world: World) -> float:
    """O7: of people's first demo requests, the share made by a member of an active journey
    that reaches 'qualified' within 90 days."""
    ev = world.events
    demo = _is(activity_index(ev), "demo_request") & (ev["contact_id"].to_numpy() >= 0)
    first = ev.loc[demo, ["contact_id", "account_id", "time"]].drop_duplicates("contact_id")
    if first.empty:
        return float("nan")
    member = world.contacts.set_index("contact_id")["in_committee"]
    tr = world.truth.set_index("account_id")
    a, t = first["account_id"].to_numpy(), first["time"].to_numpy(np.float64)
    start = tr["journey_start"].reindex(a).to_numpy(np.float64)
    end = np.nan_to_num(tr["t_decision"].reindex(a).to_numpy(np.float64), nan=np.inf)
    qualified = tr["t_qualified"].reindex(a).to_numpy(np.float64)
    ok = member.reindex(first["contact_id"]).to_numpy(bool) & (start <= t) & (t < end)
    ok &= qualified <= t + 90.0  # NaN (never qualified) compares False
    return float(ok.mean())


def _days_form_to_buy(world: World, buys: pd.DataFrame) -> float:
    """OL: median days from a buying journey's first form fill by a known person to the buy,
    over the journeys that start in the horizon with a first form fill in its first third."""
    ev = world.events
    form = _is(activity_index(ev), FORM_FILLS) & ev["known"].to_numpy()
    f = ev.loc[form, ["account_id", "time"]]
    b = buys.set_index("account_id")
    f = f[f["account_id"].isin(b.index)]
    start = b["journey_start"].reindex(f["account_id"]).to_numpy()
    # journeys seen from their start (one under way at day 0 may have filled its first form
    # before it) whose first form fill leaves two thirds of the horizon to decide in (later ones
    # are seen only when they buy fast): either cut would pull the median down
    f = f[(f["time"].to_numpy() >= start) & (start >= 0)]
    first = f.groupby("account_id")["time"].min()
    first = first[first.to_numpy() <= world.scenario.horizon_days / 3]
    days = b["t_decision"].reindex(first.index) - first
    return float(days.median()) if len(days) else float("nan")


def _competitor_point(buys: pd.DataFrame) -> float:
    c = buys[buys["t_competitor"].notna().to_numpy()]
    span = (c["t_decision"] - c["journey_start"]).to_numpy(np.float64)
    frac = (c["t_competitor"] - c["journey_start"]).to_numpy(np.float64) / span
    return float(frac.mean()) if frac.size else float("nan")


def funnel_figures(world: World, result: SalesResult) -> dict[str, float]:
    """The funnel rows (C1, C4, O8) from one policy's handoffs through the sales side."""
    f = double_funnel(world, result)
    lead = f[f["funnel"] == "lead"].set_index("step")["count"].astype(float)
    inquiries, mql, sal, sql, won = (lead.iloc[i] for i in range(5))
    return {
        "C1.inquiry_mql": _ratio(mql, inquiries),
        "C1.mql_sal": _ratio(sal, mql),
        "C1.sal_sql": _ratio(sql, sal),
        "C1.sql_won": _ratio(won, sql),
        "C4": _ratio(sql, mql),
        "O8": _ratio(won, inquiries),
    }


def export_figures(real: RealLog, sends_per_month: float) -> dict[str, float]:
    """The rows a team's own export can show: O2, O3, O5 and O6 from its touches (every contact
    counted as known for the whole span of the log: an export does not say when a person became
    known), O4 from its contacts, and O7 when it has outcomes (an opportunity opened within 90
    days of the demo request, or open at it)."""
    log = real.log
    t = log.events["time"].to_numpy(np.float64)
    span = float(t.max() - t.min()) if t.size else 0.0
    out = log_figures(log, len(log.contacts) * span / MONTH_DAYS, span, sends_per_month)
    ac = log.accounts
    targets = ac[ac["is_target"].astype(bool)] if "is_target" in ac.columns else ac
    out["O4"] = _ratio(log.contacts["account_id"].isin(targets["account_id"]).sum(), len(targets))
    if real.outcomes is not None:
        ev = log.events
        demo = _is(activity_index(ev), "demo_request") & (ev["contact_id"].to_numpy() >= 0)
        first = ev.loc[demo, ["contact_id", "account_id", "time"]].drop_duplicates("contact_id")
        truth = truth_from_outcomes(real, 90.0)
        ok = truth(first["account_id"].to_numpy(), first["time"].to_numpy(np.float64))
        out["O7"] = float(np.mean(ok)) if len(first) else float("nan")
    return out
