"""A comparison's folder: writing it (:func:`write_comparison`), reading it back
(:func:`read_comparison`, :func:`read_summary`), and the metric metadata its summaries carry
(:func:`with_metric_meta`).

The summaries (``summary``, ``paired``) carry each metric's ``unit``, ``better`` direction
("higher", "lower", or empty where neither is better) and ``truth`` (the truth a precision
judges handoffs by; empty for other metrics), from :data:`sim.sales.metrics.METRICS`. A folder
written before those columns existed still reads: they are filled from the registry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from sim import __version__
from sim.errors import DataError
from sim.files import unneutralise, write_tables
from sim.sales.metrics import METRICS
from sim.tables import SUMMARY, WEEKLY
from sim.world.scenario import Scenario

#: the summary columns that come from the metric registry, and the Metric field of each
META_COLUMNS = {"unit": "unit", "better": "better", "truth": "truth"}


def with_metric_meta(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (policy, metric, ...) with the ``unit``, ``better`` and ``truth`` of each row's
    metric from the registry, in the column order of ``sim.tables.SUMMARY``: values it has
    are kept, missing ones (no such column, or an empty cell read from a CSV) come from the
    registry, and a metric the registry does not know gets empty text.

    >>> rows = pd.DataFrame({"policy": ["a", "a"], "metric": ["recall", "future_metric"]})
    >>> with_metric_meta(rows)[["metric", "unit", "better", "truth"]].values.tolist()
    [['recall', 'share', 'higher', ''], ['future_metric', '', '', '']]
    """
    out = df.copy()
    for col, attr in META_COLUMNS.items():
        known = pd.Series(
            [getattr(METRICS[m], attr) if m in METRICS else "" for m in out["metric"]],
            index=out.index,
            dtype=object,
        )
        have = out[col].astype(object) if col in out.columns else known
        out[col] = have.where(have.notna(), known).astype(str)
    order = [c for c in SUMMARY.names if c in out.columns]
    return out[order + [c for c in out.columns if c not in order]]


def write_comparison(cmp: Any, out: str | Path, fmt: str = "csv", safe: bool = True) -> list[Path]:
    """Write the comparison ``cmp`` to ``out`` as CSV or Parquet, replacing the folder as a
    whole (:func:`sim.files.write_tables`; CSV cells that a spreadsheet would run as a formula
    get a leading ``'`` unless not ``safe``, and reading takes it off): the raw tables
    (``tidy``; ``handoffs``: every handoff with its policy, replication, account, time, truth,
    timing against sales-ready and the decision, and sales status; ``weekly``: each policy's
    handoffs week by week, ``sim.tables.WEEKLY``; ``progression``, ``stages``, ``campaigns``,
    ``funnel`` per replication), their summaries with CIs (``summary`` and ``paired``, with each
    metric's unit, better direction and truth; ``progression_summary``, ``stages_summary``,
    ``campaigns_summary``, ``funnel_summary``) and ``comparison.json`` (scenario, policies,
    seeds, package version)."""
    tables = {
        "tidy": cmp.tidy,
        "handoffs": cmp.handoffs,
        "weekly": cmp.weekly,
        "progression": cmp.progression,
        "stages": cmp.stages,
        "campaigns": cmp.campaigns,
        "funnel": cmp.funnel,
        "calibration": cmp.calibration,
        "summary": cmp.summary(),
        "progression_summary": cmp.progression_summary(),
        "stages_summary": cmp.stage_summary(),
        "campaigns_summary": cmp.campaign_summary(),
        "funnel_summary": cmp.funnel_summary(),
    }
    if len(cmp.policies) > 1:
        tables["paired"] = cmp.paired()
    meta = {
        "format": fmt,
        "scenario": cmp.scenario.model_dump(mode="json"),
        "policies": cmp.policies,
        "policy_configs": cmp.meta.get("policy_configs", {}),
        "limits": cmp.meta.get("limits", {}),
        "seed": cmp.seed,
        "seeds": cmp.seeds,
        "baseline": cmp.baseline,
        "level": cmp.level,
        "qualsim_version": __version__,
        "csv_safe": bool(safe and fmt == "csv"),
    }
    tables["comparison.json"] = json.dumps(meta, indent=2)
    return write_tables(tables, out, fmt, safe)


