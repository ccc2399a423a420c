"""The sales side (sim/sales.py) and the metrics of a handoff (sim/metrics.py).

First a hand-made world where every outcome and every metric is worked out on paper (the
arithmetic is in the comments), then the work calendar against a plain reference, then the
statistical and structural checks on simulated worlds: an oracle policy, random handoffs, an
overloaded SDR queue, common random numbers, the late inbound baseline, and config errors.

Hand-made worlds use a calendar of whole working days (``working_hours: [0, 24]``) and a
handoff that takes exactly one working day (``hours_per_handoff / handoff_share = 3 / 0.125 =
24 h``), many SDRs (no queue), a reach of exactly 1 or 0 and win rates of 1 or 0, so nothing
in them is left to chance.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import policies
import sim
from sim.config.chain import deep_merge
from sim.errors import ConfigError
from sim.sales import (
    METRICS,
    OUTCOME_COLUMNS,
    STATUSES,
    WorkCalendar,
    coverage_at,
    handoff_metrics,
    play_handoffs,
    reach_probability,
    true_handoffs,
)
from sim.tables import TRUTH as TRUTH_TABLE

NAN = math.nan
HORIZON = 730.0  # the enterprise preset's horizon

# --------------------------------------------------------------------------------------------
# Building hand-made worlds
# --------------------------------------------------------------------------------------------

# A calendar of whole days, Monday to Friday; one handoff = one working day; 50 SDRs; an SDR
# always reaches the buying group; the vendor engaged first always wins, after a competitor
# never; late inbound always wins. Sales practically never gives up nurturing (half-life of a
# million years).
CERTAIN_SALES = {
    "sdrs": 50,
    "workdays_per_week": 5,
    "working_hours": [0.0, 24.0],
    "handoff_share": 0.125,
    "hours_per_handoff": 3.0,
    "priority_by_tier": False,
    "sla_hours": 24.0,
    "max_wait_days": 30.0,
    "reach": {"immediate": 1.0, "floor": 1.0, "half_life_hours": 4.0},
    "recycle_days": 30.0,
    "nurture_hours_per_week": 7.0,
    "nurture_half_life_days": 3.65e11,
    "opportunity_hours": 10.0,
    "win": {"preferred": 1.0, "after_competitor": 0.0, "inbound": 1.0},
}

TRUTH_COLUMNS = TRUTH_TABLE.names  # every truth column, as sim.simulate writes them


def journey(start, qualified, sales_ready, decision, outcome, competitor=NAN):
    """Truth of an in-market account (aware/engaged placed between start and qualified)."""
    return {
        "in_market": True,
        "journey_start": start,
        "t_aware": start + 1,
        "t_engaged": start + 2,
        "t_qualified": qualified,
        "t_sales_ready": sales_ready,
        "t_decision": decision,
        "decision": outcome,
        "t_competitor": competitor,
    }


NOT_IN_MARKET = {
    "in_market": False,
    "journey_start": NAN,
    "t_aware": NAN,
    "t_engaged": NAN,
    "t_qualified": NAN,
    "t_sales_ready": NAN,
    "t_decision": NAN,
    "decision": "",
    "t_competitor": NAN,
}


def make_world(
    accounts: list[dict],
    events: list[tuple],
    sales: dict | None = None,
    noise: dict[int, int] | None = None,
    seed: int = 0,
) -> sim.World:
    """A world from truth rows (one dict per account, ids 0..n-1 in order) and touches
    ``(time, account_id, contact_id, activity)``. Each account gets ``committee_size``
    committee members, then ``noise[a]`` people outside the committee, numbered in order."""
    sc = sim.load_scenario(
        "enterprise", overrides={"sales": deep_merge(CERTAIN_SALES, sales or {})}
    )
    truth = pd.DataFrame(
        [
            {
                "account_id": a,
                "active_in_window": row["in_market"]
                and not (row["t_decision"] == row["t_decision"] and row["t_decision"] < 0),
                "deal_value": 1000.0 * (a + 1),
                "committee_size": 2,
                "tier": 3,
                **row,
            }
            for a, row in enumerate(accounts)
        ]
    )
    contacts = []
    for a, row in truth.iterrows():
        for k in range(int(row["committee_size"]) + (noise or {}).get(a, 0)):
            contacts.append(
                {
                    "contact_id": len(contacts),
                    "account_id": a,
                    "in_committee": k < row["committee_size"],
                }
            )
    ev = pd.DataFrame(events, columns=["time", "account_id", "contact_id", "activity"])
    ev = ev.sort_values(["account_id", "time"], kind="stable").reset_index(drop=True)
    ev["known"] = ev["contact_id"] >= 0
    return sim.World(
        scenario=sc,
        seed=seed,
        accounts=truth[["account_id", "tier"]].copy(),
        contacts=pd.DataFrame(contacts, columns=["contact_id", "account_id", "in_committee"]),
        events=ev,
        truth=truth[TRUTH_COLUMNS].copy(),
        campaigns=pd.DataFrame(),
    )


def quals(rows: list[tuple], policy: str = "hand") -> pd.DataFrame:
    """Qualifications from ``(account_id, time)`` or ``(account_id, time, contact_id)``."""
    full = [(r[0], r[1], r[2] if len(r) > 2 else -1) for r in rows]
    return pd.DataFrame(
        {
            "policy": [policy] * len(full),
            "account_id": np.array([r[0] for r in full], dtype=np.int64),
            "contact_id": np.array([r[2] for r in full], dtype=np.int64),
            "time": np.array([r[1] for r in full], dtype=np.float64),
            "rule": ["hand"] * len(full),
            "score": np.ones(len(full)),
            "stage": [""] * len(full),
        }
    )


# --------------------------------------------------------------------------------------------
# The hand-made world of the metrics
# --------------------------------------------------------------------------------------------
#
# Day 0 is a Monday; days d with d % 7 in {5, 6} are a weekend. Accounts (value = 1000 x (a+1)):
#   A0 in market, journey 10 -> decision 100 (buy), qualified 40, sales-ready 70, committee 4
#   A1 in market, journey -20 -> 200 (buy), qualified 30, sales-ready 60, competitor at 35
#   A2 in market, journey 100 -> 300 (no decision), qualified 150, sales-ready 170, committee 3
#   A3 not in market
#   A4 in market, journey 500 -> undecided in the horizon, qualified 600, sales-ready 650
#   A5 in market but decided (buy) at -10, before the window: not active in the window
#   A6 in market, journey 50 -> 250 (buy), qualified 100; never worked to an opportunity,
#      demo requests at 30 (before its journey), 120 and 130 (in it): late inbound at 120
METRIC_ACCOUNTS = [
    {**journey(10, 40, 70, 100, "buy"), "committee_size": 4},
    journey(-20, 30, 60, 200, "buy", competitor=35),
    {**journey(100, 150, 170, 300, "no_decision"), "committee_size": 3},
    NOT_IN_MARKET,
    journey(500, 600, 650, NAN, ""),
    journey(-300, -200, -100, -10, "buy"),
    journey(50, 100, 140, 250, "buy"),
]
# Contacts, in order (committee first, then noise): A0: 0-3 committee, 4 noise; A1: 5, 6;
# A2: 7, 8, 9; A3: 10, 11; A4: 12, 13; A5: 14, 15; A6: 16, 17.
METRIC_NOISE = {0: 1}
METRIC_EVENTS = [
    (5.0, 0, 4, "web_visit"),  # noise person: never counts toward coverage
    (12.0, 0, -1, "web_visit"),  # anonymous
    (15.0, 0, 0, "web_visit"),
    (25.0, 0, 1, "content_download"),
    (50.0, 0, 2, "webinar"),
    (80.0, 0, 2, "demo_request"),  # in journey, but A0 became an opportunity: no inbound
    (10.0, 1, 5, "web_visit"),
    (45.0, 1, 6, "web_visit"),
    (100.0, 1, 5, "demo_request"),  # A1 became an opportunity: no inbound
    (110.0, 2, 7, "web_visit"),
    (120.5, 2, 8, "web_visit"),  # exactly at the handoff: counts ("at or before")
    (121.0, 2, 9, "web_visit"),
    (50.0, 3, 10, "demo_request"),  # not in market
    (510.0, 4, 12, "web_visit"),
    (560.0, 4, 13, "web_visit"),
    (0.5, 5, 14, "demo_request"),  # after A5's decision at -10: not in its journey
    (30.0, 6, 16, "demo_request"),  # before A6's journey
    (120.0, 6, 16, "demo_request"),
    (130.0, 6, 17, "demo_request"),
]
# Handoffs (all account-level). dow = day % 7 (0 = Monday).
METRIC_HANDOFFS = [
    (0, 21.5),  # 0: Mon; true (10 <= 21.5 < 100)
    (0, 30.5),  # 1: Wed; true; A0 is owned (opportunity until 100): duplicate
    (1, 42.5),  # 2: Mon; true (-20 <= 42.5 < 200)
    (2, 120.5),  # 3: Tue; true (100 <= 120.5 < 300)
    (3, 60.5),  # 4: Fri; false (not in market)
    (4, 550.5),  # 5: Fri; true (500 <= 550.5, undecided)
    (5, 5.5),  # 6: Sat; false (decided at -10)
    (2, 60.5),  # 7: Fri; false (A2's journey starts at 100)
    (6, 36.5),  # 8: Tue; false (A6's journey starts at 50)
    (3, 70.5),  # 9: Mon; false; A3 rejected at 60.5 is recycling
]


@pytest.fixture(scope="module")
def metric_world() -> sim.World:
    return make_world(METRIC_ACCOUNTS, METRIC_EVENTS, noise=METRIC_NOISE)


@pytest.fixture(scope="module")
def metric_result(metric_world):
    return play_handoffs(metric_world, quals(METRIC_HANDOFFS))


def test_hand_world_outcomes_row_by_row(metric_result):
    """Each handoff's outcome, worked out by hand. An SDR starts at once on a working day (50
    SDRs, no queue) and is done one working day later; a Saturday handoff starts Monday 0:00.

    - 0: A0 at 21.5 (Mon): start 21.5, done 22.5, accepted; journey not yet qualified (40):
      nurture 22.5 -> 40 at 7 h/week = 17.5 h; opportunity at 40; bought, sales first (no
      competitor): won 1000. Hours 3 + 17.5 + 10 = 30.5.
    - 1: A0 at 30.5: owned (opportunity until its decision at 100): duplicate, nothing spent.
    - 2: A1 at 42.5 (Mon): done 43.5, already qualified (30): opportunity at 43.5. Bought, but
      the competitor came at 35 < 42.5: won with p = 0: lost to competitor. Hours 3 + 10 = 13.
    - 3: A2 at 120.5 (Tue): A2 was rejected at 60.5, done 63.5 (Fri -> Mon), recycled until
      93.5 < 120.5: worked. Done 121.5; nurture to 150: 28.5 h; opportunity at 150; no
      decision: not won, not open. Hours 3 + 28.5 + 10 = 41.5.
    - 4: A3 at 60.5 (Fri): not in market: rejected (no_active_journey), done Mon 63.5; 3 h.
    - 5: A4 at 550.5 (Fri): done Mon 553.5 (12 h Fri + 12 h Mon); nurture to 600: 46.5 h;
      opportunity at 600 < horizon; undecided: open. Hours 3 + 46.5 + 10 = 59.5.
    - 6: A5 at 5.5 (Sat): the SDR starts Mon 7.0 (wait 1.5 days = 36 h), done 8.0: rejected
      (decided at -10); 3 h.
    - 7: A2 at 60.5 (Fri): before its journey (100): rejected; 3 h.
    - 8: A6 at 36.5 (Tue): before its journey (50): rejected, done 37.5; 3 h.
    - 9: A3 at 70.5: rejected at 60.5, done 63.5, recycled until 93.5 > 70.5: recycling, 0 h.
    """
    o = metric_result.outcomes
    assert list(o.columns) == OUTCOME_COLUMNS
    assert o["policy"].tolist() == ["hand"] * 10
    assert o["account_id"].tolist() == [0, 0, 1, 2, 3, 4, 5, 2, 6, 3]
    assert o["t_handoff"].tolist() == [h[1] for h in METRIC_HANDOFFS]
    assert o["true_handoff"].tolist() == [True, True, True, True] + [False, True] + [False] * 4
    assert o["acceptable"].tolist() == [False, False, True] + [False] * 7
    assert o["status"].tolist() == [
        "accepted",
        "duplicate",
        "accepted",
        "accepted",
        "rejected",
        "accepted",
        "rejected",
        "rejected",
        "rejected",
        "recycling",
    ]
    assert o["reason"].tolist() == ["", "", "", "", "no_active_journey", ""] + [
        "no_active_journey"
    ] * 3 + [""]
    assert o["accepted"].tolist() == (o["status"] == "accepted").tolist()
    starts = [21.5, NAN, 42.5, 120.5, 60.5, 550.5, 7.0, 60.5, 36.5, NAN]
    np.testing.assert_allclose(o["t_first_touch"], starts, atol=1e-9)
    waits = [0, NAN, 0, 0, 0, 0, 36, 0, 0, NAN]
    np.testing.assert_allclose(o["queue_wait_hours"], waits, atol=1e-6)
    opps = [40, NAN, 43.5, 150, NAN, 600, NAN, NAN, NAN, NAN]
    np.testing.assert_allclose(o["t_opportunity"], opps, atol=1e-9)
    assert o["won"].tolist() == [True] + [False] * 9
    assert o["open"].tolist() == [False] * 5 + [True] + [False] * 4
    np.testing.assert_allclose(o["value"], [1000] + [0] * 9)
    hours = [30.5, 0, 13, 41.5, 3, 59.5, 3, 3, 3, 0]
    np.testing.assert_allclose(o["sales_hours"], hours, atol=1e-6)
    assert o["lost_to_competitor"].tolist() == [False, False, True] + [False] * 7


def test_hand_world_inbound(metric_result):
    """Only A6 comes in by itself: it buys, never became an opportunity (its handoff at 36.5
    was rejected), and its first in-journey demo request is at 120 (the one at 30 is before
    its journey). A0 and A1 requested demos too but were opportunities; A3 is not in market;
    A5's request at 0.5 is after its decision. win.inbound = 1: won, value 7000."""
    inbound = metric_result.inbound
    assert inbound["account_id"].tolist() == [6]
    assert inbound["t_inbound"].tolist() == [120.0]
    assert inbound["won"].tolist() == [True]
    assert inbound["value"].tolist() == [7000.0]


