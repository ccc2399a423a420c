"""Evaluating a policy on an EventLog, and sweeping one of its fields: each through the
policy's kind in :mod:`policies.registry`.

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

import pandas as pd

from policies.kernels.frame import Frame
from policies.loading import with_value
from policies.registry import kind_of
from policies.schema import PolicyBase
from sim.eventlog import EventLog


def evaluate(policy: PolicyBase, log: EventLog, frame: Frame | None = None) -> pd.DataFrame:
    """The qualifications (handoffs) of ``policy`` on ``log``, sorted by (account_id, time).

    ``frame`` (a :class:`Frame` of the same log) may be passed to share work between many
    evaluations on one log; :func:`sweep` does that.
    """
    return kind_of(policy).evaluate(policy, log, frame).reset_index(drop=True)


def sweep(policy: PolicyBase, log: EventLog, path: str, values: Iterable[Any]) -> pd.DataFrame:
    """Evaluate ``policy`` with the field at ``path`` set to each of ``values``: the
    qualifications of every variant, with a ``value`` column. Equal to a loop of
    :func:`evaluate`, but the work the variants share is done once (the window counts, the
    scores; a count threshold of a monotone ``mqa_count`` rule in one pass over the log)."""
    frame = Frame(log)
    values = list(values)
    variants = [with_value(policy, path, v) for v in values]  # each validated like a file
    one_pass = kind_of(policy).sweep
    if one_pass is not None and values and frame.n:
        swept = one_pass(policy, frame, path, values)
        if swept is not None:
            return swept
    parts = []
    for v, variant in zip(values, variants, strict=True):
        q = evaluate(variant, log, frame)
        parts.append(q.assign(value=v))
    if not parts:  # no values: no rows, the columns of one evaluation and ``value``
        return evaluate(policy, log, frame).iloc[:0].assign(value=[])
    return pd.concat(parts, ignore_index=True)
