"""Sums over time, evaluated at every event of a :class:`~policies.kernels.frame.Frame`:
trailing-window sums and distinct counts, running decayed sums, and turning a per-event "rule
holds" array into handoffs (first time, recycling).

Everything is vectorised over the whole log; exactness at the window's edges is kept by doing
every time comparison on the original floats (``s >= t - W``), never on shifted keys.
``policies/reference.py`` is the slow, obviously-correct implementation these are tested
against.
"""

from __future__ import annotations

import numpy as np

from policies.kernels.frame import Frame, digest
from policies.kernels.search import settle


def window_sum(
    f: Frame,
    mask: np.ndarray,
    window: float,
    weights: np.ndarray | None = None,
    distinct: bool = False,
    per_contact: int = 1,
) -> np.ndarray:
    """At every event's time t: the sum of ``weights`` (default 1) over the events selected by
    ``mask`` in the same account with time in [t - window, t]. With ``distinct`` it counts
    distinct contacts among them instead (anonymous ones must be masked out), and only those
    with at least ``per_contact`` selected events there.

    Results are memoised on the frame, so evaluating many variants of a policy (a sweep) on one
    frame computes each distinct window once."""
    key = (
        "window_sum",
        digest(mask),
        float(window),
        None if weights is None else digest(np.asarray(weights, dtype=float)),
        distinct,
        per_contact if distinct else 1,
    )
    return f.memo(key, lambda: _window_sum(f, mask, window, weights, distinct, per_contact))


def _window_sum(f: Frame, mask, window, weights, distinct, per_contact=1) -> np.ndarray:
    sel = np.flatnonzero(mask)
    out = np.zeros(f.n + 1)
    if sel.size == 0:
        return out[: f.n]
    w = np.ones(sel.size) if weights is None else np.asarray(weights, float)[sel]
    a = f.tie_start[sel]
    start, end = f.acct_start[sel], f.acct_end[sel]
    if not distinct:
        b = first_after(f, f.time[sel], start, end, window)
    else:
        # A contact has k selected events in [t - W, t] exactly while the (k - 1)-th selected
        # event before its latest one is still there (k = 1: the latest itself): the latest
        # stands for the contact until that one leaves, or until the contact's next selected
        # event (the start of its time tie; the account's end where none).
        nxt, back = _same_contact(f, sel, per_contact - 1)
        if per_contact > 1:
            has = back >= 0
            b = np.where(
                has, first_after(f, f.time[np.where(has, back, sel)], start, end, window), a
            )
        else:
            b = first_after(f, f.time[sel], start, end, window)
        b = np.minimum(b, np.where(nxt >= 0, f.tie_start[np.maximum(nxt, 0)], end))
    keep = b > a
    np.add.at(out, a[keep], w[keep])
    np.subtract.at(out, b[keep], w[keep])
    return np.cumsum(out)[: f.n]


def _same_contact(f: Frame, sel: np.ndarray, back: int) -> tuple[np.ndarray, np.ndarray]:
    """Per selected event (``sel``): the same contact's next selected event of its account
    (-1: none) and, with ``back`` > 0, its ``back``-th previous one (-1: none; else ``sel``)."""
    order = np.lexsort((sel, f.contact[sel], f.account[sel]))
    s_sorted = sel[order]
    same = (f.account[s_sorted[1:]] == f.account[s_sorted[:-1]]) & (
        f.contact[s_sorted[1:]] == f.contact[s_sorted[:-1]]
    )
    nxt = np.full(sel.size, -1)
    nxt[order[:-1][same]] = s_sorted[1:][same]
    if not back:
        return nxt, sel
    i = np.arange(sel.size)
    first = np.maximum.accumulate(np.where(np.r_[True, ~same], i, 0))  # of each contact's run
    ok = i - first >= back
    prev = np.full(sel.size, -1)
    prev[order[ok]] = s_sorted[i[ok] - back]
    return nxt, prev


