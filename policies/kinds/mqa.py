"""``mqa_count``: unique engaged contacts and activity counts in a trailing window, combined
with any/all/not, with per-tier overrides (semantics: policies/README.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from policies.kernels.candidates import evaluate_fast, fast_ok
from policies.kernels.conditions import group_holds, rule_names
from policies.kernels.frame import Frame, empty_qualifications, qualifications
from policies.schema import MqaCount
from sim.eventlog import EventLog


def mqa_holds(policy: MqaCount, f: Frame):
    """Per event: does the rule hold (tier overrides applied); and the groups used, by tier."""
    args = (policy.window_days, list(policy.activities), policy.include_anonymous)
    holds, named = group_holds(f, policy.rule, *args)
    groups = {None: (policy.rule, named, "")}
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
    at = f.handoffs(holds, policy.recycle_days)
    return _rows(policy, f, at, groups, at)


def _rows(policy: MqaCount, f: Frame, at: np.ndarray, groups, where: np.ndarray):
    """Qualification rows for handoffs at events ``at``; ``where`` indexes the groups' holds
    arrays (event indices, or positions among the query events)."""
    rules = np.empty(at.size, dtype=object)
    tier_at = f.account_number_at("tier", at) if len(groups) > 1 else np.full(at.size, np.nan)
    overridden = np.isin(tier_at, [t for t in groups if t is not None])
    for t, (group, nm, prefix) in groups.items():
        sel = ~overridden if t is None else tier_at == t
        if sel.any():
            rules[sel] = rule_names(group, nm, where[sel], prefix)
    counting = f.activity_in(policy.activities)
    # The same window as the clauses' unique counts (memoised on the frame): index it.
    unique = f.window_sum(counting & (f.contact >= 0), policy.window_days, distinct=True)[at]
    return qualifications(policy, f, at, rules.astype(str), unique.astype(float))
