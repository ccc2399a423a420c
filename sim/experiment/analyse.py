"""Analysing a live rollout experiment: the difference each arm makes, with a 95% CI, from
the export of a running experiment (:mod:`sim.experiment.analyse_read`), and whether it is in
line with what the simulation of its design predicted (:mod:`sim.experiment.design`).

Per account, the outcome of ``metric`` counted from the go-live ``start`` up to, not
including, ``start + 7 * weeks`` (all the data without ``weeks``), as the design counts it:

- ``opportunities``: 1 when the account has an opportunity created in that window, else 0;
- ``wins``: 1 when it has an opportunity won (closed) in that window, else 0;
- ``revenue``: the revenue of its opportunities won in that window (0 without one).

Nothing after the window's end is used: an opportunity created later, or won after the end,
does not count (truncating the export at the end gives the same result).

Each comparison (``candidate - incumbent``, ``candidate - holdout``, ``incumbent - holdout``,
where both arms have accounts) is tested as the design tests it
(:func:`sim.experiment.design_stats.difference_tests`: the pooled two-proportion z-test for
opportunities and wins, Welch's t-test for revenue, two-sided at 5%). The 95% CI of the
difference is Newcombe's hybrid score interval for a difference of proportions (it stays
sensible with few events, where the plain normal interval collapses to a point at a share of
0), Welch's interval for revenue. One rule decides: a difference is *distinguishable* from
zero when the test rejects at 5% (as in the design's power) **and** the 95% CI excludes 0.
For proportions the pooled test and Newcombe's interval can disagree near 5%; such a
difference is *borderline* and is said so, never called distinguishable.

With a design, a comparison is judged against the simulation (``in_line``) only like for
like: the plan has the analysed horizon (``--weeks`` one of its horizons), the arms' shares of
accounts match the plan's split (within sampling noise), and it simulated at least
:data:`FEW_EXPERIMENTS` experiments; otherwise ``in_line`` is None ("cannot tell") and a note
says why.

>>> import numpy as np
>>> values = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
>>> arm = np.array(["candidate"] * 4 + ["incumbent"] * 4)
>>> c = compare_arms(values, arm, binary=True).iloc[0]
>>> c["comparison"], float(c["difference"])
('candidate - incumbent', 0.25)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from sim.errors import ConfigError, DataError
from sim.experiment.analyse_read import ExperimentData, parse_start, read_experiment
from sim.experiment.design import ARMS, METRIC_KINDS, parse_split
from sim.experiment.design_read import DesignPlan, read_design
from sim.experiment.design_stats import (
    ALPHA,
    arm_stats,
    difference_tests,
    power_interval,
    welch_se_df,
)
from sim.vocab import NEW_BUSINESS

#: per metric, the name of its total per arm
TOTALS = {
    "opportunities": "with_opportunity",
    "wins": "with_win",
    "revenue": "revenue",
}
#: below this many simulated experiments, the plan's central 95% is too rough to judge by
FEW_EXPERIMENTS = 40
COMPARISONS = (("candidate", "incumbent"), ("candidate", "holdout"), ("incumbent", "holdout"))


@dataclass
class Analysis:
    """What :func:`analyse_experiment` found: per arm its accounts and outcomes, per
    comparison the difference, its CI, p-value and verdict (and, with a design, what the
    simulation predicted), and notes on the data."""

    metric: str
    weeks: float  # the analysis horizon (weeks after the start)
    arms: pd.DataFrame
    comparisons: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def verdicts(self) -> list[str]:
        """One plain sentence per comparison."""
        return [verdict(row, self.metric) for row in self.comparisons.to_dict("records")]


def account_values(
    data: ExperimentData, metric: str, start: float, end: float = np.inf
) -> np.ndarray:
    """Per account of ``data`` (in its order): the outcome of ``metric`` in ``[start, end)``."""
    o = data.opportunities
    n = len(data.accounts)
    account = o["account"].to_numpy(np.int64)
    if metric == "opportunities":
        t = o["created"].to_numpy(np.float64)
        hit = (t >= start) & (t < end)
        return (np.bincount(account[hit], minlength=n) > 0).astype(np.float64)
    t = o["closed"].to_numpy(np.float64)
    hit = o["won"].to_numpy(bool) & (t >= start) & (t < end)
    if metric == "wins":
        return (np.bincount(account[hit], minlength=n) > 0).astype(np.float64)
    value = o["value"].to_numpy(np.float64)
    unknown = hit & np.isnan(value)
    if unknown.any():
        raise DataError(
            f"{o['where'].to_numpy()[first(unknown)]}: revenue needs every won deal's value"
        )
    return np.bincount(account[hit], weights=value[hit], minlength=n)


def first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def wilson(mean: float, n: float) -> tuple[float, float]:
    """The 95% Wilson score interval of a share ``mean`` of ``n`` accounts."""
    ci = sps.binomtest(round(mean * n), int(n)).proportion_ci(1 - ALPHA, "wilson")
    return float(ci.low), float(ci.high)


def difference_ci(a: pd.Series, b: pd.Series, binary: bool) -> tuple[float, float]:
    """The 95% CI of the difference of means of two arms' :func:`arm_stats` rows ``a - b``:
    Newcombe's hybrid score interval (from each arm's Wilson interval) for proportions,
    Welch's for means (NaN with fewer than two accounts in an arm)."""
    d = float(a["mean"] - b["mean"])
    if binary:
        (l1, u1), (l2, u2) = wilson(a["mean"], a["n"]), wilson(b["mean"], b["n"])
        p1, p2 = float(a["mean"]), float(b["mean"])
        return d - float(np.hypot(p1 - l1, u2 - p2)), d + float(np.hypot(u1 - p1, p2 - l2))
    if min(a["n"], b["n"]) < 2:
        return np.nan, np.nan
    se, df = welch_se_df(a["var"], a["n"], b["var"], b["n"])
    half = 0.0 if float(se) == 0 else float(sps.t.ppf(1 - ALPHA / 2, df) * se)
    return d - half, d + half


