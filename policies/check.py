"""``check_policy``: the conformance checks every policy — built-in or a user's plug-in — must
pass (in the spirit of scikit-learn's ``check_estimator``).

>>> import sim, policies
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 30}}), seed=1)
>>> check_policy(policies.load_policy("mqa_count"), sim.EventLog.from_world(w))
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from policies.evaluation import evaluate
from policies.kernels.output import QUALIFICATION_COLUMNS
from policies.schema import PolicyBase
from sim.eventlog import EventLog


class PolicyCheckError(AssertionError):
    """A policy broke one of the conformance rules."""


def check_policy(policy: PolicyBase, log: EventLog, cuts: int = 5) -> None:
    """Raise :class:`PolicyCheckError` unless ``policy`` on ``log``: returns the qualifications
    columns sorted by (account_id, time); is deterministic; leaves the log untouched; handles an
    empty log; never looks ahead (truncating the log after t changes no handoff at or before t,
    for ``cuts`` cut points)."""
    before = log.events.copy()
    q = evaluate(policy, log)
    if list(q.columns) != QUALIFICATION_COLUMNS:
        raise PolicyCheckError(
            f"{policy.name}: columns {list(q.columns)}, expected {QUALIFICATION_COLUMNS}"
        )
    key = q["account_id"].to_numpy() * 1e9 + q["time"].to_numpy()
    if (np.diff(key) < 0).any():
        raise PolicyCheckError(f"{policy.name}: qualifications not sorted by (account_id, time)")
    if not set(q["account_id"]) <= set(log.events["account_id"]):
        raise PolicyCheckError(f"{policy.name}: hands off accounts that have no events")
    if not q["time"].isin(log.events["time"]).all():
        raise PolicyCheckError(f"{policy.name}: hands off at a time that is not an event time")
    try:
        pd.testing.assert_frame_equal(log.events, before)
    except AssertionError:
        raise PolicyCheckError(f"{policy.name}: modified the input log") from None
    again = evaluate(policy, log)
    try:
        pd.testing.assert_frame_equal(q, again)
    except AssertionError:
        raise PolicyCheckError(f"{policy.name}: not deterministic") from None
    empty = EventLog(log.events.iloc[:0], log.contacts, log.accounts)
    if len(evaluate(policy, empty)):
        raise PolicyCheckError(f"{policy.name}: hands off on an empty log")
    times = np.unique(log.events["time"].to_numpy())
    for t in times[np.linspace(0, len(times) - 1, min(cuts, len(times))).astype(int)]:
        part = evaluate(policy, log.until(float(t))).reset_index(drop=True)
        full = q[q["time"] <= t].reset_index(drop=True)
        try:
            pd.testing.assert_frame_equal(full, part, check_dtype=False)
        except AssertionError:
            raise PolicyCheckError(
                f"{policy.name}: looks ahead — truncating the log after day {t:g} changes its "
                "handoffs at or before that day"
            ) from None
