"""The t intervals of sim.experiment.stats: hand-worked examples, and the one-groupby fast
path (grouped_t, grouped_intervals) against the plain loop of t_interval it replaces, on random
groups with NaNs, groups of one value, of no value and of one repeated value."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.experiment.stats import (
    grouped_intervals,
    grouped_intervals_reference,
    grouped_t,
    grouped_t_reference,
    t_interval,
    t_quantile,
)


def test_t_interval_by_hand() -> None:
    # 2, 4, 6, 8: mean 5, sd sqrt(20/3), half-width t(0.975, 3) * sd / 2 with t = 3.182446
    mean, lo, hi, n = t_interval([2.0, 4.0, np.nan, 6.0, 8.0])
    half = 3.182446305284263 * math.sqrt(20 / 3) / 2
    assert (mean, n) == (5.0, 4)
    assert lo == pytest.approx(5 - half, rel=1e-12) and hi == pytest.approx(5 + half, rel=1e-12)
    one = t_interval([3.0])
    assert one[0] == 3.0 and math.isnan(one[1]) and math.isnan(one[2]) and one[3] == 1
    none = t_interval([np.nan])
    assert math.isnan(none[0]) and none[3] == 0


def test_t_quantile_is_students_t() -> None:
    dof = np.array([1, 2, 5, 30, 1000])
    np.testing.assert_allclose(t_quantile(0.95, dof), stats.t.ppf(0.975, dof), rtol=1e-12)
    np.testing.assert_allclose(t_quantile(0.9, 4), 2.131846786, rtol=1e-9)  # a t table
    assert np.isnan(t_quantile(0.95, np.array([0, -1]))).all()


def test_grouped_t_by_hand() -> None:
    df = pd.DataFrame(
        {
            "policy": ["a", "b", "a", "a", "b", "c", "d", "d"],
            "value": [1.0, 5.0, 2.0, 3.0, np.nan, np.nan, 7.0, 7.0],
        }
    )
    out = grouped_t(df, ["policy"], "value").set_index("policy")
    assert list(out.index) == ["a", "b", "c", "d"]  # first-seen order
    t2 = 0.95 * math.sqrt(2 / (4 * 0.975 * 0.025))  # t(0.975) with 2 dof, in closed form
    half = t2 * 1.0 / math.sqrt(3)  # sd of 1, 2, 3 is 1
    assert out.loc["a", "mean"] == 2.0 and out.loc["a", "n"] == 3
    assert out.loc["a", "ci_high"] == pytest.approx(2 + half, rel=1e-12)
    assert out.loc["b", "mean"] == 5.0 and np.isnan(out.loc["b", "ci_low"])  # one value
    assert out.loc["c", "n"] == 0 and np.isnan(out.loc["c", "mean"])  # no value
    assert out.loc["d", "ci_low"] == out.loc["d", "ci_high"] == 7.0  # a constant group


def _close(fast: pd.DataFrame, ref: pd.DataFrame, keys: list[str]) -> None:
    """Same groups in the same order, same counts, and means and bounds equal up to rounding
    (NaN exactly where the reference has NaN)."""
    assert list(fast.columns) == list(ref.columns)
    pd.testing.assert_frame_equal(
        fast[keys].reset_index(drop=True), ref[keys].reset_index(drop=True), check_dtype=False
    )
    assert fast["n"].astype(int).tolist() == ref["n"].astype(int).tolist()
    scale = 1.0 + max(1.0, float(np.nanmax(np.abs(ref[["mean"]].to_numpy()), initial=0.0)))
    for c in ("mean", "ci_low", "ci_high"):
        a, b = fast[c].to_numpy(np.float64), ref[c].to_numpy(np.float64)
        assert (np.isnan(a) == np.isnan(b)).all(), c
        # the bounds carry the sd: a sum-of-squares rounding of ~1e-8 relative at most
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-7 * scale, equal_nan=True)


VALUES = st.one_of(
    st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 0.1, 1.0, 3.0, np.nan]),  # repeats make constant groups and NaNs
)


@st.composite
def grouped_frames(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 40))
    return pd.DataFrame(
        {
            "policy": draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n)),
            "tier": draw(st.lists(st.sampled_from([-1, 1, 2]), min_size=n, max_size=n)),
            "x": draw(st.lists(VALUES, min_size=n, max_size=n)),
            "y": draw(st.lists(VALUES, min_size=n, max_size=n)),
        }
    )


@settings(max_examples=80, deadline=None)
@given(grouped_frames(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_grouped_t_equals_the_loop(df: pd.DataFrame, level: float) -> None:
    for keys in (["policy"], ["policy", "tier"]):
        _close(grouped_t(df, keys, "x", level), grouped_t_reference(df, keys, "x", level), keys)


@settings(max_examples=50, deadline=None)
@given(grouped_frames(), st.sampled_from([0.9, 0.95]))
def test_grouped_intervals_equals_the_loop(df: pd.DataFrame, level: float) -> None:
    keys = ["tier", "policy"]
    fast = grouped_intervals(df, keys, ["y", "x"], level)
    ref = grouped_intervals_reference(df, keys, ["y", "x"], level)
    _close(fast, ref, [*keys, "value"])


def test_grouped_on_empty_tables() -> None:
    empty = pd.DataFrame({"policy": [], "x": []})
    assert grouped_t(empty, ["policy"], "x").empty
    assert grouped_intervals(empty, ["policy"], ["x"], 0.95).empty