def test_hand_world_metrics(metric_world, metric_result):
    """Every metric of METRICS on the hand-made world.

    True handoffs: 0, 1, 2, 3, 5 (5 of 10). Worked (accepted or rejected): 0, 2-8 (8).
    Active in the window: A0, A1, A2, A4, A6; of them decided in the horizon: A0, A1, A2, A6;
    with a true handoff: A0, A1, A2, A4.
    """
    m = handoff_metrics(metric_world, metric_result)
    expected = {
        "handoffs": 10,
        "handoffs_per_week": 10 / (730 / 7),
        # 50 SDRs x 5 days x 24 h x 0.125 / 3 h per handoff
        "capacity_per_week": 250,
        # queue-joining handoffs (not 1: duplicate, 9: recycling) by week (day // 7) of the
        # 104 whole weeks: week 0 (6 at 5.5), 3 (0), 5 (8), 6 (2), 8 (4 and 7 at 60.5), 17
        # (3), 78 (5): 97 empty weeks, six of 1, one of 2; the p90 week, at rank
        # 0.9 x 103 = 92.7 of the sorted weeks, is still empty
        "weekly_load_p50": 0,
        "weekly_load_p90": 0,
        "weekly_load_max": 2,
        "weeks_over_capacity": 0,
        "precision": 5 / 10,
        # sales-acceptable: only 2 (A1 at 42.5, qualified at 30); 0 and 1 come before A0
        # qualifies (40), 3 before A2 does (150), 5 before A4 does (600)
        "acceptable_precision": 1 / 10,
        "lead_precision": NAN,  # no lead-level handoff
        "mql_people": NAN,
        "mql_to_sal": NAN,
        "mql_to_sql": NAN,
        # the month-by-month metrics need the rule's state at every touch (month_metrics)
        "mqa_months": NAN,
        "month_precision": NAN,
        "month_base_rate": NAN,
        "recall": 3 / 4,  # A0, A1, A2 of A0, A1, A2, A6 (A4 undecided: not counted)
        # t_decision - t over true handoffs of decided accounts: 0: 100 - 21.5 = 78.5,
        # 1: 100 - 30.5 = 69.5, 2: 200 - 42.5 = 157.5, 3: 300 - 120.5 = 179.5 -> 485 / 4
        "lead_time_days": 121.25,
        # t - t_sales_ready: -48.5, -39.5, -17.5, -49.5, 550.5 - 650 = -99.5 -> -254.5 / 5
        "timing_vs_intent_days": -50.9,
        # t - max(start, 0): 11.5, 20.5, 42.5 - 0, 20.5, 50.5 -> 145.5 / 5
        "time_to_qualify_days": 29.1,
        # seen committee members / committee: 0: {c0} 1/4, 1: {c0, c1} 2/4, 2: {c5} 1/2,
        # 3: {c7, c8} 2/3, 5: {c12} 1/2 -> (1/4 + 1/2 + 1/2 + 2/3 + 1/2) / 5 = 29/60
        "buying_group_coverage": 29 / 60,
        "queue_wait_hours": 36 / 8,  # only the Saturday handoff waited (36 h)
        "sla_breach_rate": 1 / 8,  # 36 h > 24 h
        "never_followed_up": 0,
        "acceptance_rate": 4 / 8,  # 0, 2, 3, 5
        "opportunities": 4,
        "wins": 1,
        "win_rate": 1 / 4,
        "revenue": 1000,
        "false_handoff_hours": 3 * 4 + 0,  # 4, 6, 7, 8 worked and rejected; 9 recycling
        "sales_hours": 30.5 + 13 + 41.5 + 59.5 + 12,
        "lost_to_competitor": 1,  # A1
        "missed_accounts": 1,  # A6: active, never truly handed off
        "inbound_wins": 1,  # A6 (test_hand_world_inbound)
        "inbound_revenue": 7000,
        "total_wins": 2,
        "total_revenue": 1000 + 7000,
        # against no handoff at all, where A0 (demo at 80), A1 (demo at 100) and A6 come in
        # late and are won (3 deals, 10000): A0 the same (won either way), A1 lost to the
        # competitor instead of won inbound (-1 win, -2000), A2 (no decision) and A4 (open)
        # opportunities only the handoffs made (+2), A6 the same
        "opportunities_caused": 5 - 3,
        "wins_caused": 2 - 3,
        "revenue_caused": 8000 - 10000,
        "backlog_recovery_weeks": NAN,  # no go-live (tests/sales/test_rollout.py has one)
    }
    assert set(expected) == set(METRICS)
    for name, value in expected.items():
        if math.isnan(value):
            assert math.isnan(m[name]), name
        else:
            assert m[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


def test_true_handoffs_boundaries(metric_world):
    """``journey_start <= t < t_decision``: the start is in, the decision is out; an undecided
    journey is active to the end; not in market is never active."""
    a = np.array([0, 0, 0, 0, 4, 4, 3, 5])
    t = np.array([10.0, 9.999, 99.999, 100.0, 500.0, 729.0, 50.0, -15.0])
    assert true_handoffs(metric_world, a, t).tolist() == [
        True,
        False,
        True,
        False,
        True,
        True,
        False,
        True,  # -300 <= -15 < -10 (before the window, but the definition holds)
    ]


def test_coverage_at_by_hand(metric_world):
    """Committee members of A0 seen by t: c0 at 15, c1 at 25, c2 at 50; never c3; the noise
    contact c4 (touch at 5) and the anonymous touch do not count."""
    cov = coverage_at(metric_world, np.array([0, 0, 0, 0, 0]), np.array([4, 14.9, 15, 49, 80]))
    np.testing.assert_allclose(cov, [0, 0, 1 / 4, 2 / 4, 3 / 4])


def test_nobody_reached_rejects_every_active_handoff():
    """With reach 0, every worked handoff is rejected: no_response when the account is in an
    active journey, no_active_journey otherwise; buying accounts with an in-journey demo
    request then all come in late by themselves (A0 at 80, A1 at 100, A6 at 120)."""
    w = make_world(
        METRIC_ACCOUNTS,
        METRIC_EVENTS,
        sales={"reach": {"immediate": 0.0, "floor": 0.0}},
        noise=METRIC_NOISE,
    )
    r = play_handoffs(w, quals(METRIC_HANDOFFS))
    o = r.outcomes
    # 1 (A0 at 30.5): A0 rejected at 21.5, done 22.5, recycled until 52.5: recycling.
    assert o["status"].tolist() == ["rejected", "recycling"] + ["rejected"] * 7 + ["recycling"]
    assert o["reason"].tolist() == [
        "no_response",
        "",
        "no_response",
        "no_response",
        "no_active_journey",
        "no_response",
        "no_active_journey",
        "no_active_journey",
        "no_active_journey",
        "",
    ]
    assert not o["t_opportunity"].notna().any()
    assert r.inbound["account_id"].tolist() == [0, 1, 6]
    assert r.inbound["t_inbound"].tolist() == [80.0, 100.0, 120.0]
    m = handoff_metrics(w, r)
    assert m["acceptance_rate"] == 0
    assert m["wins"] == 0 and math.isnan(m["win_rate"])
    assert m["inbound_wins"] == 3
    assert m["revenue"] == 0 and m["inbound_revenue"] == 1000 + 2000 + 7000
    assert m["total_revenue"] == 1000 + 2000 + 7000
    assert m["precision"] == 5 / 10  # a property of the handoffs, not of what sales did


# --------------------------------------------------------------------------------------------
# Deals from handoffs, late inbound deals, and the totals
# --------------------------------------------------------------------------------------------
#
# Every account buys but A4 (value 1000 x (a+1)); committees of 2: contacts 2a and 2a+1.
#   A0 journey 10 -> 100, qualified 30; handoff Mon 21.5: accepted, nurtured to 30, won: HANDOFF
#   A1 journey 20 -> 200; no handoff; demo requests at 10 (before its journey) and 120: INBOUND
#   A2 journey 50 -> 150; handoff Mon 35.5 before its journey: rejected; demo at 100: INBOUND
#   A3 journey 0 -> 300, competitor at 5; handoff Mon 42.5: opportunity at 43.5, lost to the
#      competitor (after_competitor = 0); its demo at 200 is not inbound (it had an
#      opportunity): no deal at all
#   A4 journey 0 -> 250, no decision; demo at 100: never a deal
#   A5 journey 0 -> 200, qualified 10; handoff Mon 14.5: opportunity at 15.5, won: HANDOFF; its
#      demo at 50 is not inbound
SPLIT_ACCOUNTS = [
    journey(10, 30, 60, 100, "buy"),
    journey(20, 50, 80, 200, "buy"),
    journey(50, 80, 100, 150, "buy"),
    journey(0, 10, 20, 300, "buy", competitor=5),
    journey(0, 10, 20, 250, "no_decision"),
    journey(0, 10, 20, 200, "buy"),
]
SPLIT_EVENTS = [
    (10.0, 1, 2, "demo_request"),
    (120.0, 1, 2, "demo_request"),
    (100.0, 2, 4, "demo_request"),
    (200.0, 3, 6, "demo_request"),
    (100.0, 4, 8, "demo_request"),
    (50.0, 5, 10, "demo_request"),
]
SPLIT_HANDOFFS = [(0, 21.5), (2, 35.5), (3, 42.5), (5, 14.5)]


def test_wins_and_revenue_split_into_handoffs_and_late_inbound():
    """Handoff deals: A0 (1000) and A5 (6000); late inbound: A1 (2000) and A2 (3000, after a
    handoff that made no opportunity); the totals are every deal won: 4 deals, 12000."""
    w = make_world(SPLIT_ACCOUNTS, SPLIT_EVENTS)
    r = play_handoffs(w, quals(SPLIT_HANDOFFS))
    assert r.outcomes["status"].tolist() == ["accepted", "rejected", "accepted", "accepted"]
    assert r.outcomes.loc[r.outcomes["won"], "account_id"].tolist() == [0, 5]
    assert r.inbound["account_id"].tolist() == [1, 2]
    assert r.inbound["t_inbound"].tolist() == [120.0, 100.0]
    m = handoff_metrics(w, r)
    assert (m["wins"], m["revenue"]) == (2, 1000 + 6000)
    assert (m["inbound_wins"], m["inbound_revenue"]) == (2, 2000 + 3000)
    assert (m["total_wins"], m["total_revenue"]) == (4, 12000)
    # no handoff at all: every buying account with an in-journey demo request comes in late
    # (A0 has none; A3 at 200, A5 at 50)
    none = handoff_metrics(w, play_handoffs(w, quals([])))
    assert (none["wins"], none["revenue"]) == (0, 0)
    assert (none["inbound_wins"], none["inbound_revenue"]) == (4, 2000 + 3000 + 4000 + 6000)
    assert (none["total_wins"], none["total_revenue"]) == (4, 15000)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.floats(0.0, 300.0, allow_nan=False)),
        max_size=8,
    )
)
def test_handoff_and_inbound_deals_never_overlap_and_sum_to_the_totals(handoffs):
    """Whatever the handoffs, an account wins through a handoff or late inbound, never both,
    and the totals are the two parts' sums (exact: whole deal values)."""
    w = make_world(SPLIT_ACCOUNTS, SPLIT_EVENTS)
    r = play_handoffs(w, quals(handoffs))
    by_handoff = set(r.outcomes.loc[r.outcomes["won"], "account_id"])
    by_inbound = set(r.inbound.loc[r.inbound["won"], "account_id"])
    assert not by_handoff & by_inbound
    m = handoff_metrics(w, r)
    assert m["total_wins"] == m["wins"] + m["inbound_wins"] == len(by_handoff | by_inbound)
    assert m["total_revenue"] == m["revenue"] + m["inbound_revenue"]
    assert m["total_revenue"] == sum(1000.0 * (a + 1) for a in by_handoff | by_inbound)


