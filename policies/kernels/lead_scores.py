"""Per-contact lead scores (the ``mql`` kind): a lead's touches, its score at any time, and
where some lead of an account is at or above a threshold at every event.

A *lead* is one (account, contact) pair: a contact's score in an account counts only its
touches of that account (the reference scores each account's events on their own), so a contact
touching several accounts is a lead in each.

A lead's score changes only at a few events, whatever the sign of its points: at its own touch
times, and in between only by decay (monotone: toward its fit points, falling when the score
without fit is above 0, rising when it is below) or, with a window, when one of its touches
leaves the window (the first event of the account whose time minus the window is past it). So
the events at which it is at or above a threshold are a union of intervals of event indices,
with no more ends than twice its touches: :func:`holds` finds them (a bisection or a merge per
touch, for the leads that can reach the threshold at all) and lays them on the account's
events, instead of scoring every lead at every event of its account. Every comparison is made
on the very floats :func:`score_at` computes at an event, so the two agree exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from policies.kernels.frame import Frame
from policies.kernels.search import grouped_searchsorted
from policies.kernels.windows import first_after


class Touches(NamedTuple):
    """Known contacts' touches in (account, contact, time, event) order: grouped by lead."""

    event: np.ndarray  # event index in the frame
    contact: np.ndarray  # contact id
    time: np.ndarray
    points: np.ndarray  # the touch's activity points
    rank: np.ndarray  # the lead's rank (0, 1, ... in (account, contact) order)
    run: np.ndarray  # the lead's score without fit right after the touch (no window)
    fit: np.ndarray  # the contact's fit points


def score_at(
    t: Touches, window: float | None, half_life: float | None, q_rank, q_time
) -> np.ndarray:
    """Each query's lead score (without fit) at time q_time (``q_rank``: the lead's rank), all
    its touches at or before q_time included (those in [q_time - window, q_time] with a
    window). Every query must be at or after its lead's first touch."""
    last = grouped_searchsorted(t.rank, t.time, q_rank, q_time, "right") - 1  # last touch <= t
    if window is not None:
        # Plain sum over [t - W, t]: prefix sums (a lead's touches are contiguous).
        prefix = np.r_[0.0, np.cumsum(t.points)]
        lo = grouped_searchsorted(t.rank, t.time, q_rank, q_time - window, "left")
        return prefix[last + 1] - prefix[lo]
    if half_life is not None:
        return t.run[last] * 0.5 ** ((q_time - t.time[last]) / half_life)
    return t.run[last]


def score_at_touches(t: Touches, window: float | None, half_life: float | None) -> np.ndarray:
    """:func:`score_at` at every touch's own time: without a window its lead's last touch at
    that time is the answer, found without a search (the same floats)."""
    if window is not None or t.rank.size == 0:
        return score_at(t, window, half_life, t.rank, t.time)
    ends = np.flatnonzero(np.r_[(t.rank[1:] != t.rank[:-1]) | (t.time[1:] != t.time[:-1]), True])
    last = np.repeat(ends, np.diff(np.r_[-1, ends]))
    if half_life is not None:
        return t.run[last] * 0.5 ** ((t.time - t.time[last]) / half_life)
    return t.run[last]


def holds(
    f: Frame, t: Touches, window: float | None, half_life: float | None, threshold: float
) -> np.ndarray:
    """Per event: is some lead of its account at or above ``threshold`` at its time (the same
    answer as :func:`score_at` at every event from the lead's first touch on)? Any points
    (finite): see :func:`intervals`."""
    begin, end = intervals(f, t, window, half_life, threshold)
    keep = end > begin
    edges = np.bincount(begin[keep], minlength=f.n + 1) - np.bincount(end[keep], minlength=f.n + 1)
    return np.cumsum(edges[: f.n]) > 0


