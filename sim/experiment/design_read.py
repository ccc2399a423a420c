"""Reading back an experiment's plan: what ``qualsim experiment design --format json`` (or
``--format csv``) printed, for :mod:`sim.experiment.analyse` to compare a live experiment
with.

The plan has two tables: ``design`` (one row: scenario, candidate, incumbent, split,
stratify, metric, replications, seed) and ``power`` (the columns of
:data:`sim.experiment.design_stats.CURVE_COLUMNS`, one row per comparison and horizon). JSON:
one object keyed by table name, each a list of records; CSV: each table after a ``# name``
line. Anything else is a ``ConfigError`` naming the file and what is missing.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import ConfigError
from sim.experiment.design_stats import CURVE_COLUMNS


@dataclass
class DesignPlan:
    """A plan read back: its settings and its power curve."""

    settings: dict
    curve: pd.DataFrame


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    """The file's tables by name (JSON object of record lists, or CSV sections)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file; expected the plan `qualsim experiment design --format json` "
            "printed"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: a folder; expected the plan's .json or .csv file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the experiment design ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; expected the plan's .json or .csv") from None
    if path.suffix.lower() == ".json":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(obj, dict) or not all(isinstance(v, list) for v in obj.values()):
            raise ConfigError(f"{path}: expected a JSON object of tables (lists of records)")
        try:
            return {str(k): pd.DataFrame.from_records(v) for k, v in obj.items()}
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: a table is not a list of records ({exc})") from None
    if path.suffix.lower() != ".csv":
        raise ConfigError(f"{path}: expected the .json or .csv output of `experiment design`")
    sections: dict[str, list[str]] = {}
    name = None
    for line in text.splitlines():
        if line.startswith("# "):
            name = line[2:].strip()
            sections[name] = []
        elif name is not None and line.strip():
            sections[name].append(line)
    try:
        return {k: pd.read_csv(io.StringIO("\n".join(v))) for k, v in sections.items() if v}
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"{path}: a table is not valid CSV ({exc})") from None


def read_design(path: str | Path, metric: str) -> DesignPlan:
    """The plan in ``path`` (see the module doc), checked: its tables and columns are there,
    its numbers are numbers, and its metric is ``metric``."""
    path = Path(path)
    tables = _tables(path)
    for table in ("design", "power"):
        if table not in tables:
            raise ConfigError(
                f"{path}: no table '{table}'; expected the output of `qualsim experiment "
                f"design --format json` (tables: design, power), found: "
                f"{', '.join(tables) or '(none)'}"
            )
    curve, design = tables["power"], tables["design"]
    missing = [c for c in CURVE_COLUMNS if c not in curve.columns]
    if missing or len(design) != 1 or "metric" not in design.columns:
        what = f"power.{missing[0]}" if missing else "design: one row with a metric"
        raise ConfigError(f"{path}: missing {what}")
    for c in CURVE_COLUMNS[1:]:
        values = pd.to_numeric(curve[c], errors="coerce")
        if values.isna().any():
            i = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise ConfigError(f"{path}: power[{i}].{c}: expected a number, got {curve[c][i]!r}")
        curve[c] = values.astype(np.float64)
    settings = design.iloc[0].to_dict()
    if settings["metric"] != metric:
        raise ConfigError(
            f"{path}: design.metric is {settings['metric']!r}, the analysis's --metric is "
            f"{metric!r}; compare like with like"
        )
    return DesignPlan(settings, curve[CURVE_COLUMNS].copy())
