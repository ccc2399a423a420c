"""Sales touches (``sim.vocab.SALES_ACTIVITIES``): marketing rules ignore them unless they say
``include_sales_touches: true``; naming one without it is a config error; the simulated world
never draws them."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policies
import sim
from policies import reference
from policies.kernels.frame import Frame
from policies.loading import SHIPPED
from sim.errors import ConfigError
from sim.vocab import ACTIVITIES, MARKETING_ACTIVITIES, SALES_ACTIVITIES, is_sales_touch

SHIPPED_NAMES = sorted(p.stem for p in SHIPPED.glob("*.yaml"))
HYP = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def world_log() -> sim.EventLog:
    w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 120}}), seed=5)
    return sim.EventLog.from_world(w)


def with_sales(log: sim.EventLog, seed: int, share: float) -> sim.EventLog:
    """``log`` with sales touches added: about ``share`` of its events copied (same account,
    same or another known contact, a time nudged by up to 3 days) as a random sales activity."""
    rng = np.random.default_rng(seed)
    ev = log.events
    pick = ev[rng.random(len(ev)) < share]
    extra = pd.DataFrame(
        {
            "time": pick["time"].to_numpy(float) + rng.uniform(-3, 3, len(pick)).round(1),
            "account_id": pick["account_id"].to_numpy(),
            "contact_id": pick["contact_id"].to_numpy(),
            "activity": rng.choice(SALES_ACTIVITIES, len(pick)),
        }
    )
    both = pd.concat([ev.astype({"activity": str}), extra], ignore_index=True)
    both["activity"] = pd.Categorical(both["activity"], categories=list(ACTIVITIES))
    both = both.sort_values(["account_id", "time"], kind="stable").reset_index(drop=True)
    return sim.EventLog(both.astype({"time": float}), log.contacts, log.accounts)


@HYP
@given(
    st.lists(st.sampled_from(ACTIVITIES), max_size=40),
    st.lists(st.sampled_from(ACTIVITIES), min_size=1, max_size=4),
    st.integers(1, 8),
    st.booleans(),
)
def test_a_frame_has_an_activity_when_an_event_has_it(acts, asked, block, categorical):
    """``has_activity`` from the counts per code (a block at a time) is the per-event answer,
    for a categorical activity column (codes for every activity) or a plain one."""
    col = pd.Categorical(acts, categories=list(ACTIVITIES)) if categorical else acts
    ev = pd.DataFrame(
        {"time": np.arange(len(acts), dtype=float), "account_id": 0, "contact_id": -1}
    ).assign(activity=col)
    log = sim.EventLog(ev, pd.DataFrame(), pd.DataFrame())
    with patch("policies.kernels.frame.BLOCK_EVENTS", block):
        f = Frame(log)
        assert f.has_activity(asked) == bool(f.activity_in(asked).any())
        assert f.has_activity(asked) == bool(set(acts) & set(asked))


def test_vocabulary_appends_the_sales_activities():
    assert ACTIVITIES[: len(MARKETING_ACTIVITIES)] == MARKETING_ACTIVITIES
    assert set(SALES_ACTIVITIES) == {"call", "meeting", "sales_email", "email_reply", "task"}
    assert [is_sales_touch(a) for a in ("meeting", "webinar")] == [True, False]


def test_the_simulated_world_draws_no_sales_touches(world_log):
    assert not world_log.events["activity"].astype(str).isin(SALES_ACTIVITIES).any()


def test_a_scenario_cannot_give_sales_activities_a_rate():
    over = {"touches": {"contact_rates_per_week": {"engaged": {"meeting": 1.0}}}}
    with pytest.raises(ConfigError, match="meeting"):
        sim.load_scenario("smb", overrides=over)


@HYP
@given(seed=st.integers(0, 2**16), share=st.sampled_from([0.05, 0.3, 1.0]))
def test_every_shipped_rule_hands_off_the_same_with_or_without_sales_touches(
    world_log, seed, share
):
    noisy = with_sales(world_log, seed, share)
    assert noisy.events["activity"].astype(str).isin(SALES_ACTIVITIES).any()
    frame = policies.Frame(noisy)
    for name in SHIPPED_NAMES:
        p = policies.load_policy(name)
        pd.testing.assert_frame_equal(
            policies.evaluate(p, noisy, frame), policies.evaluate(p, world_log), obj=name
        )


# A hand-made account: one person's marketing touch, then three more people in meetings.
EVENTS = pd.DataFrame(
    {
        "time": [0.0, 1.0, 2.0, 3.0, 4.0],
        "account_id": [7, 7, 7, 7, 7],
        "contact_id": [1, 2, 3, 4, 1],
        "activity": ["webinar", "meeting", "meeting", "call", "web_visit"],
    }
)
CONTACTS = pd.DataFrame(
    {"contact_id": [1, 2, 3, 4], "account_id": [7] * 4, "title": ["CISO", "VP IT", "CTO", "CIO"]}
)
LOG = sim.EventLog(EVENTS, CONTACTS, pd.DataFrame({"account_id": [7]}))
FOUR = {"name": "four", "kind": "mqa_count", "window_days": 30, "any": [{"unique_contacts": 4}]}


def test_a_rule_that_opts_in_counts_sales_touches():
    ignoring = policies.load_policy(FOUR)
    assert policies.evaluate(ignoring, LOG).empty  # one person in marketing touches
    seeing = policies.load_policy({**FOUR, "include_sales_touches": True})
    q = policies.evaluate(seeing, LOG)
    # the fourth person (contact 4) joins with the call at day 3
    assert q[["account_id", "time"]].values.tolist() == [[7, 3.0]]
    assert reference.evaluate(seeing, LOG)["time"].tolist() == [3.0]
    assert reference.evaluate(ignoring, LOG).empty


def test_opting_in_makes_the_default_activities_include_sales_touches():
    p = policies.load_policy({**FOUR, "include_sales_touches": True})
    assert set(SALES_ACTIVITIES) <= set(p.activities)
    assert not set(SALES_ACTIVITIES) & set(policies.load_policy(FOUR).activities)


def test_mql_points_on_meetings_count_only_when_opted_in():
    spec = {"name": "m", "kind": "mql", "threshold": 50, "points": {"meeting": 30, "webinar": 20}}
    with pytest.raises(ConfigError, match=r"points\.meeting: 'meeting' is a sales touch"):
        policies.load_policy(spec)
    q = policies.evaluate(policies.load_policy({**spec, "include_sales_touches": True}), LOG)
    assert q.empty  # 30 for contacts 2 and 3, 20 for contact 1: nobody reaches 50
    spec["points"] = {"meeting": 30, "webinar": 20, "web_visit": 30}
    q = policies.evaluate(policies.load_policy({**spec, "include_sales_touches": True}), LOG)
    assert q[["contact_id", "time", "score"]].values.tolist() == [[1, 4.0, 50.0]]


@pytest.mark.parametrize(
    "spec, where",
    [
        ({**FOUR, "activities": ["webinar", "call"]}, r"activities\[1\]"),
        (
            {**FOUR, "any": [{"unique_contacts": 2, "activities": ["task"]}]},
            r"any\[0\]\.activities",
        ),
        (
            {
                "name": "w",
                "kind": "weighted_titles",
                "threshold": 5,
                "window_days": 30,
                "activity_weights": {"email_reply": 2},
            },
            r"activity_weights\.email_reply",
        ),
    ],
)
def test_naming_a_sales_activity_without_opting_in_is_an_error(spec, where):
    with pytest.raises(ConfigError, match=where + r".*include_sales_touches: true"):
        policies.load_policy(spec)


def test_a_member_cannot_see_what_its_combinator_does_not(tmp_path):
    member = {**FOUR, "include_sales_touches": True}
    with pytest.raises(ConfigError, match="add include_sales_touches: true to 'c'"):
        policies.load_policy({"name": "c", "kind": "any", "policies": [member, "mqa_count"]})
    both = policies.load_policy(
        {
            "name": "c",
            "kind": "any",
            "include_sales_touches": True,
            "policies": [member, "mqa_count"],
        }
    )
    assert policies.evaluate(both, LOG)["time"].tolist() == [3.0]


def test_holds_of_an_ignoring_rule_at_a_sales_touch_is_its_answer_before_it():
    one = {"name": "one", "kind": "mqa_count", "window_days": 0.5, "any": [{"min_activities": 1}]}
    # webinar at 0 holds (window [t-0.5, t]); the meetings at 1, 2 and the call at 3 keep the
    # answer of day 0 (True); the web visit at 4 holds again
    assert policies.holds(policies.load_policy(one), LOG).tolist() == [True] * 5
    spaced = policies.load_policy(
        {**one, "any": [{"min_activities": 1, "activities": ["webinar"]}]}
    )
    assert policies.holds(spaced, LOG).tolist() == [True, True, True, True, False]


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_explain_and_stage_entries_ignore_sales_touches(world_log, name):
    noisy = with_sales(world_log, 1, 0.3)
    p = policies.load_policy(name)
    q = policies.evaluate(p, noisy)
    if len(q) and p.kind not in ("any", "all"):  # combinators have no explanation
        a = int(q["account_id"].iloc[0])
        for why in policies.explain(p, noisy, a):
            assert not why.touches["activity"].astype(str).isin(SALES_ACTIVITIES).any()
    if p.kind == "stages":
        pd.testing.assert_frame_equal(
            policies.stage_entries(p, noisy), policies.stage_entries(p, world_log)
        )


@HYP
@given(seed=st.integers(0, 2**16), cut=st.floats(0, 400))
def test_a_rule_that_opts_in_never_looks_ahead(world_log, seed, cut):
    noisy = with_sales(world_log, seed, 0.2)
    p = policies.load_policy({**FOUR, "window_days": 10, "include_sales_touches": True})
    full = policies.evaluate(p, noisy)
    part = policies.evaluate(p, noisy.until(cut))
    pd.testing.assert_frame_equal(
        full[full["time"] <= cut].reset_index(drop=True), part.reset_index(drop=True)
    )


@pytest.mark.parametrize(
    "spec",
    [
        "mqa_count",
        "mql_scored",
        "progression_stages",
        {**FOUR, "include_sales_touches": True, "any": [{"unique_contacts": 2}]},
        {
            "name": "meetings",
            "kind": "mql",
            "include_sales_touches": True,
            "threshold": 40,
            "points": {"meeting": 30, "call": 10, "webinar": 20, "email_reply": -5},
            "decay": {"window_days": 30},
            "recycle_days": 30,
        },
        {
            "name": "sales_stage",
            "kind": "stages",
            "include_sales_touches": True,
            "handoff_stage": "met",
            "stages": [
                {"name": "aware", "when": {"unique_contacts": 1, "window_days": 90}},
                {
                    "name": "met",
                    "when": {"min_activities": 1, "window_days": 30, "activities": ["meeting"]},
                },
            ],
        },
    ],
    ids=lambda s: s if isinstance(s, str) else s["name"],
)
def test_conformance_on_a_log_with_sales_touches(world_log, spec):
    """Every conformance check (contract, untouched input, no look-ahead, sweep = loop,
    explain = evaluate, fast = reference) on a small log with sales touches."""
    small = sim.EventLog(
        world_log.events[world_log.events["account_id"] < 25].reset_index(drop=True),
        world_log.contacts,
        world_log.accounts,
    )
    policies.check_policy(policies.load_policy(spec), with_sales(small, 3, 0.3))
