"""Reading a sweep: variant summaries with CIs, the Pareto frontier, a capacity-aware
recommendation and which uncertain world parameters change it.

All functions take the rows of :func:`sim.sweep.results` (one per sample, replication, policy
variant, tier and metric; tier -1 = all accounts).

The capacity limit (``max_handoffs_per_week``) bounds a *quantile week* of all accounts'
queue-joining handoffs, by default the 90th-percentile week (``weekly_load_p90``): a rule that
averages 18 a week against a capacity of 24 but hands off 150-200 a week for its first month
does not fit. ``capacity_quantile=None`` (``--capacity-quantile mean``) bounds the mean
handoffs per week instead, as before. A store written before the weekly load was stored has no
quantile to read: recommending under a capacity limit then fails with a clear error saying so
(rerun the sweep into a new folder, or bound the mean) rather than silently bounding the mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.errors import QualsimError
from sim.experiment.stats import interval_text, t_interval
from sim.sales.metrics import METRICS

KEYS = ["policy", "variant"]
#: the stored metric each capacity quantile bounds (``None``: the mean)
CAPACITY_METRICS: dict[float | None, str] = {
    0.5: "weekly_load_p50",
    0.9: "weekly_load_p90",
    1.0: "weekly_load_max",
    None: "handoffs_per_week",
}


def capacity_metric(quantile: float | None) -> str:
    """The stored metric a capacity ``quantile`` of the weekly load bounds (0.5, 0.9 or 1.0:
    the busiest week; ``None``: the mean handoffs per week).

    >>> capacity_metric(0.9), capacity_metric(None)
    ('weekly_load_p90', 'handoffs_per_week')
    """
    if quantile not in CAPACITY_METRICS:
        raise QualsimError(
            f"capacity quantile: expected 0.5, 0.9, 1 (the busiest week) or mean, got {quantile!r}"
            " (the sweep stores the weekly load at these quantiles only)"
        )
    return CAPACITY_METRICS[quantile]


def parse_capacity_quantile(text: str) -> float | None:
    """``--capacity-quantile`` as given on a command line: ``"0.9"`` -> 0.9, ``"mean"`` ->
    None; anything else is a clear error."""
    if text.strip().lower() == "mean":
        return None
    try:
        q: float | None = float(text)
    except ValueError:
        q = -1.0
    if q not in CAPACITY_METRICS:
        raise QualsimError(
            f"--capacity-quantile: expected 0.5, 0.9, 1 (the busiest week) or mean, got {text!r}"
        )
    return q


def _check_capacity(df: pd.DataFrame, metric: str) -> None:
    """Every all-accounts cell of the store holds the capacity ``metric``."""
    cells = df[df["tier"] == -1]
    n_all = int((cells["metric"] == "handoffs_per_week").sum())
    n_has = int((cells["metric"] == metric).sum())
    if n_has >= n_all:
        return
    which = "none" if n_has == 0 else f"only {n_has} of {n_all}"
    raise QualsimError(
        f"the sweep results hold {metric} in {which} of their cells (written by a qualsim that "
        "did not store the weekly load): the capacity limit cannot bound that week. Run the "
        "sweep again into a new folder, or pass --capacity-quantile mean to bound the mean "
        "handoffs per week"
    )


PARETO = {"precision": "max", "lead_time_days": "max", "handoffs_per_week": "min", "wins": "max"}


def _check(df: pd.DataFrame) -> None:
    """Rows to read: some, and of one configuration (rows of several sweeps concatenated by
    hand would silently mix; :func:`sim.experiment.sweep.results` gives one folder's verified
    rows)."""
    if df.empty:
        raise QualsimError("the sweep has no results yet: run `qualsim sweep` first")
    if "config_hash" in df.columns and df["config_hash"].nunique(dropna=False) > 1:
        hashes = sorted(map(str, df["config_hash"].unique()))
        raise QualsimError(
            f"the rows mix {len(hashes)} sweep configurations (config hashes "
            f"{', '.join(hashes[:5])}); read one folder's rows with results()"
        )


def summary(df: pd.DataFrame, tier: int = -1, level: float = 0.95) -> pd.DataFrame:
    """Per variant (policy, variant) and metric: mean over every (sample, replication) cell
    and its t interval; one row per variant, columns ``<metric>``, ``<metric>_low``,
    ``<metric>_high``."""
    _check(df)
    sub = df[df["tier"] == tier]
    rows = []
    for key, g in sub.groupby([*KEYS, "metric"], sort=False):
        mean, lo, hi, n = t_interval(g["value"].to_numpy(np.float64), level)
        rows.append((*key, mean, lo, hi, n))
    long = pd.DataFrame(rows, columns=[*KEYS, "metric", "mean", "low", "high", "n"])
    order = pd.MultiIndex.from_frame(long[KEYS].drop_duplicates())
    wide = long.pivot(index=KEYS, columns="metric", values=["mean", "low", "high"])
    wide = wide.reindex(order)  # only the variants that exist, in first-seen order
    out = pd.DataFrame(index=wide.index)
    for m in long["metric"].unique():
        out[m] = wide[("mean", m)]
        out[f"{m}_low"] = wide[("low", m)]
        out[f"{m}_high"] = wide[("high", m)]
    out["cells"] = long.groupby(KEYS, sort=False)["n"].max()
    return out.reset_index()


def pareto(s: pd.DataFrame, objectives: dict[str, str] | None = None) -> pd.DataFrame:
    """The variants of a :func:`summary` no other variant beats on every objective (by mean):
    ``objectives`` maps metric -> "max" or "min" (default: precision, lead time and wins up,
    handoffs per week down). NaN objectives count as worst."""
    objectives = objectives or PARETO
    sign = np.array([1.0 if objectives[m] == "max" else -1.0 for m in objectives])
    x = s[list(objectives)].to_numpy(np.float64) * sign
    x = np.where(np.isnan(x), -np.inf, x)
    keep = np.ones(len(s), dtype=bool)
    for i in range(len(s)):
        dominated = (x >= x[i]).all(axis=1) & (x > x[i]).any(axis=1)
        keep[i] = not dominated.any()
    return s[keep].reset_index(drop=True)


def recommend(
    df: pd.DataFrame,
    max_handoffs_per_week: float | None = None,
    min_precision: float | None = None,
    objective: str = "total_wins",
    tier: int = -1,
    capacity_quantile: float | None = 0.9,
) -> dict:
    """The variant with the best mean ``objective`` among those meeting the constraints
    (the ``capacity_quantile`` week of all accounts' queue-joining handoffs at most
    ``max_handoffs_per_week``, see the module doc; precision of ``tier`` at least
    ``min_precision``), with its CI, and how often it is the best feasible variant when each
    scenario sample is judged on its own (across the scenario uncertainty)."""
    _check(df)
    cap_metric = capacity_metric(capacity_quantile)
    if max_handoffs_per_week is not None:
        _check_capacity(df, cap_metric)
    if objective not in set(df["metric"]):
        raise QualsimError(
            f"objective {objective!r} is not a stored metric "
            f"({', '.join(sorted(df['metric'].unique()))})"
        )
    s = summary(df, tier)
    limits = (max_handoffs_per_week, min_precision, cap_metric)
    s_all = summary(df, -1) if tier != -1 else s
    ok = _feasible(s, s_all, *limits)
    if not ok.any():
        return {"tier": tier, "feasible": 0, "variant": None, "capacity_metric": cap_metric}
    best = s[ok].sort_values(objective, ascending=False, kind="stable").iloc[0]
    # per scenario sample: the best feasible variant there
    per = []
    sub = df[df["tier"] == tier]
    sub_all = df[df["tier"] == -1]
    for sample, g in sub.groupby("sample"):
        ss = summary(g, tier)
        sa = summary(sub_all[sub_all["sample"] == sample], -1) if tier != -1 else ss
        f = _feasible(ss, sa, *limits)
        if f.any():
            b = ss[f].sort_values(objective, ascending=False, kind="stable").iloc[0]
            per.append((sample, b["policy"], b["variant"]))
    same = sum(1 for _, p, v in per if (p, v) == (best["policy"], best["variant"]))
    return {
        "tier": tier,
        "feasible": int(ok.sum()),
        "policy": best["policy"],
        "variant": best["variant"],
        "objective": objective,
        "mean": float(best[objective]),
        "ci_low": float(best[f"{objective}_low"]),
        "ci_high": float(best[f"{objective}_high"]),
        "precision": float(best["precision"]),
        "handoffs_per_week": float(best["handoffs_per_week"]),
        "capacity_metric": cap_metric,
        "capacity_load": _load_of(s_all, best, cap_metric),
        "best_in_samples": same,
        "samples": len(per),
        "per_sample": pd.DataFrame(per, columns=["sample", "policy", "variant"]),
    }


def _load_of(s_all: pd.DataFrame, best: pd.Series, metric: str) -> float:
    """The mean ``metric`` (all accounts) of the variant ``best``; NaN where not stored."""
    if metric not in s_all.columns:
        return float("nan")
    row = s_all[(s_all["policy"] == best["policy"]) & (s_all["variant"] == best["variant"])]
    return float(row[metric].iloc[0]) if len(row) else float("nan")


def _feasible(s: pd.DataFrame, s_all: pd.DataFrame, cap, min_prec, cap_metric) -> np.ndarray:
    ok = np.ones(len(s), dtype=bool)
    if cap is not None:
        load = s_all.set_index(KEYS)[cap_metric].reindex(pd.MultiIndex.from_frame(s[KEYS]))
        ok &= load.to_numpy(np.float64) <= cap
    if min_prec is not None:
        ok &= s["precision"].to_numpy(np.float64) >= min_prec
    return ok


def sensitivity(df: pd.DataFrame, rec: dict) -> pd.DataFrame:
    """Which uncertain world parameters change the ranking: per parameter (the ``u:`` columns),
    the Spearman correlation between the parameter's value in a sample and whether the
    recommended variant is the best there, and the share of samples where it is best in the
    lower and upper half of the parameter's range (a one-split PRIM-style box)."""
    per = rec.get("per_sample")
    cols = [c for c in df.columns if c.startswith("u:")]
    if per is None or per.empty or not cols:
        return pd.DataFrame(columns=["parameter", "spearman", "p_value", "best_low", "best_high"])
    values = df.groupby("sample")[cols].first()
    is_best = (per["policy"] == rec["policy"]) & (per["variant"] == rec["variant"])
    best = pd.Series(is_best.to_numpy(float), index=per["sample"])
    rows = []
    for c in cols:
        v = pd.to_numeric(values[c].reindex(best.index), errors="coerce").to_numpy(np.float64)
        b = best.to_numpy()
        if np.nanstd(v) == 0 or b.std() == 0:
            rho, p = np.nan, np.nan
        else:
            rho, p = stats.spearmanr(v, b)
        mid = np.nanmedian(v)
        low, high = b[v <= mid], b[v > mid]
        rows.append(
            {
                "parameter": c[2:],
                "spearman": float(rho),
                "p_value": float(p),
                "best_low": float(low.mean()) if low.size else np.nan,
                "best_high": float(high.mean()) if high.size else np.nan,
            }
        )
    out = pd.DataFrame(rows)
    return out.sort_values("spearman", key=lambda x: -x.abs(), na_position="last").reset_index(
        drop=True
    )