# --------------------------------------------------------------------------------------------
# Lifecycle of one account: duplicates, recycling, dropping, no opportunity
# --------------------------------------------------------------------------------------------

LIFECYCLE_ACCOUNTS = [
    journey(10, 40, 70, 100, "buy"),  # A0
    NOT_IN_MARKET,  # A1
    journey(0, 14, 300, 400, "buy"),  # A2
]


def test_duplicates_and_recycling():
    """recycle_days = 30; one SDR, so a queued account is owned too.

    - A0 at 21.5: accepted, opportunity (at 40) until the decision at 100;
      A0 at 60.5 and 99.5: duplicate; A0 at 100.5: the account is no longer owned, worked
      again (k = 1) and rejected (decided at 100).
    - A1 at 1.0 (Tue 0:00): start 1.0, done 2.0, rejected; recycled until 32.0. A1 at 1.5
      (the SDR is still on it: owned): duplicate; at 31.5: recycling; at 32.5 (Fri): worked
      again, done Mon 35.5, rejected, recycled until 65.5; at 65.0: recycling; at 66.0 (Thu):
      rejected again.
    """
    w = make_world(LIFECYCLE_ACCOUNTS, [], sales={"sdrs": 1})
    handoffs = [
        (0, 21.5),
        (0, 60.5),
        (0, 99.5),
        (0, 100.5),
        (1, 1.0),
        (1, 1.5),
        (1, 31.5),
        (1, 32.5),
        (1, 65.0),
        (1, 66.0),
    ]
    o = play_handoffs(w, quals(handoffs)).outcomes
    assert o["status"].tolist() == [
        "accepted",
        "duplicate",
        "duplicate",
        "rejected",
        "rejected",
        "duplicate",
        "recycling",
        "rejected",
        "recycling",
        "rejected",
    ]
    assert o.loc[3, "reason"] == "no_active_journey"
    np.testing.assert_allclose(o.loc[[0, 3, 4, 7, 9], "t_first_touch"], [21.5, 100.5, 1, 32.5, 66])
    assert (o.loc[o["status"].isin(["duplicate", "recycling"]), "sales_hours"] == 0).all()
    assert o.loc[o["status"].isin(["duplicate", "recycling"]), "t_first_touch"].isna().all()


