"""The fast evaluators agree with the slow reference on random logs and random policies, and
never look ahead (truncating the log after t leaves every handoff at or before t unchanged)."""

from __future__ import annotations

from typing import Literal
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policies
import sim
from policies import reference
from policies.kernels import rule, sweep, touches
from policies.kernels.views import policy_view
from policies.kinds import mqa
from policies.kinds.combinators import per_event
from policies.sales_touches import sales_named
from sim.errors import ConfigError, DataError, QualsimError
from sim.vocab import ACTIVITIES, ROLES, SENIORITIES, SYSTEM_ACTIVITIES

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
    "Student",
    "PhD Student",
    "IT Intern",
    "Internal Auditor",  # "intern" is a whole word: not excluded by it
    "Job Seeker",
    None,  # no title recorded
]
# exclude_titles phrases: some match the titles above, some as part of a word only.
EXCLUDED = ["student", "intern", "vp", "chief information security", "job seeker", "analyst"]
# Few distinct times (whole and half days): ties and exact window edges happen often.
TIMES = st.integers(0, 80).map(lambda k: k / 2)


# Dense logs: a few people touching often within days, so that contacts have several touches
# in one window (engagement depth per person).
DENSE_TIMES = st.integers(0, 24).map(lambda k: k / 2)
# What a policy may name: every activity but the system events (logs have those too).
NAMEABLE = [a for a in ACTIVITIES if a not in SYSTEM_ACTIVITIES]
DENSE_ACTIVITIES = ["web_visit", "email_click", "content_download", "webinar", "email_open"]


@st.composite
def logs(draw, dense: bool = False) -> sim.EventLog:
    n_acc = draw(st.integers(1, 4))
    times = DENSE_TIMES if dense else TIMES
    activities = st.sampled_from(DENSE_ACTIVITIES if dense else ACTIVITIES)
    rows, contacts, accounts = [], [], []
    cid = 0
    for a in range(n_acc):
        people = list(range(cid, cid + draw(st.integers(1, 3) if dense else st.integers(0, 5))))
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
        for _ in range(draw(st.integers(5, 30) if dense else st.integers(0, 25))):
            who = draw(st.sampled_from([-1, *people])) if people else -1
            rows.append((draw(times), a, who, draw(activities)))
        accounts.append(
            {
                "account_id": a,
                "tier": draw(st.integers(1, 3)),
                "icp_fit": draw(st.sampled_from([0.2, 0.5, 0.8])),
            }
        )
    if contacts and draw(st.integers(0, 4)) == 0:  # a contact missing from the contacts table
        contacts.pop(draw(st.integers(0, len(contacts) - 1)))
    ev = pd.DataFrame(rows, columns=["time", "account_id", "contact_id", "activity"])
    ev = ev.sort_values(["account_id", "time"], kind="stable").reset_index(drop=True)
    if draw(st.booleans()):  # a categorical activity column, as simulated logs have
        cats = draw(st.permutations(ACTIVITIES))
        ev["activity"] = pd.Categorical(ev["activity"], categories=cats)
    if draw(st.booleans()):  # int32 ids, as simulated logs have
        ev = ev.astype({"account_id": np.int32, "contact_id": np.int32})
    con = pd.DataFrame(
        contacts, columns=["contact_id", "account_id", "title", "seniority", "department", "role"]
    )
    return sim.EventLog(ev, con, pd.DataFrame(accounts))


ACTS = st.lists(st.sampled_from(NAMEABLE), min_size=1, max_size=5, unique=True)
SOME_LOGS = st.one_of(logs(), logs(dense=True))


def _sales(p: dict, opt_in: bool) -> dict:
    """``p`` including sales touches when ``opt_in``, when it names one (a policy that ignores
    them may not) or when a member does (members see what their combinator sees)."""
    members = p.get("policies", [])
    if opt_in or sales_named(p) or any(m.get("include_sales_touches") for m in members):
        return {**p, "include_sales_touches": True}
    return p


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
    if draw(st.integers(0, 2)) == 0:
        c["min_touches_per_contact"] = draw(st.integers(1, 4))
    if draw(st.integers(0, 3)) == 0:
        c["exclude_titles"] = draw(st.lists(st.sampled_from(EXCLUDED), min_size=1, unique=True))
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
    return _sales(p, draw(st.booleans()))


