"""What handoffs cause (sim/sales/uplift.py): hand-made worlds where every outcome is certain
(reach 1, win rates 0 or 1), worked out on paper, then the pipeline on simulated worlds.

The hand-made worlds use a calendar of whole working days and a handoff that takes one working
day, 50 SDRs (no queue): an SDR starts on a weekday handoff at once and is done a day later.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import policies
import sim
from sim.config.chain import deep_merge
from sim.experiment.replicate import Replica
from sim.sales import handoff_metrics, play_handoffs
from sim.sales.uplift import (
    UPLIFT_METRICS,
    caused_by_account,
    caused_metrics,
    no_handoff_result,
    totals,
)
from sim.tables import TRUTH as TRUTH_TABLE
from tests.sales.test_handoff import CERTAIN_SALES  # reach 1, win rates 0 or 1

NAN = math.nan
TRUTH = TRUTH_TABLE.names  # every truth column, as sim.simulate writes them


def buyer(start, qualified, decision, competitor=NAN, outcome="buy") -> dict:
    """Truth of an in-market account (value 1000 x (id + 1), set by :func:`make_world`)."""
    return {
        "in_market": True,
        "active_in_window": True,
        "journey_start": start,
        "t_aware": start + 1,
        "t_engaged": start + 2,
        "t_qualified": qualified,
        "t_sales_ready": qualified + 1,
        "t_decision": decision,
        "decision": outcome,
        "t_competitor": competitor,
    }


def make_world(accounts: list[dict], demos: list[tuple[float, int]], sales=None) -> sim.World:
    """A world from truth rows (ids 0..n-1) and demo requests ``(time, account_id)``, each made
    by the account's first contact (two committee members per account)."""
    sc = sim.load_scenario(
        "enterprise", overrides={"sales": deep_merge(CERTAIN_SALES, sales or {})}
    )
    truth = pd.DataFrame(
        [
            {"account_id": a, "deal_value": 1000.0 * (a + 1), "committee_size": 2, **row}
            for a, row in enumerate(accounts)
        ]
    )
    n = len(accounts)
    contacts = pd.DataFrame(
        {
            "contact_id": np.arange(2 * n),
            "account_id": np.repeat(np.arange(n), 2),
            "in_committee": True,
        }
    )
    ev = pd.DataFrame(
        {
            "time": [float(t) for t, _ in demos],
            "account_id": np.array([a for _, a in demos], dtype=np.int64),
            "contact_id": np.array([2 * a for _, a in demos], dtype=np.int64),
            "activity": "demo_request",
        }
    )
    ev["known"] = True
    return sim.World(
        scenario=sc,
        seed=0,
        accounts=pd.DataFrame({"account_id": np.arange(n), "tier": np.full(n, 3)}),
        contacts=contacts,
        events=ev.sort_values(["account_id", "time"]).reset_index(drop=True),
        truth=truth[TRUTH],
        campaigns=pd.DataFrame(),
    )


def quals(rows: list[tuple[int, float]]) -> pd.DataFrame:
    """Account-level qualifications from ``(account_id, time)``."""
    return pd.DataFrame(
        {
            "policy": "hand",
            "account_id": np.array([a for a, _ in rows], dtype=np.int64),
            "contact_id": np.full(len(rows), -1, dtype=np.int64),
            "time": np.array([t for _, t in rows], dtype=np.float64),
            "rule": "hand",
            "score": 1.0,
            "stage": "",
        }
    )


def uplift(world: sim.World, rows: list[tuple[int, float]]) -> dict[str, float]:
    m = handoff_metrics(world, play_handoffs(world, quals(rows)), coverage=False)
    return {k: m[k] for k in ("opportunities", "revenue", *UPLIFT_METRICS)}


