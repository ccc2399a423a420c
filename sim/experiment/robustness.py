"""Robustness to messy CRM data: how each policy's metrics move as each ``data_quality`` knob
goes from clean (every knob at zero) to its documented value.

For each knob, :func:`robustness` runs the comparison twice on the same seeds (common random
numbers: the same journeys and the same sales luck, only the log differs): once with every knob
at zero and once with only that knob at its value. The result is a tidy table, policy x knob x
metric: the clean and messy means, their paired change and its confidence interval (with two or
more replications). Knobs at zero in the scenario are left out unless a value is given for them.

>>> r = robustness(
...     "smb", ["mql_only"], replications=2, seed=1, values={"blank_titles": 0.5},
...     overrides={"accounts": {"count": 150}},
... )
>>> list(r.table.columns)
['policy', 'knob', 'value', 'metric', 'clean', 'messy', 'change', 'ci_low', 'ci_high', 'n']
>>> sorted(set(r.table["knob"]))
['blank_titles', 'duplicate_contacts', 'scanner_accounts']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.errors import ConfigError
from sim.experiment.compare import SHIPPED_POLICIES, Comparison, compare
from sim.experiment.executors import Executor
from sim.experiment.stats import interval_text, t_interval
from sim.files import neutralise, write_text
from sim.world.data_quality import CLEAN, KNOBS
from sim.world.presets import load_scenario
from sim.world.scenario import Scenario

#: the metrics a robustness table shows by default (names a comparison lacks are skipped)
DEFAULT_METRICS = ("precision", "recall", "weekly_load_p90", "handoffs_per_week")
COLUMNS = ["policy", "knob", "value", "metric", "clean", "messy", "change", "ci_low", "ci_high",
           "n"]  # fmt: skip


@dataclass
class Robustness:
    """The result of :func:`robustness`: ``table`` (policy, knob, value, metric, clean, messy,
    change, ci_low, ci_high, n), the clean comparison and one messy comparison per knob."""

    table: pd.DataFrame
    clean: Comparison
    messy: dict[str, Comparison] = field(default_factory=dict)
    level: float = 0.95

    def text(self, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """A printable table: one row per (policy, knob), one column per metric, each cell
        "clean -> messy (change ±half-width)"."""
        t = self.table
        if metrics is not None:
            t = t[t["metric"].isin(list(metrics))]
        cells = [
            f"{_num(r.clean)} -> {_num(r.messy)} ({interval_text(r.change, r.ci_low, r.ci_high)})"
            for r in t.itertuples()
        ]
        wide = t.assign(cell=cells).pivot_table(
            index=["policy", "knob"], columns="metric", values="cell", aggfunc="first", sort=False
        )
        order = [m for m in dict.fromkeys(t["metric"]) if m in wide.columns]
        wide = wide[order]
        wide.index = pd.Index([f"{p} / {k}" for p, k in wide.index], name="policy / knob")
        wide.columns.name = None
        return wide

    def write(self, path: str | Path, safe: bool = True) -> Path:
        """Write :attr:`table` as CSV to ``path`` atomically (text cells a spreadsheet would run
        as a formula get a leading ``'`` unless not ``safe``: :func:`sim.files.neutralise`)."""
        table = neutralise(self.table) if safe else self.table
        return write_text(path, table.to_csv(index=False))


def _num(x: float) -> str:
    return "nan" if pd.isna(x) else f"{x:.3g}"


def knob_values(sc: Scenario, values: Mapping[str, float] | None = None) -> dict[str, float]:
    """The knobs to try and their messy values: the scenario's non-zero knobs, then
    ``values`` (which may name any knob, and replace a scenario's value)."""
    values = dict(values or {})
    unknown = sorted(set(values) - set(KNOBS))
    if unknown:
        raise ConfigError(
            f"robustness: unknown data_quality knob(s) {', '.join(unknown)}; "
            f"expected one of {', '.join(KNOBS)}"
        )
    dq = sc.data_quality
    out = {k: float(getattr(dq, k)) for k in KNOBS if getattr(dq, k) != 0}
    out.update({k: float(v) for k, v in values.items()})
    return {k: out[k] for k in KNOBS if k in out}


def with_knobs(sc: Scenario, knobs: Mapping[str, float]) -> Scenario:
    """``sc`` with every knob at zero but ``knobs`` (validated like a scenario file)."""
    dq = {**sc.data_quality.model_dump(), **CLEAN, **knobs}
    try:
        return Scenario.model_validate({**sc.model_dump(), "data_quality": dq})
    except ValueError as exc:
        raise ConfigError(f"robustness: data_quality values rejected: {exc}") from None


def robustness(
    scenario: str | Path | Scenario | dict = "enterprise",
    policies=None,
    replications: int = 2,
    seed: int = 0,
    values: Mapping[str, float] | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    overrides: dict | None = None,
    workers: int = 1,
    executor: Executor | None = None,
) -> Robustness:
    """Per knob of ``data_quality``: every policy's ``metrics`` with all knobs at zero and with
    only that knob at its value (the scenario's, or ``values``), on the same seeds."""
    sc = load_scenario(scenario, overrides=overrides)
    knobs = knob_values(sc, values)
    pols = SHIPPED_POLICIES if policies is None else policies

    def run(s: Scenario) -> Comparison:
        return compare(s, pols, replications, seed, workers=workers, executor=executor)

    clean = run(with_knobs(sc, {}))
    messy = {k: run(with_knobs(sc, {k: v})) for k, v in knobs.items()}
    rows = [
        row
        for k, cmp in messy.items()
        for row in _rows(clean, cmp, k, knobs[k], list(metrics), clean.level)
    ]
    return Robustness(pd.DataFrame(rows, columns=COLUMNS), clean, messy, clean.level)


def _rows(clean: Comparison, messy: Comparison, knob: str, value: float, metrics, level):
    """The table rows of one knob: per policy and metric, the paired change over replications."""
    key = ["policy", "metric", "replication"]
    a = clean.tidy.set_index(key)["value"].sort_index()
    b = messy.tidy.set_index(key)["value"].reindex(a.index)
    have = set(clean.tidy["metric"])
    for p in clean.policies:
        for m in [m for m in metrics if m in have]:
            ca, mb = a.loc[(p, m)], b.loc[(p, m)]
            change, lo, hi, n = t_interval((mb - ca).to_numpy(), level)
            yield {
                "policy": p, "knob": knob, "value": value, "metric": m,
                "clean": float(ca.mean()), "messy": float(mb.mean()),
                "change": change, "ci_low": lo, "ci_high": hi, "n": n,
            }  # fmt: skip
