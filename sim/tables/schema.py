"""Columns and tables: the machinery of the table contract (the tables themselves are in
:mod:`sim.tables`)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.errors import DataError

# How a column's dtype is checked: the exact dtype a simulated world has is in ``dtype``; a real
# log may store the same column differently (int64 ids, plain text), so checks go by kind.
_KINDS = {
    "int": pd.api.types.is_integer_dtype,
    "float": pd.api.types.is_float_dtype,
    "bool": pd.api.types.is_bool_dtype,
    "text": lambda d: (
        pd.api.types.is_object_dtype(d) or isinstance(d, pd.CategoricalDtype | pd.StringDtype)
    ),
    "any": lambda d: True,
}
_KIND_OF = {
    **dict.fromkeys(("int64", "int32", "int16", "Int64"), "int"),
    "float64": "float",
    **dict.fromkeys(("bool", "boolean"), "bool"),
    **dict.fromkeys(("str", "category"), "text"),
    "object": "any",
}


@dataclass(frozen=True)
class Column:
    """One column: its name, the dtype qualsim writes, what it means, and whether it is truth."""

    name: str
    dtype: str
    doc: str
    truth: bool = False

    @property
    def kind(self) -> str:
        return _KIND_OF[self.dtype]


@dataclass(frozen=True)
class Table:
    """A table of the pipeline: what it is, who makes it, its columns and its sort order."""

    name: str
    doc: str
    made_by: str
    columns: tuple[Column, ...]
    sorted_by: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """Every column name, in order."""
        return [c.name for c in self.columns]

    @property
    def visible(self) -> list[str]:
        """The columns that are not ground truth (what a team's own data could have)."""
        return [c.name for c in self.columns if not c.truth]

    def empty(self) -> pd.DataFrame:
        """A table with no rows: the right columns and dtypes."""
        return pd.DataFrame(
            {
                c.name: pd.Series([], dtype=str if c.dtype == "str" else c.dtype)
                for c in self.columns
            }
        )

    def check(self, df: pd.DataFrame, where: str, required: list[str] | None = None) -> None:
        """Raise :class:`DataError` naming ``where`` unless ``df`` has the ``required`` columns
        (default: all) with the right kind of dtype (integer, float, bool or text)."""
        names = self.names if required is None else required
        missing = [n for n in names if n not in df.columns]
        if missing:
            raise DataError(
                f"{where}: the {self.name} table lacks column(s) {', '.join(missing)}; "
                f"expected {', '.join(self.names)}"
            )
        for name in names:
            col = next(c for c in self.columns if c.name == name)
            if len(df) and not _KINDS[col.kind](df[name].dtype):
                raise DataError(
                    f"{where}: {self.name}.{name} has dtype {df[name].dtype}, expected "
                    f"{col.kind} ({col.doc})"
                )

    def markdown(self) -> str:
        """This table as a Markdown section (for ``docs/tables.md``)."""
        lines = [f"## `{self.name}`", "", self.doc, "", f"Made by {self.made_by}."]
        if self.sorted_by:
            lines += ["", f"Sorted by ({', '.join(self.sorted_by)})."]
        lines += ["", "| column | dtype | meaning |", "|---|---|---|"]
        for c in self.columns:
            doc = ("**truth** — " if c.truth else "") + c.doc.replace("|", "\\|")
            lines.append(f"| `{c.name}` | {c.dtype} | {doc} |")
        return "\n".join(lines)


def columns_table(
    name: str, doc: str, made_by: str, *cols: tuple, sorted_by: tuple[str, ...] = ()
) -> Table:
    """A :class:`Table` whose columns are given as ``(name, dtype, doc[, truth])`` tuples."""
    return Table(name, doc, made_by, tuple(Column(*c) for c in cols), sorted_by)
