"""Numbers for reading on the report pages: thousands separators and the decimals a unit calls
for (money none, shares three, days one, counts whole where they are whole), and a dash,
explained in the table's caption, for a missing value.

>>> fmt_value(3642000.0, "currency"), fmt_value(0.4712, "share"), fmt_value(12.25, "days")
('3,642,000', '0.471', '12.2')
>>> fmt_interval(20.0, 11.0, 29.0, "deals"), fmt_interval(0.5, 0.4, float("nan"), "share")
('20.0 ±9.0', '0.500')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.sales.metrics import METRICS

DASH = "–"  # an en dash: not to be confused with a minus sign
NA_NOTE = (
    f"A dash ({DASH}) marks no value: the measure does not apply (e.g. a lead metric of an "
    "account-level policy) or there was nothing to measure."
)
COUNTS = {"accounts", "deals", "people", "handoffs", "count", "opportunities"}
RATES = {"per week", "per month"}


def decimals(unit: str, size: float, whole: bool = False) -> int:
    """The decimals a value of ``unit`` shows, ``size`` its magnitude (the larger of the value
    and its half-width); ``whole``: every number to show is a whole number.

    >>> [decimals(u, 5.25) for u in ("currency", "share", "days", "hours", "deals", "per week")]
    [0, 3, 1, 1, 1, 1]
    >>> decimals("deals", 4.0, whole=True), decimals("hours", 2825.0), decimals("per week", 0.3)
    (0, 0, 2)
    """
    if unit == "currency":
        return 0
    if unit == "share":
        return 3
    if unit in ("days", "weeks"):
        return 1
    if unit in COUNTS:
        return 0 if whole or size >= 100 else 1
    if unit in RATES or unit == "hours":
        return 0 if size >= 100 else 1 if size >= 1 or size == 0 else 2
    if whole:
        return 0
    return 0 if size >= 100 else 1 if size > 1 else 3  # no unit: by size alone


def _text(x: float, places: int) -> str:
    s = f"{x:,.{places}f}"
    return s[1:] if s.startswith("-") and float(s[1:].replace(",", "")) == 0 else s


def fmt_value(x: object, unit: str = "", whole: bool | None = None) -> str:
    """One value of ``unit`` as text (:func:`decimals`; ``whole``: the value is a count, not
    a mean, by default when it is a whole number); a missing one as :data:`DASH`."""
    if x is None or (pd.api.types.is_scalar(x) and pd.isna(x)):  # NaN, None, pd.NA, NaT
        return DASH
    if not isinstance(x, int | float):
        return str(x)
    v = float(x)
    return _text(v, decimals(unit, abs(v), v.is_integer() if whole is None else whole))


def fmt_interval(mean: float, lo: float, hi: float, unit: str = "") -> str:
    """ "mean ±half-width" of a confidence interval, both with the decimals of ``unit``; the
    mean alone when there is no interval (one replication), :data:`DASH` without a mean. A
    mean of counts keeps its decimal below 100, even when it happens to be whole."""
    if mean != mean:
        return DASH
    if hi != hi:
        return fmt_value(mean, unit, whole=False)
    half = hi - mean
    places = decimals(unit, max(abs(mean), abs(half)))
    return f"{_text(mean, places)} ±{_text(half, places)}"


def format_columns(df: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """``df`` with each numeric column as text in its unit (``units``: column -> unit; the
    columns not named there by their size alone); a column of counts shows whole numbers only
    when all its values are whole.

    >>> format_columns(pd.DataFrame({"won": [3642000.0, 0.5], "n": [2, 10]}), {"won": "currency"})
             won   n
    0  3,642,000   2
    1          0  10
    """
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            unit = units.get(str(col), "")
            v = out[col].to_numpy(dtype=float, na_value=np.nan)
            known = v[~np.isnan(v)]
            whole = bool(known.size) and bool((known == np.round(known)).all())
            out[col] = [fmt_value(x, unit, whole) for x in out[col].tolist()]
    return out


MARK = {"higher": " ↑", "lower": " ↓"}
#: the same words as the terminal's legend (sim.sales.metrics.legend)
MARK_NOTE = "↑ higher is better, ↓ lower is better, unmarked: neither (volume, load, context)."


def metric_table(summary: pd.DataFrame, metrics: list[str], policies: list[str]) -> pd.DataFrame:
    """One row per metric (its label, unit and the direction that is better), one column per
    policy, "mean ±half-width" in the metric's unit, from ``summary`` rows (policy, metric,
    mean, ci_low, ci_high: ``Comparison.summary()`` or ``.paired()``); metrics without a
    value for any policy are left out."""
    s = summary[summary["metric"].isin(metrics)]
    has = set(s.loc[s["mean"].notna(), "metric"])
    metrics = [m for m in metrics if m in has]
    units = {m: METRICS[m].unit if m in METRICS else "" for m in metrics}
    text = [
        fmt_interval(r.mean, r.ci_low, r.ci_high, units[r.metric])
        for r in s[s["metric"].isin(metrics)].itertuples()
    ]
    t = s[s["metric"].isin(metrics)].assign(text=text)
    t = t.pivot(index="metric", columns="policy", values="text")
    t = t.reindex(index=metrics, columns=[p for p in policies if p in t.columns])
    t.index = pd.Index([label(m) for m in metrics], name="metric")
    t.columns.name = None
    return t.fillna(DASH)


def label(metric: str) -> str:
    """A metric's row label: "Precision (share) ↑" (its unit and the better direction)."""
    m = METRICS.get(metric)
    if m is None:
        return metric
    unit = "" if m.unit.lower() in m.label.lower() else f" ({m.unit})"  # as row_label
    return f"{m.label}{unit}{MARK.get(m.better, '')}"
