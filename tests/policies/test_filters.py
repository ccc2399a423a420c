"""Declared filters (``exclude``): hand-made logs whose scanner clicks, bursts and unlinked
touches are known, the slow reference against the vectorised filters on random logs, no
look-ahead, validation messages, and system events that no rule counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policies
import sim
from policies import reference
from policies.cleaning import removed
from policies.kernels.frame import Frame
from policies.kernels.views import filter_counts, policy_view, seen
from sim.errors import ConfigError

S = 1 / 86400  # a second, in days
CONTACTS = pd.DataFrame(
    {"contact_id": [10, 11, 12], "account_id": [0, 0, 1], "title": ["CISO", "VP IT", "Eng"]}
)
ACCOUNTS = pd.DataFrame({"account_id": [0, 1]})


def log_of(rows, contacts=CONTACTS, accounts=ACCOUNTS) -> sim.EventLog:
    """An EventLog from (time, account, contact, activity) rows, sorted as a log is."""
    ev = pd.DataFrame(rows, columns=["time", "account_id", "contact_id", "activity"])
    ev = ev.sort_values(["account_id", "time"], kind="stable").reset_index(drop=True)
    return sim.EventLog(ev, contacts, accounts)


def mqa(**extra) -> policies.PolicyBase:
    """Hands an account off at its first counting touch (so every kept touch is visible)."""
    return policies.load_policy(
        {
            "name": "p",
            "kind": "mqa_count",
            "window_days": 1.0,
            "include_anonymous": True,
            "activities": ["email_open", "email_click", "web_visit"],
            "any": [{"min_activities": 1}],
            **extra,
        }
    )


def kept(policy, log) -> list[tuple]:
    """The (time, contact, activity) rows ``policy`` sees, in log order."""
    view, _ = policy_view(policy, log)
    ev = view.events
    return list(zip(ev["time"].round(9), ev["contact_id"], ev["activity"].astype(str), strict=True))


# -- after_delivery: the scanner clicks of a hand-made log, and nothing else -------------------
SCANNED = [
    (1.0, 0, 10, "email_delivered"),
    (1.0 + 2 * S, 0, 10, "email_open"),  # scanner: 2 s after delivery
    (1.0 + 3 * S, 0, 10, "email_click"),  # scanner: 3 s after delivery
    (1.0 + 3 * S, 0, 10, "web_visit"),  # not a listed activity: stays
    (1.0 + 3600 * S, 0, 10, "email_click"),  # the person, an hour later: stays
    (1.0 + 1 * S, 0, -1, "email_click"),  # anonymous: no delivery of its own, stays
    (1.0 + 5 * S, 0, 11, "email_click"),  # contact 11 had no delivery yet: stays
    (2.0, 0, 11, "email_delivered"),
    (2.0 + 9 * S, 0, 11, "email_click"),  # scanner, 9 s after: removed
    (2.0 + 11 * S, 0, 11, "email_click"),  # 11 s after: stays
    (1.5, 1, 12, "email_delivered"),
    (1.5 - 1 * S, 1, 12, "email_click"),  # a second BEFORE the delivery: stays
]


def test_after_delivery_removes_exactly_the_scanner_clicks():
    log = log_of(SCANNED)
    p = mqa(exclude=[{"after_delivery": {"seconds": 10}}])
    gone = {(round(1.0 + 2 * S, 9), 10), (round(1.0 + 3 * S, 9), 10), (round(2.0 + 9 * S, 9), 11)}
    unfiltered = [(round(t, 9), c, a) for t, _, c, a in sorted(SCANNED, key=lambda r: (r[1], r[0]))]
    expected = [
        r
        for r in unfiltered
        if r[2] != "email_delivered" and not ((r[0], r[1]) in gone and r[2] != "web_visit")
    ]
    assert kept(p, log) == expected
    assert len(unfiltered) - len(expected) == 3 + 3  # 3 deliveries, 3 scanner touches
    counts = filter_counts(p, log)
    assert counts["removed"].tolist() == [3, 3]  # the filter, and all filters together
    assert counts["field"].tolist() == ["exclude.0", "exclude"]
    # the reference filter agrees touch by touch
    assert sum(reference.removed_touches(p, log)[0]) == 3


def test_after_delivery_activities_are_configurable():
    log = log_of(SCANNED)
    p = mqa(exclude=[{"after_delivery": {"seconds": 10, "activities": ["web_visit"]}}])
    assert filter_counts(p, log)["removed"].tolist() == [1, 1]  # the web visit 3 s after


def test_delivered_events_are_never_counted():
    deliveries = log_of([(1.0, 0, 10, "email_delivered"), (2.0, 0, 11, "email_delivered")])
    every = policies.load_policy(
        {"name": "all", "kind": "mqa_count", "window_days": 30, "any": [{"min_activities": 1}]}
    )
    assert "email_delivered" not in every.activities
    assert policies.evaluate(every, deliveries).empty
    assert reference.evaluate(every, deliveries).empty
    assert not policies.holds(every, deliveries).any()


# -- burst ---------------------------------------------------------------------------------
def burst_policy(k: int = 3, seconds: float = 60):
    return mqa(exclude=[{"burst": {"touches": k, "seconds": seconds}}])


def removed_times(policy, log) -> list[tuple[float, int]]:
    """(time in seconds after day 1, contact) of the touches the filters remove."""
    f = Frame(log)
    keep = seen(policy, f)
    kept_mask = np.ones(f.n, bool) if keep is None else keep
    gone = ~kept_mask & ~f.activity_in(["email_delivered"])
    return sorted(zip(np.round((f.time[gone] - 1.0) / S).astype(int), f.contact[gone], strict=True))


def test_burst_keeps_the_first_k_touches_and_removes_the_next():
    at = [0, 10, 20, 30, 40]  # five touches of contact 10 within 40 s
    log = log_of([(1.0 + s * S, 0, 10, "web_visit") for s in at])
    assert removed_times(burst_policy(3), log) == [(30, 10), (40, 10)]
    assert removed_times(burst_policy(4), log) == [(40, 10)]
    assert removed_times(burst_policy(5), log) == []  # exactly K touches stay


def test_burst_window_slides():
    # 0, 10, 20 then 100, 110, 120: never more than 3 in 60 s
    log = log_of([(1.0 + s * S, 0, 10, "web_visit") for s in (0, 10, 20, 100, 110, 120)])
    assert removed_times(burst_policy(3), log) == []
    # a 100.5 s window: at 100 it holds 0, 10, 20, 100; at 110 it holds 10..110; at 120, 20..120
    assert removed_times(burst_policy(3, seconds=100.5), log) == [(100, 10), (110, 10), (120, 10)]
    # a 95 s window: at 100 it holds 10, 20, 100 (0 has left it): three, so nothing goes
    assert removed_times(burst_policy(3, seconds=95), log) == []


def test_burst_counts_each_contact_on_its_own():
    interleaved = [(1.0 + s * S, 0, 10, "web_visit") for s in (0, 20, 40, 55)]
    interleaved += [(1.0 + s * S, 0, 11, "web_visit") for s in (10, 30, 50)]
    log = log_of(interleaved)
    # seven touches of the account in 55 s, but contact 11 has three and 10 has four
    assert removed_times(burst_policy(3), log) == [(55, 10)]


def test_burst_groups_anonymous_touches_by_account():
    anon = [(1.0 + s * S, a, -1, "web_visit") for a in (0, 1) for s in (0, 1, 2)]
    log = log_of(anon)
    assert removed_times(burst_policy(3), log) == []  # three per account
    assert removed_times(burst_policy(2), log) == [(2, -1), (2, -1)]


def test_burst_touches_at_one_time_are_all_in_it():
    log = log_of([(1.0, 0, 10, "web_visit")] * 4)
    assert removed_times(burst_policy(3), log) == [(0, 10)] * 4


# -- no_account ----------------------------------------------------------------------------
def test_no_account_removes_touches_of_unknown_accounts():
    contacts = pd.DataFrame(
        {
            "contact_id": [10, 11, 13, 14],
            "account_id": [0, 0, -1, 9],  # 13: the CRM linked it to no account; 14: unknown one
            "title": ["CISO", "VP IT", "Eng", "Eng"],
        }
    )
    rows = [
        (1.0, -1, 10, "web_visit"),  # the touch is on no account
        (1.0, 0, 10, "web_visit"),
        (2.0, 7, 11, "email_click"),  # an account the accounts table does not have
        (3.0, 1, -1, "web_visit"),  # anonymous, on a known account: stays
        (4.0, 0, 13, "web_visit"),  # on a known account, by a contact linked to none
        (5.0, 0, 14, "web_visit"),  # by a contact linked to an account not in the table
        (6.0, 0, 15, "web_visit"),  # by a contact with no record
        (7.0, 0, 11, "web_visit"),  # 11 is linked to account 0: stays
    ]
    log = log_of(rows, contacts=contacts)
    p = mqa(exclude=[{"no_account": True}])
    assert kept(p, log) == [(1.0, 10, "web_visit"), (7.0, 11, "web_visit"), (3.0, -1, "web_visit")]
    q = policies.evaluate(p, log)
    assert q[["account_id", "time"]].values.tolist() == [[0, 1.0], [1, 3.0]]
    assert filter_counts(p, log)["removed"].tolist() == [5, 5]
    assert [sum(r) for r in reference.removed_touches(p, log)] == [5]


def test_counts_of_several_filters_overlap():
    rows = [(1.0, 0, 10, "email_delivered"), (1.0 + S, -1, 10, "email_click")]
    rows += [(1.0 + 2 * S, 0, 10, "email_click")]
    log = log_of(rows)
    p = mqa(exclude=[{"after_delivery": {"seconds": 5}}, {"no_account": True}])
    c = filter_counts(p, log)
    assert c["removed"].tolist() == [2, 1, 2]  # the -1 click is in both; 2 in all
    assert filter_counts(mqa(), log).empty


# -- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("exclude", "where", "what"),
    [
        (
            [{"burst": {"touches": 0, "seconds": 60}}],
            "exclude[0].burst.touches",
            "must be >= 1, got 0",
        ),
        ([{"burst": {"touches": 5}}], "exclude[0].burst.seconds", "required"),
        ([{"after_delivery": {"seconds": -1}}], "exclude[0].after_delivery.seconds", "> 0"),
        (
            [{"no_account": True}, {"after_delivery": {"seconds": 5}, "no_account": True}],
            "exclude[1]",
            "exactly one of after_delivery / burst / no_account",
        ),
        ([{"bursts": {"touches": 5, "seconds": 60}}], "exclude[0].bursts", "did you mean 'burst'"),
        ([{"no_account": False}], "exclude[0].no_account", "true"),
        (
            [{"after_delivery": {"seconds": 5, "activities": ["email_delivered"]}}],
            "exclude[0].after_delivery.activities",
            "system event",
        ),
        (
            [{"after_delivery": {"seconds": 5, "activities": ["call"]}}],
            "exclude[0].after_delivery.activities[0]",
            "sales touch",
        ),
    ],
)
def test_bad_filters_name_the_field(exclude, where, what):
    with pytest.raises(ConfigError) as err:
        mqa(exclude=exclude)
    assert where in str(err.value)
    assert what.lower() in str(err.value).lower()


def test_naming_a_system_event_is_an_error():
    with pytest.raises(ConfigError, match=r"points\.email_delivered.*system event"):
        policies.load_policy(
            {"name": "m", "kind": "mql", "threshold": 5, "points": {"email_delivered": 1}}
        )


def test_combinator_members_may_not_filter():
    member = {"name": "a", **mqa(exclude=[{"no_account": True}]).model_dump(by_alias=True)}
    member["name"] = "a"
    with pytest.raises(ConfigError, match=r"exclude filters.*move them to 'both'"):
        policies.load_policy({"name": "both", "kind": "any", "policies": [member]})


# -- random logs: the vectorised filters against the reference -----------------------------
SECONDS = st.sampled_from([1, 5, 30, 3600])
FILTERS = st.lists(
    st.one_of(
        st.builds(
            lambda s, a: {"after_delivery": {"seconds": s, "activities": a}},
            SECONDS,
            st.lists(st.sampled_from(["email_open", "email_click", "web_visit"]), min_size=1),
        ),
        st.builds(lambda k, s: {"burst": {"touches": k, "seconds": s}}, st.integers(1, 4), SECONDS),
        st.just({"no_account": True}),
    ),
    min_size=1,
    max_size=3,
)
ACTS = ["email_delivered", "email_open", "email_click", "web_visit", "call"]


@st.composite
def messy_logs(draw) -> sim.EventLog:
    """Few contacts, times on a grid of seconds (ties, exact window edges), deliveries, sales
    touches, touches of account -1 and of accounts missing from the accounts table."""
    n = draw(st.integers(0, 30))
    tied = draw(st.booleans())  # each contact in one account (as a CRM has it), or anywhere
    rows = []
    for _ in range(n):
        acc = draw(st.sampled_from([-1, 0, 1, 2]))
        contact = draw(st.sampled_from([-1, 10, 11, 12, 13, 14]))
        if tied and contact >= 0:
            acc = contact % 3 - 1  # 10 in account 0, 11 in 1, 12 in -1, 13 in 0, 14 in 1
        rows.append(
            (1.0 + draw(st.integers(0, 40)) * 2 * S, acc, contact, draw(st.sampled_from(ACTS)))
        )
    return log_of(rows, contacts=MESSY_CONTACTS, accounts=pd.DataFrame({"account_id": [0, 1]}))


# 10 and 11 are linked to known accounts, 12 to none (-1), 13 to one not in the accounts table;
# 14 has no record.
MESSY_CONTACTS = pd.DataFrame(
    {"contact_id": [10, 11, 12, 13], "account_id": [0, 1, -1, 5], "title": ["CISO", "VP", "", "IT"]}
)


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(log=messy_logs(), exclude=FILTERS, sales=st.booleans())
def test_filters_equal_the_reference(log, exclude, sales):
    p = mqa(exclude=exclude, include_sales_touches=sales)
    f = Frame(log)
    base = reference.seen_touches(p, log)
    for rule, slow in zip(p.exclude, reference.removed_touches(p, log), strict=True):
        assert removed(rule, f, np.array(base, dtype=bool)).tolist() == slow
    pd.testing.assert_frame_equal(policies.evaluate(p, log), reference.evaluate(p, log))


@FAST
@given(log=messy_logs(), exclude=FILTERS, cut=st.integers(0, 80))
def test_filters_do_not_look_ahead(log, exclude, cut):
    """A touch at or before T is removed or kept the same on the log cut at T."""
    p = mqa(exclude=exclude)
    t_cut = 1.0 + cut * S
    short = log.until(t_cut)
    full = kept(p, log)
    assert kept(p, short) == [r for r in full if r[0] <= round(t_cut, 9)]
    q = policies.evaluate(p, log)
    pd.testing.assert_frame_equal(
        policies.evaluate(p, short), q[q["time"] <= t_cut].reset_index(drop=True)
    )


@FAST
@given(log=messy_logs(), exclude=FILTERS)
def test_a_shared_frame_gives_each_policy_its_own_view(log, exclude):
    plain, filtered = mqa(), mqa(exclude=exclude)
    frame = Frame(log)
    a, b = policies.evaluate(plain, log, frame), policies.evaluate(filtered, log, frame)
    pd.testing.assert_frame_equal(a, policies.evaluate(plain, log))
    pd.testing.assert_frame_equal(b, policies.evaluate(filtered, log))
    held = policies.holds(filtered, log, frame)
    first = pd.Series(log.events["time"].to_numpy()[held]).groupby(
        log.events["account_id"].to_numpy()[held]
    )
    assert first.min().to_dict() == b.groupby("account_id")["time"].min().to_dict()


def test_a_filtered_policy_passes_the_conformance_checks():
    log = log_of([*SCANNED, (3.0, 1, 12, "web_visit"), (3.0 + S, 1, 12, "web_visit")])
    policies.check_policy(
        mqa(exclude=[{"after_delivery": {"seconds": 10}}, {"burst": {"touches": 1, "seconds": 5}}]),
        log,
    )


# -- the example policy with filters and its YAML test cases -------------------------------
EXAMPLES = Path(__file__).resolve().parents[2] / "policies" / "examples"


def test_the_example_cases_pass_and_need_the_filters(tmp_path):
    name, outcomes = policies.run_cases(EXAMPLES / "cleaned_mqa_cases.yaml")
    assert name == "cleaned_mqa" and all(o.passed for o in outcomes)
    bare = yaml.safe_load((EXAMPLES / "cleaned_mqa.yaml").read_text())
    del bare["exclude"]
    (tmp_path / "cleaned_mqa.yaml").write_text(yaml.safe_dump(bare))
    cases = (EXAMPLES / "cleaned_mqa_cases.yaml").read_text()
    (tmp_path / "cases.yaml").write_text(cases)
    _, unfiltered = policies.run_cases(tmp_path / "cases.yaml")
    # without filters the scanner's clicks make ann and bob count: a handoff at day 1
    assert [o.passed for o in unfiltered] == [True, False, True, True]


# -- every kind, on random messy logs ------------------------------------------------------
KINDS = {
    "mql": {
        "kind": "mql",
        "threshold": 3,
        "points": {"email_click": 1, "web_visit": 2, "email_open": 1},
        "decay": {"window_days": 0.0005},
    },
    "weighted_titles": {
        "kind": "weighted_titles",
        "threshold": 2,
        "window_days": 0.0005,
        "activity_weights": {"email_click": 1, "web_visit": 1},
        "title_weights": [{"match": ["ciso"], "weight": 2}],
        "include_anonymous": True,
    },
    "stages": {
        "kind": "stages",
        "handoff_stage": "ready",
        "include_anonymous": True,
        "activities": ["email_open", "email_click", "web_visit"],
        "stages": [
            {"name": "aware", "when": {"min_activities": 1, "window_days": 1}},
            {"name": "ready", "when": {"unique_contacts": 2, "window_days": 0.0005}},
        ],
    },
    "any": {
        "kind": "any",
        "policies": [
            {
                "name": "two",
                "kind": "mqa_count",
                "window_days": 0.0005,
                "any": [{"unique_contacts": 2}],
            },
            {
                "name": "three",
                "kind": "mqa_count",
                "window_days": 0.0005,
                "any": [{"min_activities": 3}],
            },
        ],
    },
}


@FAST
@given(log=messy_logs(), exclude=FILTERS, kind=st.sampled_from(sorted(KINDS)))
def test_every_kind_with_filters_equals_the_reference(log, exclude, kind):
    p = policies.load_policy({"name": kind, **KINDS[kind], "exclude": exclude})
    pd.testing.assert_frame_equal(policies.evaluate(p, log), reference.evaluate(p, log))
    view, _ = policy_view(p, log)  # the filters remove nothing more from what they kept
    pd.testing.assert_frame_equal(policies.evaluate(p, view), policies.evaluate(p, log))
    assert sum(map(sum, reference.removed_touches(p, view))) == 0


@FAST
@given(log=messy_logs(), k=st.integers(1, 3))
def test_sweeping_a_filter_equals_a_loop_of_evaluate(log, k):
    p = mqa(exclude=[{"burst": {"touches": k, "seconds": 30}}, {"no_account": True}])
    values = [1, 2, 4]
    swept = policies.sweep(p, log, "exclude.0.burst.touches", values)
    for v in values:
        one = policies.evaluate(policies.with_value(p, "exclude.0.burst.touches", v), log)
        mine = swept[swept["value"] == v].drop(columns="value").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, one)