POINTS = st.dictionaries(
    st.sampled_from(NAMEABLE), st.sampled_from([-10.0, -1.0, 1.0, 2.5, 5.0, 30.0]), min_size=1
)
# No points below 0 (the first handoff at a touch, policies/kinds/mql.py). The second table
# scores the dense logs' activities, so that a contact often reaches 5 or 10 with two touches
# exactly a window apart. More MQL cases: tests/policies/test_lead_scores.py.
NONNEGATIVE_POINTS = st.dictionaries(
    st.sampled_from(NAMEABLE), st.sampled_from([0.0, 1.0, 2.5, 5.0, 30.0]), min_size=1
) | st.dictionaries(st.sampled_from(DENSE_ACTIVITIES), st.sampled_from([2.5, 5.0]), min_size=3)


@st.composite
def mql_policies(draw) -> dict:
    """An ``mql`` policy, with thresholds the fit points reach alone (3, 5)."""
    p = {
        "name": "mql",
        "kind": "mql",
        "threshold": draw(st.sampled_from([3.0, 5.0, 10.0, 31.0])),
        "points": draw(st.one_of(POINTS, NONNEGATIVE_POINTS)),
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
    return _sales(p, draw(st.booleans()))


@st.composite
def title_policies(draw) -> dict:
    p = {
        "name": "titles",
        "kind": "weighted_titles",
        "threshold": draw(st.sampled_from([3.0, 8.0, 20.0])),
        "activity_weights": draw(
            st.dictionaries(
                st.sampled_from(NAMEABLE), st.sampled_from([0.0, 1.0, 2.0, 10.0]), min_size=1
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
    return _sales(p, draw(st.booleans()))


@st.composite
def stage_policies(draw) -> dict:
    n = draw(st.integers(1, 4))
    stages = [{"name": f"s{k}", "when": draw(conditions(need_window=True))} for k in range(n)]
    p = {
        "name": "stages",
        "kind": "stages",
        "stages": stages,
        "handoff_stage": f"s{draw(st.integers(0, n - 1))}",
        "include_anonymous": draw(st.booleans()),
    }
    return _sales(p, draw(st.booleans()))


MEMBER = st.one_of(mqa_policies(), mql_policies(), title_policies(), stage_policies())


@st.composite
def combinators(draw) -> dict:
    members = draw(st.lists(MEMBER, min_size=1, max_size=3))
    for i, m in enumerate(members):
        m["name"] = f"m{i}"
    p = {"name": "combo", "kind": draw(st.sampled_from(["any", "all"])), "policies": members}
    if draw(st.booleans()):
        p["recycle_days"] = draw(st.sampled_from([1.0, 10.0]))
    return _sales(p, draw(st.booleans()))


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


@pytest.mark.parametrize(
    "name",
    ["mqa_count", "mql_only", "weighted_titles", "progression_stages", "mql_scored", "mqa_depth"],
)
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


# --------------------------------------------------------------------------- the fast MQA path


@st.composite
def monotone_groups(draw, depth: int = 0) -> dict:
    """``any`` / ``all`` groups only: the rules the counting-touch path evaluates."""
    op = draw(st.sampled_from(["any", "all"]))
    child = conditions() if depth >= 1 else st.one_of(conditions(), monotone_groups(depth + 1))
    return {op: draw(st.lists(child, min_size=1, max_size=3))}


@st.composite
def monotone_mqa(draw) -> dict:
    p = {
        "name": "mqa",
        "kind": "mqa_count",
        "window_days": draw(st.sampled_from([0.5, 1, 3, 10, 30])),
        "include_anonymous": draw(st.booleans()),
        **draw(monotone_groups()),
    }
    if draw(st.booleans()):
        p["activities"] = draw(ACTS)
    if draw(st.booleans()):
        tiers = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2, unique=True))
        p["tiers"] = {t: draw(monotone_groups(depth=1)) for t in tiers}
    return _sales(p, draw(st.booleans()))


BLOCKS = st.sampled_from([(1 << 16, 1 << 20), (1, 1), (3, 5), (8, 16)])


def _small_blocks(blocks):
    """Work in tiny blocks (candidates, events) so that tests cross block edges."""
    return mock.patch.multiple(touches, BLOCK=blocks[0], EVENT_BLOCK=blocks[1])


def _general(policy, log):
    """The general per-event evaluator, never the counting-touch path."""
    with mock.patch.object(mqa, "fast_ok", lambda p: False):
        return policies.evaluate(policy, log)


@HYP
@given(log=logs(), spec=monotone_mqa(), blocks=BLOCKS)
def test_counting_touch_path_equals_reference_and_general_path(log, spec, blocks):
    policy = policies.load_policy(spec)
    assert rule.fast_ok(policy)
    with _small_blocks(blocks):
        fast = policies.evaluate(policy, log)
    _same(fast, reference.evaluate(policy, log))
    pd.testing.assert_frame_equal(fast, _general(policy, log))  # dtypes and all


@HYP
@given(log=logs(), spec=monotone_mqa(), cut=TIMES)
def test_counting_touch_path_never_looks_ahead(log, spec, cut):
    policy = policies.load_policy(spec)
    full = policies.evaluate(policy, log)
    _same(full[full["time"] <= cut], policies.evaluate(policy, log.until(cut)))


def _deepen(node, depth: int, excluded: list[str] | None):
    """The clause with ``min_touches_per_contact`` and ``exclude_titles`` set on every
    condition (``excluded`` None: left out)."""
    if isinstance(node, list):
        return [_deepen(c, depth, excluded) for c in node]
    if any(k in node for k in ("any", "all", "not")):
        return {k: _deepen(v, depth, excluded) for k, v in node.items()}
    extra = {"exclude_titles": excluded} if excluded else {}
    return {**node, "min_touches_per_contact": depth, **extra}


@st.composite
def depth_mqa(draw, monotone: bool = True) -> dict:
    """An ``mqa_count`` policy whose every condition asks for engagement depth per contact
    (2 to 4 touches) and most exclude some titles."""
    spec = draw(monotone_mqa() if monotone else mqa_policies())
    depth = draw(st.integers(2, 4))
    excluded = draw(st.none() | st.lists(st.sampled_from(EXCLUDED), min_size=1, unique=True))
    for key in ("any", "all", "not"):
        if key in spec:
            spec[key] = _deepen(spec[key], depth, excluded)
    spec["tiers"] = {t: _deepen(g, depth, excluded) for t, g in spec.get("tiers", {}).items()}
    return spec


@HYP
@given(log=SOME_LOGS, spec=depth_mqa(), blocks=BLOCKS)
def test_depth_and_excluded_titles_fast_equals_reference_and_general_path(log, spec, blocks):
    """``min_touches_per_contact`` and ``exclude_titles`` keep a rule monotone (more touches
    never lower a count): the counting-touch path stays exact for them."""
    policy = policies.load_policy(spec)
    assert rule.fast_ok(policy)
    with _small_blocks(blocks):
        fast = policies.evaluate(policy, log)
    _same(fast, reference.evaluate(policy, log))
    pd.testing.assert_frame_equal(fast, _general(policy, log))


@HYP
@given(log=SOME_LOGS, spec=depth_mqa(monotone=False), cut=TIMES)
def test_depth_and_excluded_titles_general_path_equals_reference_and_never_looks_ahead(
    log, spec, cut
):
    policy = policies.load_policy(spec)
    full = policies.evaluate(policy, log)
    _same(full, reference.evaluate(policy, log))
    _same(full[full["time"] <= cut], policies.evaluate(policy, log.until(cut)))


def test_counting_touch_path_window_edges_are_exact():
    # 0.1 + 0.2 - 0.3 is not 0.0 in floats: the touch at 0.1 + 0.2 is in [t - 0.3, t] at
    # t = 0.6 only if the comparison is made on the floats themselves.
    t0 = 0.1 + 0.2
    ev = pd.DataFrame(
        {
            "time": [t0, 0.3, t0 + 0.3, 0.6, 0.6],
            "account_id": [0, 1, 0, 1, 1],
            "contact_id": [1, 4, 2, 5, 6],
            "activity": "web_visit",
        }
    ).sort_values(["account_id", "time"], kind="stable")
    con = pd.DataFrame({"contact_id": [1, 2, 4, 5, 6], "account_id": [0, 0, 1, 1, 1], "title": ""})
    log = sim.EventLog(ev.reset_index(drop=True), con, pd.DataFrame({"account_id": [0, 1]}))
    for w in (0.3, t0, 0.3 - 1e-16, 0.30000000000000004):
        policy = policies.load_policy(
            {"name": "edge", "kind": "mqa_count", "window_days": w, "any": [{"unique_contacts": 2}]}
        )
        _same(policies.evaluate(policy, log), reference.evaluate(policy, log))
        pd.testing.assert_frame_equal(policies.evaluate(policy, log), _general(policy, log))


# --------------------------------------------------------------------------- sweeps


COUNTS = ("unique_contacts", "min_activities", "min_touches_per_contact")


def _threshold_paths(node, prefix: str = "") -> list[str]:
    """Every count (``unique_contacts``, ``min_activities``, ``min_touches_per_contact``) path
    inside a policy dict."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k in COUNTS and prefix:
                out.append(f"{prefix}{k}")
            elif k in ("any", "all", "not", "tiers") or isinstance(k, int):
                out += _threshold_paths(v, f"{prefix}{k}.")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _threshold_paths(v, f"{prefix}{i}.")
    return out


@st.composite
def sweeps(draw, one_pass: bool = False):
    """(policy dict, path, values): count thresholds of any mqa_count policy (tiers, not:,
    recycling included, which the one-pass sweep hands back to the loop) and sometimes a
    field that is not a count (always the loop). ``one_pass``: only what the one-pass sweep
    takes (count thresholds of monotone rules without recycling)."""
    spec = draw(monotone_mqa() if one_pass else st.one_of(monotone_mqa(), mqa_policies()))
    policy = policies.load_policy(spec)
    data = policy.model_dump(by_alias=True, exclude_none=True)
    paths = _threshold_paths({k: data[k] for k in ("any", "all", "not", "tiers") if k in data})
    # An absent field is set by with_value too: a condition that had only the other count.
    cond_paths = [p.rsplit(".", 1)[0] for p in paths]
    paths += [f"{c}.{f}" for c in cond_paths for f in COUNTS]
    if not one_pass and draw(st.integers(0, 5)) == 0:
        return spec, "window_days", draw(st.lists(st.sampled_from([0.5, 2.0, 30.0]), max_size=3))
    path = draw(st.sampled_from(sorted(set(paths))))
    values = draw(st.lists(st.integers(0 if not one_pass else 1, 7), min_size=0, max_size=8))
    return spec, path, values


def _loop(policy, log, path, values) -> pd.DataFrame:
    parts = [
        policies.evaluate(policies.with_value(policy, path, v), log).assign(value=v) for v in values
    ]
    return pd.concat(parts, ignore_index=True)


@HYP
@given(log=SOME_LOGS, case=st.one_of(sweeps(), sweeps(one_pass=True)), blocks=BLOCKS)
def test_sweep_equals_a_loop_of_evaluate(log, case, blocks):
    spec, path, values = case
    policy = policies.load_policy(spec)
    if not values:
        assert len(policies.sweep(policy, log, path, values)) == 0
        return
    try:
        expected = _loop(policy, log, path, values)
    except ConfigError:
        with pytest.raises(ConfigError):
            policies.sweep(policy, log, path, values)
        return
    with _small_blocks(blocks):
        got = policies.sweep(policy, log, path, values)
    pd.testing.assert_frame_equal(got, expected)


@HYP
@given(log=logs(dense=True), spec=depth_mqa(), data=st.data(), blocks=BLOCKS)
def test_depth_sweep_in_one_pass_equals_a_loop_of_evaluate(log, spec, data, blocks):
    """A sweep of ``min_touches_per_contact`` (every condition asks for some depth; dense logs,
    so that people have several touches in a window)."""
    policy = policies.load_policy(spec)
    data_ = policy.model_dump(by_alias=True, exclude_none=True)
    paths = _threshold_paths({k: data_[k] for k in ("any", "all", "tiers") if k in data_})
    path = data.draw(st.sampled_from(sorted(p for p in paths if p.endswith("per_contact"))))
    values = data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=6))
    assert sweep.sweep_target(policy, path) is not None
    with _small_blocks(blocks):
        got = policies.sweep(policy, log, path, values)
    pd.testing.assert_frame_equal(got, _loop(policy, log, path, values))


def test_sweep_one_pass_is_used_for_count_thresholds_only():
    base = {"name": "m", "kind": "mqa_count", "window_days": 30}
    p = policies.load_policy({**base, "any": [{"unique_contacts": 4}, {"min_activities": 9}]})
    assert sweep.sweep_target(p, "any.0.unique_contacts") == (None, [0], "unique_contacts")
    assert sweep.sweep_target(p, "any.1.unique_contacts") == (None, [1], "unique_contacts")
    assert sweep.sweep_target(p, "any.0.min_touches_per_contact") == (
        None,
        [0],
        "min_touches_per_contact",
    )
    assert sweep.sweep_target(p, "window_days") is None
    assert sweep.sweep_target(p, "all.0.unique_contacts") is None
    t = policies.load_policy(
        {
            **base,
            "any": [{"min_activities": 1}],
            "tiers": {2: {"all": [{"unique_contacts": 1}, {"any": [{"min_activities": 2}]}]}},
        }
    )
    assert sweep.sweep_target(t, "tiers.2.all.1.any.0.min_activities") == (
        2,
        [1, 0],
        "min_activities",
    )
    r = policies.load_policy({**base, "recycle_days": 5, "any": [{"unique_contacts": 4}]})
    assert sweep.sweep_target(r, "any.0.unique_contacts") is None
    n = policies.load_policy({**base, "any": [{"not": {"unique_contacts": 4}}]})
    assert sweep.sweep_target(n, "any.0.not.unique_contacts") is None


def test_sweep_on_a_simulated_world_equals_the_loop():
    w = sim.simulate(sim.load_scenario("enterprise", overrides={"accounts": {"count": 40}}), seed=6)
    log = sim.EventLog.from_world(w)
    policy = policies.load_policy("mqa_count")
    for path in ("any.0.unique_contacts", "any.1.min_activities"):
        values = [5, 1, 3, 3, 12, 0] if path.endswith("activities") else [5, 1, 3, 3, 12]
        pd.testing.assert_frame_equal(
            policies.sweep(policy, log, path, values), _loop(policy, log, path, values)
        )


# --------------------------------------------------------------------------- policies.holds


def _first_true(log: sim.EventLog, h: np.ndarray) -> dict[int, float]:
    """Each account's first event time where ``h`` is True."""
    ev = log.events[h]
    return ev.groupby("account_id")["time"].min().astype(float).to_dict()


@HYP
@given(log=SOME_LOGS, spec=ANY_POLICY)
def test_holds_first_true_is_the_first_handoff(log, spec):
    """An account's first handoff is at its first event where its rule holds (recycling only
    matters after it); every event of one time gets the same answer."""
    policy = policies.load_policy(spec)
    h = policies.holds(policy, log)
    assert h.dtype == bool and h.shape == (len(log.events),)
    q = policies.evaluate(policy, log)
    first = q.groupby("account_id")["time"].min().astype(float).to_dict()
    assert _first_true(log, h) == first
    ties = pd.DataFrame({"a": log.events["account_id"], "t": log.events["time"], "h": h})
    assert (ties.groupby(["a", "t"])["h"].nunique() <= 1).all()


@HYP
@given(log=SOME_LOGS, spec=ANY_POLICY, cut=TIMES)
def test_holds_never_looks_ahead(log, spec, cut):
    policy = policies.load_policy(spec)
    full = policies.holds(policy, log)
    early = log.events["time"].to_numpy() <= cut
    np.testing.assert_array_equal(policies.holds(policy, log.until(cut)), full[early])


def test_holds_on_a_simulated_world_with_a_shared_frame():
    w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 60}}), seed=7)
    log = sim.EventLog.from_world(w)
    frame = policies.Frame(log)
    for name in ("mqa_count", "mql_only", "weighted_titles", "progression_stages", "mql_or_mqa"):
        policy = policies.load_policy(name)
        h = policies.holds(policy, log, frame)
        np.testing.assert_array_equal(h, policies.holds(policy, log))
        first = policies.evaluate(policy, log).groupby("account_id")["time"].min()
        assert _first_true(log, h) == first.astype(float).to_dict()
    empty = sim.EventLog(log.events.iloc[:0], log.contacts, log.accounts)
    assert policies.holds(policies.load_policy("mqa_count"), empty).shape == (0,)


