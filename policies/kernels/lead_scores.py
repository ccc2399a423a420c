"""Per-contact lead scores (the ``mql`` kind): a contact's touches, its score at any time, and
where some contact of an account is at or above a threshold at every event.

Without negative points a contact's score only rises at its own touches and only falls in
between (a touch leaving the window, continuous decay, or never without decay). So the times at
which it is at or above a threshold are a union of intervals, each starting at one of its touch
times and ending at its next touch time or where the score first falls below the threshold;
:func:`holds` finds those ends (a search per touch) and lays the intervals on the account's
events, instead of scoring every contact at every event of its account. Every comparison is
made on the very floats the per-event scoring computes (:func:`score_at`), so the two agree
exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from policies.kernels.frame import Frame
from policies.kernels.search import grouped_searchsorted
from policies.kernels.windows import first_after


class Touches(NamedTuple):
    """Known contacts' touches in (contact, time, event) order."""

    event: np.ndarray  # event index in the frame
    contact: np.ndarray  # contact id
    time: np.ndarray
    points: np.ndarray  # the touch's activity points
    rank: np.ndarray  # the contact's rank (0, 1, ... in contact id order)
    run: np.ndarray  # the contact's score without fit right after the touch (no window)
    fit: np.ndarray  # the contact's fit points


def score_at(
    t: Touches, window: float | None, half_life: float | None, q_rank, q_time
) -> np.ndarray:
    """Each query's contact score (without fit) at time q_time, all its touches at or before
    q_time included (touches in [q_time - window, q_time] with a window)."""
    last = grouped_searchsorted(t.rank, t.time, q_rank, q_time, "right") - 1  # last touch <= t
    if window is not None:
        # Plain sum over [t - W, t]: prefix sums within the contact.
        prefix = np.r_[0.0, np.cumsum(t.points)]
        lo = grouped_searchsorted(t.rank, t.time, q_rank, q_time - window, "left")
        return prefix[last + 1] - prefix[lo]
    if half_life is not None:
        return t.run[last] * 0.5 ** ((q_time - t.time[last]) / half_life)
    return t.run[last]


def holds(
    f: Frame, t: Touches, window: float | None, half_life: float | None, threshold: float
) -> np.ndarray:
    """Per event: is some contact of its account at or above ``threshold`` at its time (the
    same answer as :func:`score_at` at every event from the contact's first touch on)?

    Needs points >= 0 (finite) and each contact's touches in one account. Each contact touch
    time s_i (its last touch at s_i, i) holds the score from the events of s_i to those of the
    contact's next touch time (or the account's end), while the score has not fallen below the
    threshold: an interval of event indices [start, end), each a start of a time tie.
    """
    i = np.flatnonzero(
        np.r_[(t.rank[1:] != t.rank[:-1]) | (t.time[1:] != t.time[:-1]), True]
        if t.rank.size
        else np.zeros(0, dtype=bool)
    )
    ev = t.event[i]
    start = f.tie_start[ev]
    more = np.r_[t.rank[1:] == t.rank[:-1], False][i]  # the contact touches again later
    stop = np.where(more, f.tie_start[t.event[np.minimum(i + 1, t.rank.size - 1)]], f.acct_end[ev])
    if window is not None:
        end = _window_ends(f, t, window, threshold, i, start, stop)
    elif half_life is not None:
        end = _decayed_ends(f, t, half_life, threshold, i, start, stop)
    else:
        end = np.where(t.run[i] + t.fit[i] >= threshold, stop, start)
    keep = end > start
    edges = np.bincount(start[keep], minlength=f.n + 1) - np.bincount(end[keep], minlength=f.n + 1)
    return np.cumsum(edges[: f.n]) > 0


def _window_ends(f: Frame, t: Touches, window: float, threshold: float, i, start, stop):
    """Window: the score at time u (last touch i) is P[i + 1] - P[lo(u)] + fit, lo(u) the
    contact's first touch with s >= u - W. lo(u) only grows with u and the score only falls
    with lo (prefix sums of points >= 0), so it holds while lo(u) <= k, the largest lo at
    which it holds: until touch k leaves the window (never when fit alone holds, k = i + 1)."""
    prefix = np.r_[0.0, np.cumsum(t.points)]
    lo = grouped_searchsorted(t.rank, t.time, t.rank[i], t.time[i] - window, "left")
    live = np.flatnonzero((prefix[i + 1] - prefix[lo]) + t.fit[i] >= threshold)
    end = start.copy()
    end[live] = stop[live]
    i, top, fit = i[live], prefix[i[live] + 1], t.fit[i[live]]
    # k by bisection: the first failing lo in (lo, i + 1], less one (i + 2: none fails).
    a, b = lo[live] + 1, i + 2
    while (a < b).any():
        m = np.flatnonzero(a < b)
        mid = (a[m] + b[m]) // 2
        good = (top[m] - prefix[mid]) + fit[m] >= threshold
        a[m] = np.where(good, mid + 1, a[m])
        b[m] = np.where(good, b[m], mid)
    k = a - 1
    leaves = k <= i
    e, which = t.event[i[leaves]], live[leaves]
    out = first_after(f, t.time[k[leaves]], f.acct_start[e], f.acct_end[e], window)
    end[which] = np.minimum(stop[which], out)
    return end


def _decayed_ends(f: Frame, t: Touches, half_life: float, threshold: float, i, start, stop):
    """Half-life: from the last touch i the score run_i × 0.5^((u - s_i)/h) + fit only falls
    with u; the first event in [start, stop) where it is below the threshold, by bisection on
    the exact score."""
    run, s, fit = t.run[i], t.time[i], t.fit[i]
    a, b = start.copy(), stop.copy()
    while (a < b).any():
        m = np.flatnonzero(a < b)
        mid = (a[m] + b[m]) // 2
        good = run[m] * 0.5 ** ((f.time[mid] - s[m]) / half_life) + fit[m] >= threshold
        a[m] = np.where(good, mid + 1, a[m])
        b[m] = np.where(good, b[m], mid)
    return a


def best_at(
    f: Frame,
    t: Touches,
    window: float | None,
    half_life: float | None,
    threshold: float,
    at: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """At each event ``at``: the highest score among its account's contacts that have touched
    by then and are at or above ``threshold`` (ties: the lowest contact id), and that contact
    (-inf and -1 when none)."""
    first = np.flatnonzero(np.r_[True, t.rank[1:] != t.rank[:-1]]) if t.rank.size else t.rank
    acct = f.account[t.event[first]]
    by = np.argsort(acct, kind="stable")  # contact ranks grouped by account
    lo = np.searchsorted(acct[by], f.account[at], side="left")
    length = np.searchsorted(acct[by], f.account[at], side="right") - lo
    h = np.repeat(np.arange(at.size), length)
    k = by[np.arange(h.size) + np.repeat(lo - np.r_[0, np.cumsum(length)[:-1]], length)]
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
