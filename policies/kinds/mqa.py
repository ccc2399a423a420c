"""``mqa_count``: unique engaged contacts and activity counts in a trailing window, combined
with any/all/not, with per-tier overrides (semantics: policies/README.md).

A monotone rule without recycling is evaluated at its counting touches only
(:mod:`policies.kernels.rule`) and a sweep of one of its count thresholds is one pass
(:mod:`policies.kernels.sweep`); other rules are evaluated at every event time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from policies import reference
from policies.explain import COLUMNS, Why, counted_touches
from policies.kernels.conditions import conditions_of, group_holds, rule_names
from policies.kernels.frame import Frame
from policies.kernels.output import empty_qualifications, qualifications
from policies.kernels.rule import evaluate_fast, fast_ok
from policies.kernels.sweep import sweep_fast, sweep_target
from policies.kernels.windows import handoffs, window_sum
from policies.registry import Kind, register
from policies.schema import Condition, Group, MqaCount
from sim.eventlog import EventLog

Groups = dict[int | None, tuple[Group, list[tuple[str, np.ndarray]], str]]


def mqa_holds(policy: MqaCount, f: Frame) -> tuple[np.ndarray, Groups]:
    """Per event: does the rule hold (tier overrides applied); and the groups used, by tier."""
    args = (policy.window_days, list(policy.activities), policy.include_anonymous)
    holds, named = group_holds(f, policy.rule, *args)
    groups: Groups = {None: (policy.rule, named, "")}
    if policy.tiers:
        tier = f.account_number("tier")
        for t, group in policy.tiers.items():
            in_tier = tier == t
            if not in_tier.any():
                continue
            h, nm = group_holds(f, group, *args)
            holds = np.where(in_tier, h, holds)
            groups[t] = (group, nm, f"tiers.{t}.")
    return holds, groups


def evaluate_mqa(policy: MqaCount, log: EventLog, frame: Frame | None = None) -> pd.DataFrame:
    """The handoffs of an ``mqa_count`` policy on ``log``."""
    f = frame if frame is not None else Frame(log)
    if f.n == 0:
        return empty_qualifications()
    if fast_ok(policy):  # monotone, no recycling: evaluate at the counting touches only
        return evaluate_fast(policy, f)
    holds, groups = mqa_holds(policy, f)
    at = handoffs(f, holds, policy.recycle_days)
    return _rows(policy, f, at, groups)


def _rows(policy: MqaCount, f: Frame, at: np.ndarray, groups: Groups) -> pd.DataFrame:
    """Qualification rows for handoffs at events ``at``."""
    rules = np.empty(at.size, dtype=object)
    tier_at = f.account_number_at("tier", at) if len(groups) > 1 else np.full(at.size, np.nan)
    overridden = np.isin(tier_at, [t for t in groups if t is not None])
    for t, (group, nm, prefix) in groups.items():
        sel = ~overridden if t is None else tier_at == t
        if sel.any():
            rules[sel] = rule_names(group, nm, at[sel], prefix)
    counting = f.activity_in(policy.activities)
    # The same window as the clauses' unique counts (memoised on the frame): index it.
    unique = window_sum(f, counting & f.known, policy.window_days, distinct=True)[at]
    return qualifications(policy, f, at, rules.astype(str), unique.astype(float))


def sweep_mqa(policy: MqaCount, f: Frame, path: str, values: list[Any]) -> pd.DataFrame | None:
    """A sweep of one count threshold (whole numbers) of a monotone rule in one pass; None
    for anything else (the caller loops)."""
    target = sweep_target(policy, path)
    if target is None or not all(type(v) is int for v in values):
        return None
    return sweep_fast(policy, f, target, values)


def count_paths(node: Condition | Group, prefix: str = "") -> list[str]:
    """The dotted paths of the counts set in a clause (``unique_contacts``,
    ``min_touches_per_contact`` above 1, ``min_activities``), e.g. ``any.1.min_activities``."""
    if isinstance(node, Condition):
        return [f"{prefix}{field}" for field in node.count_fields()]
    return [p for name, child in node.named(prefix) for p in count_paths(child, f"{name}.")]


def thresholds(policy: MqaCount) -> list[str]:
    """Every count of the rule, then of each tier's override."""
    tiers = [p for t, g in policy.tiers.items() for p in count_paths(g, f"tiers.{t}.")]
    return count_paths(policy.rule) + tiers


def explain_mqa(policy: MqaCount, f: Frame, mine: pd.DataFrame, row: pd.Series) -> Why:
    """The counting touches of the clause that fired, in its window."""
    t = float(row["time"])
    tier = f.account_number("tier")[mine["_i"].iloc[0]] if len(mine) else np.nan
    group, prefix = policy.rule, ""
    if tier in policy.tiers:
        group, prefix = policy.tiers[int(tier)], f"tiers.{int(tier)}."
    conds = conditions_of(_fired(group, str(row["rule"]), prefix))
    args = (policy.window_days, list(policy.activities), policy.include_anonymous, t)
    parts = [counted_touches(mine, f, c, *args) for c in conds]
    touches = pd.concat(parts).drop_duplicates("_i").sort_values("time") if parts else mine[:0]
    n = touches.loc[touches["contact_id"] >= 0, "contact_id"].nunique()
    note = (
        f"rule {row['rule']} held: {n} distinct contact{'' if n == 1 else 's'}, "
        f"{len(touches)} counting touch{'' if len(touches) == 1 else 'es'} in its window"
    )
    lo = t - max((c.window_days or policy.window_days) for c in conds)
    return Why(row, (lo, t), touches[COLUMNS].reset_index(drop=True), note)


def _fired(group: Group, rule: str, prefix: str) -> Condition | Group:
    """The clause named by ``rule`` (a condition, or the whole group for all/not)."""
    for name, child in group.named(prefix):
        if name == rule:
            return child
    return group


KIND = register(
    Kind(
        "mqa_count",
        MqaCount,
        evaluate_mqa,
        holds=lambda policy, f: mqa_holds(policy, f)[0],
        reference=reference.evaluate,
        sweep=sweep_mqa,
        explain=explain_mqa,
        thresholds=thresholds,
    )
)
