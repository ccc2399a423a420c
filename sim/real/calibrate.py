"""Fit a scenario to a real history: ``calibrate(real) -> Calibration`` and ``fit_report``.

A team's export (``sim.logio.read_log``: touches, contacts with roles, accounts with tiers and
CRM outcomes) identifies some of a scenario's parameters and not others. What is estimated, and
how (every estimate carries a standard error and its sample size, or a note):

- **accounts**: count, tier shares (multinomial), ICP fit Beta(a, b) (moments; bootstrap SE).
- **committee size per tier**: committee members are contacts whose ``role`` is a committee role;
  ``role == "none"`` marks people outside it. ``min`` and ``max`` are the observed extremes and
  ``mean = min + λ`` with λ the maximum-likelihood Poisson mean, counts at ``max`` taken as
  censored (the simulator truncates there). Without a ``role`` column committee and noise cannot
  be told apart: every contact counts as a member and ``noise_contacts`` is set to 0.
- **noise contacts per tier**: mean number of ``role == "none"`` contacts per account.
- **role mix**: ``fill`` weights (influencer vs user among the seats left after the core roles),
  ``blocker_probability`` (accounts with a blocker among those with a seat for one),
  ``procurement_min_size`` (smallest size at which most committees have procurement).
- **identification rate**: share of the identifiable touches that carry a contact_id, over the
  identifiable activities that no account-level source emits in the base preset (``ad_click`` in
  the presets): every such touch comes from a person, so the share is the rate itself.
- **timing**: opportunity_date → close_date is the time in "qualified" + "sales_ready"; a
  lognormal is fitted by maximum likelihood, open opportunities right-censored at the end of the
  history, day-precision dates treated as interval-censored. The split between the two stages is
  not identified: both keep the base preset's ratio of medians and get one common sigma, chosen so
  that their sum has the fitted median and log-spread.
- **buy probability**: closed opportunities with ``won`` known, ``p = one_person ×
  factor_per_member^(n − 1)`` with n the account's committee size (maximum likelihood); the raw
  win rate (won / closed) is reported too. ``won`` is read as "the account bought".
- **deal value per tier**: lognormal median and sigma of ``value`` of won accounts.
- **in market**: share of accounts with an opportunity; with ``icp_fit`` the ``at_fit_0`` and
  ``at_fit_1`` of the in-market curve (``shape`` kept) by maximum likelihood, corrected for the
  in-market accounts whose journey has not reached "qualified" by the end of the history (that
  chance is computed from the base preset's pre-opportunity stage durations).
- **touch rates** (per week): each account's history is cut into phases relative to its
  opportunity (see :data:`PHASES`; ``W`` = a fifth of the base preset's median time from journey
  start to "qualified"). Observed rates per phase and activity — committee members' known touches
  per member-week (identifiable ones divided by the identification rate), anonymous account-level
  touches per account-week (identifiable ones minus the unidentified share of people's touches) —
  are linear in the scenario's stage rates: ``observed = M @ stage_rates``, where ``M`` (how much
  of each phase's member-time is spent in each latent stage, weighted by role multipliers) is
  computed exactly from a reference world of the fitted structure. Stage rates are the
  non-negative least-squares solution; standard errors come from a bootstrap over accounts. Noise
  personas' rates are scaled per activity to the observed rate of ``role == "none"`` contacts.

Not identified (kept from the base preset, listed in ``Calibration.notes``): the durations of
the stages before "qualified" and the journey start window, role activity multipliers and join
stages, seniority and department mixes, noise persona mix, competitor, campaigns (the fitted
file sets ``campaigns: []``: the history's rates already include its own campaigns' lift), and
the sales team.

>>> est = Estimate(0.42, 0.013, 1450)
>>> est.comment()
'0.42 ± 0.013 (n=1450)'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from sim.errors import DataError, QualsimError
from sim.real.read import RealLog, read_log
from sim.rng import Streams
from sim.vocab import ACTIVITIES, RATE_STAGES, ROLES
from sim.world.accounts import draw_accounts, draw_contacts
from sim.world.journeys import join_times, walk_journeys
from sim.world.presets import PRESETS, load_scenario
from sim.world.scenario import Scenario
from sim.world.segments import N_STAGES, ROW_ACCOUNT, ROW_PERSONA, build_segments
from sim.world.simulate import simulate

__all__ = [
    "MIN_ACCOUNTS",
    "MIN_OPPORTUNITIES",
    "PHASES",
    "Calibration",
    "Estimate",
    "calibrate",
    "calibrate_files",
    "fit_report",
]

MIN_ACCOUNTS = 30
MIN_OPPORTUNITIES = 20
MIN_CLOSED = 10
REFERENCE_ACCOUNTS = 20_000  # accounts of the reference world behind the exposure matrices
# Phases of an account's history. With an opportunity at o, closing at c (or open until the end
# H): before = [0, o-3W), pre3/pre2/pre1 = the three W-day windows before o, opp1/opp2 = the two
# halves of [o, c), after = [c, H). Accounts without an opportunity are all "no_opp".
PHASES = ("before", "pre3", "pre2", "pre1", "opp1", "opp2", "after", "no_opp")
CONTACT_STAGES = ("background", "aware", "engaged", "qualified", "sales_ready")
ACCOUNT_STAGES = RATE_STAGES
_N_BOOT = 200
_U_NODES = (np.arange(16) + 0.5) / 16  # where inside its day a dated event happened


@dataclass(frozen=True)
class Estimate:
    """One estimated quantity: value, standard error (NaN when not available), sample size."""

    value: float
    se: float
    n: int
    note: str = ""

    def comment(self) -> str:
        se = "" if not np.isfinite(self.se) else f" ± {self.se:.2g}"
        note = f"; {self.note}" if self.note else ""
        return f"{self.value:.4g}{se} (n={self.n}){note}"


@dataclass(frozen=True, eq=False)
class Calibration:
    """The result of :func:`calibrate`: estimates, the scenario overrides they make, the notes.

    ``estimates`` is keyed by the dotted scenario path an estimate sets (e.g.
    ``touches.identification_rate``) or by a descriptive name (``win_rate``, ...);
    ``overrides`` is what the fitted scenario changes on top of ``base``; ``phase_rates`` holds
    the observed rates per phase and activity; ``distances`` the preset distances (see
    :func:`closest_preset`).
    """

    base: str
    estimates: dict[str, Estimate]
    overrides: dict[str, Any]
    notes: tuple[str, ...]
    phase_rates: pd.DataFrame
    distances: dict[str, float] = field(default_factory=dict)
    n_accounts: int = 0
    horizon_days: float = 0.0

    def scenario(self) -> Scenario:
        """The fitted scenario, validated (the one :meth:`to_yaml` writes)."""
        return load_scenario(self.base, overrides={**self.overrides, "extends": self.base})

    def table(self) -> pd.DataFrame:
        """Every estimate as a row: name, value, se, n, note."""
        return pd.DataFrame(
            [(k, e.value, e.se, e.n, e.note) for k, e in self.estimates.items()],
            columns=["name", "value", "se", "n", "note"],
        )

    def to_yaml(self, path: str | Path) -> Path:
        """Write a scenario that ``extends:`` the base preset and overrides the fitted fields,
        each commented with its estimate ± standard error and sample size."""
        path = Path(path)
        lines = [
            "# Fitted by qualsim calibrate: each number is an estimate ± standard error",
            "# (n = sample size). Not identified from the history, kept from the preset:",
            *(f"#   - {n}" for n in self.notes),
            f"extends: {self.base}",
        ]
        lines += _yaml_lines(self.overrides, (), self.estimates, 0)
        try:
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        except OSError as exc:
            msg = f"{path}: cannot write the fitted scenario ({exc.strerror})"
            raise QualsimError(msg) from None
        return path


# ---------------------------------------------------------------------------------------------
# YAML output


def _num(v: Any) -> str:
    if isinstance(v, bool | str):
        return str(v).lower() if isinstance(v, bool) else _quote(v)
    if isinstance(v, int | np.integer):
        return str(int(v))
    return np.format_float_positional(float(v), precision=10, fractional=False, trim="-")


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_lines(node: dict, path: tuple, est: dict[str, Estimate], depth: int) -> list[str]:
    pad = "  " * depth
    out = []
    for k, v in node.items():
        p = (*path, str(k))
        key = ".".join(p)
        if isinstance(v, dict) and v:
            out.append(f"{pad}{k}:")
            out += _yaml_lines(v, p, est, depth + 1)
            continue
        if isinstance(v, dict):
            text = "{}"
        elif isinstance(v, list | tuple):
            text = "[" + ", ".join(_num(x) for x in v) + "]"
        else:
            text = _num(v)
        comment = f"  # {est[key].comment()}" if key in est else ""
        out.append(f"{pad}{k}: {text}{comment}")
    return out


# ---------------------------------------------------------------------------------------------
# Small statistics helpers


def _mle(nll, x0, bounds) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``nll``; standard errors from the inverse of a finite-difference Hessian (NaN
    for a parameter at a bound or when the Hessian is not positive definite)."""
    res = optimize.minimize(nll, np.asarray(x0, float), method="L-BFGS-B", bounds=bounds)
    x = res.x
    k = x.size
    h = np.array([1e-4 * max(abs(v), 1e-2) for v in x])
    hess = np.empty((k, k))
    f0 = nll(x)
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            if i == j:
                val = (nll(x + ei) - 2 * f0 + nll(x - ei)) / h[i] ** 2
            else:
                val = (
                    nll(x + ei + ej) - nll(x + ei - ej) - nll(x - ei + ej) + nll(x - ei - ej)
                ) / (4 * h[i] * h[j])
            hess[i, j] = hess[j, i] = val
    se = np.full(k, np.nan)
    try:
        cov = np.linalg.inv(hess)
        ok = np.diag(cov) > 0
        se[ok] = np.sqrt(np.diag(cov)[ok])
    except np.linalg.LinAlgError:
        pass
    for i, (lo, hi) in enumerate(bounds):
        if (lo is not None and x[i] - lo < 2 * h[i]) or (hi is not None and hi - x[i] < 2 * h[i]):
            se[i] = np.nan
    return x, se


