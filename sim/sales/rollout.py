"""Rolling a rule out: the go-live backlog and the scoring cadence, between ``policies.evaluate``
and the sales side.

:func:`apply_rollout` turns a policy's qualifications (the rule always live, scored at every
event) into the handoffs a team that switches the rule on at ``go_live_day`` and scores on a
schedule (the scenario's ``rollout:`` section, :class:`sim.world.rollout.Rollout`) would make.
The rule itself comes from ``policies.holds`` (per event, account level), so it is exactly the
rule that ``evaluate`` applies:

- **Before go-live** (day G) nothing is handed off. **At G** the rule sees the whole history: an
  account whose rule holds at its last event at or before G fires at G (the *backlog*). An
  account that was over the bar earlier but is not at G is not in the backlog.
- **After G** the rule runs as ``evaluate`` does, from a clean slate: an account not in the
  backlog is handed off at its first event after G where the rule holds, and with
  ``recycle_days`` R again at the first such event at least R after its previous handoff (a
  backlog account's chain starts at G). A policy that ignores sales touches is evaluated only at
  its other events, as ``evaluate`` does. So with G before every event the handoffs are
  ``evaluate``'s.
- **The backlog** is handed over as the rollout says: ``all`` at G; ``drain`` N a week, the
  k-th (0-based) at ``G + 7 * (k // N)`` in order of tier (1 first, unknown last), then of the
  time the account's current stretch over the bar began (longest waiting first), then account
  id; ``new_only`` never (the rule still fired at G, so a recycling chain starts there).
- **Who, which clause, what score.** Every rule fires per account, lead-level ones (``mql``)
  too. A firing that ``evaluate`` also makes keeps its row. A backlog firing, or a re-crossing
  after G that the always-live rule did not hand off, takes the person, ``rule``, ``score`` and
  ``stage`` of the account's latest real-time handoff before it: for a lead-level rule the
  person whose score last put the account over the bar (who may have cooled since).
- **Cadence**: every handoff (backlog included) waits for the next scoring run at or after its
  time (runs at ``offset + k * period`` days; day 0 is Monday 00:00), then ``sync_delay_hours``:
  a run hands over every account whose rule fired since the previous run. It is never earlier
  than real-time and at most one period plus the delay later. Handoffs pushed past ``until``
  (the horizon) are dropped.

A plug-in kind without ``holds`` cannot say where its rule holds: a go-live is a clear error
for it (a cadence alone only moves its handoffs). :func:`reference_fired` is the slow,
obviously-correct loop the vectorised :func:`go_live_fired` is tested against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

import policies as pol
from sim.errors import ConfigError, QualsimError
from sim.eventlog import EventLog
from sim.tables import QUALIFICATIONS
from sim.vocab import SALES_ACTIVITIES
from sim.world.rollout import Rollout


@dataclass(frozen=True)
class Fired:
    """Where a rule fires once live: per firing, the account, the time (G for the backlog),
    the event whose state it hands over, whether it is backlog, and for the backlog when the
    account's current stretch over the bar began."""

    account: np.ndarray
    time: np.ndarray
    event: np.ndarray
    backlog: np.ndarray
    crossed: np.ndarray


def _stretch_start(account: np.ndarray, holds: np.ndarray) -> np.ndarray:
    """Per event: the index where the account's current run of holding events began (the
    event's own index + 1 where it does not hold)."""
    n = account.size
    idx = np.arange(n, dtype=np.int64)
    first = np.ones(n, dtype=bool)
    first[1:] = account[1:] != account[:-1]
    start_of_acc = np.maximum.accumulate(np.where(first, idx, 0))
    return np.maximum.accumulate(np.maximum(np.where(holds, 0, idx + 1), start_of_acc))


