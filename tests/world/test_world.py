"""The simulated world: reproducibility, account-level stability, invariants of its tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.vocab import ACTIVITIES, NO_ROLE, ROLES, SENIORITIES


def _account_rows(world: sim.World, ids) -> dict[str, pd.DataFrame]:
    """Every table restricted to some accounts, with a clean index (for equality checks)."""
    out = {}
    for name in ("accounts", "contacts", "truth", "events"):
        df = getattr(world, name)
        out[name] = df[df["account_id"].isin(ids)].reset_index(drop=True)
    return out


def test_same_seed_gives_identical_tables(small_scenario):
    sc = small_scenario(count=50)
    a, b = sim.simulate(sc, seed=5), sim.simulate(sc, seed=5)
    for name, df in a.tables().items():
        pd.testing.assert_frame_equal(df, b.tables()[name], check_exact=True)


def test_different_seed_gives_a_different_world(small_scenario):
    sc = small_scenario(count=50)
    a, b = sim.simulate(sc, seed=5), sim.simulate(sc, seed=6)
    assert not a.accounts["icp_fit"].equals(b.accounts["icp_fit"])
    assert len(a.events) != len(b.events) or not a.events["time"].equals(b.events["time"])


def test_adding_accounts_leaves_existing_accounts_unchanged(small_scenario):
    few = sim.simulate(small_scenario(count=40), seed=3)
    more = sim.simulate(small_scenario(count=75), seed=3)
    ids = range(40)
    x, y = _account_rows(few, ids), _account_rows(more, ids)
    for name in x:
        pd.testing.assert_frame_equal(x[name], y[name], check_exact=True, check_categorical=False)
    assert len(y["events"]) > 0


def test_editing_one_campaign_moves_only_its_own_touches(small_scenario):
    # A campaign without speed-up only adds touches: changing its lift must leave every other
    # touch (base and other campaigns) exactly as it was, for every account.
    base = small_scenario(count=80)
    camps = [c.model_dump() for c in base.campaigns]
    i = next(k for k, c in enumerate(camps) if c["name"] == "abm-display-tier1")
    camps[i] = {**camps[i], "lift": 4.0, "progression_speedup": 0.0}
    before = [dict(c) for c in camps]
    before[i] = {**before[i], "lift": 2.0}
    a = sim.simulate(sim.load_scenario(base, overrides={"campaigns": before}), seed=9)
    b = sim.simulate(sim.load_scenario(base, overrides={"campaigns": camps}), seed=9)
    keep_a = a.events[a.events["campaign_id"] != i].reset_index(drop=True)
    keep_b = b.events[b.events["campaign_id"] != i].reset_index(drop=True)
    pd.testing.assert_frame_equal(keep_a, keep_b, check_exact=True)
    pd.testing.assert_frame_equal(a.truth, b.truth, check_exact=True)
    assert (b.events["campaign_id"] == i).sum() > (a.events["campaign_id"] == i).sum()


def test_stage_times_are_ordered_and_reached_in_order(small_world):
    t = small_world.truth
    cols = ["journey_start", "t_aware", "t_engaged", "t_qualified", "t_sales_ready", "t_decision"]
    times = t[cols].to_numpy()
    im = t["in_market"].to_numpy()
    assert np.isnan(times[~im]).all(), "accounts not in market have no journey"
    sub = times[im]
    assert np.isfinite(sub[:, 0]).all()
    # Once a stage is not reached within the horizon, no later one is — except the decision of
    # a journey that stalled early (after aware or engaged), which ends in no decision.
    reached = np.isfinite(sub)
    stalled = reached[:, 5] & ~reached[:, 3]
    assert (t.loc[im, "decision"].to_numpy()[stalled] == "no_decision").all()
    stages = reached[:, :5]
    assert (stages[:, 1:] <= stages[:, :-1]).all()
    assert (reached[~stalled, 5] <= reached[~stalled, 4]).all()
    last = np.nanmax(np.where(reached[:, :5], sub[:, :5], -np.inf), axis=1)
    assert (sub[reached[:, 5], 5] >= last[reached[:, 5]]).all()
    both = stages[:, 1:] & stages[:, :-1]
    diffs = np.diff(np.where(stages, sub[:, :5], 0.0), axis=1)
    assert (diffs[both] >= 0).all()
    assert (sub[reached] < small_world.scenario.horizon_days).all()
    decided = reached[:, -1]
    assert set(t.loc[im, "decision"][decided]) <= {"buy", "no_decision"}
    assert (t.loc[~np.isfinite(t["t_decision"]), "decision"] == "").all()


def test_competitor_engages_only_during_the_journey(small_world):
    t = small_world.truth
    c = t[t["t_competitor"].notna()]
    assert c["in_market"].all()
    assert (c["t_competitor"] >= c["journey_start"]).all()
    decided = c["t_decision"].notna()
    assert (c.loc[decided, "t_competitor"] < c.loc[decided, "t_decision"]).all()


def test_journey_rates_start_only_when_a_member_joins(small_scenario):
    # Structure: every journey-stage segment of a member starts at or after its join time, and
    # before joining (like any member of an account not in market) it emits background only.
    from sim.rng import Streams
    from sim.world.accounts import draw_accounts, draw_contacts
    from sim.world.journeys import join_times, walk_journeys
    from sim.world.segments import SEG_BACKGROUND, build_segments

    sc, streams = small_scenario(count=150), Streams(13)
    accounts = draw_accounts(sc, streams)
    contacts = draw_contacts(sc, streams, accounts)
    _, rec = walk_journeys(sc, streams, accounts)
    t_join = join_times(sc, streams, accounts, contacts, rec)
    seg, _ = build_segments(sc, streams, accounts, contacts, rec, t_join)
    members = seg.table[(seg.table["contact_id"] >= 0) & (seg.table["camp"] < 0)]
    joined = t_join[members["contact_id"].to_numpy()]
    journey = members["code"].between(1, 5).to_numpy()  # the five journey stages
    assert journey.any()
    assert (members["start"].to_numpy()[journey] >= joined[journey] - 1e-9).all()
    before = (members["code"] == SEG_BACKGROUND).to_numpy() & np.isfinite(joined)
    assert (members["end"].to_numpy()[before] <= joined[before] + 1e-9).all()


def test_members_touch_more_after_joining(small_world):
    # Per member-day, always-known email opens before joining (background, 0.3/week in the
    # preset) against between joining and the decision (0.6-0.8/week): at least 1.5x more.
    w = small_world
    con = w.contacts[w.contacts["t_joined"].notna()].set_index("contact_id")
    H = w.scenario.horizon_days
    dec = w.truth.set_index("account_id")["t_decision"].fillna(H)
    joined = np.clip(con["t_joined"].to_numpy(), 0, H)
    ends = np.clip(dec.reindex(con["account_id"]).to_numpy(), 0, H)
    opens = w.events[
        (w.events["activity"] == "email_open") & w.events["contact_id"].isin(con.index)
    ]
    tj = np.clip(con.loc[opens["contact_id"], "t_joined"].to_numpy(), 0, H)
    te = np.clip(dec.reindex(con.loc[opens["contact_id"], "account_id"]).to_numpy(), 0, H)
    t = opens["time"].to_numpy()
    rate_before = (t < tj).sum() / joined.sum()
    rate_during = ((t >= tj) & (t < te)).sum() / np.clip(ends - joined, 0, None).sum()
    assert rate_during > 1.5 * rate_before, (rate_before * 7, rate_during * 7)


def test_members_join_at_different_times(small_world):
    con = small_world.contacts
    members = con[con["in_committee"] & con["t_joined"].notna()]
    joined = members.groupby("account_id")["t_joined"]
    spread = joined.agg(lambda s: s.max() - s.min())[joined.size() >= 2]
    assert len(spread) > 5
    assert (spread > 0).mean() > 0.9
    # Accounts not in market have nobody in a journey.
    im = small_world.truth.set_index("account_id")["in_market"]
    assert im.reindex(members["account_id"]).all()


def test_join_order_follows_roles(small_scenario):
    # Champions join early, decision makers late, procurement last (enterprise preset).
    w = sim.simulate(small_scenario(count=1500), seed=2)
    con = w.contacts[w.contacts["in_committee"] & w.contacts["t_joined"].notna()]
    start = w.truth.set_index("account_id")["journey_start"]
    rel = con["t_joined"].to_numpy() - start.reindex(con["account_id"]).to_numpy()
    med = pd.Series(rel).groupby(con["buying_role"].to_numpy()).median()
    assert med["champion"] < med["influencer"] < med["decision_maker"] < med["procurement"]


def test_tables_follow_the_data_contract(small_world):
    w = small_world
    assert list(w.accounts.columns) == [
        "account_id",
        "name",
        "tier",
        "industry",
        "employees",
        "icp_fit",
        "is_target",
    ]
    for col in ("in_market", "t_decision", "t_competitor", "deal_value"):
        assert col not in w.accounts.columns, f"ground truth {col} leaked into accounts"
    assert w.accounts["icp_fit"].between(0, 1).all()
    assert set(w.accounts["tier"]) <= set(w.scenario.accounts.tiers)
    assert set(w.contacts["seniority"]) <= set(SENIORITIES)
    assert set(w.contacts["buying_role"]) <= {*ROLES, NO_ROLE}
    assert ((w.contacts["buying_role"] == NO_ROLE) == ~w.contacts["in_committee"]).all()
    # what the CRM shows is a persona role from the title, or nothing
    assert set(w.contacts["role"]) <= {"decision_maker", "influencer", "user", "procurement", ""}
    assert w.contacts["title"].str.len().gt(0).all()
    ev = w.events
    assert set(ev["activity"].astype(str)) <= set(ACTIVITIES)
    assert ev["time"].between(0, w.scenario.horizon_days, inclusive="left").all()
    assert (ev["known"] == (ev["contact_id"] >= 0)).all()
    key = ev["account_id"].to_numpy() * 1e4 + ev["time"].to_numpy()
    assert (np.diff(key) >= 0).all(), "events must be sorted by (account_id, time)"
    # Each known touch's contact belongs to the touch's account.
    owner = w.contacts.set_index("contact_id")["account_id"]
    known = ev[ev["contact_id"] >= 0]
    assert (owner.loc[known["contact_id"]].to_numpy() == known["account_id"].to_numpy()).all()
    ids = w.campaigns["campaign_id"]
    assert set(ev["campaign_id"]) <= {-1, *ids}


def test_committee_roles_are_filled_in_order(small_world):
    con = small_world.contacts
    sizes = small_world.truth.set_index("account_id")["committee_size"]
    for acc, grp in con[con["in_committee"]].groupby("account_id"):
        roles = grp["buying_role"].tolist()
        assert len(roles) == sizes[acc]
        assert roles.count("decision_maker") == 1
        if len(roles) >= 2:
            assert roles.count("champion") == 1
        if len(roles) >= small_world.scenario.committee.procurement_min_size:
            assert roles.count("procurement") == 1
        assert roles.count("blocker") <= 1


@pytest.mark.parametrize("preset", ["enterprise", "smb"])
def test_committee_sizes_stay_within_each_tiers_bounds(small_scenario, preset):
    w = sim.simulate(small_scenario(preset, count=300), seed=4)
    sizes = w.contacts.groupby("account_id")["in_committee"].sum()
    tiers = w.accounts.set_index("account_id")["tier"]
    for tier, spec in w.scenario.accounts.tiers.items():
        s = sizes[tiers[tiers == tier].index]
        assert s.min() >= spec.committee_size.min
        assert s.max() <= spec.committee_size.max


def test_world_writes_parquet_and_csv(tmp_path, small_scenario):
    w = sim.simulate(small_scenario(count=15), seed=1)
    written = w.write(tmp_path / "pq")
    assert {p.name for p in written} >= {"accounts.parquet", "events.parquet", "truth.parquet"}
    back = pd.read_parquet(tmp_path / "pq" / "events.parquet")
    pd.testing.assert_frame_equal(back, w.events)
    w.write(tmp_path / "csv", fmt="csv")
    back = pd.read_csv(
        tmp_path / "csv" / "contacts.csv", keep_default_na=False, na_values={"t_joined": [""]}
    )
    assert back["contact_id"].tolist() == w.contacts["contact_id"].tolist()
    assert not list(tmp_path.rglob("*.partial"))
