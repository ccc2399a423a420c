"""The columnar truth rule over several opportunities per account against the plain loop
(:func:`truth_reference`), and, with one new_business opportunity per account, against the
accounts-file path it replaces (hypothesis)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.real import OutcomeTruth, outcome_metrics, read_log, truth_from_outcomes
from sim.real.opportunity_truth import EPS_DAYS, OpportunityTruth, count_before, truth_reference

# Times on a coarse grid (quarter days) so that ties between handoffs, openings and closes are
# common; the horizon is on the same grid.
times = st.integers(-40, 200).map(lambda q: q / 4)


@st.composite
def handoffs(draw, n_accounts: int = 4):
    n = draw(st.integers(0, 15))
    acc = draw(st.lists(st.integers(0, n_accounts - 1), min_size=n, max_size=n))
    t = draw(st.lists(times | st.floats(-10, 50), min_size=n, max_size=n))
    return np.array(acc, np.int64), np.array(t, float)


@given(
    st.lists(st.tuples(st.integers(0, 3), times), max_size=12),
    st.lists(st.tuples(st.integers(0, 4), times), max_size=12),
    st.booleans(),
)
def test_count_before_counts(points, queries, inclusive):
    p = np.array(points, float).reshape(-1, 2)
    q = np.array(queries, float).reshape(-1, 2)
    got = count_before(p[:, 0].astype(int), p[:, 1], q[:, 0].astype(int), q[:, 1], inclusive)
    want = [
        sum(1 for a, t in points if a == qa and (t <= qt if inclusive else t < qt))
        for qa, qt in queries
    ]
    assert got.tolist() == want


@st.composite
def cases(draw):
    """Handoffs, a horizon, and opportunities whose dates are often exactly at the rule's
    edges for some handoff (t, t ± EPS, t + horizon, t + horizon + EPS)."""
    a, t = draw(handoffs())
    horizon = draw(st.sampled_from([0.0, 7.5, 30.0]))
    by_day = draw(st.booleans())
    tt = np.floor(t + EPS_DAYS) if by_day else t
    edges = [
        x for v in tt for x in (v, v - EPS_DAYS, v + EPS_DAYS, v + horizon, v + horizon + EPS_DAYS)
    ]
    when = times | st.sampled_from(edges) if edges else times
    n = draw(st.integers(0, 12))
    acc = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    created = draw(st.lists(when, min_size=n, max_size=n))
    closed = [
        c if c >= o else np.nan
        for o, c in zip(created, draw(st.lists(when, min_size=n, max_size=n)), strict=True)
    ]
    opps = (np.array(acc, np.int64), np.array(created, float), np.array(closed, float))
    return opps, (a, t), horizon, by_day


@given(cases())
def test_truth_matches_the_plain_loop(case):
    (acc, created, closed), (a, t), horizon, by_day = case
    truth = OpportunityTruth.of(acc, created, closed, 4, horizon, by_day)
    want = [
        truth_reference(acc, created, closed, horizon, by_day, x, y)
        for x, y in zip(a, t, strict=True)
    ]
    assert truth(a, t).tolist() == want
    # the matched opportunity alone makes the handoff true
    m = truth.match(a, t)
    for k in np.flatnonzero(m >= 0):
        j = m[k]
        one = ([truth.account[j]], [truth.created[j]], [truth.closed[j]])
        assert truth_reference(*one, horizon, by_day, a[k], t[k])
    # an opportunity is found when a handoff is true because of it alone
    found = truth.found(a, t)
    for j in range(len(truth.account)):
        one = ([truth.account[j]], [truth.created[j]], [truth.closed[j]])
        alone = [truth_reference(*one, horizon, by_day, x, y) for x, y in zip(a, t, strict=True)]
        assert found[j] == any(alone)


@given(
    st.lists(st.none() | st.tuples(times, st.none() | st.integers(0, 80)), min_size=1, max_size=5),
    handoffs(5),
    st.sampled_from([0.0, 10.0, 90.0]),
    st.booleans(),
)
def test_one_opportunity_per_account_is_the_old_rule(opps, hand, horizon, by_day):
    opened = np.array([np.nan if o is None else o[0] for o in opps] + [np.nan] * (5 - len(opps)))
    closed = np.array(
        [np.nan if o is None or o[1] is None else o[0] + o[1] / 4 for o in opps]
        + [np.nan] * (5 - len(opps))
    )
    has = ~np.isnan(opened)
    a, t = hand
    old = OutcomeTruth(opened, closed, horizon, by_day)
    new = OpportunityTruth.of(np.flatnonzero(has), opened[has], closed[has], 5, horizon, by_day)
    assert new(a, t).tolist() == np.asarray(old(a, t), bool).tolist()
    assert new.has_opportunity.tolist() == old.has_opportunity.tolist()


def _write(folder: Path, name: str, rows: list[str]) -> Path:
    path = folder / f"{name}.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.none() | st.tuples(st.integers(-30, 60), st.none() | st.integers(0, 40), st.booleans()),
        min_size=1,
        max_size=5,
    ),
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 90)), min_size=1, max_size=12),
    st.sampled_from([0.0, 14.0, 90.0]),
)
def test_the_opportunities_file_equals_the_accounts_file(opps, hand, horizon):
    """With one new_business opportunity per account, scoring is the same from either file."""
    assume(any(o is not None for o in opps))  # an opportunities file needs a row
    day = pd.Timestamp("2024-01-01")

    def iso(d: int) -> str:
        return (day + pd.Timedelta(days=d)).strftime("%Y-%m-%d")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ev = _write(
            folder,
            "events",
            ["timestamp,account_id,contact_id,activity", f"{iso(0)},a0,,web_visit"],
        )
        co = _write(folder, "contacts", ["contact_id,account_id,title", "c,a0,CTO"])
        ac, op = (
            ["account_id,opportunity_date,close_date,won,value"],
            ["account_id,opportunity_id,created,closed,status,amount"],
        )
        for i, o in enumerate(opps):
            if o is None:
                ac.append(f"a{i},,,,")
                continue
            opened, length, won = o
            close = iso(opened + length) if length is not None else ""
            flag = ("true" if won else "false") if close else ""
            status = ("won" if won else "lost") if close else "open"
            ac.append(f"a{i},{iso(opened)},{close},{flag},{i}")
            op.append(f"a{i},x{i},{iso(opened)},{close},{status},{i}")
        old = read_log(ev, co, _write(folder, "accounts", ac))
        ids = ["account_id"] + [f"a{i}" for i in range(len(opps))]
        new = read_log(ev, co, _write(folder, "ids", ids), _write(folder, "opps", op))
        pd.testing.assert_frame_equal(old.outcomes, new.outcomes)
        q = pd.DataFrame(
            {
                "policy": ["p"] * len(hand),
                "account_id": [a % len(opps) for a, _ in hand],
                "time": [float(t) for _, t in hand],
            }
        )
        pd.testing.assert_frame_equal(
            outcome_metrics(q, old, horizon), outcome_metrics(q, new, horizon)
        )
        a, t = q["account_id"].to_numpy(), q["time"].to_numpy(float)
        o = old.outcomes
        legacy = OutcomeTruth(
            o["opportunity_date"].to_numpy(float), o["close_date"].to_numpy(float), horizon, True
        )
        assert truth_from_outcomes(new, horizon)(a, t).tolist() == legacy(a, t).tolist()
