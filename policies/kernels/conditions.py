"""Window conditions and any/all/not groups, evaluated at every event time (shared by
``mqa_count`` and ``stages``), and what a condition counts (shared with the counting-touch path
of :mod:`policies.kernels.rule`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from policies.kernels.frame import Frame
from policies.kernels.windows import window_sum
from policies.schema import Condition, Group


class Events(Protocol):
    """What :func:`counting_masks` reads, per event: a :class:`Frame` (every event of the log)
    or a :class:`~policies.kernels.touches.Touches` (the counting touches only)."""

    @property
    def known(self) -> np.ndarray: ...

    def activity_in(self, activities: Iterable[str]) -> np.ndarray: ...

    def contact_in(self, column: str, allowed: Iterable[str]) -> np.ndarray: ...

    def title_in(self, phrases: Iterable[str]) -> np.ndarray: ...


def resolve(
    cond: Condition, window: float | None, activities: Sequence[str], include_anonymous: bool
) -> tuple[float, list[str], bool]:
    """The condition's window, activities and include_anonymous: its own where it gives them,
    else the policy's (every condition of a ``stages`` policy has its own window)."""
    window = cond.window_days if cond.window_days is not None else window
    acts: list[str] = list(cond.activities if cond.activities is not None else activities)
    anon = cond.include_anonymous if cond.include_anonymous is not None else include_anonymous
    assert window is not None, "the schema gives every condition a window"
    return window, acts, anon


def conditions_of(node: Condition | Group) -> list[Condition]:
    """Every condition in a clause, depth first."""
    if isinstance(node, Condition):
        return [node]
    return [c for child in node.children for c in conditions_of(child)]


def filters_people(cond: Condition) -> bool:
    """Does the condition count only some contacts (by seniority or role)?"""
    return cond.seniority is not None or cond.roles is not None


def condition_holds(
    frame: Frame,
    cond: Condition,
    window: float | None,
    activities: Sequence[str],
    include_anonymous: bool,
) -> np.ndarray:
    """Per event: does ``cond`` hold on the window ending at that event's time?

    ``window``, ``activities`` and ``include_anonymous`` are the policy's defaults; the
    condition's own values win where it gives them.
    """
    window, acts, anon = resolve(cond, window, activities, include_anonymous)
    key = ("condition", cond.model_dump_json(), window, tuple(acts), anon)
    return frame.memo(key, lambda: _condition_holds(frame, cond, window, acts, anon))


def counting_masks(
    events: Events,
    cond: Condition,
    window: float | None,
    activities: Sequence[str],
    include_anonymous: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """(touches that count toward a unique contact, touches that count as activities). A
    contact whose title matches ``exclude_titles`` counts for neither; anonymous touches have
    no title and are never excluded by it."""
    _, acts, anon = resolve(cond, window, activities, include_anonymous)
    counting = events.activity_in(acts)
    known = events.known
    who = known.copy()
    if cond.seniority is not None:
        who &= events.contact_in("seniority", cond.seniority)
    if cond.roles is not None:
        who &= events.contact_in("role", cond.roles)
    if cond.exclude_titles is not None:
        who &= ~events.title_in(cond.exclude_titles)
    anonymous = ~known if anon and not filters_people(cond) else False
    return counting & who, counting & (who | anonymous)


def _condition_holds(frame: Frame, cond: Condition, window, acts, anon) -> np.ndarray:
    people, touches = counting_masks(frame, cond, window, acts, anon)
    holds = np.ones(frame.n, dtype=bool)
    if cond.unique_contacts > 0:
        k = cond.min_touches_per_contact
        unique = window_sum(frame, people, window, distinct=True, per_contact=k)
        holds &= unique >= cond.unique_contacts
    if cond.min_activities > 0:
        holds &= window_sum(frame, touches, window) >= cond.min_activities
    if cond.tier is not None:
        holds &= np.isin(frame.account_number("tier"), cond.tier)
    if cond.icp_fit_min is not None:
        holds &= frame.account_number("icp_fit") >= cond.icp_fit_min
    return holds


def group_holds(
    frame: Frame,
    group: Group,
    window: float | None,
    activities: Sequence[str],
    include_anonymous: bool,
) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """Per event: does ``group`` hold; and each top-level child's name and holds array."""

    def holds(node: Condition | Group) -> np.ndarray:
        if isinstance(node, Condition):
            return condition_holds(frame, node, window, activities, include_anonymous)
        return group_holds(frame, node, window, activities, include_anonymous)[0]

    named = [(name, holds(child)) for name, child in group.named()]
    parts = np.array([h for _, h in named]) if named else np.ones((1, frame.n), dtype=bool)
    if group.op == "any":
        return np.asarray(parts.any(axis=0)), named
    if group.op == "all":
        return np.asarray(parts.all(axis=0)), named
    return ~parts[0], named


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
