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

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.config.strict_yaml import did_you_mean
from sim.errors import QualsimError
from sim.experiment.sensitivity import sensitivity, sensitivity_note
from sim.experiment.stats import grouped_t, grouped_t_reference
from sim.sales.metrics import METRICS

__all__ = [  # sensitivity lives in its own module; it is read here, with the recommendation
    "CAPACITY_METRICS",
    "KEYS",
    "PARETO",
    "best_per_sample",
    "best_per_sample_reference",
    "capacity_metric",
    "parse_capacity_quantile",
    "pareto",
    "recommend",
    "recommend_by_tier",
    "sensitivity",
    "sensitivity_note",
    "summary",
    "summary_reference",
]

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


def summary(
    df: pd.DataFrame,
    tier: int = -1,
    level: float = 0.95,
    *,
    _intervals: Callable[..., pd.DataFrame] = grouped_t,
) -> pd.DataFrame:
    """Per variant (policy, variant) and metric: mean over every (sample, replication) cell
    and its t interval; one row per variant, columns ``<metric>``, ``<metric>_low``,
    ``<metric>_high``. The intervals of all groups come from one ``groupby``
    (:func:`sim.experiment.stats.grouped_t`; ``_intervals`` swaps in the reference loop for
    the tests)."""
    _check(df)
    long = _intervals(df[df["tier"] == tier], [*KEYS, "metric"], "value", level)
    long = long.rename(columns={"ci_low": "low", "ci_high": "high"})
    order = pd.MultiIndex.from_frame(long[KEYS].drop_duplicates())
    wide = long.pivot(index=KEYS, columns="metric", values=["mean", "low", "high"])
    wide = wide.reindex(order)  # only the variants that exist, in first-seen order
    cols = [(stat, m) for m in long["metric"].unique() for stat in ("mean", "low", "high")]
    out = wide.reindex(columns=pd.MultiIndex.from_tuples(cols))  # one take, not 3 per metric
    out.columns = [m if stat == "mean" else f"{m}_{stat}" for stat, m in cols]
    out["cells"] = long.groupby(KEYS, sort=False)["n"].max()
    return out.reset_index()


def summary_reference(df: pd.DataFrame, tier: int = -1, level: float = 0.95) -> pd.DataFrame:
    """:func:`summary` with one :func:`~sim.experiment.stats.t_interval` per group in a plain
    loop: the slow reference the property tests compare it with."""
    return summary(df, tier, level, _intervals=grouped_t_reference)


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
    lower = lower_is_better(objective, set(df["metric"]))
    s = summary(df, tier)
    limits = (max_handoffs_per_week, min_precision, cap_metric)
    s_all = summary(df, -1) if tier != -1 else s
    ok = _feasible(s, s_all, *limits)
    if not ok.any():
        return {"tier": tier, "feasible": 0, "variant": None, "capacity_metric": cap_metric}
    ranked = s[ok].sort_values(objective, ascending=lower, kind="stable")
    best = ranked.iloc[0]
    per = best_per_sample(df, tier, objective, *limits, prefer=(best["policy"], best["variant"]))
    same = int(((per["policy"] == best["policy"]) & (per["variant"] == best["variant"])).sum())
    return {
        "tier": tier,
        "feasible": int(ok.sum()),
        "policy": best["policy"],
        "variant": best["variant"],
        "objective": objective,
        "lower_is_better": lower,
        "tied_with": int((ranked[objective] == best[objective]).sum()) - 1,
        "mean": float(best[objective]),
        "ci_low": float(best[f"{objective}_low"]),
        "ci_high": float(best[f"{objective}_high"]),
        "precision": float(best["precision"]),
        "handoffs_per_week": float(best["handoffs_per_week"]),
        "capacity_metric": cap_metric,
        "capacity_load": _load_of(s_all, best, cap_metric),
        "best_in_samples": same,
        "samples": len(per),
        "per_sample": per,
    }


def lower_is_better(objective: str, stored: set[str]) -> bool:
    """Whether a lower ``objective`` is better (its direction in ``METRICS``); a clear error,
    with a did-you-mean, for a metric that is not stored or has no better direction (a volume
    or a load: maximising it or minimising it are both wrong)."""
    directed = sorted(m for m in stored if m in METRICS and METRICS[m].better)
    m = METRICS.get(objective)
    if objective not in stored or m is None or m.better not in ("higher", "lower"):
        what = " is not a stored metric" if objective not in stored else ": expected a metric"
        raise QualsimError(
            f"objective {objective!r}{what} with a direction{did_you_mean(objective, directed)} "
            f"({', '.join(directed)})"
        )
    return m.better == "lower"


