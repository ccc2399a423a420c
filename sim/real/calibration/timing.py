"""Journey timing from a history: opportunity_date → close_date is the time in "qualified" +
"sales_ready"; a lognormal is fitted by maximum likelihood, open opportunities right-censored
at the end of the history, day-precision dates treated as interval-censored. The split between
the two stages is not identified: both keep the base preset's ratio of medians and get one
common sigma, chosen so that their sum has the fitted median and log-spread."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from sim.real.calibration.estimates import MIN_CLOSED, Estimate, Fit
from sim.real.calibration.fitting import mle
from sim.real.calibration.history import History
from sim.world.scenario import Scenario

_U_NODES = (np.arange(16) + 0.5) / 16  # where inside its day a dated event happened


@dataclass(frozen=True)
class CloseTime:
    """The opportunity → close time: the fitted lognormal (``mu``, ``sigma`` of the log, their
    standard errors; ``fitted`` False with fewer than ``MIN_CLOSED`` closed opportunities) and
    the observed durations of the opportunities (NaN where still open)."""

    fitted: bool
    mu: float
    sigma: float
    mu_se: float
    sigma_se: float
    durations: np.ndarray
    closed: np.ndarray  # per opportunity

    def median_days(self) -> float:
        """The fitted median, else the observed one (30 days without a closed opportunity)."""
        if self.fitted:
            return math.exp(self.mu)
        return float(np.nanmedian(self.durations) if self.closed.any() else 30.0)


def close_time(h: History) -> CloseTime:
    """Fit the opportunity → close time (needed to choose the base preset)."""
    has_opp = h.has_opp
    closed = (has_opp & np.isfinite(h.close))[has_opp]
    o_all = h.opp[has_opp]
    d_obs = np.where(closed, h.close[has_opp] - o_all, np.nan)
    if closed.sum() < MIN_CLOSED:
        nan = math.nan
        return CloseTime(False, nan, nan, nan, nan, d_obs, closed)
    (mu, sg), (mu_se, sg_se) = fit_duration(o_all, closed, d_obs, h.horizon, h.by_day)
    return CloseTime(True, mu, sg, mu_se, sg_se, d_obs, closed)


def stage_timing(h: History, ct: CloseTime, bsc: Scenario, fit: Fit) -> None:
    """The medians and sigma of "qualified" and "sales_ready" from the close time, and the
    descriptive days from the first touch to the opportunity."""
    n_opp = h.n_opp
    st = bsc.journey.stages
    if ct.fitted:
        mu, sg, mu_se, sg_se = ct.mu, ct.sigma, ct.mu_se, ct.sigma_se
        ratio = st.qualified.median_days / st.sales_ready.median_days
        mq, ms, sig = split_stages(mu, sg, ratio)
        n_cl = int(ct.closed.sum())
        fit.estimates["days_opportunity_to_close.median"] = Estimate(
            math.exp(mu), math.exp(mu) * mu_se, n_opp, f"{n_opp - n_cl} still open (censored)"
        )
        fit.estimates["days_opportunity_to_close.sigma"] = Estimate(sg, sg_se, n_opp)
        dsig = dsigma(sg, ratio)
        for stage, med in (("qualified", mq), ("sales_ready", ms)):
            pre = f"journey.stages.{stage}"
            fit.estimates[f"{pre}.median_days"] = Estimate(
                med, med * mu_se, n_opp, "base ratio of medians"
            )
            fit.estimates[f"{pre}.sigma"] = Estimate(sig, sg_se * dsig, n_opp, "common sigma")
            fit.set(f"{pre}.median_days", round(med, 4))
            fit.set(f"{pre}.sigma", round(sig, 4))
    else:
        fit.notes.append(f"opportunity → close time (fewer than {MIN_CLOSED} closed opportunities)")
    fit.notes.append(
        "durations of the stages before qualified (unaware, aware, engaged) and the journey "
        "start window"
    )
    _first_touch_to_opportunity(h, fit)


def _first_touch_to_opportunity(h: History, fit: Fit) -> None:
    ev = h.real.log.events
    first = pd.Series(h.times).groupby(ev["account_id"].to_numpy()).min()
    first_t = first.reindex(np.arange(h.n_accounts)).to_numpy()
    ft = (h.opp - first_t)[h.has_opp & np.isfinite(first_t)]
    if ft.size:
        fit.estimates["days_first_touch_to_opportunity.median"] = Estimate(
            float(np.median(ft)),
            1.2533 * float(ft.std()) / math.sqrt(ft.size),
            int(ft.size),
            "descriptive: first touches are mostly background activity",
        )


def start_window(h: History, bsc: Scenario, fit: Fit) -> tuple[float, float]:
    """The journey start window, its end moved with the history's span; returns it."""
    lo_w, hi_w = bsc.journey.start_window_days
    hi_new = min(h.horizon, hi_w - bsc.horizon_days + h.horizon)
    if hi_new <= lo_w:
        hi_new = (lo_w + h.horizon) / 2
    fit.set("journey.start_window_days", [lo_w, round(hi_new, 4)])
    return lo_w, hi_new


