"""``kind: any`` / ``kind: all`` on hand-worked logs, for the fast and reference evaluators."""

from __future__ import annotations

import pandas as pd
import pytest

import policies
import sim
from policies import reference
from sim.errors import ConfigError

IMPLEMENTATIONS = [
    pytest.param(policies.evaluate, id="fast"),
    pytest.param(reference.evaluate, id="reference"),
]

# Two members: "two people in 10 days" (MQA) and "a demo request" (titles, threshold 10).
MQA = {"name": "two", "kind": "mqa_count", "window_days": 10, "any": [{"unique_contacts": 2}]}
DEMO = {
    "name": "demo",
    "kind": "weighted_titles",
    "threshold": 10,
    "window_days": 10,
    "activity_weights": {"demo_request": 10},
}


def _log(rows):
    ev = pd.DataFrame(rows, columns=["time", "account_id", "contact_id", "activity"])
    ids = sorted({c for c in ev["contact_id"] if c >= 0})
    con = pd.DataFrame({"contact_id": ids, "account_id": [0] * len(ids), "title": ""})
    return sim.EventLog(ev, con, pd.DataFrame({"account_id": [0]}))


@pytest.mark.parametrize("evaluate", IMPLEMENTATIONS)
def test_any_hands_off_at_the_first_member_that_holds(evaluate):
    # Day 1: ann visits. Day 3: ann requests a demo -> "demo" holds (10 >= 10). Day 5: bob
    # visits -> "two" holds too. "any" hands off at day 3, naming "demo".
    log = _log([(1, 0, 1, "web_visit"), (3, 0, 1, "demo_request"), (5, 0, 2, "web_visit")])
    p = policies.load_policy({"name": "either", "kind": "any", "policies": [MQA, DEMO]})
    q = evaluate(p, log)
    assert q[["time", "rule"]].values.tolist() == [[3.0, "demo"]]


@pytest.mark.parametrize("evaluate", IMPLEMENTATIONS)
def test_all_needs_every_member_at_the_same_time(evaluate):
    # The demo at day 3 leaves the 10-day window after day 13; two people hold from day 5.
    # Both hold on days 5..13: "all" hands off at day 5. A second log where the second person
    # comes at day 14 (the demo has left the window) never qualifies.
    both = _log([(3, 0, 1, "demo_request"), (5, 0, 2, "web_visit")])
    late = _log([(3, 0, 1, "demo_request"), (14, 0, 2, "web_visit")])
    p = policies.load_policy({"name": "both", "kind": "all", "policies": [MQA, DEMO]})
    assert evaluate(p, both)[["time", "rule"]].values.tolist() == [[5.0, "all"]]
    assert len(evaluate(p, late)) == 0


@pytest.mark.parametrize("evaluate", IMPLEMENTATIONS)
def test_combinator_recycles_with_its_own_recycle_days(evaluate):
    # "two" holds from day 5 on while both people keep touching; recycle 10 -> 5, then 15.
    rows = [
        (5, 0, 1, "web_visit"),
        (5, 0, 2, "web_visit"),
        (12, 0, 1, "web_visit"),
        (15, 0, 2, "web_visit"),
        (15, 0, 1, "web_visit"),
    ]
    p = policies.load_policy({"name": "r", "kind": "any", "policies": [MQA], "recycle_days": 10})
    assert evaluate(p, _log(rows))["time"].tolist() == [5.0, 15.0]


def test_shipped_mql_or_mqa_is_the_earlier_of_its_members():
    w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 120}}), seed=3)
    log = sim.EventLog.from_world(w)
    combo = policies.evaluate(policies.load_policy("mql_or_mqa"), log)
    parts = pd.concat(
        [policies.evaluate(policies.load_policy(n), log) for n in ("mql_only", "mqa_count")]
    )
    first = parts.groupby("account_id")["time"].min()
    assert combo.set_index("account_id")["time"].to_dict() == first.to_dict()


def test_member_files_resolve_relative_to_the_combinator(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "a.yaml").write_text(
        "name: a\nkind: mqa_count\nwindow_days: 5\nany:\n  - unique_contacts: 1\n"
    )
    (tmp_path / "rules" / "both.yaml").write_text(
        "name: both\nkind: any\npolicies: [a.yaml, mql_only]\n"
    )
    p = policies.load_policy(tmp_path / "rules" / "both.yaml")
    assert [m.name for m in p.members] == ["a", "mql_only"]


def test_members_need_distinct_names_and_a_cycle_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="distinct names"):
        policies.load_policy({"name": "x", "kind": "any", "policies": [MQA, MQA]})
    (tmp_path / "loop.yaml").write_text("name: loop\nkind: any\npolicies: [loop.yaml]\n")
    with pytest.raises(ConfigError, match="nest too deep"):
        policies.load_policy(tmp_path / "loop.yaml")