# Day 0 is a Monday. A0 buys (journey 10 -> 100, qualified 40) and requests a demo at 50 (a
# Wednesday): without a handoff it comes in late at 50 and is won (inbound win rate 1): 1000.
# A1 buys (20 -> 200, qualified 30, demo at 64): late inbound at 64, won: 2000.
# A2 makes no decision (demo at 57): never inbound.
INBOUND_ACCOUNTS = [
    buyer(10, 40, 100),
    buyer(20, 30, 200),
    buyer(5, 50, 300, outcome="no_decision"),
]
INBOUND_DEMOS = [(50.0, 0), (64.0, 1), (57.0, 2)]


@pytest.fixture(scope="module")
def inbound_world() -> sim.World:
    return make_world(INBOUND_ACCOUNTS, INBOUND_DEMOS)


def test_the_counterfactual_is_the_late_inbound_deals(inbound_world) -> None:
    """No handoff: A0 and A1 come in by themselves and are won (1000 + 2000); A2 never."""
    without = no_handoff_result(inbound_world)
    assert without.outcomes.empty
    assert without.inbound["account_id"].tolist() == [0, 1]
    assert without.inbound["t_inbound"].tolist() == [50.0, 64.0]
    assert totals(without) == (2.0, 2.0, 3000.0)


def test_handing_off_accounts_coming_in_anyway_causes_nothing(inbound_world) -> None:
    """A0 handed off at its demo request (50, Wed): SDR done at 51, qualified already (40):
    opportunity at 51, no competitor, won: 1000 touched. A1 handed off at 64 (Mon): done 65,
    won: 2000 touched. Without the handoffs both came in at the same moments and were won:
    pipeline touched 2 opportunities and 3000, caused 0."""
    m = uplift(inbound_world, [(0, 50.0), (1, 64.0)])
    assert m == {
        "opportunities": 2.0,
        "revenue": 3000.0,
        "opportunities_caused": 0.0,
        "wins_caused": 0.0,
        "revenue_caused": 0.0,
    }


def test_handoffs_after_the_decision_cause_nothing(inbound_world) -> None:
    """A0 at 101 and A1 at 204 (after their decisions at 100 and 200): no active journey,
    rejected; their late inbound deals stand as without the handoffs."""
    m = uplift(inbound_world, [(0, 101.0), (1, 204.0)])
    assert m == dict.fromkeys(["opportunities", "revenue", *UPLIFT_METRICS], 0.0)


def test_a_handoff_after_the_competitor_can_lose_a_deal_inbound_would_win() -> None:
    """A0 (journey 10 -> 100, qualified 40, competitor at 30, demo at 50). Handed off at 43
    (Thursday): done 44, opportunity; the competitor was first, won with p = 0. Without the
    handoff it came in at 50 and was won (inbound 1): 1 opportunity either way, -1 win,
    -1000 revenue."""
    w = make_world([buyer(10, 40, 100, competitor=30)], [(50.0, 0)])
    m = uplift(w, [(0, 43.0)])
    assert m["opportunities_caused"] == 0.0
    assert (m["wins_caused"], m["revenue_caused"]) == (-1.0, -1000.0)


def test_reaching_accounts_before_the_competitor_causes_wins() -> None:
    """Late inbound never wins here (inbound 0). A0 (journey 5 -> 200, qualified 10,
    competitor at 30, demo at 150): without a handoff an inbound opportunity, lost. Handed off
    at 14 (Tue): done 15, before the competitor: won, 1000. A1 (journey 5 -> 200, qualified
    10, competitor at 40, never requests a demo): without a handoff nothing; handed off at 21
    (Mon): won, 2000. A2 (not buying) is left alone. Caused: 1 opportunity (A1's; A0 had one
    anyway), 2 wins, 3000."""
    w = make_world(
        [buyer(5, 10, 200, competitor=30), buyer(5, 10, 200, competitor=40), buyer(5, 10, 90)],
        [(150.0, 0)],
        sales={"win": {"inbound": 0.0}},
    )
    m = uplift(w, [(0, 14.0), (1, 21.0)])
    assert m == {
        "opportunities": 2.0,
        "revenue": 3000.0,
        "opportunities_caused": 1.0,
        "wins_caused": 2.0,
        "revenue_caused": 3000.0,
    }
    by_account = caused_by_account(
        play_handoffs(w, quals([(0, 14.0), (1, 21.0)])), no_handoff_result(w)
    )
    assert by_account["account_id"].tolist() == [0, 1]
    assert by_account["revenue"].tolist() == [1000.0, 2000.0]


