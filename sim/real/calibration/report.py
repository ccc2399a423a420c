"""How well a scenario reproduces a history: :func:`fit_report`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy import stats

from sim.real.calibration.history import marketing_only
from sim.real.reallog import RealLog
from sim.vocab import ROLES
from sim.world.presets import load_scenario
from sim.world.scenario import Scenario
from sim.world.simulate import simulate

# A KS distance above this is a poor fit; the report then names the parameter behind it.
POOR_KS = 0.2
# Per observable: the scenario parameters that shape it (what to look at when it fits poorly).
BEHIND: dict[str, tuple[str, tuple[str, ...]]] = {
    "touches_per_account": (
        "the touch rates (touches.*_rates_per_week) and the committee size",
        ("touches.", "accounts.tiers."),
    ),
    "committee_per_account": (
        "the committee size (accounts.tiers.*.committee_size)",
        ("accounts.tiers.",),
    ),
    "days_first_touch_to_opportunity": (
        "the journey start window and the stages before qualified (journey.start_window_days, "
        "journey.stages.unaware/aware/engaged)",
        ("journey.start_window_days", "journey.stages."),
    ),
    "days_opportunity_to_close": (
        "the qualified and sales_ready durations (journey.stages.qualified/sales_ready)",
        ("journey.stages.qualified", "journey.stages.sales_ready"),
    ),
}


def verdict(metric: str, ks: float, unidentified: Mapping[str, str] = MappingProxyType({})) -> str:
    """ "good", or "poor: <the parameter behind it>" (with a word when that parameter was not
    identifiable from the history) for a KS distance above :data:`POOR_KS`.

    >>> verdict("committee_per_account", 0.05)
    'good'
    >>> verdict("committee_per_account", 0.4, {"accounts.tiers.1.committee_size.mean": "..."})
    'poor: the committee size (accounts.tiers.*.committee_size), not identifiable from this history'
    """
    if not ks > POOR_KS:
        return "good" if np.isfinite(ks) else ""
    label, prefixes = BEHIND[metric]
    blind = any(k.startswith(prefixes) for k in unidentified)
    return f"poor: {label}" + (", not identifiable from this history" if blind else "")


def _observables(t, acc, n_acc, comm_per_acc, opp, close) -> dict[str, np.ndarray]:
    first = np.full(n_acc, np.nan)
    if t.size:
        order = np.lexsort((t, acc))
        a_sorted = acc[order]
        starts = np.flatnonzero(np.r_[True, a_sorted[1:] != a_sorted[:-1]])
        first[a_sorted[starts]] = t[order][starts]
    has = np.isfinite(opp) & np.isfinite(first)
    closed = np.isfinite(opp) & np.isfinite(close)
    return {
        "touches_per_account": np.bincount(acc, minlength=n_acc).astype(float),
        "committee_per_account": comm_per_acc.astype(float),
        "days_first_touch_to_opportunity": (opp - first)[has],
        "days_opportunity_to_close": (close - opp)[closed],
    }


def _real_observables(real: RealLog) -> dict[str, np.ndarray]:
    log = marketing_only(real).log  # the world draws no sales touches
    n_acc = len(log.accounts)
    co = log.contacts
    member = (
        np.isin(real.buying_roles.astype(str), ROLES)
        if real.buying_roles is not None
        else np.ones(len(co), bool)
    )
    comm = np.bincount(co["account_id"].to_numpy(np.int64)[member], minlength=n_acc)
    if real.outcomes is None:
        opp = close = np.full(n_acc, np.nan)
    else:
        o = real.outcomes.sort_values("account_id")
        opp, close = o["opportunity_date"].to_numpy(float), o["close_date"].to_numpy(float)
    ev = log.events
    return _observables(
        ev["time"].to_numpy(float), ev["account_id"].to_numpy(np.int64), n_acc, comm, opp, close
    )


def fit_report(
    real: RealLog,
    scenario: str | Path | Scenario,
    seed: int = 0,
    unidentified: Mapping[str, str] = MappingProxyType({}),
) -> pd.DataFrame:
    """Observed vs simulated distributions: touches per account, committee members per account,
    days first touch → opportunity, days opportunity → close; medians, means, the two-sample
    Kolmogorov–Smirnov statistic and p-value, and a ``verdict``: "good", or "poor: " and the
    parameter behind the distribution when KS exceeds :data:`POOR_KS` (``unidentified``: the
    calibration's parameters it could not identify, named as such). The scenario is simulated
    with the history's number of accounts; simulated dates are taken to the day when the
    history's are dates."""
    n_acc = len(real.log.accounts)
    sc = load_scenario(scenario, overrides={"accounts": {"count": n_acc}})
    w = simulate(sc, seed=seed)
    tr = w.truth
    opp, close = tr["t_qualified"].to_numpy(float), tr["t_decision"].to_numpy(float)
    if real.outcome_time_format == "date":
        opp, close = np.floor(opp), np.floor(close)
    # records per account, as a CRM counts them (contacts linked to no account left out)
    con = w.contacts[w.contacts["account_id"].to_numpy() >= 0]
    comm = np.bincount(
        con["account_id"].to_numpy(np.int64)[con["in_committee"].to_numpy()], minlength=n_acc
    )
    if real.buying_roles is None:
        comm = np.bincount(con["account_id"].to_numpy(np.int64), minlength=n_acc)
    sim_obs = _observables(
        w.events["time"].to_numpy(float),
        w.events["account_id"].to_numpy(np.int64),
        n_acc,
        comm,
        opp,
        close,
    )
    rows = []
    for name, x in _real_observables(real).items():
        y = sim_obs[name]
        if x.size and y.size:
            ks = stats.ks_2samp(x, y)
            d, p = float(ks.statistic), float(ks.pvalue)
        else:
            d = p = math.nan

        def s(v, f):
            return float(f(v)) if v.size else math.nan

        rows.append(
            {
                "metric": name,
                "n_observed": x.size,
                "n_simulated": y.size,
                "median_observed": s(x, np.median),
                "median_simulated": s(y, np.median),
                "mean_observed": s(x, np.mean),
                "mean_simulated": s(y, np.mean),
                "ks": d,
                "p_value": p,
                "verdict": verdict(name, d, unidentified),
            }
        )
    return pd.DataFrame(rows)
