"""``weighted_titles``: an account score where each touch counts its activity's weight times
the person's title weight, over a trailing window or decayed (semantics: policies/README.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from policies import reference
from policies.explain import COLUMNS, Why, in_window
from policies.kernels.frame import Frame
from policies.kernels.output import empty_qualifications, qualifications
from policies.kernels.scoring import score_key
from policies.kernels.windows import decayed_sum, handoffs, window_sum
from policies.registry import Kind, register
from policies.schema import WeightedTitles
from sim.eventlog import EventLog
from sim.vocab import ACTIVITIES


def touch_weights(policy: WeightedTitles, f: Frame) -> np.ndarray:
    """Each event's weight: activity weight x title weight (0 where it does not count)."""
    act_w = np.array([policy.weight_for(a) for a in ACTIVITIES])[f.activity]
    title_w = f.title_values(
        [(e.match, e.weight) for e in policy.title_weights],
        policy.default_title_weight,
        anonymous=policy.default_title_weight if policy.include_anonymous else 0.0,
    )
    return act_w * title_w


def window_of(policy: WeightedTitles) -> float | None:
    """The trailing window of the score (``decay: {window_days: W}`` is the same as
    ``window_days: W``); None: decayed by a half-life."""
    if policy.window_days is not None:
        return policy.window_days
    return policy.decay.window_days if policy.decay is not None else None


def half_life_of(policy: WeightedTitles) -> float:
    """The half-life of a decayed score (the schema gives one when there is no window)."""
    assert policy.decay is not None and policy.decay.half_life_days is not None
    return policy.decay.half_life_days


def titles_score(policy: WeightedTitles, f: Frame) -> np.ndarray:
    """Per event: the account's score at its time (memoised per scoring rule on the Frame, so
    a threshold sweep computes it once)."""
    return f.memo(("titles_score", score_key(policy)), lambda: _titles_score(policy, f))


def _titles_score(policy: WeightedTitles, f: Frame) -> np.ndarray:
    w = touch_weights(policy, f)
    window = window_of(policy)
    if window is not None:
        return window_sum(f, w > 0, window, weights=w)
    return decayed_account_score(f, w, half_life_of(policy))


def evaluate_titles(
    policy: WeightedTitles, log: EventLog, frame: Frame | None = None
) -> pd.DataFrame:
    """The handoffs of a ``weighted_titles`` policy on ``log``."""
    f = frame if frame is not None else Frame(log)
    if f.n == 0:
        return empty_qualifications()
    score = titles_score(policy, f)
    at = handoffs(f, score >= policy.threshold, policy.recycle_days)
    return qualifications(policy, f, at, "threshold", score[at])


def decayed_account_score(f: Frame, w: np.ndarray, half_life: float) -> np.ndarray:
    """At every event time t: Σ w × 0.5^((t − s)/half_life) over the account's touches at
    times s <= t (all touches at time t included)."""
    sel, after = decayed_sum(f, f.account, w > 0, w, half_life)
    value = np.zeros(f.n)
    value[sel] = after
    marker = np.full(f.n, -1)
    marker[sel] = sel
    last = np.maximum.accumulate(marker)[f.tie_end]  # last weighted touch at or before t
    ok = last >= f.acct_start
    src = np.maximum(last, 0)
    return np.where(ok, value[src] * 0.5 ** ((f.time - f.time[src]) / half_life), 0.0)


def explain_titles(policy: WeightedTitles, f: Frame, mine: pd.DataFrame, row: pd.Series) -> Why:
    """The weighted touches in the window (or every earlier one, decayed to the handoff)."""
    t = float(row["time"])
    w = touch_weights(policy, f)[mine["_i"]]
    win = window_of(policy)
    if win is not None:
        sel = in_window(mine, t - win, t) & (w > 0)
        touches = mine[sel].assign(weight=w[sel])
        lo = t - win
    else:
        sel = (mine["time"] <= t).to_numpy() & (w > 0)
        decay = 0.5 ** ((t - mine.loc[sel, "time"]) / half_life_of(policy))
        touches = mine[sel].assign(weight=w[sel] * decay)
        lo = float(mine["time"].min())
    note = f"score {touches['weight'].sum():g} >= threshold {policy.threshold:g}"
    return Why(row, (lo, t), touches[[*COLUMNS, "weight"]].reset_index(drop=True), note)


KIND = register(
    Kind(
        "weighted_titles",
        WeightedTitles,
        evaluate_titles,
        holds=lambda policy, f: titles_score(policy, f) >= policy.threshold,
        reference=reference.evaluate,
        explain=explain_titles,
        thresholds=lambda policy: ["threshold"],
    )
)
