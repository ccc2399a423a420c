"""Statistics over replications: t intervals for means, standard errors, and their text.

>>> mean, lo, hi, n = t_interval([1.0, 2.0, 3.0])
>>> mean, n, round(float(hi - mean), 3)
(2.0, 3, 2.484)
>>> interval_text(2.0, -0.484, 4.484)
'2.0 ±2.5'

Per group of a table, :func:`grouped_t` computes the same intervals in one pandas ``groupby``
(mean, standard deviation and count per group, one vectorised t quantile); the plain loop of
:func:`t_interval` over the groups is kept as :func:`grouped_t_reference`, and property tests
check that both agree. The t quantile is :func:`scipy.special.stdtrit`, the function
``scipy.stats.t.ppf`` evaluates, so reading a sweep does not import ``scipy.stats``.

>>> df = pd.DataFrame({"policy": ["a", "a", "a", "b"], "value": [1.0, 2.0, 3.0, 5.0]})
>>> grouped_t(df, ["policy"], "value").round(3).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
[{'policy': 'a', 'mean': 2.0, 'ci_low': -0.484, 'ci_high': 4.484, 'n': 3},
 {'policy': 'b', 'mean': 5.0, 'ci_low': nan, 'ci_high': nan, 'n': 1}]
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

_T_COLUMNS = ["mean", "ci_low", "ci_high", "n"]


def t_quantile(level: float, dof) -> np.ndarray:
    """The two-sided ``level`` quantile of Student's t with ``dof`` degrees of freedom (NaN
    where ``dof`` < 1), as ``scipy.stats.t.ppf(0.5 + level / 2, dof)``."""
    dof = np.asarray(dof, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(dof >= 1, special.stdtrit(np.maximum(dof, 1.0), 0.5 + level / 2), np.nan)


def t_interval(values, level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of a Student-t interval for the mean; NaN values are left out."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    n = v.size
    if n == 0:
        return (np.nan, np.nan, np.nan, 0)
    mean = float(v.mean())
    if n == 1:
        return (mean, np.nan, np.nan, 1)
    half = float(t_quantile(level, n - 1) * v.std(ddof=1) / np.sqrt(n))
    return (mean, mean - half, mean + half, n)


def mean_se(values) -> tuple[float, float, int]:
    """(mean, standard error sd/sqrt(n), n) of the non-NaN values (NaN where undefined)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    n = v.size
    mean = float(v.mean()) if n else math.nan
    se = float(v.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return mean, se, n


def grouped_t(df: pd.DataFrame, keys: list[str], value: str, level: float = 0.95) -> pd.DataFrame:
    """Per group of ``keys`` (in order of first appearance; rows with a missing key are
    left out, as ``groupby`` does): the :func:`t_interval` of the ``value`` column, as columns
    ``mean``, ``ci_low``, ``ci_high``, ``n`` (NaN values left out; a group of one value has no
    interval, a group of none no mean)."""
    if df.empty:
        return pd.DataFrame(columns=[*keys, *_T_COLUMNS])
    v = df[value].astype(np.float64)
    g = v.groupby([df[k] for k in keys], sort=False, observed=True)
    out = g.agg(["mean", "std", "count"])
    n = out["count"].to_numpy(np.int64)
    half = t_quantile(level, n - 1) * out["std"].to_numpy(np.float64) / np.sqrt(np.maximum(n, 1))
    mean = out["mean"].to_numpy(np.float64)
    res = out.index.to_frame(index=False)
    res["mean"], res["ci_low"], res["ci_high"], res["n"] = mean, mean - half, mean + half, n
    return res


def grouped_t_reference(
    df: pd.DataFrame, keys: list[str], value: str, level: float = 0.95
) -> pd.DataFrame:
    """:func:`grouped_t` as a plain loop of :func:`t_interval` over the groups: the slow,
    obviously-correct reference the property tests hold the fast one to."""
    rows = [
        (*key, *t_interval(g[value].to_numpy(np.float64), level))
        for key, g in df.groupby(keys, sort=False, observed=True)
    ]
    return pd.DataFrame(rows, columns=[*keys, *_T_COLUMNS])


def grouped_intervals(
    df: pd.DataFrame, keys: list[str], values: list[str], level: float
) -> pd.DataFrame:
    """Per group of ``keys`` and each column of ``values``: the t interval of its mean (one row
    per group and value, grouped as the groups first appear, then in the order of
    ``values``)."""
    if df.empty:
        return pd.DataFrame(columns=[*keys, "value", "mean", "ci_low", "ci_high", "n"])
    codes = df.groupby(keys, sort=False, observed=True).ngroup().to_numpy()
    long = df.melt(id_vars=keys, value_vars=values, var_name="_column", value_name="_value")
    long["_order"] = np.tile(codes, len(values)) * len(values) + np.repeat(
        np.arange(len(values)), len(df)
    )
    long = long[long["_order"] >= 0].sort_values("_order", kind="stable")  # NaN: a missing key
    out = grouped_t(long, [*keys, "_column"], "_value", level)
    return out.rename(columns={"_column": "value"})


def grouped_intervals_reference(
    df: pd.DataFrame, keys: list[str], values: list[str], level: float
) -> pd.DataFrame:
    """:func:`grouped_intervals` as the plain loop of :func:`t_interval` it replaces (the
    reference of the property tests)."""
    if df.empty:
        return pd.DataFrame(columns=[*keys, "value", "mean", "ci_low", "ci_high", "n"])
    rows = []
    for key, g in df.groupby(keys, sort=False, observed=True):
        for v in values:
            mean, lo, hi, n = t_interval(g[v].to_numpy(np.float64), level)
            rows.append((*key, v, mean, lo, hi, n))
    return pd.DataFrame(rows, columns=[*keys, "value", "mean", "ci_low", "ci_high", "n"])


def interval_text(mean: float, lo: float, hi: float) -> str:
    """ "mean ±half" with digits to suit the size ("-" for NaN, the mean alone without an
    interval)."""
    if mean != mean:
        return "-"
    size = max(abs(mean), abs(hi - mean) if hi == hi else 0.0)
    fmt = ",.0f" if size >= 100 else ".1f" if size > 1 else ".3f"
    if hi != hi:
        return format(mean, fmt)
    return f"{mean:{fmt}} ±{hi - mean:{fmt}}"
