"""Window conditions and any/all/not groups, evaluated at every event time (shared by
``mqa_count`` and ``stages``)."""

from __future__ import annotations

import numpy as np

from .config import Condition, Group
from .window import Frame


def _resolve(cond: Condition, window, activities, include_anonymous):
    window = cond.window_days if cond.window_days is not None else window
    acts = cond.activities if cond.activities is not None else activities
    anon = cond.include_anonymous if cond.include_anonymous is not None else include_anonymous
    return window, acts, anon


def condition_holds(
    frame: Frame,
    cond: Condition,
    window: float,
    activities: list[str],
    include_anonymous: bool,
    at: np.ndarray | None = None,
) -> np.ndarray:
    """Per event (or per event of ``at`` only): does ``cond`` hold on the window ending at that
    event's time?

    ``window``, ``activities`` and ``include_anonymous`` are the policy's defaults; the
    condition's own values win where it gives them.
    """
    window, acts, anon = _resolve(cond, window, activities, include_anonymous)
    key = (
        "condition",
        cond.model_dump_json(),
        window,
        tuple(acts),
        anon,
        None if at is None else frame.fingerprint(at),
    )
    return frame.memo(key, lambda: _condition_holds(frame, cond, window, acts, anon, at))


def counting_masks(frame: Frame, cond: Condition, window, activities, include_anonymous):
    """(touches that count as a unique contact, touches that count as activities)."""
    _, acts, anon = _resolve(cond, window, activities, include_anonymous)
    counting = frame.activity_in(acts)
    known = frame.contact >= 0
    who = known.copy()
    if cond.seniority is not None:
        who &= frame.contact_in("seniority", cond.seniority)
    if cond.roles is not None:
        who &= frame.contact_in("role", cond.roles)
    filtered = cond.seniority is not None or cond.roles is not None
    return counting & who, counting & (who | (~known if anon and not filtered else False))


def _condition_holds(frame: Frame, cond: Condition, window, acts, anon, at) -> np.ndarray:
    people, touches = counting_masks(frame, cond, window, acts, anon)

    def wsum(mask, distinct=False):
        if at is None:
            return frame.window_sum(mask, window, distinct=distinct)
        return frame.window_sum_at(at, mask, window, distinct=distinct)

    def account(column):
        return frame.account_number(column) if at is None else frame.account_number_at(column, at)

    holds = np.ones(frame.n if at is None else at.size, dtype=bool)
    if cond.unique_contacts > 0:
        holds &= wsum(people, distinct=True) >= cond.unique_contacts
    if cond.min_activities > 0:
        holds &= wsum(touches) >= cond.min_activities
    if cond.tier is not None:
        holds &= np.isin(account("tier"), cond.tier)
    if cond.icp_fit_min is not None:
        holds &= account("icp_fit") >= cond.icp_fit_min
    return holds


def group_holds(
    frame: Frame,
    group: Group,
    window: float,
    activities: list[str],
    include_anonymous: bool,
    at: np.ndarray | None = None,
) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """Per event (or per event of ``at``): does ``group`` hold; and each top-level child's name
    and holds array."""

    def holds(node) -> np.ndarray:
        if isinstance(node, Condition):
            return condition_holds(frame, node, window, activities, include_anonymous, at)
        return group_holds(frame, node, window, activities, include_anonymous, at)[0]

    size = frame.n if at is None else at.size
    named = [(name, holds(child)) for name, child in group.named()]
    parts = np.array([h for _, h in named]) if named else np.ones((1, size), dtype=bool)
    if group.op == "any":
        return parts.any(axis=0), named
    if group.op == "all":
        return parts.all(axis=0), named
    return ~parts[0], named


def conditions_of(group: Group) -> list[Condition]:
    """Every condition inside a group, depth first."""
    return [
        c
        for child in group.children
        for c in ([child] if isinstance(child, Condition) else conditions_of(child))
    ]


def monotone(group: Group) -> bool:
    """No ``not`` anywhere: the rule can only become true when a touch enters a window."""
    return group.op != "not" and all(
        isinstance(c, Condition) or monotone(c) for c in group.children
    )


def rule_names(
    group: Group, named: list[tuple[str, np.ndarray]], at: np.ndarray, prefix: str = ""
) -> np.ndarray:
    """Which top-level clause fired at each event index in ``at``: for ``any`` the first child
    that holds, for ``all``/``not`` the group's own name."""
    if group.op != "any":
        return np.full(at.size, f"{prefix}{group.op}", dtype=object)
    stack = np.array([h[at] for _, h in named])
    first = stack.argmax(axis=0)
    names = np.array([f"{prefix}{n}" for n, _ in named], dtype=object)
    return names[first]
