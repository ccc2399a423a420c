"""The calibration table: every published band a scenario can be checked against, the
scenario's figure with its 95% CI over replications, whether it is in the band, and — given a
team's export — the same figure from the team's own history.

>>> import sim
>>> t = calibration_table("smb", replications=2, overrides={"accounts": {"count": 300}})
>>> list(t.columns)[:6]
['id', 'what', 'band_low', 'band_high', 'mean', 'ci_low']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import policies as pol
from sim.experiment.calibration.bands import BANDS, PRACTICE_MQL, Band, bands_for
from sim.experiment.calibration.observables import export_figures, funnel_figures, world_figures
from sim.experiment.executors import Executor, executor_for
from sim.experiment.replicate import Replica, replication_seeds
from sim.experiment.size import RESULT_BYTES_PER_REPLICATION, check_replications
from sim.experiment.stats import t_interval
from sim.real.reallog import RealLog
from sim.world.presets import PRESETS, load_scenario
from sim.world.scenario import Scenario

COLUMNS = [
    "id",
    "what",
    "band_low",
    "band_high",
    "mean",
    "ci_low",
    "ci_high",
    "n",
    "status",
    "export",
    "source",
    "how",
]


def calibration_unit(scenario: Scenario, seed: int) -> dict[str, float]:
    """Every figure of one replication: one world, and the practice MQL through its sales."""
    rep = Replica.simulate(scenario, seed)
    figures = world_figures(rep.world)
    mql = pol.load_policy(PRACTICE_MQL)
    figures.update(funnel_figures(rep.world, rep.play(rep.evaluate(mql))))  # always live
    return figures


def preset_of(scenario: Scenario) -> str | None:
    """The shipped preset a scenario is, or extends (None for neither)."""
    for name in (scenario.name, scenario.extends):
        if name in PRESETS:
            return name
    return None


def calibration_table(
    scenario: str | Path | Scenario | dict = "enterprise",
    replications: int = 5,
    seed: int = 0,
    overrides: dict | None = None,
    real: RealLog | None = None,
    workers: int = 1,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """The calibration table of ``scenario`` (see the module doc): one row per band of its
    preset, ``mean`` and its t interval over ``replications`` worlds, ``status`` "in band" or
    "out of band" (by the mean), and ``export`` the figure of ``real`` when given."""
    sc = load_scenario(scenario, overrides=overrides)
    run_on = executor_for(workers, executor)
    what = "measuring the calibration figures on"
    check_replications(sc, replications, run_on, what, RESULT_BYTES_PER_REPLICATION)
    seeds = replication_seeds(seed, replications)
    runs: list[dict[str, float]] = [{} for _ in seeds]
    with run_on as ex:
        for r, figures in ex.map(calibration_unit, [(sc, s) for s in seeds]):
            runs[r] = figures
    ours = export_figures(real, sc.crm.email_sends_per_month) if real is not None else {}
    long = pd.DataFrame(
        [(r, k, v) for r, run in enumerate(runs) for k, v in run.items()],
        columns=["replication", "id", "value"],
    )
    return table_from_runs(sc, long, export=ours)


def table_from_runs(
    scenario: Scenario, runs: pd.DataFrame, level: float = 0.95, export: dict | None = None
) -> pd.DataFrame:
    """The table from figures already measured: ``runs`` has one row per (replication, id,
    value); ``export`` the figures of a team's export, by id."""
    rows = []
    preset = preset_of(scenario)
    for b in bands_for(preset):
        values = runs.loc[runs["id"] == b.id, "value"] if len(runs) else pd.Series([], float)
        row = _row(b, values.to_numpy(np.float64), (export or {}).get(b.id), level)
        if not b.judged_for(preset):
            row["status"] = "reference"
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(band: Band, values, export: float | None, level: float = 0.95) -> dict[str, Any]:
    mean, lo, hi, n = t_interval(np.asarray(values, dtype=np.float64), level)
    inside = band.low <= mean <= band.high
    return {
        "id": band.id,
        "what": band.what,
        "band_low": band.low,
        "band_high": band.high,
        "mean": mean,
        "ci_low": lo,
        "ci_high": hi,
        "n": n,
        "status": (
            "reference"
            if not band.judged
            else "-"
            if n == 0
            else "in band"
            if inside
            else "out of band"
        ),
        "export": np.nan if export is None else export,
        "source": band.source,
        "how": band.how,
    }


def printable(table: pd.DataFrame, with_export: bool = False) -> pd.DataFrame:
    """The table as text for a terminal or a page: the band, the figure as "mean ±half-width"
    of its 95% CI, the status and (``with_export``) the export's figure."""
    percent = {b.id: b.percent for b in BANDS}
    rows = []
    for r in table.itertuples():
        fmt = _percent if percent.get(r.id, False) else _number
        row = {
            "id": r.id,
            "what": r.what,
            "band": f"{fmt(r.band_low)}–{fmt(r.band_high)}",
            "simulated": _with_ci(r.mean, r.ci_high, fmt),
            "status": r.status,
        }
        if with_export:
            row["your export"] = "-" if r.export != r.export else fmt(r.export)
        rows.append(row)
    return pd.DataFrame(rows).set_index("id")


def _percent(v: float) -> str:
    return "-" if v != v else f"{100 * v:.1f}%"


def _number(v: float) -> str:
    return "-" if v != v else f"{v:,.1f}"


def _with_ci(mean: float, high: float, fmt) -> str:
    if mean != mean:
        return "-"
    if high != high:
        return fmt(mean)
    half = fmt(high - mean).rstrip("%")
    return f"{fmt(mean)} ±{half}"
