"""A threshold sweep of a monotone ``mqa_count`` rule in one pass over its counting touches.

At each candidate (:class:`~policies.kernels.touches.Touches`) the largest value of the swept
count threshold for which the rule holds is one number K (the rule is monotone: it holds for
every smaller value too). An account's handoff for threshold k is its first candidate where
the running maximum of K reaches k, so every value's handoffs come from the places where that
running maximum rises. The result equals a loop of evaluations, one per value
(:mod:`policies.kernels.rule`).

The swept count may be ``unique_contacts``, ``min_activities`` or ``min_touches_per_contact``
(more touches asked of each person leave fewer people: the condition holds for every smaller
depth too); for the depth, K is the largest swept value at which the condition holds, from one
distinct count per swept value.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from policies.kernels.frame import Frame
from policies.kernels.output import empty_qualifications
from policies.kernels.rule import Rule, candidate_rows, fast_ok, rule_codes, touches_for
from policies.schema import Condition, Group, MqaCount

DEPTH = "min_touches_per_contact"
FIELDS = ("unique_contacts", "min_activities", DEPTH)
Target = tuple[int | None, list[int], str]


def sweep_target(policy: MqaCount, path: str) -> Target | None:
    """Where a sweep of ``path`` can be done in one pass: (tier or None, child indices down to
    the condition, field); None when it cannot (not a count threshold of a monotone rule
    without recycling)."""
    if not fast_ok(policy):
        return None
    parts = path.split(".")
    if len(parts) < 3 or parts[-1] not in FIELDS:
        return None
    tier, node, rest = None, policy.rule, parts[:-1]
    if parts[0] == "tiers":
        if not parts[1].isdigit() or int(parts[1]) not in policy.tiers:
            return None
        tier, rest = int(parts[1]), parts[2:-1]
        node = policy.tiers[tier]
    if not rest or len(rest) % 2:
        return None
    idx = []
    clause: Condition | Group = node
    for op, i in zip(rest[::2], rest[1::2], strict=True):
        if not isinstance(clause, Group) or clause.op != op or not i.isdigit():
            return None
        if int(i) >= len(clause.children):
            return None
        idx.append(int(i))
        clause = clause.children[int(i)]
    if not isinstance(clause, Condition):
        return None
    return tier, idx, parts[-1]


class Swept(NamedTuple):
    """The swept field, a value above all its values, and its values (sorted, distinct)."""

    field: str
    big: int
    values: np.ndarray


def _k(rule: Rule, node: Condition | Group, idx: list[int] | None, swept: Swept):
    """Per candidate: the largest value of the swept threshold (the condition at child indices
    ``idx`` below ``node``, its ``swept.field``; None: not below) for which ``node`` holds: -1
    for no value, ``swept.big`` for every value. Monotone rules make this one number (for
    ``min_touches_per_contact``: the largest swept value, which is all a loop can tell)."""
    if isinstance(node, Condition):
        if idx is None:
            return np.where(rule.holds(node), swept.big, -1)
        return _condition_k(rule, node, swept)
    return _combine(node, _children_k(rule, node, idx, swept))


def _condition_k(rule: Rule, node: Condition, swept: Swept) -> np.ndarray:
    """K (see :func:`_k`) of the swept condition itself."""
    field = swept.field
    unique, total, ok = rule.counts(node, need=field if field != DEPTH else "")
    other = np.ones(rule.tt.m, dtype=bool) if ok is None else ok
    # The swept count is there (``need``), the others where their thresholds are set.
    if field != "min_activities" and node.min_activities:
        other &= _given(total) >= node.min_activities
    if field == "min_activities" and node.unique_contacts:
        other &= _given(unique) >= node.unique_contacts
    if field == "unique_contacts":
        x = _given(unique)
    elif field == "min_activities":
        x = _given(total)
    elif node.unique_contacts:  # the depth: the largest swept value with enough people
        x = rule.deepest(node, swept.values)
    else:  # the depth changes nothing without unique_contacts
        x = np.full(rule.tt.m, swept.big)
    return np.where(other, x, -1)


def _given(count: np.ndarray | None) -> np.ndarray:
    assert count is not None, "Rule.counts gives every count asked for"
    return count


def _children_k(rule: Rule, group: Group, idx: list[int] | None, swept: Swept):
    """Each child's K (see :func:`_k`); ``idx`` leads to the swept condition (None: not here)."""
    return [
        _k(rule, c, idx[1:] if idx and idx[0] == i else None, swept)
        for i, c in enumerate(group.children)
    ]


