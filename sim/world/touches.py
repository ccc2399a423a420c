"""Touches: every person's (and every account's anonymous) activity, drawn in bulk with NumPy.

The journeys fix *who is in which state when*; :mod:`sim.world.segments` turns that into
**segments** — a stretch of time over which one emitter (a contact, or the account's anonymous
traffic) has constant touch rates per activity — and this module draws each segment's touches at
once: a Poisson count per (segment, activity), then uniform times inside the segment, a channel
and, for web activity, whether the person was identified. No SimPy event per touch.

Rates per week come from the scenario: ``touches.contact_rates_per_week[stage]`` times the role's
``activity`` multiplier for committee members, ``noise.personas[p].rates_per_week`` for noise, and
``touches.account_rates_per_week[stage]`` for the account's anonymous traffic. A campaign adds a
segment of extra touches ``(lift - 1) x rate`` on its activities over the overlap of its dates with
each exposed emitter's segments; those touches carry the campaign's channel and id.

Every count and touch is keyed by (seed, account, emitter, segment, campaign, activity, index), so
an account's touches depend only on its own history.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from sim import rng
from sim.rng import GOLDEN, Streams, fmix64, to_unit
from sim.vocab import MARKETING_ACTIVITIES
from sim.world.scenario import Scenario
from sim.world.segments import Segments

_ACT_SALT = fmix64(
    np.arange(1, len(MARKETING_ACTIVITIES) + 1, dtype=np.uint64) * np.uint64(0x51ED27)
)
CHUNK_SEGMENTS = 100_000


def _campaign_salts(sc: Scenario) -> np.ndarray:
    # Keyed by the campaign's name, so editing or inserting one campaign moves no other's touches.
    return np.array([0] + [rng.name_id(c.name) | 1 for c in sc.campaigns], dtype=np.int64)


def draw_touches(sc: Scenario, streams: Streams, seg: Segments) -> dict[str, np.ndarray]:
    """Draw every segment's touches; columns sorted by (account_id, time)."""
    table = seg.table
    salts = _campaign_salts(sc)
    channels = channel_names(sc)
    chan_cum = [
        np.cumsum([sc.touches.channels[a].get(ch, 0.0) for ch in channels])
        for a in MARKETING_ACTIVITIES
    ]
    camp_chan = np.array([channels.index(c.channel) for c in sc.campaigns] or [0], np.int16)
    acct_all = table["account_id"].to_numpy()
    bounds = [*range(0, len(table), CHUNK_SEGMENTS), len(table)]
    # Chunk on account boundaries so that sorting within a chunk sorts the whole log.
    bounds = sorted(
        {
            int(np.searchsorted(acct_all, acct_all[b], "left")) if b < len(table) else b
            for b in bounds
        }
    )
    # Two passes: count every chunk's touches, then allocate the columns once and let each
    # chunk write its sorted touches straight into its slice (no copy of the whole log).
    plans = [
        _plan_chunk(sc, streams, seg, table.iloc[lo:hi], salts)
        for lo, hi in itertools.pairwise(bounds)
    ]
    total = sum(p.total for p in plans)
    out = {k: np.empty(total, dtype=dt) for k, dt in _DTYPES.items()}
    at = 0
    for plan in plans:
        _fill_chunk(sc, plan, chan_cum, camp_chan, out, at)
        at += plan.total
    return out


_DTYPES = {
    "time": np.float64,
    "account_id": np.int32,
    "contact_id": np.int32,
    "activity": np.int8,
    "channel": np.int16,
    "campaign_id": np.int16,
}


@dataclass
class _ChunkPlan:
    """One chunk's segments and, per activity, the Poisson parts that have touches."""

    acct: np.ndarray  # int32, per segment
    contact: np.ndarray  # int32, per segment
    camp: np.ndarray  # int16, per segment
    start: np.ndarray
    dur: np.ndarray
    parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]  # (activity, segment, key, count)
    total: int