def _share(k: float, n: int) -> Estimate:
    p = k / n if n else math.nan
    return Estimate(p, math.sqrt(p * (1 - p) / n) if n else math.nan, int(n))


def _committee_size(x: np.ndarray) -> tuple[int, Estimate, int]:
    """min, mean (= min + censored-Poisson MLE of the extra seats) and max of committee sizes."""
    lo, hi = max(1, int(x.min())), min(60, int(x.max()))
    y = np.clip(x, lo, hi) - lo
    cap = hi - lo
    if cap == 0 or y.mean() == 0:
        return lo, Estimate(float(lo), 0.0, x.size, "every committee has the same size"), hi
    at_cap = y >= cap

    def nll(p):
        lam = max(p[0], 1e-9)
        return -(
            stats.poisson.logpmf(y[~at_cap], lam).sum()
            + at_cap.sum() * stats.poisson.logsf(cap - 1, lam)
        )

    (lam,), (se,) = _mle(nll, [max(y.mean(), 0.1)], [(1e-6, 40.0)])
    return lo, Estimate(lo + float(lam), float(se), x.size), max(hi, math.ceil(lo + lam))


def _log_sum_moments(med_q: float, sig_q: float, med_s: float, sig_s: float):
    """Mean and sd of log(Q + S), Q ~ LN(med_q, sig_q), S ~ LN(med_s, sig_s) (Gauss-Hermite)."""
    z, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / w.sum()
    ls = np.logaddexp(math.log(med_q) + sig_q * z[:, None], math.log(med_s) + sig_s * z[None, :])
    ww = w[:, None] * w[None, :]
    m = float((ww * ls).sum())
    return m, float(math.sqrt(max((ww * (ls - m) ** 2).sum(), 0.0)))


