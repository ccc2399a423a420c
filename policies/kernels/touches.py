"""The counting touches of a log: the candidate events at which a monotone ``mqa_count`` rule
can first hold (see :mod:`policies.kernels.rule`), and window counts evaluated at each.

:class:`Touches` holds the candidate events: the events whose activity some condition counts,
by known contacts (and anonymous ones when some condition counts them). Window counts are
evaluated at every candidate (all candidates at the same time included), with every time
comparison on the original floats: the window of a candidate at time t is [t - W, t].
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from policies.kernels.frame import (
    Frame,
    account_numbers,
    allowed_codes,
    digest,
    rows_of,
    take,
    titles_in,
)

BLOCK = 1 << 16  # candidates per block: blocks of whole accounts, worked on in cache
EVENT_BLOCK = 1 << 20  # events per block when selecting the candidates


class Touches:
    """The candidate events of a log (a subset, in log order) and window counts at each.

    Work is done block by block (whole accounts, about :data:`BLOCK` candidates each) so that
    the temporaries of each step stay in the CPU cache."""

    def __init__(self, f: Frame, activities: tuple[str, ...], anonymous: bool):
        self.log = f.log
        _, table = f.activity_codes
        self._code_table = table  # categorical code -> index in ACTIVITIES
        self.account, self.time, self.contact, self._codes = _select(
            f, allowed_codes(table, activities), anonymous
        )
        self.m = m = len(self.time)
        self.idx = np.int32 if m < 2**31 - 2 else np.int64  # dtype of positions
        self._memo: dict[Any, np.ndarray] = {}
        acc, t = self.account, self.time
        new_acct = np.r_[True, acc[1:] != acc[:-1]] if m else np.zeros(0, bool)
        self.first = np.flatnonzero(new_acct).astype(self.idx)  # each account's first
        self.last = np.r_[self.first[1:], m].astype(self.idx)  # and one past its last
        self.rank = np.cumsum(new_acct, dtype=self.idx) - 1
        new_tie = new_acct | np.r_[True, t[1:] != t[:-1]] if m else new_acct
        self.ties = not new_tie.all()  # two candidates of an account at one time?
        if self.ties:
            starts = np.flatnonzero(new_tie).astype(self.idx)
            tsizes = np.diff(np.r_[starts, m])
            self.tie_start = np.repeat(starts, tsizes)
            self.tie_end = np.repeat(starts + tsizes - 1, tsizes)
        # Blocks of whole accounts, each starting at the first account start at or after a
        # multiple of BLOCK.
        cuts = np.r_[self.first, m][np.searchsorted(self.first, np.arange(0, m, BLOCK))]
        bounds = np.unique(np.r_[cuts, m])
        self.blocks = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))

    def _tie_start(self, s: int, e: int) -> np.ndarray:
        """The first candidate of each one's time tie, for the block [s, e) (block positions)."""
        if self.ties:
            return self.tie_start[s:e] - s
        return np.arange(e - s, dtype=self.idx)

    def _bounds(self, s: int, e: int) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate's account start and end, for the block [s, e) (block positions)."""
        r0, r1 = int(self.rank[s]), int(self.rank[e - 1]) + 1
        r = self.rank[s:e] - r0
        return (self.first[r0:r1] - s)[r], (self.last[r0:r1] - s)[r]

    # -- per account and per contact attributes --------------------------------------------
    def account_number(self, column: str) -> np.ndarray:
        """Per account (by rank): its numeric ``column`` (NaN where unknown)."""
        key = ("account_number", column)
        if key not in self._memo:
            ids = self.account[self.first].astype(np.int64)
            self._memo[key] = account_numbers(self.log.accounts, column, ids)
        return self._memo[key]

    def contact_in(self, column: str, allowed: Iterable[str]) -> np.ndarray:
        """Per candidate: is its (known) contact's ``column`` one of ``allowed``?"""
        con = self.log.contacts
        if column not in con.columns:
            return np.zeros(self.m, dtype=bool)
        ok = con[column].astype(object).isin(list(allowed)).to_numpy(bool)
        row = rows_of(con["contact_id"].to_numpy(np.int64), self.contact.astype(np.int64))
        return take(ok, row, False)

    def title_in(self, phrases: Iterable[str]) -> np.ndarray:
        """Per candidate: does its (known) contact's title match one of ``phrases``?"""
        key = ("title_in", tuple(phrases))
        if key not in self._memo:
            con = self.log.contacts
            row = rows_of(con["contact_id"].to_numpy(np.int64), self.contact.astype(np.int64))
            self._memo[key] = take(titles_in(con, key[1]), row, False).astype(bool)
        return self._memo[key]

    def activity_in(self, activities: Iterable[str]) -> np.ndarray:
        """Per candidate: is its activity one of ``activities``?"""
        key = ("activity_in", tuple(sorted(activities)))
        if key not in self._memo:
            self._memo[key] = allowed_codes(self._code_table, key[1])[self._codes]
        return self._memo[key]

    @property
    def known(self) -> np.ndarray:
        if "known" not in self._memo:
            self._memo["known"] = self.contact >= 0
        return self._memo["known"]

    # -- windows ----------------------------------------------------------------------------
    def lower(self, window: float) -> np.ndarray:
        """Per candidate at time t: the first candidate of its account with time >= t - W."""
        key = ("lower", float(window))
        if key not in self._memo:
            out = np.empty(self.m, dtype=self.idx)
            for s, e in self.blocks:
                out[s:e] = self._lower_block(s, e, window) + s
            self._memo[key] = out
        return self._memo[key]

    def _lower_block(self, s: int, e: int, window: float) -> np.ndarray:
        # The block's accounts side by side on one axis (account r at r * span): candidate
        # keys and lower-edge keys there. The number of keys below each edge, counted in
        # buckets of about a quarter candidate each, is almost the answer; the exact float
        # comparison s >= t - W then settles the few that the bucket or rounding got wrong.
        n = e - s
        t = self.time[s:e]
        base = t.min() - window
        span = (t.max() - t.min()) + window + 1.0
        off = (self.rank[s:e] - self.rank[s]) * span
        total = (int(self.rank[e - 1] - self.rank[s]) + 1) * span
        width = total / (4 * n)
        keys = off + (t - base)
        edge = t - window
        q = off + (edge - base)
        nb = int(total / width) + 2
        below = np.zeros(nb + 1, dtype=self.idx)
        np.cumsum(
            np.bincount(np.minimum(keys / width, nb - 1).astype(np.intp), minlength=nb),
            out=below[1:],
        )
        lo = below[np.minimum(q / width, nb - 1).astype(np.intp)]
        st, en = self._bounds(s, e)
        np.clip(lo, st, en, out=lo)
        return _settle_sparse(lo, st, en, t, edge)

    def count(
        self, mask: np.ndarray, window: float, distinct: bool = False, per_contact: int = 1
    ) -> np.ndarray:
        """At every candidate (time t): the number of candidates selected by ``mask`` in its
        account with time in [t - W, t]; with ``distinct`` the number of distinct contacts
        among them (anonymous ones must be masked out) with at least ``per_contact`` selected
        candidates there. Memoised."""
        key = (digest(mask), float(window), distinct, per_contact if distinct else 1)
        if key not in self._memo:
            self._memo[key] = self._count(mask, float(window), distinct, per_contact)
        return self._memo[key]

    def _count(self, mask, window, distinct, per_contact=1) -> np.ndarray:
        lo = self.lower(window)
        if not distinct:
            cum = np.zeros(self.m + 1, dtype=self.idx)
            np.cumsum(mask, out=cum[1:])
            hi = cum[self.tie_end + 1] if self.ties else cum[1:]
            return hi - cum[lo]
        out = np.empty(self.m, dtype=self.idx)
        for s, e in self.blocks:
            j = np.flatnonzero(mask[s:e]).astype(self.idx)
            n = e - s
            if j.size == 0:
                out[s:e] = 0
                continue
            ts = self._tie_start(s, e)
            # A touch stands for its contact from its time until it leaves the window (the
            # first candidate whose lower edge is past it) or the contact's next selected touch.
            # leave(j) = #{i : lo(i) <= j}: lo is sorted, so a running count of its values.
            # With per_contact k > 1 the contact has k selected touches in the window while the
            # (k - 1)-th selected touch before the latest is in it: the latest leaves with it.
            below = np.cumsum(np.bincount(lo[s:e] - s, minlength=n), dtype=self.idx)
            nxt, back = _same_contact(j, self.contact[s:e], self.rank[s:e], per_contact - 1)
            if per_contact > 1:  # none stands before its contact's k-th selected touch
                has = back < n
                j, nxt, back = j[has], nxt[has], back[has]
            leave = np.minimum(below[back], np.r_[ts, n][nxt])
            start = ts[j]
            if per_contact > 1:  # and some leave before they would stand
                ok = leave > start
                start, leave = start[ok], leave[ok]
            diff = np.bincount(start, minlength=n + 1)
            diff -= np.bincount(leave, minlength=n + 1)
            np.cumsum(diff[:n], out=out[s:e])
        return out