def first_after(
    f: Frame, s: np.ndarray, sel_start: np.ndarray, sel_end: np.ndarray, window: float
) -> np.ndarray:
    """For each touch time s (with its account's index range), the first event index i of that
    account with ``time[i] - window > s`` (the first evaluation the touch has left)."""

    def lo_keys():
        lo = f.time - window
        span = (f.time.max() - f.time.min()) + window + 1.0 if f.n else 1.0
        base = f.time.min() - window if f.n else 0.0
        return lo, f.rank * span + (lo - base), span, base

    lo, keys, span, base = f.memo(("lo-keys", float(window)), lo_keys)
    probe = f.rank[sel_start] * span + (s - base)
    q = np.clip(np.searchsorted(keys, probe, side="right"), sel_start, sel_end)
    # The composite keys round; settle the boundary on the exact comparison lo > s.
    return settle(q, sel_start, sel_end, lo, s, "right")


def decayed_sum(
    f: Frame, group: np.ndarray, mask: np.ndarray, weights: np.ndarray, half_life: float
) -> tuple[np.ndarray, np.ndarray]:
    """Running Σ w × 0.5^((t - s)/half_life) per group over the selected events, evaluated
    right after each selected event: (indices of the selected events, values)."""
    sel = np.flatnonzero(mask)
    if sel.size == 0:
        return sel, np.zeros(0)
    order = np.lexsort((sel, group[sel]))
    idx = sel[order]
    g = group[idx]
    val = running_decayed(np.r_[True, g[1:] != g[:-1]], f.time[idx], weights[idx], half_life)
    back = np.argsort(order, kind="stable")
    return sel, val[back]


def running_decayed(
    first: np.ndarray, t: np.ndarray, w: np.ndarray, half_life: float
) -> np.ndarray:
    """Per touch, in (group, time) order with ``first`` marking each group's first touch: the
    group's Σ w × 0.5^((t - s)/half_life) right after it (one vectorised step per touch rank
    within the groups)."""
    w = np.asarray(w, dtype=float)
    start = np.flatnonzero(first)
    size = np.diff(np.r_[start, t.size])
    by_size = np.argsort(-size, kind="stable")  # the groups with an r-th touch lead
    start, size = start[by_size], size[by_size]
    val = np.where(first, w, 0.0)
    for r in range(1, int(size[0]) if size.size else 0):
        pos = start[: np.searchsorted(-size, -r, side="left")] + r  # groups longer than r
        val[pos] = val[pos - 1] * 0.5 ** ((t[pos] - t[pos - 1]) / half_life) + w[pos]
    return val


def handoffs(f: Frame, holds: np.ndarray, recycle_days: float | None) -> np.ndarray:
    """Event indices of the handoffs: per account the first event (of its time) at which
    ``holds``, then (with recycling) the first at or after the previous + recycle_days."""
    if recycle_days is None:
        # Each account's first event where the rule holds: among the rising edges only.
        rising = holds & np.r_[True, ~holds[:-1] | (f.rank[1:] != f.rank[:-1])]
        idx = np.flatnonzero(rising)
        r = f.rank[idx]
        first = np.r_[True, r[1:] != r[:-1]] if idx.size else np.zeros(0, dtype=bool)
        return f.tie_start[idx[first]]
    allowed = np.full(f.first_of_account.size, -np.inf)
    out = []
    while True:
        idx = np.flatnonzero(holds & (f.time >= allowed[f.rank]))
        if idx.size == 0:
            break
        r = f.rank[idx]  # idx is sorted, so each account's first candidate leads
        first = np.r_[True, r[1:] != r[:-1]]
        chosen = f.tie_start[idx[first]]
        out.append(chosen)
        allowed = np.full(f.first_of_account.size, np.inf)
        allowed[r[first]] = f.time[chosen] + recycle_days
    if not out:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.concatenate(out))
