"""Scoring handoffs on a real history against its CRM opportunities: which handoffs were true
(:func:`truth_from_outcomes`: :class:`OutcomeTruth` for one opportunity per account,
:class:`OpportunityTruth` for several, over the counted types) and how each policy did
(:func:`outcome_metrics`, the :data:`~sim.tables.REPLAY_METRICS` table)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import DataError
from sim.real.opportunities_file import from_outcomes, normalise_types
from sim.real.opportunity_truth import EPS_DAYS, OpportunityTruth
from sim.real.reallog import RealLog
from sim.tables import REPLAY_METRICS
from sim.vocab import NEW_BUSINESS

__all__ = [
    "EPS_DAYS",
    "OpportunityTruth",
    "OutcomeTruth",
    "other_truth",
    "uncounted_note",
    "outcome_metrics",
    "truth_from_outcomes",
]


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


def truth_from_outcomes(
    real: RealLog, horizon_days: float = 90, counted: Iterable[str] = (NEW_BUSINESS,)
) -> OpportunityTruth:
    """The handoff truth rule over ``real``'s opportunities of the ``counted`` types (compared
    case- and space-insensitively, :func:`~sim.real.opportunities_file.normalise_types`): see
    :class:`OutcomeTruth` for one opportunity, :class:`OpportunityTruth` for several."""
    if not horizon_days >= 0:
        raise ValueError(f"horizon_days must be >= 0, got {horizon_days}")
    return _truth_over(real, horizon_days, counted, uncounted=False)


def other_truth(real: RealLog, horizon_days: float, counted: Iterable[str]) -> OpportunityTruth:
    """The same rule over the opportunities of every type *not* counted (renewals,
    expansions...): a false handoff it calls true fell inside pipeline the count leaves out."""
    return _truth_over(real, horizon_days, counted, uncounted=True)


def _truth_over(
    real: RealLog, horizon_days: float, counted: Iterable[str], uncounted: bool
) -> OpportunityTruth:
    """The truth rule over the opportunities of the ``counted`` types (or of every other type)."""
    kinds = frozenset(normalise_types(counted))
    if "" in kinds:
        raise ValueError("an empty counted opportunity type: name a type, e.g. new_business")
    o = opportunities_table(real)
    mask = o["type"].isin(kinds).to_numpy() != uncounted
    c = o[mask]
    return OpportunityTruth.of(
        c["account_id"].to_numpy(np.int64),
        c["created"].to_numpy(float),
        c["closed"].to_numpy(float),
        len(real.log.accounts),
        float(horizon_days),
        real.outcome_time_format == "date",
        np.flatnonzero(mask),
    )


def uncounted_note(real: RealLog, counted: Iterable[str]) -> str:
    """A warning when the log has opportunities but none of the counted types ("" otherwise):
    every handoff would be false, and the types found are the likely fix."""
    o = real.opportunities
    kinds = frozenset(normalise_types(counted))
    if o is None or not len(o):
        return ""
    found = ", ".join(f"{k or '(empty)'} {n:,}" for k, n in o["type"].value_counts().items())
    if not o["type"].isin(kinds).any():
        return (
            f"no opportunity of the counted type(s) {', '.join(sorted(kinds))}: every handoff "
            f"scores false. The opportunities' types are {found}; name the pipeline a handoff "
            "should find with --counted-type"
        )
    absent = sorted(kinds - set(o["type"]))
    if absent:  # a misspelt type beside a right one
        return (
            f"no opportunity of the counted type(s) {', '.join(absent)} (the opportunities' "
            f"types are {found})"
        )
    return ""


def opportunities_table(real: RealLog) -> pd.DataFrame:
    """``real.opportunities`` (for a RealLog made by hand with outcomes only: made of them)."""
    if real.opportunities is not None:
        return real.opportunities
    if real.outcomes is not None:  # a RealLog made by hand with outcomes only
        return from_outcomes(real.outcomes, np.asarray(real.account_labels, dtype=object))
    acc = real.report.accounts
    raise DataError(
        (f"{acc.path}: " if acc is not None else "")
        + "no outcomes: the accounts file needs an opportunity_date column "
        "(and optionally close_date, won, value), or give an opportunities file, to score "
        "handoffs"
    )


def outcome_metrics(
    qualifications: pd.DataFrame,
    real: RealLog,
    horizon_days: float = 90,
    policies: Sequence[str] | None = None,
    counted: Iterable[str] = (NEW_BUSINESS,),
    truth: OpportunityTruth | None = None,
) -> pd.DataFrame:
    """Per policy: handoffs, true_handoffs, precision (true / handoffs), accounts_with_opportunity
    (accounts with a counted opportunity), recalled (of them, accounts that got a true handoff),
    opportunities (counted), opportunities_found (those a true handoff found: it opened within
    the horizon after the handoff or was open at it), recall (opportunities_found /
    opportunities; with one opportunity per account, recalled / accounts_with_opportunity). NaN
    where a denominator is 0.

    ``qualifications`` has columns policy, account_id (codes, as evaluated on ``real.log``) and
    time (days). ``policies`` lists policies to report even without handoffs (and fixes the row
    order); by default the policies in ``qualifications``, in order of appearance. ``truth``:
    the rule already built by ``truth_from_outcomes(real, horizon_days, counted)``, if at hand.
    """
    missing = [c for c in ("policy", "account_id", "time") if c not in qualifications.columns]
    if missing:
        raise ValueError(f"qualifications lack column(s) {', '.join(missing)}")
    if truth is None:
        truth = truth_from_outcomes(real, horizon_days, counted)
    pol = qualifications["policy"].astype(str).to_numpy()
    acc = qualifications["account_id"].to_numpy(dtype=np.int64)
    t = qualifications["time"].to_numpy(dtype=float)
    ok = np.asarray(truth(acc, t), dtype=bool)
    names = list(policies) if policies is not None else []
    names += [p for p in pd.unique(pol) if p not in names]
    n_acc = int(truth.has_opportunity.sum())
    n_opp = len(truth.account)
    rows = []
    for name in names:
        sel = pol == name
        h = int(sel.sum())
        th = int((sel & ok).sum())
        rec = int(np.unique(acc[sel & ok]).size)
        found = int(truth.found(acc[sel & ok], t[sel & ok]).sum())
        rows.append(
            {
                "policy": name,
                "handoffs": h,
                "true_handoffs": th,
                "precision": th / h if h else np.nan,
                "accounts_with_opportunity": n_acc,
                "recalled": rec,
                "opportunities": n_opp,
                "opportunities_found": found,
                "recall": found / n_opp if n_opp else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=REPLAY_METRICS.names)
