"""The ``mql`` fast path (policies/kinds/mql.py, policies/kernels/lead_scores.py) agrees with the
slow reference on random logs and random rules — points below 0, every decay, recycling,
thresholds the fit reaches alone, contacts touching several accounts — handoff by handoff and
for the rule at every event, and never looks ahead. Small logs worked by hand pin down the cases
that made the old path score every (contact, event) pair: a score that rises without a touch
(a negative touch fading or leaving the window) and a contact scored in two accounts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policies
import sim
from policies import reference
from policies.kernels import lead_scores
from policies.kinds import mql
from sim.errors import ConfigError
from sim.vocab import SENIORITIES

HYP = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SCORED = ["web_visit", "email_open", "webinar", "demo_request"]


@st.composite
def logs(draw) -> sim.EventLog:
    """A few accounts; a person may touch several of them (one contacts row, its home account),
    and some events are anonymous. Times are k/2 days or, in half the logs, k/10 (differences
    that round in floats against windows of 0.3 and 0.7)."""
    n_acc = draw(st.integers(1, 4))
    n_people = draw(st.integers(1, 6))
    scale = draw(st.sampled_from([0.5, 0.1]))
    contacts = [
        {
            "contact_id": c,
            "account_id": draw(st.integers(0, n_acc - 1)),
            "title": draw(st.sampled_from(["CISO", "Analyst", "", None])),
            "seniority": draw(st.sampled_from(SENIORITIES)),
        }
        for c in range(n_people)
    ]
    rows = [
        (
            draw(st.integers(0, 40)) * scale,
            draw(st.integers(0, n_acc - 1)),
            draw(st.sampled_from([-1, *range(n_people)])),
            draw(st.sampled_from([*SCORED, "content_download"])),
        )
        for _ in range(draw(st.integers(0, 40)))
    ]
    if draw(st.integers(0, 4)) == 0:  # a contact missing from the contacts table
        contacts.pop(draw(st.integers(0, n_people - 1)))
    ev = pd.DataFrame(rows, columns=["time", "account_id", "contact_id", "activity"])
    ev = ev.sort_values(["account_id", "time"], kind="stable").reset_index(drop=True)
    con = pd.DataFrame(contacts, columns=["contact_id", "account_id", "title", "seniority"])
    return sim.EventLog(ev, con, pd.DataFrame({"account_id": range(n_acc)}))


@st.composite
def rules(draw) -> dict:
    """An ``mql`` rule, often with points below 0 (most people open emails: -1 each)."""
    points = draw(
        st.dictionaries(
            st.sampled_from(SCORED), st.sampled_from([-5.0, -1.0, 0.0, 1.0, 2.5, 5.0]), min_size=1
        )
    )
    p: dict = {
        "name": "mql",
        "kind": "mql",
        "threshold": draw(st.sampled_from([2.0, 3.0, 5.0, 10.0])),
        "points": points,
    }
    decay = draw(st.sampled_from([None, "half", "window"]))
    if decay == "half":
        p["decay"] = {"half_life_days": draw(st.sampled_from([0.5, 1.0, 4.0]))}
    elif decay == "window":
        p["decay"] = {"window_days": draw(st.sampled_from([0.3, 0.7, 1.0, 2.0, 5.0]))}
    if draw(st.booleans()):
        p["fit"] = {
            "seniority": {"c_level": 5.0, "vp": 3.0},
            "titles": [{"match": ["ciso"], "points": 2.0}],
        }
    if draw(st.booleans()):
        p["recycle_days"] = draw(st.sampled_from([0.5, 1.0, 3.0]))
    return p


def _same(fast: pd.DataFrame, ref: pd.DataFrame) -> None:
    cols = ["account_id", "contact_id", "time", "rule"]
    pd.testing.assert_frame_equal(
        fast[cols].reset_index(drop=True), ref[cols].reset_index(drop=True), check_dtype=False
    )
    np.testing.assert_allclose(
        fast["score"].to_numpy(float), ref["score"].to_numpy(float), rtol=1e-9, atol=1e-9
    )


def _reference_holds(policy, log: sim.EventLog) -> np.ndarray:
    """The reference's rule at every event of the log, one event at a time."""
    by_account = reference._touches_by_account(log)
    contacts = reference._contacts(log)
    out = []
    for a, t in zip(log.events["account_id"], log.events["time"], strict=True):
        decide = reference._decider(policy, by_account[int(a)], {}, contacts)
        out.append(bool(decide(float(t))))
    return np.array(out, dtype=bool)


