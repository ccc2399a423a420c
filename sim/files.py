"""Writing outputs: a reader never sees half a file, and a command's output folder is replaced
as a whole (never a mix of two runs, never partial files after a failure).

- :func:`write_text` writes one file atomically (a temporary name beside it, then a rename).
- :func:`replacing_folder` gives a command a fresh temporary sibling of its output folder and
  swaps it into place only when everything is written: stale files of a previous run never
  survive beside new ones, and a failed command (an exception, a full disk, Ctrl-C) leaves the
  previous output as it was and no temporary files. It replaces only folders qualsim wrote
  (they hold the marker file ``.qualsim-output``) or empty ones.
- :func:`write_tables` writes a set of tables that way. CSV cells of text columns that a
  spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return) are neutralised with a leading ``'`` (OWASP's rule, :func:`neutralise`);
  ``safe=False`` (the CLI's ``--raw-csv``) keeps the raw values. Parquet is never changed.

>>> import pandas as pd
>>> df = pd.DataFrame({"id": ["=1+1", "a", "'=x"], "value": [-1.5, 2.0, 3.0]})
>>> neutralise(df)["id"].tolist()
["'=1+1", 'a', "''=x"]
>>> neutralise(df)["value"].tolist()  # numbers are never touched
[-1.5, 2.0, 3.0]
>>> unneutralise(neutralise(df)).equals(df)
True
"""

from __future__ import annotations

import errno
import glob
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pandas as pd

from sim.errors import QualsimError

MARKER = ".qualsim-output"
MARKER_TEXT = (
    "This folder was written by qualsim. The next command writing its output here replaces\n"
    "the whole folder (files of a previous run never survive beside new ones).\n"
)
# A cell a spreadsheet would run as a formula, after any quotes added by neutralising: adding
# one more quote to these (and only these) makes the rule reversible (see unneutralise).
_FORMULA = r"^'*[=+\-@\t\r]"
_ESCAPED = r"^''*[=+\-@\t\r]"


def _text_columns(df: pd.DataFrame) -> list:
    """Columns that hold text (object, string or categorical dtype): never numbers."""
    return [
        c
        for c in df.columns
        if pd.api.types.is_object_dtype(df[c])
        or pd.api.types.is_string_dtype(df[c])
        or isinstance(df[c].dtype, pd.CategoricalDtype)
    ]


