"""What a policy sees of a log: never the system events (``sim.vocab.SYSTEM_ACTIVITIES``, email
deliveries), not the sales touches (``sim.vocab.SALES_ACTIVITIES``) unless it says
``include_sales_touches``, and not the touches its declared filters (``exclude``,
:mod:`policies.cleaning`) remove; exactly as if the CRM had not logged them. A combinator's
members see what the combinator sees.

The view is built once per frame and per (sales touches, filters) (memoised), so the policies
evaluated on one frame share it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from policies.cleaning import removed, spec
from policies.kernels.frame import Frame, digest
from policies.schema import PolicyBase
from sim.eventlog import EventLog
from sim.vocab import SALES_ACTIVITIES, SYSTEM_ACTIVITIES


def sales_touches(f: Frame) -> np.ndarray:
    """Per event of ``f``: is it a sales touch? (Memoised, read-only.)"""
    return f.activity_in(SALES_ACTIVITIES)


def has_sales_touches(f: Frame) -> bool:
    """Does ``f``'s log have a sales touch? (From its counts per activity code.)"""
    return f.has_activity(SALES_ACTIVITIES)


def seen(policy: PolicyBase, f: Frame) -> np.ndarray | None:
    """Per event of ``f``: does ``policy`` see it (``None``: it sees every event)?"""
    system, sales = f.has_activity(SYSTEM_ACTIVITIES), has_sales_touches(f)
    sales = sales and not policy.include_sales_touches
    if not (system or sales or policy.exclude):
        return None
    key = ("seen", sales, system, spec(policy.exclude))
    return f.memo(key, lambda: _seen(policy, f, sales, system))


def _seen(policy: PolicyBase, f: Frame, sales: bool, system: bool) -> np.ndarray:
    base = np.ones(f.n, dtype=bool)
    if system:
        base &= ~f.activity_in(SYSTEM_ACTIVITIES)
    if sales:
        base &= ~sales_touches(f)
    out = base.copy()
    for rule in policy.exclude:  # each filter looks at the unfiltered touches
        out &= ~removed(rule, f, base)
    return out


def view_frame(policy: PolicyBase, f: Frame) -> tuple[Frame, np.ndarray | None]:
    """(the frame of what ``policy`` sees of ``f``'s log, which events of ``f`` it keeps):
    ``(f, None)`` when it sees every event."""
    keep = seen(policy, f)
    if keep is None or keep.all():
        return f, None
    return f.memo(("view", digest(keep)), lambda: _view(policy, f, keep)), keep


def _view(policy: PolicyBase, f: Frame, keep: np.ndarray) -> Frame:
    """The frame of the events of ``f`` in ``keep``. The policy sees every event of it: it has
    no system event, no sales touch the policy ignores, and its filters remove nothing more
    (a kept touch had at most K touches in its burst window among more touches; no delivery
    is left; every account is known), so evaluating on it does not filter again."""
    v = Frame(subset(f.log, keep))
    v.memo(("seen", False, False, spec(policy.exclude)), lambda: np.ones(v.n, dtype=bool))
    return v


def subset(log: EventLog, keep: np.ndarray) -> EventLog:
    """``log`` with only the events marked in ``keep`` (contacts and accounts unchanged)."""
    return EventLog(log.events[keep], log.contacts, log.accounts)


def policy_view(
    policy: PolicyBase, log: EventLog, frame: Frame | None = None
) -> tuple[EventLog, Frame]:
    """(the log ``policy`` is evaluated on, its frame): ``log`` itself when the policy sees every
    event, else the log without what it does not see. ``frame`` (of ``log``) is reused."""
    f = frame if frame is not None else Frame(log)
    v, _ = view_frame(policy, f)
    return v.log, v


def spread_holds(f: Frame, view: Frame, keep: np.ndarray | None, held: np.ndarray) -> np.ndarray:
    """Per event of ``f``: ``held`` (per event of ``view``, the events of ``f`` in ``keep``) at
    the account's last event of ``view`` at or before that event's time (False before its
    first). A rule changes its answer only at the touches it sees."""
    if keep is None:
        return held
    if view.n == 0:
        return np.zeros(f.n, dtype=bool)
    kept = np.cumsum(keep)  # events of the view up to each event of f
    j = kept[f.tie_end] - 1 if f.n else np.zeros(0, dtype=np.int64)
    ok = j >= 0
    ok[ok] = view.account[j[ok]] == f.account[ok]
    return np.where(ok, np.asarray(held, dtype=bool)[np.maximum(j, 0)], False)


def filter_counts(policy: PolicyBase, log: EventLog, frame: Frame | None = None) -> pd.DataFrame:
    """How many touches each of ``policy``'s declared filters removes from ``log``: one row per
    ``exclude`` entry (``filter``: its label, ``removed``: the touches it removes) and a last
    row ``all filters`` (the touches removed by at least one; filters may overlap). Touches are
    what the policy sees without filters (no system events; sales touches only if included).
    No rows for a policy without filters."""
    f = frame if frame is not None else Frame(log)
    base = seen(policy.model_copy(update={"exclude": []}), f)
    base = np.ones(f.n, dtype=bool) if base is None else base
    rows, gone = [], np.zeros(f.n, dtype=bool)
    for i, rule in enumerate(policy.exclude):
        r = removed(rule, f, base)
        gone |= r
        rows.append((policy.name, f"exclude.{i}", rule.label(), int(r.sum())))
    if rows:
        rows.append((policy.name, "exclude", "all filters", int(gone.sum())))
    out = pd.DataFrame(rows, columns=["policy", "field", "filter", "removed"])
    return out.astype({"removed": "int64"})
