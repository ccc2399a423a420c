"""SQL over a sweep's results store (DuckDB): the rows are in the view ``cells``.

The view holds the verified cells only (:func:`sim.experiment.sweep.store.load_cells`: this
folder's configuration, whole and readable), handed to DuckDB as an Arrow dataset of exactly
those files, so no file name or glob pattern reaches SQL. Once the view exists the connection
is locked down: no file system (``read_csv``, ``COPY ... TO``, ``ATTACH``, installing or
loading extensions), no Python variables, and no changing of these settings; the SQL sees
``cells`` and DuckDB's own functions, and may make temporary tables in memory, which vanish
with the command.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.dataset as pads

from sim.errors import QualsimError
from sim.experiment.sweep.store import ForeignCellsWarning, load_cells

# Applied in this order; the last one freezes the others.
LOCKDOWN = (
    "SET python_enable_replacements = false",
    "SET enable_external_access = false",
    "SET lock_configuration = true",
)


def query(out: str | Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` over the verified cells of the sweep folder ``out`` (view ``cells``).
    Foreign, truncated or corrupt cell files are left out with a ``ForeignCellsWarning``; SQL
    that reads or writes files, attaches databases or loads extensions is a ``QualsimError``.
    The cells are checked one at a time and scanned by DuckDB as it needs them, so memory does
    not grow with the number of cells."""
    out = Path(out)
    cells = load_cells(out, keep_rows=False)
    if not cells.files:
        raise QualsimError(f"{out}: no results (expected Parquet cell files in {out / 'cells'})")
    if cells.rejected:
        warnings.warn(cells.message(out), ForeignCellsWarning, stacklevel=2)
    verified = pads.dataset([str(f) for f in cells.files], format="parquet")
    con = duckdb.connect()
    try:
        con.register("_verified_cells", verified)
        # the hash again, in case a file changed since it was checked
        quoted = cells.meta["config_hash"].replace("'", "''")
        con.execute(
            f"CREATE VIEW cells AS SELECT * FROM _verified_cells WHERE config_hash = '{quoted}'"
        )
        for setting in LOCKDOWN:
            con.execute(setting)
        try:
            return con.execute(sql).df()
        except duckdb.Error as exc:
            raise QualsimError(f"query: {_one_paragraph(str(exc))}") from None
    finally:
        con.close()


def _one_paragraph(message: str) -> str:
    """DuckDB's message on one paragraph: its lines joined, the caret line under the SQL
    dropped."""
    lines = [line.strip() for line in message.splitlines()]
    return " ".join(line for line in lines if line and set(line) != {"^"})