def intervals(
    f: Frame, t: Touches, window: float | None, half_life: float | None, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Where the leads are at or above ``threshold``: intervals [begin, end) of event indices
    (each end a start of a time tie or an account's end; some may be empty).

    A lead's touch times split its account's events from its first touch on into pieces, each
    from the events of one touch time s_i (its last touch at s_i, i) to those of its next touch
    time (or the account's end). Within a piece the score without fit is run_i: constant
    without decay; run_i × 0.5^((u - s_i)/h) with a half-life, monotone in u (falling for
    run_i > 0, rising for run_i < 0), so the piece holds on a prefix or a suffix found by
    bisection; with a window see :func:`_window_intervals`. Only the leads that can reach the
    threshold at all are looked at (:func:`reachable`)."""
    sel = np.flatnonzero(reachable(t, threshold))
    if window is not None:
        return _window_intervals(f, t, window, threshold, sel)
    n = t.rank.size
    last_at_time = np.r_[(t.rank[1:] != t.rank[:-1]) | (t.time[1:] != t.time[:-1]), True]
    i = sel[last_at_time[sel]] if n else sel
    ev = t.event[i]
    start = f.tie_start[ev]
    more = np.r_[t.rank[1:] == t.rank[:-1], False][i]  # the lead touches again later
    stop = np.where(more, f.tie_start[t.event[np.minimum(i + 1, n - 1)]], f.acct_end[ev])
    run, fit = t.run[i], t.fit[i]
    if half_life is None:
        return start, np.where(run + fit >= threshold, stop, start)
    rising = run < 0
    s = t.time[i]

    def flips(m: np.ndarray, at: np.ndarray) -> np.ndarray:
        score = run[m] * 0.5 ** ((f.time[at] - s[m]) / half_life) + fit[m]
        return (score >= threshold) == rising[m]

    # Falling: the first event below the threshold ends it; rising: the first at or above
    # begins it (events at one time share a score, so each is a start of a time tie).
    flip = first_true(start, stop, flips)
    return np.where(rising, flip, start), np.where(rising, stop, flip)


def first_true(a: np.ndarray, b: np.ndarray, pred) -> np.ndarray:
    """Per range [a, b): the first index where ``pred`` holds (b when none), ``pred`` false
    then true along each range; ``pred(which, index)`` tests ranges ``which`` at ``index``."""
    a, b = a.copy(), b.copy()
    while (a < b).any():
        m = np.flatnonzero(a < b)
        mid = (a[m] + b[m]) // 2
        hit = pred(m, mid)
        b[m] = np.where(hit, mid, b[m])
        a[m] = np.where(hit, a[m], mid + 1)
    return a


def _window_intervals(
    f: Frame, t: Touches, window: float, threshold: float, sel: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """With a window of W days a lead's score changes only where one of its touches enters
    (the start of its time tie) or leaves (the first event of the account with time - W past
    the touch, as :func:`score_at` compares): between two such breakpoints it is constant, so
    each breakpoint holds until the lead's next one (or the account's end) when the score
    there does. Any points: no monotonicity is needed. ``sel``: the touches looked at (whole
    leads, in order).

    On integer keys lead × (n + 1) + event, each sorted in touch order (touches are by lead
    and time; a later touch neither enters nor leaves earlier) and merged: at a breakpoint the
    touches entered and those left are the first ones of ``sel`` (counts of enter and leave keys
    at or below it), the very touches :func:`score_at` finds by its float comparisons, so the
    score is the same float. A touch that never leaves gets the key of its account's end (past
    its lead's breakpoints, before the next lead's): it counts as left for the later leads."""
    if sel.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    ev, m = t.event[sel], sel.size
    end = f.acct_end[ev]
    width = f.n + 1
    base = t.rank[sel].astype(np.int64) * width
    leave = first_after(f, t.time[sel], f.acct_start[ev], end, window)
    keys = np.r_[base + f.tie_start[ev], base + leave]
    order = np.argsort(keys, kind="stable")  # two sorted runs: a merge
    key = keys[order]
    is_leave = order >= m
    entered, left = np.cumsum(~is_leave), np.cumsum(is_leave)
    never = np.r_[np.zeros(m, dtype=bool), leave == end][order]
    keep = np.flatnonzero(np.r_[key[1:] != key[:-1], True] & ~never)  # each breakpoint's last
    key, entered, left = key[keep], entered[keep], left[keep]
    r, at = key // width, key % width
    last = sel[entered - 1]  # the lead's last touch entered (its own: the lead has begun)
    lead_start = np.flatnonzero(np.r_[True, t.rank[1:] != t.rank[:-1]])[r]
    lo = np.maximum(np.where(left > 0, sel[np.maximum(left - 1, 0)] + 1, 0), lead_start)
    prefix = np.r_[0.0, np.cumsum(t.points)]  # as score_at sums
    score = (prefix[last + 1] - prefix[lo]) + t.fit[last]
    nxt = np.where(np.r_[r[1:] == r[:-1], False], np.r_[at[1:], 0], f.acct_end[at])
    return at, np.where(score >= threshold, nxt, at)


def reachable(t: Touches, threshold: float) -> np.ndarray:
    """Per touch: can its lead reach ``threshold`` at all? A score is at most the fit plus
    the lead's points above 0 (decay and windows only shrink or drop terms); a lead whose
    bound is below the threshold by more than the rounding of the float sums never is."""
    if t.rank.size == 0:
        return np.zeros(0, dtype=bool)
    starts = np.flatnonzero(np.r_[True, t.rank[1:] != t.rank[:-1]])
    top = np.add.reduceat(np.maximum(t.points, 0.0), starts) + t.fit[starts]
    scale = np.abs(t.points).sum() + np.abs(t.fit).max() + abs(threshold)
    slack = (2 * t.rank.size + 8) * np.finfo(float).eps * scale
    return (top + slack >= threshold)[t.rank]


def best_at(
    f: Frame,
    t: Touches,
    window: float | None,
    half_life: float | None,
    threshold: float,
    at: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """At each event ``at``: the highest score among its account's leads that have touched
    by then and are at or above ``threshold`` (ties: the lowest contact id), and that contact
    (-inf and -1 when none)."""
    first = np.flatnonzero(np.r_[True, t.rank[1:] != t.rank[:-1]]) if t.rank.size else t.rank
    acct = f.account[t.event[first]]  # each lead's account: sorted (leads are by account)
    lo = np.searchsorted(acct, f.account[at], side="left")
    length = np.searchsorted(acct, f.account[at], side="right") - lo
    h = np.repeat(np.arange(at.size), length)
    k = np.arange(h.size) + np.repeat(lo - np.r_[0, np.cumsum(length)[:-1]], length)
    q_time = f.time[at][h]
    seen = t.time[first][k] <= q_time
    h, k, q_time = h[seen], k[seen], q_time[seen]
    score = score_at(t, window, half_life, k, q_time) + t.fit[first][k]
    contact = t.contact[first][k]
    hit = score >= threshold
    h, score, contact = h[hit], score[hit], contact[hit]
    order = np.lexsort((contact, -score, h))
    top = order[np.r_[True, h[order][1:] != h[order][:-1]]] if order.size else order
    best = np.full(at.size, -np.inf)
    who = np.full(at.size, -1, dtype=np.int64)
    best[h[top]] = score[top]
    who[h[top]] = contact[top]
    return best, who
