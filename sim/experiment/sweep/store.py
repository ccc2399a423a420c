"""The results store of a sweep folder, and its provenance.

``sweep.json`` is the authoritative record of the configuration the folder holds: its config
hash, its spec, and the shape of its design (scenario samples, replications, root seed, the
policy variants and the stored metrics). ``cells/`` holds one Parquet file per (scenario sample,
replication) with one row per (variant, tier, metric), each row carrying the config hash and
world seed (``sim.tables.SWEEP_CELLS``). Each file is written atomically (a temporary name, then
a rename): a killed sweep leaves whole files or none.

Every reader (resume, :func:`results`, ``qualsim query``, ``recommend`` and the report) goes
through :func:`load_cells`, which checks each cell file against ``sweep.json``: readable
Parquet, the expected columns, its file name inside the design, every row of this config hash,
this (sample, replication) and its world seed, and every (variant, tier) with every metric once.
A cell that fails is left out (resume runs its unit again) and named in a
:class:`ForeignCellsWarning`; a missing or corrupt ``sweep.json`` is a :class:`QualsimError`.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.errors import QualsimError
from sim.files import write_text
from sim.tables import SWEEP_CELLS

ROW_COLUMNS = SWEEP_CELLS.names
FORMAT = 2  # sweep.json's layout; 1 (config_hash and spec only) had no design shape
_CELL = re.compile(r"^s(\d{5,})-r(\d{4,})\.parquet$")
_KEY = ["policy", "variant", "tier", "metric"]
_SHOWN = 5  # rejected files named in a message


class ForeignCellsWarning(UserWarning):
    """Some cell files of a sweep folder were left out (another configuration, truncated,
    corrupt or outside the design); the message names them and why."""


def unit_file(out: Path, sample: int, rep: int) -> Path:
    """The cell file of one (sample, replication)."""
    return out / "cells" / f"s{sample:05d}-r{rep:04d}.parquet"


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise QualsimError(f"{path}: cannot write the cell ({exc.strerror or exc})") from None


def write_cell(out: Path, sample: int, rep: int, df: pd.DataFrame) -> None:
    """Store one unit's rows, atomically."""
    _write_atomic(df, unit_file(out, sample, rep))


def _meta_path(out: Path) -> Path:
    return out / "sweep.json"


def _what_to_do(out: Path) -> str:
    return (
        f"run the sweep again with its file into a new folder (qualsim sweep FILE --out NEW), "
        f"or restore {_meta_path(out)}, or delete {out / 'cells'} to start this folder afresh"
    )


def read_meta(out: str | Path) -> dict:
    """The configuration record of a sweep folder (``sweep.json``), checked; a missing, corrupt
    or incomplete one is a :class:`QualsimError` saying what to do."""
    out = Path(out)
    meta = _meta_path(out)
    n = len(_cell_files(out))
    if meta.exists() and not meta.is_file():
        raise QualsimError(f"{meta}: not a file; {_what_to_do(out)}")
    if not meta.is_file():
        if n:
            raise QualsimError(
                f"{meta}: missing, so the {n} cell files in {out / 'cells'} cannot be told apart "
                f"from those of another configuration; {_what_to_do(out)}"
            )
        raise QualsimError(f"{out}: the sweep has no results yet: run `qualsim sweep` first")
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QualsimError(f"{meta}: unreadable or not JSON ({exc}); {_what_to_do(out)}") from None
    problem = _meta_problem(data)
    if problem:
        raise QualsimError(f"{meta}: {problem}; {_what_to_do(out)}")
    return data