def test_queued_account_is_owned():
    """One SDR; A1 at Mon 0.0 takes it until Tue 1.0; A2 at 0.25 queues (starts 1.0); a second
    handoff of A2 at 0.5, while the first still waits, is a duplicate."""
    w = make_world(LIFECYCLE_ACCOUNTS, [], sales={"sdrs": 1})
    o = play_handoffs(w, quals([(1, 0.0), (2, 0.25), (2, 0.5)])).outcomes
    assert o["status"].tolist() == ["rejected", "accepted", "duplicate"]
    np.testing.assert_allclose(o["queue_wait_hours"], [0, 18, NAN])


def test_sales_gives_up_on_an_early_handoff():
    """Nurture half-life 1e-9 days: sales gives up right after its first call, before A0's
    journey qualifies at 40: accepted but dropped, no opportunity, and (not being recycled)
    the account can be worked again by the next handoff, which is then an opportunity at once
    (A0 qualified at 40; handoff at 50.5, done 51.5, decision 100: won)."""
    w = make_world(LIFECYCLE_ACCOUNTS, [], sales={"nurture_half_life_days": 1e-9})
    o = play_handoffs(w, quals([(0, 21.5), (0, 50.5)])).outcomes
    assert o["status"].tolist() == ["accepted", "accepted"]
    assert o["reason"].tolist() == ["dropped", ""]
    assert math.isnan(o.loc[0, "t_opportunity"])
    assert o.loc[0, "sales_hours"] == pytest.approx(3.0, abs=1e-6)  # nurtured ~ no time
    assert o.loc[1, "t_opportunity"] == pytest.approx(51.5)
    assert o["won"].tolist() == [False, True]
    assert o.loc[1, "value"] == 1000.0