def recommend_by_tier(
    df: pd.DataFrame,
    max_handoffs_per_week: float | None = None,
    min_precision: float | None = None,
    objective: str = "total_wins",
    capacity_quantile: float | None = 0.9,
) -> tuple[pd.DataFrame, dict]:
    """:func:`recommend` for all accounts and for each tier: a printable table (one row per
    tier: policy, variant, objective as "mean ±half-width", precision, handoffs per week, the
    capacity quantile's week, best in how many scenario samples) and the all-accounts
    recommendation."""
    rows = []
    overall: dict = {}
    load_label = f"{METRICS[capacity_metric(capacity_quantile)].label.lower()} (all)"
    for tier in [-1, *sorted(t for t in df["tier"].unique() if t != -1)]:
        r = recommend(
            df, max_handoffs_per_week, min_precision, objective, int(tier), capacity_quantile
        )
        if tier == -1:
            overall = r
        label = "all accounts" if tier == -1 else f"tier {tier}"
        if r.get("variant") is None:
            rows.append({"tier": label, "policy": "-", "variant": "no variant meets the limits"})
            continue
        rows.append(
            {
                "tier": label,
                "policy": r["policy"],
                "variant": r["variant"],
                objective: interval_text(r["mean"], r["ci_low"], r["ci_high"]),
                "precision": f"{r['precision']:.3f}",
                "handoffs/week (all)": f"{r['handoffs_per_week']:.1f}",
                **({} if capacity_quantile is None else {load_label: f"{r['capacity_load']:.1f}"}),
                "best in samples": f"{r['best_in_samples']}/{r['samples']}",
            }
        )
    return pd.DataFrame(rows).set_index("tier").fillna(""), overall