def read_comparison(folder: str | Path) -> dict[str, Any]:
    """The fields of the ``Comparison`` written to ``folder`` (``Comparison.read`` makes it);
    a missing, truncated or corrupt file is a ``DataError`` naming it."""
    folder = Path(folder)
    meta_path = folder / "comparison.json"
    meta = _read_meta(meta_path)
    fmt = meta["format"]

    def table(name: str, optional: bool = False) -> pd.DataFrame:
        path = folder / f"{name}.{fmt}"
        if not path.is_file():
            if optional:  # written by an older version
                return pd.DataFrame()
            raise DataError(f"{path}: missing (the comparison folder is incomplete)")
        return _read_table(path, fmt, bool(meta.get("csv_safe", False)))

    try:
        return {
            "tidy": table("tidy"),
            "scenario": meta["scenario"],
            "policies": list(meta["policies"]),
            "seed": int(meta["seed"]),
            "seeds": list(meta["seeds"]),
            "baseline": meta.get("baseline"),
            "level": float(meta.get("level", 0.95)),
            "meta": {
                "policy_configs": meta.get("policy_configs", {}),
                "limits": _limits(meta.get("limits", {}), meta_path),
            },
            "progression": table("progression"),
            "campaigns": table("campaigns"),
            "funnel": table("funnel"),
            "stages": table("stages"),
            "handoffs": table("handoffs"),
            "weekly": _weekly(table("weekly", optional=True), folder / f"weekly.{fmt}"),
            "calibration": table("calibration", optional=True),
        }
    except (KeyError, TypeError, ValueError) as exc:
        what = f"no field {exc}" if isinstance(exc, KeyError) else "a field of the wrong type"
        raise DataError(f"{meta_path}: corrupt, not as qualsim writes it ({what})") from None


def read_summary(folder: str | Path, name: str = "summary") -> pd.DataFrame:
    """The ``summary`` (or ``paired``) table as written to a comparison ``folder``, checked
    against ``sim.tables.SUMMARY``; the metric metadata columns are filled from the registry
    when the folder was written without them, and an empty cell is empty text."""
    folder = Path(folder)
    meta = _read_meta(folder / "comparison.json")
    path = folder / f"{name}.{meta['format']}"
    if not path.is_file():
        raise DataError(f"{path}: missing (the comparison folder has no {name} table)")
    df = with_metric_meta(_read_table(path, meta["format"], bool(meta.get("csv_safe", False))))
    SUMMARY.check(df, str(path))
    return df


def _read_table(path: Path, fmt: str, safe: bool) -> pd.DataFrame:
    """One table of a comparison folder (a safe CSV: with the formula quotes taken off)."""
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        df = pd.read_csv(path)
    except (ValueError, OSError) as exc:  # ArrowInvalid, ParserError, EmptyDataError...
        raise DataError(f"{path}: truncated or corrupt ({type(exc).__name__})") from None
    return unneutralise(df) if safe else df


#: the verdict's limits a comparison.json may store, and the type each must have
LIMITS = {"objective": str, "max_handoffs_per_week": float, "min_precision": float}


def _limits(limits: Any, path: Path) -> dict:
    """The stored limits of the verdict (empty when written before they were stored), checked."""
    if not isinstance(limits, dict):
        raise DataError(f"{path}: limits: expected a JSON object, got {type(limits).__name__}")
    out = {}
    for key, value in limits.items():
        kind = LIMITS.get(key)
        if kind is None:
            raise DataError(f"{path}: limits.{key}: unknown (expected {', '.join(LIMITS)})")
        ok = isinstance(value, str) if kind is str else isinstance(value, int | float)
        if value is not None and (not ok or isinstance(value, bool)):
            raise DataError(f"{path}: limits.{key}: expected a {kind.__name__}, got {value!r}")
        out[key] = value
    return out


def _weekly(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A read ``weekly`` table, checked against its contract (empty when written by a version
    without it)."""
    if df.empty:
        return WEEKLY.empty()
    WEEKLY.check(df, str(path))
    return df[WEEKLY.names]


def _read_meta(path: Path) -> dict:
    """``comparison.json`` checked (its scenario validated), else a ``DataError`` naming the
    file and what is wrong."""
    if not path.is_file():
        raise DataError(f"{path.parent}: not a comparison folder (no comparison.json inside)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{path}: not a valid comparison.json ({exc}); write the comparison again"
        ) from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    if not isinstance(meta, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(meta).__name__}")
    fmt = meta.setdefault("format", "csv")
    if fmt not in ("csv", "parquet"):
        raise DataError(f"{path}: format: expected csv or parquet, got {fmt!r}")
    for key, kind in (("scenario", dict), ("policies", list), ("seed", int), ("seeds", list)):
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            got = "nothing" if key not in meta else type(meta[key]).__name__
            raise DataError(f"{path}: {key}: expected a {kind.__name__}, got {got}")
    try:
        meta["scenario"] = Scenario.model_validate(meta["scenario"])
    except ValidationError as exc:
        raise DataError(
            f"{path}: scenario: not a valid scenario ({exc.error_count()} "
            f"problems, first: {exc.errors()[0]['msg']})"
        ) from None
    return meta