def compare_arms(values: np.ndarray, arm: np.ndarray, binary: bool) -> pd.DataFrame:
    """Per comparison of :data:`COMPARISONS` whose arms both have accounts: the difference of
    mean outcomes per account, its 95% CI, the p-value, whether it is distinguishable from
    zero at 5% (the test rejects and the CI excludes 0) and whether it is borderline (the two
    disagree)."""
    stats = arm_stats(values, np.asarray(arm).astype(str)).assign(experiment=0)
    present = set(stats["arm"])
    rows = []
    for x, y in COMPARISONS:
        if x not in present or y not in present:
            continue
        test = difference_tests(stats, x, y, binary).iloc[0]
        low, high = difference_ci(
            stats[stats["arm"] == x].iloc[0], stats[stats["arm"] == y].iloc[0], binary
        )
        excludes_zero = bool(low > 0 or high < 0)
        rows.append(
            {
                "comparison": test["comparison"],
                "difference": float(test["difference"]),
                "ci_low": low,
                "ci_high": high,
                "p_value": float(test["p_value"]),
                "distinguishable": bool(test["reject"]) and excludes_zero,
                "borderline": bool(test["reject"]) != excludes_zero,
            }
        )
    return pd.DataFrame(rows)


def arm_table(data: ExperimentData, values: np.ndarray, metric: str, start, end) -> pd.DataFrame:
    """Per arm: accounts, the outcome's total (:data:`TOTALS`: the accounts with an
    opportunity, with a win, or the revenue) and its mean per account, and (with touches)
    the touches per account in the window."""
    df = pd.DataFrame({"arm": data.accounts["arm"].to_numpy(), "value": values})
    g = df.groupby("arm")["value"]
    total = g.sum().astype(np.int64) if METRIC_KINDS[metric] else g.sum()  # a count: whole
    out = pd.DataFrame({"accounts": g.size(), TOTALS[metric]: total, "per_account": g.mean()})
    if data.touches is not None:
        t = data.touches
        inside = t[(t["time"] >= start) & (t["time"] < end)]
        arms = data.accounts["arm"].to_numpy()[inside["account"].to_numpy(np.int64)]
        out["touches_per_account"] = pd.Series(arms).value_counts().reindex(out.index).fillna(0)
        out["touches_per_account"] /= out["accounts"]
    order = [a for a in ("candidate", "incumbent", "holdout") if a in out.index]
    return out.reindex(order).rename_axis("arm").reset_index()


