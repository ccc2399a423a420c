"""Compare policies on the same simulated worlds, with confidence intervals over replications.

>>> import sim
>>> cmp = sim.compare(
...     "smb", ["mql_only", "mqa_count"], replications=3, seed=1, baseline="mql_only",
...     overrides={"accounts": {"count": 150}},
... )
>>> sorted(cmp.tidy.columns)
['metric', 'policy', 'replication', 'value']
>>> s = cmp.summary()
>>> list(s.columns)
['policy', 'metric', 'unit', 'better', 'truth', 'mean', 'ci_low', 'ci_high', 'n']
>>> s.loc[s["metric"] == "precision", ["unit", "better", "truth"]].iloc[0].tolist()
['share', 'higher', 'active journey']
>>> set(cmp.paired()["policy"])
{'mqa_count'}

Replication *r* simulates the world with the *r*-th child of ``numpy.random.SeedSequence(seed)``;
every policy runs on that same world and the sales side draws its luck keyed by account
(common random numbers), so ``paired()`` differences are due to the policies alone. Results do not
depend on the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import policies as pol
from sim.config import did_you_mean
from sim.errors import ConfigError
from sim.experiment.calibration.table import table_from_runs
from sim.experiment.compare_io import read_comparison, with_metric_meta, write_comparison
from sim.experiment.executors import Executor, executor_for
from sim.experiment.replicate import replicate, replication_seeds
from sim.experiment.size import check_comparison_size
from sim.experiment.stats import grouped_intervals, interval_text, t_interval
from sim.sales.metrics import HEADLINE, METRICS, row_label
from sim.tables import METRIC_ROWS, SUMMARY, WEEKLY
from sim.world.presets import load_scenario
from sim.world.progression import ACCOUNT_STAGES
from sim.world.scenario import Scenario

#: what ``qualsim run`` compares: the practice-grade rules (a lead score with fit and decay, an
#: MQA counting people with depth), then the title-weighted and stage rules, then the two seed
#: examples a policy file is written from
SHIPPED_POLICIES = [
    "mql_scored",
    "mqa_depth",
    "weighted_titles",
    "progression_stages",
    "mql_only",
    "mqa_count",
]
#: the baseline a comparison is paired against when none is given and it is among the policies
DEFAULT_BASELINES = ("mql_scored", "mql_only")


def _load_policies(policies) -> list[pol.PolicyBase]:
    loaded = [p if isinstance(p, pol.PolicyBase) else pol.load_policy(p) for p in policies]
    if not loaded:
        raise ConfigError("compare: give at least one policy")
    names = [p.name for p in loaded]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"compare: policy names must be unique, repeated: {', '.join(dup)}")
    return loaded


@dataclass
class Comparison:
    """The result of :func:`compare`: ``tidy`` is the long table (policy, replication, metric,
    value), one row per policy, replication and metric."""

    tidy: pd.DataFrame
    scenario: Scenario
    policies: list[str]
    seed: int
    seeds: list[int]
    baseline: str | None = None
    level: float = 0.95
    progression: pd.DataFrame = field(default_factory=pd.DataFrame)
    campaigns: pd.DataFrame = field(default_factory=pd.DataFrame)
    funnel: pd.DataFrame = field(default_factory=pd.DataFrame)
    stages: pd.DataFrame = field(default_factory=pd.DataFrame)
    handoffs: pd.DataFrame = field(default_factory=pd.DataFrame)
    weekly: pd.DataFrame = field(default_factory=WEEKLY.empty)
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    meta: dict = field(default_factory=dict)

    def calibration_table(self) -> pd.DataFrame:
        """The calibration table of these worlds: each published band of the scenario's
        preset, the worlds' figure with its CI, and whether it is in the band (the funnel rows
        when the practice MQL was compared)."""
        return table_from_runs(self.scenario, self.calibration, self.level)

    def stage_summary(self) -> pd.DataFrame:
        """Accounts in each account stage, week by week: mean and CI over replications."""
        long = self.stages.melt(
            id_vars=["time", "replication"], value_vars=ACCOUNT_STAGES, var_name="stage"
        ).rename(columns={"value": "accounts"})
        return grouped_intervals(long, ["time", "stage"], ["accounts"], self.level)

    def progression_summary(self) -> pd.DataFrame:
        """Per latent stage: progression rate and velocity (median days), mean and 95% CI over
        replications (world-level: the same for every policy)."""
        return grouped_intervals(
            self.progression, ["stage", "next_stage"], ["rate", "median_days"], self.level
        )

    def progression_table(self) -> pd.DataFrame:
        """:meth:`progression_summary` as a printable table: one row per latent stage step
        ("aware -> engaged"), progression rate and velocity as "mean ±half-width"."""
        prog = self.progression_summary()
        prog = prog.assign(
            text=[interval_text(r.mean, r.ci_low, r.ci_high) for r in prog.itertuples()]
        )
        t = prog.pivot_table(
            index=["stage", "next_stage"],
            columns="value",
            values="text",
            aggfunc="first",
            sort=False,
        )
        t = t.reindex(columns=["rate", "median_days"])
        t.index = pd.Index([f"{a} -> {b}" for a, b in t.index], name="latent stage")
        t.columns.name = None
        return t.rename(
            columns={"rate": "progression rate", "median_days": "velocity (median days)"}
        )

    def campaign_summary(self) -> pd.DataFrame:
        """Per campaign, group (exposed / unexposed) and stage: progression rate, mean and CI."""
        return grouped_intervals(
            self.campaigns, ["campaign", "stage", "group"], ["rate"], self.level
        )

    def funnel_summary(self) -> pd.DataFrame:
        """Per policy: the double funnel (lead steps beside account steps), mean count and
        conversion over replications with CIs."""
        return grouped_intervals(
            self.funnel, ["policy", "funnel", "step"], ["count", "conversion"], self.level
        )

    def summary(self, metrics: list[str] | None = None) -> pd.DataFrame:
        """Policy x metric: mean over replications and its confidence interval, with the
        metric's unit, better direction and truth (``sim.tables.SUMMARY``)."""
        return self._intervals(self.tidy, metrics)

    def paired(self, baseline: str | None = None, metrics=None) -> pd.DataFrame:
        """Each policy minus the baseline, replication by replication (same worlds), with CIs."""
        base = baseline or self.baseline or self.policies[0]
        if base not in self.policies:
            raise ConfigError(
                f"baseline {base!r} is not one of the compared policies "
                f"({', '.join(self.policies)}){did_you_mean(base, self.policies)}"
            )
        wide = self.tidy.pivot_table(
            index=["replication", "metric"], columns="policy", values="value", dropna=False
        )
        diffs = wide.sub(wide[base], axis=0).drop(columns=[base])
        long = diffs.stack(future_stack=True).rename("value").reset_index()
        return self._intervals(long, metrics)

    def _intervals(self, long: pd.DataFrame, metrics) -> pd.DataFrame:
        metrics = metrics or list(METRICS)
        rows = []
        for p in [p for p in self.policies if p in set(long["policy"])]:
            sub = long[long["policy"] == p]
            for m in metrics:
                mean, lo, hi, n = t_interval(sub.loc[sub["metric"] == m, "value"], self.level)
                rows.append(
                    {"policy": p, "metric": m, "mean": mean, "ci_low": lo, "ci_high": hi, "n": n}
                )
        return with_metric_meta(pd.DataFrame(rows, columns=SUMMARY.names))

    def table(self, metrics: list[str] | None = None, paired: bool = False) -> pd.DataFrame:
        """A printable table: one row per metric (its label, unit and the mark of its better
        direction, :func:`sim.sales.metrics.row_label`; :func:`sim.sales.metrics.legend`
        explains the marks), one column per policy, "mean ±half-width" of the 95% interval
        (with ``paired``: each policy minus the baseline, without the metrics no policy has a
        difference for, e.g. month-by-month ones against an MQL)."""
        metrics = metrics or HEADLINE
        s = self.paired(metrics=metrics) if paired else self.summary(metrics)
        if paired:
            has = s.groupby("metric")["mean"].apply(lambda v: v.notna().any())
            metrics = [m for m in metrics if has.get(m, False)]
        s = s.assign(text=[interval_text(r.mean, r.ci_low, r.ci_high) for r in s.itertuples()])
        t = s.pivot(index="metric", columns="policy", values="text")
        t = t.reindex(index=metrics, columns=[p for p in self.policies if p in t.columns])
        t.index = [row_label(m) for m in metrics]
        t.index.name = "metric"
        t.columns.name = None
        return t

    def write(self, out: str | Path, fmt: str = "csv", safe: bool = True) -> list[Path]:
        """Write everything to ``out`` as CSV or Parquet, replacing the folder as a whole: see
        :func:`sim.experiment.compare_io.write_comparison`. :meth:`read` loads it back."""
        return write_comparison(self, out, fmt, safe)

    @classmethod
    def read(cls, folder: str | Path) -> Comparison:
        """A comparison written by :meth:`write` (or ``qualsim compare --out``); a missing,
        truncated or corrupt file is a ``DataError`` naming it. Its summaries are computed
        again from its ``tidy`` table, with each metric's unit, direction and truth from the
        registry (so a folder written before those columns existed reads the same)."""
        return cls(**read_comparison(folder))


