"""``kind: any`` / ``kind: all``: several policies side by side, evaluated on one log."""

from __future__ import annotations

import numpy as np

from sim.errors import QualsimError
from sim.events import EventLog

from .config import Combinator, MqaCount, Mql, PolicyBase, Stages, WeightedTitles
from .window import Frame, empty_qualifications, qualifications


def holds(policy: PolicyBase, f: Frame) -> np.ndarray:
    """Per event: does ``policy``'s rule hold at that event's time (recycling aside)?"""
    from .mqa import mqa_holds
    from .mql import mql_holds
    from .stages import stages_holds
    from .titles import titles_score

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
    parts = np.array([holds(m, f) for m in policy.members])
    combined = parts.any(axis=0) if policy.kind == "any" else parts.all(axis=0)
    at = f.handoffs(combined, policy.recycle_days)
    names = np.array([m.name for m in policy.members], dtype=object)
    rule = names[parts[:, at].argmax(axis=0)] if policy.kind == "any" else "all"
    return qualifications(policy, f, at, rule)
