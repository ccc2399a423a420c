"""``mql``: per-contact lead scores (fit points plus decayed or windowed activity points); the
account is handed off at its first contact whose score reaches the threshold (semantics:
policies/README.md)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from policies import reference
from policies.explain import COLUMNS, Why
from policies.kernels import lead_scores
from policies.kernels.frame import Frame
from policies.kernels.output import empty_qualifications, qualifications
from policies.kernels.scoring import first_matching, score_key
from policies.kernels.search import grouped_searchsorted
from policies.kernels.windows import handoffs, running_decayed
from policies.registry import Kind, register
from policies.schema import Mql
from sim.eventlog import EventLog
from sim.vocab import ACTIVITIES

# Where scores are computed: a contact's own touches (False), every event of its account from
# its first touch on (True), or that only for contacts with a negative-point touch.
Every = bool | Literal["negative"]


def activity_points(policy: Mql) -> np.ndarray:
    """The points of each activity (by index in ``ACTIVITIES``; 0 where not listed)."""
    return np.array([policy.points_for(a) for a in ACTIVITIES])


def fit_points(policy: Mql, f: Frame) -> np.ndarray:
    """Each event's contact's fit points (seniority + department + first matching title)."""
    con = f.log.contacts
    fit = np.zeros(len(con))
    for column, table in (
        ("seniority", policy.fit.seniority),
        ("department", policy.fit.department),
    ):
        if table and column in con.columns:
            fit += con[column].astype(object).map(table).fillna(0.0).to_numpy(float)
    if policy.fit.titles and "title" in con.columns:
        fit += first_matching(
            con["title"].to_numpy(dtype=object),
            [(e.match, e.points) for e in policy.fit.titles],
            0.0,
        )
    return f.per_contact(fit, 0.0).astype(float)


def _touches(policy: Mql, f: Frame) -> lead_scores.Touches:
    """The known contacts' touches in (contact, time, event) order with their points, running
    scores and fit, memoised per scoring rule (see ``score_key``)."""
    return f.memo(("mql_touches", score_key(policy)), lambda: _compute_touches(policy, f))


def _compute_touches(policy: Mql, f: Frame) -> lead_scores.Touches:
    known = np.flatnonzero(f.contact >= 0)
    # Events are in (account, time) order, so a stable sort by contact is the (contact, time,
    # event) order unless a contact's touches go back in time (it touches several accounts).
    order = known[np.argsort(f.contact[known], kind="stable")]
    c, s = f.contact[order], f.time[order]
    if ((s[1:] < s[:-1]) & (c[1:] == c[:-1])).any():
        order = known[np.lexsort((known, f.time[known], f.contact[known]))]
    c, s, p = f.contact[order], f.time[order], activity_points(policy)[f.activity][order]
    crank = np.cumsum(np.r_[True, c[1:] != c[:-1]]) - 1 if c.size else c
    run = _running(policy, crank, s, p) if c.size else np.zeros(0)
    return lead_scores.Touches(order, c, s, p, crank, run, fit_points(policy, f)[order])


def _scores(policy: Mql, f: Frame, every_event: Every):
    """Contact scores at candidate times, memoised per scoring rule (see ``score_key``).
    ``every_event``: False (own touches), True (every event from the first touch on) or
    ``"negative"`` (every event only for contacts with a negative-point touch)."""
    return f.memo(
        ("mql_scores", score_key(policy), every_event),
        lambda: _compute_scores(policy, f, every_event),
    )


def _compute_scores(policy: Mql, f: Frame, every_event: Every):
    """Contact scores at candidate times: (event index, contact, score) per candidate.

    Candidates are the contact's own touch times (a score with points >= 0 peaks there) or,
    with ``every_event``, every event of its account from its first touch on (needed when
    negative points fade or leave the window, and to know the rule at every event).
    """
    t = _touches(policy, f)
    if t.event.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    order, c, s, p, crank = t.event, t.contact, t.time, t.points, t.rank
    if every_event == "negative":
        # Only a contact with a negative touch can see its score rise without touching (a
        # negative contribution fading or leaving the window); the others peak at their own
        # touches, so those suffice to find the first time each contact reaches a threshold.
        neg = np.zeros(crank.max() + 1, dtype=bool)
        neg[crank[p < 0]] = True
        pr, pt, pe = _pairs(f, c, s, crank)
        keep = neg[pr]
        own = ~neg[crank]
        q_rank = np.r_[pr[keep], crank[own]]
        q_time = np.r_[pt[keep], s[own]]
        q_event = np.r_[pe[keep], order[own]]
    elif every_event:
        q_rank, q_time, q_event = _pairs(f, c, s, crank)
    else:
        q_rank, q_time, q_event = crank, s, order
    row = np.searchsorted(crank, q_rank)
    window, half_life = _decay(policy)
    score = lead_scores.score_at(t, window, half_life, q_rank, q_time) + t.fit[row]
    return f.tie_start[q_event], c[row], score


def _decay(policy: Mql) -> tuple[float | None, float | None]:
    """(window_days, half_life_days) of the policy's decay (None: not that kind of decay)."""
    d = policy.decay
    return (None, None) if d is None else (d.window_days, d.half_life_days)


def _intervals_apply(policy: Mql, f: Frame) -> bool:
    """Can :func:`lead_scores.holds` give the rule at every event: no points below 0 (nor
    infinite or NaN) and each contact's touches in one account (as ``_pairs`` assumes)?"""
    if not all(np.isfinite(v) and v >= 0 for v in policy.points.values()):
        return False
    t = _touches(policy, f)
    acct = f.account[t.event]
    return not ((acct[1:] != acct[:-1]) & (t.rank[1:] == t.rank[:-1])).any()


