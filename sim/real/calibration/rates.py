"""Touch rates per week from a history, and the identification rate.

- **identification rate**: share of the identifiable touches that carry a contact_id, over the
  identifiable activities that no account-level source emits in the base preset (``ad_click``
  in the presets): every such touch comes from a person, so the share is the rate itself.
- **stage rates**: observed rates per phase (:mod:`~sim.real.calibration.phases`) and activity —
  committee members' known touches per member-week (identifiable ones divided by the
  identification rate), anonymous account-level touches per account-week (identifiable ones
  minus the unidentified share of people's touches) — are linear in the scenario's stage rates:
  ``observed = M @ stage_rates``, where ``M`` comes from a reference world of the fitted
  structure. Stage rates are the non-negative least-squares solution; standard errors come from
  a bootstrap over accounts. Noise personas' rates are scaled per activity to the observed rate
  of ``role == "none"`` contacts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

import numpy as np
import pandas as pd
from scipy import optimize

from sim.real.calibration.estimates import Estimate, Fit
from sim.real.calibration.fitting import share
from sim.real.calibration.history import History, Members
from sim.real.calibration.phases import (
    ACCOUNT_STAGES,
    CONTACT_STAGES,
    PHASES,
    phase_of,
    phase_windows,
    reference_exposure,
    window_days,
)
from sim.vocab import MARKETING_ACTIVITIES, MarketingActivity
from sim.world.presets import load_scenario
from sim.world.scenario import Scenario

REFERENCE_ACCOUNTS = 20_000  # accounts of the reference world behind the exposure matrices
_N_BOOT = 200
_MIN_PERSON_TOUCHES = 30
# The activities in the order of sim.vocab.MARKETING_ACTIVITIES, typed as the scenario keys them.
_ACTIVITY_KEYS: tuple[MarketingActivity, ...] = get_args(MarketingActivity)


@dataclass(frozen=True)
class Identification:
    """The identification rate used for the touch rates (``rate``), and the person-only
    activities it is re-estimated from in each bootstrap draw (none when too few touches)."""

    rate: float
    person_only: Sequence[str]


def identification_rate(h: History, bsc: Scenario, fit: Fit) -> Identification:
    """The identification rate from the activities only people emit (the base preset's rate
    with fewer than 30 such touches)."""
    ev = h.real.log.events
    act = ev["activity"].astype(str).to_numpy()
    known = ev["contact_id"].to_numpy(np.int64) >= 0
    ar = bsc.touches.account_rates_per_week
    person_only = [
        a
        for a in bsc.touches.identifiable
        if all(getattr(ar, s).get(a, 0.0) == 0.0 for s in ACCOUNT_STAGES)
    ]
    sel = np.isin(act, person_only)
    if sel.sum() < _MIN_PERSON_TOUCHES:
        fit.notes.append(
            "identification rate (fewer than 30 touches of an activity only people emit: "
            f"{', '.join(person_only) or 'none'})"
        )
        return Identification(bsc.touches.identification_rate, [])
    e = share(int(known[sel].sum()), int(sel.sum()))
    e = Estimate(e.value, e.se, e.n, f"from {', '.join(person_only)}")
    fit.estimates["touches.identification_rate"] = e
    fit.set("touches.identification_rate", round(e.value, 4))
    return Identification(max(e.value, 1e-3), person_only)


@dataclass(frozen=True)
class _Exposure:
    """Per account and phase: member-weeks (``contact``) and account-weeks (``account``); per
    account: noise-contact-weeks (``noise``)."""

    contact: np.ndarray
    account: np.ndarray
    noise: np.ndarray


def touch_rates(
    h: History, sc: Scenario, m: Members, ident: Identification, seed: int, fit: Fit
) -> pd.DataFrame:
    """Fit the stage rates of ``sc`` (the fitted structure) and the noise personas' rates;
    returns the observed rates per phase and activity (the ``phase_rates`` table)."""
    edges = phase_windows(h.opp, h.close, h.horizon, window_days(sc))
    length = np.diff(edges, axis=1) / 7.0  # weeks
    x = _Exposure(m.n_comm[:, None] * length, length, m.n_noise * h.horizon / 7.0)
    cnt = _touch_counts(h, m.member, edges)
    n_acc = m.n_comm.size
    ref = load_scenario(sc, overrides={"accounts": {"count": max(n_acc, REFERENCE_ACCOUNTS)}})
    m_c, m_a = reference_exposure(ref, seed + 1, h.by_day)
    base_c, base_a = _base_rates(sc)
    identifiable = np.isin(MARKETING_ACTIVITIES, sc.touches.identifiable)
    person_only = np.isin(MARKETING_ACTIVITIES, ident.person_only)
    rng = np.random.default_rng([seed, 11])
    weights = [np.ones(n_acc)] + [
        np.bincount(rng.integers(0, n_acc, n_acc), minlength=n_acc).astype(float)
        for _ in range(_N_BOOT)
    ]
    sol_c, sol_a, noise, obs_c, obs_a, overall = [], [], [], [], [], []
    for w in weights:
        _, oc, oa, on = _observed_rates(w, cnt, x, identifiable, person_only, ident.rate)
        xc = w @ x.contact
        overall.append((oc * xc[:, None]).sum(axis=0) / max(xc.sum(), 1e-12))
        sol_c.append(_solve(m_c, oc, xc, base_c, [1, 2]))
        sol_a.append(_solve(m_a, oa, w @ x.account, base_a, [1, 2, 3]))
        noise.append(on)
        obs_c.append(oc)
        obs_a.append(oa)
    _stage_rates(np.array(sol_c), np.array(sol_a), n_acc, fit)
    noise_b = np.array(noise)
    _noise_rates(sc, h.horizon, m.n_noise, noise_b, fit)
    return _phase_table(np.array(obs_c), np.array(obs_a), np.array(overall), noise_b, x)


def _touch_counts(h: History, member: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Touches per account, phase, activity and source (member, noise contact, anonymous)."""
    ev = h.real.log.events
    n_acc = h.n_accounts
    n_ph, n_a = len(PHASES), len(MARKETING_ACTIVITIES)
    acc = ev["account_id"].to_numpy(np.int64)
    ph = phase_of(ev["time"].to_numpy(float), acc, edges)
    a_idx = ev["activity"].cat.codes.to_numpy(np.int64)
    cid = ev["contact_id"].to_numpy(np.int64)
    cls = np.where(cid < 0, 2, np.where(member[np.maximum(cid, 0)], 0, 1))  # member/noise/anon
    flat = ((acc * n_ph + ph) * n_a + a_idx) * 3 + cls
    cnt = np.bincount(flat, minlength=n_acc * n_ph * n_a * 3).reshape(n_acc, n_ph, n_a, 3)
    return cnt.astype(float)


