"""``kind: any`` / ``kind: all``: several policies side by side, evaluated on one log. Each
member is reached through its kind in :mod:`policies.registry` (its fast evaluator, or its
per-event rule), so any registered kind can be a member."""

from __future__ import annotations

import numpy as np
import pandas as pd

from policies import reference
from policies.evaluation import rule_holds
from policies.kernels.frame import Frame
from policies.kernels.output import empty_qualifications, qualifications
from policies.kernels.search import grouped_searchsorted
from policies.kernels.windows import handoffs
from policies.registry import Kind, kind_of, register
from policies.schema import Combinator, PolicyBase
from sim.eventlog import EventLog


def combined_holds(policy: Combinator, f: Frame) -> np.ndarray:
    """Per event: do any (``kind: any``) / all (``kind: all``) of the members' rules hold?"""
    return _combine(policy, np.array([rule_holds(m, f) for m in policy.members]))


def _combine(policy: Combinator, parts: np.ndarray) -> np.ndarray:
    return np.asarray(parts.any(axis=0) if policy.kind == "any" else parts.all(axis=0))


def evaluate_combinator(
    policy: Combinator, log: EventLog, frame: Frame | None = None
) -> pd.DataFrame:
    """The handoffs of a combinator policy."""
    f = frame if frame is not None else Frame(log)
    if f.n == 0:
        return empty_qualifications()
    if policy.kind == "any" and policy.recycle_days is None:
        return _any_first(policy, log, f)
    return per_event(policy, f)


def per_event(policy: Combinator, f: Frame) -> pd.DataFrame:
    """The general path: every member's rule at every event, combined, then handoffs."""
    parts = np.array([rule_holds(m, f) for m in policy.members])
    at = handoffs(f, _combine(policy, parts), policy.recycle_days)
    names = np.array([m.name for m in policy.members], dtype=object)
    rule = names[parts[:, at].argmax(axis=0)] if policy.kind == "any" else "all"
    return qualifications(policy, f, at, rule)


def _first_events(member: PolicyBase, log: EventLog, f: Frame) -> np.ndarray:
    """Per account (indexed by the frame's account rank): the event index (start of its time
    tie) of the member's first handoff, or -1."""
    q = kind_of(member).evaluate(member, log, f)  # members see what the combinator sees
    out = np.full(f.first_of_account.size, -1, dtype=np.int64)
    if len(q) == 0:
        return out
    first = q.drop_duplicates("account_id", keep="first")  # rows are sorted by (account, time)
    acc = first["account_id"].to_numpy(np.int64)
    idx = grouped_searchsorted(
        f.account.astype(np.int64), f.time, acc, first["time"].to_numpy(np.float64), "left"
    )
    out[f.rank[idx]] = idx
    return out


def _any_first(policy: Combinator, log: EventLog, f: Frame) -> pd.DataFrame:
    """``kind: any`` without recycling: an account is handed off at the earliest of its
    members' first handoffs; the rule names the first listed member handing off then. (A
    member holding at that time must be handing off for the first time: had it held earlier,
    the combination would have held earlier.) Equal to the per-event path, much cheaper: each
    member is evaluated by its own fast evaluator."""
    firsts = np.array([_first_events(m, log, f) for m in policy.members])  # (members, ranks)
    big = np.iinfo(np.int64).max
    masked = np.where(firsts >= 0, firsts, big)
    at = masked.min(axis=0)
    ranks = np.flatnonzero(at != big)
    at = at[ranks]
    if at.size == 0:
        return empty_qualifications()
    names = np.array([m.name for m in policy.members], dtype=object)
    who = (masked[:, ranks] == at).argmax(axis=0)  # the first listed member at that time
    order = np.argsort(at, kind="stable")
    return qualifications(policy, f, at[order], names[who[order]])


ANY, ALL = (
    register(
        Kind(
            name,
            Combinator,
            evaluate_combinator,
            holds=combined_holds,
            reference=reference.evaluate,
        )
    )
    for name in ("any", "all")
)
