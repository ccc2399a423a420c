"""The handoff truth rule over several opportunities per account (:class:`OpportunityTruth`),
columnar: handoffs and opportunities are joined by sorting them together once (no per-account
loop, no handoff × opportunity pairs), and :func:`truth_reference`, the slow loop it is tested
against.

A handoff of account ``a`` at ``t`` is true when one of ``a``'s counted opportunities opens in
[t, t + horizon] or is open at t (opened before t, closed strictly after t or not closed), with
the tolerance and by-day rule of :class:`sim.real.outcomes.OutcomeTruth` (applied per
opportunity, it gives the same answers for one opportunity per account).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["EPS_DAYS", "OpportunityTruth", "count_before", "truth_reference"]

EPS_DAYS = 1e-9  # ~86 µs: times this close count as equal in the outcome rule


def count_before(
    p_acc: np.ndarray,
    p_t: np.ndarray,
    q_acc: np.ndarray,
    q_t: np.ndarray,
    inclusive: bool,
    presorted: bool = False,
) -> np.ndarray:
    """For each query (``q_acc``, ``q_t``): how many points (``p_acc``, ``p_t``) have the same
    account and a time before it (``< q_t``; ``<= q_t`` when ``inclusive``). Times may be
    ±inf, not NaN. The points are sorted by (account, time) once (``presorted``: they are),
    then every query is placed by a binary search within its account's points, all queries at
    once: O((n + m) log n), no per-account loop.

    >>> count_before(np.array([0, 0, 1]), np.array([1.0, 2.0, 1.0]),
    ...              np.array([0, 0, 1, 2]), np.array([2.0, 2.0, 0.5, 9.0]), True).tolist()
    [2, 2, 0, 0]
    """
    p_acc = np.asarray(p_acc, np.int64)
    p_t = np.asarray(p_t, float)
    if not presorted:
        order = np.lexsort((p_t, p_acc))
        p_acc, p_t = p_acc[order], p_t[order]
    q_acc = np.asarray(q_acc, np.int64)
    q_t = np.asarray(q_t, float)
    start, end = group_bounds(p_acc, q_acc)
    lo, hi = start.copy(), end
    top = max(len(p_t) - 1, 0)
    while len(p_t):
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        v = p_t[np.minimum(mid, top)]
        right = active & ((v <= q_t) if inclusive else (v < q_t))
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)
    return lo - start


def group_bounds(sorted_acc: np.ndarray, q_acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each query's account starts and ends among ``sorted_acc`` (account codes, sorted,
    >= 0): offsets of a bincount, one lookup per query."""
    bound = int(max(sorted_acc.max(initial=-1), q_acc.max(initial=-1))) + 1
    offsets = np.zeros(bound + 1, np.int64)
    np.cumsum(np.bincount(sorted_acc, minlength=bound), out=offsets[1:])
    return offsets[q_acc], offsets[q_acc + 1]