def test_no_opportunity_when_the_decision_comes_first():
    """A0 at 99.5 (Thu): active at the start, done 100.5, after the decision at 100: accepted,
    no opportunity; A2 at 388.5 (Thu, qualified at 14) done 389.5 < 400: an opportunity."""
    w = make_world(LIFECYCLE_ACCOUNTS, [])
    o = play_handoffs(w, quals([(0, 99.5), (2, 388.5)])).outcomes
    assert o["status"].tolist() == ["accepted", "accepted"]
    assert o["reason"].tolist() == ["no_opportunity", ""]
    assert math.isnan(o.loc[0, "t_opportunity"]) and not o.loc[0, "won"]
    assert o.loc[1, "t_opportunity"] == pytest.approx(389.5)
    assert o.loc[0, "sales_hours"] == pytest.approx(3.0)  # no nurture, no opportunity work


def test_person_outside_the_committee_is_rejected():
    """Lead-level handoffs of A0 (committee c0-c3, noise c4) at 21.5: the noise person is
    rejected (outside_committee), and so is an unknown contact id; a committee member is
    accepted; A1 (not in market) is rejected for that first, whoever the person."""
    accounts = [{**journey(10, 40, 70, 100, "buy"), "committee_size": 4}, NOT_IN_MARKET]
    w = make_world(accounts, [], noise={0: 1})
    cases = [((0, 21.5, 4), "outside_committee"), ((0, 21.5, 999), "outside_committee")]
    cases += [((1, 21.5, 5), "no_active_journey"), ((0, 21.5, 2), "")]
    for handoff, reason in cases:
        o = play_handoffs(w, quals([handoff], policy="lead")).outcomes
        assert o["status"].tolist() == ["rejected" if reason else "accepted"], handoff
        assert o["reason"].tolist() == [reason], handoff

    # Lead precision: MQLs whose person is in the committee of an account in an active
    # journey. Rows: noise person at an active account (no), A1's member at an account not in
    # market (no), a member of active A0 (yes), an unknown person (no): 1/4. Account-level
    # precision: rows 0, 2, 3 are true handoffs: 3/4.
    q = quals([(0, 21.5, 4), (1, 21.5, 5), (0, 30.5, 2), (0, 42.5, 999)], policy="lead")
    m = handoff_metrics(w, play_handoffs(w, q))
    assert m["precision"] == 3 / 4
    assert m["lead_precision"] == 1 / 4


# --------------------------------------------------------------------------------------------
# The SDR queue, by hand
# --------------------------------------------------------------------------------------------

QUEUE_SALES = {
    "sdrs": 1,
    "working_hours": [9.0, 17.0],
    "handoff_share": 0.25,
    "hours_per_handoff": 2.0,  # 2 / 0.25 = 8 working hours: one full day
    "priority_by_tier": True,
    "max_wait_days": 2.0,
    "sla_hours": 24.0,
}
MON_9 = 9 / 24


def test_queue_by_hand():
    """One SDR, a handoff = one working day (9-17). Four handoffs arrive on Monday 9:00 in the
    order A0, A1, A2 (tier 3) and A3 (tier 1); max wait 2 days (until Wednesday 9:00).

    A0 takes the SDR at once (wait 0, done Monday 17:00). Tier 1 jumps the queue: A3 starts
    Tuesday 9:00 (24 h). A1 gets the SDR on Tuesday 17:00 and starts Wednesday 9:00 (48 h);
    A2 would get it on Wednesday 17:00, after its deadline: expired, never followed up.
    Queue wait: (0 + 24 + 48) / 3 = 24 h; SLA 24 h breached by A1 only: 1/3.
    """
    w = make_world([NOT_IN_MARKET] * 4, [], sales=QUEUE_SALES)
    w.accounts.loc[3, "tier"] = 1
    r = play_handoffs(w, quals([(0, MON_9), (1, MON_9), (2, MON_9), (3, MON_9)]))
    o = r.outcomes
    assert o["status"].tolist() == ["rejected", "rejected", "expired", "rejected"]
    np.testing.assert_allclose(o["queue_wait_hours"], [0, 48, NAN, 24], atol=1e-6)
    np.testing.assert_allclose(o["t_first_touch"], [MON_9, 2 + MON_9, NAN, 1 + MON_9], atol=1e-9)
    assert o.loc[2, "sales_hours"] == 0
    m = handoff_metrics(w, r)
    assert m["queue_wait_hours"] == pytest.approx(24)
    assert m["never_followed_up"] == 1
    assert m["sla_breach_rate"] == pytest.approx(1 / 3)
    assert m["false_handoff_hours"] == 3 * 2.0  # the expired one cost nothing


def test_queue_without_tier_priority_is_first_come_first_served():
    """The same four handoffs without tier priority, max wait 5 days: Monday to Thursday."""
    w = make_world(
        [NOT_IN_MARKET] * 4,
        [],
        sales={**QUEUE_SALES, "priority_by_tier": False, "max_wait_days": 5.0},
    )
    w.accounts.loc[3, "tier"] = 1
    o = play_handoffs(w, quals([(0, MON_9), (1, MON_9), (2, MON_9), (3, MON_9)])).outcomes
    np.testing.assert_allclose(o["queue_wait_hours"], [0, 24, 48, 72], atol=1e-6)


def test_sdr_freed_on_friday_evening_starts_on_monday():
    """Six one-day handoffs on Monday 9:00 for one SDR: Monday to Friday, then the sixth starts
    the next Monday at 9:00, a week (168 h) after it arrived."""
    w = make_world([NOT_IN_MARKET] * 6, [], sales={**QUEUE_SALES, "max_wait_days": 10.0})
    o = play_handoffs(w, quals([(a, MON_9) for a in range(6)])).outcomes
    np.testing.assert_allclose(o["queue_wait_hours"], [0, 24, 48, 72, 96, 168], atol=1e-6)


# --------------------------------------------------------------------------------------------
# The work calendar against a plain reference
# --------------------------------------------------------------------------------------------


class RefCalendar:
    """Walk the days one by one (no arithmetic shortcuts)."""

    def __init__(self, workdays: int, hours: tuple[float, float]):
        self.wd, (self.h0, self.h1) = workdays, hours
        self.length = self.h1 - self.h0

    def works(self, day: int) -> bool:
        return day % 7 < self.wd

    def clock(self, t: float) -> float:
        h, day = 0.0, 0
        while day + 1 <= t:
            h += self.length if self.works(day) else 0.0
            day += 1
        if self.works(day):
            h += min(max((t - day) * 24 - self.h0, 0.0), self.length)
        return h

    def start_at(self, h: float) -> float:
        day = 0
        while True:
            if self.works(day):
                if h < self.length:
                    return day + (self.h0 + h) / 24
                h -= self.length
            day += 1

    def end_at(self, h: float) -> float:
        day = 0
        while True:
            if self.works(day):
                if h <= self.length:
                    return day + (self.h0 + h) / 24
                h -= self.length
            day += 1