def against_design(
    comparisons: pd.DataFrame, plan: DesignPlan, weeks: float, reasons: Sequence[str] = ()
) -> pd.DataFrame:
    """``comparisons`` with what the design simulated at its horizon nearest to ``weeks``:
    that horizon, the central 95% of the simulated differences, the power with its 95%
    interval (``power_low``, ``power_high``) and whether the observed difference lies inside
    that range: ``in_line`` (None: cannot tell, for comparisons the design has not, when
    ``reasons`` says the analysis is not like the plan, or when the horizon differs)."""
    curve = plan.curve
    horizons = np.sort(curve["weeks"].unique())
    at = float(horizons[np.argmin(np.abs(horizons - weeks))])
    sim = curve[curve["weeks"] == at].set_index("comparison")
    cols = ["difference_low", "difference_high", "power", "power_se", "experiments"]
    out = comparisons.join(sim[cols], on="comparison")
    out.insert(len(comparisons.columns), "design_weeks", np.where(out["power"].notna(), at, np.nan))
    out["power_low"], out["power_high"] = power_interval(out["power"], out["experiments"])
    inside = (out["difference"] >= out["difference_low"]) & (
        out["difference"] <= out["difference_high"]
    )
    judged = out["power"].notna() & (out["experiments"] >= FEW_EXPERIMENTS)
    judged &= not reasons and abs(at - weeks) < 1e-9
    out["in_line"] = pd.Series(
        [bool(i) if k else None for i, k in zip(inside, judged, strict=True)], dtype=object
    )
    return out


def unlike_plan(
    plan: DesignPlan, path: str | Path, arms: pd.DataFrame, weeks: float, given: bool
) -> list[str]:
    """Why the analysis is not like for like with the plan in ``path`` (none: it is): the
    plan has no horizon at ``weeks`` (``given``: set by --weeks), or the arms' shares of
    accounts differ from the plan's split by more than sampling noise (3 standard errors of
    a random assignment, plus one account)."""
    reasons = []
    horizons = np.sort(plan.curve["weeks"].unique())
    if not np.isclose(horizons, weeks, rtol=0, atol=1e-9).any():
        how = f"--weeks {weeks:g}" if given else f"all the data ({weeks:.1f} weeks)"
        reasons.append(
            f"the plan in {path} simulated {', '.join(f'{h:g}' for h in horizons)} weeks, "
            f"not the {how} analysed: give --weeks one of those to compare like with like"
        )
    try:
        split = parse_split(str(plan.settings.get("split", "")))
    except ConfigError:
        return [*reasons, f"the plan in {path} has no readable split: cannot check the arms"]
    n = float(arms["accounts"].sum())
    got = arms.set_index("arm")["accounts"].reindex(ARMS).fillna(0).to_numpy(float) / n
    want = np.asarray(split)
    if (np.abs(got - want) > 3 * np.sqrt(want * (1 - want) / n) + 1 / n).any():
        reasons.append(
            f"the arms hold {', '.join(f'{g:.2f}' for g in got)} of the {n:,.0f} accounts "
            f"(candidate, incumbent, holdout), the plan in {path} split them "
            f"{', '.join(f'{w:.2f}' for w in want)}: its prediction does not apply"
        )
    return reasons


def p_text(p: float) -> str:
    """A p-value as printed: 3 decimals, ``<0.001`` below, ``-`` when not tested."""
    return "-" if p != p else ("<0.001" if p < 0.001 else f"{p:.3f}")


def verdict(row: dict, metric: str) -> str:
    """The plain sentence of one comparison of :attr:`Analysis.comparisons`."""
    scale = 1.0 if metric == "revenue" else 1000.0
    unit = "revenue per account" if metric == "revenue" else f"{metric} per 1,000 accounts"
    d, lo, hi = (scale * row[k] for k in ("difference", "ci_low", "ci_high"))
    if pd.isna(row["p_value"]):
        return (
            f"{row['comparison']}: {d:+,.1f} {unit}: not tested (an arm has fewer than two "
            "accounts)."
        )
    if row["distinguishable"]:
        said = "distinguishable from zero at 5%"
    elif row.get("borderline"):
        said = (
            "borderline: the test's p-value and the 95% CI disagree about zero, so it is "
            "not called distinguishable from zero at 5%"
        )
    else:
        said = "not distinguishable from zero at 5%"
    text = (
        f"{row['comparison']}: {d:+,.1f} {unit} (95% CI {lo:+,.1f} to {hi:+,.1f}, "
        f"p = {row['p_value']:.3g}): {said}."
    )
    if "power" not in row or pd.isna(row.get("power")):
        return text
    low, high = scale * row["difference_low"], scale * row["difference_high"]
    where = {True: "in line with", False: "outside"}.get(row["in_line"])
    judged = f"{where} the simulation's prediction" if where else "cannot tell (see the notes)"
    text += (
        f" The design simulated {low:+,.1f} to {high:+,.1f} (central 95% of "
        f"{row['experiments']:g} experiments) at {row['design_weeks']:g} weeks: {judged}; its "
        f"power there was {row['power']:.2f} (95% {row['power_low']:.2f} to "
        f"{row['power_high']:.2f})"
    )
    if not row["distinguishable"] and where:
        text += (
            f", so {1 - row['power']:.0%} of simulated experiments were not distinguishable either"
        )
    return text + "."