@dataclass(frozen=True, eq=False)
class OpportunityTruth:
    """Whether a handoff of account ``a`` at ``t`` (days since origin) was true, over the
    counted opportunities (``account``, ``created``, ``closed``; NaN = not closed), which are
    kept sorted by (account, created). ``n_accounts`` bounds the account codes."""

    account: np.ndarray
    created: np.ndarray
    closed: np.ndarray
    n_accounts: int
    horizon_days: float = 90.0
    by_day: bool = False
    rows: np.ndarray | None = None  # each one's row in the table it came from

    @classmethod
    def of(
        cls,
        account,
        created,
        closed,
        n_accounts: int,
        horizon_days: float = 90.0,
        by_day: bool = False,
        rows=None,
    ) -> OpportunityTruth:
        """The rule over opportunities given in any order (``rows``: where each came from)."""
        a = np.asarray(account, np.int64)
        o = np.asarray(created, float)
        r = np.arange(a.size) if rows is None else np.asarray(rows, np.int64)
        order = np.lexsort((o, a))
        c = np.asarray(closed, float)[order]
        return cls(a[order], o[order], c, n_accounts, float(horizon_days), by_day, r[order])

    @property
    def has_opportunity(self) -> np.ndarray:
        """Per account code: has a counted opportunity."""
        out = np.zeros(self.n_accounts, bool)
        out[self.account] = True
        return out

    def _times(self, account, t) -> tuple[np.ndarray, np.ndarray]:
        a = np.atleast_1d(np.asarray(account, dtype=np.int64))
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        if a.size and (a.min() < 0 or a.max() >= self.n_accounts):
            raise ValueError(f"account code out of range 0..{self.n_accounts - 1}")
        return a, (np.floor(tt + EPS_DAYS) if self.by_day else tt)

    def _in_horizon(self, a: np.ndarray, tt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per handoff, within its account's opportunities: the first and the end of those
        opened in [tt, tt + horizon] (with the tolerance)."""
        first = count_before(self.account, self.created, a, tt - EPS_DAYS, False, True)
        end = count_before(
            self.account, self.created, a, tt + self.horizon_days + EPS_DAYS, True, True
        )
        return first, end

    def match(self, account, t) -> np.ndarray:
        """Per handoff: the index (into the sorted arrays) of the opportunity that makes it
        true, −1 for a false one: the first opening in the horizon, else, of those open at t,
        the one closing last."""
        a, tt = self._times(account, t)
        start, _ = group_bounds(self.account, a)
        first_in, last_in = self._in_horizon(a, tt)
        before = count_before(self.account, self.created, a, tt, False, True)
        latest, holder = self._latest_close()
        j = start + before - 1
        has = before > 0
        jj = np.where(has, j, 0)
        open_at = has & ~(latest[jj] <= tt + EPS_DAYS) if len(latest) else np.zeros_like(has)
        out = np.full(a.size, -1, np.int64)
        out[open_at] = holder[jj[open_at]]
        ahead = last_in > first_in
        out[ahead] = (start + first_in)[ahead]
        return out

    def _latest_close(self) -> tuple[np.ndarray, np.ndarray]:
        """Per opportunity (sorted): the latest close among its account's opportunities created
        up to it (NaN = never closed, as +inf) and the index of the one that has it."""
        c = np.where(np.isnan(self.closed), np.inf, self.closed)
        latest = pd.Series(c).groupby(self.account).cummax().to_numpy(float)
        idx = np.arange(len(c), dtype=float)
        holder = pd.Series(np.where(c == latest, idx, np.nan)).groupby(self.account).ffill()
        return latest, holder.to_numpy(float).astype(np.int64)

    def __call__(self, account, t):
        scalar = np.ndim(account) == 0 and np.ndim(t) == 0
        out = self.match(account, t) >= 0
        return bool(out[0]) if scalar else out

    def found(self, account, t) -> np.ndarray:
        """Per counted opportunity (sorted order): whether one of the handoffs (``account``,
        ``t``) is true because of it (it opened in the horizon after it, or was open at it)."""
        a, tt = self._times(account, t)
        n = len(self.account)
        start, _ = group_bounds(self.account, a)
        first_in, last_in = self._in_horizon(a, tt)
        lo, hi = start + first_in, start + last_in
        diff = np.bincount(lo, minlength=n + 1) - np.bincount(hi, minlength=n + 1)
        opened_in = np.cumsum(diff)[:n] > 0
        # open at a handoff: the first handoff after it opened is the one most likely still open
        order = np.lexsort((tt, a))
        sa, st = a[order], tt[order]
        begins, ends = group_bounds(sa, self.account)
        first_after = begins + count_before(sa, st, self.account, self.created, True, True)
        valid = first_after < ends
        t1 = st[np.where(valid, first_after, 0)] if len(st) else np.zeros(n)
        with np.errstate(invalid="ignore"):
            open_at = valid & ~(self.closed <= t1 + EPS_DAYS)
        return opened_in | open_at


def truth_reference(
    account: np.ndarray,
    created: np.ndarray,
    closed: np.ndarray,
    horizon_days: float,
    by_day: bool,
    a: int,
    t: float,
) -> bool:
    """The rule written plainly for one handoff (slow; the reference of the tests)."""
    tt = float(np.floor(t + EPS_DAYS)) if by_day else float(t)
    for acc, o, c in zip(account, created, closed, strict=True):
        if acc != a:
            continue
        if o >= tt - EPS_DAYS and o <= tt + horizon_days + EPS_DAYS:
            return True
        if o < tt and not (c <= tt + EPS_DAYS):
            return True
    return False
