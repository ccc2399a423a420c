"""A verdict first: which policy of a comparison does best on the objective within the SDR
team's capacity and a precision floor, by how much against the baseline (paired on the same
worlds), what it costs, and the one caveat that matters most, in plain words.

:func:`verdict` decides from :class:`~sim.experiment.compare.Comparison` tables only (the
summary, the paired differences and the handoffs); the direction of the objective comes from
:data:`sim.sales.metrics.METRICS`, so no policy is favoured by name. ``docs/comparison.md``
("The verdict") lists every rule. :func:`sim.experiment.verdict_sweep.recommendation_text`
says the same of a sweep's recommendation in one sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.config import did_you_mean
from sim.errors import ConfigError
from sim.experiment.compare import Comparison
from sim.experiment.recommend import capacity_metric
from sim.sales.metrics import METRICS
from sim.sales.weekly import weekly_load

#: the week the capacity bounds (the mean handoffs per week when a comparison has no weekly load)
LOAD_METRIC = "weekly_load_p90"
#: caveat thresholds (docs/comparison.md, "The verdict")
RARE_PER_WEEK = 0.5  # fewer handoffs a week than this: almost never fires
OVER_CAPACITY_SHARE = 0.05  # a larger share of weeks over capacity: floods at times
MONTH_LIFT = 2.0  # month precision under this multiple of the base rate: fires too early
EARLY_DAYS = -60.0  # median true handoff earlier than this before sales-ready: too early
LOW_PRECISION = 0.5  # fewer true handoffs than this: most of the SDRs' work is wasted
LOW_RECALL = 0.6  # fewer buying accounts reached than this: many are missed
_COST = [
    "handoffs_per_week",
    "weekly_load_p90",
    "weeks_over_capacity",
    "precision",
    "recall",
    "sales_hours",
    "false_handoff_hours",
    "month_precision",
    "month_base_rate",
]


@dataclass
class Verdict:
    """What :func:`verdict` decided: ``chosen`` (None when no policy is feasible), the paired
    difference of the objective against ``against`` (the baseline, or the best feasible
    alternative when the baseline itself is chosen), whether its CI excludes 0, the cost, the
    policies ``ruled_out`` (policy -> reason) and the ``caveat``."""

    objective: str
    chosen: str | None
    baseline: str | None
    against: str | None
    capacity: float
    load_metric: str
    value: float = math.nan
    diff: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    n: int = 0
    distinguishable: bool = False
    cost: dict[str, float] = field(default_factory=dict)
    ruled_out: dict[str, str] = field(default_factory=dict)
    caveat: str | None = None
    min_precision: float | None = None
    level: float = 0.95

    def text(self) -> str:
        """The verdict in 2-4 plain-English sentences."""
        m = METRICS[self.objective]
        limits = f"within capacity ({_num(self.capacity)} handoffs in the {_week(self)})"
        if self.min_precision is not None:
            limits += f" and the precision floor of {self.min_precision:g}"
        out = _ruled(self)
        if self.chosen is None:
            return (
                f"Verdict: no policy fits {limits}: {out}. Raise the capacity or lower the "
                "floor, or sweep the thresholds (qualsim sweep) for a variant that fits."
            )
        most = "highest" if m.better == "higher" else "lowest"
        first = (
            f"Verdict: {self.chosen} has the {most} mean {m.label.lower()} "
            f"({_num(self.value)} {m.unit}) of the policies {limits}"
        )
        parts = [first + (f"; ruled out: {out}." if out else ".")]
        parts.append(_difference(self))
        parts.append(_cost(self))
        if self.caveat:
            parts.append(f"Caveat: {self.caveat}.")
        return " ".join(p for p in parts if p)


def _num(x: float) -> str:
    """A number for reading: thousands separators, decimals to suit its size."""
    if x != x:
        return "-"
    a = abs(x)
    return f"{x:,.0f}" if a >= 100 else f"{x:.1f}" if a >= 1 or a == 0 else f"{x:.2f}"


def _week(v: Verdict) -> str:
    """The week the capacity bounds, in words ("p90 week", "busiest week", "average week")."""
    return "average week" if v.load_metric == "handoffs_per_week" else _label(v.load_metric)


def _label(metric: str) -> str:
    return METRICS[metric].label.lower()


def _ruled(v: Verdict) -> str:
    return "; ".join(f"{p} ({why})" for p, why in v.ruled_out.items())


def _difference(v: Verdict) -> str:
    """The sentence on the paired difference (never claiming one without a CI)."""
    if v.against is None:
        only = "within the limits" if v.ruled_out else "compared"
        return f"It is the only policy {only}, so there is nothing to pair it against."
    unit = METRICS[v.objective].unit
    if v.against != v.baseline:
        who = f"It is the baseline; against the best feasible alternative, {v.against}"
    elif v.baseline in v.ruled_out:
        who = f"Against the baseline {v.baseline} (itself ruled out)"
    else:
        who = f"Against the baseline {v.baseline}"
    if v.n < 2 or v.ci_low != v.ci_low:
        worlds = "one world" if v.n == 1 else f"{v.n} worlds"
        return (
            f"{who}, the difference is {_signed(v.diff)} {unit} on {worlds}, with no "
            "confidence interval: no difference can be claimed (run 2 or more replications)."
        )
    ci = _interval(v.diff, v.ci_low, v.ci_high, unit)
    tail = (
        "distinguishable from zero"
        if v.distinguishable
        else "not distinguishable from zero: on this objective they are tied"
    )
    return f"{who}, paired on the same {v.n} worlds: {ci} ({v.level:.0%} CI), {tail}."


def _signed(x: float, fmt: str | None = None) -> str:
    """``x`` with its sign ("+" when positive), formatted as :func:`_num` or with ``fmt``."""
    if x != x:
        return "-"
    return ("+" if x > 0 else "") + (_num(x) if fmt is None else format(x, fmt))


def _interval(mean: float, lo: float, hi: float, unit: str) -> str:
    """ "+3.4 deals [+0.6, +6.2]": the three numbers with the decimals that suit the largest.

    >>> _interval(3.4, 0.64, 6.2, "deals"), _interval(-0.004, -0.012, 0.004, "share")
    ('+3.4 deals [+0.6, +6.2]', '-0.004 share [-0.012, +0.004]')
    >>> _interval(0.0, -0.894, 0.894, "deals")
    '0.0 deals [-0.9, +0.9]'
    """
    size = max(abs(mean), abs(lo), abs(hi))
    if size >= 100:
        fmt = ",.0f"
    elif unit == "share":  # a share keeps three decimals below 1
        fmt = ".1f" if size >= 1 else ".3f"
    else:  # counts, money, hours, days: "0.0 deals [-0.9, +0.9]", not three decimals
        fmt = ".1f" if size >= 0.1 else ".2f"
    return f"{_signed(mean, fmt)} {unit} [{_signed(lo, fmt)}, {_signed(hi, fmt)}]"


def _cost(v: Verdict) -> str:
    c = v.cost
    load = c.get(v.load_metric, math.nan)
    text = (
        f"It costs {_num(c.get('handoffs_per_week', math.nan))} handoffs a week "
        f"({_num(load)} in the {_week(v)} against a capacity of {_num(v.capacity)})"
    )
    hours, false = c.get("sales_hours", math.nan), c.get("false_handoff_hours", math.nan)
    if hours == hours:
        text += f" and {_num(hours)} sales hours, {_num(false)} of them on false handoffs"
    return text + "."


def check_objective(objective: str) -> None:
    """A ``ConfigError`` (with a did-you-mean) unless ``objective`` is a metric with a
    direction; the CLI calls it before anything runs.

    >>> try:
    ...     check_objective("total_win")
    ... except ConfigError as exc:
    ...     print(str(exc).split(";")[0])
    --objective 'total_win': not a metric with a direction (did you mean 'total_wins'?)
    """
    metric = METRICS.get(objective)
    if metric is None or metric.better not in ("higher", "lower"):
        ok = [m.name for m in METRICS.values() if m.better]
        raise ConfigError(
            f"--objective {objective!r}: not a metric with a direction"
            f"{did_you_mean(objective, ok)}; one of {', '.join(ok)}"
        )


def verdict(
    cmp: Comparison,
    objective: str = "total_wins",
    capacity: float | None = None,
    min_precision: float | None = None,
    capacity_quantile: float | None = 0.9,
) -> Verdict:
    """The verdict of ``cmp``: the policy with the best mean ``objective`` (its direction from
    ``METRICS``) among those whose week of queue-joining handoffs at ``capacity_quantile``
    (0.9: the p90 week, 0.5: the median week, 1: the busiest week, None: the mean handoffs
    per week, also used when the comparison has no weekly load) is at most ``capacity``
    (default: the scenario's SDR capacity per week) and whose precision is at least
    ``min_precision``."""
    check_objective(objective)
    metric = METRICS[objective]
    cap = cmp.scenario.sales.capacity_per_week if capacity is None else float(capacity)
    load_metric = capacity_metric(capacity_quantile)
    wanted = list(dict.fromkeys([objective, *_COST, load_metric]))
    s = cmp.summary(wanted).set_index(["policy", "metric"])["mean"]
    if not s.xs(load_metric, level="metric").notna().any():  # written before the weekly load
        load_metric = "handoffs_per_week"
    ruled = _rule_out(cmp.policies, s, objective, cap, load_metric, min_precision)
    v = Verdict(objective, None, cmp.baseline or cmp.policies[0], None, cap, load_metric)
    v.ruled_out, v.min_precision, v.level = ruled, min_precision, cmp.level
    feasible = [p for p in cmp.policies if p not in ruled]
    if not feasible:
        return v
    sign = 1.0 if metric.better == "higher" else -1.0
    ranked = sorted(feasible, key=lambda p: -sign * s[(p, objective)])  # stable: first listed
    v.chosen, v.value = ranked[0], float(s[(ranked[0], objective)])
    v.against = v.baseline if v.chosen != v.baseline else next(iter(ranked[1:]), None)
    if v.against is not None:
        d = cmp.paired(baseline=v.against, metrics=[objective]).set_index("policy").loc[v.chosen]
        v.diff, v.ci_low, v.ci_high, v.n = d["mean"], d["ci_low"], d["ci_high"], int(d["n"])
        v.distinguishable = bool(v.ci_low > 0 or v.ci_high < 0)  # False when NaN
    v.cost = {m: float(s[(v.chosen, m)]) for m in dict.fromkeys([*_COST, load_metric])}
    v.cost["weeks_over_capacity"] = _weeks_over(cmp, v.chosen, cap, v.cost["weeks_over_capacity"])
    v.caveat = caveat(v.cost, _median_vs_ready(cmp, v.chosen), cap)
    return v


def _rule_out(policies, s: pd.Series, objective: str, cap: float, load_metric: str, floor):
    """policy -> why it is out: no value of the objective (a month metric of an MQL), its
    load over the capacity, its precision under the floor."""
    out = {}
    week = "handoffs a week" if load_metric == "handoffs_per_week" else _label(load_metric)
    for p in policies:
        load, prec = s[(p, load_metric)], s[(p, "precision")]
        why = []
        if np.isnan(s[(p, objective)]):
            why.append(f"no value for {METRICS[objective].label.lower()}")
        if load > cap:
            why.append(f"{week} {_num(load)} over the capacity of {_num(cap)}")
        if floor is not None and not prec >= floor:
            why.append(f"precision {_num(prec)} under the floor of {floor:g}")
        if why:
            out[p] = ", ".join(why)
    return out


def _weeks_over(cmp: Comparison, policy: str, cap: float, stored: float) -> float:
    """The mean over the worlds of the share of the policy's whole weeks whose queue-joining
    handoffs exceed ``cap`` (the verdict's capacity, which may not be the scenario's that the
    stored ``weeks_over_capacity`` counts against); ``stored`` when there is no weekly table."""
    mine = cmp.weekly[cmp.weekly["policy"] == policy] if len(cmp.weekly) else cmp.weekly
    if mine.empty:
        return stored
    shares = [weekly_load(g.assign(capacity=cap)) for _, g in mine.groupby("replication")]
    return float(pd.Series([x["weeks_over_capacity"] for x in shares]).mean())  # NaN skipped


def _median_vs_ready(cmp: Comparison, policy: str) -> float:
    """Median days from the sales-ready moment to the policy's true handoffs (NaN: none)."""
    h = cmp.handoffs
    if h.empty or "vs_sales_ready_days" not in h.columns:
        return math.nan
    mine = h[(h["policy"] == policy) & h["true_handoff"].astype(bool)]
    return float(np.nanmedian(mine["vs_sales_ready_days"])) if len(mine) else math.nan


def caveat(cost: dict[str, float], median_vs_ready: float, capacity: float) -> str | None:
    """The one caveat that matters most, from the first rule that applies (in this order):
    almost never fires; floods the SDR queue in some weeks; fires before most journeys start
    (month precision near the base rate, or true handoffs long before sales-ready); most
    handoffs false; many buying accounts missed. None when no rule applies.

    >>> caveat({"handoffs_per_week": 0.3}, float("nan"), 24)
    'hands off 0.30 a week: almost never fires'
    """
    nan = math.nan
    per_week = cost.get("handoffs_per_week", nan)
    over = cost.get("weeks_over_capacity", nan)
    month, base = cost.get("month_precision", nan), cost.get("month_base_rate", nan)
    prec, recall = cost.get("precision", nan), cost.get("recall", nan)
    if per_week < RARE_PER_WEEK:
        return f"hands off {_num(per_week)} a week: almost never fires"
    if over > OVER_CAPACITY_SHARE:
        return (
            f"{over:.0%} of its weeks exceed the capacity of {_num(capacity)}: it floods at times"
        )
    if month < MONTH_LIFT * base:
        return (
            f"its qualified account-months open an opportunity {month:.1%} of the time against "
            f"a base rate of {base:.1%}: it fires before most journeys start"
        )
    if median_vs_ready < EARLY_DAYS:
        return (
            f"its median true handoff comes {-median_vs_ready:.0f} days before the account is "
            "sales-ready: fires before most journeys reach intent"
        )
    if prec < LOW_PRECISION:
        return (
            f"precision {prec:.2f}: {1 - prec:.0%} of its handoffs are of accounts not in a "
            "buying journey"
        )
    if recall < LOW_RECALL:
        return (
            f"recall {recall:.2f}: {1 - recall:.0%} of the accounts that buy never get a true "
            "handoff from it"
        )
    return None