def _meta_problem(data: object) -> str | None:
    if not isinstance(data, dict):
        return "expected a JSON object"
    if not isinstance(data.get("config_hash"), str):
        return "no config_hash"
    if data.get("format") != FORMAT:
        return (
            f"written by an older qualsim (format {data.get('format', 1)}, this one reads "
            f"{FORMAT}): run the same sweep file into this folder to update it"
        )
    ints = ("samples", "replications", "seed")
    if not all(type(data.get(k)) is int and data[k] >= 0 for k in ints):
        return f"expected whole numbers {', '.join(ints)}"
    variants, metrics = data.get("variants"), data.get("metrics")
    if not isinstance(variants, list) or not all(
        isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v) for v in variants
    ):
        return "expected variants as a list of [policy, variant]"
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        return "expected metrics as a list of names"
    return None


def open_store(out: Path, meta: dict) -> None:
    """Make ``out`` a results folder of the configuration ``meta`` (see :func:`read_meta`), or
    check that it is one: a folder of another configuration, or with cells but no (or a corrupt)
    ``sweep.json``, is refused; an older ``sweep.json`` of the same hash is updated."""
    meta = {"format": FORMAT, **meta}
    path = _meta_path(out)
    try:
        (out / "cells").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise QualsimError(f"{out}: cannot create the results folder ({exc.strerror})") from None
    if path.exists() or _cell_files(out):
        try:
            old: dict | None = read_meta(out)
        except QualsimError:
            if not _old_format_of(path, meta["config_hash"]):
                raise
            old = None  # the same configuration in the older layout: rewrite it below
        if old is not None and old["config_hash"] != meta["config_hash"]:
            raise QualsimError(
                f"{out}: holds results of a different sweep (config hash "
                f"{_printable(old['config_hash'])}"
                f", this one {meta['config_hash']}); use another --out folder"
            )
        if old == meta and path.exists():
            return
    try:
        write_text(path, json.dumps(meta, indent=2))
    except OSError as exc:
        raise QualsimError(f"{path}: cannot write ({exc.strerror})") from None


def _old_format_of(path: Path, config_hash: str) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return (
        isinstance(data, dict) and "format" not in data and data.get("config_hash") == config_hash
    )