def _select(
    f: Frame, counts: np.ndarray, anonymous: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(account, time, contact, activity code) of the events whose activity code ``counts``
    (and by a known contact unless ``anonymous``), selected block by block."""
    codes, _ = f.activity_codes
    contact, account, time = f.raw_contact, f.raw_account, f.raw_time
    parts = []
    for s in range(0, f.n, EVENT_BLOCK):
        e = min(s + EVENT_BLOCK, f.n)
        mask = _code_mask(codes[s:e], counts)
        if not anonymous:
            mask &= contact[s:e] >= 0
        i = np.flatnonzero(mask)
        parts.append((account[s:e][i], time[s:e][i], contact[s:e][i], codes[s:e][i]))
    if not parts:
        empty = np.zeros(0, int)
        return empty, empty, empty, empty
    a, t, c, k = (np.concatenate(col) for col in zip(*parts, strict=True))
    return a, t, c, k


def _settle_sparse(lo, st, en, t, edge) -> np.ndarray:
    """Move each ``lo`` (within [st, en]) to the first index whose ``t`` is >= ``edge``, step
    by step, working only on the entries still moving (exact float comparisons)."""
    last = t.size - 1
    act = np.flatnonzero((lo < en) & (t[np.minimum(lo, last)] < edge))
    while act.size:  # too low: t[lo] < edge
        lo[act] += 1
        nxt = lo[act]
        act = act[(nxt < en[act]) & (t[np.minimum(nxt, last)] < edge[act])]
    act = np.flatnonzero((lo > st) & (t[np.maximum(lo - 1, 0)] >= edge))
    while act.size:  # too high: t[lo - 1] >= edge
        lo[act] -= 1
        nxt = lo[act]
        act = act[(nxt > st[act]) & (t[np.maximum(nxt - 1, 0)] >= edge[act])]
    return lo


def _code_mask(codes: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """``allowed[codes]`` (codes >= 0), by comparisons when the allowed codes form a few runs
    (cheaper than a table lookup on small integer codes)."""
    hit = np.flatnonzero(allowed)
    runs = np.split(hit, np.flatnonzero(np.diff(hit) != 1) + 1) if hit.size else []
    if len(runs) > 4:
        return allowed[codes]
    out = np.zeros(codes.shape, dtype=bool)
    for run in runs:
        lo, hi = int(run[0]), int(run[-1])
        out |= (codes == lo) if lo == hi else ((codes >= lo) & (codes <= hi))
    return out


def _same_contact(
    j: np.ndarray, contact: np.ndarray, rank: np.ndarray, back: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """For each selected candidate ``j`` (sorted positions in a block of ``len(contact)``): the
    next selected one of the same account and contact (``len(contact)``: none), and its
    ``back``-th previous one (``len(contact)``: none; ``j`` itself when ``back`` is 0)."""
    n = len(contact)
    c = contact[j].astype(np.int64)
    r = rank[j]
    seg = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    local = c - np.repeat(np.minimum.reduceat(c, seg), np.diff(np.r_[seg, j.size]))
    # Each (account, contact)'s selected candidates together, in position order.
    if local.max() < 1 << 16:  # a contact's number within its account: a radix sort
        order = np.argsort(local.astype(np.uint16), kind="stable")
        key = ((r.astype(np.int64) << 16) | local)[order]
        same = key[1:] == key[:-1]
    else:
        order = np.lexsort((local, r))
        rs, ls = r[order], local[order]
        same = (rs[1:] == rs[:-1]) & (ls[1:] == ls[:-1])
    nxt = np.full(j.size, n, dtype=j.dtype)
    at = np.flatnonzero(same)
    nxt[order[at]] = j[order[at + 1]]
    if not back:
        return nxt, j
    i = np.arange(j.size)
    first = np.maximum.accumulate(np.where(np.r_[True, ~same], i, 0))  # of each group's run
    ok = i - first >= back
    prev = np.full(j.size, n, dtype=j.dtype)
    prev[order[ok]] = j[order[i[ok] - back]]
    return nxt, prev