# --------------------------------------------------------------------------------------------
# Random handoffs on simulated worlds: only the accounts handed off can change
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def random_world(small_scenario) -> sim.World:
    return sim.simulate(small_scenario("smb", 150), seed=5)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_only_handed_off_accounts_change_and_the_sums_agree(random_world, data) -> None:
    """Random handoffs (accounts, times): the per-account differences against the
    counterfactual are confined to the accounts handed off, and they sum to the metrics."""
    n = len(random_world.accounts)
    rows = data.draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.floats(0.0, 364.0, allow_nan=False)), max_size=40
        )
    )
    result = play_handoffs(random_world, quals(rows))
    without = no_handoff_result(random_world)
    by_account = caused_by_account(result, without)
    assert set(by_account["account_id"]) <= {a for a, _ in rows}
    m = caused_metrics(result, without)
    assert m["opportunities_caused"] == by_account["opportunities"].sum()
    assert m["wins_caused"] == by_account["wins"].sum()
    assert m["revenue_caused"] == pytest.approx(by_account["revenue"].sum(), abs=1e-6)


def test_tiers_add_up_to_the_whole(random_world) -> None:
    q = policies.evaluate(policies.load_policy("mqa_count"), sim.EventLog.from_world(random_world))
    res = play_handoffs(random_world, q)
    whole = handoff_metrics(random_world, res, coverage=False)
    tiers = [
        handoff_metrics(random_world, res, tier=t, coverage=False)
        for t in sorted(set(random_world.accounts["tier"]))
    ]
    for name in UPLIFT_METRICS:
        assert sum(t[name] for t in tiers) == pytest.approx(whole[name], abs=1e-6)


NEVER = {
    "name": "never",
    "kind": "mqa_count",
    "window_days": 1,
    "activities": ["demo_request"],
    "any": [{"unique_contacts": 1000}],
}


def test_no_handoff_causes_exactly_nothing_and_uplift_is_totals_against_it(small_scenario):
    """Through the comparison pipeline: the rule that never hands off causes 0 exactly in every
    replication, and each rule's caused wins and revenue are its totals minus that rule's."""
    cmp = sim.compare(
        small_scenario("smb", 150),
        [policies.load_policy(NEVER), "mqa_count", "mql_only"],
        replications=2,
        seed=3,
    )
    wide = cmp.tidy.pivot_table(index=["policy", "replication"], columns="metric", values="value")
    never = wide.loc["never"]
    assert (never["handoffs"] == 0).all()
    assert (never[list(UPLIFT_METRICS)] == 0).all().all()
    for p in ("mqa_count", "mql_only"):
        got = wide.loc[p]
        assert np.allclose(got["wins_caused"], got["total_wins"] - never["total_wins"])
        assert np.allclose(got["revenue_caused"], got["total_revenue"] - never["total_revenue"])
    assert set(UPLIFT_METRICS) <= set(cmp.summary()["metric"])


def test_the_replica_plays_the_counterfactual_once(small_scenario) -> None:
    rep = Replica.simulate(small_scenario("smb", 80), seed=2)
    res = rep.play(rep.handoffs(policies.load_policy("mqa_count")))
    first = rep.metrics(res, coverage=False)
    cached = rep._without
    assert cached is not None
    rep.metrics(res, coverage=False)
    assert rep._without is cached
    direct = handoff_metrics(rep.world, res, coverage=False)
    assert {k: first[k] for k in UPLIFT_METRICS} == {k: direct[k] for k in UPLIFT_METRICS}
