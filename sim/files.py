"""Writing output files atomically: a reader never sees half a file."""

from __future__ import annotations

from pathlib import Path

from sim.errors import QualsimError


def write_tables(tables: dict, out: str | Path, fmt: str = "csv") -> list[Path]:
    """Write each DataFrame (or text) of ``tables`` to ``out/<name>.<fmt>`` (text: ``<name>``
    as given, e.g. ``"report.json"``), each atomically (a temporary name, then a rename: a
    reader never sees half a file). Creates ``out``; a folder that cannot be made is a
    ``QualsimError``. Returns the paths written."""
    if fmt not in ("parquet", "csv"):
        raise QualsimError(f"unknown output format {fmt!r}: expected parquet or csv")
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise QualsimError(f"{out}: cannot create output folder ({exc.strerror})") from None
    written = []
    for name, value in tables.items():
        path = out / (name if isinstance(value, str) else f"{name}.{fmt}")
        tmp = path.with_name(path.name + ".partial")
        if isinstance(value, str):
            tmp.write_text(value, encoding="utf-8")
        elif fmt == "parquet":
            value.to_parquet(tmp, index=False)
        else:
            value.to_csv(tmp, index=False)
        tmp.replace(path)
        written.append(path)
    return written


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`write_tables`); returns the path."""
    path = Path(path)
    return write_tables({path.name: text}, path.parent)[0]
