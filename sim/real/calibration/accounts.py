"""Accounts of a history: their count, tier shares (multinomial) and the ICP fit Beta(a, b)
(moments; bootstrap standard errors)."""

from __future__ import annotations

import math

import numpy as np

from sim.real.calibration.estimates import MIN_ACCOUNTS, Estimate, Fit
from sim.real.calibration.fitting import beta_moments, share
from sim.real.calibration.history import History
from sim.world.scenario import Scenario, Tier


def history_span(h: History, fit: Fit) -> None:
    """The fitted scenario's name, description, horizon and number of accounts."""
    fit.set("name", "fitted")
    fit.set("description", f"Fitted to a history of {h.n_accounts} accounts by qualsim calibrate.")
    fit.set("horizon_days", h.horizon)
    fit.estimates["horizon_days"] = Estimate(
        h.horizon, math.nan, int(h.times.size), "span of the history"
    )
    fit.set("accounts.count", h.n_accounts)


def tier_groups(h: History, bsc: Scenario, fit: Fit) -> dict[int, np.ndarray]:
    """Tier shares; returns the accounts of each tier (every account in every tier of the
    base preset when the history has too few known tiers: they get the pooled estimates)."""
    ac = h.real.log.accounts
    n_acc = h.n_accounts
    tier = ac["tier"].to_numpy(float) if "tier" in ac.columns else np.full(n_acc, np.nan)
    known_tier = np.isfinite(tier)
    if known_tier.sum() < MIN_ACCOUNTS:
        fit.notes.append("tier mix (no tiers in the history: every tier gets the pooled estimates)")
        return {k: np.ones(n_acc, dtype=bool) for k in bsc.accounts.tiers}
    ids = sorted({int(x) for x in tier[known_tier]})
    groups = {k: tier == k for k in ids}
    n_known = int(known_tier.sum())
    ov = fit.overrides
    for k in sorted(set(ids) | set(bsc.accounts.tiers)):
        cnt = int(groups[k].sum()) if k in groups else 0
        e = share(cnt, n_known)
        fit.estimates[f"accounts.tiers.{k}.share"] = e
        fit.set(f"accounts.tiers.{k}.share", round(e.value, 6))
        if k not in bsc.accounts.tiers:  # a tier the preset lacks: copy its nearest one
            tmpl = _nearest_tier(bsc, k).model_dump(mode="python")
            ov["accounts"]["tiers"][k] = {**tmpl, **ov["accounts"]["tiers"][k]}
    _fix_shares(ov["accounts"]["tiers"])
    if not known_tier.all():
        fit.notes.append(f"tier of {int((~known_tier).sum())} accounts (unknown; left out)")
    return groups


def icp_fit(h: History, seed: int, fit: Fit) -> np.ndarray | None:
    """The ICP fit distribution; returns each account's icp_fit (None without the column or
    with fewer than 10 known)."""
    ac = h.real.log.accounts
    if "icp_fit" not in ac.columns or np.isfinite(ac["icp_fit"].to_numpy(float)).sum() < 10:
        fit.notes.append("ICP fit distribution (no icp_fit column)")
        return None
    values = ac["icp_fit"].to_numpy(float)
    a_e, b_e = beta_moments(values[np.isfinite(values)], np.random.default_rng(seed))
    fit.estimates["accounts.icp_fit.a"], fit.estimates["accounts.icp_fit.b"] = a_e, b_e
    fit.set("accounts.icp_fit.a", a_e.value)
    fit.set("accounts.icp_fit.b", b_e.value)
    return values


def _nearest_tier(bsc: Scenario, k: int) -> Tier:
    """The base preset's tier nearest to tier ``k``."""
    return bsc.accounts.tiers[min(bsc.accounts.tiers, key=lambda j: abs(j - k))]


def _fix_shares(tiers: dict) -> None:
    """Rounded shares that sum to 1 exactly (the schema checks the sum)."""
    keys = list(tiers)
    vals = np.array([tiers[k]["share"] for k in keys], float)
    vals = np.round(vals / vals.sum(), 6)
    vals[int(np.argmax(vals))] += 1.0 - vals.sum()
    for k, v in zip(keys, vals, strict=True):
        tiers[k]["share"] = float(round(v, 6))
