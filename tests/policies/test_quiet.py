"""Explain nothing: why a policy hands off nothing (or almost nothing) on a log, one line per
reason from the log's own statistics, on hand-made logs for every shipped kind."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import policies
import sim
from policies import reference
from policies.kernels.frame import Frame
from policies.quiet import (
    QUIET_SHARE,
    highest_lead_score,
    is_quiet,
    sales_touch_counts,
    why_nothing,
)
from sim.cli import app
from sim.vocab import ACTIVITIES, is_sales_touch


def _log(rows, people=None) -> sim.EventLog:
    """Events (time, account_id, contact_id, activity); ``people``: contact_id -> (account,
    title, seniority), default: every contact of the events, no title, no seniority."""
    ev = pd.DataFrame(rows, columns=["time", "account_id", "contact_id", "activity"])
    ev = ev.sort_values(["account_id", "time"], kind="stable").reset_index(drop=True)
    if people is None:
        pairs = ev[ev["contact_id"] >= 0].drop_duplicates("contact_id")
        people = {
            int(c): (int(a), "", None)
            for c, a in zip(pairs.contact_id, pairs.account_id, strict=True)
        }
    con = pd.DataFrame(
        [(c, a, t, s) for c, (a, t, s) in people.items()],
        columns=["contact_id", "account_id", "title", "seniority"],
    )
    accounts = pd.DataFrame({"account_id": sorted(set(ev["account_id"]))})
    return sim.EventLog(ev, con, accounts)


# three accounts, one person each, three web visits each (days 0, 1, 2)
ONE_EACH = _log([(d, a, a, "web_visit") for a in range(3) for d in (0.0, 1.0, 2.0)])


def _why(policy, log):
    p = policies.load_policy(policy)
    assert is_quiet(policies.evaluate(p, log), log)
    return why_nothing(p, log)


def test_mqa_count_on_one_person_per_account():
    assert _why("mqa_count", ONE_EACH) == [
        "this log has 1.0 known people per account; clause any.0 needs 4 people within 30 days "
        "(the most on one account is 1)",
        "this log has 1.0 known people per account; clause any.1 needs 3 people within 30 days "
        "(the most on one account is 1)",
        "clause any.1 needs 9 touches within 30 days; the most on one account is 3",
    ]


def test_a_clause_needing_an_activity_the_log_never_has():
    spec = {"name": "d", "kind": "mqa_count", "window_days": 30}
    spec["any"] = [{"min_activities": 1, "activities": ["demo_request"]}]
    assert _why(spec, ONE_EACH) == ["clause any.0 counts demo_request, which this log never has"]


def test_a_clause_filtering_on_an_attribute_nobody_has():
    spec = {"name": "s", "kind": "mqa_count", "window_days": 30}
    spec["any"] = [{"unique_contacts": 1, "seniority": ["c_level"]}]
    assert _why(spec, ONE_EACH) == [
        "clause any.0 counts only seniority c_level: no contact has a seniority",
        "this log has 1.0 known people per account; clause any.0 needs 1 people within 30 days "
        "(the most on one account is 0)",
    ]


def test_mqa_depth_names_the_depth_per_person():
    # account 0: person 1 touches 5 times, person 2 twice, within 90 days
    rows = [(float(d), 0, 1, "web_visit") for d in range(5)]
    rows += [(float(d), 0, 2, "webinar") for d in (10, 20)]
    assert _why("mqa_depth", _log(rows)) == [
        "this log has 2.0 known people per account; clause all.0 needs 2 people with 4+ touches "
        "each within 90 days (the most on one account is 1)",
        "clause all.1 needs 20 touches within 90 days; the most on one account is 7",
    ]


def test_weighted_titles_without_titles():
    spec = {"name": "wt", "kind": "weighted_titles", "threshold": 5, "window_days": 30}
    spec |= {"activity_weights": {"web_visit": 1}, "default_title_weight": 0.0}
    spec["title_weights"] = [{"match": ["ciso"], "weight": 5}]
    assert _why(spec, ONE_EACH) == ["no contact has a title: wt has nothing to weigh"]
    # the shipped rule weighs untitled people 1: three web visits of weight 1 in 30 days
    assert _why("weighted_titles", ONE_EACH) == [
        "no contact has a title: weighted_titles weighs every person the same",
        "the highest account score reached is 3; the threshold is 40",
    ]


def test_mql_highest_lead_score_with_a_half_life():
    # mql_only: content_download 5, half-life 30 days, c_level fit 20: downloads at 0 and 30
    # give 5 x 0.5 + 5 = 7.5, plus 20
    log = _log(
        [(0.0, 0, 1, "content_download"), (30.0, 0, 1, "content_download")],
        {1: (0, "CISO", "c_level")},
    )
    assert _why("mql_only", log) == ["the highest lead score reached is 27.5; the threshold is 100"]


def test_mql_highest_lead_score_in_a_window():
    # mql_scored: content_download 20 over a 90-day window (both ends in), vp fit 50: downloads
    # at 0 and 90 are both in the window at 90 (40), at 180 only the one of 90 and 180 (40)
    rows = [(t, 0, 1, "content_download") for t in (0.0, 90.0, 180.0)]
    log = _log(rows, {1: (0, "VP", "vp")})
    assert _why("mql_scored", log) == ["the highest lead score reached is 90; the threshold is 100"]


def test_mql_without_decay_and_without_known_people_or_scored_activities():
    spec = {"name": "m", "kind": "mql", "threshold": 50, "points": {"webinar": 10}}
    rows = [(float(d), 0, 1, "webinar") for d in range(3)]
    assert _why(spec, _log(rows)) == ["the highest lead score reached is 30; the threshold is 50"]
    anonymous = _log([(0.0, 0, -1, "webinar")], {})
    assert _why(spec, anonymous) == ["every touch of this log is anonymous: m scores people"]
    assert _why("mql_only", _log([(0.0, 0, 1, "email_open")])) == [
        "mql_only scores web_visit, pricing_visit, content_download, webinar and 1 more, none of "
        "which this log has"
    ]


def test_stages_name_the_first_stage_nobody_enters():
    rows = [(float(d), a, a, "content_download") for a in range(2) for d in (0, 5)]
    assert _why("progression_stages", _log(rows)) == [
        "no account enters stage 'engaged': this log has 1.0 known people per account; clause "
        "stages.1.when needs 2 people within 30 days (the most on one account is 1)"
    ]


def test_combinators_give_their_members_reasons():
    reasons = _why("mql_or_mqa", ONE_EACH)
    # web visits at days 0, 1, 2, half-life 30: 2^(-2/30) + 2^(-1/30) + 1 = 2.932
    assert reasons[0] == "mql_only: the highest lead score reached is 2.932; the threshold is 100"
    assert (
        reasons[1] == "mql_only: no contact has a seniority: the seniority fit points never apply"
    )
    assert reasons[2].startswith("mqa_count: this log has 1.0 known people per account")
    one = {"kind": "mqa_count", "window_days": 1}
    both = {
        "name": "both",
        "kind": "all",
        "policies": [
            {**one, "name": "w", "any": [{"min_activities": 1, "activities": ["webinar"]}]},
            {**one, "name": "d", "any": [{"min_activities": 1, "activities": ["demo_request"]}]},
        ],
    }
    log = _log([(0.0, 0, 1, "webinar"), (10.0, 0, 1, "demo_request")])
    assert _why(both, log) == [
        "each member hands off on its own, but they never hold at the same time"
    ]


def test_logs_with_nothing_a_policy_sees():
    sales = _log([(0.0, 0, 1, "meeting"), (1.0, 0, 1, "call"), (2.0, 0, 2, "task")])
    assert _why("mqa_count", sales) == [
        "all 3 events of this log are sales touches, which mqa_count ignores "
        "(include_sales_touches: true counts them)"
    ]
    empty = sim.EventLog(ONE_EACH.events.iloc[:0], ONE_EACH.contacts, ONE_EACH.accounts)
    assert _why("weighted_titles", empty) == ["this log has no events"]


def test_few_handoffs_say_on_how_many_accounts_a_clause_holds():
    # 150 accounts of one person, one account with four people: the rule holds on 1 of 151
    rows = [(0.0, a, a, "web_visit") for a in range(150)]
    rows += [(1.0, 150, 1000 + k, "web_visit") for k in range(4)]
    reasons = _why("mqa_count", _log(rows))
    assert reasons[-1] == "clause any.0 holds on 1 of 151 accounts with events"


def test_quiet_means_no_handoff_or_fewer_than_the_share_of_accounts():
    log = _log([(0.0, a, a, "web_visit") for a in range(200)])
    q = policies.evaluate(policies.load_policy("mqa_count"), log)
    assert QUIET_SHARE == 0.01 and is_quiet(q, log)
    one = pd.DataFrame({"account_id": [5, 5]})  # 1 account of 200: below 2
    two = pd.DataFrame({"account_id": [5, 6]})
    assert is_quiet(one, log) and not is_quiet(two, log)
    f = Frame(log)  # the accounts counted from the frame's boundaries: the same answers
    assert is_quiet(one, log, f) and not is_quiet(two, log, f) and is_quiet(q, log, f)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 300), min_size=1, max_size=400),
    st.lists(st.integers(0, 300), max_size=5),
)
@example([0] * 150 + [1], [0])  # 151 events of 2 accounts: one handed off is not "few"
def test_quiet_from_a_frame_matches_counting_the_accounts(accounts, handed):
    log = _log([(float(i), a, i, "web_visit") for i, a in enumerate(accounts)])
    q = pd.DataFrame({"account_id": handed})
    assert is_quiet(q, log, Frame(log)) == is_quiet(q, log)
    assert Frame(log).first_of_account.size == len(set(accounts))


def test_evaluate_says_why_under_the_table(tmp_path):
    ev = ["timestamp,account_id,contact_id,activity"]
    ev += [f"2025-01-0{d},a{a},c{a},web_visit" for a in range(5) for d in (1, 2)]
    ev += ["2025-01-03,a0,c0,meeting", "2025-01-04,a1,c1,call"]
    co = ["contact_id,account_id,title"] + [f"c{a},a{a},Analyst" for a in range(5)]
    (tmp_path / "events.csv").write_text("\n".join(ev) + "\n", encoding="utf-8")
    (tmp_path / "contacts.csv").write_text("\n".join(co) + "\n", encoding="utf-8")
    args = ["evaluate", "--events", str(tmp_path / "events.csv"), "--contacts"]
    args += [str(tmp_path / "contacts.csv"), "--policy", "mqa_count", "--out", str(tmp_path / "r")]
    args += ["--report", str(tmp_path / "r.html")]
    res = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "sales touches: 1 call, 1 meeting" in res.output
    why = (
        "this log has 1.0 known people per account; clause any.0 needs 4 people within 30 days "
        "(the most on one account is 1)"
    )
    assert f"mqa_count: 0 handoffs — why: {why}" in res.output
    assert res.output.count(why) == 1  # not again under the tables
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Why some policies hand off (almost) nothing" in html
    assert "clause any.0 needs 4 people within 30 days" in html


def test_a_clause_that_holds_counts_the_accounts_handed_off():
    w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 80}}), seed=3)
    log = sim.EventLog.from_world(w)
    p = policies.load_policy(
        {"name": "two", "kind": "mqa_count", "window_days": 30, "any": [{"unique_contacts": 2}]}
    )
    handed = policies.evaluate(p, log)["account_id"].nunique()
    assert handed > 0
    n = log.events["account_id"].nunique()
    assert why_nothing(p, log) == [f"clause any.0 holds on {handed} of {n} accounts with events"]


# -- the highest lead score against the reference's scores --------------------------------------
ACTS = ["web_visit", "webinar", "content_download", "email_open", "meeting"]


@st.composite
def mql_cases(draw):
    rows, people = [], {}
    for a in range(draw(st.integers(1, 3))):
        for c in range(10 * a, 10 * a + draw(st.integers(1, 3))):
            people[c] = (a, draw(st.sampled_from(["CISO", "Analyst", ""])), None)
            for _ in range(draw(st.integers(1, 6))):
                rows.append((draw(st.integers(0, 40)) / 2, a, c, draw(st.sampled_from(ACTS))))
    spec = {
        "name": "m",
        "kind": "mql",
        "threshold": 1000.0,
        "include_sales_touches": draw(st.booleans()),
        "points": draw(
            st.dictionaries(
                st.sampled_from(ACTS[:4]), st.sampled_from([-3.0, 1.0, 2.5, 10.0]), min_size=1
            )
        ),
        "fit": {"titles": [{"match": ["ciso"], "points": 4.0}]},
    }
    # a half-life of 0.01 day: a person's touches span up to 2,000 half-lives (the wide path)
    decays = [None, {"half_life_days": 3.0}, {"half_life_days": 0.01}, {"window_days": 2.5}]
    decay = draw(st.sampled_from(decays))
    if decay is not None:
        spec["decay"] = decay
    return _log(rows, people), spec


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=mql_cases())
def test_highest_lead_score_equals_the_reference_best(case):
    log, spec = case
    p = policies.load_policy(spec)
    seen = reference._seen(p, log)
    contacts = reference._contacts(seen)
    best = max(
        (
            reference.mql_score(p, x.contact_id, touches, x.time, contacts.get(x.contact_id, {}))
            for touches in reference._touches_by_account(seen).values()
            for x in touches
        ),
        default=-math.inf,
    )
    view = policies.Frame(seen)
    assert highest_lead_score(p, view) == pytest.approx(best, rel=1e-9, abs=1e-9)


def test_scores_that_reach_the_threshold_on_few_accounts_say_on_how_many():
    # 200 accounts of one person with a webinar each; account 0's person has a second one
    rows = [(0.0, a, a, "webinar") for a in range(200)] + [(1.0, 0, 0, "webinar")]
    log = _log(rows)
    mql = {"name": "m", "kind": "mql", "threshold": 20, "points": {"webinar": 10}}
    assert _why(mql, log) == ["a person's lead score reaches 20 on 1 of 200 accounts with events"]
    wt = {"name": "w", "kind": "weighted_titles", "threshold": 2, "window_days": 30}
    wt["activity_weights"] = {"webinar": 1}
    assert _why(wt, log) == [
        "no contact has a title: w weighs every person the same",
        "the account score reaches 2 on 1 of 200 accounts with events",
    ]


def test_mql_fit_points_on_attributes_nobody_has():
    # mql_only gives fit points by seniority; the lead export has no seniority (nor title)
    rows = [(0.0, 0, 1, "webinar"), (1.0, 0, 1, "web_visit")]
    log = _log(rows)
    # webinar 5 x 2^(-1/30) + web visit 1
    assert _why("mql_only", log) == [
        "the highest lead score reached is 5.886; the threshold is 100",
        "no contact has a seniority: the seniority fit points never apply",
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(ACTIVITIES), max_size=40))
def test_sales_touch_counts_match_counting_event_by_event(acts):
    """Per sales activity the log has, how many events: against a count of the events' own
    activity names."""
    rows = [(float(i), i % 3, i % 5, a) for i, a in enumerate(acts)]
    log = _log(rows)
    expected: dict[str, int] = {}
    for a in log.events["activity"].astype(str):
        if is_sales_touch(a):
            expected[a] = expected.get(a, 0) + 1
    got = sales_touch_counts(log)
    assert got == expected
    assert list(got) == [a for a in ACTIVITIES if a in expected]  # in the vocabulary's order