def best_per_sample(
    df: pd.DataFrame,
    tier: int,
    objective: str,
    cap,
    min_prec,
    cap_metric: str,
    prefer: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """Per scenario sample (ascending): the feasible variant with the best mean ``objective``
    over that sample's replications (lowest when lower is better; ties: the variant ``prefer``
    when it is among the tied best, so a variant tied best counts as best, else the variant
    seen first), as columns ``sample``, ``policy``, ``variant``; samples without a feasible
    variant are left out. One ``groupby`` for all samples; :func:`best_per_sample_reference`
    is the loop it replaces."""
    keys = ["sample", *KEYS]
    sub = df[df["tier"] == tier]
    cand = sub[keys].drop_duplicates().reset_index(drop=True)  # first-seen order per sample
    means = _sample_means(sub, keys, [objective, "precision"])
    cand = cand.join(means, on=keys)
    ok = np.ones(len(cand), dtype=bool)
    if cap is not None:
        loads = _sample_means(df[df["tier"] == -1], keys, [cap_metric])[cap_metric]
        ok &= cand.join(loads.rename("_load"), on=keys)["_load"].to_numpy(np.float64) <= cap
    if min_prec is not None:
        ok &= cand["precision"].to_numpy(np.float64) >= min_prec
    mine = np.zeros(len(cand), dtype=bool)
    if prefer is not None:
        mine = ((cand["policy"] == prefer[0]) & (cand["variant"] == prefer[1])).to_numpy()
    cand = cand[ok].assign(_order=np.flatnonzero(ok), _other=~mine[ok])
    lower = lower_is_better(objective, set(df["metric"]))
    cand = cand.sort_values(
        ["sample", objective, "_other", "_order"],
        ascending=[True, lower, True, True],
        na_position="last",
    )
    return cand.groupby("sample", sort=True).head(1)[keys].reset_index(drop=True)


def _sample_means(rows: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """The mean of each metric of ``metrics`` per group of ``keys``: one column per metric (NaN
    where a group has none)."""
    rows = rows[rows["metric"].isin(metrics)]
    means = rows.groupby([*keys, "metric"], sort=False)["value"].mean().unstack("metric")
    return means.reindex(columns=list(dict.fromkeys(metrics)))


def best_per_sample_reference(
    df: pd.DataFrame,
    tier: int,
    objective: str,
    cap,
    min_prec,
    cap_metric: str,
    prefer: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """:func:`best_per_sample` as a plain loop: each sample's rows summarised on their own and
    judged like the whole sweep (the reference of the property tests)."""
    per = []
    sub = df[df["tier"] == tier]
    sub_all = df[df["tier"] == -1]
    for sample, g in sub.groupby("sample"):
        ss = summary_reference(g, tier)
        sa = summary_reference(sub_all[sub_all["sample"] == sample], -1) if tier != -1 else ss
        f = _feasible(ss, sa, cap, min_prec, cap_metric)
        if f.any():
            lower = METRICS[objective].better == "lower"
            ranked = ss[f].sort_values(objective, ascending=lower, kind="stable")
            b = ranked.iloc[0]
            for _, row in ranked.iterrows():  # the preferred variant wins a tie (NaN ties NaN)
                x, top = row[objective], b[objective]
                tie = x == top or (pd.isna(x) and pd.isna(top))
                if tie and (row["policy"], row["variant"]) == prefer:
                    b = row
            per.append((sample, b["policy"], b["variant"]))
    return pd.DataFrame(per, columns=["sample", "policy", "variant"])


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


def recommend_by_tier(
    df: pd.DataFrame,
    max_handoffs_per_week: float | None = None,
    min_precision: float | None = None,
    objective: str = "total_wins",
    capacity_quantile: float | None = 0.9,
) -> tuple[pd.DataFrame, dict]:
    """:func:`recommend` for all accounts and for each tier: a table of numbers indexed by
    ``tier`` ("all accounts", "tier 1", ...) with columns ``policy``, ``variant`` (empty where
    no variant meets the limits), ``mean``, ``ci_low``, ``ci_high`` (of the objective),
    ``precision``, ``handoffs_per_week`` and ``capacity_load`` (all accounts),
    ``best_in_samples`` (best or tied best), ``samples`` and ``tied_with`` (other variants with
    the same mean); and the all-accounts recommendation."""
    rows = []
    overall: dict = {}
    numbers = ["mean", "ci_low", "ci_high", "precision", "handoffs_per_week", "capacity_load"]
    counts = ["best_in_samples", "samples", "tied_with"]
    for tier in [-1, *sorted(t for t in df["tier"].unique() if t != -1)]:
        r = recommend(
            df, max_handoffs_per_week, min_precision, objective, int(tier), capacity_quantile
        )
        if tier == -1:
            overall = r
        row: dict[str, object] = {"tier": "all accounts" if tier == -1 else f"tier {tier}"}
        row |= {k: r.get(k) for k in ["policy", "variant", *numbers, *counts]}
        rows.append(row)
    out = pd.DataFrame(rows).set_index("tier")
    out[["policy", "variant"]] = out[["policy", "variant"]].fillna("")
    out[numbers] = out[numbers].astype(np.float64)
    out[counts] = out[counts].astype("Int64")
    return out, overall
