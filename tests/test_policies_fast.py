"""The fast evaluators agree with the slow reference on random logs and random policies, and
never look ahead (truncating the log after t leaves every handoff at or before t unchanged)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policies
import sim
from policies import reference
from sim.vocab import ACTIVITIES, ROLES, SENIORITIES

HYP = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TITLES = [
    "CISO",
    "VP Engineering",
    "Senior VP, Sales",
    "VPN Administrator",
    "Security Analyst",
    "Intern",
    "Chief Information Security Officer",
    "IT Director",
    "",
]
# Few distinct times (whole and half days): ties and exact window edges happen often.
TIMES = st.integers(0, 80).map(lambda k: k / 2)


@st.composite
def logs(draw) -> sim.EventLog:
    n_acc = draw(st.integers(1, 4))
    rows, contacts, accounts = [], [], []
    cid = 0
    for a in range(n_acc):
        people = list(range(cid, cid + draw(st.integers(0, 5))))
        cid += len(people)
        for c in people:
            contacts.append(
                {
                    "contact_id": c,
                    "account_id": a,
                    "title": draw(st.sampled_from(TITLES)),
                    "seniority": draw(st.sampled_from(SENIORITIES)),
                    "department": draw(st.sampled_from(["security", "it", "finance"])),
                    "role": draw(st.sampled_from([*ROLES, "none"])),
                }
            )
        for _ in range(draw(st.integers(0, 25))):
            who = draw(st.sampled_from([-1, *people])) if people else -1
            rows.append((draw(TIMES), a, who, draw(st.sampled_from(ACTIVITIES))))
        accounts.append(
            {
                "account_id": a,
                "tier": draw(st.integers(1, 3)),
                "icp_fit": draw(st.sampled_from([0.2, 0.5, 0.8])),
            }
        )
    ev = pd.DataFrame(rows, columns=["time", "account_id", "contact_id", "activity"])
    ev = ev.sort_values(["account_id", "time"], kind="stable").reset_index(drop=True)
    con = pd.DataFrame(
        contacts, columns=["contact_id", "account_id", "title", "seniority", "department", "role"]
    )
    return sim.EventLog(ev, con, pd.DataFrame(accounts))


ACTS = st.lists(st.sampled_from(ACTIVITIES), min_size=1, max_size=5, unique=True)


@st.composite
def conditions(draw, need_window: bool = False) -> dict:
    c: dict = {}
    u, m = draw(st.integers(0, 3)), draw(st.integers(0, 5))
    if u == 0 and m == 0:
        u = 1
    if u:
        c["unique_contacts"] = u
    if m:
        c["min_activities"] = m
    if need_window or draw(st.booleans()):
        c["window_days"] = draw(st.sampled_from([0.5, 1, 2, 5, 10, 30]))
    if draw(st.booleans()):
        c["activities"] = draw(ACTS)
    if draw(st.integers(0, 4)) == 0:
        c["include_anonymous"] = draw(st.booleans())
    if draw(st.integers(0, 5)) == 0:
        c["seniority"] = draw(st.lists(st.sampled_from(SENIORITIES), min_size=1, unique=True))
    if draw(st.integers(0, 5)) == 0:
        c["roles"] = draw(st.lists(st.sampled_from(ROLES), min_size=1, unique=True))
    if draw(st.integers(0, 6)) == 0:
        c["tier"] = draw(st.lists(st.integers(1, 3), min_size=1, unique=True))
    if draw(st.integers(0, 6)) == 0:
        c["icp_fit_min"] = draw(st.sampled_from([0.3, 0.6]))
    return c


@st.composite
def groups(draw, depth: int = 0) -> dict:
    op = draw(st.sampled_from(["any", "all", "not"] if depth < 2 else ["any", "all"]))
    child = conditions() if depth >= 1 else st.one_of(conditions(), groups(depth=depth + 1))
    if op == "not":
        return {"not": draw(child)}
    return {op: draw(st.lists(child, min_size=1, max_size=3))}


@st.composite
def mqa_policies(draw) -> dict:
    p = {
        "name": "mqa",
        "kind": "mqa_count",
        "window_days": draw(st.sampled_from([0.5, 1, 3, 10, 30])),
        "include_anonymous": draw(st.booleans()),
        **draw(groups()),
    }
    if draw(st.booleans()):
        p["activities"] = draw(ACTS)
    if draw(st.booleans()):
        p["tiers"] = {draw(st.integers(1, 3)): draw(groups(depth=1))}
    if draw(st.booleans()):
        p["recycle_days"] = draw(st.sampled_from([0.5, 3, 10]))
    return p


POINTS = st.dictionaries(
    st.sampled_from(ACTIVITIES), st.sampled_from([-10.0, -1.0, 1.0, 2.5, 5.0, 30.0]), min_size=1
)


@st.composite
def mql_policies(draw) -> dict:
    p = {
        "name": "mql",
        "kind": "mql",
        "threshold": draw(st.sampled_from([5.0, 10.0, 31.0])),
        "points": draw(POINTS),
    }
    decay = draw(st.sampled_from([None, "half", "window"]))
    if decay == "half":
        p["decay"] = {"half_life_days": draw(st.sampled_from([0.5, 2.0, 10.0]))}
    elif decay == "window":
        p["decay"] = {"window_days": draw(st.sampled_from([0.5, 2.0, 10.0]))}
    if draw(st.booleans()):
        p["fit"] = {
            "seniority": {"c_level": 5.0, "vp": 3.0},
            "titles": [{"match": ["ciso"], "points": 4.0}],
        }
    if draw(st.booleans()):
        p["recycle_days"] = draw(st.sampled_from([1.0, 10.0]))
    return p


@st.composite
def title_policies(draw) -> dict:
    p = {
        "name": "titles",
        "kind": "weighted_titles",
        "threshold": draw(st.sampled_from([3.0, 8.0, 20.0])),
        "activity_weights": draw(
            st.dictionaries(
                st.sampled_from(ACTIVITIES), st.sampled_from([0.0, 1.0, 2.0, 10.0]), min_size=1
            )
        ),
        "title_weights": [
            {"match": ["ciso", "chief information security"], "weight": 5.0},
            {"match": ["vp"], "weight": 3.0},
            {"match": ["analyst", "intern"], "weight": 0.5},
        ],
        "default_title_weight": draw(st.sampled_from([0.0, 1.0])),
        "include_anonymous": draw(st.booleans()),
    }
    if draw(st.booleans()):
        p["window_days"] = draw(st.sampled_from([0.5, 2.0, 10.0]))
    else:
        p["decay"] = {"half_life_days": draw(st.sampled_from([0.5, 2.0, 10.0]))}
    if draw(st.booleans()):
        p["recycle_days"] = draw(st.sampled_from([1.0, 10.0]))
    return p


@st.composite
def stage_policies(draw) -> dict:
    n = draw(st.integers(1, 4))
    stages = [{"name": f"s{k}", "when": draw(conditions(need_window=True))} for k in range(n)]
    return {
        "name": "stages",
        "kind": "stages",
        "stages": stages,
        "handoff_stage": f"s{draw(st.integers(0, n - 1))}",
        "include_anonymous": draw(st.booleans()),
    }


MEMBER = st.one_of(mqa_policies(), mql_policies(), title_policies(), stage_policies())


@st.composite
def combinators(draw) -> dict:
    members = draw(st.lists(MEMBER, min_size=1, max_size=3))
    for i, m in enumerate(members):
        m["name"] = f"m{i}"
    p = {"name": "combo", "kind": draw(st.sampled_from(["any", "all"])), "policies": members}
    if draw(st.booleans()):
        p["recycle_days"] = draw(st.sampled_from([1.0, 10.0]))
    return p


ANY_POLICY = st.one_of(MEMBER, combinators())


def _same(fast: pd.DataFrame, ref: pd.DataFrame) -> None:
    cols = ["account_id", "contact_id", "time", "rule", "stage"]
    a = fast[cols].reset_index(drop=True)
    b = ref[cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    np.testing.assert_allclose(
        fast["score"].to_numpy(float), ref["score"].to_numpy(float), rtol=1e-9, atol=1e-9
    )


@HYP
@given(log=logs(), spec=ANY_POLICY)
def test_fast_equals_reference(log, spec):
    policy = policies.load_policy(spec)
    _same(policies.evaluate(policy, log), reference.evaluate(policy, log))


@HYP
@given(log=logs(), spec=stage_policies())
def test_fast_stage_entries_equal_reference(log, spec):
    policy = policies.load_policy(spec)
    fast = policies.stage_entries(policy, log).reset_index(drop=True)
    ref = reference.stage_entries(policy, log).reset_index(drop=True)
    pd.testing.assert_frame_equal(fast, ref, check_dtype=False)


@HYP
@given(log=logs(), spec=ANY_POLICY, cut=TIMES)
def test_no_look_ahead(log, spec, cut):
    policy = policies.load_policy(spec)
    full = policies.evaluate(policy, log)
    cut_log = policies.evaluate(policy, log.until(cut))
    _same(full[full["time"] <= cut], cut_log)


@pytest.mark.parametrize("name", ["mqa_count", "mql_only", "weighted_titles", "progression_stages"])
def test_shipped_policies_fast_equals_reference_on_a_simulated_world(name):
    w = sim.simulate(sim.load_scenario("enterprise", overrides={"accounts": {"count": 25}}), seed=4)
    log = sim.EventLog.from_world(w)
    policy = policies.load_policy(name)
    _same(policies.evaluate(policy, log), reference.evaluate(policy, log))


def test_input_log_is_not_modified():
    w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 30}}), seed=5)
    log = sim.EventLog.from_world(w)
    before = log.events.copy()
    for name in ("mqa_count", "mql_only", "weighted_titles", "progression_stages"):
        policies.evaluate(policies.load_policy(name), log)
    pd.testing.assert_frame_equal(log.events, before)


def test_empty_log_gives_no_handoffs():
    log = sim.EventLog(
        pd.DataFrame({"time": [], "account_id": [], "contact_id": [], "activity": []}),
        pd.DataFrame({"contact_id": [], "account_id": [], "title": []}),
        pd.DataFrame({"account_id": []}),
    )
    for name in ("mqa_count", "mql_only", "weighted_titles", "progression_stages"):
        q = policies.evaluate(policies.load_policy(name), log)
        assert len(q) == 0
        assert list(q.columns) == [
            "policy",
            "account_id",
            "contact_id",
            "time",
            "rule",
            "score",
            "stage",
        ]