def log_sum_moments(med_q: float, sig_q: float, med_s: float, sig_s: float) -> tuple[float, float]:
    """Mean and sd of log(Q + S), Q ~ LN(med_q, sig_q), S ~ LN(med_s, sig_s) (Gauss-Hermite)."""
    z, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / w.sum()
    ls = np.logaddexp(math.log(med_q) + sig_q * z[:, None], math.log(med_s) + sig_s * z[None, :])
    ww = w[:, None] * w[None, :]
    m = float((ww * ls).sum())
    return m, float(math.sqrt(max((ww * (ls - m) ** 2).sum(), 0.0)))


def lognormal_sum(med_q: float, med_s: float, sigma: float) -> tuple[float, float]:
    return log_sum_moments(med_q, sigma, med_s, sigma)


def split_stages(mu: float, s: float, ratio: float) -> tuple[float, float, float]:
    """Medians of qualified and sales_ready (in the base's ``ratio`` q/s) and their common
    sigma such that log(Q + S) has mean ``mu`` and sd ``s``."""
    if s < 1e-6:
        sig = 0.0
    else:
        f = lambda g: lognormal_sum(ratio, 1.0, g)[1] - s  # noqa: E731
        sig = optimize.brentq(f, 1e-6, 20.0) if f(20.0) > 0 else 20.0
    m1, _ = lognormal_sum(ratio, 1.0, sig)
    scale = math.exp(mu - m1)
    return ratio * scale, scale, sig


def fit_duration(o, closed, d_obs, end, by_day) -> tuple[np.ndarray, np.ndarray]:
    """Lognormal (mu, sigma of log) of the opportunity → close time, censored at ``end``."""
    u = _U_NODES if by_day else np.zeros(1)

    def cdf(x, mu, sg):
        with np.errstate(divide="ignore"):
            return stats.norm.cdf((np.log(np.maximum(x, 1e-300)) - mu) / sg) * (x > 0)

    dc, oc = d_obs[closed], o[~closed]

    def nll(p):
        mu, sg = p
        if by_day:
            lik = (cdf(dc[:, None] + 1 - u, mu, sg) - cdf(dc[:, None] - u, mu, sg)).mean(1)
        else:
            z = (np.log(np.maximum(dc, 1e-9)) - mu) / sg
            lik = stats.norm.pdf(z) / (sg * np.maximum(dc, 1e-9))
        sf = (1 - cdf(end - oc[:, None] - u, mu, sg)).mean(1)
        return -(np.log(np.maximum(lik, 1e-300)).sum() + np.log(np.maximum(sf, 1e-300)).sum())

    logd = np.log(np.maximum(dc, 0.5))
    return mle(nll, [logd.mean(), max(logd.std(), 0.1)], [(None, None), (1e-3, 10.0)])


def dsigma(s: float, ratio: float) -> float:
    """d(stage sigma) / d(sigma of the sum's log), numerically."""
    h = max(1e-3, 0.01 * s)
    a = split_stages(0.0, s + h, ratio)[2]
    b = split_stages(0.0, max(s - h, 1e-6), ratio)[2]
    return (a - b) / (s + h - max(s - h, 1e-6))


def reach_qualified(sc: Scenario, lo: float, hi: float, horizon: float, seed: int) -> float:
    """P(an in-market journey reaches qualified before the end of the history)."""
    rng = np.random.default_rng([seed, 7])
    n = 20_000
    st = sc.journey.stages
    t = lo + rng.random(n) * (hi - lo)
    for s in (st.unaware, st.aware, st.engaged):
        t = t + s.median_days * np.exp(s.sigma * rng.standard_normal(n))
    return float((t < horizon).mean())
