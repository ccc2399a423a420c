"""The weekly handoff series and the load metrics read from it (sim.sales.weekly): hand-worked
series, the vectorised series against a plain loop, and the series against the comparison's
metric rows."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import sim
from sim import tables
from sim.sales.handoff import STATUSES
from sim.sales.weekly import (
    go_live_day,
    weekly_load,
    weekly_series,
    weekly_series_reference,
)


def outcomes(rows: list[tuple[float, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["t_handoff", "status"])


# 38 days: five whole weeks and a 3-day tail. Queue-joining handoffs per whole week: 5, 1, 3,
# 0, 2; week 3 has four duplicates and a recycling (no queue), the tail 9 queued handoffs.
HAND = outcomes(
    [(0.0, "accepted"), (1.5, "rejected"), (2.0, "expired"), (6.9, "accepted"), (6.99, "expired")]
    + [(7.0, "accepted")]
    + [(14.0, "rejected"), (15.0, "rejected"), (20.99, "accepted"), (16.0, "duplicate")]
    + [(21.0, "duplicate"), (22.0, "duplicate"), (23.0, "duplicate"), (27.9, "duplicate")]
    + [(25.0, "recycling")]
    + [(28.0, "expired"), (34.999, "accepted")]
    + [(35.0 + i / 4, "accepted") for i in range(9)]
)


def test_hand_series_week_by_week() -> None:
    s = weekly_series(HAND, horizon_days=38.0, capacity=3.0)
    assert list(s.columns) == [c for c in tables.WEEKLY.names if c not in ("replication", "policy")]
    assert s["week"].tolist() == [0, 1, 2, 3, 4, 5]
    assert s["start_day"].tolist() == [0.0, 7.0, 14.0, 21.0, 28.0, 35.0]
    assert s["days"].tolist() == [7.0, 7.0, 7.0, 7.0, 7.0, 3.0]
    assert s["handoffs"].tolist() == [5, 1, 4, 5, 2, 9]
    assert s["queued"].tolist() == [5, 1, 3, 0, 2, 9]
    assert s["worked"].tolist() == [3, 1, 3, 0, 1, 9]
    assert s["expired"].tolist() == [2, 0, 0, 0, 1, 0]
    assert (s["capacity"] == 3.0).all()


def test_hand_load_metrics() -> None:
    m = weekly_load(weekly_series(HAND, horizon_days=38.0, capacity=3.0))
    # whole weeks sorted: 0, 1, 2, 3, 5 (the 9 of the 3-day tail is left out)
    assert m["weekly_load_p50"] == 2.0
    assert m["weekly_load_p90"] == pytest.approx(4.2)  # at rank 0.9 * 4 = 3.6: 3 + 0.6 * (5 - 3)
    assert m["weekly_load_max"] == 5.0
    assert m["weeks_over_capacity"] == pytest.approx(1 / 5)  # 5 > 3; a week of exactly 3 is not
    # a capacity of 1.5: weeks of 5, 3 and 2 are over it
    assert weekly_load(weekly_series(HAND, 38.0, 1.5))["weeks_over_capacity"] == pytest.approx(0.6)


def test_the_mean_hides_the_flood() -> None:
    """The issue's case: a first month of 150-200 a week, then a trickle. The mean over the
    horizon fits a capacity of 24; the p90 week and a fifth of the weeks do not."""
    weekly = [150, 190, 203, 192, 154, 96, 90, 61] + [2] * 52  # 60 weeks
    rows = [(7.0 * w + 0.1, "accepted") for w, n in enumerate(weekly) for _ in range(n)]
    s = weekly_series(outcomes(rows), horizon_days=420.0, capacity=24.0)
    assert s["queued"].tolist() == weekly
    m = weekly_load(s)
    assert sum(weekly) / 60 == pytest.approx(1240 / 60)  # 20.7 a week: "inside capacity"
    assert m["weekly_load_max"] == 203.0
    assert m["weeks_over_capacity"] == pytest.approx(8 / 60)
    # rank 0.9 * 59 = 53.1 of the sorted weeks: 52 twos, then 61, 90, 96, 150, ...
    assert m["weekly_load_p90"] == pytest.approx(90 + 0.1 * (96 - 90))
    assert m["weekly_load_p50"] == 2.0


def test_go_live_shifts_the_weeks() -> None:
    o = outcomes([(2.0, "accepted"), (10.0, "accepted"), (10.5, "duplicate"), (16.9, "expired")])
    s = weekly_series(o, horizon_days=24.0, capacity=1.0, go_live=10.0)
    assert s["start_day"].tolist() == [10.0, 17.0]  # 14 days after go-live: two whole weeks
    assert s["handoffs"].tolist() == [3, 0] and s["queued"].tolist() == [2, 0]
    m = weekly_load(s)
    assert (m["weekly_load_max"], m["weeks_over_capacity"]) == (2.0, 0.5)


def test_no_whole_week_gives_nan() -> None:
    s = weekly_series(outcomes([(1.0, "accepted")]), horizon_days=5.0, capacity=1.0)
    assert s["days"].tolist() == [5.0] and s["handoffs"].tolist() == [1]
    assert all(math.isnan(v) for v in weekly_load(s).values())
    empty = weekly_series(outcomes([]), horizon_days=14.0, capacity=1.0)
    assert empty["queued"].tolist() == [0, 0]
    assert weekly_load(empty)["weekly_load_max"] == 0.0


def test_go_live_day_of_a_scenario() -> None:
    assert go_live_day(SimpleNamespace()) == 0.0
    assert go_live_day(SimpleNamespace(rollout=SimpleNamespace(go_live_day=None))) == 0.0
    assert go_live_day(SimpleNamespace(rollout=SimpleNamespace(go_live_day=91))) == 91.0


times = st.floats(-10.0, 120.0, allow_nan=False)
handoffs = st.lists(st.tuples(times, st.sampled_from(STATUSES)), max_size=60)
week_edges = st.integers(-2, 18).map(lambda k: 7.0 * k)  # times exactly on a week boundary


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(st.one_of(times, week_edges), st.sampled_from(STATUSES)), max_size=60),
    horizon=st.floats(1.0, 110.0),
    go_live=st.one_of(st.just(0.0), st.floats(0.0, 30.0)),
)
def test_fast_series_is_the_loop(rows, horizon, go_live) -> None:
    o = outcomes(rows)
    fast = weekly_series(o, horizon, 24.0, go_live)
    slow = weekly_series_reference(o, horizon, 24.0, go_live)
    assert_frame_equal(fast, slow)
    # the table sums to the handoffs made from go-live to the horizon; the columns nest
    t = o["t_handoff"].to_numpy()
    assert fast["handoffs"].sum() == int(((t >= go_live) & (t < horizon)).sum())
    assert (fast["queued"] <= fast["handoffs"]).all()
    assert (fast["worked"] + fast["expired"] == fast["queued"]).all()
    assert fast["days"].sum() == pytest.approx(max(horizon - go_live, 0.0))


@settings(max_examples=100, deadline=None)
@given(rows=handoffs, capacity=st.floats(0.0, 10.0))
def test_load_metrics_are_order_statistics_of_whole_weeks(rows, capacity) -> None:
    s = weekly_series(outcomes(rows), 100.0, capacity)  # 14 whole weeks and 2 days
    m = weekly_load(s)
    q = sorted(s["queued"].tolist()[:14])
    assert m["weekly_load_max"] == q[-1]
    assert m["weekly_load_p50"] == (q[6] + q[7]) / 2  # 14 weeks: halfway between the 7th, 8th
    assert q[0] <= m["weekly_load_p90"] <= q[-1]
    assert m["weeks_over_capacity"] == sum(x > capacity for x in q) / 14


def test_comparison_metrics_are_read_from_its_weekly_table(small_scenario) -> None:
    cmp = sim.compare(small_scenario("smb", 120), ["mqa_count", "mql_scored"], replications=2)
    w = cmp.weekly
    whole = w[w["days"] == 7.0]
    for (r, p), g in whole.groupby(["replication", "policy"]):
        q = g["queued"].to_numpy(np.float64)
        got = cmp.tidy[(cmp.tidy["replication"] == r) & (cmp.tidy["policy"] == p)]
        got = got.set_index("metric")["value"]
        assert got["weekly_load_max"] == q.max()
        assert got["weekly_load_p90"] == pytest.approx(np.quantile(q, 0.9))
        assert got["weeks_over_capacity"] == pytest.approx(np.mean(q > g["capacity"].iloc[0]))
    # every handoff of the comparison is in the weekly table (no rollout: weeks from day 0)
    per = cmp.handoffs.groupby(["replication", "policy"]).size()
    assert (w.groupby(["replication", "policy"])["handoffs"].sum().reindex(per.index) == per).all()
