"""The results store of a sweep folder: ``sweep.json`` names the configuration (its hash and
spec) the results belong to, and ``cells/`` holds one Parquet file per (scenario sample,
replication) with one row per (variant, tier, metric) and its provenance
(``sim.tables.SWEEP_CELLS``). Each file is written atomically (a temporary name, then a
rename): a killed sweep leaves whole files or none, and resumes by running the missing ones."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from sim.errors import QualsimError
from sim.files import write_text
from sim.tables import SWEEP_CELLS

ROW_COLUMNS = SWEEP_CELLS.names


def unit_file(out: Path, sample: int, rep: int) -> Path:
    """The cell file of one (sample, replication)."""
    return out / "cells" / f"s{sample:05d}-r{rep:04d}.parquet"


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def write_cell(out: Path, sample: int, rep: int, df: pd.DataFrame) -> None:
    """Store one unit's rows, atomically."""
    _write_atomic(df, unit_file(out, sample, rep))


def open_store(out: Path, config_hash: str, spec: dict) -> None:
    """Make ``out`` a results folder of the configuration ``config_hash``, or check that it
    is one; a folder of another configuration is refused."""
    (out / "cells").mkdir(parents=True, exist_ok=True)
    meta = out / "sweep.json"
    if meta.exists():
        old = json.loads(meta.read_text(encoding="utf-8"))
        if old.get("config_hash") != config_hash:
            raise QualsimError(
                f"{out}: holds results of a different sweep (config hash {old.get('config_hash')}"
                f", this one {config_hash}); use another --out folder"
            )
    else:
        write_text(meta, json.dumps({"config_hash": config_hash, "spec": spec}, indent=2))


def results(out: str | Path) -> pd.DataFrame:
    """Every stored row of a sweep folder (empty with the right columns if none yet)."""
    files = sorted((Path(out) / "cells").glob("s*-r*.parquet"))
    if not files:
        return pd.DataFrame(columns=ROW_COLUMNS)
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