# Calendars whose day length is exact in binary (the ones a team would write).
CALENDARS = [(5, (9.0, 17.0)), (5, (8.5, 17.25)), (7, (0.0, 24.0)), (3, (6.0, 12.0)), (1, (0, 8))]
TOL = 1e-9  # days (~0.1 ms)


@settings(max_examples=300, deadline=None)
@given(
    cal=st.sampled_from(CALENDARS),
    t=st.floats(0, 400, allow_nan=False),
    dt=st.floats(0, 30, allow_nan=False),
)
def test_calendar_matches_reference(cal, t, dt):
    """clock agrees with the day-by-day reference and is monotone; start_at(clock(t)) is not
    before t, is a working moment, and reads the same clock."""
    c, ref = WorkCalendar(*cal), RefCalendar(*cal)
    h = c.clock(t)
    assert h == pytest.approx(ref.clock(t), abs=1e-9)
    assert c.clock(t + dt) >= h - 1e-9
    s = c.start_at(h)
    assert s >= t - TOL
    assert c.clock(s) == pytest.approx(h, abs=1e-9)
    day = math.floor(s)
    assert day % 7 < c.wd
    assert c.h0 - 1e-6 <= (s - day) * 24 < c.h1  # a start is never at a period's end
    assert c.end_at(h) <= s + TOL


@settings(max_examples=300, deadline=None)
@given(cal=st.sampled_from(CALENDARS), h=st.floats(0, 3000, allow_nan=False))
def test_start_and_end_at_match_reference(cal, h):
    c, ref = WorkCalendar(*cal), RefCalendar(*cal)
    q = h / c.length
    # Readings within rounding error of a period boundary are snapped to it (see the next test).
    assume(abs(q - round(q)) > 1e-11 * max(1.0, q))
    assert c.start_at(h) == pytest.approx(ref.start_at(h), abs=TOL)
    assert c.end_at(h) == pytest.approx(ref.end_at(h), abs=TOL)


def test_readings_at_rounding_distance_from_a_boundary_are_the_boundary():
    c = WorkCalendar(5, (9.0, 17.0))
    for h in (8.0, 8.0 - 4.5e-13, 8.0 + 4.5e-13, 40.0 - 1e-14):
        k = round(h / 8.0)
        assert c.start_at(h) == c.start_at(8.0 * k)  # the next period's start
        assert c.end_at(h) == c.end_at(8.0 * k)  # the previous period's end
    assert c.start_at(8.0) == 1 + 9 / 24 and c.end_at(8.0) == 17 / 24
    assert c.start_at(8.0 - 1e-6) < 17 / 24  # a microsecond-scale reading is not snapped


def test_calendar_known_moments():
    c = WorkCalendar(5, (9.0, 17.0))
    friday_evening = 4 + 20 / 24
    assert c.clock(friday_evening) == 40.0  # a full week's work
    assert c.start_at(c.clock(friday_evening)) == 7 + 9 / 24  # Monday 9:00
    assert c.start_at(c.clock(5.5)) == 7 + 9 / 24  # Saturday noon -> Monday 9:00
    assert c.start_at(c.clock(2 + 12 / 24)) == 2 + 12 / 24  # Wednesday noon: at once
    assert c.start_at(c.clock(2 + 6 / 24)) == 2 + 9 / 24  # Wednesday 6:00 -> 9:00
    assert c.end_at(16.0) == 1 + 17 / 24  # the end of Tuesday, not Wednesday 9:00
    assert c.end_at(0.0) == 9 / 24


def test_calendar_with_decimal_hours_never_starts_before_the_handoff():
    """Working hours 9:00-17:18 (17.3 h): a handoff is never started before it arrives."""
    c = WorkCalendar(5, (9.0, 17.3))
    t = np.random.default_rng(1).uniform(0, 800, 20_000)
    s = np.array([c.start_at(c.clock(x)) for x in t])
    assert (s >= t - TOL).all(), f"{(s < t - TOL).sum()} starts before the handoff"


def test_next_start_after_a_full_day_is_the_next_morning():
    """An SDR done at the end of the k-th working day next starts at day k+1's 9:00."""
    c = WorkCalendar(5, (9.0, 17.0))
    for k in range(1, 60):
        end = c.end_at(8.0 * k)
        assert c.start_at(c.clock(end)) == pytest.approx(c.start_at(8.0 * k), abs=TOL), k


def test_reach_probability_by_hand(small_scenario):
    """floor + (immediate - floor) * 0.5 ** (delay / half-life): 0.9 at once, 0.6 after one
    half-life (4 h), 0.45 after two, -> 0.3."""
    sales = small_scenario().sales
    assert reach_probability(sales, 0.0) == pytest.approx(0.9)
    np.testing.assert_allclose(
        reach_probability(sales, np.array([4.0, 8.0, 1e6])), [0.6, 0.45, 0.3]
    )


def test_enterprise_sales_capacity():
    """4 SDRs x 5 days x 8 h x 0.3 / 2 h = 24 handoffs a week (as enterprise.yaml says)."""
    assert sim.load_scenario("enterprise").sales.capacity_per_week == pytest.approx(24.0)


def test_evening_handoff_with_decimal_hours_waits_for_the_morning():
    """Working hours [9, 17.3]; a handoff on Monday of week 2 at 20:00 (day 7 + 20/24) is
    started on Tuesday 9:00: a wait of 4 + 9 = 13 hours."""
    w = make_world([NOT_IN_MARKET], [], sales={"working_hours": [9.0, 17.3]})
    o = play_handoffs(w, quals([(0, 7 + 20 / 24)])).outcomes
    assert o.loc[0, "t_first_touch"] == pytest.approx(8 + 9 / 24)
    assert o.loc[0, "queue_wait_hours"] == pytest.approx(13.0)


# --------------------------------------------------------------------------------------------
# Simulated worlds
# --------------------------------------------------------------------------------------------


def simulated(small_scenario, preset: str, count: int, seed: int, sales: dict | None = None):
    return sim.simulate(small_scenario(preset, count, {"sales": sales or {}}), seed=seed)


def active_at(world: sim.World, accounts, times) -> np.ndarray:
    """The DESIGN.md definition, computed here from the truth table."""
    tr = world.truth.set_index("account_id").loc[np.asarray(accounts)]
    t = np.asarray(times, dtype=float)
    start = tr["journey_start"].to_numpy(float)
    dec = tr["t_decision"].fillna(np.inf).to_numpy(float)
    return tr["in_market"].to_numpy(bool) & (start <= t) & (t < dec)


def oracle(world: sim.World) -> pd.DataFrame:
    """One handoff per in-market account active in the window, at max(journey_start, 0)."""
    tr = world.truth[world.truth["in_market"] & world.truth["active_in_window"]]
    t = np.maximum(tr["journey_start"].to_numpy(float), 0.0)
    return quals(list(zip(tr["account_id"].tolist(), t.tolist(), strict=True)), "oracle")


@pytest.mark.parametrize(("preset", "count"), [("enterprise", 800), ("smb", 800)])
def test_oracle_has_precision_and_recall_one(small_scenario, preset, count):
    """Handing off every active account at its journey start: every handoff is true, every
    account deciding in the horizon gets one, none is missed, time to qualify is 0 and the
    lead time is the whole visible journey."""
    w = simulated(small_scenario, preset, count, seed=2)
    q = oracle(w)
    assert len(q) > 50
    m = handoff_metrics(w, play_handoffs(w, q))
    assert m["precision"] == 1.0
    assert m["recall"] == 1.0
    assert m["missed_accounts"] == 0
    assert m["time_to_qualify_days"] == 0.0
    tr = w.truth.set_index("account_id").loc[q["account_id"]]
    decided = tr["t_decision"].notna().to_numpy()
    runway = tr["t_decision"].to_numpy() - q["time"].to_numpy()
    assert m["lead_time_days"] == pytest.approx(runway[decided].mean())
    assert m["lead_time_days"] > 0


