"""Which uncertain world parameters change a sweep's recommendation, and why the answer is
sometimes "cannot tell".

Per parameter (the ``u:`` columns of the sweep rows), :func:`sensitivity` gives the Spearman
rank correlation between the parameter's value in a scenario sample and whether the
recommended variant is the best variant there (:func:`sim.experiment.recommend.recommend`'s
``per_sample``), its p-value, and the share of samples where the variant is best in the lower
and upper half of the parameter's range (a one-split PRIM-style box).

A rank correlation needs samples to rank: with fewer than :data:`MIN_ESTIMATE` (3) there is
none, and with fewer than :data:`MIN_SAMPLES` (5) scenario samples none can be told from chance
(the exact two-sided permutation p-value of Spearman's rho is at least 2/4! = 0.083 with 4
samples, 2/5! = 0.017 with 5). When the recommended variant is best in every sample (or in
none), or a parameter never varies, there is nothing to correlate. These cases get a ``note``
saying so (beside a NaN, or beside a correlation too weakly supported to read), and
:func:`sensitivity_note` says in one sentence why a whole table has no estimate.

The correlation is the Pearson correlation of average ranks and its p-value the t
approximation with n - 2 degrees of freedom, as ``scipy.stats.spearmanr`` computes them
(``tests/experiment/test_recommend_fast.py`` checks both against it), without importing
``scipy.stats`` on the way to a recommendation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

#: fewer scenario samples than this cannot show a rank correlation at the 5% level
MIN_SAMPLES = 5
#: fewer scenario samples than this have no rank correlation at all (two points always rank -1 or 1)
MIN_ESTIMATE = 3
COLUMNS = ["parameter", "spearman", "p_value", "best_low", "best_high", "note"]


def spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(rho, two-sided p-value) of Spearman's rank correlation of ``x`` and ``y`` (NaN when
    either is constant, holds a NaN, or there are fewer than 3 pairs).

    >>> rho, p = spearman(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 0.0, 1.0, 1.0]))
    >>> round(rho, 3), round(rho**2, 3)  # ranks 1..4 against 1.5, 1.5, 3.5, 3.5: rho = 2/sqrt(5)
    (0.894, 0.8)
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = x.size
    if n < 3 or np.isnan(x).any() or np.isnan(y).any() or np.ptp(x) == 0 or np.ptp(y) == 0:
        return (np.nan, np.nan)
    rx = pd.Series(x).rank().to_numpy()
    ry = pd.Series(y).rank().to_numpy()
    rho = float(np.clip(np.corrcoef(rx, ry)[0, 1], -1.0, 1.0))
    dof = n - 2
    denom = (rho + 1.0) * (1.0 - rho)  # 0 when the ranks agree exactly: t is infinite
    t = np.inf if denom <= 0 else abs(rho) * np.sqrt(dof / denom)
    return (rho, float(2 * special.stdtr(dof, -abs(t))))


def _why_not(v: np.ndarray, b: np.ndarray) -> tuple[str, bool]:
    """A note on a parameter's correlation with being best ("" when there is nothing to say),
    and whether there is a correlation to compute at all."""
    n = v.size
    few = (
        f" (and {n} scenario samples are too few: at least {MIN_SAMPLES} are needed to tell a "
        "correlation from chance)"
        if n < MIN_SAMPLES
        else ""
    )
    if n < MIN_ESTIMATE:
        return (
            f"needs at least {MIN_SAMPLES} scenario samples to estimate; this sweep has {n}",
            False,
        )
    if np.isnan(v).any():
        return "not a number in every sample: no rank correlation", False
    if np.ptp(v) == 0:
        return "takes one value in every sample: no rank correlation", False
    if np.ptp(b) == 0:
        where = "every" if b[0] else "no"
        return (
            f"the recommended variant is best in {where} scenario sample: nothing to rank{few}",
            False,
        )
    if few:
        return (
            f"{n} scenario samples: too few to tell this from chance (at least {MIN_SAMPLES})",
            True,
        )
    return "", True


def sensitivity(df: pd.DataFrame, rec: dict) -> pd.DataFrame:
    """Per uncertain parameter: ``spearman``, ``p_value``, ``best_low``, ``best_high`` (see
    the module doc) and a ``note`` where there is no correlation to show, most telling
    parameters first; empty without parameters or per-sample judgements."""
    per = rec.get("per_sample")
    cols = [c for c in df.columns if c.startswith("u:")]
    if per is None or per.empty or not cols:
        return pd.DataFrame(columns=COLUMNS)
    values = df.groupby("sample")[cols].first()
    is_best = (per["policy"] == rec["policy"]) & (per["variant"] == rec["variant"])
    best = pd.Series(is_best.to_numpy(float), index=per["sample"])
    b = best.to_numpy()
    rows = []
    for c in cols:
        v = pd.to_numeric(values[c].reindex(best.index), errors="coerce").to_numpy(np.float64)
        note, estimable = _why_not(v, b)
        rho, p = spearman(v, b) if estimable else (np.nan, np.nan)
        mid = np.nanmedian(v) if not np.isnan(v).all() else np.nan
        low, high = b[v <= mid], b[v > mid]
        rows.append(
            {
                "parameter": c[2:],
                "spearman": rho,
                "p_value": p,
                "best_low": float(low.mean()) if low.size else np.nan,
                "best_high": float(high.mean()) if high.size else np.nan,
                "note": note,
            }
        )
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.sort_values("spearman", key=lambda x: -x.abs(), na_position="last").reset_index(
        drop=True
    )


def sensitivity_note(sens: pd.DataFrame) -> str | None:
    """One sentence for what a :func:`sensitivity` table's notes say as a whole: the note all
    its parameters share, or, when no parameter has a correlation, each one's; None when the
    table has no note or its notes differ and some parameter has a correlation (the table's
    ``note`` column then says it)."""
    if sens.empty:
        return None
    notes = list(dict.fromkeys(sens["note"]))
    estimated = bool(sens["spearman"].notna().any())
    if len(notes) == 1 and notes[0]:
        return f"What changes the ranking: {'' if estimated else 'cannot tell: '}{notes[0]}."
    if estimated:
        return None
    each = "; ".join(f"{p}: {n}" for p, n in zip(sens["parameter"], sens["note"], strict=True))
    return f"What changes the ranking: cannot tell ({each})."