@HYP
@given(log=logs(), spec=rules())
def test_mql_equals_reference(log, spec):
    policy = policies.load_policy(spec)
    _same(policies.evaluate(policy, log), reference.evaluate(policy, log))


@HYP
@given(log=logs(), spec=rules())
def test_mql_rule_at_every_event_equals_reference(log, spec):
    policy = policies.load_policy(spec)
    np.testing.assert_array_equal(policies.holds(policy, log), _reference_holds(policy, log))


@HYP
@given(log=logs(), spec=rules(), cut=st.integers(0, 40).map(lambda k: k / 2))
def test_mql_never_looks_ahead(log, spec, cut):
    """Truncating the log after ``cut`` changes no handoff and no rule value at or before it."""
    policy = policies.load_policy(spec)
    full = policies.evaluate(policy, log)
    _same(full[full["time"] <= cut], policies.evaluate(policy, log.until(cut)))
    early = log.events["time"].to_numpy() <= cut
    np.testing.assert_array_equal(
        policies.holds(policy, log.until(cut)), policies.holds(policy, log)[early]
    )


@HYP
@given(log=logs(), spec=rules())
def test_intervals_are_at_most_two_per_touch(log, spec):
    """The rule at every event comes from intervals whose number is bounded by the leads'
    touches (twice: one per touch time, one per touch leaving a window), never by the
    account's events."""
    policy = policies.load_policy(spec)
    f = policies.Frame(log)
    t = mql._touches(policy, f)
    window, half_life = mql._decay(policy)
    begin, end = lead_scores.intervals(f, t, window, half_life, policy.threshold)
    assert begin.size <= 2 * t.event.size
    assert ((begin <= end) & (end <= f.n)).all()


# ------------------------------------------------------------------------ worked by hand


def _log(rows, seniority=("ic", "ic")) -> sim.EventLog:
    ev = pd.DataFrame(rows, columns=["time", "account_id", "contact_id", "activity"])
    ev = ev.sort_values(["account_id", "time"], kind="stable").reset_index(drop=True)
    con = pd.DataFrame(
        {"contact_id": [1, 2], "account_id": [0, 0], "title": "", "seniority": list(seniority)}
    )
    return sim.EventLog(ev, con, pd.DataFrame({"account_id": [0, 1]}))


def _rule(**kw) -> policies.PolicyBase:
    return policies.load_policy({"name": "by-hand", "kind": "mql", **kw})


def test_a_negative_touch_leaving_the_window_hands_off_at_someone_elses_event():
    """Window 2 days: contact 1 opens an email (-5) at 0 and attends a webinar (+5) at 1: 0.
    At 2.5 the open has left [0.5, 2.5]: 5, the threshold, at an anonymous event."""
    log = _log(
        [
            (0.0, 0, 1, "email_open"),  # -5
            (1.0, 0, 1, "webinar"),  # 0
            (2.0, 0, -1, "web_visit"),  # the open is on the lower edge of [0, 2]: still 0
            (2.5, 0, -1, "web_visit"),  # it has left: 5
            (3.0, 0, -1, "web_visit"),  # 5, but handed off once only
        ]
    )
    rule = _rule(
        threshold=5.0, points={"email_open": -5.0, "webinar": 5.0}, decay={"window_days": 2.0}
    )
    q = policies.evaluate(rule, log)
    assert q[["contact_id", "time", "score"]].values.tolist() == [[1, 2.5, 5.0]]
    assert policies.holds(rule, log).tolist() == [False, False, False, True, True]
    _same(q, reference.evaluate(rule, log))