class NoRule(policies.PolicyBase):
    """A plug-in that evaluates itself but defines no per-event rule."""

    kind: Literal["holds_none"] = "holds_none"

    def evaluate(self, log):
        return policies.evaluate(policies.load_policy("mqa_count"), log)


policies.register("holds_none")(NoRule)


def test_holds_of_a_kind_without_a_per_event_rule_is_a_clear_error():
    log = _tiny_log(
        pd.DataFrame({"time": [1.0], "account_id": [0], "contact_id": [1]}).assign(
            activity="webinar"
        )
    )
    policy = policies.load_policy({"name": "none", "kind": "holds_none"})
    assert len(policies.evaluate(policy, log)) == 0
    with pytest.raises(QualsimError, match=r"'none' of kind 'holds_none'.*defines no holds"):
        policies.holds(policy, log)


# --------------------------------------------------------------------------- the log's checks


def _tiny_log(events: pd.DataFrame) -> sim.EventLog:
    con = pd.DataFrame({"contact_id": [1], "account_id": [0], "title": ["VP"]})
    return sim.EventLog(events, con, pd.DataFrame({"account_id": [0, 1]}))


def test_unsorted_logs_and_unknown_activities_are_data_errors():
    policy = policies.load_policy("mqa_count")
    unsorted = pd.DataFrame(
        {"time": [2.0, 1.0], "account_id": [0, 0], "contact_id": [1, 1], "activity": "webinar"}
    )
    with pytest.raises(DataError, match="sorted"):
        policies.evaluate(policy, _tiny_log(unsorted))
    accounts_down = unsorted.assign(time=[1.0, 2.0], account_id=[1, 0])
    with pytest.raises(DataError, match="sorted"):
        policies.evaluate(policy, _tiny_log(accounts_down))
    ok = unsorted.assign(time=[1.0, 2.0])
    for column in (
        ok["activity"].where(ok.index == 0, "tweet"),
        pd.Categorical(["webinar", "tweet"], categories=["tweet", "webinar"]),
    ):
        with pytest.raises(DataError, match=r"unknown activities.*tweet"):
            policies.evaluate(policy, _tiny_log(ok.assign(activity=column)))
    # An unused category that is not an activity is no error.
    cat = pd.Categorical(["webinar", "webinar"], categories=["tweet", "webinar"])
    assert len(policies.evaluate(policy, _tiny_log(ok.assign(activity=cat)))) == 0
    with pytest.raises(DataError, match="missing activity"):
        policies.evaluate(policy, _tiny_log(ok.assign(activity=["webinar", None])))


