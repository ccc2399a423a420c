"""SQL over a sweep's results store (DuckDB): the rows are in the view ``cells``."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from sim.errors import QualsimError


def query(out: str | Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` over the cells of the sweep folder ``out`` (view ``cells``)."""
    out = Path(out)
    if not sorted((out / "cells").glob("s*-r*.parquet")):
        raise QualsimError(f"{out}: no results (expected Parquet files in {out}/cells)")
    con = duckdb.connect()
    pattern = str(out / "cells" / "s*-r*.parquet").replace("'", "''")
    con.execute(f"CREATE VIEW cells AS SELECT * FROM read_parquet('{pattern}', union_by_name=true)")
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        raise QualsimError(f"query: {exc}") from None
