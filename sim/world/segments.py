"""Segments: stretches of time over which one emitter touches at constant rates.

An *emitter* is a contact, or an account's anonymous traffic (contact -1). The journeys fix who
is in which state when; :func:`build_segments` turns that into segments, each with a row of the
rate matrix (:func:`rate_matrix`). :mod:`sim.world.touches` then draws every segment's touches at
once. A campaign adds, on the overlap of its dates with each exposed emitter's segments, a
segment of extra touches at ``(lift - 1) x rate`` on its activities.

Segment codes are part of the random keys, so they must stay stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim import rng
from sim.rng import Streams
from sim.vocab import MARKETING_ACTIVITIES, PERSONAS, RATE_STAGES, ROLES
from sim.world.journeys import JourneyRecord, exposure
from sim.world.scenario import Scenario

# Segment codes: 0 background, 1..5 the journey stages unaware..sales_ready, 6 after the
# decision, 7 a noise persona's active stretch.
SEG_BACKGROUND, SEG_AFTER_DECISION, SEG_NOISE = 0, 6, 7
N_STAGES = len(RATE_STAGES)
# Rows of the rate matrix: role x rate stage, then personas, then account-level stages.
ROW_PERSONA = len(ROLES) * N_STAGES
ROW_ACCOUNT = ROW_PERSONA + len(PERSONAS)


@dataclass(frozen=True)
class Segments:
    """Emitter segments: a table of constant-rate stretches and the rate matrix they index."""

    table: pd.DataFrame  # account_id, contact_id, ckey, code, camp, start, end, row
    rates: np.ndarray  # (rows, activities) touches per week


def rate_matrix(sc: Scenario) -> np.ndarray:
    """Base rate rows: role x rate stage (36), then personas (6), then account stages (6)."""
    t = sc.touches

    def vec(rates: dict) -> np.ndarray:
        return np.array([rates.get(a, 0.0) for a in MARKETING_ACTIVITIES], dtype=float)

    rows = []
    for r in ROLES:
        mult = sc.committee.roles[r].activity
        rows += [mult * vec(getattr(t.contact_rates_per_week, s)) for s in RATE_STAGES]
    for p in PERSONAS:
        spec = sc.noise.personas.get(p)
        rows.append(vec(spec.rates_per_week) if spec else np.zeros(len(MARKETING_ACTIVITIES)))
    rows += [vec(getattr(t.account_rates_per_week, s)) for s in RATE_STAGES]
    return np.vstack(rows)


def stage_ends(entry: np.ndarray) -> np.ndarray:
    """The journey record with each stage entry a journey skipped (a stall before 'qualified')
    set to the next entry it did reach, so that every walked stage ends where the journey moved
    on — at the decision, for the last stage of a stalled journey."""
    out = entry.copy()
    for k in range(out.shape[1] - 2, -1, -1):
        out[:, k] = np.where(np.isnan(out[:, k]), out[:, k + 1], out[:, k])
    return out


@dataclass
class _Parts:
    """Collects segments, clipped to the horizon; empty ones are dropped."""

    horizon: float
    parts: list[pd.DataFrame] = field(default_factory=list)

    def add(self, acct, contact, key, code, start, end, row) -> None:
        start, end = np.maximum(start, 0.0), np.minimum(end, self.horizon)
        ok = end > start
        self.parts.append(
            pd.DataFrame(
                {
                    "account_id": acct[ok],
                    "contact_id": contact[ok],
                    "ckey": key[ok],
                    "code": np.broadcast_to(code, ok.shape)[ok],
                    "start": start[ok],
                    "end": end[ok],
                    "row": np.broadcast_to(row, ok.shape)[ok],
                }
            )
        )


@dataclass(frozen=True)
class _People:
    """The contacts' columns the segments need, and where each in-market account's row is."""

    acct: np.ndarray
    cid: np.ndarray
    ckey: np.ndarray  # the contact's key within its account (local index + 1)
    role_idx: np.ndarray
    committee: np.ndarray
    in_market: np.ndarray  # per account
    row_of: np.ndarray  # per account: its row in the journey record, -1 if not in market

    @classmethod
    def of(cls, accounts: pd.DataFrame, contacts: pd.DataFrame) -> _People:
        im = accounts["in_market"].to_numpy()
        row_of = np.full(len(accounts), -1, dtype=np.int64)
        row_of[np.flatnonzero(im)] = np.arange(int(im.sum()))
        return cls(
            contacts["account_id"].to_numpy(),
            contacts["contact_id"].to_numpy(),
            contacts["_local"].to_numpy() + 1,
            contacts["_role_idx"].to_numpy(),
            contacts["in_committee"].to_numpy(),
            im,
            row_of,
        )

    def add(self, parts: _Parts, who: np.ndarray, code, start, end, row) -> None:
        parts.add(self.acct[who], self.cid[who], self.ckey[who], code, start, end, row)


def _members_out_of_market(parts: _Parts, p: _People, t_join_full: np.ndarray) -> None:
    """Committee members of accounts not in market, and members of a journey that stalled
    before their role joins it: background over the whole horizon."""
    bg = np.flatnonzero(p.committee & (~p.in_market[p.acct] | ~np.isfinite(t_join_full)))
    zeros, horizon = np.zeros(bg.size), np.full(bg.size, parts.horizon)
    p.add(parts, bg, SEG_BACKGROUND, zeros, horizon, p.role_idx[bg] * N_STAGES)


def _members_in_market(
    parts: _Parts, p: _People, entry: np.ndarray, t_join_full: np.ndarray, t_joined: np.ndarray
) -> None:
    """Members of in-market accounts: background until they join (as for any other account, so
    an account does not look colder before its journey), then the rates of the account's
    current stage; after the decision, background again. Fills ``t_joined``."""
    mem = np.flatnonzero(p.committee & p.in_market[p.acct] & np.isfinite(t_join_full))
    tj = t_join_full[mem]
    e = stage_ends(entry)[p.row_of[p.acct[mem]]]
    t_joined[mem] = np.where(tj < parts.horizon, tj, np.nan)
    base_row = p.role_idx[mem] * N_STAGES
    p.add(parts, mem, SEG_BACKGROUND, np.zeros(mem.size), tj, base_row)
    for k in range(1, 5):  # aware .. sales_ready
        p.add(parts, mem, k + 1, np.maximum(tj, e[:, k]), e[:, k + 1], base_row + k + 1)
    after = np.maximum(tj, e[:, 5])
    p.add(parts, mem, SEG_AFTER_DECISION, after, np.full(mem.size, parts.horizon), base_row)


def _noise(parts: _Parts, p: _People, sc: Scenario, streams: Streams, contacts) -> None:
    """People outside the committee: a persona's rates while that person is active (a random
    stretch of ``active_days`` overlapping the horizon, or the whole horizon)."""
    nz = np.flatnonzero(~p.committee)
    pidx = contacts["_persona_idx"].to_numpy()[nz]
    days = [
        s.active_days if (s := sc.noise.personas.get(x)) is not None else None for x in PERSONAS
    ]
    active = np.array([np.inf if d is None else d for d in days])[pidx]
    u0 = rng.to_unit(Streams.words(streams.key("noise", p.acct[nz], p.ckey[nz]), 0))
    limited = np.isfinite(active)
    span = np.where(limited, active, 0)
    t0 = np.where(limited, -span + u0 * (parts.horizon + span), 0.0)
    end = np.where(limited, t0 + active, parts.horizon)
    p.add(parts, nz, SEG_NOISE, t0, end, ROW_PERSONA + pidx)


def _anonymous(parts: _Parts, accounts: pd.DataFrame, entry: np.ndarray) -> None:
    """Each account's anonymous traffic: background, or the rates of its journey's stage."""
    acc = accounts["account_id"].to_numpy()
    im = accounts["in_market"].to_numpy()
    H = parts.horizon
    out_ = acc[~im]
    minus = np.full(out_.size, -1, dtype=np.int64)
    zero = np.zeros(out_.size, dtype=np.int64)
    parts.add(
        out_, minus, zero, SEG_BACKGROUND, np.zeros(out_.size), np.full(out_.size, H), ROW_ACCOUNT
    )
    ins = acc[im]
    entry = stage_ends(entry)
    minus, zero = np.full(ins.size, -1, dtype=np.int64), np.zeros(ins.size, dtype=np.int64)
    parts.add(ins, minus, zero, SEG_BACKGROUND, np.zeros(ins.size), entry[:, 0], ROW_ACCOUNT)
    for k in range(5):
        parts.add(ins, minus, zero, k + 1, entry[:, k], entry[:, k + 1], ROW_ACCOUNT + k + 1)
    end = np.full(ins.size, H)
    parts.add(ins, minus, zero, SEG_AFTER_DECISION, entry[:, 5], end, ROW_ACCOUNT)


def _with_campaigns(sc: Scenario, accounts: pd.DataFrame, base: pd.DataFrame) -> Segments:
    """The base segments plus each campaign's extra segments, sorted by account."""
    base["camp"] = np.int64(-1)
    base_rates = rate_matrix(sc)
    blocks, tables = [base_rates], [base]
    exposed = exposure(sc, accounts)
    for c, camp in enumerate(sc.campaigns):
        mask = np.isin(np.asarray(MARKETING_ACTIVITIES), camp.activities)
        blocks.append((camp.lift - 1.0) * base_rates * mask)
        hit = base[exposed[base["account_id"].to_numpy(), c]]
        s = np.maximum(hit["start"].to_numpy(), camp.start_day)
        en = np.minimum(hit["end"].to_numpy(), camp.end_day)
        ok = en > s
        extra = hit[ok].copy()
        extra["start"], extra["end"] = s[ok], en[ok]
        extra["row"] = extra["row"] + (c + 1) * len(base_rates)
        extra["camp"] = c
        tables.append(extra)
    table = pd.concat(tables, ignore_index=True)
    table = table.sort_values(["account_id", "camp", "contact_id", "code"], kind="stable")
    return Segments(table.reset_index(drop=True), np.vstack(blocks))


def build_segments(
    sc: Scenario,
    streams: Streams,
    accounts: pd.DataFrame,
    contacts: pd.DataFrame,
    rec: JourneyRecord,
    t_join_full: np.ndarray,
) -> tuple[Segments, np.ndarray]:
    """All emitter segments of the world, sorted by account, and each contact's ``t_joined``
    (when it joined its account's buying journey; NaN for everyone who did not within the
    horizon)."""
    parts = _Parts(sc.horizon_days)
    people = _People.of(accounts, contacts)
    t_joined = np.full(len(contacts), np.nan)
    _members_out_of_market(parts, people, t_join_full)
    _members_in_market(parts, people, rec.entry, t_join_full, t_joined)
    _noise(parts, people, sc, streams, contacts)
    _anonymous(parts, accounts, rec.entry)
    base = pd.concat(parts.parts, ignore_index=True)
    return _with_campaigns(sc, accounts, base), t_joined
