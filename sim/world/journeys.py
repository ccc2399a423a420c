"""Latent buying journeys: a SimPy process per in-market account walks
unaware -> aware -> engaged -> qualified -> sales-ready -> decision, while a competitor process may
engage the account first and campaigns speed progress up; committee members then join at the
stages their roles join at.

The random inputs of each account (start, stage durations, decision, competitor) are drawn in
bulk beforehand from keyed streams; SimPy orders what happens when (campaign windows that speed
progress, the competitor racing the decision). Every time is kept, also past the horizon, so that
members' join times are exact; :func:`walk_journeys` masks what lies beyond the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from sim import rng
from sim.rng import Streams
from sim.tables import TRUTH
from sim.vocab import JOURNEY_STAGES, ROLES, JoinStage
from sim.world.scenario import Scenario

# Columns of the stage-entry matrix: journey_start (entry to "unaware"), then the entries to
# aware, engaged, qualified, sales_ready, and the decision.
ENTRY_COLUMNS = (
    "journey_start",
    "t_aware",
    "t_engaged",
    "t_qualified",
    "t_sales_ready",
    "t_decision",
)
_U_START, _U_BUY, _U_COMP, _U_COMP_FRAC = 0, 6, 7, 8  # counters 1..5: stage durations
_U_STALL, _U_STALL_AT = 9, 10
# A journey that stalls early ends, undecided, after walking 2 stages (unaware, aware) or 3 (and
# engaged); one that does not walks all 5 to the decision.
_FULL, _STALL_WALKS = 5, (2, 3)


@dataclass
class JourneyRecord:
    """What the journey processes write: full (unmasked) times per in-market account."""

    entry: np.ndarray  # (n, 6) stage entry times, NaN until entered
    t_competitor: np.ndarray  # (n,)
    buys: np.ndarray  # (n,) bool drawn up front; applies once the decision is reached


def exposure(sc: Scenario, accounts: pd.DataFrame) -> np.ndarray:
    """Boolean matrix (accounts x campaigns): which accounts each campaign reaches."""
    tier = accounts["tier"].to_numpy()
    target = accounts["is_target"].to_numpy()
    out = np.zeros((len(accounts), len(sc.campaigns)), dtype=bool)
    for c, camp in enumerate(sc.campaigns):
        hit = (
            np.ones(len(accounts), dtype=bool) if camp.tiers is None else np.isin(tier, camp.tiers)
        )
        if camp.targets_only:
            hit &= target
        out[:, c] = hit
    return out


def _speed_windows(sc: Scenario, exposed_row: np.ndarray) -> list[tuple[float, float, float]]:
    return [
        (c.start_day, c.end_day, c.progression_speedup)
        for c, hit in zip(sc.campaigns, exposed_row, strict=True)
        if hit and c.progression_speedup > 0
    ]


def _progress(env: simpy.Environment, work: float, windows):
    """Spend ``work`` days of normal-pace progress; inside campaign windows progress runs
    ``1 + speedup`` times as fast (speedups of overlapping campaigns add up)."""
    while work > 1e-12:
        now = env.now
        speed = 1.0 + sum(s for a, b, s in windows if a <= now < b)
        edges = [t for a, b, _ in windows for t in (a, b) if t > now]
        nxt = min(edges) if edges else np.inf
        if now + work / speed <= nxt:
            yield env.timeout(work / speed)
            work = 0.0
        else:
            yield env.timeout(nxt - now)
            work -= (nxt - now) * speed


def _journey(env, rec: JourneyRecord, i: int, start, durations, windows, comp_delay, walks: int):
    """One account's latent journey, from its trigger to the decision after ``walks`` stages
    (all five, or fewer when it stalls early: the stages not walked keep no entry time)."""
    yield env.timeout(start - env.now)
    rec.entry[i, 0] = env.now
    rival = env.process(_competitor(env, rec, i, comp_delay)) if comp_delay is not None else None
    for k in range(walks):
        yield from _progress(env, durations[k], windows)
        rec.entry[i, k + 1 if k + 1 < walks else _FULL] = env.now
    if rival is not None and rival.is_alive:
        rival.interrupt("the account decided first")


def _competitor(env, rec: JourneyRecord, i: int, delay: float):
    """A competitor engages the account ``delay`` days into its journey, unless it decided."""
    try:
        yield env.timeout(delay)
        rec.t_competitor[i] = env.now
    except simpy.Interrupt:
        pass


def run_journeys(sc: Scenario, streams: Streams, accounts: pd.DataFrame) -> JourneyRecord:
    """Walk the journey of every in-market account in one SimPy environment (full times)."""
    j = sc.journey
    idx = accounts["account_id"].to_numpy()[accounts["in_market"].to_numpy()]
    n = idx.size
    key = streams.key("journey", idx)

    def u(counter: int) -> np.ndarray:
        return rng.to_unit(Streams.words(key, counter))

    lo, hi = j.start_window_days
    start = lo + u(_U_START) * (hi - lo)
    specs = [getattr(j.stages, s) for s in JOURNEY_STAGES]
    durations = (
        np.column_stack(
            [rng.lognormal(u(1 + k), s.median_days, s.sigma) for k, s in enumerate(specs)]
        )
        if n
        else np.zeros((0, len(specs)))
    )
    size = accounts["committee_size"].to_numpy()[idx]
    bp = j.buy_probability
    buys = u(_U_BUY) < bp.one_person * bp.factor_per_member ** (size - 1)
    has_rival = u(_U_COMP) < j.competitor.probability
    frac = rng.beta(
        u(_U_COMP_FRAC), j.competitor.journey_fraction.a, j.competitor.journey_fraction.b
    )
    comp_delay = frac * durations.sum(axis=1)
    stall = ~buys & (u(_U_STALL) < bp.early_stall)
    walks = np.where(stall, np.where(u(_U_STALL_AT) < 0.5, *_STALL_WALKS), _FULL)

    rec = JourneyRecord(np.full((n, 6), np.nan), np.full(n, np.nan), buys)
    exposed = exposure(sc, accounts)[idx]
    env = simpy.Environment(initial_time=min(lo, 0.0))
    dur_list, start_list, delay_list = durations.tolist(), start.tolist(), comp_delay.tolist()
    rival_list, walk_list = has_rival.tolist(), walks.tolist()
    for i in range(n):
        env.process(
            _journey(
                env,
                rec,
                i,
                start_list[i],
                dur_list[i],
                _speed_windows(sc, exposed[i]),
                delay_list[i] if rival_list[i] else None,
                walk_list[i],
            )
        )
    env.run()
    return rec


def walk_journeys(
    sc: Scenario, streams: Streams, accounts: pd.DataFrame
) -> tuple[pd.DataFrame, JourneyRecord]:
    """The ground-truth table (one row per account) and the full journey record.

    Times at or after ``horizon_days`` are NaN in the truth table (not reached within the
    horizon); ``decision`` is "buy", "no_decision", or "" when no decision was reached.
    """
    rec = run_journeys(sc, streams, accounts)
    n = len(accounts)
    im = accounts["in_market"].to_numpy()
    horizon = sc.horizon_days
    truth = {"account_id": accounts["account_id"].to_numpy(), "in_market": im}
    masked = np.where(rec.entry < horizon, rec.entry, np.nan)
    for c, name in enumerate(ENTRY_COLUMNS):
        col = np.full(n, np.nan)
        col[im] = masked[:, c]
        truth[name] = col
    decided = ~np.isnan(truth["t_decision"])
    decision = np.full(n, "", dtype=object)
    buys = np.zeros(n, dtype=bool)
    buys[im] = rec.buys
    decision[decided] = np.where(buys[decided], "buy", "no_decision")
    truth["decision"] = decision.astype(str)
    comp = np.full(n, np.nan)
    comp[im] = np.where(rec.t_competitor < horizon, rec.t_competitor, np.nan)
    truth["t_competitor"] = comp
    full_decision = np.full(n, np.nan)
    full_decision[im] = rec.entry[:, 5]
    truth["active_in_window"] = im & ~(full_decision < 0)
    truth["deal_value"] = accounts["deal_value"].to_numpy()
    truth["committee_size"] = accounts["committee_size"].to_numpy()
    return pd.DataFrame(truth)[TRUTH.names], rec


def join_times(
    sc: Scenario,
    streams: Streams,
    accounts: pd.DataFrame,
    contacts: pd.DataFrame,
    rec: JourneyRecord,
) -> np.ndarray:
    """When each committee member of an in-market account joins its journey (full times).

    A member joins at a stage drawn from its role's ``join_stage`` mix, at a uniform point of the
    time the account spends in that stage. NaN for everyone else.
    """
    out = np.full(len(contacts), np.nan)
    im = accounts["in_market"].to_numpy()
    row_of = np.full(len(accounts), -1, dtype=np.int64)
    row_of[np.flatnonzero(im)] = np.arange(int(im.sum()))
    acct = contacts["account_id"].to_numpy()
    members = np.flatnonzero(contacts["in_committee"].to_numpy() & im[acct])
    if members.size == 0:
        return out
    key = streams.key("join", acct[members], contacts["_local"].to_numpy()[members])
    u_stage = rng.to_unit(Streams.words(key, 0))
    u_frac = rng.to_unit(Streams.words(key, 1))
    join_choices: tuple[JoinStage, ...] = ("aware", "engaged", "qualified", "sales_ready")
    tab = np.stack(
        [
            np.cumsum([sc.committee.roles[r].join_stage.get(s, 0.0) for s in join_choices])
            for r in ROLES
        ]
    )
    role_idx = contacts["_role_idx"].to_numpy()[members]
    stage = 1 + rng.categorical(u_stage, tab, role_idx)
    rows = row_of[acct[members]]
    t0 = rec.entry[rows, stage]
    t1 = rec.entry[rows, stage + 1]
    out[members] = t0 + u_frac * (t1 - t0)
    return out
