"""Qualification policies as config: ``mqa_count``, ``mql``, ``weighted_titles``, ``stages``.

Semantics are fixed in ``policies/README.md``; ``policies.reference`` is the slow reference
implementation that the fast evaluators here are tested against.

>>> import sim, policies
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 30}}), seed=2)
>>> q = policies.evaluate(policies.load_policy("mqa_count"), sim.EventLog.from_world(w))
>>> list(q.columns)
['policy', 'account_id', 'contact_id', 'time', 'rule', 'score', 'stage']
"""

from __future__ import annotations

import pandas as pd

from policies.kernels.candidates import sweep_fast, sweep_target
from policies.kernels.frame import Frame
from policies.kinds.mqa import evaluate_mqa
from policies.kinds.mql import evaluate_mql
from policies.kinds.stages import stage_entries as _stage_entries
from policies.kinds.titles import evaluate_titles
from policies.schema import BUILTIN, PolicyBase, kinds, load_policy, register
from sim.eventlog import EventLog

_FAST = {
    "mqa_count": evaluate_mqa,
    "mql": evaluate_mql,
    "weighted_titles": evaluate_titles,
    "stages": None,
}


def evaluate(policy: PolicyBase, log: EventLog, frame: Frame | None = None) -> pd.DataFrame:
    """The qualifications (handoffs) of ``policy`` on ``log``, sorted by (account_id, time).

    ``frame`` (a :class:`Frame` of the same log) may be passed to share work between many
    evaluations on one log; :func:`sweep` does that.
    """
    from policies.kinds.combinators import evaluate_combinator
    from policies.kinds.stages import evaluate_stages

    fn = _FAST.get(policy.kind) or {
        "stages": evaluate_stages,
        "any": evaluate_combinator,
        "all": evaluate_combinator,
    }.get(policy.kind)
    if fn is None:
        return policy.evaluate(log)  # a plug-in kind evaluates itself
    return fn(policy, log, frame).reset_index(drop=True)


def with_value(policy: PolicyBase, path: str, value) -> PolicyBase:
    """A copy of ``policy`` with the field at a dotted ``path`` set (``any.0.unique_contacts``,
    ``window_days``, ``tiers.1.any.0.min_activities``), validated like a file."""
    data = policy.model_dump(by_alias=True, exclude_none=True)
    node = data
    parts = path.split(".")
    for i, part in enumerate(parts[:-1]):
        key = (
            int(part)
            if isinstance(node, list)
            or (isinstance(node, dict) and part.isdigit() and int(part) in node)
            else part
        )
        if (isinstance(node, list) and not 0 <= key < len(node)) or (
            isinstance(node, dict) and key not in node
        ):
            from sim.errors import ConfigError

            raise ConfigError(f"{policy.name}: no field {'.'.join(parts[: i + 1])!r} to sweep")
        node = node[key]
    last = parts[-1]
    node[int(last) if isinstance(node, list) else last] = value
    return load_policy(data)


def sweep(policy: PolicyBase, log: EventLog, path: str, values) -> pd.DataFrame:
    """Evaluate ``policy`` with the field at ``path`` set to each of ``values``: the
    qualifications of every variant, with a ``value`` column. Equal to a loop of
    :func:`evaluate`, but the window counts each variant shares are computed once.

    >>> import sim
    >>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 30}}), seed=2)
    >>> log = sim.EventLog.from_world(w)
    >>> s = sweep(load_policy("mqa_count"), log, "any.0.unique_contacts", range(1, 5))
    >>> sorted(s["value"].unique().tolist()) == [v for v in range(1, 5) if (s["value"] == v).any()]
    True
    """
    frame = Frame(log)
    values = list(values)
    variants = [with_value(policy, path, v) for v in values]  # each validated like a file
    target = sweep_target(policy, path)
    if target is not None and values and all(type(v) is int for v in values) and frame.n:
        # A count threshold of a monotone rule: every variant from one pass over the log.
        return sweep_fast(policy, frame, target, values)
    parts = []
    for v, variant in zip(values, variants, strict=True):
        q = evaluate(variant, log, frame)
        parts.append(q.assign(value=v))
    if not parts:  # no values: no rows, the columns of one evaluation and ``value``
        return evaluate(policy, log, frame).iloc[:0].assign(value=[])
    return pd.concat(parts, ignore_index=True)


def stage_entries(policy: PolicyBase, log: EventLog) -> pd.DataFrame:
    """Every stage entry of a ``stages`` policy: policy, account_id, stage, time."""
    return _stage_entries(policy, log)


def check_policy(policy: PolicyBase, log: EventLog, cuts: int = 5) -> None:
    """Conformance checks any policy must pass (see :mod:`policies.check`)."""
    from policies.check import check_policy as _check

    _check(policy, log, cuts)


__all__ = [
    "BUILTIN",
    "Frame",
    "PolicyBase",
    "check_policy",
    "evaluate",
    "kinds",
    "load_policy",
    "register",
    "stage_entries",
    "sweep",
    "with_value",
]