def _map_text(df: pd.DataFrame, pattern: str, add: bool) -> pd.DataFrame:
    """``df`` with a quote added to (``add``) or dropped from the string cells of its text
    columns that match ``pattern`` (categorical columns: their categories); the same frame
    when nothing changes."""

    def fix(values):
        return "'" + values if add else values.str[1:]

    changed = {}
    for c in _text_columns(df):
        col = df[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            cats = col.cat.categories
            if pd.api.types.is_object_dtype(cats) or pd.api.types.is_string_dtype(cats):
                hit = cats.str.contains(pattern, regex=True, na=False)
                if hit.any():
                    pairs = zip(cats, hit, strict=True)
                    new = [fix(pd.Series([v]))[0] if h else v for v, h in pairs]
                    changed[c] = col.cat.rename_categories(new)
            continue
        try:
            hit = col.str.contains(pattern, regex=True, na=False)  # non-strings: never a hit
        except AttributeError:  # no strings at all (e.g. booleans in an object column)
            continue
        if hit.any():
            fixed = col.copy()
            fixed[hit] = fix(col[hit])
            changed[c] = fixed
    return df.assign(**{str(c): v for c, v in changed.items()}) if changed else df


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell that a spreadsheet would read as a formula (it starts with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, possibly after quotes) prefixed with
    a single quote ``'``; numeric columns (a negative number too) are never touched.
    :func:`unneutralise` gives the original values back."""
    return _map_text(df, _FORMULA, add=True)


def unneutralise(df: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`neutralise`: drops the quote it added (a cell ``'=x`` read back
    from a safe CSV is ``=x`` again; ``'abc`` was never changed and stays as it is)."""
    return _map_text(df, _ESCAPED, add=False)


def _why(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied: a read-only place"
    return exc.strerror or str(exc)


def check_output_folder(out: str | Path, inputs: Iterable[str | Path | None] = ()) -> None:
    """Refuse (``QualsimError``) an output folder ``out`` that is a file, a folder holding
    files qualsim did not write, the current folder or one above it, or a folder holding one of
    the command's ``inputs`` (replacing it would delete them): commands call it before their
    work, to fail early."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise QualsimError(
            f"{out}: cannot create output folder (a file of that name exists; give a folder)"
        )
    if out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir()):
        raise QualsimError(
            f"{out}: this folder holds files qualsim did not write (no {MARKER} marker inside), "
            "and writing the outputs replaces the whole folder; give a new or empty folder, "
            "or remove its files first"
        )
    where = out.resolve()
    if Path.cwd().resolve().is_relative_to(where):
        raise QualsimError(
            f"{out}: the output folder is replaced as a whole and holds the current folder; "
            "give a folder below it"
        )
    for path in inputs:
        if path is not None and Path(path).resolve().is_relative_to(where):
            raise QualsimError(
                f"{path}: this input is inside the output folder {out}, which is replaced as a "
                "whole (the input would be deleted); give another --out folder"
            )


@contextmanager
def replacing_folder(out: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary sibling of ``out`` to write a command's outputs into; on
    success it replaces ``out`` as a whole (the old folder is renamed aside, the new one
    renamed into place, the old one deleted). On any failure (including ``KeyboardInterrupt``)
    the temporary folder is removed and ``out`` is left as it was. ``out`` must be new, empty,
    or a folder qualsim wrote (it holds ``.qualsim-output``); problems with the place (a file,
    a read-only folder, a full disk) are ``QualsimError``\\ s naming ``out``."""
    where = Path(os.path.abspath(out))
    _recover(where)
    check_output_folder(out)
    old = where.with_name(f".{where.name}.{os.getpid()}.old")
    try:
        with _staging(out) as tmp:
            yield tmp
            (tmp / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
            _swap(tmp, where, old)
    finally:
        shutil.rmtree(old, ignore_errors=True)


def _recover(where: Path) -> None:
    """Clean up after a qualsim process that was killed (SIGKILL, power loss) while replacing
    ``where``: its previous folder set aside is put back if ``where`` is missing (it was killed
    between the two renames), and its temporary folders are removed. Folders of processes still
    running are left alone."""
    for suffix in ("old", "partial"):
        for p in where.parent.glob(f".{glob.escape(where.name)}.*.{suffix}"):
            pid = p.name[len(where.name) + 2 : -len(suffix) - 1]
            if not pid.isdigit() or _alive(int(pid)):
                continue
            if suffix == "old" and not where.exists():
                with suppress(OSError):  # a read-only place: the write fails later, clearly
                    os.replace(p, where)
            else:
                shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` runs (ours included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextmanager
def _staging(out: str | Path) -> Iterator[Path]:
    """A fresh temporary sibling folder of ``out``, removed at the end whatever happens; an
    ``OSError`` inside is a ``QualsimError`` naming ``out``."""
    where = Path(os.path.abspath(out))
    tmp = where.with_name(f".{where.name}.{os.getpid()}.partial")
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
    except OSError as exc:
        raise QualsimError(f"{out}: cannot create output folder ({_why(exc)})") from None
    try:
        yield tmp
    except OSError as exc:
        raise QualsimError(f"{out}: cannot write the outputs ({_why(exc)})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap(new: Path, where: Path, old: Path) -> None:
    """Put ``new`` in the place of ``where`` (moving an existing ``where`` to ``old`` first,
    and back if the second rename fails)."""
    existed = where.is_dir()
    if existed:
        os.replace(where, old)
    try:
        os.replace(new, where)
    except OSError:
        if existed:
            os.replace(old, where)
        raise


def write_tables(
    tables: dict, out: str | Path, fmt: str = "csv", safe: bool = True, whole: bool = True
) -> list[Path]:
    """Write each DataFrame (or text) of ``tables`` to ``out/<name>.<fmt>`` (text: ``<name>``
    as given, e.g. ``"report.json"``), replacing the folder ``out`` as a whole (see
    :func:`replacing_folder`); with ``whole=False``, into ``out`` beside the files already there
    (a data folder: all files are written aside first and then renamed in, so a failure leaves
    none of them). CSV files are spreadsheet-safe (:func:`neutralise`) unless ``safe`` is
    false; Parquet files keep the raw values. Returns the paths written."""
    if fmt not in ("parquet", "csv"):
        raise QualsimError(f"unknown output format {fmt!r}: expected parquet or csv")
    out = Path(out)
    names = [name if isinstance(v, str) else f"{name}.{fmt}" for name, v in tables.items()]
    with replacing_folder(out) if whole else _staging(out) as tmp:
        for name, value in zip(names, tables.values(), strict=True):
            path = tmp / name
            if isinstance(value, str):
                path.write_text(value, encoding="utf-8")
            elif fmt == "parquet":
                value.to_parquet(path, index=False)
            else:
                (neutralise(value) if safe else value).to_csv(path, index=False)
        if not whole:
            out.mkdir(parents=True, exist_ok=True)
            for name in names:
                os.replace(tmp / name, out / name)
    return [out / n for n in names]


def check_output_file(path: str | Path | None) -> None:
    """Refuse (``QualsimError``) an output file ``path`` that is a folder: commands call it
    before their work, to fail early (``None``: no file asked for)."""
    if path is not None and Path(path).is_dir():
        raise QualsimError(f"{path}: is a folder; give a file name to write to")


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to the file ``path`` atomically (a temporary name beside it, then a
    rename: a reader never sees half a file, a failure leaves the previous file as it was).
    A ``path`` that is a folder, or a place that cannot be written, is a ``QualsimError``."""
    path = Path(path)
    check_output_file(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise QualsimError(f"{path}: cannot write this file ({_why(exc)})") from None
    finally:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
    return path
