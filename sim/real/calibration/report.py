"""How well a scenario reproduces a history: :func:`fit_report`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.real.reallog import RealLog
from sim.vocab import ROLES
from sim.world.presets import load_scenario
from sim.world.scenario import Scenario
from sim.world.simulate import simulate


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
    log = real.log
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


def fit_report(real: RealLog, scenario: str | Path | Scenario, seed: int = 0) -> pd.DataFrame:
    """Observed vs simulated distributions: touches per account, committee members per account,
    days first touch → opportunity, days opportunity → close; medians, means and the two-sample
    Kolmogorov–Smirnov statistic and p-value. The scenario is simulated with the history's
    number of accounts; simulated dates are taken to the day when the history's are dates."""
    n_acc = len(real.log.accounts)
    sc = load_scenario(scenario, overrides={"accounts": {"count": n_acc}})
    w = simulate(sc, seed=seed)
    tr = w.truth
    opp, close = tr["t_qualified"].to_numpy(float), tr["t_decision"].to_numpy(float)
    if real.outcome_time_format == "date":
        opp, close = np.floor(opp), np.floor(close)
    comm = np.bincount(
        w.contacts["account_id"].to_numpy(np.int64)[w.contacts["in_committee"].to_numpy()],
        minlength=n_acc,
    )
    if real.buying_roles is None:
        comm = np.bincount(w.contacts["account_id"].to_numpy(np.int64), minlength=n_acc)
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
            }
        )
    return pd.DataFrame(rows)
