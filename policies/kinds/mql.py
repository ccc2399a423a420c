"""``mql``: per-contact lead scores (fit points plus decayed or windowed activity points); the
account is handed off at its first contact whose score reaches the threshold (semantics:
policies/README.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from policies import reference
from policies.explain import COLUMNS, Why
from policies.kernels import lead_scores
from policies.kernels.frame import Frame
from policies.kernels.output import empty_qualifications, qualifications
from policies.kernels.scoring import first_matching, score_key
from policies.kernels.windows import handoffs, running_decayed
from policies.registry import Kind, register
from policies.schema import Mql
from sim.eventlog import EventLog
from sim.vocab import ACTIVITIES


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
    """The known contacts' touches grouped by lead ((account, contact) pair) in time order, with
    their points, running scores and fit, memoised per scoring rule (see ``score_key``)."""
    return f.memo(("mql_touches", score_key(policy)), lambda: _compute_touches(policy, f))


def _compute_touches(policy: Mql, f: Frame) -> lead_scores.Touches:
    known = np.flatnonzero(f.contact >= 0)
    # Events are in (account, time) order, so a stable sort by (account, contact) is the
    # (account, contact, time, event) order: one integer key where it fits, else a lexsort.
    c, r = f.contact[known], f.rank[known]
    width = int(c.max()) + 1 if c.size else 1
    if c.size and int(r[-1]) < np.iinfo(np.int64).max // width:
        order = known[np.argsort(r * width + c, kind="stable")]
    else:
        order = known[np.lexsort((c, r))]
    c, s, p = f.contact[order], f.time[order], activity_points(policy)[f.activity][order]
    r = f.rank[order]
    lead = np.r_[True, (c[1:] != c[:-1]) | (r[1:] != r[:-1])] if c.size else np.zeros(0, bool)
    rank = np.cumsum(lead) - 1
    run = _running(policy, lead, s, p) if c.size else np.zeros(0)
    return lead_scores.Touches(order, c, s, p, rank, run, fit_points(policy, f)[order])


def _decay(policy: Mql) -> tuple[float | None, float | None]:
    """(window_days, half_life_days) of the policy's decay (None: not that kind of decay)."""
    d = policy.decay
    return (None, None) if d is None else (d.window_days, d.half_life_days)


def evaluate_mql(policy: Mql, log: EventLog, frame: Frame | None = None) -> pd.DataFrame:
    """The handoffs of an ``mql`` policy on ``log``."""
    f = frame if frame is not None else Frame(log)
    window, half_life = _decay(policy)
    t = _touches(policy, f)
    if policy.recycle_days is None and min(policy.points.values(), default=0.0) >= 0:
        # A first handoff without points below 0: a lead's score only rises at its own
        # touches, so it first reaches the threshold at one of them.
        return _first_at_touches(policy, f, t, window, half_life)
    # Otherwise the rule at every event (the next handoff may come at any event after the
    # recycle period; a score with points below 0 can rise without a touch), from the
    # intervals where each lead holds; the contact and score only at the handoffs.
    at = handoffs(f, mql_holds(policy, f), policy.recycle_days)
    if at.size == 0:
        return empty_qualifications()
    best, who = lead_scores.best_at(f, t, window, half_life, policy.threshold, at)
    return qualifications(policy, f, at, "threshold", best, contact=who)


def _first_at_touches(policy: Mql, f: Frame, t, window, half_life) -> pd.DataFrame:
    """Each account's first handoff from its leads' scores at their own touch times (points
    >= 0, no recycling): the highest-scoring lead there (ties: the lowest contact id)."""
    score = f.memo(  # shared by a threshold sweep (see ``score_key``)
        ("mql_touch_scores", score_key(policy)),
        lambda: lead_scores.score_at_touches(t, window, half_life) + t.fit,
    )
    hit = np.flatnonzero(score >= policy.threshold)
    if hit.size == 0:
        return empty_qualifications()
    ev, contact, score = f.tie_start[t.event[hit]], t.contact[hit], score[hit]
    at = np.unique(ev)  # events at one time share a score, so tie starts suffice
    holds = np.zeros(f.n, dtype=bool)
    holds[at] = True
    at = handoffs(f, holds, None)
    pick = np.lexsort((contact, -score, ev))
    top = pick[np.r_[True, ev[pick][1:] != ev[pick][:-1]]]  # the best at each time
    row = top[np.searchsorted(ev[top], at)]
    return qualifications(policy, f, at, "threshold", score[row], contact=contact[row])


def mql_holds(policy: Mql, f: Frame) -> np.ndarray:
    """Per event: does some lead of the account have a score >= threshold at its time?"""
    window, half_life = _decay(policy)
    return lead_scores.holds(f, _touches(policy, f), window, half_life, policy.threshold)


def _running(policy: Mql, first, s, p) -> np.ndarray:
    """Per touch (grouped by lead, ``first`` marking each lead's first): the lead's score
    without fit right after it."""
    if policy.decay is not None and policy.decay.half_life_days is not None:
        return running_decayed(first, s, p, policy.decay.half_life_days)
    cum = np.cumsum(p)
    base = np.repeat(cum[first] - p[first], np.diff(np.r_[np.flatnonzero(first), s.size]))
    return cum - base


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
        f"fit {fit:g} + touch points {raw.sum():g} = {row['score']:g} "
        f">= threshold {policy.threshold:g}"
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
