"""What a history says of the market: the win rate and the buy probability ``p = one_person ×
factor_per_member^(n − 1)`` (n the account's committee size; maximum likelihood over closed
opportunities with ``won`` known, read as "the account bought"), deal values per tier
(lognormal median and sigma of won accounts' ``value``), and the in-market share: with
``icp_fit`` the ``at_fit_0`` and ``at_fit_1`` of the in-market curve (``shape`` kept) by maximum
likelihood, corrected for the in-market accounts whose journey has not reached "qualified" by
the end of the history."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.real.calibration.estimates import MIN_ACCOUNTS, MIN_CLOSED, Estimate, Fit
from sim.real.calibration.fitting import mle, share
from sim.real.calibration.history import History
from sim.real.calibration.timing import reach_qualified
from sim.world.scenario import Scenario

# Below this spread of icp_fit ** shape the slope of the in-market curve is not identifiable.
MIN_FIT_SPREAD = 0.02


def outcomes(
    h: History, n_comm: np.ndarray, groups: dict[int, np.ndarray], fit: Fit, bsc: Scenario
) -> None:
    """Win rate, buy probability and deal values, from the decided opportunities (``bsc``:
    the base preset, whose per-member factor is kept when the history cannot identify it)."""
    out = h.real.outcomes
    assert out is not None
    out = out.sort_values("account_id")
    closed = h.has_opp & np.isfinite(h.close)
    won = out["won"].to_numpy(dtype=object)
    decided = closed & pd.notna(won)
    wonb = np.array([bool(x) if pd.notna(x) else False for x in won]) & decided
    if decided.sum() >= MIN_CLOSED:
        fit.estimates["win_rate"] = share(int(wonb.sum()), int(decided.sum()))
        _buy_probability(n_comm, decided, wonb, fit, bsc.journey.buy_probability.factor_per_member)
        _deal_values(out["value"].to_numpy(float), wonb, groups, fit)
    else:
        fit.notes.append(f"buy probability and deal values (fewer than {MIN_CLOSED} decided)")


def in_market(
    h: History,
    icp: np.ndarray | None,
    window: tuple[float, float],
    bsc: Scenario,
    seed: int,
    fit: Fit,
) -> None:
    """The in-market share and curve; ``window`` is the fitted journey start window."""
    fit.estimates["in_market_share"] = share(h.n_opp, h.n_accounts)
    reach = reach_qualified(bsc, window[0], window[1], h.horizon, seed)
    fit.estimates["in_market_reach"] = Estimate(
        reach, math.nan, 20_000, "P(qualified in the history)"
    )
    _in_market_curve(h.has_opp, icp, reach, bsc, fit)


def _buy_probability(
    n_comm: np.ndarray, decided: np.ndarray, won: np.ndarray, fit: Fit, f0: float
) -> None:
    """``one_person`` and ``factor_per_member`` by maximum likelihood; when the decided accounts
    (nearly) all have one committee size, only their product is identified: the factor is
    listed as not identifiable and kept at the preset's ``f0``, and one_person fitted alone."""
    n = np.maximum(n_comm[decided], 1).astype(float)
    y = won[decided]
    m = int(decided.sum())
    sizes, counts = np.unique(n, return_counts=True)
    others = m - int(counts.max())  # decided accounts not of the most common size

    def nll_of(a: float, f: float) -> float:
        q = np.clip(a * f ** (n - 1), 1e-12, 1 - 1e-12)
        return -(np.log(q[y]).sum() + np.log1p(-q[~y]).sum())

    if others >= MIN_CLOSED:
        (a, f), (sa, sf) = mle(lambda p: nll_of(*p), [0.6, 0.95], [(1e-4, 1.0), (1e-3, 1.0)])
        fit.estimates["journey.buy_probability.factor_per_member"] = Estimate(f, sf, m)
        fit.set("journey.buy_probability.factor_per_member", round(float(f), 4))
    else:
        (a,), (sa,) = mle(lambda p: nll_of(p[0], f0), [0.6], [(1e-4, 1.0)])
        size = int(sizes[counts.argmax()])
        fit.not_identified(
            "journey.buy_probability.factor_per_member",
            f"{m - others} of the {m} decided accounts have {size} known committee "
            f"member{'s' if size != 1 else ''} (fewer than {MIN_CLOSED} of another size): their "
            "wins cannot tell one person's chance from the factor per extra member; the "
            f"preset's {f0:g} is kept",
        )
    fit.estimates["journey.buy_probability.one_person"] = Estimate(a, sa, m)
    fit.set("journey.buy_probability.one_person", round(float(a), 4))


def _deal_values(
    value: np.ndarray, won: np.ndarray, groups: dict[int, np.ndarray], fit: Fit
) -> None:
    est = fit.estimates
    for k, g in groups.items():
        v = value[won & g & np.isfinite(value) & (value > 0)]
        if v.size < 5:
            continue
        lv = np.log(v)
        med, sd = math.exp(lv.mean()), float(lv.std(ddof=1))
        pre = f"accounts.tiers.{k}.deal_value"
        est[f"{pre}.median"] = Estimate(med, med * sd / math.sqrt(v.size), v.size)
        est[f"{pre}.sigma"] = Estimate(sd, sd / math.sqrt(2 * (v.size - 1)), v.size)
        fit.set(f"{pre}.median", round(med, 2))
        fit.set(f"{pre}.sigma", round(sd, 4))


def _in_market_curve(
    has_opp: np.ndarray, icp: np.ndarray | None, reach: float, bsc: Scenario, fit: Fit
) -> None:
    est = fit.estimates
    shape = bsc.in_market.shape
    ok = np.isfinite(icp) if icp is not None else np.zeros(has_opp.size, dtype=bool)
    x, y = (icp[ok] if icp is not None else np.zeros(0)) ** shape, has_opp[ok]
    if ok.sum() < MIN_ACCOUNTS or x.std() < MIN_FIT_SPREAD:
        p = min(est["in_market_share"].value / reach, 1.0)
        why = (
            f"fewer than {MIN_ACCOUNTS} accounts with an icp_fit"
            if ok.sum() < MIN_ACCOUNTS
            else f"the accounts' icp_fit hardly varies (spread {x.std():.2g} after the shape)"
        )
        for k in ("at_fit_0", "at_fit_1"):
            fit.not_identified(
                f"in_market.{k}",
                f"{why}: how the in-market chance changes with fit cannot be estimated; both ends "
                f"are set to the overall rate {p:.3g} (a flat curve, an assumption)",
            )
            fit.set(f"in_market.{k}", round(p, 4))
        return

    def nll(p):
        q = np.clip(reach * (p[0] + (p[1] - p[0]) * x), 1e-12, 1 - 1e-12)
        return -(np.log(q[y]).sum() + np.log1p(-q[~y]).sum())

    (f0, f1), (s0, s1) = mle(nll, [0.05, 0.3], [(0.0, 1.0), (0.0, 1.0)])
    for k, v, s in (("at_fit_0", f0, s0), ("at_fit_1", f1, s1)):
        est[f"in_market.{k}"] = Estimate(float(v), float(s), int(ok.sum()), f"shape {shape} kept")
        fit.set(f"in_market.{k}", round(float(v), 4))
