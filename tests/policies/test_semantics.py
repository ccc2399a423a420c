"""Hand-worked examples of policies/README.md, sentence by sentence.

Every expected handoff below was worked out on paper (the arithmetic is in the comments), never
copied from running an evaluator. The tests run against every evaluator in
``IMPLEMENTATIONS`` / ``STAGE_IMPLEMENTATIONS``: the slow reference now; a fast evaluator is
one more line (``policies.evaluate`` / ``policies.stage_entries`` are picked up automatically
once they exist and are not the reference).

Logs are tiny: :func:`make_log` builds an ``sim.EventLog`` from
``(time, account_id, contact_id, activity)`` tuples; contact −1 is anonymous.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import policies
import sim
from policies import load_policy, reference
from sim.errors import ConfigError

# --------------------------------------------------------------------------------------------
# Implementations under test
# --------------------------------------------------------------------------------------------

IMPLEMENTATIONS = [
    pytest.param(reference.evaluate, id="reference"),
    # pytest.param(policies.fast.evaluate, id="fast"),   # <- one line per further evaluator
]
STAGE_IMPLEMENTATIONS = [
    pytest.param(reference.stage_entries, id="reference"),
]
if hasattr(policies, "evaluate") and policies.evaluate is not reference.evaluate:
    IMPLEMENTATIONS.append(pytest.param(policies.evaluate, id="policies.evaluate"))
if hasattr(policies, "stage_entries") and policies.stage_entries is not reference.stage_entries:
    STAGE_IMPLEMENTATIONS.append(pytest.param(policies.stage_entries, id="policies.stage_entries"))


@pytest.fixture(params=IMPLEMENTATIONS)
def evaluate(request):
    """``evaluate(policy, log) -> DataFrame`` of one implementation."""
    return request.param


@pytest.fixture(params=STAGE_IMPLEMENTATIONS)
def stage_entries(request):
    """``stage_entries(policy, log) -> DataFrame`` of one implementation."""
    return request.param


COLUMNS = ["policy", "account_id", "contact_id", "time", "rule", "score", "stage"]
ANON = -1

# --------------------------------------------------------------------------------------------
# Building tiny logs and policies
# --------------------------------------------------------------------------------------------


def make_log(events, contacts=None, accounts=None) -> sim.EventLog:
    """An EventLog from ``(time, account_id, contact_id, activity)`` tuples.

    ``contacts``: {contact_id: title | {column: value} | None}. Every known contact of the
    events is in the contacts table (title "Engineer", account from its first event) unless
    mapped to None; columns given for some contacts are missing (NaN) for the others, and a
    column given for nobody is absent from the table.
    ``accounts``: {account_id: {column: value} | None}, likewise (an account table with only
    ``account_id`` when no attribute is given).
    """
    ev = pd.DataFrame(list(events), columns=["time", "account_id", "contact_id", "activity"])
    ev = ev.astype({"time": "float64", "account_id": "int64", "contact_id": "int64"})
    ev = ev.sort_values(["account_id", "time"], kind="stable").reset_index(drop=True)

    home: dict[int, int] = {}
    for _, a, c, _ in events:
        if c != ANON:
            home.setdefault(c, a)
    contacts = dict(contacts or {})
    rows = []
    for cid in sorted(set(home) | set(contacts)):
        spec = contacts.get(cid, {})
        if spec is None:
            continue
        if isinstance(spec, str):
            spec = {"title": spec}
        rows.append(
            {"contact_id": cid, "account_id": home.get(cid, 0), "title": "Engineer", **spec}
        )
    people = (
        pd.DataFrame(rows) if rows else pd.DataFrame(columns=["contact_id", "account_id", "title"])
    )

    accounts = dict(accounts or {})
    arows = []
    for aid in sorted(set(ev["account_id"].tolist()) | set(accounts)):
        spec = accounts.get(aid, {})
        if spec is None:
            continue
        arows.append({"account_id": aid, **spec})
    table = pd.DataFrame(arows) if arows else pd.DataFrame(columns=["account_id"])
    return sim.EventLog(ev, people, table)


def mqa(**kw):
    """An mqa_count policy: window 30 days, default activities, ``any: [unique_contacts: 2]``
    unless given."""
    data = {"name": "t-mqa", "kind": "mqa_count", "window_days": 30, **kw}
    if not {"any", "all", "not"} & set(kw):
        data["any"] = [{"unique_contacts": 2}]
    return load_policy(data)


def mql(**kw):
    return load_policy({"name": "t-mql", "kind": "mql", **kw})


def weighted(**kw):
    data = {
        "name": "t-wt",
        "kind": "weighted_titles",
        "threshold": 40,
        "activity_weights": {
            "demo_request": 10,
            "webinar": 3,
            "content_download": 2,
            "web_visit": 1,
        },
        "title_weights": [
            {"match": ["ciso", "chief information security"], "weight": 5},
            {"match": ["vp", "vice president"], "weight": 3},
            {"match": ["analyst", "intern"], "weight": 0.5},
        ],
        "default_title_weight": 1,
        **kw,
    }
    if "decay" not in kw and "window_days" not in kw:
        data["window_days"] = 30
    return load_policy(data)


def stages_policy(stages, handoff, **kw):
    return load_policy(
        {"name": "t-stages", "kind": "stages", "handoff_stage": handoff, "stages": stages, **kw}
    )


SHIPPED_STAGES = [
    {"name": "aware", "when": {"unique_contacts": 1, "window_days": 90}},
    {
        "name": "engaged",
        "when": {
            "unique_contacts": 2,
            "window_days": 30,
            "activities": ["content_download", "webinar", "demo_request"],
        },
    },
    {
        "name": "sales_ready",
        "when": {"min_activities": 1, "window_days": 30, "activities": ["demo_request"]},
    },
]


def got(df, *cols):
    """The handoffs as plain tuples: (account_id, time, *cols)."""
    out = []
    for row in df.to_dict("records"):
        extra = []
        for c in cols:
            v = row[c]
            extra.append(int(v) if c == "contact_id" else v)
        out.append((int(row["account_id"]), float(row["time"]), *extra))
    return out


def times(df):
    return [float(t) for t in df["time"]]


def below(x: float) -> float:
    """The largest float strictly below x: "a hair earlier"."""
    return float(np.nextafter(x, -math.inf))


# --------------------------------------------------------------------------------------------
# Output: qualifications
# --------------------------------------------------------------------------------------------


def test_output_columns_dtypes_and_values(evaluate):
    # Two contacts at t=1 -> mqa handoff at 1 (rule any.0, score 2, contact -1, stage "").
    log = make_log([(0, 0, 1, "web_visit"), (1, 0, 2, "web_visit")])
    df = evaluate(mqa(), log)
    assert list(df.columns) == COLUMNS
    assert str(df["account_id"].dtype) == "int64"
    assert str(df["contact_id"].dtype) == "int64"
    assert str(df["time"].dtype) == "float64"
    assert str(df["score"].dtype) == "float64"
    for c in ("policy", "rule", "stage"):
        assert pd.api.types.is_string_dtype(df[c])
        assert all(isinstance(v, str) for v in df[c])
    assert got(df, "policy", "contact_id", "rule", "score", "stage") == [
        (0, 1.0, "t-mqa", -1, "any.0", 2.0, "")
    ]


def test_empty_frame_when_nothing_qualifies(evaluate):
    log = make_log([(0, 0, 1, "web_visit")])  # one contact: any.0 (2 contacts) never holds
    df = evaluate(mqa(), log)
    assert len(df) == 0
    assert list(df.columns) == COLUMNS
    assert str(df["account_id"].dtype) == "int64"
    assert str(df["time"].dtype) == "float64"


def test_rows_sorted_by_account_then_time(evaluate):
    # recycle 5, any unique_contacts 1: account 3 at 0 and 6; account 1 at 2 and 8.
    log = make_log(
        [
            (0, 3, 30, "web_visit"),
            (6, 3, 30, "web_visit"),
            (2, 1, 10, "web_visit"),
            (8, 1, 10, "web_visit"),
        ]
    )
    df = evaluate(mqa(any=[{"unique_contacts": 1}], recycle_days=5), log)
    assert got(df) == [(1, 2.0), (1, 8.0), (3, 0.0), (3, 6.0)]


# --------------------------------------------------------------------------------------------
# Trailing window: [t - W, t], both ends included; the lower edge is the float t - W
# --------------------------------------------------------------------------------------------


def test_window_lower_edge_included(evaluate):
    # At t=40 the 30-day window is [10, 40]: contact 1's touch at exactly 10 counts -> 2 unique.
    log = make_log([(10.0, 0, 1, "web_visit"), (40.0, 0, 2, "web_visit")])
    assert got(evaluate(mqa(), log), "rule", "score") == [(0, 40.0, "any.0", 2.0)]


def test_window_lower_edge_a_hair_earlier_excluded(evaluate):
    # The touch at just below 10 is outside [10, 40]: only contact 2 at t=40 -> no handoff.
    log = make_log([(below(10.0), 0, 1, "web_visit"), (40.0, 0, 2, "web_visit")])
    assert len(evaluate(mqa(), log)) == 0


def test_window_lower_edge_is_the_float_t_minus_w(evaluate):
    # t = 40.3, W = 30: the lower edge is the float 40.3 - 30 (not 10.3); a touch exactly there
    # counts, a touch one float below it does not.
    t = 40.3
    edge = t - 30
    inside = make_log([(edge, 0, 1, "web_visit"), (t, 0, 2, "web_visit")])
    outside = make_log([(below(edge), 0, 1, "web_visit"), (t, 0, 2, "web_visit")])
    assert times(evaluate(mqa(), inside)) == [t]
    assert len(evaluate(mqa(), outside)) == 0


def test_events_at_the_same_time_are_all_visible(evaluate):
    # Both touches at t=5: at t=5 the policy sees both -> 2 unique -> handoff at 5.
    log = make_log([(5.0, 0, 1, "web_visit"), (5.0, 0, 2, "web_visit")])
    assert times(evaluate(mqa(), log)) == [5.0]


def test_future_events_are_not_visible(evaluate):
    # At t=5 only contact 1 is visible (contact 2 touches at 5.5) -> handoff at 5.5, not 5.
    log = make_log([(5.0, 0, 1, "web_visit"), (5.5, 0, 2, "web_visit")])
    assert times(evaluate(mqa(), log)) == [5.5]


def test_evaluated_at_anonymous_impression_times(evaluate):
    # not: {unique_contacts: 1} holds when nobody counted in the last 30 days.
    # t=0: contact 1 counts -> fails. t=10 (anonymous impression): window [-20,10] still has
    # contact 1 -> fails. t=40 (anonymous impression): window [10,40] has no counting known
    # touch (the impression at 10 is anonymous and not a default activity) -> "not" holds.
    log = make_log(
        [(0, 0, 1, "web_visit"), (10, 0, ANON, "impression"), (40, 0, ANON, "impression")]
    )
    policy = mqa(**{"not": {"unique_contacts": 1}})
    assert got(evaluate(policy, log), "rule", "score") == [(0, 40.0, "not", 0.0)]


# --------------------------------------------------------------------------------------------
# Recycling
# --------------------------------------------------------------------------------------------


def test_recycle_days(evaluate):
    # unique_contacts 1, recycle 10. Handoff at 0; 5 and 9.99 are before 0 + 10; 10 is the first
    # event time >= 10 -> handoff; then nothing before 20 (12 is too early); 25 -> handoff.
    log = make_log([(t, 0, 1, "web_visit") for t in (0, 5, 9.99, 10, 12, 25)])
    df = evaluate(mqa(any=[{"unique_contacts": 1}], recycle_days=10), log)
    assert times(df) == [0.0, 10.0, 25.0]


def test_recycle_waits_for_the_rule_to_hold_again(evaluate):
    # window 5, unique_contacts 2, recycle 10. t=0: contacts 1, 2 -> handoff. t=12 (>= 10):
    # window [7, 12] has contact 1 only -> no. t=13: window [8, 13] has 1 and 2 -> handoff.
    log = make_log(
        [
            (0, 0, 1, "web_visit"),
            (0, 0, 2, "web_visit"),
            (12, 0, 1, "web_visit"),
            (13, 0, 2, "web_visit"),
        ]
    )
    df = evaluate(mqa(window_days=5, recycle_days=10), log)
    assert times(df) == [0.0, 13.0]


def test_without_recycle_days_at_most_once(evaluate):
    log = make_log([(t, 0, 1, "web_visit") for t in (0, 5, 9.99, 10, 12, 25)])
    assert times(evaluate(mqa(any=[{"unique_contacts": 1}]), log)) == [0.0]


def test_recycle_days_for_mql(evaluate):
    # demo_request 100, threshold 100, no decay, recycle 30. t=0: contact 1 at 100 -> handoff;
    # t=10 is before 30; t=30: score still 100 (no decay) -> handoff again.
    log = make_log([(0, 0, 1, "demo_request"), (10, 0, 1, "web_visit"), (30, 0, 1, "web_visit")])
    policy = mql(threshold=100, points={"demo_request": 100}, recycle_days=30)
    assert got(evaluate(policy, log), "contact_id", "score") == [
        (0, 0.0, 1, 100.0),
        (0, 30.0, 1, 100.0),
    ]


# --------------------------------------------------------------------------------------------
# Anonymous touches
# --------------------------------------------------------------------------------------------


def test_anonymous_touches_never_count_as_unique_contacts(evaluate):
    # One known contact and five anonymous touches: 1 unique even with include_anonymous.
    log = make_log([(0, 0, 1, "web_visit")] + [(t, 0, ANON, "web_visit") for t in range(1, 6)])
    assert len(evaluate(mqa(include_anonymous=True), log)) == 0


ANON_LOG = [(0, 0, 1, "web_visit"), (1, 0, ANON, "web_visit"), (2, 0, ANON, "web_visit")]


def test_anonymous_count_toward_activities_only_with_include_anonymous(evaluate):
    # {unique_contacts 1, min_activities 3}: contact 1 + two anonymous touches.
    # Default: 1 counting touch -> never. include_anonymous: at t=2, 3 touches, 1 unique.
    rule = [{"unique_contacts": 1, "min_activities": 3}]
    log = make_log(ANON_LOG)
    assert len(evaluate(mqa(any=rule), log)) == 0
    df = evaluate(mqa(any=rule, include_anonymous=True), log)
    # score: distinct known counting contacts = 1 (anonymous never unique)
    assert got(df, "rule", "score") == [(0, 2.0, "any.0", 1.0)]


def test_condition_include_anonymous_overrides_policy(evaluate):
    log = make_log(ANON_LOG)
    off = [{"unique_contacts": 1, "min_activities": 3, "include_anonymous": False}]
    on = [{"unique_contacts": 1, "min_activities": 3, "include_anonymous": True}]
    # policy true, condition false -> 1 touch counts -> never
    assert len(evaluate(mqa(any=off, include_anonymous=True), log)) == 0
    # policy false (default), condition true -> 3 touches at t=2
    assert times(evaluate(mqa(any=on), log)) == [2.0]


def test_anonymous_never_count_when_condition_filters_people(evaluate):
    # min_activities 3 among VPs, include_anonymous true: VP touches at 0 and 1, anonymous at
    # 2 and 3 -> the filter drops anonymous touches -> 2 < 3 -> never. Without the filter
    # (control): at t=2 three counting touches -> handoff at 2.
    contacts = {1: {"title": "VP Sales", "seniority": "vp"}}
    log = make_log(
        [
            (0, 0, 1, "web_visit"),
            (1, 0, 1, "web_visit"),
            (2, 0, ANON, "web_visit"),
            (3, 0, ANON, "web_visit"),
        ],
        contacts,
    )
    filtered = [{"min_activities": 3, "seniority": ["vp"], "include_anonymous": True}]
    assert len(evaluate(mqa(any=filtered), log)) == 0
    roles = [{"min_activities": 3, "roles": ["champion"], "include_anonymous": True}]
    assert len(evaluate(mqa(any=roles), log)) == 0
    plain = [{"min_activities": 3, "include_anonymous": True}]
    assert times(evaluate(mqa(any=plain), log)) == [2.0]


# --------------------------------------------------------------------------------------------
# Activities
# --------------------------------------------------------------------------------------------


def test_default_activities_exclude_impression_and_email_open(evaluate):
    # unique 2 with default activities: t=0 contact 1 impression (no), t=1 contact 2 email_open
    # (no), t=2 contact 3 web_visit (1 unique), t=3 contact 2 email_click -> {3, 2} -> handoff.
    log = make_log(
        [
            (0, 0, 1, "impression"),
            (1, 0, 2, "email_open"),
            (2, 0, 3, "web_visit"),
            (3, 0, 2, "email_click"),
        ]
    )
    assert got(evaluate(mqa(), log), "score") == [(0, 3.0, 2.0)]


def test_activity_filter_policy_and_condition(evaluate):
    # Contact 1 web_visit at 0, contact 2 demo_request at 1.
    log = make_log([(0, 0, 1, "web_visit"), (1, 0, 2, "demo_request")])
    # Policy activities [demo_request]: 1 unique -> never.
    assert len(evaluate(mqa(activities=["demo_request"]), log)) == 0
    # The condition overrides: both count -> handoff at 1. The score uses the policy's
    # activities: only contact 2 -> 1.
    rule = [{"unique_contacts": 2, "activities": ["web_visit", "demo_request"]}]
    df = evaluate(mqa(activities=["demo_request"], any=rule), log)
    assert got(df, "score") == [(0, 1.0, 1.0)]


def test_unknown_activity_name_is_a_validation_error():
    with pytest.raises(ConfigError):
        mqa(activities=["web_visit", "phone_call"])
    with pytest.raises(ConfigError):
        mql(threshold=10, points={"carrier_pigeon": 1})


# --------------------------------------------------------------------------------------------
# Conditions: unique_contacts and min_activities, filters
# --------------------------------------------------------------------------------------------


def test_condition_needs_both_counts(evaluate):
    # {unique 2, min_activities 3}: t=0 c1 (1,1); t=1 c2 (2,2); t=2 c1 (2,3) -> handoff at 2.
    log = make_log([(0, 0, 1, "web_visit"), (1, 0, 2, "web_visit"), (2, 0, 1, "web_visit")])
    df = evaluate(mqa(any=[{"unique_contacts": 2, "min_activities": 3}]), log)
    assert times(df) == [2.0]


def test_condition_window_override(evaluate):
    # Condition window 5 instead of 30: c1 at 0, c2 at 10 -> at 10 window [5, 10] has c2 only;
    # c1 again at 12 -> window [7, 12]: c2, c1 -> handoff at 12. Score (policy window 30): 2.
    log = make_log([(0, 0, 1, "web_visit"), (10, 0, 2, "web_visit"), (12, 0, 1, "web_visit")])
    df = evaluate(mqa(any=[{"unique_contacts": 2, "window_days": 5}]), log)
    assert got(df, "score") == [(0, 12.0, 2.0)]


def test_seniority_filter(evaluate):
    # Only VPs and C-levels count; contact 4 is not in the contacts table (unknown seniority).
    # t=0 c1 vp (1); t=1 c2 manager; t=2 c4 unknown; t=3 c3 c_level (2) -> handoff at 3.
    # Score ignores the filter: contacts 1, 2, 4, 3 -> 4.
    contacts = {
        1: {"seniority": "vp"},
        2: {"seniority": "manager"},
        3: {"seniority": "c_level"},
        4: None,
    }
    log = make_log(
        [
            (0, 0, 1, "web_visit"),
            (1, 0, 2, "web_visit"),
            (2, 0, 4, "web_visit"),
            (3, 0, 3, "web_visit"),
        ],
        contacts,
    )
    df = evaluate(mqa(any=[{"unique_contacts": 2, "seniority": ["vp", "c_level"]}]), log)
    assert got(df, "score") == [(0, 3.0, 4.0)]


def test_roles_filter_and_both_filters(evaluate):
    # c1 vp champion, c2 manager decision_maker, c3 vp decision_maker, at t = 0, 1, 2.
    contacts = {
        1: {"seniority": "vp", "role": "champion"},
        2: {"seniority": "manager", "role": "decision_maker"},
        3: {"seniority": "vp", "role": "decision_maker"},
    }
    log = make_log(
        [(0, 0, 1, "web_visit"), (1, 0, 2, "web_visit"), (2, 0, 3, "web_visit")], contacts
    )
    # roles only: c2 at 1 is the first decision maker.
    assert times(evaluate(mqa(any=[{"unique_contacts": 1, "roles": ["decision_maker"]}]), log)) == [
        1.0
    ]
    # both filters: a contact must pass both -> c3 at 2.
    both = [{"unique_contacts": 1, "roles": ["decision_maker"], "seniority": ["vp"]}]
    assert times(evaluate(mqa(any=both), log)) == [2.0]


def test_filter_on_a_missing_column_never_matches(evaluate):
    # The contacts table has no seniority / role column: the filters never match.
    log = make_log([(0, 0, 1, "web_visit"), (1, 0, 2, "web_visit")])
    assert "seniority" not in log.contacts.columns
    assert len(evaluate(mqa(any=[{"unique_contacts": 1, "seniority": ["vp"]}]), log)) == 0
    assert len(evaluate(mqa(any=[{"unique_contacts": 1, "roles": ["champion"]}]), log)) == 0


def test_account_filters_tier_and_icp_fit_min(evaluate):
    # any.0 holds only for tier 1; any.1 only for icp_fit >= 0.5. One touch per account at 0.
    # acct 0: tier 1, fit .2 -> any.0. acct 1: tier 2, fit .5 -> any.1 (inclusive).
    # acct 2: tier 2, fit .49 -> none. acct 3: not in the accounts table -> none.
    # acct 4: tier and fit missing -> none.
    rule = [{"unique_contacts": 1, "tier": [1]}, {"unique_contacts": 1, "icp_fit_min": 0.5}]
    accounts = {
        0: {"tier": 1, "icp_fit": 0.2},
        1: {"tier": 2, "icp_fit": 0.5},
        2: {"tier": 2, "icp_fit": 0.49},
        3: None,
        4: {},
    }
    log = make_log([(0, a, 10 + a, "web_visit") for a in range(5)], accounts=accounts)
    assert got(evaluate(mqa(any=rule), log), "rule") == [(0, 0.0, "any.0"), (1, 0.0, "any.1")]


def test_account_filters_without_columns_never_hold(evaluate):
    log = make_log([(0, 0, 1, "web_visit")])
    assert list(log.accounts.columns) == ["account_id"]
    assert len(evaluate(mqa(any=[{"unique_contacts": 1, "tier": [1, 2, 3]}]), log)) == 0
    assert len(evaluate(mqa(any=[{"unique_contacts": 1, "icp_fit_min": 0.0}]), log)) == 0


# --------------------------------------------------------------------------------------------
# Conditions: engagement depth per contact (min_touches_per_contact) and exclude_titles
# --------------------------------------------------------------------------------------------

DEEP = [{"unique_contacts": 2, "min_touches_per_contact": 2}]


def test_a_single_email_click_no_longer_counts_a_person(evaluate):
    # c1: web visit at 0, download at 1 (2 touches). c2: one email click at 2.
    # Plain breadth: c1 and c2 at 2 -> handoff at 2. Two touches each: c2 has 1 at 2 -> no;
    # c2's web visit at 5 -> c1 (0, 1) and c2 (2, 5) in [-25, 5] -> handoff at 5, score 2.
    log = make_log(
        [
            (0, 0, 1, "web_visit"),
            (1, 0, 1, "content_download"),
            (2, 0, 2, "email_click"),
            (5, 0, 2, "web_visit"),
        ]
    )
    assert got(evaluate(mqa(), log), "rule", "score") == [(0, 2.0, "any.0", 2.0)]
    assert got(evaluate(mqa(any=DEEP), log), "rule", "score") == [(0, 5.0, "any.0", 2.0)]


def test_depth_counts_a_contact_touches_in_the_window_only(evaluate):
    # Window 10, two people with two touches each.
    # acct 0: c1 at 16 and 20, c2 at 25 and 26: at 26 the window [16, 26] holds both of c1's
    #   (16 on the edge) -> handoff at 26.
    # acct 1: the same with c11's first touch a hair before 16: c11 has 1 touch in [16, 26] ->
    #   never.
    # acct 2: c21 at 0 and 25 (never two in 10 days), c22 at 12 and 14, c23 at 30:
    #   at 14 c22 counts (12, 14) but c21 does not; at 25 c22's touch at 12 has left [15, 25];
    #   -> never.
    # With one such person: c1 at 20 and c11 at 20 (both touches in [10, 20]), c22 at 14.
    events = [(16, 0, 1, "web_visit"), (20, 0, 1, "web_visit")]
    events += [(25, 0, 2, "web_visit"), (26, 0, 2, "web_visit")]
    events += [(below(16.0), 1, 11, "web_visit"), (20, 1, 11, "web_visit")]
    events += [(25, 1, 12, "web_visit"), (26, 1, 12, "web_visit")]
    events += [(0, 2, 21, "web_visit"), (12, 2, 22, "web_visit"), (14, 2, 22, "web_visit")]
    events += [(25, 2, 21, "web_visit"), (30, 2, 23, "web_visit")]
    log = make_log(events)
    assert got(evaluate(mqa(window_days=10, any=DEEP), log)) == [(0, 26.0)]
    one = [{"unique_contacts": 1, "min_touches_per_contact": 2}]
    assert got(evaluate(mqa(window_days=10, any=one), log)) == [(0, 20.0), (1, 20.0), (2, 14.0)]


def test_depth_counts_touches_at_the_same_time(evaluate):
    # c1 downloads twice at 3 and c2 twice at 4 (same time each): both have 2 touches at 4.
    log = make_log([(3, 0, 1, "content_download")] * 2 + [(4, 0, 2, "content_download")] * 2)
    assert times(evaluate(mqa(any=DEEP), log)) == [4.0]


def test_depth_leaves_min_activities_counting_every_touch(evaluate):
    # c1, c2, c3 one visit each at 0, 1, 2, and c3 again at 3.
    # {unique 1 with 2 touches, min_activities 4}: at 3 c3 has 2 and there are 4 touches.
    # With min_activities 3: 3 touches at 2 but nobody has 2 yet -> still 3 (without the
    # depth: at 2). Every touch counts toward min_activities, a shallow contact's too.
    log = make_log([(t, 0, c, "web_visit") for t, c in ((0, 1), (1, 2), (2, 3), (3, 3))])
    deep = {"unique_contacts": 1, "min_touches_per_contact": 2}
    assert times(evaluate(mqa(any=[{**deep, "min_activities": 4}]), log)) == [3.0]
    assert times(evaluate(mqa(any=[{**deep, "min_activities": 3}]), log)) == [3.0]
    assert times(evaluate(mqa(any=[{"unique_contacts": 1, "min_activities": 3}]), log)) == [2.0]
    # With unique_contacts 0 the depth changes nothing: 3 touches at 2.
    only = {"min_activities": 3, "min_touches_per_contact": 4}
    assert times(evaluate(mqa(any=[only]), log)) == [2.0]


STUDENTS = {
    1: "Student",
    2: "PhD Student",
    3: "Security Engineer",
    4: None,  # not in the contacts table
    5: "Internal Audit Manager",  # "intern" is not a word of this title
    6: {"title": None},  # no title recorded
}


def test_excluded_titles_do_not_count_as_people(evaluate):
    # Two people; students and interns do not count. Web visits by c1 (Student) at 0, c2 (PhD
    # Student) at 1, c5 at 2, c3 at 3. Plain: c1 and c2 at 1. Excluding them: c5 and c3 at 3
    # ("Internal" is not "intern"). Score (the policy's window, no condition filters): 4.
    log = make_log([(t, 0, c, "web_visit") for t, c in ((0, 1), (1, 2), (2, 5), (3, 3))], STUDENTS)
    assert times(evaluate(mqa(), log)) == [1.0]
    rule = [{"unique_contacts": 2, "exclude_titles": ["student", "intern"]}]
    assert got(evaluate(mqa(any=rule), log), "score") == [(0, 3.0, 4.0)]


def test_excluded_titles_do_not_count_as_activities(evaluate):
    # min_activities 3 without students: c1 at 0, c2 at 1 (students), c4 (not in the contacts
    # table) at 2, c6 (no title) at 3, c3 at 4 -> 3 touches at 4 (plain: at 2).
    # Anonymous touches have no title: with include_anonymous, one at 2.5 makes it 3 at 3.
    log = make_log(
        [(t, 0, c, "web_visit") for t, c in ((0, 1), (1, 2), (2, 4), (3, 6), (4, 3))], STUDENTS
    )
    assert log.contacts["title"].isna().sum() == 1  # c6's title is missing
    rule = {"min_activities": 3, "exclude_titles": ["Student"]}
    assert times(evaluate(mqa(any=[{"min_activities": 3}]), log)) == [2.0]
    assert times(evaluate(mqa(any=[rule]), log)) == [4.0]
    anon = make_log(
        [(t, 0, c, "web_visit") for t, c in ((0, 1), (1, 2), (2, 4), (2.5, ANON), (3, 6), (4, 3))],
        STUDENTS,
    )
    assert times(evaluate(mqa(any=[{**rule, "include_anonymous": True}]), anon)) == [3.0]


def test_excluded_titles_do_not_count_toward_depth(evaluate):
    # Excluded touches are not the contact's touches either: c1 "VP Sales" has two visits, c2
    # "Sales Intern" two, c3 "CISO" one then another at 9. Two people with two touches each,
    # interns excluded -> c1 and c3 at 9 (plain: c1 and c2 at 3).
    contacts = {1: "VP Sales", 2: "Sales Intern", 3: "CISO"}
    events = [(0, 0, 1, "web_visit"), (1, 0, 2, "web_visit"), (2, 0, 1, "webinar")]
    events += [(3, 0, 2, "webinar"), (4, 0, 3, "web_visit"), (9, 0, 3, "web_visit")]
    log = make_log(events, contacts)
    assert times(evaluate(mqa(any=DEEP), log)) == [3.0]
    assert times(evaluate(mqa(any=[{**DEEP[0], "exclude_titles": ["intern"]}]), log)) == [9.0]


def test_depth_and_excluded_titles_are_validated():
    for bad in (
        {"unique_contacts": 2, "min_touches_per_contact": 0},
        {"unique_contacts": 2, "min_touches_per_contact": 2.0},
        {"unique_contacts": 2, "exclude_titles": []},
        {"unique_contacts": 2, "exclude_titles": [""]},
        {"unique_contacts": 2, "exclude_titles": "student"},
    ):
        with pytest.raises(ConfigError):
            mqa(any=[bad])


# --------------------------------------------------------------------------------------------
# Groups: any / all / not, nesting, rule names, tiers
# --------------------------------------------------------------------------------------------


def test_any_names_the_first_child_that_holds(evaluate):
    # any: [unique 4, unique 2]: two contacts at 1 -> only any.1 holds.
    log = make_log([(0, 0, 1, "web_visit"), (1, 0, 2, "web_visit")])
    rule = [{"unique_contacts": 4}, {"unique_contacts": 2}]
    assert got(evaluate(mqa(any=rule), log), "rule") == [(0, 1.0, "any.1")]
    # any: [unique 2, unique 1]: at t=0 only any.1 (1 contact) -> handoff at 0 as any.1.
    rule = [{"unique_contacts": 2}, {"unique_contacts": 1}]
    assert got(evaluate(mqa(any=rule), log), "rule") == [(0, 0.0, "any.1")]
    # Both hold at the same time -> the first: two contacts at 0 -> any.0.
    log2 = make_log([(0, 0, 1, "web_visit"), (0, 0, 2, "web_visit")])
    assert got(evaluate(mqa(any=rule), log2), "rule") == [(0, 0.0, "any.0")]


def test_all_needs_every_child(evaluate):
    # all: [unique 2, min_activities 3]: t=1 has 2 unique but 2 touches; t=2 has 3 -> "all".
    log = make_log([(0, 0, 1, "web_visit"), (1, 0, 2, "web_visit"), (2, 0, 1, "web_visit")])
    policy = mqa(all=[{"unique_contacts": 2}, {"min_activities": 3}])
    assert got(evaluate(policy, log), "rule", "score") == [(0, 2.0, "all", 2.0)]


def test_nested_groups(evaluate):
    # any: [unique 5, all: [unique 2, not: {an email_click in the window}]]
    # t=0.5 c3 email_click: 1 unique. t=20 c1: {3, 1}, but the click is in [-10, 20] -> no.
    # t=25 c2: click still in window -> no. t=31 (anonymous impression): window [1, 31] has
    # c1@20, c2@25 and no click -> all holds -> any.1. Score: {1, 2} -> 2.
    log = make_log(
        [
            (0.5, 0, 3, "email_click"),
            (20, 0, 1, "web_visit"),
            (25, 0, 2, "web_visit"),
            (31, 0, ANON, "impression"),
        ]
    )
    policy = mqa(
        any=[
            {"unique_contacts": 5},
            {
                "all": [
                    {"unique_contacts": 2},
                    {"not": {"min_activities": 1, "activities": ["email_click"]}},
                ]
            },
        ]
    )
    assert got(evaluate(policy, log), "rule", "score") == [(0, 31.0, "any.1", 2.0)]


def test_tier_override_and_its_rule_names(evaluate):
    # Default any: [unique 3]; tier 1: any: [unique 5, unique 1]; tier 2: all: [unique 1,
    # min_activities 2].
    # acct 0 (tier 1): c1 at 0 -> tiers.1.any.1 at 0.
    # acct 1 (tier 2): c11 at 0 (1 touch), c11 at 1 (2 touches) -> tiers.2.all at 1.
    # acct 2 (tier 3, no override): c21, c22, c23 at 0, 1, 2 -> any.0 at 2.
    policy = mqa(
        any=[{"unique_contacts": 3}],
        tiers={
            1: {"any": [{"unique_contacts": 5}, {"unique_contacts": 1}]},
            2: {"all": [{"unique_contacts": 1}, {"min_activities": 2}]},
        },
    )
    log = make_log(
        [
            (0, 0, 1, "web_visit"),
            (0, 1, 11, "web_visit"),
            (1, 1, 11, "web_visit"),
            (0, 2, 21, "web_visit"),
            (1, 2, 22, "web_visit"),
            (2, 2, 23, "web_visit"),
        ],
        accounts={0: {"tier": 1}, 1: {"tier": 2}, 2: {"tier": 3}},
    )
    assert got(evaluate(policy, log), "rule", "score") == [
        (0, 0.0, "tiers.1.any.1", 1.0),
        (1, 1.0, "tiers.2.all", 1.0),
        (2, 2.0, "any.0", 3.0),
    ]


def test_no_tier_column_means_no_override(evaluate):
    # Without a tier the default clauses apply: one contact is not enough for unique 3.
    policy = mqa(any=[{"unique_contacts": 3}], tiers={1: {"any": [{"unique_contacts": 1}]}})
    log = make_log([(0, 0, 1, "web_visit")])
    assert len(evaluate(policy, log)) == 0


def test_mqa_score_counts_contacts_in_the_policy_window(evaluate):
    # Condition with its own 100-day window: unique 3. c1 at 0, c2 at 50, c3 at 90 -> holds at
    # 90. Score: distinct contacts in the policy's 30-day window [60, 90] -> only c3 -> 1.
    log = make_log([(0, 0, 1, "web_visit"), (50, 0, 2, "web_visit"), (90, 0, 3, "web_visit")])
    df = evaluate(mqa(any=[{"unique_contacts": 3, "window_days": 100}]), log)
    assert got(df, "score") == [(0, 90.0, 1.0)]


# --------------------------------------------------------------------------------------------
# mql
# --------------------------------------------------------------------------------------------


def test_mql_scores_are_per_contact(evaluate):
    # content_download 20, no decay, threshold 100.
    # acct 0: c1 x3 = 60, c2 x3 = 60 -> account total 120 but no MQL.
    # acct 1: c11 x5 at t = 0..4 -> 100 at t=4 -> handoff, contact 11, score 100.
    log = make_log(
        [(t, 0, 1, "content_download") for t in (0, 1, 2)]
        + [(t, 0, 2, "content_download") for t in (3, 4, 5)]
        + [(t, 1, 11, "content_download") for t in (0, 1, 2, 3, 4)]
    )
    policy = mql(threshold=100, points={"content_download": 20})
    assert got(evaluate(policy, log), "contact_id", "rule", "score") == [
        (1, 4.0, 11, "threshold", 100.0)
    ]


def test_mql_fit_points(evaluate):
    # fit: seniority vp 15 + department security 5 + title "security" 10.
    # c1 "VP Security", vp, security: fit 30; demos at 0 (60) and 1 (90) -> handoff at 1, 90.
    # c11 "VP IT", vp, it: fit 15 (no department/title points); 45, 75, 105 -> at 2, 105.
    # c21 "Security Engineer", manager (not listed -> 0), department missing: fit 10;
    # 40, 70, 100 -> at 2, 100.
    policy = mql(
        threshold=90,
        points={"demo_request": 30},
        fit={
            "seniority": {"vp": 15},
            "department": {"security": 5},
            "titles": [{"match": ["security"], "points": 10}],
        },
    )
    contacts = {
        1: {"title": "VP Security", "seniority": "vp", "department": "security"},
        11: {"title": "VP IT", "seniority": "vp", "department": "it"},
        21: {"title": "Security Engineer", "seniority": "manager"},
    }
    log = make_log(
        [
            (0, 0, 1, "demo_request"),
            (1, 0, 1, "demo_request"),
            (0, 1, 11, "demo_request"),
            (1, 1, 11, "demo_request"),
            (2, 1, 11, "demo_request"),
            (0, 2, 21, "demo_request"),
            (1, 2, 21, "demo_request"),
            (2, 2, 21, "demo_request"),
        ],
        contacts,
    )
    df = evaluate(policy, log)
    assert got(df, "contact_id") == [(0, 1.0, 1), (1, 2.0, 11), (2, 2.0, 21)]
    assert df["score"].tolist() == pytest.approx([90.0, 105.0, 100.0])


def test_mql_fit_titles_first_matching_entry(evaluate):
    # titles: [vp -> 10, security -> 50]; "VP Security" matches both: the first entry wins
    # -> fit 10. One demo (30) at 0 -> 40 >= 40 -> handoff with score 40 (not 80, not 90).
    policy = mql(
        threshold=40,
        points={"demo_request": 30},
        fit={
            "titles": [{"match": ["vp"], "points": 10}, {"match": ["security"], "points": 50}],
        },
    )
    log = make_log([(0, 0, 1, "demo_request")], {1: "VP Security"})
    assert got(evaluate(policy, log), "score") == [(0, 0.0, 40.0)]


def test_mql_no_fit_column_gives_zero(evaluate):
    # No seniority column: the vp points never apply; 30 < 40 -> no handoff.
    policy = mql(threshold=40, points={"demo_request": 30}, fit={"seniority": {"vp": 15}})
    log = make_log([(0, 0, 1, "demo_request")], {1: "VP Sales"})
    assert len(evaluate(policy, log)) == 0


def test_mql_half_life(evaluate):
    # half-life 30: a demo (100) at 0 is worth 100 * 0.5^(30/30) = 50 at t=30; the webinar
    # (100) at 30 adds 100 -> 150 at t=30. Threshold 149 -> handoff at 30, score 150;
    # threshold 151 -> none (and 100 at t=0 is below both).
    log = make_log([(0, 0, 1, "demo_request"), (30, 0, 1, "webinar")])
    points = {"demo_request": 100, "webinar": 100}
    df = evaluate(mql(threshold=149, points=points, decay={"half_life_days": 30}), log)
    assert got(df, "contact_id") == [(0, 30.0, 1)]
    assert df["score"].tolist() == pytest.approx([150.0])
    assert len(evaluate(mql(threshold=151, points=points, decay={"half_life_days": 30}), log)) == 0


def test_mql_window_decay(evaluate):
    # decay window 30: demo (60) at 10 and at 40: at 40 the window [10, 40] has both -> 120.
    # If the first is a hair before 10 it has left the window -> 60 -> no handoff.
    policy = mql(threshold=120, points={"demo_request": 60}, decay={"window_days": 30})
    inside = make_log([(10.0, 0, 1, "demo_request"), (40.0, 0, 1, "demo_request")])
    outside = make_log([(below(10.0), 0, 1, "demo_request"), (40.0, 0, 1, "demo_request")])
    assert got(evaluate(policy, inside), "score") == [(0, 40.0, 120.0)]
    assert len(evaluate(policy, outside)) == 0


def test_mql_without_decay_points_never_decay(evaluate):
    # 60 at 0 + 60 at 1000 = 120 at 1000.
    log = make_log([(0, 0, 1, "demo_request"), (1000, 0, 1, "demo_request")])
    df = evaluate(mql(threshold=120, points={"demo_request": 60}), log)
    assert got(df, "score") == [(0, 1000.0, 120.0)]


def test_mql_contact_is_the_highest_scorer_ties_lowest_id(evaluate):
    # demo 10, threshold 20. acct 0: c5 x2 (20), c7 x3 (30) at t=0 -> contact 7, score 30.
    # acct 1: c17 x2, c12 x2 at 0 -> tie at 20 -> lowest id 12.
    log = make_log(
        [(0, 0, 5, "demo_request")] * 2
        + [(0, 0, 7, "demo_request")] * 3
        + [(0, 1, 17, "demo_request")] * 2
        + [(0, 1, 12, "demo_request")] * 2
    )
    df = evaluate(mql(threshold=20, points={"demo_request": 10}), log)
    assert got(df, "contact_id", "score") == [(0, 0.0, 7, 30.0), (1, 0.0, 12, 20.0)]


def test_mql_anonymous_touches_never_score(evaluate):
    log = make_log([(t, 0, ANON, "demo_request") for t in range(10)])
    assert len(evaluate(mql(threshold=30, points={"demo_request": 30}), log)) == 0


def test_mql_unlisted_activities_score_zero(evaluate):
    log = make_log([(t, 0, 1, "web_visit") for t in range(40)])
    assert len(evaluate(mql(threshold=30, points={"demo_request": 30}), log)) == 0


def test_mql_score_starts_at_the_first_touch(evaluate):
    # c1 is c_level: fit 100 = threshold. It has no score before its first touch: the
    # anonymous visit at 0 is no handoff; its impression at 5 (0 points) is -> 100 at 5.
    # c2 (also c_level, in the contacts table) never touches -> never scores.
    contacts = {1: {"seniority": "c_level"}, 2: {"seniority": "c_level", "account_id": 0}}
    log = make_log([(0, 0, ANON, "web_visit"), (5, 0, 1, "impression")], contacts)
    policy = mql(threshold=100, points={"demo_request": 30}, fit={"seniority": {"c_level": 100}})
    assert got(evaluate(policy, log), "contact_id", "score") == [(0, 5.0, 1, 100.0)]


def test_mql_negative_points_decay_back_up(evaluate):
    # fit 100, email_click -40, half-life 10, threshold 95. c1's click at 0 -> 60.
    # t=20 (anonymous impression): 100 - 40 * 0.25 = 90 -> no.
    # t=35 (anonymous impression): 100 - 40 * 0.5^3.5 = 100 - 3.5355 = 96.46 -> handoff.
    log = make_log(
        [(0, 0, 1, "email_click"), (20, 0, ANON, "impression"), (35, 0, ANON, "impression")],
        {1: {"seniority": "c_level"}},
    )
    policy = mql(
        threshold=95,
        points={"email_click": -40},
        fit={"seniority": {"c_level": 100}},
        decay={"half_life_days": 10},
    )
    df = evaluate(policy, log)
    assert got(df, "contact_id") == [(0, 35.0, 1)]
    assert df["score"].tolist() == pytest.approx([100 - 40 * 0.5**3.5])


# --------------------------------------------------------------------------------------------
# weighted_titles
# --------------------------------------------------------------------------------------------


def test_weighted_titles_ciso_vs_analyst(evaluate):
    # acct 0: CISO demo at 0 -> 10 * 5 = 50 >= 40 -> handoff at 0, score 50.
    # acct 1: analyst demos at 0..7 -> 5 each: 35 at t=6, 40 at t=7 -> handoff at 7, score 40.
    log = make_log(
        [(0, 0, 1, "demo_request")] + [(t, 1, 11, "demo_request") for t in range(8)],
        {1: "CISO", 11: "Security Analyst"},
    )
    df = evaluate(weighted(), log)
    assert got(df, "contact_id", "rule") == [(0, 0.0, -1, "threshold"), (1, 7.0, -1, "threshold")]
    assert df["score"].tolist() == pytest.approx([50.0, 40.0])


def test_weighted_titles_first_matching_entry_wins(evaluate):
    # Entry order decides, not word order: "Security Analyst reporting to the VP" matches the
    # vp entry (3) before the analyst entry (0.5) -> demo 30 at 0; "Intern, Office of the
    # CISO" matches the ciso entry (5) first -> 50. Threshold 30: both at 0.
    log = make_log(
        [(0, 0, 1, "demo_request"), (0, 1, 11, "demo_request")],
        {1: "Security Analyst reporting to the VP", 11: "Intern, Office of the CISO"},
    )
    df = evaluate(weighted(threshold=30), log)
    assert got(df) == [(0, 0.0), (1, 0.0)]
    assert df["score"].tolist() == pytest.approx([30.0, 50.0])


def test_weighted_titles_whole_words(evaluate):
    # "VPN Administrator" does not match vp -> default 1: demo 10. "Senior VP, Sales" -> 3:
    # 30. "VP Engineering" -> 30. Threshold 30: accounts 1 and 2 at 0, not account 0.
    log = make_log(
        [(0, 0, 1, "demo_request"), (0, 1, 11, "demo_request"), (0, 2, 21, "demo_request")],
        {1: "VPN Administrator", 11: "Senior VP, Sales", 21: "VP Engineering"},
    )
    df = evaluate(weighted(threshold=30), log)
    assert got(df) == [(1, 0.0), (2, 0.0)]


def test_weighted_titles_unlisted_activity_weighs_zero(evaluate):
    # pricing_visit is not in activity_weights: fifty of them by a CISO score 0.
    log = make_log([(t, 0, 1, "pricing_visit") for t in range(50)], {1: "CISO"})
    assert len(evaluate(weighted(threshold=1), log)) == 0


def test_weighted_titles_anonymous_at_default_weight(evaluate):
    # Four anonymous demos at 0..3: without include_anonymous -> 0. With it, each 10 * 1:
    # 40 at t=3. With default_title_weight 2: 20 each -> 40 at t=1.
    log = make_log([(t, 0, ANON, "demo_request") for t in range(4)])
    assert len(evaluate(weighted(), log)) == 0
    assert got(evaluate(weighted(include_anonymous=True), log), "score") == [(0, 3.0, 40.0)]
    df = evaluate(weighted(include_anonymous=True, default_title_weight=2), log)
    assert got(df, "score") == [(0, 1.0, 40.0)]


def test_weighted_titles_window_edges(evaluate):
    # Window 30, threshold 100: CISO demos (50 each) at 10 and 40 -> at 40 window [10, 40] has
    # both -> 100. With the first a hair before 10 -> 50 -> none.
    inside = make_log([(10.0, 0, 1, "demo_request"), (40.0, 0, 1, "demo_request")], {1: "CISO"})
    outside = make_log(
        [(below(10.0), 0, 1, "demo_request"), (40.0, 0, 1, "demo_request")], {1: "CISO"}
    )
    assert got(evaluate(weighted(threshold=100), inside), "score") == [(0, 40.0, 100.0)]
    assert len(evaluate(weighted(threshold=100), outside)) == 0


def test_weighted_titles_half_life(evaluate):
    # half-life 10: CISO demo at 0 (50) is 25 at t=10; second CISO demo at 10 -> 75.
    # Threshold 70 -> handoff at 10, score 75; threshold 76 -> none.
    log = make_log([(0, 0, 1, "demo_request"), (10, 0, 1, "demo_request")], {1: "CISO"})
    df = evaluate(weighted(threshold=70, decay={"half_life_days": 10}), log)
    assert times(df) == [10.0]
    assert df["score"].tolist() == pytest.approx([75.0])
    assert len(evaluate(weighted(threshold=76, decay={"half_life_days": 10}), log)) == 0


def test_weighted_titles_contact_without_title_row_gets_default(evaluate):
    # Contact 1 is not in the contacts table: default weight 1 -> 4 demos = 40 at t=3.
    log = make_log([(t, 0, 1, "demo_request") for t in range(4)], {1: None})
    assert times(evaluate(weighted(), log)) == [3.0]


@pytest.mark.parametrize(
    ("title", "phrase", "expected"),
    [
        ("Senior VP, Sales", "vp", True),
        ("VP Engineering", "vp", True),
        ("VPN Administrator", "vp", False),
        ("AVP of Sales", "vp", False),
        ("VP2 Programme", "vp", False),  # digits are word characters
        ("ciso_office", "ciso", False),  # so is "_"
        ("vp", "VP", True),  # case-insensitive
        ("Chief Information Security Officer", "chief information security", True),
        ("Chief Security Information Officer", "chief information security", False),
        ("Information Security Lead", "chief information security", False),
        ("Head of IT-Security", "security", True),
        ("", "vp", False),
    ],
)
def test_reference_title_matches(title, phrase, expected):
    assert reference.title_matches(title, phrase) is expected


# --------------------------------------------------------------------------------------------
# stages
# --------------------------------------------------------------------------------------------

TWO_STAGES = [
    {
        "name": "webinar",
        "when": {"min_activities": 1, "window_days": 30, "activities": ["webinar"]},
    },
    {
        "name": "demo",
        "when": {"min_activities": 1, "window_days": 30, "activities": ["demo_request"]},
    },
]


def _entries(df):
    return [(int(r["account_id"]), r["stage"], float(r["time"])) for r in df.to_dict("records")]


def test_stages_only_move_forward(evaluate, stage_entries):
    # The demo at 0 satisfies stage "demo" before stage "webinar" is entered: it does not
    # count. "webinar" at 40; "demo" at 40? window [10, 40] has no demo -> no; 45 -> no;
    # demo at 50 -> entered at 50 = handoff.
    log = make_log(
        [
            (0, 0, 1, "demo_request"),
            (40, 0, 1, "webinar"),
            (45, 0, 1, "web_visit"),
            (50, 0, 1, "demo_request"),
        ]
    )
    policy = stages_policy(TWO_STAGES, "demo")
    assert _entries(stage_entries(policy, log)) == [(0, "webinar", 40.0), (0, "demo", 50.0)]
    df = evaluate(policy, log)
    assert got(df, "contact_id", "rule", "stage") == [(0, 50.0, -1, "demo", "demo")]
    assert df["score"].isna().all()


def test_several_stages_at_the_same_event(evaluate, stage_entries):
    # Two contacts request demos at 0: aware (1 contact in 90 d), engaged (2 contacts with
    # demo_request in 30 d) and sales_ready (a demo in 30 d) are all entered at 0.
    log = make_log([(0, 0, 1, "demo_request"), (0, 0, 2, "demo_request")])
    policy = stages_policy(SHIPPED_STAGES, "sales_ready")
    df = stage_entries(policy, log)
    assert list(df.columns) == ["policy", "account_id", "stage", "time"]
    assert _entries(df) == [(0, "aware", 0.0), (0, "engaged", 0.0), (0, "sales_ready", 0.0)]
    assert set(df["policy"]) == {"t-stages"}
    assert got(evaluate(policy, log), "rule", "stage") == [(0, 0.0, "sales_ready", "sales_ready")]


def test_stages_handoff_is_the_entry_into_handoff_stage(evaluate, stage_entries):
    # handoff_stage engaged: c1 webinar 0 (aware), c2 webinar 3 (engaged), c1 demo 4
    # (sales_ready). The handoff is at 3 only; entering sales_ready is no further handoff.
    log = make_log([(0, 0, 1, "webinar"), (3, 0, 2, "webinar"), (4, 0, 1, "demo_request")])
    policy = stages_policy(SHIPPED_STAGES, "engaged")
    assert _entries(stage_entries(policy, log)) == [
        (0, "aware", 0.0),
        (0, "engaged", 3.0),
        (0, "sales_ready", 4.0),
    ]
    df = evaluate(policy, log)
    assert got(df, "contact_id", "rule", "stage") == [(0, 3.0, -1, "engaged", "engaged")]
    assert math.isnan(df["score"].iloc[0])


def test_stages_seniority_and_roles_filters(evaluate, stage_entries):
    # dm: a decision maker in 30 d; exec: a VP in 30 d.
    # c1 champion at 0, c3 user at 1, c2 decision maker at 2 -> dm at 2; no VP yet; c4 (vp)
    # at 10 -> exec at 10 = handoff.
    stages = [
        {
            "name": "dm",
            "when": {"unique_contacts": 1, "window_days": 30, "roles": ["decision_maker"]},
        },
        {"name": "exec", "when": {"unique_contacts": 1, "window_days": 30, "seniority": ["vp"]}},
    ]
    contacts = {
        1: {"role": "champion", "seniority": "manager"},
        2: {"role": "decision_maker", "seniority": "director"},
        3: {"role": "user", "seniority": "c_level"},
        4: {"role": "influencer", "seniority": "vp"},
    }
    log = make_log(
        [
            (0, 0, 1, "web_visit"),
            (1, 0, 3, "web_visit"),
            (2, 0, 2, "web_visit"),
            (10, 0, 4, "web_visit"),
        ],
        contacts,
    )
    policy = stages_policy(stages, "exec")
    assert _entries(stage_entries(policy, log)) == [(0, "dm", 2.0), (0, "exec", 10.0)]
    assert times(evaluate(policy, log)) == [10.0]


def test_stages_tier_and_icp_fit_min(evaluate):
    # "any" stage then "fit" stage restricted to tier 1-2 / icp_fit >= 0.5. One touch each.
    # tier: acct 0 tier 1 -> 0; acct 1 tier 3 -> none; acct 2 tier missing -> none.
    # icp: acct 0 fit 0.5 -> 0; acct 1 fit 0.49 -> none; acct 2 missing -> none.
    log = make_log(
        [(0, a, 10 + a, "web_visit") for a in range(3)],
        accounts={0: {"tier": 1, "icp_fit": 0.5}, 1: {"tier": 3, "icp_fit": 0.49}, 2: {}},
    )
    for extra in ({"tier": [1, 2]}, {"icp_fit_min": 0.5}):
        stages = [
            {"name": "any", "when": {"unique_contacts": 1, "window_days": 30}},
            {"name": "fit", "when": {"unique_contacts": 1, "window_days": 30, **extra}},
        ]
        assert got(evaluate(stages_policy(stages, "fit"), log), "stage") == [(0, 0.0, "fit")]


def test_stages_policy_activities_and_include_anonymous(evaluate):
    # One stage: 2 touches of the policy's activities [webinar] in 30 d.
    # Anonymous webinar at 0, c1 webinar at 1, c1 web_visit at 2.
    # include_anonymous: at t=1 two touches -> handoff at 1. Default: c1's webinar is the only
    # counting touch (web_visit is not in the policy's activities) -> never.
    stages = [{"name": "busy", "when": {"min_activities": 2, "window_days": 30}}]
    log = make_log([(0, 0, ANON, "webinar"), (1, 0, 1, "webinar"), (2, 0, 1, "web_visit")])
    on = stages_policy(stages, "busy", activities=["webinar"], include_anonymous=True)
    off = stages_policy(stages, "busy", activities=["webinar"])
    assert times(evaluate(on, log)) == [1.0]
    assert len(evaluate(off, log)) == 0


def test_stages_refuse_recycle_days():
    # README: a stages policy hands an account off at most once; recycle_days is not allowed.
    stages = [
        {
            "name": "hot",
            "when": {"min_activities": 1, "window_days": 5, "activities": ["demo_request"]},
        }
    ]
    with pytest.raises(ConfigError, match="recycle_days"):
        stages_policy(stages, "hot", recycle_days=10)


# --------------------------------------------------------------------------------------------
# The shipped policy files
# --------------------------------------------------------------------------------------------


def test_shipped_mqa_count(evaluate):
    # window 30; activities web_visit, content_download, webinar, demo_request, email_click;
    # any: [unique 4, unique 3 + 9 touches]; tier 1: any: [unique 2].
    # acct 0 (tier 2): c1..c4 web visits at 1..4 (c5's impression at 0 does not count)
    #   -> any.0 at 4, score 4.
    # acct 1 (tier 3): c11, c12, c13 webinars at 1..9 round-robin -> at 9: 3 unique, 9 touches
    #   -> any.1, score 3. c14's email_open at 8.5 is not a listed activity (else any.0 at 8.5).
    # acct 2 (tier 1): c21 at 0, c22 at 10 -> tiers.1.any.0 at 10, score 2.
    # acct 3 (tier 2): c31 at 0, c32 at 10 -> nothing.
    events = [(0, 0, 5, "impression")] + [(t, 0, t, "web_visit") for t in (1, 2, 3, 4)]
    events += [(t, 1, 11 + (t - 1) % 3, "webinar") for t in range(1, 10)]
    events += [(8.5, 1, 14, "email_open")]
    events += [(0, 2, 21, "web_visit"), (10, 2, 22, "web_visit")]
    events += [(0, 3, 31, "web_visit"), (10, 3, 32, "web_visit")]
    log = make_log(
        events, accounts={0: {"tier": 2}, 1: {"tier": 3}, 2: {"tier": 1}, 3: {"tier": 2}}
    )
    df = evaluate(load_policy("mqa_count"), log)
    assert got(df, "policy", "rule", "score") == [
        (0, 4.0, "mqa_count", "any.0", 4.0),
        (1, 9.0, "mqa_count", "any.1", 3.0),
        (2, 10.0, "mqa_count", "tiers.1.any.0", 2.0),
    ]


def test_shipped_mql_only(evaluate):
    # threshold 100; demo_request 30; fit c_level 20, vp 15, director 10; half-life 30.
    # acct 0: c1 c_level, three demos at 0 -> 20 + 90 = 110 -> handoff at 0, c1, 110.
    # acct 1: c11 manager (fit 0) three demos at 0 -> 90; at 30: 90 * 0.5 = 45 (+30 for its
    #   demo at 30 = 75). c12 director three demos at 30 -> 10 + 90 = 100 -> handoff at 30, c12.
    # acct 2: c21, c22 individuals, two demos each at 0 -> 60 each -> no MQL.
    contacts = {
        1: {"seniority": "c_level"},
        11: {"seniority": "manager"},
        12: {"seniority": "director"},
        21: {"seniority": "individual"},
        22: {"seniority": "individual"},
    }
    events = [(0, 0, 1, "demo_request")] * 3 + [(0, 1, 11, "demo_request")] * 3
    events += [(30, 1, 11, "demo_request")] + [(30, 1, 12, "demo_request")] * 3
    events += [(0, 2, 21, "demo_request")] * 2 + [(0, 2, 22, "demo_request")] * 2
    df = evaluate(load_policy("mql_only"), make_log(events, contacts))
    assert got(df, "policy", "contact_id", "rule") == [
        (0, 0.0, "mql_only", 1, "threshold"),
        (1, 30.0, "mql_only", 12, "threshold"),
    ]
    assert df["score"].tolist() == pytest.approx([110.0, 100.0])


def test_shipped_weighted_titles(evaluate):
    # threshold 40, window 30; demo 10, webinar 3, content_download 2, web_visit 1;
    # ciso 5, vp / vice president 3, analyst / intern 0.5, default 1.
    # acct 0: "CISO" demo at 5 -> 50 -> handoff at 5.
    # acct 1: "VPN Administrator" (default 1): demos at 0,1,2 (30), webinars at 3,4,5 (39),
    #   web_visit at 6 -> 40 -> handoff at 6.
    # acct 2: "Senior Security Analyst" demos at 0..6 (35), pricing_visit at 7 (0) -> none;
    #   "Chief Information Security Officer" webinar at 40 -> 15 (window [10, 40]) -> none.
    # acct 3: "Vice President, IT": demo at 0 (30), content_download at 1 (36), webinar at 2
    #   (45) -> handoff at 2.
    contacts = {
        1: "CISO",
        11: "VPN Administrator",
        21: "Senior Security Analyst",
        22: "Chief Information Security Officer",
        31: "Vice President, IT",
    }
    events = [(5, 0, 1, "demo_request")]
    events += [(t, 1, 11, "demo_request") for t in (0, 1, 2)]
    events += [(t, 1, 11, "webinar") for t in (3, 4, 5)] + [(6, 1, 11, "web_visit")]
    events += [(t, 2, 21, "demo_request") for t in range(7)] + [(7, 2, 21, "pricing_visit")]
    events += [(40, 2, 22, "webinar")]
    events += [(0, 3, 31, "demo_request"), (1, 3, 31, "content_download"), (2, 3, 31, "webinar")]
    df = evaluate(load_policy("weighted_titles"), make_log(events, contacts))
    assert got(df, "policy", "rule") == [
        (0, 5.0, "weighted_titles", "threshold"),
        (1, 6.0, "weighted_titles", "threshold"),
        (3, 2.0, "weighted_titles", "threshold"),
    ]
    assert df["score"].tolist() == pytest.approx([50.0, 40.0, 45.0])


def test_shipped_mql_scored(evaluate):
    # threshold 100; content_download / webinar / event 20, demo_request 100, pricing_visit 5,
    # web_visit 1, email_click 1, email_open 0; fit c_level / vp / director 50; 90-day window;
    # recycle 90.
    # acct 0: c1 (manager, fit 0) requests a demo at 10 -> 100: handoff at 10 (automatic MQL).
    #   Another demo at 50 is before 10 + 90. At 101 (c2's visit) c1 has the demo at 50 in
    #   [11, 101] -> 100 (c2: 50 + 1) -> handoff at 101, c1.
    # acct 1: c11 (director, 50): download 0, webinar 30 -> 90; pricing 35 -> 95; click 36 -> 96;
    #   open 37 -> 96; visits 38..41 -> 100 at 41.
    # acct 2: c21 (individual): download 0, event 10, webinar 20, download 30 -> 80; download
    #   at 95: [5, 95] drops the one at 0 -> 80; webinar at 100: [10, 100] keeps the event at 10
    #   (the edge) -> 100 at 100.
    # acct 3: an anonymous demo request never scores.
    contacts = {
        1: {"seniority": "manager"},
        2: {"seniority": "c_level"},
        11: {"seniority": "director"},
        21: {"seniority": "individual"},
    }
    events = [(10, 0, 1, "demo_request"), (50, 0, 1, "demo_request"), (101, 0, 2, "web_visit")]
    events += [(0, 1, 11, "content_download"), (30, 1, 11, "webinar")]
    events += [(35, 1, 11, "pricing_visit"), (36, 1, 11, "email_click")]
    events += [(37, 1, 11, "email_open")] + [(t, 1, 11, "web_visit") for t in (38, 39, 40, 41)]
    events += [(0, 2, 21, "content_download"), (10, 2, 21, "event"), (20, 2, 21, "webinar")]
    events += [(30, 2, 21, "content_download"), (95, 2, 21, "content_download")]
    events += [(100, 2, 21, "webinar"), (5, 3, ANON, "demo_request")]
    df = evaluate(load_policy("mql_scored"), make_log(events, contacts))
    assert got(df, "policy", "contact_id", "rule", "score") == [
        (0, 10.0, "mql_scored", 1, "threshold", 100.0),
        (0, 101.0, "mql_scored", 1, "threshold", 100.0),
        (1, 41.0, "mql_scored", 11, "threshold", 100.0),
        (2, 100.0, "mql_scored", 21, "threshold", 100.0),
    ]


def test_shipped_mqa_depth(evaluate):
    # window 90; all: [2 people with 4+ counting touches each, 20+ counting touches], students,
    # interns, academics and job seekers excluded; email opens do not count.
    # acct 0: c1 visits at 1..4, c2 at 5..8, c3 opens an email at 9 and clicks at 10..21 ->
    #   at 21: c1 and c2 with 4 each, 4 + 4 + 12 = 20 touches -> handoff at 21, score 3 people.
    # acct 1: the same with c12 a "Computer Science Student" (excluded): at 21 one person with
    #   4 and 16 touches; c14 (VP) visits at 30..33 -> c11 and c14, 20 touches -> handoff at 33,
    #   score 4 (the score counts everyone).
    # acct 2: c21 at 0..3, c22 at 4..7, c23 clicks at 80..91: at 90 [0, 90] has c21 (0 on the
    #   edge) and c22 with 4 each but 19 touches; at 91 c21 has 3 -> never.
    titles = {1: "Security Architect", 2: "IT Manager", 3: "Analyst"}
    titles |= {11: "Security Architect", 12: "Computer Science Student", 13: "Analyst"}
    titles |= {14: "VP Security", 21: "CISO", 22: "IT Director", 23: "Analyst"}
    events = []
    for a, c in ((0, 0), (1, 10)):
        events += [(t, a, c + 1, "web_visit") for t in (1, 2, 3, 4)]
        events += [(t, a, c + 2, "web_visit") for t in (5, 6, 7, 8)]
        events += [(9, a, c + 3, "email_open")]
        events += [(t, a, c + 3, "email_click") for t in range(10, 22)]
    events += [(t, 1, 14, "web_visit") for t in (30, 31, 32, 33)]
    events += [(t, 2, 21, "web_visit") for t in (0, 1, 2, 3)]
    events += [(t, 2, 22, "web_visit") for t in (4, 5, 6, 7)]
    events += [(t, 2, 23, "email_click") for t in range(80, 92)]
    df = evaluate(load_policy("mqa_depth"), make_log(events, titles))
    assert got(df, "policy", "rule", "score") == [
        (0, 21.0, "mqa_depth", "all", 3.0),
        (1, 33.0, "mqa_depth", "all", 4.0),
    ]


def test_shipped_progression_stages(evaluate, stage_entries):
    # aware: 1 contact in 90 d; engaged: 2 contacts with content/webinar/demo in 30 d;
    # sales_ready: a demo in 30 d (handoff).
    # acct 0: c1 web_visit 0 (aware), c1 webinar 10 (1 contact), c2 content_download 20
    #   (engaged), c2 demo 25 (sales_ready) -> handoff 25.
    # acct 1: c11 demo 0 -> aware only (sales_ready's condition holds but engaged is not
    #   entered); c12 webinar 5 -> engaged and, at the same event, sales_ready (the demo at 0
    #   is in [-25, 5]) -> handoff 5.
    # acct 2: only impressions and email opens -> never aware.
    events = [
        (0, 0, 1, "web_visit"),
        (10, 0, 1, "webinar"),
        (20, 0, 2, "content_download"),
        (25, 0, 2, "demo_request"),
        (0, 1, 11, "demo_request"),
        (5, 1, 12, "webinar"),
        (0, 2, 21, "impression"),
        (1, 2, 22, "email_open"),
    ]
    log = make_log(events)
    policy = load_policy("progression_stages")
    assert _entries(stage_entries(policy, log)) == [
        (0, "aware", 0.0),
        (0, "engaged", 20.0),
        (0, "sales_ready", 25.0),
        (1, "aware", 0.0),
        (1, "engaged", 5.0),
        (1, "sales_ready", 5.0),
    ]
    df = evaluate(policy, log)
    assert got(df, "policy", "contact_id", "rule", "stage") == [
        (0, 25.0, "progression_stages", -1, "sales_ready", "sales_ready"),
        (1, 5.0, "progression_stages", -1, "sales_ready", "sales_ready"),
    ]
    assert df["score"].isna().all()


# --------------------------------------------------------------------------------------------
# A small simulated world: causality, and agreement with the reference
# --------------------------------------------------------------------------------------------

WORLD_POLICIES = {
    "mqa_count": "mqa_count",
    "mqa_recycle": {
        "name": "mqa_recycle",
        "kind": "mqa_count",
        "window_days": 30,
        "recycle_days": 20,
        "any": [
            {"unique_contacts": 2},
            {
                "all": [
                    {"min_activities": 3, "include_anonymous": True},
                    {"not": {"unique_contacts": 3}},
                ]
            },
        ],
    },
    "mql_only": "mql_only",
    "mql_window": {
        "name": "mql_window",
        "kind": "mql",
        "threshold": 20,
        "recycle_days": 15,
        "points": {"web_visit": 2, "pricing_visit": 5, "demo_request": 30, "email_open": -1},
        "decay": {"window_days": 30},
    },
    "weighted_titles": "weighted_titles",
    "progression_stages": "progression_stages",
    "mql_scored": "mql_scored",
    "mqa_depth": "mqa_depth",
    "mqa_depth_recycle": {  # not monotone and recycling: the general per-event path
        "name": "mqa_depth_recycle",
        "kind": "mqa_count",
        "window_days": 60,
        "recycle_days": 30,
        "any": [
            {"unique_contacts": 2, "min_touches_per_contact": 2, "exclude_titles": ["student"]},
            {"all": [{"min_activities": 6}, {"not": {"unique_contacts": 1, "seniority": ["vp"]}}]},
        ],
    },
}


@pytest.fixture(scope="module")
def world_log() -> sim.EventLog:
    world = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 40}}), seed=3)
    return sim.EventLog.from_world(world)


def _cutoffs(log) -> list[float]:
    # Round times, plus an exact event time (everything at t included).
    t = log.events["time"]
    return [30.0, 90.0, float(t.iloc[len(t) // 2])]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_exact=False, rtol=1e-9
    )


@pytest.mark.parametrize("name", list(WORLD_POLICIES))
def test_causality_truncating_the_log(evaluate, world_log, name):
    # Handoffs at or before t depend only on events at or before t.
    policy = load_policy(WORLD_POLICIES[name])
    full = evaluate(policy, world_log)
    assert len(full) > 0, "the world should produce some handoffs for this policy"
    for t in _cutoffs(world_log):
        early = evaluate(policy, world_log.until(t))
        _same(early, full[full["time"] <= t])


def test_causality_of_stage_entries(stage_entries, world_log):
    policy = load_policy("progression_stages")
    full = stage_entries(policy, world_log)
    assert len(full) > 0
    for t in _cutoffs(world_log):
        _same(stage_entries(policy, world_log.until(t)), full[full["time"] <= t])


@pytest.mark.parametrize("name", list(WORLD_POLICIES))
def test_agrees_with_reference_on_a_simulated_world(evaluate, world_log, name):
    policy = load_policy(WORLD_POLICIES[name])
    _same(evaluate(policy, world_log), reference.evaluate(policy, world_log))
