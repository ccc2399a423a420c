"""``mqa_count`` evaluated at its counting touches only (the fast path of monotone rules).

When every clause of a rule is a count that must reach a threshold (``any`` / ``all`` of
conditions, no ``not``), the rule can first become true only at the time of a touch that one of
its conditions counts: between two such touches the windows only lose touches, so every count
only falls. The first event time at which the rule holds is therefore the first such touch
time at which it holds, and nothing needs to be computed for the other events of the log.
Without ``recycle_days`` (each account handed off at most once) this gives exactly the handoffs
of the general evaluator; with ``not:`` or recycling the general path
(:mod:`policies.kinds.mqa`) is used. ``policies/reference.py`` is the slow reference both are
tested against. The candidates and their window counts are :class:`Touches`; a threshold sweep
in one pass over them is :mod:`policies.kernels.sweep`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd

from policies.kernels.conditions import conditions_of, counting_masks, filters_people, resolve
from policies.kernels.frame import Frame
from policies.kernels.output import empty_qualifications, rows, strings
from policies.kernels.touches import Touches
from policies.schema import Condition, Group, MqaCount


def monotone(node: Condition | Group) -> bool:
    """Only ``any`` / ``all`` of conditions (no ``not``): true only where counts are high."""
    if isinstance(node, Condition):
        return True
    return node.op != "not" and all(monotone(c) for c in node.children)


def fast_ok(policy: MqaCount) -> bool:
    """Can ``policy`` be evaluated at its counting touches only?"""
    return (
        policy.recycle_days is None
        and monotone(policy.rule)
        and all(monotone(g) for g in policy.tiers.values())
    )


def touches_for(policy: MqaCount, f: Frame) -> Touches:
    """The candidates of ``policy`` (every condition's counting touches and the touches of its
    score), memoised on the frame."""
    args = (policy.window_days, list(policy.activities), policy.include_anonymous)
    acts: set[str] = set(policy.activities)
    anon = False
    for group in [policy.rule, *policy.tiers.values()]:
        for cond in conditions_of(group):
            _, a, an = resolve(cond, *args)
            acts |= set(a)
            anon |= bool(an) and not filters_people(cond)
    key = ("touches", tuple(sorted(acts)), anon)
    return f.memo(key, lambda: Touches(f, tuple(sorted(acts)), anon))


class Use(NamedTuple):
    """A clause group of a policy and the accounts (by rank) it applies to."""

    tier: int | None  # None: the policy's own clauses
    group: Group
    prefix: str  # of its rule names: "" or "tiers.<t>."
    accounts: np.ndarray


class Rule:
    """A monotone ``mqa_count`` rule evaluated at the candidates."""

    def __init__(self, policy: MqaCount, tt: Touches):
        self.policy = policy
        self.tt = tt
        self.args = (policy.window_days, list(policy.activities), policy.include_anonymous)

    def counts(
        self, cond: Condition, need: str = ""
    ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """(unique contacts, counting touches, account passes the filters (None: all))
        per candidate; a count is None where the condition does not ask for it (and it is not
        the ``need`` field)."""
        tt = self.tt
        window, _, _ = resolve(cond, *self.args)
        people, touches = counting_masks(tt, cond, *self.args)
        unique = total = None
        if cond.unique_contacts or need == "unique_contacts":
            unique = tt.count(
                people, window, distinct=True, per_contact=cond.min_touches_per_contact
            )
        if cond.min_activities or need == "min_activities":
            total = tt.count(touches, window)
        if cond.tier is None and cond.icp_fit_min is None:
            return unique, total, None
        ok = np.ones(tt.first.size, dtype=bool)
        if cond.tier is not None:
            ok &= np.isin(tt.account_number("tier"), cond.tier)
        if cond.icp_fit_min is not None:
            ok &= tt.account_number("icp_fit") >= cond.icp_fit_min
        return unique, total, ok[tt.rank]

    def deepest(self, cond: Condition, depths: np.ndarray) -> np.ndarray:
        """Per candidate: the largest of ``depths`` (sorted, distinct) at which at least
        ``cond.unique_contacts`` contacts have that many counting touches in its window (-1:
        none)."""
        tt = self.tt
        window, _, _ = resolve(cond, *self.args)
        people, _ = counting_masks(tt, cond, *self.args)
        out = np.full(tt.m, -1, dtype=np.int64)
        for d in depths.tolist():  # fewer contacts have more touches: the deep enough come first
            enough = tt.count(people, window, distinct=True, per_contact=d) >= cond.unique_contacts
            if not enough.any():
                break
            out[enough] = d
        return out

    def holds(self, node: Condition | Group) -> np.ndarray:
        """Per candidate: does the clause hold?"""
        if isinstance(node, Condition):
            unique, total, ok = self.counts(node)
            if ok is None:
                ok = np.ones(self.tt.m, dtype=bool)
            if unique is not None:
                ok &= unique >= node.unique_contacts
            if total is not None:
                ok &= total >= node.min_activities
            return ok
        parts = [self.holds(c) for c in node.children]
        out = parts[0].copy()
        for p in parts[1:]:
            if node.op == "any":
                out |= p
            else:
                out &= p
        return out

    def score(self) -> np.ndarray:
        """Distinct known counting contacts in the policy's window, at every candidate."""
        tt = self.tt
        people = tt.activity_in(self.policy.activities) & tt.known
        return tt.count(people, self.policy.window_days, distinct=True)

    def uses(self) -> list[Use]:
        """Each clause group with the accounts using it (tier overrides first applied)."""
        policy, tt = self.policy, self.tt
        if not policy.tiers:
            return [Use(None, policy.rule, "", np.ones(tt.first.size, dtype=bool))]
        tier = tt.account_number("tier")
        overridden = np.isin(tier, list(policy.tiers))
        out = [Use(None, policy.rule, "", ~overridden)]
        out += [Use(t, g, f"tiers.{t}.", tier == t) for t, g in policy.tiers.items()]
        return out