def test_random_handoffs_have_the_precision_of_chance(small_scenario):
    """Random accounts at random times: each handoff is true with probability p = the share of
    (account, time) pairs, over all accounts and [0, horizon), that lie in an active journey,
    worked out exactly from the truth. Precision is a binomial proportion of N draws: within
    4 standard errors of p."""
    w = simulated(small_scenario, "enterprise", 800, seed=3)
    horizon = w.scenario.horizon_days
    tr = w.truth
    lo = np.clip(tr["journey_start"].fillna(np.inf).to_numpy(), 0, horizon)
    hi = np.clip(tr["t_decision"].fillna(horizon).to_numpy(), 0, horizon)
    inside = np.where(tr["in_market"].to_numpy(bool), np.maximum(hi - lo, 0.0), 0.0)
    p = inside.sum() / (len(tr) * horizon)
    assert 0.02 < p < 0.5  # far from the oracle's 1

    n = 4000
    rng = np.random.default_rng(2024)
    a = rng.integers(0, len(tr), n)
    t = rng.uniform(0, horizon, n)
    m = handoff_metrics(w, play_handoffs(w, quals(list(zip(a, t, strict=True)), "random")))
    se = math.sqrt(p * (1 - p) / n)
    assert abs(m["precision"] - p) < 4 * se, (m["precision"], p, se)


def test_burst_of_handoffs_overloads_the_sdr_queue(small_scenario):
    """Every account handed off on day 1 at 9:00 ("burst") against the same accounts spread
    out ("spread": the accounts in an active journey then still on day 1 at 9:00, the others
    one by one from day 60, at half the team's capacity). The accounts in a journey on day 1
    are handed off at the same moment under both policies, so any difference in what
    happens to them is the queue: in the burst they wait behind hundreds of false handoffs,
    many are never followed up, and fewer become opportunities and wins."""
    w = simulated(small_scenario, "enterprise", 600, seed=7)
    sales = w.scenario.sales
    t1 = 1 + 9 / 24
    ids = w.truth["account_id"].to_numpy()
    true1 = active_at(w, ids, np.full(ids.size, t1))
    assert true1.sum() >= 20
    burst = quals([(a, t1) for a in ids], "burst")
    gap = 2 * 7 / sales.capacity_per_week
    others = [(a, 60 + i * gap) for i, a in enumerate(ids[~true1])]
    spread = quals([(a, t1) for a in ids[true1]] + others, "spread")
    rb, rs = play_handoffs(w, burst), play_handoffs(w, spread)
    mb, ms = handoff_metrics(w, rb), handoff_metrics(w, rs)

    assert mb["never_followed_up"] > len(ids) / 2
    assert ms["never_followed_up"] == 0
    assert mb["queue_wait_hours"] > ms["queue_wait_hours"]
    assert mb["sla_breach_rate"] > ms["sla_breach_rate"]

    ob = rb.outcomes.set_index("account_id").loc[ids[true1]]
    os_ = rs.outcomes[rs.outcomes["t_handoff"] == t1].set_index("account_id").loc[ids[true1]]
    assert (ob["status"] == "expired").sum() > 0
    assert (os_["status"] == "expired").sum() == 0
    worked_b, worked_s = ob["t_first_touch"].notna(), os_["t_first_touch"].notna()
    assert ob["queue_wait_hours"][worked_b].mean() > os_["queue_wait_hours"][worked_s].mean()
    assert ob["t_opportunity"].notna().sum() < os_["t_opportunity"].notna().sum()
    assert ob["won"].sum() <= os_["won"].sum()
    assert ob["value"].sum() <= os_["value"].sum()


def test_common_random_numbers(small_scenario):
    """With SDRs to spare (no queue), an account handed off at the same moments under two
    policies meets exactly the same luck (reach, nurture, win): identical outcome rows, even
    though the other accounts' handoffs differ between the policies."""
    w = simulated(small_scenario, "smb", 600, seed=5, sales={"sdrs": 1000})
    log = sim.EventLog.from_world(w)
    qa = policies.evaluate(policies.load_policy("weighted_titles"), log)
    even = (qa["account_id"] % 2 == 0).to_numpy()
    moved = qa[~even].assign(time=qa["time"][~even] + 3.0)
    rng = np.random.default_rng(9)
    extra = quals(list(zip(rng.integers(0, 300, 40) * 2 + 1, rng.uniform(0, 300, 40), strict=True)))
    qb = pd.concat([qa[even], moved, extra], ignore_index=True).assign(policy="other")
    oa = play_handoffs(w, qa).outcomes
    ob = play_handoffs(w, qb).outcomes
    shared_a = oa[even].drop(columns="policy").reset_index(drop=True)
    shared_b = ob.iloc[: even.sum()].drop(columns="policy").reset_index(drop=True)
    pd.testing.assert_frame_equal(shared_a, shared_b)
    # the shared rows do depend on luck: some reached, some not
    assert {"accepted", "rejected"} <= set(shared_a["status"])
    assert (shared_a["reason"] == "no_response").any()


def test_same_seed_same_outcomes_other_seed_other_luck(small_world):
    log = sim.EventLog.from_world(small_world)
    q = policies.evaluate(policies.load_policy("mqa_count"), log)
    r1, r2 = play_handoffs(small_world, q), play_handoffs(small_world, q)
    pd.testing.assert_frame_equal(r1.outcomes, r2.outcomes)
    pd.testing.assert_frame_equal(r1.inbound, r2.inbound)
    assert play_handoffs(small_world, q, seed=small_world.seed).outcomes.equals(r1.outcomes)
    r3 = play_handoffs(small_world, q, seed=small_world.seed + 1)
    assert not r3.outcomes["status"].equals(r1.outcomes["status"])


@pytest.mark.parametrize("policy", ["mqa_count", "mql_only", "progression_stages"])
def test_outcomes_obey_the_rules(small_scenario, policy):
    """Row by row on a simulated world: every worked handoff starts no earlier than it
    arrived; the reason of a rejection is the first rule that fails (not active at the start,
    person outside the committee, not reached); an accepted account is active when the SDR
    starts; wins go to buying accounts, at their deal value; duplicates, recycling and
    expired handoffs cost nothing."""
    w = simulated(small_scenario, "smb", 500, seed=8, sales={"sdrs": 2})
    q = policies.evaluate(policies.load_policy(policy), sim.EventLog.from_world(w))
    o = play_handoffs(w, q).outcomes
    assert len(o) == len(q) > 0
    assert set(o["status"]) <= set(STATUSES)
    assert (o["true_handoff"] == active_at(w, o["account_id"], o["t_handoff"])).all()
    worked = o["status"].isin(["accepted", "rejected"]).to_numpy()
    ow = o[worked]
    assert (ow["t_first_touch"] >= ow["t_handoff"]).all()
    np.testing.assert_allclose(
        ow["queue_wait_hours"], (ow["t_first_touch"] - ow["t_handoff"]) * 24, atol=1e-6
    )
    act = active_at(w, ow["account_id"], ow["t_first_touch"])
    cmap = w.contacts.set_index("contact_id")["in_committee"]
    cid = ow["contact_id"].to_numpy()
    member = np.where(cid >= 0, cmap.reindex(cid).fillna(False).to_numpy(bool), True)
    reason = ow["reason"].to_numpy()
    assert ((reason == "no_active_journey") == ~act).all()
    assert ((reason == "outside_committee") == (act & ~member)).all()
    assert (ow["status"][reason == "no_response"] == "rejected").all()
    assert act[ow["status"].to_numpy() == "accepted"].all()
    assert (ow["sales_hours"] >= w.scenario.sales.hours_per_handoff - 1e-9).all()
    idle = o[~worked]
    assert (idle["sales_hours"] == 0).all() and idle["t_first_touch"].isna().all()
    tr = w.truth.set_index("account_id")
    won = o[o["won"]]
    assert (tr.loc[won["account_id"], "decision"] == "buy").all()
    np.testing.assert_allclose(won["value"], tr.loc[won["account_id"], "deal_value"])
    opp = o[o["t_opportunity"].notna()]
    assert (opp["status"] == "accepted").all()
    assert (opp["t_opportunity"] >= opp["t_first_touch"]).all()
    assert (o.loc[~o["won"], "value"] == 0).all()
    assert (o.loc[o["open"], "account_id"].map(tr["decision"]) == "").all()


