"""The history being calibrated, as arrays by account code: the opportunities, the events'
span, and who is on a buying committee (contacts with a committee ``role``; without a ``role``
column every contact counts as a member)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from sim.errors import DataError
from sim.eventlog import EventLog
from sim.real.calibration.estimates import MIN_ACCOUNTS, MIN_OPPORTUNITIES
from sim.real.reallog import RealLog
from sim.vocab import ROLES, SALES_ACTIVITIES, SYSTEM_ACTIVITIES


@dataclass(frozen=True, eq=False)
class History:
    """A real log's outcomes and span: ``opp`` and ``close`` (days, NaN where none) by account
    code, the event ``times`` and ``horizon`` (the day after the last event)."""

    real: RealLog
    n_accounts: int
    opp: np.ndarray
    close: np.ndarray
    by_day: bool  # the outcome dates are plain dates
    times: np.ndarray
    horizon: float

    @property
    def has_opp(self) -> np.ndarray:
        return np.isfinite(self.opp)

    @property
    def n_opp(self) -> int:
        return int(self.has_opp.sum())


def marketing_only(real: RealLog) -> RealLog:
    """``real`` without its sales touches (``sim.vocab.SALES_ACTIVITIES``) and system events
    (email deliveries): the simulated world draws marketing touches only, so a history is
    fitted and compared without them."""
    ev = real.log.events
    sales = ev["activity"].isin((*SALES_ACTIVITIES, *SYSTEM_ACTIVITIES)).to_numpy(bool)
    if not sales.any():
        return real
    return replace(real, log=EventLog(ev[~sales], real.log.contacts, real.log.accounts))


def history_of(real: RealLog) -> History:
    """The history (without its sales touches), or ``DataError`` when it is too small: fewer
    than ``MIN_ACCOUNTS`` accounts, no outcomes, or fewer than ``MIN_OPPORTUNITIES``
    opportunities."""
    real = marketing_only(real)
    n_acc = len(real.log.accounts)
    if n_acc < MIN_ACCOUNTS:
        raise DataError(f"too small to calibrate: {n_acc} accounts (need {MIN_ACCOUNTS} or more)")
    if real.outcomes is None:
        raise DataError(
            "cannot calibrate without outcomes: the accounts file needs an opportunity_date "
            "column (and close_date, won) to estimate journey timing and the in-market share"
        )
    out = real.outcomes.sort_values("account_id")
    opp = out["opportunity_date"].to_numpy(float)
    n_opp = int(np.isfinite(opp).sum())
    if n_opp < MIN_OPPORTUNITIES:
        raise DataError(
            f"too small to calibrate: {n_opp} account(s) with an opportunity_date (need "
            f"{MIN_OPPORTUNITIES} or more to estimate journey timing and the in-market share)"
        )
    t = real.log.events["time"].to_numpy(float)
    return History(
        real=real,
        n_accounts=n_acc,
        opp=opp,
        close=out["close_date"].to_numpy(float),
        by_day=real.outcome_time_format == "date",
        times=t,
        horizon=float(math.floor(t.max()) + 1),
    )


@dataclass(frozen=True, eq=False)
class Members:
    """Contacts on a buying committee (``member``) or not, and their counts per account.
    ``role`` is None without a role column."""

    role: np.ndarray | None
    member: np.ndarray
    account: np.ndarray  # each contact's account code
    n_comm: np.ndarray
    n_noise: np.ndarray


def members_of(h: History, notes: list[str]) -> Members:
    """Who is on a committee; raises when nobody is."""
    co = h.real.log.contacts
    c_acc = co["account_id"].to_numpy(np.int64)
    role: np.ndarray | None = h.real.buying_roles
    if role is not None:
        role = role.astype(str)
        member = np.isin(role, ROLES)
    else:  # listed as not identifiable by committee_per_tier
        member = np.ones(len(co), dtype=bool)
    n_comm = np.bincount(c_acc[member], minlength=h.n_accounts)
    n_noise = np.bincount(c_acc[~member], minlength=h.n_accounts)
    if (n_comm == 0).all():
        raise DataError("cannot calibrate: no contact has a buying-committee role")
    return Members(role, member, c_acc, n_comm, n_noise)
