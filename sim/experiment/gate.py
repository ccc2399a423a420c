"""A regression gate for policy configs: run a suite of reference scenarios and compare key
metrics with a stored baseline, with a tolerance from the replications' standard errors.

A suite file (YAML)::

    name: my-team-gate
    seed: 1
    replications: 5
    tolerance_se: 4                  # fail when |now - baseline| > 4 x the combined std. error
    metrics: [precision, recall, handoffs_per_week, lead_time_days, wins]
    policies: [mql_only, my_rules/mqa.yaml]   # shipped names, files in the suite's folder tree
    scenarios:
      - name: enterprise
        scenario: enterprise          # a preset or a scenario file
        overrides: {accounts: {count: 600}}

``run_suite`` returns one row per (scenario, policy, metric) with the mean, its standard error
(sd / sqrt(n) over replications) and n. ``check`` compares two such tables: a metric *moved*
when ``|mean - base_mean| > tolerance_se * sqrt(se**2 + base_se**2)``; a metric whose both
standard errors are 0 (identical replications) must match exactly (to 1e-9 relative). A row
present on one side only is reported too ("new" or "missing") and also fails the gate.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from policies.loading import shipped_policies
from sim import __version__
from sim.config.chain import ConfigFile, validate_model
from sim.config.files import read_config_text, resolve_reference
from sim.config.strict_yaml import format_path, read_yaml_file
from sim.config.types import Strict
from sim.errors import ConfigError, DataError, QualsimError
from sim.experiment.compare import compare
from sim.experiment.executors import Processes
from sim.experiment.stats import mean_se
from sim.files import write_text
from sim.sales.metrics import METRICS
from sim.tables import GATE_ROWS
from sim.world.presets import PRESETS, preset_path

GATE_COLUMNS = GATE_ROWS.names


class SuiteScenario(Strict):
    name: Annotated[str, Field(min_length=1)] = Field(description="its name in the results")
    scenario: str = Field("enterprise", description="a preset or a scenario file")
    overrides: dict[str, Any] = Field({}, description="scenario fields to change, nested")


class Suite(Strict):
    name: str = Field("suite", description="the suite's name in its baseline")
    seed: Annotated[int, Field(strict=True, ge=0)] = Field(0, description="the root seed")
    replications: Annotated[int, Field(strict=True, ge=2, le=1000)] = Field(
        5, description="worlds simulated per scenario"
    )
    tolerance_se: Annotated[float, Field(strict=True, gt=0)] = Field(
        4.0, description="a metric moved when it differs by more than this many standard errors"
    )
    metrics: Annotated[list[str], Field(min_length=1)] = Field(
        ["precision", "recall", "handoffs_per_week", "lead_time_days", "wins"],
        description="the metrics compared with the baseline",
    )
    policies: Annotated[list[str], Field(min_length=1)] = Field(
        description="shipped names or policy files in the suite's folder tree"
    )
    scenarios: Annotated[list[SuiteScenario], Field(min_length=1)] = Field(
        description="the reference scenarios"
    )

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, v: list[str]) -> list[str]:
        bad = [m for m in v if m not in METRICS]
        if bad:
            raise ValueError(f"unknown metrics {bad}; known: {', '.join(METRICS)}")
        return v

    @field_validator("scenarios")
    @classmethod
    def _unique(cls, v: list[SuiteScenario]) -> list[SuiteScenario]:
        names = [s.name for s in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"scenario names must be unique, repeated: {', '.join(dup)}")
        return v


def load_suite(path: str | Path) -> tuple[Suite, Path]:
    """Read and validate a suite file; returns it and its folder (for relative paths). Its
    policies and scenarios are shipped names or files inside its folder tree (SECURITY.md)."""
    path = Path(path)
    data, lines = read_yaml_file(path)
    suite = validate_model(Suite, data, [ConfigFile(path, data, lines)], what="suite")
    refs: list[tuple[tuple[str | int, ...], str, Mapping[str, Path]]] = [
        (("policies", i), ref, shipped_policies()) for i, ref in enumerate(suite.policies)
    ]
    refs += [
        (("scenarios", i, "scenario"), sc.scenario, _PRESET_PATHS)
        for i, sc in enumerate(suite.scenarios)
    ]
    problems = []
    for loc, ref, names in refs:
        try:
            if not resolve_reference(ref, path.parent, names).exists():
                raise ConfigError(f"no shipped name or file {ref!r}")
        except ConfigError as exc:
            problems.append(f"{path}:{lines.line_of(loc) or '?'}: {format_path(loc)}: {exc}")
    if problems:
        raise ConfigError("\n".join(problems))
    return suite, path.parent


_PRESET_PATHS = {name: preset_path(name) for name in PRESETS}


def _resolve(ref: str, base: Path, names: Mapping[str, Path]) -> str:
    """A suite's reference as ``compare`` takes it: a shipped name, or the file's path."""
    return ref if ref in names else str(resolve_reference(ref, base))


def suite_hash(suite: Suite, base: Path) -> str:
    """Hash of the suite's content and of the policy files it names (what the baseline is of)."""
    parts: list[Any] = [suite.model_dump(mode="json")]
    shipped = shipped_policies()
    for ref in suite.policies:
        p = Path(_resolve(ref, base, shipped))
        parts.append(read_config_text(p) if ref not in shipped and p.is_file() else ref)
    return hashlib.blake2b(json.dumps(parts).encode(), digest_size=8).hexdigest()


