"""Phases of an account's history relative to its opportunity, and how a reference world of
the fitted structure spends its member-time in the latent stages during each phase.

With an opportunity at o, closing at c (or open until the end H): before = [0, o-3W),
pre3/pre2/pre1 = the three W-day windows before o, opp1/opp2 = the two halves of [o, c),
after = [c, H); ``W`` is a fifth of the base preset's median time from journey start to
"qualified". Accounts without an opportunity are all "no_opp".
"""

from __future__ import annotations

from typing import get_args

import numpy as np

from sim.vocab import RATE_STAGES, Role
from sim.world.scenario import Scenario
from sim.world.segments import N_STAGES, ROW_ACCOUNT, ROW_PERSONA
from sim.world.simulate import latent_world

PHASES = ("before", "pre3", "pre2", "pre1", "opp1", "opp2", "after", "no_opp")
CONTACT_STAGES = ("background", "aware", "engaged", "qualified", "sales_ready")
ACCOUNT_STAGES = RATE_STAGES
# The roles in the order of sim.vocab.ROLES, typed as the scenario keys them.
_ROLE_KEYS: tuple[Role, ...] = get_args(Role)


def phase_windows(opp: np.ndarray, close: np.ndarray, horizon: float, w: float) -> np.ndarray:
    """Edges (accounts x 9) of the phases of :data:`PHASES`: phase k is [edge k, edge k+1).
    Accounts with an opportunity have an empty "no_opp" phase, the others only that one."""
    n = opp.size
    has = np.isfinite(opp)
    o = np.where(has, opp, 0.0)
    cend = np.maximum(np.where(np.isfinite(close), close, horizon), o)
    h = np.full(n, horizon)
    e = np.column_stack([np.zeros(n), o - 3 * w, o - 2 * w, o - w, o, (o + cend) / 2, cend, h, h])
    e = np.maximum.accumulate(np.clip(e, 0.0, horizon), axis=1)
    e[~has, :-1] = 0.0
    return e


def phase_of(t: np.ndarray, acc: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The phase of each event (index into :data:`PHASES`)."""
    return (t[:, None] >= edges[acc, 1:8]).sum(axis=1)


def overlap(start, end, acc, edges) -> np.ndarray:
    """Days each segment spends in each phase of its account (segments x phases)."""
    lo, hi = edges[acc, :-1], edges[acc, 1:]
    return np.clip(np.minimum(end[:, None], hi) - np.maximum(start[:, None], lo), 0.0, None)


def window_days(base: Scenario) -> float:
    st = base.journey.stages
    return (st.unaware.median_days + st.aware.median_days + st.engaged.median_days) / 5.0


def reference_exposure(sc: Scenario, seed: int, by_day: bool) -> tuple[np.ndarray, np.ndarray]:
    """M matrices of a reference world of the fitted structure (no touches drawn): the share of
    each phase's committee member-time spent in each contact stage (times the role multiplier),
    and of its account-time in each account stage."""
    latent = latent_world(sc, seed)
    accounts, truth, tab = latent.accounts, latent.truth, latent.segments.table
    opp = truth["t_qualified"].to_numpy(float)
    close = truth["t_decision"].to_numpy(float)
    if by_day:
        opp, close = np.floor(opp), np.floor(close)
    edges = phase_windows(opp, close, sc.horizon_days, window_days(sc))
    length = np.diff(edges, axis=1)
    row = tab["row"].to_numpy()
    acc = tab["account_id"].to_numpy()
    ov = overlap(tab["start"].to_numpy(), tab["end"].to_numpy(), acc, edges)
    mult = np.array([sc.committee.roles[r].activity for r in _ROLE_KEYS])
    stage_col = {s: i for i, s in enumerate(RATE_STAGES)}
    comm = row < ROW_PERSONA
    m_c = np.zeros((len(PHASES), len(CONTACT_STAGES)))
    w = mult[row[comm] // N_STAGES]
    st = row[comm] % N_STAGES
    for j, s in enumerate(CONTACT_STAGES):
        sel = st == stage_col[s]
        m_c[:, j] = (w[sel, None] * ov[comm][sel]).sum(axis=0)
    size = accounts["committee_size"].to_numpy()
    m_c /= np.maximum((size[:, None] * length).sum(axis=0), 1e-12)[:, None]
    accseg = row >= ROW_ACCOUNT
    m_a = np.zeros((len(PHASES), len(ACCOUNT_STAGES)))
    st_a = row[accseg] - ROW_ACCOUNT
    for j in range(len(ACCOUNT_STAGES)):
        m_a[:, j] = ov[accseg][st_a == j].sum(axis=0)
    m_a /= np.maximum(length.sum(axis=0), 1e-12)[:, None]
    return m_c, m_a
