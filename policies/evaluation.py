"""Evaluating a policy on an EventLog, asking where its rule holds, and sweeping one of its
fields: each through the policy's kind in :mod:`policies.registry`.

>>> import sim
>>> from policies.loading import load_policy
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 30}}), seed=2)
>>> log = sim.EventLog.from_world(w)
>>> s = sweep(load_policy("mqa_count"), log, "any.0.unique_contacts", range(1, 5))
>>> sorted(s["value"].unique().tolist()) == [v for v in range(1, 5) if (s["value"] == v).any()]
True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from policies.kernels.frame import Frame
from policies.kernels.views import policy_view, spread_holds, view_frame
from policies.loading import with_value
from policies.registry import kind_of
from policies.schema import PolicyBase
from sim.errors import QualsimError
from sim.eventlog import EventLog


def evaluate(policy: PolicyBase, log: EventLog, frame: Frame | None = None) -> pd.DataFrame:
    """The qualifications (handoffs) of ``policy`` on ``log``, sorted by (account_id, time).

    ``frame`` (a :class:`Frame` of the same log) may be passed to share work between many
    evaluations on one log; :func:`sweep` does that. A policy without ``include_sales_touches``
    is evaluated on the log without its sales touches (:mod:`policies.kernels.views`).
    """
    log, frame = policy_view(policy, log, frame)
    return kind_of(policy).evaluate(policy, log, frame).reset_index(drop=True)


def holds(policy: PolicyBase, log: EventLog, frame: Frame | None = None) -> np.ndarray:
    """Per event of ``log`` (a bool per row of ``log.events``, in order): does ``policy``'s rule
    hold at that event's time, recycling aside? Every event of one time gets the same answer,
    and it depends only on the events up to that time. At a sales touch, a policy that ignores
    them (or a system event, or a touch its filters remove) answers as at the account's last
    event it sees before it (False before the first).

    Without ``recycle_days`` an account's handoff is at its first event where this is True.
    ``frame`` (a :class:`Frame` of the same log) shares work with other evaluations. Raises
    :class:`~sim.errors.QualsimError` for a kind that defines no per-event rule (a plug-in model
    without a ``holds(log)`` method).

    >>> import sim
    >>> from policies.loading import load_policy
    >>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 30}}), seed=2)
    >>> log = sim.EventLog.from_world(w)
    >>> h = holds(load_policy("mqa_count"), log)
    >>> h.dtype, h.shape == (len(log.events),)
    (dtype('bool'), True)
    """
    f = frame if frame is not None else Frame(log)
    view, keep = view_frame(policy, f)
    return spread_holds(f, view, keep, np.array(rule_holds(policy, view), dtype=bool))


def rule_holds(policy: PolicyBase, f: Frame) -> np.ndarray:
    """:func:`holds` on a :class:`Frame`, through the policy's kind (``Kind.holds``)."""
    per_event = kind_of(policy).holds
    if per_event is None:
        raise QualsimError(
            f"policy {policy.name!r} of kind {policy.kind!r} cannot be combined: it defines no "
            "holds(log) method (the per-event rule that kind: any / all and policies.holds use)"
        )
    return per_event(policy, f)


def sweep(policy: PolicyBase, log: EventLog, path: str, values: Iterable[Any]) -> pd.DataFrame:
    """Evaluate ``policy`` with the field at ``path`` set to each of ``values``: the
    qualifications of every variant, with a ``value`` column. Equal to a loop of
    :func:`evaluate`, but the work the variants share is done once (the window counts, the
    scores; a count threshold of a monotone ``mqa_count`` rule in one pass over the log)."""
    full = Frame(log)
    log, frame = policy_view(policy, log, full)
    values = list(values)
    variants = [with_value(policy, path, v) for v in values]  # each validated like a file
    one_pass = kind_of(policy).sweep
    same_view = path.split(".")[0] not in ("exclude", "include_sales_touches")
    if one_pass is not None and values and frame.n and same_view:
        swept = one_pass(policy, frame, path, values)
        if swept is not None:
            return swept
    parts = []
    for v, variant in zip(values, variants, strict=True):
        # a variant of what the policy sees (its filters) sees the whole log its own way
        q = evaluate(variant, log, frame) if same_view else evaluate(variant, full.log, full)
        parts.append(q.assign(value=v))
    if not parts:  # no values: no rows, the columns of one evaluation and ``value``
        return evaluate(policy, log, frame).iloc[:0].assign(value=[])
    return pd.concat(parts, ignore_index=True)
