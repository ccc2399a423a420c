"""The buying committee of a history: its size per tier (``min`` and ``max`` the observed
extremes, ``mean = min + λ`` with λ the maximum-likelihood Poisson mean, counts at ``max``
taken as censored: the simulator truncates there), noise contacts per tier (``role == "none"``),
and the role mix."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from sim.real.calibration.estimates import Estimate, Fit
from sim.real.calibration.fitting import mle, share
from sim.real.calibration.history import History, Members
from sim.vocab import ROLES
from sim.world.scenario import Scenario


def committee_per_tier(m: Members, groups: dict[int, np.ndarray], fit: Fit) -> None:
    """Committee size and noise contacts of each tier."""
    n_comm, n_noise = m.n_comm, m.n_noise
    for k, g in groups.items():
        sel = g & (n_comm > 0)
        if sel.sum() < 5:
            fit.notes.append(f"committee size of tier {k} (fewer than 5 accounts)")
            continue
        lo, mean_e, hi = committee_size(n_comm[sel])
        pre = f"accounts.tiers.{k}.committee_size"
        fit.estimates[f"{pre}.mean"] = mean_e
        fit.set(f"{pre}.min", lo)
        fit.set(f"{pre}.mean", round(max(mean_e.value, lo), 4))
        fit.set(f"{pre}.max", hi)
        nz = n_noise[g]
        has_roles = m.role is not None
        noise = float(nz.mean()) if has_roles else 0.0
        fit.estimates[f"accounts.tiers.{k}.noise_contacts"] = Estimate(
            noise, float(nz.std(ddof=1) / math.sqrt(nz.size)) if has_roles else 0.0, nz.size
        )
        fit.set(f"accounts.tiers.{k}.noise_contacts", round(min(noise, 40.0), 4))
        if not has_roles:
            _no_roles(fit, k, mean_e.value)
    if (n_comm == 0).any():
        fit.notes.append(
            f"committee of {int((n_comm == 0).sum())} accounts without members (skipped)"
        )


def _no_roles(fit: Fit, tier: int, people: float) -> None:
    """Without buying roles committee and bystanders cannot be told apart: the committee size
    and the noise contacts of ``tier`` are assumptions (every known person a member, no
    noise), listed as not identifiable rather than as estimates."""
    why = (
        "the contacts file has no buying_role column, so committee members and bystanders "
        "cannot be told "
        "apart; the fitted world counts every known person as a member"
    )
    fit.not_identified(
        f"accounts.tiers.{tier}.committee_size.mean", f"{why} ({people:.3g} per account)"
    )
    fit.not_identified(f"accounts.tiers.{tier}.noise_contacts", f"{why} (no noise contacts)")


def committee_size(x: np.ndarray) -> tuple[int, Estimate, int]:
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

    (lam,), (se,) = mle(nll, [max(y.mean(), 0.1)], [(1e-6, 40.0)])
    return lo, Estimate(lo + float(lam), float(se), x.size), max(hi, math.ceil(lo + lam))


def roles(h: History, m: Members, bsc: Scenario, fit: Fit) -> None:
    """Role shares and the committee make-up: procurement_min_size, blocker_probability and
    the fill mix (influencer vs user)."""
    assert m.role is not None
    role, member, c_acc, n_acc, n_comm = m.role, m.member, m.account, h.n_accounts, m.n_comm
    est, notes = fit.estimates, fit.notes
    counts = {r: np.bincount(c_acc[role == r], minlength=n_acc) for r in ROLES}
    total = int(member.sum())
    for r in ROLES:
        est[f"role_share.{r}"] = share(int(counts[r].sum()), total)
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
        fit.set("committee.procurement_min_size", pms)
    else:
        pms = bsc.committee.procurement_min_size
        notes.append("procurement_min_size (no size where most committees have procurement)")
    seat = np.where(n_comm >= pms, 3, 2)
    eligible = n_comm > seat
    if eligible.sum() >= 10:
        e = share(int((counts["blocker"][eligible] > 0).sum()), int(eligible.sum()))
        est["committee.blocker_probability"] = e
        fit.set("committee.blocker_probability", round(e.value, 4))
    else:
        notes.append("blocker_probability (fewer than 10 committees with a seat for a blocker)")
    i, u = int(counts["influencer"].sum()), int(counts["user"].sum())
    if i + u >= 10:
        e = share(i, i + u)
        est["committee.fill.influencer"] = e
        est["committee.fill.user"] = Estimate(1 - e.value, e.se, e.n)
        v = round(e.value, 4)
        fit.set("committee.fill", {"influencer": v, "user": round(1 - v, 4)})
    else:
        notes.append("committee fill mix (fewer than 10 influencers and users)")
