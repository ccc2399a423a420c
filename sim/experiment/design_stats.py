"""The statistics of a rollout experiment's power: per-arm summaries of per-account outcomes,
the test of a difference between two arms at a 5% level, and the power curve over simulated
experiments (see :mod:`sim.experiment.design`).

A binary outcome (an opportunity, a win) is tested with the two-proportion z-test (pooled
variance, the same as Pearson's chi-square without continuity correction); revenue with Welch's
t-test. Both are two-sided.

>>> stats = arm_stats(np.array([[1.0], [0.0], [1.0], [1.0]]), np.array(["a", "a", "b", "b"]))
>>> stats[["arm", "n", "mean"]].to_dict("records")
[{'arm': 'a', 'n': 2, 'mean': 0.5}, {'arm': 'b', 'n': 2, 'mean': 1.0}]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

#: the horizons of the power curve, weeks after the experiment starts
HORIZON_WEEKS = (4, 8, 13, 26, 52)
ALPHA = 0.05
TARGET_POWER = 0.8
#: the columns of :func:`power_curve`
CURVE_COLUMNS = [
    "comparison",
    "weeks",
    "experiments",
    "mean_difference",
    "power",
    "power_se",
    "difference_low",
    "difference_high",
]


def arm_stats(values: np.ndarray, arm: np.ndarray, weeks: Sequence[int] = (0,)) -> pd.DataFrame:
    """Per (horizon, arm): n, mean and variance (ddof 1; NaN with one account) of the
    per-account outcomes ``values`` (one row per account, one column per horizon of
    ``weeks``); ``arm`` names each account's arm."""
    values = np.asarray(values, dtype=np.float64).reshape(len(arm), -1)
    rows = []
    for name in sorted(set(arm.tolist())):
        v = values[arm == name]
        n = v.shape[0]
        var = v.var(axis=0, ddof=1) if n > 1 else np.full(v.shape[1], np.nan)
        for j, w in enumerate(weeks):
            rows.append({"weeks": w, "arm": name, "n": n, "mean": v[:, j].mean(), "var": var[j]})
    return pd.DataFrame(rows)


def z_test_p(m1, n1, m2, n2) -> np.ndarray:
    """Two-sided p-values of the pooled two-proportion z-test of shares ``m1`` (of ``n1``)
    against ``m2`` (of ``n2``), element-wise; 1 where both shares are 0 or both 1."""
    m1, n1, m2, n2 = (np.asarray(x, dtype=np.float64) for x in (m1, n1, m2, n2))
    pooled = (m1 * n1 + m2 * n2) / (n1 + n2)
    se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (m1 - m2) / se, 0.0)
    return 2.0 * sps.norm.sf(np.abs(z))


