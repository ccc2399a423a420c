"""The verdict of a sweep's recommendation in one sentence (:func:`recommendation_text`): which
variant, by how much against the best feasible alternative (paired on the same scenario samples
and worlds), what it costs, its ties, and whether it rests on too few cells. The verdict of a
comparison is :mod:`sim.experiment.verdict`."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.experiment.stats import t_interval
from sim.experiment.verdict import _interval, _num, _signed
from sim.sales.metrics import METRICS

#: fewer paired cells (scenario samples x replications) than this and the sentence says so
FEW_CELLS = 10


def _few(cells: pd.Index, n: int) -> str:
    """The caveat of a recommendation resting on fewer than :data:`FEW_CELLS` paired cells: a
    t interval on 2 cells that agree has zero width, which is not certainty."""
    if n >= FEW_CELLS:
        return ""
    samples = cells.get_level_values("sample").nunique()
    reps = cells.get_level_values("replication").nunique()

    def many(k: int, word: str) -> str:
        return f"{k} {word}{'' if k == 1 else 's'}"

    return (
        f" (on only {n} paired cells, {many(samples, 'scenario sample')} x "
        f"{many(reps, 'replication')}: sweep more before relying on it)"
    )


def recommendation_text(
    df: pd.DataFrame,
    rec: dict,
    max_handoffs_per_week: float | None = None,
    min_precision: float | None = None,
) -> str:
    """One paragraph on a sweep's all-accounts recommendation ``rec``
    (:func:`sim.experiment.recommend.recommend` of the rows ``df``): which variant (and how
    many others tie with it), by how much against the best feasible alternative (paired on the
    same scenario samples and worlds; lowest first for a lower-is-better objective), and what
    it costs: the load against the capacity (or that none was given), precision and sales
    hours."""
    if rec.get("variant") is None:
        return "Verdict: no variant meets the limits; raise the capacity or lower the floor."
    objective, load_metric = rec["objective"], rec["capacity_metric"]
    lower = bool(rec.get("lower_is_better", False))
    rows = df[(df["tier"] == -1) & (df["metric"].isin([objective, load_metric, "precision"]))]
    wide = rows.pivot_table(
        index=["sample", "replication"], columns=["policy", "variant", "metric"], values="value"
    )
    means = wide.mean()
    best = (rec["policy"], rec["variant"])
    alternatives = []
    for p, var in dict.fromkeys((p, var) for p, var, _ in means.index):
        if (p, var) == best:
            continue
        load, prec = means.get((p, var, load_metric)), means.get((p, var, "precision"))
        if max_handoffs_per_week is not None and not load <= max_handoffs_per_week:
            continue
        if min_precision is not None and not prec >= min_precision:
            continue
        alternatives.append((means[(p, var, objective)], p, var))
    m = METRICS.get(objective)
    unit, label = (m.unit, m.label.lower()) if m else ("", objective)
    head = f"Verdict: {rec['policy']} {rec['variant']} ({label} {_num(rec['mean'])} {unit})"
    cost = _rec_cost(df, rec, max_handoffs_per_week)
    alternatives = [a for a in alternatives if a[0] == a[0]]
    if not alternatives:
        return f"{head}, the only variant within the limits; {cost}"
    _, p, var = (min if lower else max)(alternatives, key=lambda a: a[0])
    d = (wide[(*best, objective)] - wide[(p, var, objective)]).to_numpy(np.float64)
    mean, lo, hi, n = t_interval(d)
    if n < 2 or lo != lo:
        cells = "cell" if n == 1 else "cells"
        by = f"{_signed(mean)} {unit} (no CI on {n} {cells}: no difference claimed)"
    else:
        tied = "" if lo > 0 or hi < 0 else ", not distinguishable from zero (tied)"
        by = _interval(mean, lo, hi, unit) + tied + _few(wide.index, n)
    verb = "differs (lower is better) from" if lower else "leads"
    ties = _ties(rec)
    return f"{head} {verb} the best feasible alternative, {p} {var}, by {by}.{ties} {cost}"


def _ties(rec: dict) -> str:
    """The sentence on variants tied with the recommended one on the mean objective."""
    k = int(rec.get("tied_with", 0))
    if k <= 0:
        return ""
    others = "variant" if k == 1 else "variants"
    return (
        f" It is tied on the mean with {k} other {others}; ties go to the variant listed first "
        "in the sweep."
    )


def _rec_cost(df: pd.DataFrame, rec: dict, cap: float | None) -> str:
    """What the recommended variant costs: its capacity week against the capacity (or that no
    capacity was given), its precision and, where stored, its sales hours and the hours on
    false handoffs (all accounts, means over the cells)."""
    load_metric = rec["capacity_metric"]
    week = METRICS[load_metric].label.lower() if load_metric in METRICS else load_metric
    text = f"It costs {_num(rec['capacity_load'])} handoffs in the {week}"
    if cap is None:
        text += " (no capacity given: pass --max-handoffs-per-week)"
    else:
        text += f" against a capacity of {_num(cap)}"
    text += f", precision {rec['precision']:.2f}"
    mine = df[(df["tier"] == -1) & (df["policy"] == rec["policy"])]
    mine = mine[mine["variant"] == rec["variant"]].groupby("metric")["value"].mean()
    hours, false = mine.get("sales_hours", math.nan), mine.get("false_handoff_hours", math.nan)
    if hours == hours:
        text += f" and {_num(hours)} sales hours, {_num(false)} of them on false handoffs"
    elif false == false:  # a sweep stores the false handoffs' hours, not all sales hours
        text += f" and {_num(false)} sales hours on false handoffs"
    return text + "."