def go_live_fired(
    account: np.ndarray,
    time: np.ndarray,
    holds: np.ndarray,
    eligible: np.ndarray,
    go_live: float,
    recycle_days: float | None,
) -> Fired:
    """The firings of a rule that goes live at ``go_live`` (see the module doc), from per-event
    arrays sorted by (account, time): ``holds`` the rule, ``eligible`` the events it is
    evaluated at (False at sales touches for a policy that ignores them). Vectorised: one
    pass per handoff of the busiest account's recycling chain."""
    n = account.size
    if n == 0:
        return _fired([], [], [], [], [])
    last = np.ones(n, dtype=bool)
    last[:-1] = account[1:] != account[:-1]
    before = time <= go_live
    # the last event at or before G of each account: before[i] and (i is the account's last
    # event or the next event is after G)
    nxt_after = np.ones(n, dtype=bool)
    nxt_after[:-1] = ~before[1:]
    at_g = np.flatnonzero(before & (last | nxt_after) & holds)
    start = _stretch_start(account, holds)
    backlog_acc = account[at_g]
    parts = [(backlog_acc, np.full(at_g.size, float(go_live)), at_g, True, time[start[at_g]])]
    cand = np.flatnonzero(~before & holds & eligible)
    acc_c, t_c = account[cand], time[cand]
    accounts = np.unique(acc_c)
    allowed = np.full(accounts.size, -np.inf)
    gap = math.inf if recycle_days is None else float(recycle_days)
    allowed[np.isin(accounts, backlog_acc)] = go_live + gap
    slot = np.searchsorted(accounts, acc_c)
    while cand.size:
        ok = t_c >= allowed[slot]
        acc_ok, first = np.unique(acc_c[ok], return_index=True)
        if acc_ok.size == 0:
            break
        pick = np.flatnonzero(ok)[first]
        parts.append((acc_ok, t_c[pick], cand[pick], False, np.full(pick.size, np.nan)))
        allowed[np.searchsorted(accounts, acc_ok)] = t_c[pick] + gap
        keep = t_c >= allowed[slot]  # drop what no later round can pick
        cand, acc_c, t_c, slot = cand[keep], acc_c[keep], t_c[keep], slot[keep]
    return _fired(*zip(*parts, strict=True))


def _fired(accs, times, events, backlog, crossed) -> Fired:
    """A :class:`Fired` from parts (lists of arrays; ``backlog``: a flag or an array per
    part), sorted by (account, time)."""

    def cat(parts, dtype) -> np.ndarray:
        return np.concatenate([np.zeros(0, dtype)] + [np.asarray(x, dtype) for x in parts])

    a, t, e, c = (
        cat(accs, np.int64),
        cat(times, np.float64),
        cat(events, np.int64),
        cat(crossed, np.float64),
    )
    b = cat([np.broadcast_to(f, np.shape(x)) for x, f in zip(accs, backlog, strict=True)], bool)
    order = np.lexsort((t, a))
    return Fired(a[order], t[order], e[order], b[order], c[order])


def reference_fired(account, time, holds, eligible, go_live, recycle_days) -> Fired:
    """:func:`go_live_fired` as a plain loop over accounts and their events."""
    gap = math.inf if recycle_days is None else recycle_days
    found = []  # (account, time, event, backlog, crossed)
    for a in np.unique(account):
        idx = [int(i) for i in np.flatnonzero(account == a)]
        pre = [i for i in idx if time[i] <= go_live]
        allowed = -math.inf
        if pre and holds[pre[-1]]:
            run = pre[-1]  # walk back to where the account's stretch over the bar began
            while run - 1 in pre and holds[run - 1]:
                run -= 1
            found.append((a, go_live, pre[-1], True, time[run]))
            allowed = go_live + gap
        for i in idx:
            if time[i] > go_live and holds[i] and eligible[i] and time[i] >= allowed:
                found.append((a, time[i], i, False, math.nan))
                allowed = time[i] + gap
    if not found:
        return _fired([], [], [], [], [])
    a_, t_, e_, b_, c_ = zip(*found, strict=True)
    return _fired([a_], [t_], [e_], [np.array(b_)], [c_])


