"""Statistics over replications: t intervals for means, standard errors, and their text.

>>> mean, lo, hi, n = t_interval([1.0, 2.0, 3.0])
>>> mean, n, round(float(hi - mean), 3)
(2.0, 3, 2.484)
>>> interval_text(2.0, -0.484, 4.484)
'2.0 ±2.5'
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats


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
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / np.sqrt(n))
    return (mean, mean - half, mean + half, n)


def mean_se(values) -> tuple[float, float, int]:
    """(mean, standard error sd/sqrt(n), n) of the non-NaN values (NaN where undefined)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    n = v.size
    mean = float(v.mean()) if n else math.nan
    se = float(v.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return mean, se, n


def grouped_intervals(
    df: pd.DataFrame, keys: list[str], values: list[str], level: float
) -> pd.DataFrame:
    """Per group of ``keys`` and each column of ``values``: the t interval of its mean."""
    if df.empty:
        return pd.DataFrame(columns=[*keys, "value", "mean", "ci_low", "ci_high", "n"])
    rows = []
    for key, g in df.groupby(keys, sort=False):
        for v in values:
            mean, lo, hi, n = t_interval(g[v].to_numpy(np.float64), level)
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "value": v,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "n": n,
                }
            )
    return pd.DataFrame(rows)


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
