"""Account progression, campaign influence and the double funnel (sim/progression.py), checked
against plain per-account Python on a small simulated world."""

from __future__ import annotations

import math

import numpy as np
import pytest

import policies
import sim
from sim.sales.funnel import double_funnel
from sim.sales.handoff import play_handoffs
from sim.world.data_quality import CLEAN  # the world as drawn, without messy data
from sim.world.progression import (
    ACCOUNT_STAGES,
    LATENT,
    STAGE_NAMES,
    campaign_influence,
    progression,
    stage_distribution,
)


@pytest.fixture(scope="module")
def world() -> sim.World:
    sc = sim.load_scenario(
        "enterprise", overrides={"accounts": {"count": 400}, "data_quality": CLEAN}
    )
    return sim.simulate(sc, seed=11)


def _stage_of(row, t: float) -> str:
    """Plain reference: the account stage of one truth row at time t."""
    if not row.in_market:
        return "out_of_market"
    names = ["unaware", "aware", "engaged", "qualified", "sales_ready"]
    stage = "out_of_market"
    for col, name in zip(LATENT[:5], names, strict=True):
        v = getattr(row, col)
        if not math.isnan(v) and v <= t:
            stage = name
    if not math.isnan(row.t_decision) and row.t_decision <= t:
        stage = "customer" if row.decision == "buy" else "no_decision"
    return stage


def test_stage_distribution_matches_per_account_reference(world: sim.World) -> None:
    times = [0.0, 100.0, 365.5, 729.0]
    got = stage_distribution(world, times)
    assert list(got.columns) == ["time", *ACCOUNT_STAGES]
    for i, t in enumerate(times):
        expected = {s: 0 for s in ACCOUNT_STAGES}
        for row in world.truth.itertuples():
            expected[_stage_of(row, t)] += 1
        assert got.iloc[i][ACCOUNT_STAGES].to_dict() == expected
    # every account is somewhere; customers only accumulate
    assert (got[ACCOUNT_STAGES].sum(axis=1) == len(world.truth)).all()
    assert (np.diff(got["customer"].to_numpy()) >= 0).all()


def test_progression_matches_plain_counts(world: sim.World) -> None:
    p = progression(world)
    assert list(p["stage"]) == STAGE_NAMES[:-1]
    tr = world.truth[world.truth["in_market"]]
    for k, r in enumerate(p.itertuples()):
        entered = progressed = 0
        days = []
        for row in tr.itertuples():
            a, b = getattr(row, LATENT[k]), getattr(row, LATENT[k + 1])
            if not math.isnan(a) and a >= 0:
                entered += 1
                if not math.isnan(b):
                    progressed += 1
                    days.append(b - a)
        assert (r.entered, r.progressed) == (entered, progressed)
        assert r.rate == pytest.approx(progressed / entered)
        assert r.median_days == pytest.approx(float(np.median(days)))


def test_campaign_groups_partition_the_accounts(world: sim.World) -> None:
    c = campaign_influence(world)
    total = progression(world).set_index("stage")["entered"]
    assert set(c["campaign"]) == set(world.campaigns["name"])
    for (_, stage), g in c.groupby(["campaign", "stage"]):
        assert sorted(g["group"]) == ["exposed", "unexposed"]
        assert g["entered"].sum() == total[stage]
    # exposure means at least one touch tagged with the campaign
    ev = world.events
    name = world.campaigns["name"].iloc[0]
    touched = ev.loc[ev["campaign_id"] == 0, "account_id"].unique()
    in_market = world.truth.set_index("account_id")["in_market"]
    t_aware = world.truth.set_index("account_id")["t_aware"]
    aware_exposed = sum(1 for a in touched if in_market[a] and t_aware[a] >= 0)
    row = c[(c["campaign"] == name) & (c["group"] == "exposed") & (c["stage"] == "aware")]
    assert int(row["entered"].iloc[0]) == aware_exposed


def test_double_funnel_counts_and_conversions(world: sim.World) -> None:
    log = sim.EventLog.from_world(world)
    for name in ("mql_only", "mqa_count"):
        q = policies.evaluate(policies.load_policy(name), log)
        res = play_handoffs(world, q)
        f = double_funnel(world, res)
        acc = f[f["funnel"] == "account"].set_index("step")["count"]
        o = res.outcomes
        assert acc["handed off"] == o["account_id"].nunique()
        assert acc["accepted"] == o.loc[o["accepted"], "account_id"].nunique()
        assert acc["won"] == o.loc[o["won"], "account_id"].nunique()
        lead = f[f["funnel"] == "lead"]["count"].to_numpy()
        if name == "mqa_count":  # account-level: no person is handed off
            assert (lead[1:] == 0).all()
        else:
            assert lead[1] == o.loc[o["contact_id"] >= 0, "contact_id"].nunique() > 0
        for _, g in f.groupby("funnel"):
            counts = g["count"].to_numpy(float)
            conv = g["conversion"].to_numpy()
            assert math.isnan(conv[0])
            for i in range(1, len(counts)):
                if counts[i - 1]:
                    assert conv[i] == pytest.approx(counts[i] / counts[i - 1])
            assert (np.diff(counts) <= 0).all()  # a funnel only narrows