def test_a_negative_score_fading_toward_the_fit_hands_off_without_a_touch():
    """Half-life 1 day, fit 5 (c_level), an email open worth -4 at 0: 5 - 4 = 1 at 0, 5 - 2 = 3
    at 1, 5 - 1 = 4 at 2 (the threshold, exactly: 0.5² is 0.25 in floats)."""
    log = _log(
        [(0.0, 0, 1, "email_open"), (1.0, 0, -1, "web_visit"), (2.0, 0, -1, "web_visit")],
        seniority=("c_level", "ic"),
    )
    rule = _rule(
        threshold=4.0,
        points={"email_open": -4.0},
        fit={"seniority": {"c_level": 5.0}},
        decay={"half_life_days": 1.0},
    )
    q = policies.evaluate(rule, log)
    assert q[["contact_id", "time", "score"]].values.tolist() == [[1, 2.0, 4.0]]
    assert policies.holds(rule, log).tolist() == [False, False, True]
    _same(q, reference.evaluate(rule, log))


def test_recycling_with_a_score_that_falls_and_rises_again():
    """No decay, recycling after 1 day: a webinar (+5) hands off at 0; an email open (-5)
    takes the score back to 0 at 0.5; at 2 it is still 0; a webinar at 3 hands off again."""
    log = _log(
        [
            (0.0, 0, 1, "webinar"),
            (0.5, 0, 1, "email_open"),
            (2.0, 0, -1, "web_visit"),
            (3.0, 0, 1, "webinar"),
        ]
    )
    rule = _rule(threshold=5.0, points={"email_open": -5.0, "webinar": 5.0}, recycle_days=1.0)
    q = policies.evaluate(rule, log)
    assert q[["contact_id", "time", "score"]].values.tolist() == [[1, 0.0, 5.0], [1, 3.0, 5.0]]
    assert policies.holds(rule, log).tolist() == [True, False, False, True]
    _same(q, reference.evaluate(rule, log))


def test_a_contact_touching_two_accounts_is_scored_in_each_apart():
    """Contact 1 attends a webinar (+5) in account 1 at 0.5 and in account 0 at 1: 5 in each,
    not 10. Its second webinar in account 0, at 2, makes 10 there: a handoff in account 0 only.
    Contact 2's 5 in account 0 never adds to contact 1's."""
    rows = [(1.0, 0, 1, "webinar"), (0.5, 1, 1, "webinar"), (1.5, 0, 2, "webinar")]
    rule = _rule(threshold=10.0, points={"webinar": 5.0})
    for recycle in (None, 1.0):
        r = policies.with_value(rule, "recycle_days", recycle) if recycle else rule
        assert policies.evaluate(r, _log(rows)).empty
        q = policies.evaluate(r, _log([*rows, (2.0, 0, 1, "webinar")]))
        assert q[["account_id", "contact_id", "time", "score"]].values.tolist() == [
            [0, 1, 2.0, 10.0]
        ]
        _same(q, reference.evaluate(r, _log([*rows, (2.0, 0, 1, "webinar")])))


def test_the_highest_scoring_lead_is_named_at_a_handoff_after_a_rise_without_a_touch():
    """Window 1 day, threshold 3, recycling after 3 days. Contact 2's webinar hands off at 0.5.
    At 3.6, past the recycle period, contact 1's email open (-5 at 2.5) has left its window
    [2.6, 3.6] while both its webinars are in it: 10, above contact 2's 5, at an anonymous
    event: contact 1 is named, with 10."""
    log = _log(
        [
            (0.5, 0, 2, "webinar"),  # contact 2: 5 ... (fit none)
            (2.5, 0, 1, "email_open"),  # contact 1: -5
            (3.0, 0, 1, "webinar"),  # 0
            (3.2, 0, 2, "webinar"),  # contact 2: 5 (its first webinar has left)
            (3.4, 0, 1, "webinar"),  # contact 1: 5
            (3.6, 0, -1, "web_visit"),  # the open has left contact 1's window: 10
        ]
    )
    rule = _rule(
        threshold=3.0,
        points={"email_open": -5.0, "webinar": 5.0},
        decay={"window_days": 1.0},
        recycle_days=3.0,
    )
    q = policies.evaluate(rule, log)
    assert q[["contact_id", "time", "score"]].values.tolist() == [[2, 0.5, 5.0], [1, 3.6, 10.0]]
    _same(q, reference.evaluate(rule, log))