def welch_p(m1, v1, n1, m2, v2, n2) -> np.ndarray:
    """Two-sided p-values of Welch's t-test of means ``m1`` against ``m2`` (variances ``v1``,
    ``v2``, sizes ``n1``, ``n2``), element-wise; 1 where both arms are constant and equal, 0
    where constant and different, NaN where an arm has fewer than two accounts."""
    m1, v1, n1, m2, v2, n2 = (np.asarray(x, dtype=np.float64) for x in (m1, v1, n1, m2, v2, n2))
    se, df = welch_se_df(v1, n1, v2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (m1 - m2) / se
        p = 2.0 * sps.t.sf(np.abs(t), df)
    constant = se == 0
    p = np.where(constant, np.where(m1 == m2, 1.0, 0.0), p)
    return np.where((n1 < 2) | (n2 < 2), np.nan, p)


def welch_se_df(v1, n1, v2, n2) -> tuple[np.ndarray, np.ndarray]:
    """The standard error of a difference of two means (variances ``v1``, ``v2``, sizes
    ``n1``, ``n2``) and its Welch-Satterthwaite degrees of freedom, element-wise."""
    v1, n1, v2, n2 = (np.asarray(x, dtype=np.float64) for x in (v1, n1, v2, n2))
    a, b = v1 / n1, v2 / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
    return np.sqrt(a + b), df


def difference_tests(
    stats: pd.DataFrame, first: str, second: str, binary: bool, alpha: float = ALPHA
) -> pd.DataFrame:
    """Per experiment and horizon of ``stats`` (columns experiment, weeks, arm, n, mean,
    var): the difference of means ``first - second``, its p-value and whether it is rejected
    at ``alpha`` (a NaN p-value never rejects)."""
    keys = ["experiment", "weeks"]
    a = stats[stats["arm"] == first].set_index(keys)
    b = stats[stats["arm"] == second].set_index(keys).reindex(a.index)
    if binary:
        p = z_test_p(a["mean"], a["n"], b["mean"], b["n"])
    else:
        p = welch_p(a["mean"], a["var"], a["n"], b["mean"], b["var"], b["n"])
    out = pd.DataFrame(
        {
            "comparison": f"{first} - {second}",
            "difference": (a["mean"] - b["mean"]).to_numpy(np.float64),
            "p_value": p,
        },
        index=a.index,
    ).reset_index()
    out["reject"] = out["p_value"].to_numpy(np.float64) < alpha
    return out


def power_curve(tests: pd.DataFrame) -> pd.DataFrame:
    """Per comparison and horizon: the experiments, the mean difference, the power (share of
    experiments that reject), its Monte-Carlo standard error sqrt(p (1 - p) / n), and the
    central 95% of the simulated differences (``difference_low``, ``difference_high``: their
    2.5% and 97.5% quantiles, linearly interpolated)."""
    g = tests.groupby(["comparison", "weeks"], sort=False)
    out = g.agg(
        experiments=("reject", "size"),
        mean_difference=("difference", "mean"),
        power=("reject", "mean"),
        difference_low=("difference", lambda d: d.quantile(0.025)),
        difference_high=("difference", lambda d: d.quantile(0.975)),
    ).reset_index()
    p, n = out["power"].to_numpy(np.float64), out["experiments"].to_numpy(np.float64)
    out["power_se"] = np.sqrt(p * (1.0 - p) / n)
    return out[CURVE_COLUMNS]


def power_interval(power, experiments) -> tuple[np.ndarray, np.ndarray]:
    """The 95% Wilson score interval of a power (a share of ``experiments`` that rejected),
    element-wise. Unlike the standard error sqrt(p (1 - p) / n) it does not collapse to a
    point at a power of 0 or 1: 0 of 3 experiments gives 0 to 0.56."""
    p = np.asarray(power, dtype=np.float64)
    n = np.asarray(experiments, dtype=np.float64)
    z2 = float(sps.norm.ppf(1 - ALPHA / 2)) ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = np.sqrt(z2 * p * (1 - p) / n + z2 * z2 / (4 * n * n)) / (1 + z2 / n)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def weeks_to_power(curve: pd.DataFrame, target: float = TARGET_POWER) -> pd.DataFrame:
    """Per comparison: the weeks after which the power first reaches ``target``, linearly
    interpolated between the horizons of ``curve`` (at most the first horizon when it is
    already reached there; NaN when never), with a sentence for it."""
    rows = []
    for comparison, g in curve.groupby("comparison", sort=False):
        g = g.sort_values("weeks")
        w, p = g["weeks"].to_numpy(np.float64), g["power"].to_numpy(np.float64)
        reached = np.flatnonzero(p >= target)
        if reached.size == 0:
            weeks, text = math.nan, f"more than {w[-1]:g}"
        elif reached[0] == 0:
            weeks, text = float(w[0]), f"{w[0]:g} or fewer"
        else:
            i = reached[0]
            weeks = float(np.interp(target, [p[i - 1], p[i]], [w[i - 1], w[i]]))
            text = f"{weeks:.1f}"
        rows.append({"comparison": comparison, "weeks": weeks, "text": text})
    return pd.DataFrame(rows, columns=["comparison", "weeks", "text"])
