"""Loading one input file whole (CSV or Parquet) for ``read_log``, after checking that it fits
in memory, and telling where each of its rows came from (the line of a CSV, the row of a
Parquet file) for messages.

CSV files are read as UTF-8 text (a byte-order mark is fine) with every column as text; column
names are stripped of surrounding spaces. Parquet columns may be typed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.config.strict_yaml import did_you_mean
from sim.errors import DataError
from sim.real.formats import (
    _REPEATED_SHARE,
    MEMORY_PER_FILE_BYTE,
    SUFFIXES,
    available_memory,
    read_csv_arrow,
    read_parquet,
    take_read,
)
from sim.real.inputs import check_header_line

# How a CSV export is read: UTF-8 (a byte-order mark is fine), every column as text, nothing
# taken for a missing value.
TEXT_CSV: dict[str, Any] = {
    "dtype": str,
    "keep_default_na": False,
    "na_filter": False,
    "encoding": "utf-8-sig",
}


@contextmanager
def csv_errors(name: str, empty_hint: str) -> Iterator[None]:
    """Turn the errors of reading a CSV file into ``DataError`` naming the file (an empty
    file's message ends with ``empty_hint``)."""
    try:
        yield
    except pd.errors.EmptyDataError:
        raise DataError(f"{name}: the file is empty ({empty_hint})") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{name}: not a valid CSV file ({exc})") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{name}: not UTF-8 text (undecodable byte at offset {exc.start})"
        ) from None


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def check_memory(path: Path, role: str, kind: str = "csv") -> None:
    """Refuse, with a clear message, a file too large to load into the memory available."""
    need = path.stat().st_size * MEMORY_PER_FILE_BYTE[kind]
    have = available_memory()
    if have is not None and need > have:
        raise DataError(
            f"{path}: the {role} file is {_size(path.stat().st_size)}; loading it needs "
            f"about {_size(need)} of memory and {_size(have)} are available. "
            "`qualsim import` converts an export of any size in bounded memory, but evaluating "
            "loads the whole log: split the history by period (or by account) and evaluate "
            "each part"
        )