def _plan_chunk(sc, streams, seg, t, salts) -> _ChunkPlan:
    """Count the touches of one chunk of whole accounts' segments (keyed Poisson draws)."""
    acct = t["account_id"].to_numpy()
    camp = t["camp"].to_numpy()
    combo = (t["ckey"].to_numpy() << 8) | t["code"].to_numpy()
    seg_key = streams.key("touch", acct, combo, salts[camp + 1])
    start = t["start"].to_numpy()
    dur = t["end"].to_numpy() - start
    rate_rows = seg.rates[t["row"].to_numpy()]
    parts = []
    total = 0
    for a in range(len(MARKETING_ACTIVITIES)):
        nz = np.flatnonzero(rate_rows[:, a] > 0)
        if nz.size == 0:
            continue
        lam = rate_rows[nz, a] * dur[nz] / 7.0
        cell_key = fmix64(seg_key[nz] ^ _ACT_SALT[a])
        prow, part, plam = rng.poisson_split(lam)
        pkey = Streams.words(cell_key[prow], part)
        count = rng.poisson(to_unit(Streams.words(pkey, 0)), plam)
        hit = count > 0
        if hit.any():
            parts.append((a, nz[prow[hit]].astype(np.int32), pkey[hit], count[hit]))
            total += int(count[hit].sum())
    return _ChunkPlan(
        acct.astype(np.int32),
        t["contact_id"].to_numpy().astype(np.int32),
        camp.astype(np.int16),
        start,
        dur,
        parts,
        total,
    )


def _fill_chunk(sc, plan: _ChunkPlan, chan_cum, camp_chan, out: dict, at: int) -> None:
    """Draw a planned chunk's touches and write them, sorted, into ``out[k][at:]``."""
    if plan.total == 0:
        return
    identifiable = set(sc.touches.identifiable)
    id_rate = sc.touches.identification_rate
    pieces: dict[str, list[np.ndarray]] = {k: [] for k in _DTYPES}
    for a, cells, pkey, count in plan.parts:
        n = int(count.sum())

        def rep(values: np.ndarray, cells=cells, count=count) -> np.ndarray:
            return np.repeat(values[cells], count)

        # Touch j of a part uses that part's SplitMix64 outputs 2j+1 and 2j+2.
        offsets = (np.cumsum(count) - count).astype(np.uint64)
        ctr = np.arange(n, dtype=np.uint64) - np.repeat(offsets, count)
        with np.errstate(over="ignore"):
            state = np.repeat(pkey, count) + (ctr * np.uint64(2) + np.uint64(2)) * GOLDEN
            w1 = fmix64(state)
            state += GOLDEN
        w2 = fmix64(state)
        pieces["time"].append(rep(plan.start) + to_unit(w1) * rep(plan.dur))
        cs = rep(plan.camp)
        if np.count_nonzero(np.diff(chan_cum[a], prepend=0.0) > 0) > 1:
            u_chan = (w2 >> np.uint64(32)).astype(np.float64) * 2.0**-32
            ch = rng.categorical(u_chan, chan_cum[a]).astype(np.int16)
        else:  # one channel only
            ch = np.full(n, rng.categorical(np.zeros(1), chan_cum[a])[0], dtype=np.int16)
        if (cs >= 0).any():
            ch = np.where(cs >= 0, camp_chan[np.maximum(cs, 0)], ch).astype(np.int16)
        pieces["channel"].append(ch)
        who = rep(plan.contact)
        if MARKETING_ACTIVITIES[a] in identifiable:
            u_id = (w2 & np.uint64(0xFFFFFFFF)).astype(np.float64) * 2.0**-32
            who[u_id >= id_rate] = -1
        pieces["contact_id"].append(who)
        pieces["account_id"].append(rep(plan.acct))
        pieces["activity"].append(np.full(n, a, dtype=np.int8))
        pieces["campaign_id"].append(cs)
    merged = {k: np.concatenate(v) for k, v in pieces.items()}
    order = _time_order(merged["account_id"], merged["time"], sc.horizon_days)
    for k, v in merged.items():
        np.take(v, order, out=out[k][at : at + plan.total])


def _time_order(account: np.ndarray, time: np.ndarray, horizon: float) -> np.ndarray:
    """Order by (account, time); exact ties fall back to generation order (deterministic).

    Account ``a``'s touches map into [a * horizon, (a + 1) * horizon), so one float sort orders
    both; two touches whose keys round to the same float are resolved exactly by a lexsort.
    """
    key = account.astype(np.float64)
    key *= horizon
    key += time
    order = np.argsort(key)
    k = key[order]
    if k.size > 1:
        a, t = account[order], time[order]
        da = np.diff(a)
        # Rounding of the float key can tie two touches or, rarely, swap them (even across an
        # account boundary); then fall back to the exact (and slower) lexsort.
        if (k[1:] == k[:-1]).any() or (da < 0).any() or ((da == 0) & (np.diff(t) < 0)).any():
            order = np.lexsort((np.arange(time.size), time, account))
    return order


def channel_names(sc: Scenario) -> list[str]:
    """Every channel the scenario can produce, in first-seen order."""
    names: list[str] = []
    for a in MARKETING_ACTIVITIES:
        names += [c for c in sc.touches.channels[a] if c not in names]
    names += [c.channel for c in sc.campaigns if c.channel not in names]
    return names