def _combine(group: Group, parts: list[np.ndarray]) -> np.ndarray:
    """A group's K from its children's: the largest for ``any``, the smallest for ``all``."""
    out = parts[0].copy()
    for p in parts[1:]:
        np.maximum(out, p, out=out) if group.op == "any" else np.minimum(out, p, out=out)
    return out


def sweep_fast(policy: MqaCount, f: Frame, target: Target, values: list[int]) -> pd.DataFrame:
    """``sweep`` in one pass (see the module); ``target`` from :func:`sweep_target`."""
    tier_swept, idx, field = target
    vals = np.asarray(values, dtype=np.int64)
    tt = touches_for(policy, f)
    if tt.m == 0:
        return _no_rows()
    rule = Rule(policy, tt)
    big = int(vals.max()) + 1
    swept = Swept(field, big, np.unique(vals))
    k = np.full(tt.m, -1, dtype=np.int64)
    uses = [u for u in rule.uses() if u.accounts.any()]
    kids: dict[int | None, list[np.ndarray]] = {}
    for use in uses:
        path = idx if use.tier == tier_swept else None
        kids[use.tier] = _children_k(rule, use.group, path, swept)
        kg = _combine(use.group, kids[use.tier])
        if use.accounts.all():
            k = kg
        else:
            sel = use.accounts[tt.rank]
            k[sel] = kg[sel]
    np.minimum(k, big, out=k)  # counts above every value are as good as "always"
    at, kk, counts = _handoffs_by_value(tt.rank, k, big, vals)
    if at.size == 0:
        return _no_rows()
    names, codes = rule_codes(
        tt, uses, at, lambda use, sel: np.array([c[at[sel]] >= kk[sel] for c in kids[use.tier]])
    )
    value = np.repeat(vals, counts)
    return candidate_rows(policy.name, tt, at, names, codes, rule.score()[at], value)


def _handoffs_by_value(
    rank: np.ndarray, k: np.ndarray, big: int, vals: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The handoffs of every value from the running maximum of K per account: (candidate of
    each handoff, its value, the number of handoffs of each entry of ``vals``), in the order of
    ``vals`` (value by value, then by account)."""
    # Where the running maximum M of K per account rises from p to M, it is the handoff of
    # every value v with p < v <= M.
    stride = big + 2
    run = np.maximum.accumulate(rank.astype(np.int64) * stride + (k + 1))
    rises = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])
    high = run[rises] % stride - 1
    acc_new = np.r_[True, rank[rises[1:]] != rank[rises[:-1]]]
    low = np.where(acc_new, -1, np.r_[-1, high[:-1]])
    uniq, inv = np.unique(vals, return_inverse=True)
    first_v = np.searchsorted(uniq, low, side="right")
    n_v = np.searchsorted(uniq, high, side="right") - first_v
    np.maximum(n_v, 0, out=n_v)
    rise = np.repeat(np.arange(rises.size), n_v)
    cum = np.cumsum(n_v)
    vi = np.repeat(first_v - (cum - n_v), n_v) + np.arange(rise.size)
    # Value-major order (then by account, as generated): a stable sort on the value index.
    order = np.argsort(vi.astype(np.uint16) if uniq.size < 1 << 16 else vi, kind="stable")
    at, vi = rises[rise[order]], vi[order]
    per = np.bincount(vi, minlength=uniq.size)
    if not np.array_equal(inv, np.arange(uniq.size)):  # unsorted or repeated values
        starts = np.cumsum(per) - per
        pick = np.concatenate([np.arange(starts[u], starts[u] + per[u]) for u in inv])
        at, vi = at[pick], vi[pick]
    return at, uniq[vi], per[inv]


def _no_rows() -> pd.DataFrame:
    """A sweep with no handoffs: the qualifications columns and an int ``value`` column."""
    return empty_qualifications().assign(value=np.zeros(0, dtype=np.int64))