def run_suite(suite: Suite, base: Path, workers: int = 0, progress=None) -> pd.DataFrame:
    """Run every scenario of the suite with its policies: one row per (scenario, policy,
    metric) with mean, standard error and n over replications."""
    pols = [_resolve(p, base, shipped_policies()) for p in suite.policies]
    rows = []
    for sc in suite.scenarios:
        src = _resolve(sc.scenario, base, _PRESET_PATHS)
        try:
            cmp = compare(
                src,
                pols,
                suite.replications,
                suite.seed,
                overrides=sc.overrides or None,
                executor=Processes(workers),
            )
        except QualsimError as exc:
            raise ConfigError(f"suite scenario {sc.name!r}: {exc}") from None
        t = cmp.tidy[cmp.tidy["metric"].isin(suite.metrics)]
        for (policy, metric), g in t.groupby(["policy", "metric"], sort=False):
            rows.append((sc.name, policy, metric, *mean_se(g["value"].to_numpy(np.float64))))
        if progress:
            progress(sc.name)
    return pd.DataFrame(rows, columns=GATE_COLUMNS)


def write_baseline(table: pd.DataFrame, suite: Suite, base: Path, path: str | Path) -> Path:
    """Store a suite run as the baseline (JSON, atomically)."""
    path = Path(path)
    payload = {
        "suite": suite.name,
        "suite_hash": suite_hash(suite, base),
        "qualsim_version": __version__,
        "rows": json.loads(table.to_json(orient="records")),
    }
    return write_text(path, json.dumps(payload, indent=1))


def read_baseline(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """A baseline file: its rows and its header (suite, suite_hash, qualsim_version). Read as a
    config file (it arrives through pull requests too): a regular file of at most 1 MiB."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: baseline not found (create it with --update-baseline)")
    text = read_config_text(path)
    try:
        payload = json.loads(text)
        rows = pd.DataFrame(payload["rows"], columns=GATE_COLUMNS)
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a qualsim baseline file ({exc})") from None
    rows[["mean", "se"]] = rows[["mean", "se"]].astype(float)
    return rows, {k: v for k, v in payload.items() if k != "rows"}


def _or0(x: float) -> float:
    return 0.0 if x != x else float(x)


def check(now: pd.DataFrame, base: pd.DataFrame, tolerance_se: float) -> pd.DataFrame:
    """Compare a run with a baseline: one row per (scenario, policy, metric) with both means,
    the difference, the tolerance and a status: ok, moved, new or missing."""
    keys = ["scenario", "policy", "metric"]
    m = now.merge(base, on=keys, how="outer", suffixes=("", "_base"), indicator="side")
    status, tol = [], []
    for r in m.itertuples():
        if r.side == "left_only":
            status.append("new")
            tol.append(math.nan)
            continue
        if r.side == "right_only":
            status.append("missing")
            tol.append(math.nan)
            continue
        se = math.hypot(_or0(r.se), _or0(r.se_base))
        t = tolerance_se * se
        tol.append(t)
        if math.isnan(r.mean) and math.isnan(r.mean_base):
            status.append("ok")
        elif math.isnan(r.mean) or math.isnan(r.mean_base):
            status.append("moved")
        elif se == 0.0:
            same = math.isclose(r.mean, r.mean_base, rel_tol=1e-9, abs_tol=1e-12)
            status.append("ok" if same else "moved")
        else:
            status.append("ok" if abs(r.mean - r.mean_base) <= t else "moved")
    out = pd.DataFrame(
        {
            "scenario": m["scenario"],
            "policy": m["policy"],
            "metric": m["metric"],
            "baseline": m["mean_base"],
            "now": m["mean"],
            "change": m["mean"] - m["mean_base"],
            "tolerance": tol,
            "status": status,
        }
    )
    return out
