"""Streaming a raw export in and a canonical file out, in chunks of bounded size.

CSV is parsed by Arrow's multi-threaded reader, every column as text (ids stay text: ``007`` is
not ``7``; an empty cell is ""), a UTF-8 byte-order mark allowed, blank lines skipped; Parquet
in batches, its typed columns as text (a null as "") except timestamps, which stay instants.
The canonical CSV is written by Arrow too (every text value quoted), to a hidden partial file
renamed into place when complete.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from sim.errors import DataError
from sim.real.formats import SUFFIXES
from sim.real.inputs import check_header_line
from sim.real.sources import TEXT_CSV, csv_errors

__all__ = ["RecordPlaces", "read_chunks", "write_chunks"]

_BLOCK_BYTES = 1 << 24  # Arrow's parse block: large blocks, few Python round trips


class RecordPlaces:
    """Where each data record of a raw file is, for messages: ``where(r)`` of the 0-based
    record ``r`` (in the order :func:`read_chunks` yields them) is ``line N`` of a CSV file
    (header = line 1; blank lines and line breaks inside quoted cells counted, as an editor
    shows them) or ``row N`` of a Parquet file (first data row = row 1). A CSV file is scanned
    for its record lines only when a message needs one (never on the happy path)."""

    def __init__(self, path: Path):
        self.path = path
        self.csv = SUFFIXES.get(path.suffix.lower()) == "csv"
        self._starts: np.ndarray | None = None

    def where(self, record: int) -> str:
        if not self.csv:
            return f"row {int(record) + 1}"
        if self._starts is None:
            self._starts = _record_lines(self.path)
        starts = self._starts
        return f"line {int(starts[record]) if record < len(starts) else int(record) + 2}"


def _record_lines(path: Path) -> np.ndarray:
    """The line each data record of a CSV file starts on (blank lines are no records)."""
    starts: list[int] = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)  # the header
        last = reader.line_num
        for row in reader:
            if row:
                starts.append(last + 1)
            last = reader.line_num
    return np.asarray(starts, dtype=np.int64)


def read_chunks(path: Path, role: str, rows: int) -> Iterator[pd.DataFrame]:
    """The file's rows in chunks of at most ``rows`` (text columns as str)."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"{path}: cannot read the {role} from a {path.suffix or 'suffix-less'} file; "
            "expected .csv, .parquet or .pq"
        )
    if not path.is_file():
        raise DataError(f"{path}: {role} file not found")
    if kind == "parquet":
        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:
            raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
        for batch in pf.iter_batches(batch_size=rows):
            yield _as_text(batch.to_pandas(integer_object_nulls=True))
        return
    yield from _csv_chunks(path, rows)


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Typed Parquet columns as text, a missing value as "" (never "None", "nan" or "NaT");
    booleans as ``true``/``false``. Timestamp columns stay typed (instants: converted, never
    parsed)."""
    out: dict[str, pd.Series] = {}
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            out[c] = col
            continue
        if pd.api.types.is_bool_dtype(col.dtype):
            col = col.map({True: "true", False: "false"})
        missing = col.isna().to_numpy()
        out[c] = col.astype(object).where(~missing, "").astype(str)
    return pd.DataFrame(out, index=df.index)


def _csv_chunks(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    check_header_line(path)
    with csv_errors(str(path), "expected a header line"):
        header = list(pd.read_csv(path, **TEXT_CSV, nrows=0).columns)
    convert = pcsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(block_size=_BLOCK_BYTES),
            convert_options=convert,
        )
        for batch in reader:
            for start in range(0, batch.num_rows, rows):
                df = batch.slice(start, rows).to_pandas()
                df.columns = header
                yield df
    except pa.ArrowInvalid as exc:
        text = str(exc)
        if "UTF8" in text:
            raise DataError(f"{path}: not UTF-8 text ({text})") from None
        raise DataError(f"{path}: not a valid CSV file ({text})") from None


def write_chunks(chunks: Iterator[pd.DataFrame], out: Path) -> None:
    """Write the chunks (every column as text) to ``out``, atomically."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    writer: pcsv.CSVWriter | None = None
    schema = pa.schema([])
    try:
        for df in chunks:
            table = pa.Table.from_pandas(df.astype(str), preserve_index=False)
            if writer is None:
                schema = pa.schema([(c, pa.string()) for c in df.columns])
                writer = pcsv.CSVWriter(tmp, schema)
            writer.write_table(table.cast(schema))
        if writer is not None:
            writer.close()
            writer = None
            os.replace(tmp, out)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