def test_preferred_vendor_wins_at_the_configured_rate(small_scenario):
    """P4: an opportunity of a buying account is won with p = 0.8 when sales came before the
    competitor, 0.2 after. On a large SMB world, always reached, accounts with a competitor
    are handed off just after it came, the others at their journey start; each observed win
    share is within 4 binomial standard errors of its rate."""
    sales = {"sdrs": 1000, "reach": {"immediate": 1.0, "floor": 1.0}}
    w = simulated(small_scenario, "smb", 3000, seed=4, sales=sales)
    q = oracle(w)
    tr = w.truth.set_index("account_id")
    comp = q["account_id"].map(tr["t_competitor"])
    q["time"] = np.where(comp.notna(), comp + 0.25, q["time"])
    o = play_handoffs(w, q).outcomes
    opp = o[o["t_opportunity"].notna() & (o["account_id"].map(tr["decision"]) == "buy")]
    comp = opp["account_id"].map(tr["t_competitor"]).fillna(np.inf)
    first = (opp["t_first_touch"] < comp).to_numpy()
    for mask, p in [(first, 0.8), (~first, 0.2)]:
        n = mask.sum()
        assert n >= 30
        share = opp["won"].to_numpy()[mask].mean()
        assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / n), (share, p, n)
    assert (opp["lost_to_competitor"] == (~opp["won"] & ~first)).all()


def test_late_inbound_baseline_without_handoffs(small_scenario):
    """No handoff at all: the only wins are late inbound ones, from buying accounts that made
    a demo request in their journey (at the first such request), won at win.inbound = 1."""
    w = simulated(small_scenario, "smb", 800, seed=6, sales={"win": {"inbound": 1.0}})
    r = play_handoffs(w, quals([]))
    assert r.outcomes.empty and list(r.outcomes.columns) == OUTCOME_COLUMNS
    ev = w.events[(w.events["activity"] == "demo_request").to_numpy()]
    tr = w.truth.set_index("account_id")
    a = ev["account_id"].to_numpy()
    t = ev["time"].to_numpy()
    in_journey = (tr.loc[a, "decision"] == "buy").to_numpy() & active_at(w, a, t)
    expected = pd.Series(t[in_journey]).groupby(a[in_journey]).min()
    assert len(expected) > 10
    assert r.inbound["account_id"].tolist() == expected.index.tolist()
    np.testing.assert_allclose(r.inbound["t_inbound"], expected.to_numpy())
    assert r.inbound["won"].all()
    np.testing.assert_allclose(r.inbound["value"], tr.loc[expected.index, "deal_value"])
    # buying accounts without a demo request in their journey never come in
    buyers = set(tr.index[tr["decision"] == "buy"])
    assert set(expected.index) < buyers

    m = handoff_metrics(w, r)
    assert m["handoffs"] == 0 and math.isnan(m["precision"])
    assert m["recall"] == 0.0
    assert m["wins"] == 0 and m["total_wins"] == m["inbound_wins"] == len(expected)
    assert m["total_revenue"] == pytest.approx(tr.loc[expected.index, "deal_value"].sum())
    active = (tr["in_market"] & tr["active_in_window"]).sum()
    assert m["missed_accounts"] == active


def test_inbound_luck_is_keyed_by_account(small_scenario):
    """With win.inbound = 0.1, the inbound accounts' luck does not depend on the policy: an
    account that comes in late under two policies is won under both or neither."""
    w = simulated(small_scenario, "smb", 800, seed=6)
    r0 = play_handoffs(w, quals([]))
    q = policies.evaluate(policies.load_policy("mqa_count"), sim.EventLog.from_world(w))
    r1 = play_handoffs(w, q)
    both = r0.inbound.merge(r1.inbound, on="account_id", suffixes=("_0", "_1"))
    assert len(both) > 0
    assert (both["won_0"] == both["won_1"]).all()
    assert (both["t_inbound_0"] == both["t_inbound_1"]).all()
    assert set(r1.inbound["account_id"]) <= set(r0.inbound["account_id"])


@pytest.mark.parametrize(
    ("sales", "path"),
    [
        ({"working_hours": [17, 9]}, "sales.working_hours"),
        ({"working_hours": [9, 25]}, "sales.working_hours"),
        ({"reach": {"floor": 0.9, "immediate": 0.5}}, "sales.reach"),
        ({"reach": {"half_life_hours": 0}}, "sales.reach.half_life_hours"),
        ({"sdrs": 0}, "sales.sdrs"),
        ({"workdays_per_week": 8}, "sales.workdays_per_week"),
        ({"handoff_share": 0.0}, "sales.handoff_share"),
        ({"win": {"preferred": 1.5}}, "sales.win.preferred"),
        ({"max_wait_days": -1}, "sales.max_wait_days"),
        ({"recycle_days": -1}, "sales.recycle_days"),
        ({"sdr": 3}, "sales.sdr"),
    ],
)
def test_bad_sales_config_names_the_field(sales, path):
    with pytest.raises(ConfigError) as exc:
        sim.load_scenario("enterprise", overrides={"sales": sales})
    assert f"{path}:" in str(exc.value)


@settings(max_examples=60, deadline=None)
@given(
    jobs=st.lists(
        st.tuples(
            st.floats(0, 5, allow_nan=False),  # arrival
            st.integers(1, 3),  # priority (tier)
            st.floats(0.01, 3, allow_nan=False),  # service time
        ),
        min_size=1,
        max_size=40,
    ),
    servers=st.integers(1, 3),
)
def test_sdr_team_serves_in_the_order_of_simpy_priority_resource(jobs, servers):
    """The insertion-sorted queue (fast path) grants requests exactly as SimPy's own
    PriorityResource (a full stable sort per request: the reference) does."""
    import simpy

    from sim.sales import SDRTeam

    def run(cls):
        env = simpy.Environment()
        res = cls(env, capacity=servers)
        log = []

        def job(i, arrive, prio, service):
            yield env.timeout(arrive)
            with res.request(priority=prio) as req:
                yield req
                log.append((i, env.now))
                yield env.timeout(service)

        for i, (arrive, prio, service) in enumerate(jobs):
            env.process(job(i, arrive, prio, service))
        env.run()
        return log

    assert run(SDRTeam) == run(simpy.PriorityResource)