def _lognormal_sum(med_q: float, med_s: float, sigma: float) -> tuple[float, float]:
    return _log_sum_moments(med_q, sigma, med_s, sigma)


def _split_stages(mu: float, s: float, ratio: float) -> tuple[float, float, float]:
    """Medians of qualified and sales_ready (in the base's ``ratio`` q/s) and their common
    sigma such that log(Q + S) has mean ``mu`` and sd ``s``."""
    if s < 1e-6:
        sig = 0.0
    else:
        f = lambda g: _lognormal_sum(ratio, 1.0, g)[1] - s  # noqa: E731
        sig = optimize.brentq(f, 1e-6, 20.0) if f(20.0) > 0 else 20.0
    m1, _ = _lognormal_sum(ratio, 1.0, sig)
    scale = math.exp(mu - m1)
    return ratio * scale, scale, sig


def _fit_duration(o, closed, d_obs, end, by_day) -> tuple[np.ndarray, np.ndarray]:
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
    return _mle(nll, [logd.mean(), max(logd.std(), 0.1)], [(None, None), (1e-3, 10.0)])


# ---------------------------------------------------------------------------------------------
# Phases


def _phase_windows(opp: np.ndarray, close: np.ndarray, horizon: float, w: float) -> np.ndarray:
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


def _phase_of(t: np.ndarray, acc: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The phase of each event (index into :data:`PHASES`)."""
    return (t[:, None] >= edges[acc, 1:8]).sum(axis=1)


def _overlap(start, end, acc, edges) -> np.ndarray:
    """Days each segment spends in each phase of its account (segments x phases)."""
    lo, hi = edges[acc, :-1], edges[acc, 1:]
    return np.clip(np.minimum(end[:, None], hi) - np.maximum(start[:, None], lo), 0.0, None)


def _window_days(base: Scenario) -> float:
    st = base.journey.stages
    return (st.unaware.median_days + st.aware.median_days + st.engaged.median_days) / 5.0


# ---------------------------------------------------------------------------------------------
# Preset distance


def _preset_observables(sc: Scenario) -> tuple[float, float]:
    tiers = sc.accounts.tiers.values()
    committee = sum(t.share * t.committee_size.mean for t in tiers)
    st = sc.journey.stages
    q, s = st.qualified, st.sales_ready
    m, _ = _log_sum_moments(q.median_days, q.sigma, s.median_days, s.sigma)
    return committee, math.exp(m)


def closest_preset(committee_mean: float, days_to_close: float) -> tuple[str, dict[str, float]]:
    """The preset nearest to a history: Euclidean distance of log committee mean and log median
    days opportunity → close (both ratios count alike: twice the committee, twice the time)."""
    dist = {}
    for p in PRESETS:
        c, d = _preset_observables(load_scenario(p))
        dist[p] = math.hypot(math.log(committee_mean / c), math.log(days_to_close / d))
    return min(dist, key=dist.__getitem__), dist


# ---------------------------------------------------------------------------------------------
# calibrate


def _set(tree: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    node = tree
    for p in parts[:-1]:
        key: Any = int(p) if p.isdigit() else p
        node = node.setdefault(key, {})
    node[int(parts[-1]) if parts[-1].isdigit() else parts[-1]] = value


def calibrate(real: RealLog, base: str | None = None, seed: int = 0) -> Calibration:
    """Estimate a scenario's identifiable parameters from a real history (see the module doc).

    ``base`` is the preset the fitted scenario extends (default: the closest one). Raises
    ``DataError`` when the history is too small: fewer than ``MIN_ACCOUNTS`` accounts, no
    outcomes, or fewer than ``MIN_OPPORTUNITIES`` opportunities.
    """
    if base is not None and base not in PRESETS:
        raise QualsimError(f"unknown base preset {base!r}: expected one of {', '.join(PRESETS)}")
    log = real.log
    ev, co, ac = log.events, log.contacts, log.accounts
    n_acc = len(ac)
    if n_acc < MIN_ACCOUNTS:
        raise DataError(f"too small to calibrate: {n_acc} accounts (need {MIN_ACCOUNTS} or more)")
    if real.outcomes is None:
        raise DataError(
            "cannot calibrate without outcomes: the accounts file needs an opportunity_date "
            "column (and close_date, won) to estimate journey timing and the in-market share"
        )
    out = real.outcomes.sort_values("account_id")
    opp = out["opportunity_date"].to_numpy(float)
    close = out["close_date"].to_numpy(float)
    has_opp = np.isfinite(opp)
    n_opp = int(has_opp.sum())
    if n_opp < MIN_OPPORTUNITIES:
        raise DataError(
            f"too small to calibrate: {n_opp} account(s) with an opportunity_date (need "
            f"{MIN_OPPORTUNITIES} or more to estimate journey timing and the in-market share)"
        )
    by_day = real.outcome_time_format == "date"
    t = ev["time"].to_numpy(float)
    horizon = float(math.floor(t.max()) + 1)
    est: dict[str, Estimate] = {}
    notes: list[str] = []
    ov: dict[str, Any] = {}

    # -- committee and noise contacts ------------------------------------------------------
    c_acc = co["account_id"].to_numpy(np.int64)
    if "role" in co.columns:
        role = co["role"].astype(str).to_numpy()
        member = np.isin(role, ROLES)
    else:
        role = None
        member = np.ones(len(co), dtype=bool)
        notes.append(
            "committee vs noise contacts (no role column: every contact counts as a member, "
            "noise_contacts = 0)"
        )
    n_comm = np.bincount(c_acc[member], minlength=n_acc)
    n_noise = np.bincount(c_acc[~member], minlength=n_acc)
    if (n_comm == 0).all():
        raise DataError("cannot calibrate: no contact has a buying-committee role")

    # -- timing: opportunity -> close (needed for the preset choice) -----------------------
    closed = has_opp & np.isfinite(close)
    o_all = opp[has_opp]
    closed_o = closed[has_opp]
    d_obs = np.where(closed_o, close[has_opp] - o_all, np.nan)
    if closed_o.sum() >= MIN_CLOSED:
        (mu, sg), (mu_se, sg_se) = _fit_duration(o_all, closed_o, d_obs, horizon, by_day)
        timing = True
    else:
        timing = False
    comm_mean = float(n_comm[n_comm > 0].mean())
    if base is None:
        dtc = math.exp(mu) if timing else float(np.nanmedian(d_obs) if closed_o.any() else 30.0)
        base, distances = closest_preset(comm_mean, max(dtc, 0.5))
    else:
        distances = {}
    bsc = load_scenario(base)

    # -- accounts and tiers ----------------------------------------------------------------
    _set(ov, "name", "fitted")
    _set(ov, "description", f"Fitted to a history of {n_acc} accounts by qualsim calibrate.")
    _set(ov, "horizon_days", horizon)
    est["horizon_days"] = Estimate(horizon, math.nan, int(t.size), "span of the history")
    _set(ov, "accounts.count", n_acc)
    tier = ac["tier"].to_numpy(float) if "tier" in ac.columns else np.full(n_acc, np.nan)
    known_tier = np.isfinite(tier)
    groups: dict[int, np.ndarray]
    if known_tier.sum() >= MIN_ACCOUNTS:
        ids = sorted({int(x) for x in tier[known_tier]})
        groups = {k: tier == k for k in ids}
        n_known = int(known_tier.sum())
        for k in sorted(set(ids) | set(bsc.accounts.tiers)):
            cnt = int(groups[k].sum()) if k in groups else 0
            e = _share(cnt, n_known)
            est[f"accounts.tiers.{k}.share"] = e
            _set(ov, f"accounts.tiers.{k}.share", round(e.value, 6))
            if k not in bsc.accounts.tiers:  # a tier the preset lacks: copy its nearest one
                near = min(bsc.accounts.tiers, key=lambda j, k=k: abs(j - k))
                tmpl = bsc.accounts.tiers[near].model_dump(mode="python")
                ov["accounts"]["tiers"][k] = {**tmpl, **ov["accounts"]["tiers"][k]}
        _fix_shares(ov["accounts"]["tiers"])
        if not known_tier.all():
            notes.append(f"tier of {int((~known_tier).sum())} accounts (unknown; left out)")
    else:
        groups = {k: np.ones(n_acc, dtype=bool) for k in bsc.accounts.tiers}
        notes.append("tier mix (no tiers in the history: every tier gets the pooled estimates)")
    if "icp_fit" in ac.columns and np.isfinite(ac["icp_fit"].to_numpy(float)).sum() >= 10:
        fit = ac["icp_fit"].to_numpy(float)
        a_e, b_e = _beta_moments(fit[np.isfinite(fit)], np.random.default_rng(seed))
        est["accounts.icp_fit.a"], est["accounts.icp_fit.b"] = a_e, b_e
        _set(ov, "accounts.icp_fit.a", a_e.value)
        _set(ov, "accounts.icp_fit.b", b_e.value)
    else:
        fit = None
        notes.append("ICP fit distribution (no icp_fit column)")

    for k, g in groups.items():
        sel = g & (n_comm > 0)
        if sel.sum() < 5:
            notes.append(f"committee size of tier {k} (fewer than 5 accounts)")
            continue
        lo, mean_e, hi = _committee_size(n_comm[sel])
        pre = f"accounts.tiers.{k}.committee_size"
        est[f"{pre}.mean"] = mean_e
        _set(ov, f"{pre}.min", lo)
        _set(ov, f"{pre}.mean", round(max(mean_e.value, lo), 4))
        _set(ov, f"{pre}.max", hi)
        nz = n_noise[g]
        noise = float(nz.mean()) if role is not None else 0.0
        est[f"accounts.tiers.{k}.noise_contacts"] = Estimate(
            noise, float(nz.std(ddof=1) / math.sqrt(nz.size)) if role is not None else 0.0, nz.size
        )
        _set(ov, f"accounts.tiers.{k}.noise_contacts", round(min(noise, 40.0), 4))
    if (n_comm == 0).any():
        notes.append(f"committee of {int((n_comm == 0).sum())} accounts without members (skipped)")

    # -- roles -----------------------------------------------------------------------------
    if role is not None:
        _roles(role, member, c_acc, n_acc, n_comm, bsc, est, ov, notes)

    # -- identification rate ---------------------------------------------------------------
    act = ev["activity"].astype(str).to_numpy()
    known = ev["contact_id"].to_numpy(np.int64) >= 0
    ident = list(bsc.touches.identifiable)
    ar = bsc.touches.account_rates_per_week
    person_only = [
        a for a in ident if all(getattr(ar, s).get(a, 0.0) == 0.0 for s in ACCOUNT_STAGES)
    ]
    sel = np.isin(act, person_only)
    if sel.sum() >= 30:
        e = _share(int(known[sel].sum()), int(sel.sum()))
        e = Estimate(e.value, e.se, e.n, f"from {', '.join(person_only)}")
        est["touches.identification_rate"] = e
        _set(ov, "touches.identification_rate", round(e.value, 4))
        p_id = max(e.value, 1e-3)
    else:
        p_id = bsc.touches.identification_rate
        notes.append(
            "identification rate (fewer than 30 touches of an activity only people emit: "
            f"{', '.join(person_only) or 'none'})"
        )

    # -- timing ----------------------------------------------------------------------------
    st = bsc.journey.stages
    if timing:
        ratio = st.qualified.median_days / st.sales_ready.median_days
        mq, ms, sig = _split_stages(mu, sg, ratio)
        n_cl = int(closed_o.sum())
        est["days_opportunity_to_close.median"] = Estimate(
            math.exp(mu), math.exp(mu) * mu_se, n_opp, f"{n_opp - n_cl} still open (censored)"
        )
        est["days_opportunity_to_close.sigma"] = Estimate(sg, sg_se, n_opp)
        dsig = _dsigma(sg, ratio)
        for stage, med in (("qualified", mq), ("sales_ready", ms)):
            pre = f"journey.stages.{stage}"
            est[f"{pre}.median_days"] = Estimate(med, med * mu_se, n_opp, "base ratio of medians")
            est[f"{pre}.sigma"] = Estimate(sig, sg_se * dsig, n_opp, "common sigma")
            _set(ov, f"{pre}.median_days", round(med, 4))
            _set(ov, f"{pre}.sigma", round(sig, 4))
    else:
        notes.append(f"opportunity → close time (fewer than {MIN_CLOSED} closed opportunities)")
    notes.append(
        "durations of the stages before qualified (unaware, aware, engaged) and the journey "
        "start window"
    )
    first = pd.Series(t).groupby(ev["account_id"].to_numpy()).min()
    first_t = first.reindex(np.arange(n_acc)).to_numpy()
    ft = (opp - first_t)[has_opp & np.isfinite(first_t)]
    if ft.size:
        est["days_first_touch_to_opportunity.median"] = Estimate(
            float(np.median(ft)),
            1.2533 * float(ft.std()) / math.sqrt(ft.size),
            int(ft.size),
            "descriptive: first touches are mostly background activity",
        )
    lo_w, hi_w = bsc.journey.start_window_days
    hi_new = min(horizon, hi_w - bsc.horizon_days + horizon)
    if hi_new <= lo_w:
        hi_new = (lo_w + horizon) / 2
    _set(ov, "journey.start_window_days", [lo_w, round(hi_new, 4)])

    # -- outcomes: win rate, buy probability, deal value -------------------------------------
    won = out["won"].to_numpy(dtype=object)
    decided = closed & pd.notna(won)
    wonb = np.array([bool(x) if pd.notna(x) else False for x in won]) & decided
    if decided.sum() >= MIN_CLOSED:
        est["win_rate"] = _share(int(wonb.sum()), int(decided.sum()))
        _buy_probability(n_comm, decided, wonb, est, ov)
        _deal_values(out["value"].to_numpy(float), wonb, groups, est, ov)
    else:
        notes.append(f"buy probability and deal values (fewer than {MIN_CLOSED} decided)")

    # -- in market ---------------------------------------------------------------------------
    est["in_market_share"] = _share(n_opp, n_acc)
    reach = _reach_qualified(bsc, lo_w, hi_new, horizon, seed)
    est["in_market_reach"] = Estimate(reach, math.nan, 20_000, "P(qualified in the history)")
    _in_market(has_opp, fit, reach, bsc, est, ov, notes)
    _set(ov, "campaigns", [])
    notes += [
        "role activity multipliers and join stages, seniority and department mixes",
        "noise persona mix and their active days; competitor; the sales team",
        "campaigns (set to none: the history's rates already include its campaigns' lift)",
    ]

    # -- touch rates -------------------------------------------------------------------------
    struct = load_scenario(base, overrides=ov)
    phase_rates = _touch_rates(
        real,
        struct,
        opp,
        close,
        horizon,
        n_comm,
        n_noise,
        member,
        person_only if sel.sum() >= 30 else [],
        p_id,
        by_day,
        seed,
        est,
        ov,
    )
    notes.append("unaware-stage rates of committee members (members join at aware or later)")
    return Calibration(
        base=base,
        estimates=est,
        overrides=ov,
        notes=tuple(notes),
        phase_rates=phase_rates,
        distances=distances,
        n_accounts=n_acc,
        horizon_days=horizon,
    )


def _fix_shares(tiers: dict) -> None:
    """Rounded shares that sum to 1 exactly (the schema checks the sum)."""
    keys = list(tiers)
    vals = np.array([tiers[k]["share"] for k in keys], float)
    vals = np.round(vals / vals.sum(), 6)
    vals[int(np.argmax(vals))] += 1.0 - vals.sum()
    for k, v in zip(keys, vals, strict=True):
        tiers[k]["share"] = float(round(v, 6))


def _beta_moments(x: np.ndarray, rng: np.random.Generator) -> tuple[Estimate, Estimate]:
    def mom(v):
        m, var = v.mean(), v.var()
        c = m * (1 - m) / max(var, 1e-12) - 1
        return m * c, (1 - m) * c

    a, b = mom(x)
    boot = np.array([mom(x[rng.integers(0, x.size, x.size)]) for _ in range(100)])
    sa, sb = boot.std(axis=0)
    return Estimate(round(a, 4), sa, x.size), Estimate(round(b, 4), sb, x.size)


def _dsigma(s: float, ratio: float) -> float:
    """d(stage sigma) / d(sigma of the sum's log), numerically."""
    h = max(1e-3, 0.01 * s)
    a = _split_stages(0.0, s + h, ratio)[2]
    b = _split_stages(0.0, max(s - h, 1e-6), ratio)[2]
    return (a - b) / (s + h - max(s - h, 1e-6))


def _roles(role, member, c_acc, n_acc, n_comm, bsc, est, ov, notes) -> None:
    counts = {r: np.bincount(c_acc[role == r], minlength=n_acc) for r in ROLES}
    total = int(member.sum())
    for r in ROLES:
        est[f"role_share.{r}"] = _share(int(counts[r].sum()), total)
    has = n_comm > 0
    proc = counts["procurement"] > 0
    pms = None
    for size in range(1, int(n_comm.max()) + 1):
        s = n_comm == size
        if s.sum() >= 5 and proc[s].mean() >= 0.5:
            pms = size
            break
    if pms is not None:
        est["committee.procurement_min_size"] = Estimate(
            pms, math.nan, int(has.sum()), "smallest size where most committees have procurement"
        )
        _set(ov, "committee.procurement_min_size", pms)
    else:
        pms = bsc.committee.procurement_min_size
        notes.append("procurement_min_size (no size where most committees have procurement)")
    seat = np.where(n_comm >= pms, 3, 2)
    eligible = n_comm > seat
    if eligible.sum() >= 10:
        e = _share(int((counts["blocker"][eligible] > 0).sum()), int(eligible.sum()))
        est["committee.blocker_probability"] = e
        _set(ov, "committee.blocker_probability", round(e.value, 4))
    else:
        notes.append("blocker_probability (fewer than 10 committees with a seat for a blocker)")
    i, u = int(counts["influencer"].sum()), int(counts["user"].sum())
    if i + u >= 10:
        e = _share(i, i + u)
        est["committee.fill.influencer"] = e
        est["committee.fill.user"] = Estimate(1 - e.value, e.se, e.n)
        v = round(e.value, 4)
        _set(ov, "committee.fill", {"influencer": v, "user": round(1 - v, 4)})
    else:
        notes.append("committee fill mix (fewer than 10 influencers and users)")


def _buy_probability(n_comm, decided, won, est, ov) -> None:
    n = np.maximum(n_comm[decided], 1).astype(float)
    y = won[decided]

    def nll(p):
        a, f = p
        q = np.clip(a * f ** (n - 1), 1e-12, 1 - 1e-12)
        return -(np.log(q[y]).sum() + np.log1p(-q[~y]).sum())

    (a, f), (sa, sf) = _mle(nll, [0.6, 0.95], [(1e-4, 1.0), (1e-3, 1.0)])
    m = int(decided.sum())
    est["journey.buy_probability.one_person"] = Estimate(a, sa, m)
    est["journey.buy_probability.factor_per_member"] = Estimate(f, sf, m)
    _set(ov, "journey.buy_probability.one_person", round(float(a), 4))
    _set(ov, "journey.buy_probability.factor_per_member", round(float(f), 4))


def _deal_values(value, won, groups, est, ov) -> None:
    for k, g in groups.items():
        v = value[won & g & np.isfinite(value) & (value > 0)]
        if v.size < 5:
            continue
        lv = np.log(v)
        med, sd = math.exp(lv.mean()), float(lv.std(ddof=1))
        pre = f"accounts.tiers.{k}.deal_value"
        est[f"{pre}.median"] = Estimate(med, med * sd / math.sqrt(v.size), v.size)
        est[f"{pre}.sigma"] = Estimate(sd, sd / math.sqrt(2 * (v.size - 1)), v.size)
        _set(ov, f"{pre}.median", round(med, 2))
        _set(ov, f"{pre}.sigma", round(sd, 4))


def _reach_qualified(sc: Scenario, lo: float, hi: float, horizon: float, seed: int) -> float:
    """P(an in-market journey reaches qualified before the end of the history)."""
    rng = np.random.default_rng([seed, 7])
    n = 20_000
    st = sc.journey.stages
    t = lo + rng.random(n) * (hi - lo)
    for s in (st.unaware, st.aware, st.engaged):
        t = t + s.median_days * np.exp(s.sigma * rng.standard_normal(n))
    return float((t < horizon).mean())


def _in_market(has_opp, fit, reach, bsc, est, ov, notes) -> None:
    shape = bsc.in_market.shape
    if fit is None or np.isfinite(fit).sum() < MIN_ACCOUNTS:
        p = min(est["in_market_share"].value / reach, 1.0)
        se = est["in_market_share"].se / reach
        for k in ("at_fit_0", "at_fit_1"):
            est[f"in_market.{k}"] = Estimate(p, se, has_opp.size, "flat: no icp_fit")
            _set(ov, f"in_market.{k}", round(p, 4))
        return
    ok = np.isfinite(fit)
    x, y = fit[ok] ** shape, has_opp[ok]

    def nll(p):
        q = np.clip(reach * (p[0] + (p[1] - p[0]) * x), 1e-12, 1 - 1e-12)
        return -(np.log(q[y]).sum() + np.log1p(-q[~y]).sum())

    (f0, f1), (s0, s1) = _mle(nll, [0.05, 0.3], [(0.0, 1.0), (0.0, 1.0)])
    for k, v, s in (("at_fit_0", f0, s0), ("at_fit_1", f1, s1)):
        est[f"in_market.{k}"] = Estimate(float(v), float(s), int(ok.sum()), f"shape {shape} kept")
        _set(ov, f"in_market.{k}", round(float(v), 4))


# ---------------------------------------------------------------------------------------------
# Touch rates


def _reference_exposure(sc: Scenario, seed: int, by_day: bool):
    """M matrices of a reference world of the fitted structure (no touches drawn): the share of
    each phase's committee member-time spent in each contact stage (times the role multiplier),
    and of its account-time in each account stage."""
    streams = Streams(seed)
    accounts = draw_accounts(sc, streams)
    contacts = draw_contacts(sc, streams, accounts)
    truth, rec = walk_journeys(sc, streams, accounts)
    t_join = join_times(sc, streams, accounts, contacts, rec)
    seg, _ = build_segments(sc, streams, accounts, contacts, rec, t_join)
    tab = seg.table
    opp = truth["t_qualified"].to_numpy(float)
    close = truth["t_decision"].to_numpy(float)
    if by_day:
        opp, close = np.floor(opp), np.floor(close)
    edges = _phase_windows(opp, close, sc.horizon_days, _window_days(sc))
    length = np.diff(edges, axis=1)
    row = tab["row"].to_numpy()
    acc = tab["account_id"].to_numpy()
    ov = _overlap(tab["start"].to_numpy(), tab["end"].to_numpy(), acc, edges)
    mult = np.array([sc.committee.roles[r].activity for r in ROLES])
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


def _touch_rates(
    real,
    sc,
    opp,
    close,
    horizon,
    n_comm,
    n_noise,
    member,
    person_only_names,
    p_id,
    by_day,
    seed,
    est,
    ov,
) -> pd.DataFrame:
    ev = real.log.events
    n_acc = n_comm.size
    n_ph, n_a = len(PHASES), len(ACTIVITIES)
    edges = _phase_windows(opp, close, horizon, _window_days(sc))
    length = np.diff(edges, axis=1) / 7.0  # weeks
    acc = ev["account_id"].to_numpy(np.int64)
    t = ev["time"].to_numpy(float)
    ph = _phase_of(t, acc, edges)
    a_idx = ev["activity"].cat.codes.to_numpy(np.int64)
    cid = ev["contact_id"].to_numpy(np.int64)
    cls = np.where(cid < 0, 2, np.where(member[np.maximum(cid, 0)], 0, 1))  # member/noise/anon
    flat = ((acc * n_ph + ph) * n_a + a_idx) * 3 + cls
    cnt = np.bincount(flat, minlength=n_acc * n_ph * n_a * 3).reshape(n_acc, n_ph, n_a, 3)
    cnt = cnt.astype(float)
    identifiable = np.isin(ACTIVITIES, sc.touches.identifiable)
    person_only = np.isin(ACTIVITIES, person_only_names)
    x_c = n_comm[:, None] * length
    x_a = length
    x_n = n_noise * horizon / 7.0

    ref = load_scenario(sc, overrides={"accounts": {"count": max(n_acc, REFERENCE_ACCOUNTS)}})
    m_c, m_a = _reference_exposure(ref, seed + 1, by_day)
    t_ = sc.touches
    base_c, base_a = (
        np.array([[getattr(rates, s).get(a, 0.0) for a in ACTIVITIES] for s in stages])
        for rates, stages in (
            (t_.contact_rates_per_week, CONTACT_STAGES),
            (t_.account_rates_per_week, ACCOUNT_STAGES),
        )
    )
    rng = np.random.default_rng([seed, 11])
    weights = [np.ones(n_acc)] + [
        np.bincount(rng.integers(0, n_acc, n_acc), minlength=n_acc).astype(float)
        for _ in range(_N_BOOT)
    ]
    sol_c, sol_a, noise, obs_c, obs_a, overall = [], [], [], [], [], []
    for w in weights:
        p, oc, oa, on = _observed_rates(w, cnt, x_c, x_a, x_n, identifiable, person_only, p_id)
        xc = w @ x_c
        overall.append((oc * xc[:, None]).sum(axis=0) / max(xc.sum(), 1e-12))
        sol_c.append(_solve(m_c, oc, xc, base_c, [1, 2]))
        sol_a.append(_solve(m_a, oa, w @ x_a, base_a, [1, 2, 3]))
        noise.append(on)
        obs_c.append(oc)
        obs_a.append(oa)
    sol_c, sol_a, noise = np.array(sol_c), np.array(sol_a), np.array(noise)
    se_c, se_a, se_n = sol_c[1:].std(0), sol_a[1:].std(0), noise[1:].std(0)

    n_total = int(n_acc)
    for level, stages, sol, se in (
        ("contact_rates_per_week", CONTACT_STAGES, sol_c[0], se_c),
        ("account_rates_per_week", ACCOUNT_STAGES, sol_a[0], se_a),
    ):
        for j, s in enumerate(stages):
            rates = {}
            for a, name in enumerate(ACTIVITIES):
                v = float(sol[j, a])
                if v > 0:
                    rates[name] = _sig4(v)
                est[f"touches.{level}.{s}.{name}"] = Estimate(v, float(se[j, a]), n_total)
            _set(ov, f"touches.{level}.{s}", rates)

    # noise personas: one scale factor per activity on the preset's persona rates
    H = horizon
    expected = np.zeros(n_a)
    for p in sc.noise.personas.values():
        frac = 1.0 if p.active_days is None else p.active_days / (H + p.active_days)
        expected += p.share * frac * np.array([p.rates_per_week.get(a, 0.0) for a in ACTIVITIES])
    scale = np.where(expected > 0, noise[0] / np.where(expected > 0, expected, 1), 0.0)
    if n_noise.sum() > 0:
        for a, name in enumerate(ACTIVITIES):
            if expected[a] > 0:
                est[f"noise.rate_scale.{name}"] = Estimate(
                    float(scale[a]), float(se_n[a] / expected[a]), int(n_noise.sum())
                )
        for pname, p in sc.noise.personas.items():
            rates = {
                a: _sig4(v * scale[ACTIVITIES.index(a)])
                for a, v in p.rates_per_week.items()
                if v * scale[ACTIVITIES.index(a)] > 0
            }
            _set(ov, f"noise.personas.{pname}.rates_per_week", rates or {"web_visit": 0.0})

    rows = []
    oc_b, oa_b = np.array(obs_c), np.array(obs_a)
    for level, o, x in (("contact", oc_b, x_c), ("account", oa_b, x_a)):
        tot = x.sum(axis=0)
        for i, phase in enumerate(PHASES):
            for a, name in enumerate(ACTIVITIES):
                rows.append((level, phase, name, o[0, i, a], o[1:, i, a].std(), tot[i]))
    overall = np.array(overall)
    for a, name in enumerate(ACTIVITIES):
        rows.append(("contact", "overall", name, overall[0, a], overall[1:, a].std(), x_c.sum()))
        rows.append(("noise", "overall", name, noise[0, a], se_n[a], x_n.sum()))
    return pd.DataFrame(rows, columns=["level", "phase", "activity", "rate", "se", "weeks"])


def _sig4(v: float) -> float:
    """``v`` to 4 significant digits."""
    return float(np.format_float_positional(v, precision=4, unique=False, fractional=False))


def _observed_rates(w, cnt, x_c, x_a, x_n, identifiable, person_only, p_fixed):
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
    xc, xa = w @ x_c, w @ x_a
    oc = c[..., 0] * inv / np.maximum(xc, 1e-12)[:, None]
    oa = (c[..., 2] - miss * (c[..., 0] + c[..., 1])) / np.maximum(xa, 1e-12)[:, None]
    on = (c[..., 1] * inv).sum(axis=0) / max(w @ x_n, 1e-12)
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


# ---------------------------------------------------------------------------------------------
# Fit report


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
        np.isin(co["role"].astype(str).to_numpy(), ROLES)
        if "role" in co.columns
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
    if "role" not in real.log.contacts.columns:
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


def calibrate_files(
    events: str | Path,
    contacts: str | Path,
    accounts: str | Path,
    out: str | Path,
    base: str | None = None,
    seed: int = 0,
) -> tuple[Calibration, pd.DataFrame]:
    """Read a history, calibrate, write the fitted scenario to ``out`` and return the
    calibration and its fit report. Raises ``QualsimError`` subclasses for bad input."""
    real = read_log(events, contacts, accounts)
    cal = calibrate(real, base=base, seed=seed)
    path = cal.to_yaml(out)
    return cal, fit_report(real, path, seed=seed)
