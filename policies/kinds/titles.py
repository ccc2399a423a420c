"""``weighted_titles``: an account score where each touch counts its activity's weight times
the person's title weight, over a trailing window or decayed (semantics: policies/README.md)."""

from __future__ import annotations

import numpy as np

from policies.kernels.frame import Frame, empty_qualifications, qualifications
from policies.schema import WeightedTitles
from sim.eventlog import EventLog
from sim.vocab import ACTIVITIES


def touch_weights(policy: WeightedTitles, f: Frame) -> np.ndarray:
    """Each event's weight: activity weight x title weight (0 where it does not count)."""
    act_w = np.array([policy.activity_weights.get(a, 0.0) for a in ACTIVITIES])[f.activity]
    title_w = f.title_values(
        [(e.match, e.weight) for e in policy.title_weights],
        policy.default_title_weight,
        anonymous=policy.default_title_weight if policy.include_anonymous else 0.0,
    )
    return act_w * title_w


def titles_score(policy: WeightedTitles, f: Frame) -> np.ndarray:
    """Per event: the account's score at its time (memoised per scoring rule on the Frame, so
    a threshold sweep computes it once)."""
    from policies.kinds.mql import _score_key

    return f.memo(("titles_score", _score_key(policy)), lambda: _titles_score(policy, f))


def _titles_score(policy: WeightedTitles, f: Frame) -> np.ndarray:
    w = touch_weights(policy, f)
    window = policy.window_days
    if window is None and policy.decay.window_days is not None:
        window = policy.decay.window_days  # decay: {window_days: W} is the same as window_days
    if window is not None:
        return f.window_sum(w > 0, window, weights=w)
    return decayed_account_score(f, w, policy.decay.half_life_days)


def evaluate_titles(policy: WeightedTitles, log: EventLog, frame: Frame | None = None):
    """The handoffs of a ``weighted_titles`` policy on ``log``."""
    f = frame if frame is not None else Frame(log)
    if f.n == 0:
        return empty_qualifications()
    score = titles_score(policy, f)
    at = f.handoffs(score >= policy.threshold, policy.recycle_days)
    return qualifications(policy, f, at, "threshold", score[at])


def decayed_account_score(f: Frame, w: np.ndarray, half_life: float) -> np.ndarray:
    """At every event time t: Σ w × 0.5^((t − s)/half_life) over the account's touches at
    times s <= t (all touches at time t included)."""
    sel, after = f.decayed_sum(f.account, w > 0, w, half_life)
    value = np.zeros(f.n)
    value[sel] = after
    marker = np.full(f.n, -1)
    marker[sel] = sel
    last = np.maximum.accumulate(marker)[f.tie_end]  # last weighted touch at or before t
    ok = last >= f.acct_start
    src = np.maximum(last, 0)
    return np.where(ok, value[src] * 0.5 ** ((f.time - f.time[src]) / half_life), 0.0)
