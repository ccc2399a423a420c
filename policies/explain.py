"""Why and when did an account qualify? The touches behind each handoff, by contact and
activity (``qualsim explain``).

For every handoff of the account it lists the touches that the rule looked at, at the moment it
held; what that means is up to the policy's kind (its ``explain`` in :mod:`policies.registry`):
for ``mqa_count`` and ``stages`` the counting touches in the window of the condition that fired
(each stage's entry, for ``stages``); for ``weighted_titles`` the weighted touches in the
window with their weights; for ``mql`` the scoring contact's touches with their points, decayed
to the handoff.

>>> import sim, policies
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 40}}), seed=2)
>>> log = sim.EventLog.from_world(w)
>>> p = policies.load_policy("mqa_count")
>>> q = policies.evaluate(p, log)
>>> ex = explain(p, log, int(q["account_id"].iloc[0]))
>>> bool(len(ex) == (q["account_id"] == q["account_id"].iloc[0]).sum())
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from policies.evaluation import evaluate
from policies.kernels.conditions import counting_masks
from policies.kernels.frame import Frame
from policies.kernels.views import policy_view
from policies.registry import kind_of
from policies.schema import Condition, PolicyBase
from sim.eventlog import EventLog

COLUMNS = ["time", "contact_id", "title", "activity"]  # of every explanation's touches


def on_day(t: float) -> str:
    """A time in days since the log's start, labelled: ``on_day(3.5) == "day 3.5"``."""
    return f"day {t:g}"


@dataclass(frozen=True)
class Why:
    """One handoff and the touches behind it.

    ``note`` says what held, without the handoff's time (that is ``handoff["time"]``);
    ``steps`` are the other moments it names, e.g. each stage's entry, as (what, time in days).
    :meth:`describe` renders both with one convention for times: ``day N`` in a simulated
    world, the export's timestamps in ``qualsim explain``.
    """

    handoff: pd.Series  # the qualifications row
    window: tuple[float, float]  # the span of time the rule looked at
    touches: pd.DataFrame  # time, contact_id, title, activity, and weight/points where relevant
    note: str
    steps: tuple[tuple[str, float], ...] = ()

    def describe(self, when: Callable[[float], str] = on_day) -> str:
        """The note with its steps, each time written by ``when`` (days → text).

        >>> row = pd.Series({"time": 9.0})
        >>> w = Why(row, (0.0, 9.0), pd.DataFrame(), "entered", (("lead", 2.0), ("sql", 9.0)))
        >>> w.describe()
        'entered lead at day 2, then sql at day 9'
        >>> w.describe(lambda t: f"t+{t:g}")
        'entered lead at t+2, then sql at t+9'
        """
        steps = ", then ".join(f"{what} at {when(t)}" for what, t in self.steps)
        return f"{self.note} {steps}" if steps else self.note

    def by_contact(self) -> pd.DataFrame:
        """Touches per contact and activity (the multi-threading at a glance)."""
        t = self.touches
        if t.empty:
            return pd.DataFrame()
        return t.assign(
            contact=t["contact_id"].astype(str) + " " + t["title"].astype(str)
        ).pivot_table(
            index="contact",
            columns="activity",
            values="time",
            aggfunc="count",
            fill_value=0,
            observed=True,
        )


def explain(policy: PolicyBase, log: EventLog, account_id: int) -> list[Why]:
    """The handoffs of ``account_id`` under ``policy`` with the touches behind each."""
    return explain_accounts(policy, log, [account_id])[account_id]


def explain_accounts(
    policy: PolicyBase, log: EventLog, accounts: Iterable[int]
) -> dict[int, list[Why]]:
    """:func:`explain` for many accounts, evaluating the policy once."""
    log, frame = policy_view(policy, log)  # what the policy sees (sales touches or not)
    q = evaluate(policy, log, frame)
    return {a: _explain_account(policy, frame, q, a) for a in accounts}


def _explain_account(policy: PolicyBase, frame: Frame, q: pd.DataFrame, account_id: int):
    rows = q[q["account_id"] == account_id]
    if rows.empty:
        return []
    why = kind_of(policy).explain
    if why is None:
        raise TypeError(f"explain does not know policy kind {policy.kind!r}")
    ev = frame.log.events
    idx = np.flatnonzero(ev["account_id"].to_numpy() == account_id)
    mine = ev.iloc[idx].copy()
    mine["title"] = frame.contact_values("title")[idx]
    mine["_i"] = idx
    return [why(policy, frame, mine, row) for _, row in rows.iterrows()]


def counted_touches(
    mine: pd.DataFrame,
    frame: Frame,
    cond: Condition,
    window: float | None,
    activities: Sequence[str],
    include_anonymous: bool,
    t: float,
) -> pd.DataFrame:
    """The touches of ``mine`` (an account's events) that ``cond`` counted in its window ending
    at ``t`` (``window``, ``activities``, ``include_anonymous``: the policy's defaults): every
    counting touch where it asks for ``min_activities``, and the touches of the contacts it
    counted toward ``unique_contacts`` (those with ``min_touches_per_contact`` of them)."""
    people, touches = counting_masks(frame, cond, window, activities, include_anonymous)
    win = cond.window_days if cond.window_days is not None else window
    assert win is not None, "the schema gives every condition a window"
    i = mine["_i"].to_numpy()
    inside = in_window(mine, t - win, t)
    counted = touches[i] & inside if cond.min_activities else np.zeros(len(mine), dtype=bool)
    if cond.unique_contacts:
        who = people[i] & inside
        contact = mine["contact_id"].to_numpy()
        ids, n = np.unique(contact[who], return_counts=True)
        counted |= who & np.isin(contact, ids[n >= cond.min_touches_per_contact])
    return mine[counted]


def in_window(mine: pd.DataFrame, lo: float, t: float) -> np.ndarray:
    """Per touch of ``mine``: is its time in [lo, t]?"""
    return ((mine["time"] >= lo) & (mine["time"] <= t)).to_numpy()