def analyse_experiment(
    accounts: str | Path,
    opportunities: str | Path,
    events: str | Path | None = None,
    start: str | float | None = None,
    weeks: float | None = None,
    metric: str = "opportunities",
    design: str | Path | None = None,
    counted: Sequence[str] = (NEW_BUSINESS,),
) -> Analysis:
    """Analyse a live experiment's export (see the module doc): ``start`` is the go-live (a
    day number, default 0, when the export's times are day numbers; an ISO date when they are
    dates), ``weeks`` the horizon (default: up to the last opportunity or touch), ``design``
    the output of ``qualsim experiment design --format json`` (or ``csv``), ``counted`` the
    opportunity types counted (``qualsim import``'s names, e.g. ``new_business``)."""
    if metric not in METRIC_KINDS:
        raise ConfigError(f"--metric: expected one of {', '.join(METRIC_KINDS)}, got {metric!r}")
    if weeks is not None and not (np.isfinite(weeks) and weeks > 0):
        raise ConfigError(f"--weeks: expected a number of weeks above 0, got {weeks!r}")
    plan = read_design(design, metric) if design is not None else None
    if not counted or any(not str(t).strip() for t in counted):
        raise ConfigError("--counted-type: an empty type; name a type, e.g. new_business")
    data = read_experiment(accounts, opportunities, events, counted)
    t0 = parse_start(start, data.days)
    end = np.inf if weeks is None else t0 + 7.0 * weeks
    values = account_values(data, metric, t0, end)
    found = sorted(set(data.accounts["arm"]), key=ARMS.index)
    if len(found) < 2:
        raise DataError(
            f"{accounts}: only the arm {', '.join(found) or '(none)'} has accounts; an "
            f"experiment needs accounts in at least two of {', '.join(ARMS)}"
        )
    comparisons = compare_arms(values, data.accounts["arm"].to_numpy(), METRIC_KINDS[metric])
    last = data_weeks(data, t0)
    span = weeks if weeks is not None else last
    arms = arm_table(data, values, metric, t0, end)
    notes = data_notes(data, accounts, counted)
    beyond = []
    if weeks is not None and weeks > last + 1.0:  # a week of slack: quiet last days
        beyond.append(
            f"--weeks {weeks:g}: the export's last date is {last:.1f} weeks after the go-live; "
            "later weeks hold no data, so the outcomes are those of fewer weeks"
        )
    if plan is None:
        notes += beyond
    else:
        reasons = [*beyond, *unlike_plan(plan, design or "", arms, span, weeks is not None)]
        if plan.settings.get("stratify") == "tier" and data.accounts["tier"].isna().all():
            reasons.append(f"the plan stratified by tier; {accounts} has no tier column")
        few = plan.curve["experiments"].min()
        if few < FEW_EXPERIMENTS:
            reasons.append(
                f"the plan in {design} simulated {few:g} experiments: too few for a central 95% "
                f"to judge by (plan with {FEW_EXPERIMENTS} or more, best 100)"
            )
        comparisons = against_design(comparisons, plan, span, reasons)
        notes += reasons
    return Analysis(metric, span, arms, comparisons, notes)


def data_notes(data: ExperimentData, accounts: str | Path, counted: Sequence[str]) -> list[str]:
    """What was left out of the export (opportunities of unknown accounts, of other types)."""
    notes = []
    if data.unknown_rows:
        notes.append(
            f"{plural(data.unknown_rows, 'opportunity', 'opportunities')} of "
            f"{plural(data.unknown_accounts, 'account')} missing from {accounts} "
            f"{'was' if data.unknown_rows == 1 else 'were'} left out"
        )
    if data.other_types:
        notes.append(
            f"{plural(data.other_types, 'opportunity', 'opportunities')} of other types than "
            f"{', '.join(counted)} {'was' if data.other_types == 1 else 'were'} left out "
            "(--counted-type)"
        )
    return notes


def plural(n: int, one: str, many: str | None = None) -> str:
    """``n`` and the noun, singular for 1: ``plural(1, "account")`` is ``'1 account'``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def data_weeks(data: ExperimentData, start: float) -> float:
    """Weeks from ``start`` to the last time the export holds (0 when none is later)."""
    o = data.opportunities
    times = [o["created"].to_numpy(np.float64), o["closed"].to_numpy(np.float64)]
    if data.touches is not None:
        times.append(data.touches["time"].to_numpy(np.float64))
    last = np.nanmax(np.concatenate([*times, np.array([start])]))
    return float(max(last - start, 0.0) / 7.0)