def backlog_times(fired: Fired, tier: np.ndarray, rollout: Rollout) -> np.ndarray:
    """The handoff time of each firing once the backlog is scheduled (NaN: never handed over).
    ``tier`` per firing (NaN where unknown)."""
    t = fired.time.astype(np.float64).copy()
    b = np.flatnonzero(fired.backlog)
    if rollout.backlog == "new_only":
        t[b] = np.nan
    elif rollout.backlog == "drain" and b.size:
        tr = np.where(np.isnan(tier[b]), np.inf, tier[b])
        order = b[np.lexsort((fired.account[b], fired.crossed[b], tr))]
        per_week = rollout.drain_per_week or 1
        t[order] = t[order] + 7.0 * (np.arange(order.size) // per_week)
    return t


def snap(t: np.ndarray, period: float, offset: float, delay_days: float = 0.0) -> np.ndarray:
    """Each time moved to the first scoring run at or after it (runs at ``offset + k *
    period``), plus ``delay_days``."""
    runs = offset + np.ceil((t - offset) / period) * period
    runs = np.where(runs < t, runs + period, runs)  # rounding must never move a handoff earlier
    return runs + delay_days


def apply_rollout(
    qualifications: pd.DataFrame,
    log: EventLog,
    frame: pol.Frame | None,
    policy: pol.PolicyBase,
    rollout: Rollout,
    until: float | None = None,
) -> pd.DataFrame:
    """``policy``'s handoffs under ``rollout`` (see the module doc): the columns of
    ``qualifications`` (``evaluate``'s output on ``log``), sorted by (account_id, time). The
    default rollout returns ``qualifications`` unchanged."""
    if rollout.is_identity:
        return qualifications
    g = rollout.go_live_day
    if until is not None and g is not None and g >= until:
        raise ConfigError(
            f"rollout.go_live_day: day {g:g} is not before the end of the horizon ({until:g} "
            "days): nothing would ever be handed off"
        )
    q = qualifications
    if rollout.go_live_day is not None:
        q = _go_live(q, log, frame if frame is not None else pol.Frame(log), policy, rollout)
    if rollout.run_times is not None or rollout.sync_delay_hours:
        period, offset = rollout.run_times or (math.inf, 0.0)
        t = q["time"].to_numpy(np.float64)
        delay = rollout.sync_delay_hours / 24.0
        q = q.assign(time=snap(t, period, offset, delay) if period < math.inf else t + delay)
    if until is not None:
        q = q[(q["time"] <= until).to_numpy()]
    return q.sort_values(["account_id", "time"], kind="stable").reset_index(drop=True)


def _go_live(q, log, frame, policy, rollout) -> pd.DataFrame:
    """The go-live step: firings from ``holds``, the backlog scheduled, rows labelled."""
    try:
        holds = pol.holds(policy, log, frame)
    except QualsimError as exc:
        raise QualsimError(f"rollout.go_live_day: {exc}") from None
    ev = log.events
    eligible = np.ones(len(ev), dtype=bool)
    if not policy.include_sales_touches and len(ev):
        eligible = ~ev["activity"].isin(SALES_ACTIVITIES).to_numpy(bool)
    account = ev["account_id"].to_numpy(np.int64)
    time = ev["time"].to_numpy(np.float64)
    recycle = getattr(policy, "recycle_days", None)
    fired = go_live_fired(account, time, holds, eligible, float(rollout.go_live_day), recycle)
    tiers = _tiers(log)
    tier = tiers.reindex(fired.account).to_numpy(np.float64)
    t = backlog_times(fired, tier, rollout)
    keep = ~np.isnan(t)
    rows = _labels(q, policy, fired.account[keep], time[fired.event[keep]])
    return rows.assign(time=t[keep])


def _tiers(log: EventLog) -> pd.Series:
    acc = log.accounts
    if "tier" not in acc.columns:
        return pd.Series(dtype=np.float64)
    return acc.set_index("account_id")["tier"].astype(np.float64)


def _labels(q, policy, account: np.ndarray, at: np.ndarray) -> pd.DataFrame:
    """Qualification rows for firings of ``account`` handing over the rule's state at times
    ``at``: the person, rule, score and stage of the account's latest real-time handoff (a row
    of ``q``) at or before ``at``. Where the firing is a real-time handoff that is its own row;
    for a backlog firing or a re-crossing after go-live it is the handoff that last put the
    account over the bar (one always exists: the first event where a rule holds is a
    real-time handoff)."""
    want = pd.DataFrame({"account_id": account, "_at": at, "_i": np.arange(account.size)})
    got = pd.merge_asof(
        want.sort_values("_at", kind="stable"),
        q.drop(columns="policy").sort_values("time", kind="stable"),
        left_on="_at",
        right_on="time",
        by="account_id",
        direction="backward",
    ).sort_values("_i")
    empty = QUALIFICATIONS.empty()
    out = pd.DataFrame(
        {
            "policy": np.full(account.size, policy.name, dtype=object),
            "account_id": account,
            "contact_id": got["contact_id"].fillna(-1).to_numpy(np.int64),
            "time": got["time"].to_numpy(np.float64),
            "rule": got["rule"].fillna("").to_numpy(object),
            "score": got["score"].to_numpy(np.float64),
            "stage": got["stage"].fillna("").to_numpy(object),
        }
    )
    return out.astype(empty.dtypes.to_dict())