def remove_stale_partials(out: Path) -> int:
    """Delete the temporary files of cell writers that no longer run (a killed sweep's units in
    flight); returns how many. Files of a live writer (another sweep on this folder) stay."""
    removed = 0
    for tmp in (out / "cells").glob(".s*-r*.parquet.*.partial"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _cell_files(out: Path) -> list[Path]:
    return sorted((out / "cells").glob("s*-r*.parquet"))


@dataclass
class Cells:
    """The verified cells of a sweep folder: ``rows`` of the accepted cells, the accepted
    (sample, replication) units and files, and the rejected files with the reason."""

    meta: dict
    rows: pd.DataFrame
    units: set[tuple[int, int]] = field(default_factory=set)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def message(self, out: str | Path) -> str:
        """One paragraph naming the rejected files (the first few) and why."""
        shown = "; ".join(f"{name}: {why}" for name, why in self.rejected[:_SHOWN])
        more = len(self.rejected) - _SHOWN
        total = len(self.units) + len(self.rejected)
        return (
            f"{Path(out) / 'cells'}: left out {len(self.rejected)} of {total} cell files that "
            f"are not whole cells of this sweep (config hash {self.meta['config_hash']}): "
            f"{shown}{f'; and {more} more' if more > 0 else ''}"
        )


def load_cells(out: str | Path, keep_rows: bool = True) -> Cells:
    """Every cell of a sweep folder checked against its ``sweep.json`` (see the module);
    ``keep_rows=False`` checks them without keeping their rows (resuming needs only which
    units are done)."""
    out = Path(out)
    meta = read_meta(out)
    seeds = _seeds(meta)
    cells = Cells(meta, pd.DataFrame(columns=ROW_COLUMNS))
    frames = []
    for path in _cell_files(out):
        df, why = _check_cell(path, meta, seeds)
        if df is None or why is not None:
            cells.rejected.append((_printable(path.name, 80), why or "unreadable"))
        else:
            cells.files.append(path)
            if keep_rows:
                frames.append(df)
            cells.units.add((int(df["sample"].iat[0]), int(df["replication"].iat[0])))
    if frames:
        cells.rows = pd.concat(frames, ignore_index=True)
    return cells


def seed_table(seed: int, replications: int, n_samples: int) -> np.ndarray:
    """The world seed of each (sample, replication) from the root seed and the design's shape
    (what ``sweep.json`` records, so a reader checks each cell's world seed without the sweep
    file); :func:`sim.experiment.sweep.design.unit_seeds` of a sweep file."""
    root = np.random.SeedSequence(seed)
    seeds = np.empty((n_samples, replications), dtype=np.int64)
    for s, child in enumerate(root.spawn(n_samples)):
        for r, grand in enumerate(child.spawn(replications)):
            seeds[s, r] = int(grand.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    return seeds


def _seeds(meta: dict) -> np.ndarray:
    return seed_table(meta["seed"], meta["replications"], meta["samples"])


def _check_cell(
    path: Path, meta: dict, seeds: np.ndarray
) -> tuple[pd.DataFrame | None, str | None]:
    m = _CELL.match(path.name)
    if m is None:
        return None, "not a cell file name"
    s, r = int(m.group(1)), int(m.group(2))
    if s >= meta["samples"] or r >= meta["replications"]:
        return None, (
            f"outside the design ({meta['samples']} samples x {meta['replications']} replications)"
        )
    try:
        df = pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        return None, f"unreadable, truncated or not Parquet ({type(exc).__name__})"
    missing = [c for c in ROW_COLUMNS if c not in df.columns]
    if missing:
        return None, f"missing columns {', '.join(missing)}"
    foreign = {str(h) for h in df["config_hash"].unique()} - {meta["config_hash"]}
    if foreign:
        shown = ", ".join(_printable(h) for h in sorted(foreign)[:3])
        return None, f"of another configuration (config hash {shown})"
    if df.empty or set(df["sample"].unique()) != {s} or set(df["replication"].unique()) != {r}:
        return None, f"its rows are not all of sample {s}, replication {r}"
    if set(df["world_seed"].unique()) != {int(seeds[s, r])}:
        return None, f"world seed is not this sweep's {int(seeds[s, r])}"
    why = _incomplete(df, meta)
    return (None, why) if why else (df, None)


def _incomplete(df: pd.DataFrame, meta: dict) -> str | None:
    """Why the rows are not every (variant, tier, metric) of the sweep exactly once, if so."""
    pairs = df[["policy", "variant"]].drop_duplicates()
    got = set(zip(pairs["policy"].tolist(), pairs["variant"].tolist(), strict=True))
    if got != {tuple(v) for v in meta["variants"]}:
        return "its policy variants are not this sweep's"
    missing = set(meta["metrics"]) - {str(m) for m in df["metric"].unique()}
    if missing or df["metric"].nunique() != len(meta["metrics"]):
        named = ", ".join(sorted(missing)[:5])
        return f"its metrics are not this sweep's{f' (missing {named})' if missing else ''}"
    if (
        len(df) != len(got) * df["tier"].nunique() * len(meta["metrics"])
        or df.duplicated(_KEY).any()
    ):
        return "incomplete (rows missing or repeated)"
    return None


def _printable(text: str, limit: int = 32) -> str:
    """Text from a file (a name, a hash read from a cell) safe to print: control characters
    escaped, at most ``limit`` characters."""
    safe = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def results(out: str | Path) -> pd.DataFrame:
    """Every row of the verified cells of a sweep folder (empty with the right columns if none
    yet). Cells that are not whole cells of the folder's configuration are left out with a
    :class:`ForeignCellsWarning`; a folder without (or with a corrupt) ``sweep.json`` is a
    :class:`QualsimError`."""
    out = Path(out)
    if not _meta_path(out).exists() and not _cell_files(out):
        return pd.DataFrame(columns=ROW_COLUMNS)
    cells = load_cells(out)
    if cells.rejected:
        warnings.warn(cells.message(out), ForeignCellsWarning, stacklevel=2)
    return cells.rows
