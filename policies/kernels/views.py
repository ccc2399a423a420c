"""What a policy sees of a log: without ``include_sales_touches`` a policy is evaluated on the
log without its sales touches (``sim.vocab.SALES_ACTIVITIES``), exactly as if the CRM had not
logged them; with it, on the whole log. A combinator's members see what the combinator sees.

The view is built once per frame (memoised), so the policies evaluated on one frame share it.
"""

from __future__ import annotations

import numpy as np

from policies.kernels.frame import Frame, allowed_codes
from policies.schema import PolicyBase
from sim.eventlog import EventLog
from sim.vocab import SALES_ACTIVITIES


def sales_touches(f: Frame) -> np.ndarray:
    """Per event of ``f``: is it a sales touch? (Memoised, read-only.)"""
    return f.activity_in(SALES_ACTIVITIES)


def has_sales_touches(f: Frame) -> bool:
    """Does ``f``'s log have a sales touch? (Cheap when no activity code names one.)"""
    _, table = f.activity_codes
    if not f.n or not allowed_codes(table, SALES_ACTIVITIES).any():
        return False
    return f.memo(("has_sales_touches",), lambda: bool(sales_touches(f).any()))


def marketing_frame(f: Frame) -> Frame:
    """The frame of ``f``'s log without its sales touches (``f`` itself when it has none)."""
    if not has_sales_touches(f):
        return f
    return f.memo(("marketing_frame",), lambda: Frame(without_sales(f.log, sales_touches(f))))


def without_sales(log: EventLog, sales: np.ndarray) -> EventLog:
    """``log`` without the events marked in ``sales`` (contacts and accounts unchanged)."""
    return EventLog(log.events[~sales], log.contacts, log.accounts)


def policy_view(
    policy: PolicyBase, log: EventLog, frame: Frame | None = None
) -> tuple[EventLog, Frame]:
    """(the log ``policy`` is evaluated on, its frame): ``log`` itself when the policy includes
    sales touches or the log has none, else the log without them. ``frame`` (of ``log``) is
    reused when given."""
    f = frame if frame is not None else Frame(log)
    if policy.include_sales_touches:
        return log, f
    v = marketing_frame(f)
    return v.log, v


def spread_holds(f: Frame, view: Frame, held: np.ndarray) -> np.ndarray:
    """Per event of ``f``: ``held`` (per event of ``view``, ``f`` without its sales touches) at
    the account's last event of ``view`` at or before that event's time (False before its
    first). A rule that ignores sales touches changes its answer only at the touches it sees."""
    if view is f:
        return held
    if view.n == 0:
        return np.zeros(f.n, dtype=bool)
    seen = np.cumsum(~sales_touches(f))  # events of the view up to each event of f
    j = seen[f.tie_end] - 1 if f.n else np.zeros(0, dtype=np.int64)
    ok = j >= 0
    ok[ok] = view.account[j[ok]] == f.account[ok]
    return np.where(ok, np.asarray(held, dtype=bool)[np.maximum(j, 0)], False)
