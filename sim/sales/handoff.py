"""The sales side: what happens to each handoff of one policy on one simulated world (SimPy).

A handoff of account *a* at time *t* (a row of a policy's qualifications) meets the team of the
scenario's ``sales:`` section:

1. **Arrival.** A handoff of an account that sales already owns (queued, or accepted and not yet
   closed or dropped) is a ``duplicate``; one within ``recycle_days`` after the account was
   rejected is ``recycling``. Neither costs anything. Every other handoff joins the queue.
2. **Queue.** SDRs are a ``simpy.PriorityResource`` (tier 1 first when ``priority_by_tier``, then
   first come first served). A handoff an SDR could not start within ``max_wait_days`` is
   ``expired``: never followed up. SDRs work ``working_hours`` on the first
   ``workdays_per_week`` days of the week (day 0 is a Monday) and give ``handoff_share`` of
   that time to handoffs, so a handoff of ``hours_per_handoff`` occupies an SDR for
   ``hours_per_handoff / handoff_share`` working hours. The response delay is the time from
   the handoff to the moment an SDR starts on it.
3. **Outcome**, decided when the SDR starts (time *s*):

   - the account is not in an active journey at *s* (``in_market`` and ``journey_start <= s <
     t_decision``), or the handoff names a person outside the buying committee: ``rejected``;
   - otherwise the SDR reaches the buying group with probability ``reach.floor + (reach.immediate
     - reach.floor) * 0.5 ** (delay_hours / reach.half_life_hours)``; if not: ``rejected``;
   - else ``accepted``. If the journey is at least at "qualified" when the SDR is done, it becomes
     an opportunity at once; earlier, sales nurtures it (``nurture_hours_per_week``) until the
     journey qualifies, giving up after an exponential time of half-life
     ``nurture_half_life_days`` (then the account goes back to marketing, ``dropped``).
   - An opportunity whose account decides to buy is won with probability ``win.preferred`` when
     sales reached the account before any competitor engaged (``t_competitor``), else
     ``win.after_competitor``; "no decision" loses; a decision beyond the horizon leaves it open.

A rejected account is ignored for ``recycle_days``, then a later handoff may bring it back.

**Late inbound** (the baseline every policy must beat): an account that decides to buy and never
became an opportunity through a handoff, but made a demo request during its journey, comes in
by itself at its first such request and is won with probability ``win.inbound``.

Every random draw is keyed by (replication seed, account, purpose, the account's k-th worked
handoff), so an account draws the same luck under every policy (common random numbers).

>>> import sim, policies
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 200}}), seed=4)
>>> q = policies.evaluate(policies.load_policy("mqa_count"), sim.EventLog.from_world(w))
>>> r = play_handoffs(w, q)
>>> len(r.outcomes) == len(q)
True
>>> set(r.outcomes["status"]) <= set(STATUSES)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from sim.errors import DataError
from sim.rng import Streams, exponential
from sim.sales.calendar import SDRTeam, WorkCalendar
from sim.tables import HANDOFF_OUTCOMES
from sim.world.sales_team import Sales
from sim.world.simulate import World

STATUSES = ("accepted", "rejected", "expired", "duplicate", "recycling")
OUTCOME_COLUMNS = HANDOFF_OUTCOMES.names
_INF = math.inf


@dataclass(frozen=True)
class SalesResult:
    """``outcomes``: one row per handoff (OUTCOME_COLUMNS, in the handoffs' order);
    ``inbound``: accounts that came in late by themselves (account_id, t_inbound, won, value)."""

    outcomes: pd.DataFrame
    inbound: pd.DataFrame


def reach_probability(sales: Sales, delay_hours: np.ndarray | float) -> np.ndarray | float:
    """The chance to reach the buying group after a response delay (hours)."""
    r = sales.reach
    return r.floor + (r.immediate - r.floor) * 0.5 ** (np.asarray(delay_hours) / r.half_life_hours)


class _Truth:
    """Per-account truth arrays indexed by account_id (ids are 0..n-1 in a simulated world)."""

    def __init__(self, world: World):
        t = world.truth.sort_values("account_id")
        ids = t["account_id"].to_numpy(np.int64)
        if not np.array_equal(ids, np.arange(ids.size)):
            raise ValueError("truth.account_id must be 0..n-1")

        def col(name: str, fill: float = _INF) -> np.ndarray:
            v = t[name].to_numpy(np.float64)
            return np.where(np.isnan(v), fill, v)

        self.in_market = t["in_market"].to_numpy(bool)
        self.start = col("journey_start")
        self.qualified = col("t_qualified")
        self.decision = col("t_decision")
        self.competitor = col("t_competitor")
        self.buys = (t["decision"] == "buy").to_numpy()
        self.no_decision = (t["decision"] == "no_decision").to_numpy()
        self.value = t["deal_value"].to_numpy(np.float64)
        acc = world.accounts.sort_values("account_id")
        self.tier = acc["tier"].to_numpy(np.int64)

    def active_one(self, a: int, t: float) -> bool:
        """:meth:`active` for one handoff (the hot path of the SimPy process)."""
        return bool(self.in_market[a] and self.start[a] <= t < self.decision[a])

    def acceptable(self, a, t) -> np.ndarray:
        """Is account ``a`` in an active journey that has reached "qualified" at ``t``?"""
        a = np.asarray(a, dtype=np.int64)
        t = np.asarray(t, dtype=np.float64)
        return np.asarray(self.active(a, t), dtype=bool) & (self.qualified[a] <= t)

    def active(self, a, t):
        """Is account ``a`` in an active journey at ``t`` (scalars or arrays)?"""
        a = np.asarray(a, dtype=np.int64)
        t = np.asarray(t, dtype=np.float64)
        out = self.in_market[a] & (self.start[a] <= t) & (t < self.decision[a])
        return bool(out) if out.ndim == 0 else out


def true_handoffs(world: World, accounts: np.ndarray, times: np.ndarray) -> np.ndarray:
    """A handoff of ``a`` at ``t`` is true when ``a`` is in an active journey then
    (``in_market`` and ``journey_start <= t < t_decision``; an undecided journey is active)."""
    return _Truth(world).active(accounts, times)


def play_handoffs(
    world: World, qualifications: pd.DataFrame, sales: Sales | None = None, seed: int | None = None
) -> SalesResult:
    """Play one policy's handoffs through the sales side of ``world`` (see the module doc).

    ``sales`` defaults to the world's scenario's ``sales:`` section; ``seed`` (default: the
    world's seed) keys the sales-side draws.
    """
    sales = sales or world.scenario.sales
    streams = Streams(world.seed if seed is None else seed)
    tr = _Truth(world)
    q = qualifications.reset_index(drop=True)
    desk = _Desk(world, sales, streams, tr, q)
    desk.run()
    outcomes = desk.outcomes(q)
    return SalesResult(outcomes, _inbound(world, sales, streams, tr, desk.opportunity))


class _Desk:
    """The sales side at work on one policy's handoffs: a SimPy process per handoff that waits
    for an SDR, then decides its outcome. Holds the per-handoff results (``o``) and the
    per-account state (owned, recycling, worked handoffs, opportunity)."""

    def __init__(self, world: World, sales: Sales, streams: Streams, tr: _Truth, q):
        n = len(q)
        self.sales, self.tr = sales, tr
        self.horizon = world.scenario.horizon_days
        self.acc = q["account_id"].to_numpy(np.int64)
        self.t_h = q["time"].to_numpy(np.float64)
        contact = q["contact_id"].to_numpy(np.int64) if n else np.zeros(0, np.int64)
        self.contact = contact
        bad = (self.acc < 0) | (self.acc >= tr.tier.size)
        if bad.any():
            raise DataError(
                f"qualifications: account_id {int(self.acc[bad][0])} is not an account of this "
                f"world (ids are 0..{tr.tier.size - 1})"
            )
        self.in_committee = np.ones(n, dtype=bool)
        lead = contact >= 0
        if lead.any():
            cmap = world.contacts.set_index("contact_id")["in_committee"]
            self.in_committee[lead] = cmap.reindex(contact[lead]).fillna(False).to_numpy(bool)
        self.o = {
            "status": np.full(n, "", dtype=object),
            "reason": np.full(n, "", dtype=object),
            "t_first_touch": np.full(n, np.nan),
            "queue_wait_hours": np.full(n, np.nan),
            "t_opportunity": np.full(n, np.nan),
            "won": np.zeros(n, dtype=bool),
            "open": np.zeros(n, dtype=bool),
            "value": np.zeros(n),
            "sales_hours": np.zeros(n),
            "lost_to_competitor": np.zeros(n, dtype=bool),
        }
        self.cal = WorkCalendar(sales.workdays_per_week, sales.working_hours)
        self.work_hours = sales.hours_per_handoff / sales.handoff_share
        self.env = simpy.Environment()
        self.sdrs = SDRTeam(self.env, capacity=sales.sdrs)
        n_acc = tr.tier.size
        self.owned_until = np.full(n_acc, -_INF)  # sales owns the account until then
        self.recycle_until = np.full(n_acc, -_INF)
        self.worked = np.zeros(n_acc, dtype=np.int64)  # k-th worked handoff of the account
        self.opportunity = np.zeros(n_acc, dtype=bool)
        self._draw_up_front(streams, n_acc)

    def _draw_up_front(self, streams: Streams, n_acc: int) -> None:
        """The draws of an account's k-th worked handoff, made in bulk (k < its handoffs): row
        ``offset[a] + k`` of each stream; the same numbers as drawing them one by one."""
        n = self.acc.size
        per_account = np.bincount(self.acc, minlength=n_acc) if n else np.zeros(n_acc, int)
        self.offset = np.r_[0, np.cumsum(per_account)[:-1]]
        ids = np.repeat(np.arange(n_acc), per_account)
        ks = np.arange(ids.size) - np.repeat(self.offset, per_account)
        self.draws = {
            name: streams.uniform(f"sales.{name}", ids, ks) for name in ("reach", "nurture", "win")
        }

    def run(self) -> None:
        order = np.argsort(self.t_h, kind="stable")
        env = self.env

        def feeder():
            for i in order:
                if self.t_h[i] > env.now:
                    yield env.timeout(self.t_h[i] - env.now)
                env.process(self.handle(int(i)))

        env.process(feeder())
        env.run()

    def handle(self, i: int):
        """One handoff: arrival, the queue, the SDR's work, then its outcome."""
        a, t, env, sales, o = int(self.acc[i]), self.env.now, self.env, self.sales, self.o
        if self.owned_until[a] > t:
            o["status"][i] = "duplicate"
            return
        if self.recycle_until[a] > t:
            o["status"][i] = "recycling"
            return
        self.owned_until[a] = _INF  # queued: owned until the outcome says otherwise
        prio = int(self.tr.tier[a]) if sales.priority_by_tier else 0
        with self.sdrs.request(priority=prio) as req:
            got = yield req | env.timeout(sales.max_wait_days)
            if req not in got:
                o["status"][i] = "expired"
                self.owned_until[a] = env.now
                return
            s = max(self.cal.start_at(self.cal.clock(env.now)), env.now)
            if s - t > sales.max_wait_days:  # the SDR is free, but only after the deadline
                o["status"][i] = "expired"
                self.owned_until[a] = t + sales.max_wait_days
                return
            end = max(self.cal.end_at(self.cal.clock(s) + self.work_hours), s)
            yield env.timeout(end - env.now)
        self._worked(i, a, t, s, end)

    def _worked(self, i: int, a: int, t: float, s: float, end: float) -> None:
        """An SDR started at ``s`` and finished at ``end``: rejected, or accepted and on."""
        sales, o, tr = self.sales, self.o, self.tr
        k = self.worked[a]
        self.worked[a] += 1
        row = self.offset[a] + k
        delay_h = (s - t) * 24.0
        o["t_first_touch"][i] = s
        o["queue_wait_hours"][i] = delay_h
        o["sales_hours"][i] = sales.hours_per_handoff
        if not tr.active_one(a, s):
            reason = "no_active_journey"
        elif not self.in_committee[i]:
            reason = "outside_committee"
        elif self.draws["reach"][row] >= reach_probability(sales, delay_h):
            reason = "no_response"
        else:
            reason = ""
        if reason:
            o["status"][i], o["reason"][i] = "rejected", reason
            self.owned_until[a] = end
            self.recycle_until[a] = end + sales.recycle_days
            return
        o["status"][i] = "accepted"
        self._accepted(i, a, s, end, row)

    def _accepted(self, i: int, a: int, s: float, end: float, row: int) -> None:
        """Nurture until the journey qualifies (unless sales gives up first), then an
        opportunity, won or lost when the account decides."""
        sales, o, tr = self.sales, self.o, self.tr
        t_opp = max(end, tr.qualified[a])
        if t_opp > end:
            rate = math.log(2.0) / sales.nurture_half_life_days
            give_up = end + float(exponential(self.draws["nurture"][row])) / rate
            stop = min(t_opp, give_up, tr.decision[a], self.horizon)
            o["sales_hours"][i] += sales.nurture_hours_per_week * (stop - end) / 7.0
            if give_up < t_opp:
                o["reason"][i] = "dropped"
                self.owned_until[a] = give_up
                return
        if not t_opp < min(tr.decision[a], self.horizon):
            o["reason"][i] = "no_opportunity"  # decided (or horizon) before it qualified
            self.owned_until[a] = min(tr.decision[a], self.horizon)
            return
        o["t_opportunity"][i] = t_opp
        o["sales_hours"][i] += sales.opportunity_hours
        self.opportunity[a] = True
        self.owned_until[a] = tr.decision[a]
        if tr.buys[a]:
            first = s < tr.competitor[a]
            p = sales.win.preferred if first else sales.win.after_competitor
            won = self.draws["win"][row] < p
            o["won"][i] = won
            o["value"][i] = tr.value[a] if won else 0.0
            o["lost_to_competitor"][i] = (not won) and not first
        elif not tr.no_decision[a]:
            o["open"][i] = True

    def outcomes(self, q: pd.DataFrame) -> pd.DataFrame:
        """The per-handoff table (``sim.tables.HANDOFF_OUTCOMES``), in the handoffs' order."""
        n, o, acc, t_h = len(q), self.o, self.acc, self.t_h
        out = pd.DataFrame(
            {
                "policy": q["policy"].to_numpy() if n else np.zeros(0, dtype=object),
                "account_id": acc,
                "contact_id": self.contact,
                "t_handoff": t_h,
                "true_handoff": self.tr.active(acc, t_h) if n else np.zeros(0, dtype=bool),
                "acceptable": self.tr.acceptable(acc, t_h) & self.in_committee,
                **{k: v for k, v in o.items() if k in ("status", "reason", "t_first_touch")},
                "queue_wait_hours": o["queue_wait_hours"],
                "accepted": o["status"] == "accepted",
                **{k: o[k] for k in ("t_opportunity", "won", "open", "value", "sales_hours")},
                "lost_to_competitor": o["lost_to_competitor"],
            }
        )[OUTCOME_COLUMNS]
        out["status"] = out["status"].astype(str)
        out["reason"] = out["reason"].astype(str)
        return out


def _inbound(world: World, sales: Sales, streams: Streams, tr: _Truth, had_opp: np.ndarray):
    """Buying accounts never made an opportunity by a handoff that request a demo in-journey."""
    ev = world.events
    demo = ev[(ev["activity"] == "demo_request").to_numpy()]
    a = demo["account_id"].to_numpy(np.int64)
    t = demo["time"].to_numpy(np.float64)
    ok = tr.buys[a] & ~had_opp[a] & (tr.start[a] <= t) & (t < tr.decision[a])
    first = pd.Series(t[ok]).groupby(a[ok]).min()
    ids = first.index.to_numpy(np.int64)
    won = streams.uniform("sales.inbound", ids) < sales.win.inbound
    return pd.DataFrame(
        {
            "account_id": ids,
            "t_inbound": first.to_numpy(np.float64),
            "won": won,
            "value": np.where(won, tr.value[ids], 0.0),
        }
    )
