"""Scoring handoffs on a real history against its CRM outcomes: which handoffs were true
(:class:`OutcomeTruth`, :func:`truth_from_outcomes`) and how each policy did
(:func:`outcome_metrics`, the :data:`~sim.tables.REPLAY_METRICS` table)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import DataError
from sim.real.reallog import RealLog
from sim.tables import REPLAY_METRICS

__all__ = ["EPS_DAYS", "OutcomeTruth", "outcome_metrics", "truth_from_outcomes"]

EPS_DAYS = 1e-9  # ~86 µs: times this close count as equal in the outcome rule


@dataclass(frozen=True, eq=False)
class OutcomeTruth:
    """Whether a handoff of account ``a`` at time ``t`` (days since origin) was true.

    A handoff at t is true when the account's opportunity was opened in [t, t + horizon] (both
    ends included) or was open at t: opened before t and closed strictly after t or not closed.
    An opportunity closed exactly at t is no longer open at t (the handoff came too late), unless
    it was also opened at t. Comparisons allow ``EPS_DAYS`` (≈86 µs) so that times that are
    equal in the files compare equal after the float conversion.

    When every outcome date is a plain date (``by_day``), t is first taken to its day (midnight),
    since a dated opportunity has no time of day: an opportunity dated the day of a 14:00
    handoff counts as opened at the handoff, and one dated 90 days after that day as within.
    """

    opened: np.ndarray  # by account code; NaN = no opportunity
    closed: np.ndarray  # NaN = not closed
    horizon_days: float = 90.0
    by_day: bool = False

    @property
    def has_opportunity(self) -> np.ndarray:
        return ~np.isnan(self.opened)

    def __call__(self, account, t):
        a = np.asarray(account, dtype=np.int64)
        tt = np.asarray(t, dtype=float)
        if a.size and (a.min() < 0 or a.max() >= self.opened.size):
            raise ValueError(f"account code out of range 0..{self.opened.size - 1}")
        if self.by_day:
            tt = np.floor(tt + EPS_DAYS)
        o = self.opened[a]
        c = self.closed[a]
        with np.errstate(invalid="ignore"):
            opened_in = (o >= tt - EPS_DAYS) & (o <= tt + self.horizon_days + EPS_DAYS)
            open_at = (o < tt) & ~(c <= tt + EPS_DAYS)
        out = opened_in | open_at
        return bool(out) if out.ndim == 0 else out


def truth_from_outcomes(real: RealLog, horizon_days: float = 90) -> OutcomeTruth:
    """The handoff truth rule over ``real``'s outcomes (see ``OutcomeTruth``)."""
    if real.outcomes is None:
        acc = real.report.accounts
        raise DataError(
            (f"{acc.path}: " if acc is not None else "")
            + "no outcomes: the accounts file needs an opportunity_date column "
            "(and optionally close_date, won, value) to score handoffs"
        )
    if not horizon_days >= 0:
        raise ValueError(f"horizon_days must be >= 0, got {horizon_days}")
    o = real.outcomes.sort_values("account_id")
    return OutcomeTruth(
        o["opportunity_date"].to_numpy(dtype=float),
        o["close_date"].to_numpy(dtype=float),
        float(horizon_days),
        real.outcome_time_format == "date",
    )


def outcome_metrics(
    qualifications: pd.DataFrame,
    real: RealLog,
    horizon_days: float = 90,
    policies: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per policy: handoffs, true_handoffs, precision (true / handoffs), accounts_with_opportunity,
    recalled (accounts with an opportunity that got a true handoff), recall (recalled /
    accounts_with_opportunity). NaN where a denominator is 0.

    ``qualifications`` has columns policy, account_id (codes, as evaluated on ``real.log``) and
    time (days). ``policies`` lists policies to report even without handoffs (and fixes the row
    order); by default the policies in ``qualifications``, in order of appearance.
    """
    missing = [c for c in ("policy", "account_id", "time") if c not in qualifications.columns]
    if missing:
        raise ValueError(f"qualifications lack column(s) {', '.join(missing)}")
    truth = truth_from_outcomes(real, horizon_days)
    pol = qualifications["policy"].astype(str).to_numpy()
    acc = qualifications["account_id"].to_numpy(dtype=np.int64)
    ok = np.asarray(truth(acc, qualifications["time"].to_numpy(dtype=float)), dtype=bool)
    names = list(policies) if policies is not None else []
    names += [p for p in pd.unique(pol) if p not in names]
    n_opp = int(truth.has_opportunity.sum())
    rows = []
    for name in names:
        sel = pol == name
        h = int(sel.sum())
        th = int((sel & ok).sum())
        rec = int(np.unique(acc[sel & ok]).size)
        rows.append(
            {
                "policy": name,
                "handoffs": h,
                "true_handoffs": th,
                "precision": th / h if h else np.nan,
                "accounts_with_opportunity": n_opp,
                "recalled": rec,
                "recall": rec / n_opp if n_opp else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=REPLAY_METRICS.names)
