"""Capacity by the week, not the average: the weekly handoff series of one policy on one world
(:data:`sim.tables.WEEKLY`) and the load metrics read from it.

An average of 18 handoffs a week against a capacity of 24 can hide a first month of 150-200 a
week. The series counts, week by week, the handoffs that **join the SDR queue** (status
``accepted``, ``rejected`` or ``expired``: a ``duplicate`` or ``recycling`` handoff costs
nothing) beside all handoffs, those worked and those that expired unworked, each in the week the
handoff was made.

Weeks are 7-day spans from the go-live day (``scenario.rollout.go_live_day`` when a rollout sets
one, else day 0, a Monday): week *k* is ``[go_live + 7k, go_live + 7k + 7)``. Every week up to
the horizon has a row, empty weeks included; a last partial week keeps its row (``days`` < 7),
so the table sums to the handoffs made from go-live to the horizon, but the load metrics read
**whole weeks only** (a 2-day tail would look light). Handoffs before go-live are not in it.

>>> import pandas as pd
>>> o = pd.DataFrame({"t_handoff": [0.5, 1.0, 8.0, 15.0],
...                   "status": ["accepted", "duplicate", "expired", "rejected"]})
>>> s = weekly_series(o, horizon_days=16.0, capacity=1.0)
>>> s[["week", "handoffs", "queued", "worked", "expired"]].values.tolist()
[[0, 2, 1, 1, 0], [1, 1, 1, 0, 1], [2, 1, 1, 1, 0]]
>>> s["days"].tolist()   # the last week is cut by the horizon
[7.0, 7.0, 2.0]
>>> weekly_load(s)["weekly_load_max"], weekly_load(s)["weeks_over_capacity"]
(1.0, 0.0)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.tables import WEEKLY

#: the statuses of a handoff that joined the SDR queue (duplicates and recycling did not)
QUEUED = ("accepted", "rejected", "expired")
WORKED = ("accepted", "rejected")
#: the load metrics (sim.sales.metrics) and the quantile of the weekly load each one is
LOAD_QUANTILES = {"weekly_load_p50": 0.5, "weekly_load_p90": 0.9, "weekly_load_max": 1.0}
WEEKLY_METRICS = (*LOAD_QUANTILES, "weeks_over_capacity")
_COUNTS = ["handoffs", "queued", "worked", "expired"]


def go_live_day(scenario) -> float:
    """The day weeks count from: ``scenario.rollout.go_live_day`` when the scenario has a
    rollout that sets it, else 0."""
    day = getattr(getattr(scenario, "rollout", None), "go_live_day", None)
    return 0.0 if day is None else float(day)


def _weeks(horizon_days: float, go_live: float) -> np.ndarray:
    """The length in days of every week from go-live up to the horizon (the last maybe
    partial)."""
    span = max(horizon_days - go_live, 0.0)
    return np.minimum(7.0, span - 7.0 * np.arange(math.ceil(span / 7.0)))


def weekly_series(
    outcomes: pd.DataFrame, horizon_days: float, capacity: float, go_live: float = 0.0
) -> pd.DataFrame:
    """The weekly series of one policy's handoff outcomes (columns ``t_handoff`` and
    ``status`` of :data:`sim.tables.HANDOFF_OUTCOMES`): :data:`sim.tables.WEEKLY` without
    ``replication`` and ``policy``, one row per week from ``go_live`` to ``horizon_days``."""
    days = _weeks(horizon_days, go_live)
    n = days.size
    t = outcomes["t_handoff"].to_numpy(np.float64)
    status = outcomes["status"].to_numpy(str)
    x = t - go_live
    week = np.floor(x / 7.0)
    # the division may round across a week boundary: settle it on 7 * week <= x < 7 * (week + 1)
    week = np.where(7.0 * week > x, week - 1.0, week)
    week = np.where(7.0 * (week + 1.0) <= x, week + 1.0, week)
    ok = (week >= 0) & (week < n) & (t < horizon_days)
    wk = week[ok].astype(np.int64)
    st = status[ok]
    counts = {
        "handoffs": np.bincount(wk, minlength=n),
        "queued": np.bincount(wk[np.isin(st, QUEUED)], minlength=n),
        "worked": np.bincount(wk[np.isin(st, WORKED)], minlength=n),
        "expired": np.bincount(wk[st == "expired"], minlength=n),
    }
    return _frame(np.arange(n), go_live, days, counts, capacity)


def weekly_series_reference(
    outcomes: pd.DataFrame, horizon_days: float, capacity: float, go_live: float = 0.0
) -> pd.DataFrame:
    """:func:`weekly_series`, the plain way: one loop over the handoffs (for the tests)."""
    days = _weeks(horizon_days, go_live)
    counts = {c: [0] * days.size for c in _COUNTS}
    for t, status in zip(outcomes["t_handoff"], outcomes["status"], strict=True):
        k = 0
        while 7.0 * (k + 1) <= t - go_live:
            k += 1
        if t < go_live or t >= horizon_days or k >= days.size:
            continue
        counts["handoffs"][k] += 1
        counts["queued"][k] += status in QUEUED
        counts["worked"][k] += status in WORKED
        counts["expired"][k] += status == "expired"
    return _frame(np.arange(days.size), go_live, days, counts, capacity)


def _frame(week, go_live, days, counts, capacity) -> pd.DataFrame:
    cols = [c for c in WEEKLY.names if c not in ("replication", "policy")]
    return pd.DataFrame(
        {
            "week": np.asarray(week, np.int64),
            "start_day": go_live + 7.0 * np.asarray(week, np.float64),
            "days": np.asarray(days, np.float64),
            **{c: np.asarray(counts[c], np.int64) for c in _COUNTS},
            "capacity": float(capacity),
        },
        columns=cols,
    )


def weekly_load(series: pd.DataFrame) -> dict[str, float]:
    """The load metrics of a weekly series: the median, 90th percentile and largest number of
    queue-joining handoffs in a whole week (quantiles interpolate linearly between weeks,
    numpy's default), and the share of whole weeks whose queue-joining handoffs exceed the
    capacity. NaN when the horizon holds no whole week."""
    whole = series[series["days"].to_numpy(np.float64) >= 7.0]
    q = whole["queued"].to_numpy(np.float64)
    if q.size == 0:
        return dict.fromkeys(WEEKLY_METRICS, float("nan"))
    cap = whole["capacity"].to_numpy(np.float64)
    out = {m: float(np.quantile(q, p)) for m, p in LOAD_QUANTILES.items()}
    out["weeks_over_capacity"] = float(np.mean(q > cap))
    return out