def _base_rates(sc: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """The scenario's contact and account stage rates (stages x activities)."""
    t_ = sc.touches
    base_c, base_a = (
        np.array([[getattr(rates, s).get(a, 0.0) for a in MARKETING_ACTIVITIES] for s in stages])
        for rates, stages in (
            (t_.contact_rates_per_week, CONTACT_STAGES),
            (t_.account_rates_per_week, ACCOUNT_STAGES),
        )
    )
    return base_c, base_a


def _stage_rates(sol_c: np.ndarray, sol_a: np.ndarray, n_acc: int, fit: Fit) -> None:
    """Estimates and overrides of the stage rates (first draw: the fit; the others: SEs)."""
    se_c, se_a = sol_c[1:].std(0), sol_a[1:].std(0)
    for level, stages, sol, se in (
        ("contact_rates_per_week", CONTACT_STAGES, sol_c[0], se_c),
        ("account_rates_per_week", ACCOUNT_STAGES, sol_a[0], se_a),
    ):
        for j, s in enumerate(stages):
            rates = {}
            for a, name in enumerate(MARKETING_ACTIVITIES):
                v = float(sol[j, a])
                if v > 0:
                    rates[name] = _sig4(v)
                fit.estimates[f"touches.{level}.{s}.{name}"] = Estimate(
                    v, float(se[j, a]), int(n_acc)
                )
            fit.set(f"touches.{level}.{s}", rates)


def _noise_rates(
    sc: Scenario, horizon: float, n_noise: np.ndarray, noise: np.ndarray, fit: Fit
) -> None:
    """Noise personas: one scale factor per activity on the preset's persona rates."""
    n_a = len(MARKETING_ACTIVITIES)
    se_n = noise[1:].std(0)
    expected = np.zeros(n_a)
    for p in sc.noise.personas.values():
        frac = 1.0 if p.active_days is None else p.active_days / (horizon + p.active_days)
        expected += (
            p.share * frac * np.array([p.rates_per_week.get(a, 0.0) for a in _ACTIVITY_KEYS])
        )
    scale = np.where(expected > 0, noise[0] / np.where(expected > 0, expected, 1), 0.0)
    if n_noise.sum() <= 0:
        return
    for a, name in enumerate(MARKETING_ACTIVITIES):
        if expected[a] > 0:
            fit.estimates[f"noise.rate_scale.{name}"] = Estimate(
                float(scale[a]), float(se_n[a] / expected[a]), int(n_noise.sum())
            )
    for pname, p in sc.noise.personas.items():
        rates = {
            a: _sig4(v * scale[MARKETING_ACTIVITIES.index(a)])
            for a, v in p.rates_per_week.items()
            if v * scale[MARKETING_ACTIVITIES.index(a)] > 0
        }
        fit.set(f"noise.personas.{pname}.rates_per_week", rates or {"web_visit": 0.0})


def _phase_table(
    oc_b: np.ndarray, oa_b: np.ndarray, overall: np.ndarray, noise: np.ndarray, x: _Exposure
) -> pd.DataFrame:
    """Observed rates per level, phase and activity with their bootstrap SEs and weeks."""
    se_n = noise[1:].std(0)
    rows = []
    for level, o, xx in (("contact", oc_b, x.contact), ("account", oa_b, x.account)):
        tot = xx.sum(axis=0)
        for i, phase in enumerate(PHASES):
            for a, name in enumerate(MARKETING_ACTIVITIES):
                rows.append((level, phase, name, o[0, i, a], o[1:, i, a].std(), tot[i]))
    for a, name in enumerate(MARKETING_ACTIVITIES):
        rows.append(
            ("contact", "overall", name, overall[0, a], overall[1:, a].std(), x.contact.sum())
        )
        rows.append(("noise", "overall", name, noise[0, a], se_n[a], x.noise.sum()))
    return pd.DataFrame(rows, columns=["level", "phase", "activity", "rate", "se", "weeks"])


def _sig4(v: float) -> float:
    """``v`` to 4 significant digits."""
    return float(np.format_float_positional(v, precision=4, unique=False, fractional=False))


def _observed_rates(
    w: np.ndarray,
    cnt: np.ndarray,
    x: _Exposure,
    identifiable: np.ndarray,
    person_only: np.ndarray,
    p_fixed: float,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Observed rates per phase and activity of accounts weighted by ``w`` (a bootstrap draw):
    the identification rate (re-estimated from the person-only activities when they are
    used), committee members' emitted touches per member-week, account-level anonymous touches
    per account-week, and noise contacts' emitted touches per noise-contact-week."""
    c = np.einsum("i,ipac->pac", w, cnt)
    if person_only.any():
        k = c[:, person_only, :2].sum()
        p = k / max(k + c[:, person_only, 2].sum(), 1e-12)
        p = max(p, 1e-3)
    else:
        p = p_fixed
    inv = np.where(identifiable, 1.0 / p, 1.0)
    miss = np.where(identifiable, (1.0 - p) / p, 0.0)
    xc, xa = w @ x.contact, w @ x.account
    oc = c[..., 0] * inv / np.maximum(xc, 1e-12)[:, None]
    oa = (c[..., 2] - miss * (c[..., 0] + c[..., 1])) / np.maximum(xa, 1e-12)[:, None]
    on = (c[..., 1] * inv).sum(axis=0) / max(w @ x.noise, 1e-12)
    return p, oc, oa, on


def _solve(
    m: np.ndarray, obs: np.ndarray, exposure: np.ndarray, base: np.ndarray, block: list[int]
) -> np.ndarray:
    """Stage rates (stages x activities) from observed phase rates: non-negative least squares
    per activity, phases weighted by sqrt(exposure). The ``block`` stages (those before the
    opportunity, which the phases cannot tell apart well) get one factor per activity on the
    ``base`` preset's rates (equal rates where the base has none)."""
    ok = exposure > 0
    wt = np.sqrt(exposure[ok] / exposure[ok].mean())
    free = [k for k in range(m.shape[1]) if k not in block]
    out = np.zeros((m.shape[1], obs.shape[1]))
    for a in range(obs.shape[1]):
        b = obs[ok, a] * wt
        if not np.any(b > 0):
            continue
        shape = base[block, a] if base[block, a].sum() > 0 else np.ones(len(block))
        design = np.column_stack([m[ok][:, free], m[ok][:, block] @ shape]) * wt[:, None]
        x = optimize.nnls(design, np.maximum(b, 0.0))[0]
        out[free, a] = x[:-1]
        out[block, a] = x[-1] * shape
    return out