@HYP
@given(
    log=logs(),
    spec=st.one_of(mql_policies(), title_policies()),
    values=st.lists(st.sampled_from([0.5, 3.0, 5.0, 8.0, 10.0, 31.0, 60.0]), max_size=5),
    other=st.sampled_from([("decay.half_life_days", 3.0), ("window_days", 5.0), None]),
)
def test_score_threshold_sweep_shares_scores_exactly(log, spec, values, other):
    """MQL and weighted-titles scores are memoised on the Frame per scoring rule (all but name,
    threshold and recycling): a threshold sweep equals a loop of fresh evaluations, and a
    variant with another scoring rule on the same Frame never reuses the first one's scores."""
    policy = policies.load_policy(spec)
    if values:
        got = policies.sweep(policy, log, "threshold", values)
        pd.testing.assert_frame_equal(got, _loop(policy, log, "threshold", values))
    if other is None:
        return
    path, value = other
    try:
        changed = policies.with_value(policy, path, value)
    except ConfigError:
        return  # the path does not exist for this kind / decay mode
    frame = policies.Frame(log)
    policies.evaluate(policy, log, frame)  # fills the memo with the first rule's scores
    pd.testing.assert_frame_equal(
        policies.evaluate(changed, log, frame), policies.evaluate(changed, log)
    )


@HYP
@given(log=logs(), members=st.lists(st.one_of(MEMBER, combinators()), min_size=1, max_size=3))
def test_any_combinator_first_handoff_path_equals_the_per_event_path(log, members):
    """``kind: any`` without recycling takes the earliest of the members' first handoffs; the
    per-event path (every member's rule at every event) gives the same rows and dtypes."""
    for i, m in enumerate(members):
        m["name"] = f"m{i}"
    policy = policies.load_policy(
        _sales({"name": "combo", "kind": "any", "policies": members}, False)
    )
    fast = policies.evaluate(policy, log)
    general = per_event(policy, policy_view(policy, log)[1]) if len(log.events) else fast
    pd.testing.assert_frame_equal(fast.reset_index(drop=True), general.reset_index(drop=True))
