"""``kind: any`` / ``kind: all``: several policies side by side, evaluated on one log."""

from __future__ import annotations

import numpy as np

from policies.kernels.frame import Frame, empty_qualifications, grouped_searchsorted, qualifications
from policies.schema import Combinator, MqaCount, Mql, PolicyBase, Stages, WeightedTitles
from sim.errors import QualsimError
from sim.eventlog import EventLog


def holds(policy: PolicyBase, f: Frame) -> np.ndarray:
    """Per event: does ``policy``'s rule hold at that event's time (recycling aside)?"""
    from policies.kinds.mqa import mqa_holds
    from policies.kinds.mql import mql_holds
    from policies.kinds.stages import stages_holds
    from policies.kinds.titles import titles_score

    if isinstance(policy, MqaCount):
        return mqa_holds(policy, f)[0]
    if isinstance(policy, Mql):
        return mql_holds(policy, f)
    if isinstance(policy, WeightedTitles):
        return titles_score(policy, f) >= policy.threshold
    if isinstance(policy, Stages):
        return stages_holds(policy, f)
    if isinstance(policy, Combinator):
        parts = np.array([holds(m, f) for m in policy.members])
        return parts.any(axis=0) if policy.kind == "any" else parts.all(axis=0)
    if hasattr(policy, "holds"):
        return np.asarray(policy.holds(f.log), dtype=bool)
    raise QualsimError(
        f"policy {policy.name!r} of kind {policy.kind!r} cannot be combined: it defines no "
        "holds(log) method"
    )


def evaluate_combinator(policy: Combinator, log: EventLog, frame: Frame | None = None):
    """The handoffs of a combinator policy."""
    f = frame if frame is not None else Frame(log)
    if f.n == 0:
        return empty_qualifications()
    if policy.kind == "any" and policy.recycle_days is None:
        return _any_first(policy, log, f)
    return per_event(policy, f)


def per_event(policy: Combinator, f: Frame):
    """The general path: every member's rule at every event, combined, then handoffs."""
    parts = np.array([holds(m, f) for m in policy.members])
    combined = parts.any(axis=0) if policy.kind == "any" else parts.all(axis=0)
    at = f.handoffs(combined, policy.recycle_days)
    names = np.array([m.name for m in policy.members], dtype=object)
    rule = names[parts[:, at].argmax(axis=0)] if policy.kind == "any" else "all"
    return qualifications(policy, f, at, rule)


def _first_events(member: PolicyBase, log: EventLog, f: Frame) -> np.ndarray:
    """Per account (indexed by the frame's account rank): the event index (start of its time
    tie) of the member's first handoff, or -1."""
    from policies import evaluate

    q = evaluate(member, log, f)
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


def _any_first(policy: Combinator, log: EventLog, f: Frame):
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