def test_mql_score_intervals_by_hand():
    """A window of 2 days (both ends in), fit alone at the threshold, a tie in time and a tie
    in score (the lowest contact id), recycling after 1 day."""
    log = _log(
        [
            (0.0, 0, 1, "webinar"),  # contact 1: 5
            (1.0, 0, 1, "webinar"),  # 10: handoff
            (1.0, 0, -1, "web_visit"),
            (2.0, 0, -1, "web_visit"),  # the touch at 0 is still in [0, 2]: 10, handoff again
            (2.5, 0, -1, "web_visit"),  # it has left: 5
            (3.0, 0, 2, "web_visit"),  # contact 2 (fit 10) touches: 10 ...
            (3.0, 0, 1, "webinar"),  # ... and contact 1 too, at the same time: 10 each
            (3.5, 0, -1, "web_visit"),  # contact 2 still 10, but recycled less than 1 day ago
            (10.0, 0, -1, "web_visit"),  # contact 1's touches have all left; contact 2 has its fit
        ],
        seniority=("ic", "c_level"),
    )
    policy = policies.load_policy(
        {
            "name": "by-hand",
            "kind": "mql",
            "threshold": 10.0,
            "points": {"webinar": 5.0},
            "fit": {"seniority": {"c_level": 10.0}},
            "decay": {"window_days": 2.0},
            "recycle_days": 1.0,
        }
    )
    q = policies.evaluate(policy, log)
    assert q[["contact_id", "time", "score"]].values.tolist() == [
        [1, 1.0, 10.0],
        [1, 2.0, 10.0],
        [1, 3.0, 10.0],
        [2, 10.0, 10.0],
    ]
    _same(q, reference.evaluate(policy, log))
    expected = [False, True, True, True, False, True, True, True, True]
    assert policies.holds(policy, log).tolist() == expected


@pytest.mark.parametrize(
    ("times", "window", "handed_off"),
    [
        ((0.0, 2.0), 2.0, True),  # at 2 the touch at 0 is on the window's lower edge: in
        ((0.0, 2.5), 2.0, False),
        ((0.1, 0.4), 0.3, False),  # 0.4 - 0.3 is 0.10000000000000003 in floats: 0.1 is out
        ((0.1, 0.4), 0.30000000000000004, True),  # 0.4 - 0.30000000000000004 < 0.1: in
    ],
)
def test_mql_score_intervals_window_edge_at_a_touch(times, window, handed_off):
    """A contact's second touch reaches the threshold only with its first one still in the
    window, compared on the floats as the reference does."""
    log = _log([(times[0], 0, 1, "webinar"), (times[1], 0, 1, "webinar")])
    spec = {"name": "edge", "kind": "mql", "threshold": 10.0, "points": {"webinar": 5.0}}
    policy = policies.load_policy({**spec, "decay": {"window_days": window}, "recycle_days": 1.0})
    q = policies.evaluate(policy, log)
    assert q["time"].tolist() == ([times[1]] if handed_off else [])
    _same(q, reference.evaluate(policy, log))
    assert policies.holds(policy, log).tolist() == [False, handed_off]


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_points_must_be_finite(value):
    """An infinite or NaN point value is a config error naming the field, not a silent NaN
    score (inf - inf in a window's sums)."""
    with pytest.raises(ConfigError, match=r"points\.webinar: Input should be a finite number"):
        _rule(threshold=5.0, points={"webinar": value})
    with pytest.raises(ConfigError, match=r"fit\.seniority\.vp: Input should be a finite number"):
        _rule(threshold=5.0, points={"webinar": 1.0}, fit={"seniority": {"vp": value}})


@HYP
@given(log=logs(), spec=rules())
def test_scores_at_own_touches_are_score_at_exactly(log, spec):
    """The first-handoff path scores each touch at its own time without a search: the very
    floats :func:`lead_scores.score_at` gives there."""
    policy = policies.load_policy(spec)
    f = policies.Frame(log)
    t = mql._touches(policy, f)
    window, half_life = mql._decay(policy)
    np.testing.assert_array_equal(
        lead_scores.score_at_touches(t, window, half_life),
        lead_scores.score_at(t, window, half_life, t.rank, t.time),
    )
