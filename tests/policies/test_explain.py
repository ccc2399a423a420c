"""``explain`` agrees with ``evaluate``: the touches it shows are what made the rule hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import policies
import sim
from policies.explain import explain


@pytest.fixture(scope="module")
def log() -> sim.EventLog:
    w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 150}}), seed=8)
    return sim.EventLog.from_world(w)


def _explained(name, log, n=5):
    p = policies.load_policy(name)
    q = policies.evaluate(p, log)
    assert len(q) > 0, f"{name} hands nothing off in the fixture world"
    for acc in q["account_id"].unique()[:n]:
        for why in explain(p, log, int(acc)):
            yield p, why


def test_mqa_explanation_shows_enough_people_inside_the_window(log):
    for p, why in _explained("mqa_count", log):
        t = why.handoff["time"]
        assert why.touches["time"].between(t - p.window_days, t).all()
        people = why.touches.loc[why.touches["contact_id"] >= 0, "contact_id"].nunique()
        # The shipped clauses use the policy's window and activities, so the people shown are
        # exactly the distinct contacts the score counts, and enough for the clause that fired.
        assert people == why.handoff["score"]
        need = {"any.0": 4, "any.1": 3, "tiers.1.any.0": 2}[why.handoff["rule"]]
        assert people >= need


def test_weighted_titles_explanation_sums_to_the_score(log):
    for _, why in _explained("weighted_titles", log):
        assert np.isclose(why.touches["weight"].sum(), why.handoff["score"])


def test_mql_explanation_adds_up_to_the_contacts_score(log):
    for p, why in _explained("mql_only", log):
        assert (why.touches["contact_id"] == why.handoff["contact_id"]).all()
        fit_and_points = (
            float(why.note.split("fit ")[1].split(" ")[0]) + why.touches["points"].sum()
        )
        assert np.isclose(fit_and_points, why.handoff["score"])
        assert why.handoff["score"] >= p.threshold


def test_stages_explanation_walks_the_stages_in_order(log):
    for p, why in _explained("progression_stages", log):
        order = [s.name for s in p.stages]
        seen = list(dict.fromkeys(why.touches["stage"]))
        assert seen == order[: len(seen)]
        assert seen[-1] == p.handoff_stage


def test_explain_an_account_that_never_qualified_is_empty(log):
    p = policies.load_policy("mqa_count")
    q = policies.evaluate(p, log)
    never = sorted(set(log.events["account_id"]) - set(q["account_id"]))
    assert never, "fixture: some account must not qualify"
    assert explain(p, log, int(never[0])) == []


def test_depth_explanation_shows_only_the_people_who_counted():
    # Two people with two touches each, students excluded: c1 (VP) visits at 0 and 1, c2
    # (Student) at 2 and 3, c3 (CISO) clicks once at 4 and visits at 6, c4 (Analyst) clicks
    # once at 5. The rule holds at 6 (c1 and c3); c2 (excluded) and c4 (one touch) did not
    # count, so their touches are not shown.
    rows = [(0, 1, "web_visit"), (1, 1, "web_visit"), (2, 2, "web_visit"), (3, 2, "web_visit")]
    rows += [(4, 3, "email_click"), (5, 4, "email_click"), (6, 3, "web_visit")]
    ev = pd.DataFrame(rows, columns=["time", "contact_id", "activity"]).assign(account_id=0)
    ev = ev[["time", "account_id", "contact_id", "activity"]]
    titles = ["VP Sales", "Student", "CISO", "Analyst"]
    con = pd.DataFrame({"contact_id": [1, 2, 3, 4], "account_id": 0, "title": titles})
    log = sim.EventLog(ev, con, pd.DataFrame({"account_id": [0]}))
    rule = {"unique_contacts": 2, "min_touches_per_contact": 2, "exclude_titles": ["student"]}
    p = policies.load_policy(
        {"name": "deep", "kind": "mqa_count", "window_days": 30, "any": [rule]}
    )
    (why,) = explain(p, log, 0)
    assert why.handoff["time"] == 6.0
    assert why.touches[["time", "contact_id"]].values.tolist() == [[0, 1], [1, 1], [4, 3], [6, 3]]


def test_stage_entries_are_steps_with_their_times_and_the_note_has_no_time():
    # Ann visits at day 0, Bob at day 2 (two people: engaged), Bob asks for a demo at day 9.
    ev = pd.DataFrame(
        [(0.0, 0, 1, "web_visit"), (2.0, 0, 2, "web_visit"), (9.0, 0, 2, "demo_request")],
        columns=["time", "account_id", "contact_id", "activity"],
    )
    con = pd.DataFrame({"contact_id": [1, 2], "account_id": 0, "title": ["VP", "CISO"]})
    log = sim.EventLog(ev, con, pd.DataFrame({"account_id": [0]}))
    when = {"min_activities": 1, "window_days": 30, "activities": ["demo_request"]}
    p = policies.load_policy(
        {
            "name": "staged",
            "kind": "stages",
            "handoff_stage": "ready",
            "stages": [
                {"name": "engaged", "when": {"unique_contacts": 2, "window_days": 30}},
                {"name": "ready", "when": when},
            ],
        }
    )
    (why,) = explain(p, log, 0)
    assert why.steps == (("engaged", 2.0), ("ready", 9.0))
    assert why.describe() == "entered engaged at day 2, then ready at day 9"
    assert why.describe(lambda t: f"T{t:g}") == "entered engaged at T2, then ready at T9"


def test_the_notes_of_other_kinds_leave_the_time_to_the_handoff_row(log):
    for name in ("mqa_count", "weighted_titles", "mql_only"):
        for _, why in _explained(name, log, n=2):
            assert "day" not in why.note and why.steps == ()
            assert why.describe() == why.note