class Source:
    """One input file loaded whole, and where its rows came from.

    The events file stays in Arrow (``table``: the columns ``read_log`` knows, never converted
    to pandas; its text ids and names dictionary-encoded when read from Parquet): take its
    columns with :meth:`arrow`. Other files, and a CSV file Arrow cannot read as pandas would,
    are a pandas frame (``df``; CSV: every column as text), made from the table when asked."""

    table: pa.Table | None = None
    _df: pd.DataFrame | None = None
    _columns: list[str] | None = None
    _rows: int | None = None

    def __init__(self, path, role: str, required: Sequence[str], optional: Sequence[str]):
        self.path = Path(path)
        self.name = str(path)
        self.role = role
        suffix = self.path.suffix.lower()
        kind = SUFFIXES.get(suffix)
        if kind is None:
            raise DataError(
                f"{self.name}: cannot read the {role} from a "
                f"{repr(suffix) + ' file' if suffix else 'file without a suffix'}; "
                "expected .csv, .parquet or .pq"
            )
        if not self.path.is_file():
            raise DataError(f"{self.name}: {role} file not found")
        check_memory(self.path, role, kind)
        if kind == "csv":
            check_header_line(self.path)
        self.kind = kind
        self._line_cache: dict[int, int] = {}
        known = (*required, *optional)
        found, rows = self._read(required, known)
        missing = [c for c in required if c not in found]
        if missing:
            named = ", ".join(f"'{c}'{did_you_mean(c, found)}" for c in missing)
            raise DataError(
                f"{self.name}: missing required column{'s' if len(missing) > 1 else ''} {named}; "
                f"the {role} file needs {', '.join(required)}"
                + (f" (optional: {', '.join(optional)})" if optional else "")
                + f"; columns found: {', '.join(found) if found else '(none)'}"
            )
        twice = sorted({c for c in found if c in known and found.count(c) > 1})
        if twice:
            raise DataError(f"{self.name}: column '{twice[0]}' appears more than once")
        if rows == 0:
            raise DataError(f"{self.name}: the {role} file has a header but no data rows")
        self._rows = rows
        self._columns = list(self.table.column_names) if self.table is not None else found
        self.ignored = tuple(c for c in found if c not in known)

    @property
    def df(self) -> pd.DataFrame:
        """The file as pandas (CSV: every column as text)."""
        if self._df is None:
            assert self.table is not None
            self._df = as_pandas(self.table)
        return self._df

    @df.setter
    def df(self, frame: pd.DataFrame) -> None:
        self._df, self.table = frame, None

    @property
    def columns(self) -> list[str]:
        """The columns read (Parquet events: those ``read_log`` knows), taken ones included."""
        if self._columns is None:
            return list(self.table.column_names if self.table is not None else self.df.columns)
        return self._columns

    @property
    def num_rows(self) -> int:
        if self._rows is None:
            return self.table.num_rows if self.table is not None else len(self.df)
        return self._rows

    def arrow(self, column: str) -> pa.ChunkedArray:
        """One column as Arrow (from pandas when the file was read by pandas)."""
        if self.table is not None:
            return self.table.column(column)
        return pa.chunked_array([pa.array(self.df[column], from_pandas=True)])

    def take(self, column: str) -> pa.ChunkedArray:
        """:meth:`arrow`, and the table lets go of the column: its memory goes as soon as the
        caller is done with it (``df`` then lacks it)."""
        col = self.arrow(column)
        if self.table is not None:
            self.table = self.table.drop_columns([column])
        return col

    def _read(self, required: Sequence[str], known: Sequence[str]) -> tuple[list[str], int]:
        """Read the file: its (stripped) column names and its number of rows. The events
        file is kept as Arrow (Parquet: only the columns ``read_log`` knows)."""
        events = self.role == "events"
        if self.kind == "parquet":
            try:
                started = take_read(self.path, known) if events else None
                table, found = started or read_parquet(self.path, known if events else None)
            except Exception as exc:  # pyarrow raises many types for a bad file
                raise DataError(f"{self.name}: not a readable Parquet file ({exc})") from None
        else:
            csv_table = read_csv_arrow(self.path)
            if csv_table is None:
                with csv_errors(self.name, f"expected a header line: {', '.join(required)}"):
                    frame = pd.read_csv(self.path, **TEXT_CSV)
                frame.columns = [str(c).strip() for c in frame.columns]
                self._df = frame
                return list(frame.columns), len(frame)
            table = csv_table.rename_columns([c.strip() for c in csv_table.column_names])
            found = table.column_names
        if events:
            self.table = table
        else:
            self._df = as_pandas(table)
        return found, table.num_rows

    # -- where a row came from -----------------------------------------------------------------
    def lines(self, rows: Sequence[int]) -> dict[int, int]:
        """CSV: 0-based data row → 1-based physical line where the record starts (one pass over
        the file, stopping at the last row asked for; cached)."""
        want = {int(r) for r in rows} - set(self._line_cache)
        if want:
            top = max(want)
            with open(self.path, newline="", encoding="utf-8-sig") as fh:
                reader = csv.reader(fh)
                header_seen = False
                row = -1
                end = 0
                for rec in reader:
                    start, end = end + 1, reader.line_num
                    if not rec or (len(rec) == 1 and not rec[0].strip()):
                        continue  # pandas skips blank lines
                    if not header_seen:
                        header_seen = True
                        continue
                    row += 1
                    if row in want:
                        self._line_cache[row] = start
                    if row >= top:
                        break
            for r in want:  # not found (should not happen): the naive count
                self._line_cache.setdefault(r, r + 2)
        return {int(r): self._line_cache[int(r)] for r in rows}

    def where(self, row: int) -> str:
        if self.kind == "parquet":
            return f"row {int(row) + 1}"
        return f"line {self.lines([row])[int(row)]}"

    def at(self, row: int, text: str) -> str:
        return f"{self.name}, {self.where(row)}: {text}"


# The pandas dtype Arrow's text columns become: the one ``pd.read_csv(dtype=str)`` gives.
TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=float("nan"))


def as_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as pandas: text stays in Arrow memory, dictionary columns become
    categoricals (their codes and distinct values, never a Python string per row)."""
    return table.to_pandas(
        types_mapper={pa.string(): TEXT_DTYPE, pa.large_string(): TEXT_DTYPE}.get
    )


def repeated_reference(path: Path, text: list[str]) -> list[str]:
    """The distinct values of each text column of the first row group counted by Arrow: the
    reference for :func:`sim.real.formats._repeated`."""
    file = pq.ParquetFile(path)
    if not text or file.metadata.num_row_groups == 0:
        return []
    group = file.read_row_group(0, columns=text)
    rows = max(group.num_rows, 1)
    return [c for c in text if pc.count_distinct(group.column(c)).as_py() <= rows * _REPEATED_SHARE]