def evaluate_fast(policy: MqaCount, f: Frame) -> pd.DataFrame:
    """The handoffs of a monotone ``mqa_count`` policy without recycling (see the module)."""
    tt = touches_for(policy, f)
    if tt.m == 0:
        return empty_qualifications()
    rule = Rule(policy, tt)
    uses = [u for u in rule.uses() if u.accounts.any()]
    holds = np.zeros(tt.m, dtype=bool)
    named = {}
    for use in uses:
        named[use.tier] = [rule.holds(c) for c in use.group.children]
        parts = np.array(named[use.tier])
        h = parts.any(axis=0) if use.group.op == "any" else parts.all(axis=0)
        holds |= h if use.accounts.all() else h & use.accounts[tt.rank]
    pos = np.flatnonzero(holds)
    r = tt.rank[pos]
    at = pos[np.r_[True, r[1:] != r[:-1]]] if pos.size else pos
    if at.size == 0:
        return empty_qualifications()
    names, codes = rule_codes(
        tt, uses, at, lambda use, sel: np.array([h[at[sel]] for h in named[use.tier]])
    )
    return candidate_rows(policy.name, tt, at, names, codes, rule.score()[at])


def rule_codes(
    tt: Touches,
    uses: list[Use],
    at: np.ndarray,
    child_holds: Callable[[Use, np.ndarray | slice], np.ndarray],
) -> tuple[list[str], np.ndarray]:
    """The rule name of each handoff at candidates ``at``, as (names, a code per handoff): for
    an ``any`` group the first top-level child that holds there, else the group's own name.
    ``child_holds(use, sel)`` gives the group's top-level children's holds at the handoffs
    ``sel`` (children x handoffs)."""
    names: list[str] = []
    codes = np.zeros(at.size, dtype=np.int64)
    ranks = tt.rank[at] if len(uses) > 1 else None
    for use in uses:
        sel: np.ndarray | slice = slice(None) if ranks is None else use.accounts[ranks]
        if isinstance(sel, np.ndarray) and not sel.any():
            continue
        if use.group.op == "any":
            codes[sel] = len(names) + child_holds(use, sel).argmax(axis=0)
            names += [f"{use.prefix}{n}" for n, _ in use.group.named()]
        else:
            codes[sel] = len(names)
            names.append(f"{use.prefix}{use.group.op}")
    return names, codes


def candidate_rows(
    name: str,
    tt: Touches,
    at: np.ndarray,
    names: list[str],
    codes: np.ndarray,
    score: np.ndarray,
    value: np.ndarray | None = None,
) -> pd.DataFrame:
    """Qualification rows for handoffs at candidates ``at``; the rule of row i is
    ``names[codes[i]]``."""
    return rows(
        name,
        tt.account[at].astype(np.int64),
        tt.time[at],
        strings(names, codes),
        np.asarray(score, dtype=np.float64),
        value=value,
    )
