"""What a :class:`~sim.real.mapping.FileMapping` does to one chunk of a raw file, column by
column and vectorised: check that the columns it names exist, filter rows, pick and rename
columns (one export column may feed several), add constants, translate values through value
maps and cut numbers into labelled bins.

These functions never drop rows: they return masks (rows kept, rows with a bad value) over the
chunk as read, so that the importer can name the raw line of a bad value and count every row.

>>> import pandas as pd
>>> from sim.real.mapping import Bins
>>> labels, bad, below = bin_values(
...     pd.Series(["5", "200", "999.5", "", "1000"]),
...     Bins(column="Employees", edges=[0, 200, 1000], labels=[3, 2, 1]),
... )
>>> labels.tolist(), bad.tolist(), below.tolist()
(['3', '2', '2', '', '1'], [False, False, False, False, False], [False, False, False, False, False])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.strict_yaml import did_you_mean
from sim.errors import DataError
from sim.real.inputs import INPUT_COLUMNS, INPUT_FILES
from sim.real.mapping import Bins, FileMapping, RowFilter, Unmapped

__all__ = [
    "bin_values",
    "check_sources",
    "filter_rows",
    "map_values",
    "select_columns",
    "text",
]


def text(col: pd.Series) -> pd.Series:
    """A column as stripped text, missing values as "" (CSV chunks are text already; typed
    Parquet columns are written as pandas writes them)."""
    if col.dtype == object and not col.isna().any():
        return col.astype(str).str.strip()
    return col.astype("string").fillna("").astype(str).str.strip()


def check_sources(found: list[str], fm: FileMapping, path: Path, role: str) -> None:
    """Every export column the mapping names exists in the file, or a DataError names the
    mapping's field, the column and the columns found (and nothing else of the file)."""
    named = [(f"{role}.columns.{ours}", src) for ours, src in fm.columns.items()]
    named += [(f"{role}.filters[{i}].column", f.column) for i, f in enumerate(fm.filters)]
    named += [(f"{role}.bins.{ours}.column", b.column) for ours, b in fm.bins.items()]
    for where, src in named:
        if src not in found:
            raise DataError(
                f"{path}: the mapping ({where}) names column {src!r}, which the {role} file does"
                f" not have{did_you_mean(src, found)}; columns found: {', '.join(found)}"
            )


def filter_rows(df: pd.DataFrame, filters: list[RowFilter]) -> tuple[np.ndarray, dict[str, int]]:
    """(rows passing every filter, rows filtered out per filter): a row is counted under the
    first filter it fails."""
    keep = np.ones(len(df), dtype=bool)
    counts: dict[str, int] = {}
    for f in filters:
        values, inside = f.allowed
        hit = text(df[f.column]).isin(values).to_numpy()
        ok = hit if inside else ~hit
        counts[str(f)] = counts.get(str(f), 0) + int((keep & ~ok).sum())
        keep &= ok
    return keep, counts


def select_columns(df: pd.DataFrame, fm: FileMapping, path: Path, role: str) -> pd.DataFrame:
    """The chunk's qualsim columns, in the canonical order: mapped ones (an export column may
    feed several), constants, and export columns already named like a qualsim column (unless
    the mapping takes them as the source of another one). Bins are added by the caller."""
    sources = set(fm.columns.values())
    out: dict[str, pd.Series | str] = {}
    for name in INPUT_COLUMNS[role]:
        if name in fm.columns:
            out[name] = df[fm.columns[name]]
        elif name in fm.constants:
            out[name] = fm.constants[name]
        elif name in df.columns and name not in sources and name not in fm.bins:
            out[name] = df[name]
    required = INPUT_FILES[role][0]
    missing = [c for c in required if c not in out and c not in fm.bins]
    if missing:
        raise DataError(
            f"{path}: no column for {', '.join(missing)} (the {role} file needs "
            f"{', '.join(required)}); map them in the mapping file's {role}.columns (or "
            f"{role}.constants), columns found: {', '.join(map(str, df.columns))}"
        )
    return pd.DataFrame(out, index=df.index)


def map_values(
    col: pd.Series, table: dict[str, str], unmapped: Unmapped
) -> tuple[pd.Series, np.ndarray]:
    """(translated column, rows whose value the map does not list, when that is an error).
    Values are matched as stripped text; an empty cell stays empty unless the map lists ""; an
    unlisted value is kept (``keep``), emptied (``empty``) or flagged (``error``)."""
    s = text(col)
    mapped = s.map(table).astype(object)
    found = mapped.notna().to_numpy()
    missing = ~found & (s != "").to_numpy()
    result = mapped.where(found, "" if unmapped == "empty" else s)
    bad = missing if unmapped == "error" else np.zeros(len(s), dtype=bool)
    return result.astype(str), bad


def bin_values(col: pd.Series, bins: Bins) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """(labels, rows that are not a number, rows below the first edge); empty cells give "".
    ``labels[i]`` covers ``edges[i] <= x < edges[i+1]``; the last label has no upper bound."""
    s = text(col)
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    empty = (s == "").to_numpy()
    not_number = np.isnan(x) & ~empty
    i = np.searchsorted(np.asarray(bins.edges, dtype=float), x, side="right") - 1
    below = (i < 0) & ~np.isnan(x)
    labels = np.asarray(bins.labels, dtype=object)[np.clip(i, 0, None)]
    labels[empty | not_number | below] = ""
    return pd.Series(labels, index=col.index, dtype=object), not_number, below