def evaluate_mql(policy: Mql, log: EventLog, frame: Frame | None = None) -> pd.DataFrame:
    """The handoffs of an ``mql`` policy on ``log``."""
    f = frame if frame is not None else Frame(log)
    if policy.recycle_days is not None and _intervals_apply(policy, f):
        # Recycling needs the rule at every event: from the intervals where each contact is at
        # or above the threshold; the contact and score only at the handoffs.
        at = handoffs(f, mql_holds(policy, f), policy.recycle_days)
        if at.size == 0:
            return empty_qualifications()
        window, half_life = _decay(policy)
        t = _touches(policy, f)
        best, who = lead_scores.best_at(f, t, window, half_life, policy.threshold, at)
        return qualifications(policy, f, at, "threshold", best, contact=who)
    negative = min(policy.points.values(), default=0.0) < 0
    # Recycling needs the rule at every event (the next handoff may come at any event after
    # the recycle period); a first handoff only needs each contact's candidate peaks.
    every: Every = True if policy.recycle_days is not None else ("negative" if negative else False)
    ev, contact, score = _scores(policy, f, every)
    hit = score >= policy.threshold
    if not hit.any():
        return empty_qualifications()
    ev, contact, score = ev[hit], contact[hit], score[hit]
    holds = np.zeros(f.n, dtype=bool)
    holds[ev] = True
    # The highest-scoring contact at each handoff time (ties: lowest id).
    best_first = np.lexsort((contact, -score, ev))
    first = best_first[np.r_[True, ev[best_first][1:] != ev[best_first][:-1]]]
    best = np.full(f.n, -np.inf)
    who = np.full(f.n, -1, dtype=np.int64)
    best[ev[first]] = score[first]
    who[ev[first]] = contact[first]
    at = handoffs(f, holds, policy.recycle_days)
    return qualifications(policy, f, at, "threshold", best[at], contact=who[at])


def mql_holds(policy: Mql, f: Frame) -> np.ndarray:
    """Per event: does some contact of the account have a score >= threshold at its time?"""
    if _intervals_apply(policy, f):
        window, half_life = _decay(policy)
        return lead_scores.holds(f, _touches(policy, f), window, half_life, policy.threshold)
    return _pair_holds(policy, f)


def _pair_holds(policy: Mql, f: Frame) -> np.ndarray:
    """:func:`mql_holds` from every contact's score at every event of its account from its
    first touch on (any points)."""
    ev, _, score = _scores(policy, f, every_event=True)
    holds = np.zeros(f.n, dtype=bool)
    holds[ev[score >= policy.threshold]] = True
    return holds[f.tie_start]  # within a time tie every event sees the same state


def _running(policy: Mql, crank, s, p) -> np.ndarray:
    """Per touch (in contact, time order): the contact's score without fit right after it."""
    first = np.r_[True, crank[1:] != crank[:-1]]
    if policy.decay is not None and policy.decay.half_life_days is not None:
        return running_decayed(first, s, p, policy.decay.half_life_days)
    cum = np.cumsum(p)
    base = np.repeat(cum[first] - p[first], np.diff(np.r_[np.flatnonzero(first), s.size]))
    return cum - base


def _pairs(f: Frame, c, s, crank):
    """(contact rank, time, event index) for every event of each contact's account at or after
    the contact's first touch (vectorised: one block of event indices per contact)."""
    first = np.r_[True, crank[1:] != crank[:-1]]
    t0 = s[first]
    con_acct = pd.Series(f.account).groupby(f.contact).first()
    accounts = con_acct.reindex(c[first]).to_numpy(np.int64)
    group = f.account.astype(np.int64)
    lo = grouped_searchsorted(group, f.time, accounts, t0, "left")  # first event at or after t0
    hi = np.searchsorted(group, accounts, side="right")
    length = hi - lo
    total = int(length.sum())
    ranks = np.repeat(np.arange(t0.size), length)
    events = np.arange(total) + np.repeat(lo - np.r_[0, np.cumsum(length)[:-1]], length)
    return ranks, f.time[events], events


def explain_mql(policy: Mql, f: Frame, mine: pd.DataFrame, row: pd.Series) -> Why:
    """The scoring contact's touches up to the handoff, with their points (decayed or in the
    window), and its fit points."""
    t = float(row["time"])
    c = int(row["contact_id"])
    touches = mine[(mine["contact_id"] == c) & (mine["time"] <= t)].copy()
    raw = activity_points(policy)[[ACTIVITIES.index(a) for a in touches["activity"].astype(str)]]
    d = policy.decay
    if d is not None and d.half_life_days is not None:
        raw = raw * 0.5 ** ((t - touches["time"].to_numpy()) / d.half_life_days)
    elif d is not None and d.window_days is not None:
        raw = np.where(touches["time"].to_numpy() >= t - d.window_days, raw, 0.0)
    touches["points"] = raw
    fit = fit_points(policy, f)[touches["_i"]].max() if len(touches) else 0.0
    note = (
        f"contact {c}: fit {fit:g} + touch points {raw.sum():g} = {row['score']:g} "
        f">= threshold {policy.threshold:g} at day {t:g}"
    )
    lo = float(touches["time"].min()) if len(touches) else t
    return Why(row, (lo, t), touches[[*COLUMNS, "points"]].reset_index(drop=True), note)


KIND = register(
    Kind(
        "mql",
        Mql,
        evaluate_mql,
        holds=mql_holds,
        reference=reference.evaluate,
        explain=explain_mql,
        thresholds=lambda policy: ["threshold"],
    )
)
