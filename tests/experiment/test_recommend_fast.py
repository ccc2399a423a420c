"""The one-pass reading of a sweep against the loops it replaced: ``summary`` against
``summary_reference`` (one t interval per group in a loop) and ``best_per_sample`` against
``best_per_sample_reference`` (each scenario sample summarised and judged on its own), on random
stores in shuffled row order (first-seen order breaks ties), with NaNs, ties, one replication
and constant metrics; Spearman's rho and its p-value against scipy.stats.spearmanr; and the
sensitivity table of a store with too few scenario samples, which says why it cannot tell."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.errors import QualsimError
from sim.experiment.recommend import (
    best_per_sample,
    best_per_sample_reference,
    recommend,
    sensitivity,
    sensitivity_note,
    summary,
    summary_reference,
)
from sim.experiment.sensitivity import MIN_SAMPLES, spearman

METRICS = [
    "total_wins",
    "precision",
    "weekly_load_p90",
    "handoffs_per_week",
    "false_handoff_hours",  # lower is better
]
VARIANTS = [("p", "A"), ("p", "B"), ("q", "A"), ("q", "C")]
# Quarters from 0 to 50 (and NaN): every sum of them is exact, so a mean does not depend on the
# order or the algorithm that adds them up, and two variants tie exactly or not at all in both
# paths (with arbitrary floats, a loop and a groupby could round a tie apart differently).
VALUE = st.one_of(
    st.just(np.nan),
    st.sampled_from([0.0, 1.0, 2.0]),  # frequent ties between variants
    st.integers(0, 200).map(lambda i: i / 4),
)


@st.composite
def stores(draw) -> pd.DataFrame:
    """Rows of a sweep: every (sample, replication, variant, tier, metric) once, shuffled."""
    samples = draw(st.integers(1, 4))
    reps = draw(st.integers(1, 3))
    variants = draw(st.lists(st.sampled_from(VARIANTS), min_size=1, max_size=4, unique=True))
    tiers = draw(st.sampled_from([[-1], [-1, 1]]))
    keys = [
        (s, r, p, v, t, m)
        for s in range(samples)
        for r in range(reps)
        for p, v in variants
        for t in tiers
        for m in METRICS
    ]
    values = draw(st.lists(VALUE, min_size=len(keys), max_size=len(keys)))
    df = pd.DataFrame(
        keys, columns=["sample", "replication", "policy", "variant", "tier", "metric"]
    )
    df["value"] = values
    order = draw(st.permutations(range(len(df))))
    return df.iloc[list(order)].reset_index(drop=True)


def _same_numbers(fast: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(fast.columns) == list(ref.columns)
    for c in fast.columns:
        a, b = fast[c], ref[c]
        if c in ("policy", "variant"):
            assert a.tolist() == b.tolist()
            continue
        x, y = a.to_numpy(np.float64), b.to_numpy(np.float64)
        assert (np.isnan(x) == np.isnan(y)).all(), c
        np.testing.assert_allclose(x, y, rtol=1e-7, atol=1e-6, equal_nan=True, err_msg=c)


@settings(max_examples=50, deadline=None)
@given(stores(), st.sampled_from([-1, 1]), st.sampled_from([0.9, 0.95]))
def test_summary_equals_the_loop(df: pd.DataFrame, tier: int, level: float) -> None:
    if tier not in set(df["tier"]):
        tier = -1
    _same_numbers(summary(df, tier, level), summary_reference(df, tier, level))


@settings(max_examples=50, deadline=None)
@given(
    stores(),
    st.sampled_from([-1, 1]),
    st.sampled_from(["total_wins", "precision", "false_handoff_hours"]),
    st.sampled_from([None, 0.5, 1.0, 20.0]),
    st.sampled_from([None, 0.0, 0.5]),
    st.sampled_from(["weekly_load_p90", "handoffs_per_week"]),
    st.sampled_from([None, *VARIANTS]),
)
def test_best_per_sample_equals_the_loop(
    df, tier, objective, cap, min_prec, cap_metric, prefer
) -> None:
    if tier not in set(df["tier"]):
        tier = -1
    args = (df, tier, objective, cap, min_prec, cap_metric)
    fast = best_per_sample(*args, prefer=prefer)
    ref = best_per_sample_reference(*args, prefer=prefer)
    assert fast.columns.tolist() == ["sample", "policy", "variant"]
    assert (
        fast.astype({"sample": int}).values.tolist() == ref.astype({"sample": int}).values.tolist()
    )


def test_best_per_sample_by_hand() -> None:
    # sample 0: A and B tie on wins (3), A seen first wins the tie; sample 1: B has more wins
    # but precision 0.2 under the floor, so A; sample 2: nothing meets the floor
    rows = [
        (1, 0, "p", "B", -1, "total_wins", 3.0),
        (0, 0, "p", "B", -1, "total_wins", 3.0),
        (0, 0, "p", "A", -1, "total_wins", 3.0),
        (0, 1, "p", "A", -1, "total_wins", 3.0),
        (0, 1, "p", "B", -1, "total_wins", 3.0),
        (1, 0, "p", "A", -1, "total_wins", 1.0),
        (2, 0, "p", "A", -1, "total_wins", 9.0),
    ]
    precision = {(0, "A"): 0.5, (0, "B"): 0.5, (1, "A"): 0.5, (1, "B"): 0.2, (2, "A"): 0.1}
    rows += [(s, 0, "p", v, -1, "precision", x) for (s, v), x in precision.items()]
    df = pd.DataFrame(
        rows, columns=["sample", "replication", "policy", "variant", "tier", "metric", "value"]
    )
    out = best_per_sample(df, -1, "total_wins", None, 0.3, "weekly_load_p90")
    # in sample 0, B's rows come first in the table (row 2): B is the variant seen first there
    assert out.values.tolist() == [[0, "p", "B"], [1, "p", "A"]]
    # preferring A: A is tied best in sample 0, so it is the best there too
    out = best_per_sample(df, -1, "total_wins", None, 0.3, "weekly_load_p90", prefer=("p", "A"))
    assert out.values.tolist() == [[0, "p", "A"], [1, "p", "A"]]


def _long(wide: dict[tuple[int, str], dict[str, float]]) -> pd.DataFrame:
    """Rows of a store from {(sample, variant): {metric: value}}, policy p, one replication."""
    rows = [
        (s, 0, "p", v, -1, m, x) for (s, v), metrics in wide.items() for m, x in metrics.items()
    ]
    cols = ["sample", "replication", "policy", "variant", "tier", "metric", "value"]
    return pd.DataFrame(rows, columns=cols)


def test_lower_is_better_objective_is_minimised() -> None:
    # A wastes 10 and 30 hours on false handoffs (mean 20), B 40 and 20 (mean 30), C 5 and 5
    # but over the capacity of 3 (p90 week 9): B loses overall, A is recommended; per sample
    # A is best in sample 0 (10 < 40), B in sample 1 (20 < 30)
    hours = {(0, "A"): 10.0, (1, "A"): 30.0, (0, "B"): 40.0, (1, "B"): 20.0}
    hours |= {(0, "C"): 5.0, (1, "C"): 5.0}
    wide = {
        k: {
            "false_handoff_hours": h,
            "precision": 0.5,
            "handoffs_per_week": 1.0,
            "weekly_load_p90": 9.0 if k[1] == "C" else 2.0,
            "total_wins": 1.0,
        }
        for k, h in hours.items()
    }
    r = recommend(_long(wide), 3.0, objective="false_handoff_hours")
    assert (r["variant"], r["mean"], r["best_in_samples"], r["samples"]) == ("A", 20.0, 1, 2)
    assert r["lower_is_better"] and r["tied_with"] == 0
    assert best_per_sample(
        _long(wide), -1, "false_handoff_hours", 3.0, None, "weekly_load_p90"
    ).values.tolist() == [[0, "p", "A"], [1, "p", "B"]]


@pytest.mark.parametrize(
    ("objective", "says"),
    [
        ("weekly_load_p90", "expected a metric with a direction"),
        ("handoffs_per_week", "expected a metric with a direction"),
        ("total_win", "did you mean 'total_wins'"),
    ],
)
def test_objective_without_direction_is_refused(objective: str, says: str) -> None:
    wide = {(0, "A"): {"total_wins": 1.0, "precision": 0.5, "handoffs_per_week": 1.0}}
    wide[(0, "A")]["weekly_load_p90"] = 1.0
    with pytest.raises(QualsimError, match=says):
        recommend(_long(wide), objective=objective)


def test_tied_best_counts_as_best_and_the_tie_is_reported() -> None:
    # A and B both win 4 deals in each of 3 samples (C 2): B (seen first) is recommended, tied
    # with one other variant, and best (tied) in all 3 samples, not 0 of 3 by the tie-break
    wide = {
        (s, v): {"total_wins": 4.0, "precision": 0.5, "handoffs_per_week": 1.0}
        for s in range(3)
        for v in ("B", "A")
    }
    wide |= {
        (s, "C"): {"total_wins": 2.0, "precision": 0.5, "handoffs_per_week": 1.0} for s in range(3)
    }
    r = recommend(_long(wide))
    assert (r["variant"], r["tied_with"], r["best_in_samples"], r["samples"]) == ("B", 1, 3, 3)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(3, 12).flatmap(
        lambda n: st.tuples(
            st.lists(st.sampled_from([0.1, 0.2, 0.5, 0.9, 1.0]), min_size=n, max_size=n),
            st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n),
        )
    )
)
def test_spearman_equals_scipy(xy) -> None:
    x, y = np.array(xy[0]), np.array(xy[1])
    rho, p = spearman(x, y)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        assert math.isnan(rho) and math.isnan(p)
        return
    expected = stats.spearmanr(x, y)
    assert rho == pytest.approx(expected.statistic, abs=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12)


def _store(samples: int) -> pd.DataFrame:
    """A store where variant (p, A) has the most wins in every sample but the last, where
    (p, B) has more; one uncertain parameter rising with the sample."""
    rows = []
    for s in range(samples):
        for v, wins in (("A", 5.0), ("B", 6.0 if s == samples - 1 else 4.0)):
            for m, x in (
                ("total_wins", wins),
                ("precision", 0.5),
                ("weekly_load_p90", 1.0),
                ("handoffs_per_week", 1.0),
            ):
                rows.append((s, 0, "p", v, -1, m, x, float(s)))
    cols = ["sample", "replication", "policy", "variant", "tier", "metric", "value", "u:rate"]
    return pd.DataFrame(rows, columns=cols)


def test_sensitivity_with_three_samples_says_why() -> None:
    df = _store(3)
    r = recommend(df)
    assert (r["variant"], r["best_in_samples"], r["samples"]) == ("A", 2, 3)
    sens = sensitivity(df, r)
    row = sens.iloc[0]
    # rho of (0, 1, 2) with (1, 1, 0) is -sqrt(3)/2 by hand; with 3 samples it is shown with a
    # note that 3 samples are too few to tell it from chance
    assert row["spearman"] == pytest.approx(-math.sqrt(3) / 2)
    assert "3 scenario samples" in row["note"] and f"at least {MIN_SAMPLES}" in row["note"]
    assert sensitivity_note(sens) == f"What changes the ranking: {row['note']}."
    # the same store where A is best in all 3 samples: no correlation, and the note says why
    same = df.assign(
        value=np.where((df["variant"] == "B") & (df["metric"] == "total_wins"), 4.0, df["value"])
    )
    sens = sensitivity(same, recommend(same))
    assert math.isnan(sens.iloc[0]["spearman"])
    note = sensitivity_note(sens)
    assert note is not None and "best in every scenario sample" in note
    assert "3 scenario samples are too few" in note and f"at least {MIN_SAMPLES}" in note


def test_sensitivity_with_enough_samples_has_no_note() -> None:
    df = _store(6)
    sens = sensitivity(df, recommend(df))
    assert sens.iloc[0]["note"] == "" and sens.iloc[0]["spearman"] < 0
    assert sens.iloc[0]["spearman"] == pytest.approx(
        stats.spearmanr(np.arange(6), [1, 1, 1, 1, 1, 0]).statistic
    )


def test_sensitivity_with_two_samples_cannot_estimate() -> None:
    df = _store(2)
    sens = sensitivity(df, recommend(df))
    assert math.isnan(sens.iloc[0]["spearman"])
    assert "this sweep has 2" in sensitivity_note(sens)