def compare(
    scenario: str | Path | Scenario | dict = "enterprise",
    policies=None,
    replications: int = 10,
    seed: int = 0,
    baseline: str | None = None,
    overrides: dict | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> Comparison:
    """Run every policy on ``replications`` simulated worlds of ``scenario`` (see module doc).

    ``policies``: shipped names, YAML paths or loaded policies (default: the four shipped ones);
    ``workers``: local processes, or ``executor`` (``sim.experiment.executors``) to run the
    replications elsewhere — results are identical either way; ``progress``: a callable called
    once per finished replication (with its index).
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ConfigError(f"replications: expected an integer >= 1, got {replications!r}")
    sc = load_scenario(scenario, overrides=overrides)
    loaded = _load_policies(SHIPPED_POLICIES if policies is None else policies)
    names = [p.name for p in loaded]
    if baseline is not None and baseline not in names:
        raise ConfigError(
            f"baseline {baseline!r} is not one of the compared policies ({', '.join(names)})"
            f"{did_you_mean(baseline, names)}"
        )
    run_on = executor_for(workers, executor)
    check_comparison_size(sc, len(loaded), replications, run_on)
    seeds = replication_seeds(seed, replications)
    results: list[dict] = [{} for _ in seeds]
    with run_on as ex:
        for r, res in ex.map(replicate, [(sc, loaded, s) for s in seeds]):
            results[r] = res
            if progress:
                progress(r)
    return _comparison(sc, loaded, seed, seeds, baseline, results)


def _comparison(sc, loaded, seed, seeds, baseline, results) -> Comparison:
    """The Comparison of finished replications (each a dict of :func:`replicate`)."""
    tidy = pd.DataFrame(
        [{"replication": r, **row} for r, res in enumerate(results) for row in res["metrics"]],
        columns=["replication", "policy", "metric", "value"],
    )[METRIC_ROWS.names]

    def stacked(name: str) -> pd.DataFrame:
        return pd.concat(
            [res[name].assign(replication=r) for r, res in enumerate(results)], ignore_index=True
        )

    return Comparison(
        tidy,
        sc,
        [p.name for p in loaded],
        seed,
        seeds,
        baseline,
        progression=stacked("progression"),
        campaigns=stacked("campaigns"),
        funnel=stacked("funnel"),
        stages=stacked("stages"),
        handoffs=stacked("handoffs"),
        weekly=stacked("weekly")[WEEKLY.names],
        calibration=stacked("calibration"),
        meta={
            "policy_configs": {
                p.name: p.model_dump(mode="json", by_alias=True, exclude_none=True) for p in loaded
            }
        },
    )
