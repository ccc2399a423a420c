"""The funnel figures of a cohort of Olist MQLs: conversion MQL → won, days MQL → won, the
share won within k days, and conversion per acquisition channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.datasets.olist.load import FolderOrFrame, cohort, mqls_of
from sim.errors import DataError

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
WON_BY_DAYS = (7, 30, 90, 180)


@dataclass(frozen=True, eq=False)
class FunnelFigures:
    """The funnel figures of one cohort of MQLs (first_contact_date in [start, end)).

    ``rate``: share of the cohort's MQLs that were won (any time). ``days_quantiles``: days
    MQL → won over the cohort's won MQLs (fractional days from midnight of first_contact_date
    to won_date; numpy's default "linear" quantile). ``won_by``: share of the cohort's MQLs
    won within k days (days_to_won ≤ k). ``by_origin``: mqls, won and rate per origin, largest
    channel first (ties by name)."""

    start: str | None
    end: str | None
    mqls: int
    won: int
    rate: float
    days_quantiles: dict[float, float]
    won_by: dict[int, float]
    by_origin: pd.DataFrame = field(repr=False)

    def __str__(self) -> str:
        q = ", ".join(f"p{round(k * 100)} {v:.1f}" for k, v in self.days_quantiles.items())
        w = " / ".join(f"{100 * v:.1f}%" for v in self.won_by.values())
        days = "/".join(str(k) for k in self.won_by)
        origins = ", ".join(f"{o} {100 * r:.1f}%" for o, r in self.by_origin["rate"].items())
        return (
            f"Olist MQLs from {self.start or 'the start'} to {self.end or 'the end'}: "
            f"{self.mqls:,} MQLs, {self.won:,} won: MQL -> won {100 * self.rate:.1f}%\n"
            f"days MQL -> won: {q}\nwon by {days} days: {w}\nby origin: {origins}"
        )


def funnel_figures(
    source: FolderOrFrame = None,
    start: str | None = "2018-01-01",
    end: str | None = None,
    won_by_days: Sequence[int] = WON_BY_DAYS,
    quantiles: Sequence[float] = QUANTILES,
) -> FunnelFigures:
    """The funnel figures of the MQLs with first_contact_date in [``start``, ``end``)
    (default: the 2018 cohort, since won deals before 2017-12 are missing). ``source`` is the
    Olist folder (default :func:`default_folder`) or the frame :func:`read_mqls` returns."""
    m = cohort(mqls_of(source), start, end)
    if m.empty:
        raise DataError(f"no Olist MQL with a first_contact_date in [{start}, {end})")
    days = m["days_to_won"].to_numpy(dtype=float)
    won = ~np.isnan(days)
    dq = np.quantile(days[won], list(quantiles)) if won.any() else np.full(len(quantiles), np.nan)
    with np.errstate(invalid="ignore"):
        won_by = {int(k): float(np.mean(won & (days <= k))) for k in won_by_days}
    g = pd.DataFrame({"origin": m["origin"].to_numpy(), "won": won}).groupby("origin")["won"]
    by_origin = pd.DataFrame({"mqls": g.size(), "won": g.sum().astype(int)})
    by_origin["rate"] = by_origin["won"] / by_origin["mqls"]
    by_origin = by_origin.sort_values("mqls", ascending=False, kind="stable")  # then by name
    return FunnelFigures(
        start=start,
        end=end,
        mqls=len(m),
        won=int(won.sum()),
        rate=float(won.mean()),
        days_quantiles={float(q): float(v) for q, v in zip(quantiles, dq, strict=True)},
        won_by=won_by,
        by_origin=by_origin,
    )
