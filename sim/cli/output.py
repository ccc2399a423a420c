"""One way to print a command's tables: ``--format table`` (rich tables that fit the terminal)
or ``csv``, ``json``, ``markdown`` (the same tables, machine-readable, alone on stdout)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import typer

from sim.cli.base import FORMATS, clean, echo, err, out, table
from sim.errors import QualsimError

if TYPE_CHECKING:
    import pandas as pd


class Printer:
    """Where a command's output goes. ``--format table`` (the default): rich tables that fit
    the terminal and notes, on stdout. ``csv``, ``json``, ``markdown``: only the tables, on
    stdout, when the command ends (json: one object keyed by table name, each a list of
    records; csv: a ``# title`` line before each table, cells spreadsheet-safe unless not
    ``safe``; markdown: a ``### title`` heading before each); notes go to stderr. Use it as a
    context manager: nothing is printed when the command fails."""

    def __init__(self, fmt: str = "table", safe: bool = True) -> None:
        if fmt not in FORMATS:
            hint = "; the file format of --out is --out-format" if fmt == "parquet" else ""
            raise QualsimError(
                f"--format {fmt!r}: expected one of {', '.join(FORMATS)}"
                + (f"{hint} (use --out-format {fmt})" if hint else "")
            )
        self.fmt, self.safe = fmt, safe
        self.terminal = fmt == "table"
        self.tables: list[tuple[str, str, pd.DataFrame]] = []

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        if kind is None or issubclass(kind, typer.Exit):
            self.flush()

    def table(
        self,
        df: pd.DataFrame,
        title: str,
        formatted: bool = True,
        data: pd.DataFrame | None = None,
        name: str | None = None,
    ) -> None:
        """Print ``df`` (see :func:`table`), or keep ``data`` (default: ``df``, its index as
        a column) as table ``name`` (default: from the title) for the machine formats."""
        if self.terminal:
            out.print(table(df, title, formatted))
            return
        d = df if data is None else data
        if d.index.name is not None or type(d.index).__name__ != "RangeIndex":
            d = d.reset_index()
        key = name or re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_") or "table"
        taken, first, i = {k for k, _, _ in self.tables}, key, 1
        while key in taken:  # a title printed twice: means, means_2, ...
            i += 1
            key = f"{first}_{i}"
        self.tables.append((key, title, d))

    def note(self, text: Any) -> None:
        """A line of rich markup (a verdict, a note): stdout with tables, else stderr."""
        (out if self.terminal else err).print(text)

    def echo(self, text: object) -> None:
        """A line of plain text: stdout with tables, else stderr."""
        if self.terminal:
            echo(text)
        else:
            typer.echo(clean(text), err=True)

    def flush(self) -> None:
        """Print the kept tables in the machine format (once)."""
        from sim.files import neutralise

        tables = [(k, t, _clean_cells(d)) for k, t, d in self.tables]
        self.tables = []
        if self.fmt == "json":
            obj = {  # 15 digits, pandas' most (its default is 10)
                k: json.loads(d.to_json(orient="records", double_precision=15))
                for k, _, d in tables
            }
            text = json.dumps(obj, indent=2) + "\n"
        elif self.fmt == "csv":
            text = "\n".join(
                f"# {t}\n" + (neutralise(d) if self.safe else d).to_csv(index=False)
                for _, t, d in tables
            )
        else:
            text = "\n".join(f"### {t}\n\n{d.to_markdown(index=False)}\n" for _, t, d in tables)
        if tables or self.fmt == "json":
            typer.echo(clean(text), nl=False)


def _clean_cells(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with terminal control removed from its column names and text cells (JSON would
    escape it, and a reader printing the value would run it)."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    text = [c for c in df.columns if is_object_dtype(df[c]) or is_string_dtype(df[c])]
    df = df.rename(columns=lambda c: clean(c))
    return df.assign(
        **{
            clean(c): df[clean(c)].map(lambda v: clean(v) if isinstance(v, str) else v)
            for c in text
        }
    )
