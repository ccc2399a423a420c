"""Reading values out of input columns: text from CSV, or typed from Parquet. Ids become text
keys; numbers, booleans and vocabulary columns are checked, naming the file, row and value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sim.errors import DataError
from sim.real.reports import plural
from sim.real.sources import Source, as_pandas

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def as_text(col: pd.Series) -> np.ndarray:
    """The column as stripped text (object array); missing values become ""."""
    if isinstance(col.dtype, pd.CategoricalDtype):  # strip each category once, then take
        cats = as_text(pd.Series(col.cat.categories))
        return np.append(cats, "").astype(object)[col.cat.codes.to_numpy()]
    if isinstance(col.dtype, pd.StringDtype):
        return col.fillna("").str.strip().to_numpy(dtype=object)
    vals = col.astype(object).to_numpy()
    na = pd.isna(vals)
    return np.array(
        ["" if m else str(v).strip() for v, m in zip(vals, na, strict=True)], dtype=object
    )


def text_series(col: pd.Series) -> pd.Series:
    """:func:`as_text` as a text Series (index 0..n-1): a text column read by Arrow stays in
    Arrow (stripped there: no Python string per row)."""
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        return col.fillna("").str.strip().astype(str).reset_index(drop=True)
    return pd.Series(as_text(col), dtype=str)


def id_keys(col: pd.Series) -> tuple[np.ndarray, bool]:
    """Ids as text keys (object array, "" where empty) and whether they were typed integers
    (integer Parquet columns, or float columns holding whole numbers because of nulls)."""
    na = col.isna().to_numpy()
    is_num = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    if is_num:
        vals = col.to_numpy(dtype=float, na_value=np.nan)
        if np.all(np.mod(vals[~na], 1) == 0):
            ints = np.zeros(len(col), dtype=np.int64)
            ints[~na] = col[~na].astype(np.int64).to_numpy()
            out = ints.astype(str).astype(object)
            out[na] = ""
            return out, True
    return as_text(col), False


@dataclass(frozen=True)
class Keys:
    """A column of ids or names, dictionary-encoded: row ``i`` holds ``labels[codes[i]]``.

    ``labels`` are distinct stripped texts (as :func:`id_keys` writes them; "" for empty),
    ``codes`` integers per row; ``typed_int`` as :func:`id_keys` tells it. Text work is done once
    per distinct value, never per row."""

    codes: np.ndarray
    labels: np.ndarray
    typed_int: bool = False

    def __getitem__(self, row: int) -> str:
        return str(self.labels[self.codes[row]])

    def __len__(self) -> int:
        return len(self.codes)

    def text(self) -> np.ndarray:
        """Every row's text (object array): for small files and the reference only."""
        return self.labels[self.codes]

    def per_row(self, per_label: np.ndarray) -> np.ndarray:
        """``per_label[code of each row]`` (as :meth:`ArrowKeys.per_row`)."""
        return per_label[self.codes]


def positions_in(index: pd.Index, labels: np.ndarray) -> np.ndarray:
    """``index.get_indexer(labels)`` as int32 (-1 where absent) for text ``index`` and
    ``labels``: Arrow hashes the texts (pandas hashes a Python string per label, the reference);
    anything Arrow cannot hold as text (numbers) goes to pandas."""
    labels = np.asarray(labels)
    text = pd.api.types.is_string_dtype(index.dtype) and labels.dtype == object
    values = arrow_text(np.asarray(index)) if text and len(labels) >= _ARROW_LOOKUP else None
    asked = arrow_text(labels) if values is not None else None
    if values is None or asked is None:
        return index.get_indexer(labels).astype(np.int32)
    found = pc.index_in(asked, value_set=values)
    return found.fill_null(-1).to_numpy().astype(np.int32)  # a writable copy


def arrow_text(values: np.ndarray) -> pa.Array | None:
    """Text values (an object array) as an Arrow text array, or None where Arrow cannot hold
    them as text (numbers, a lone surrogate)."""
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        return None


# Labels from which :func:`positions_in` hashes with Arrow (fewer: pandas is as fast).
_ARROW_LOOKUP = 4096


def key_codes(col: pd.Series, ids: bool = True) -> Keys:
    """The column as :class:`Keys`: ``id_keys`` (``ids``) or ``as_text`` of each distinct value,
    distinct texts merged (``" A1"`` and ``"A1"`` are one label). A categorical column (a
    dictionary-encoded file column) is never expanded per row; another is hashed once."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        raw_codes = col.cat.codes.to_numpy()  # the smallest integer type that holds them
        distinct = pd.Series(col.cat.categories)
    else:
        raw_codes, uniques = pd.factorize(col)
        distinct = pd.Series(uniques, dtype=col.dtype)
    if ids:
        texts, typed = id_keys(distinct)
    else:
        texts, typed = as_text(distinct), False
    merged, labels = pd.factorize(np.append(texts, "").astype(object))
    labels = np.asarray(labels, dtype=object)
    if (raw_codes >= 0).all() and np.array_equal(merged[:-1], np.arange(len(texts))):
        return Keys(raw_codes, labels, typed)  # distinct texts already: the codes as they are
    # a missing value (code -1) takes the appended "" (the last of ``merged``)
    return Keys(merged[raw_codes], labels, typed)


@dataclass(frozen=True)
class ArrowKeys:
    """A column's keys before they are spread over its rows: its dictionary-encoded chunks
    (``col``), which distinct dictionary each chunk uses (``which``; ``starts``: where each
    begins among their concatenated values), each dictionary value's code into ``labels``
    (``merged``), and the code of "" (``empty``, what a null row holds)."""

    col: pa.ChunkedArray
    which: list[int]
    starts: np.ndarray
    merged: np.ndarray
    labels: np.ndarray
    typed_int: bool
    empty: int

    def per_row(self, per_label: np.ndarray) -> np.ndarray:
        """``per_label[code of each row]``, in its type: one gather per chunk from the
        chunk's own indices (no per-row codes in between)."""
        values = per_label[self.merged]
        null = per_label[self.empty]
        out = np.empty(len(self.col), dtype=per_label.dtype)
        at = 0
        for chunk, j in zip(self.col.chunks, self.which, strict=True):
            part = out[at : at + len(chunk)]
            at += len(chunk)
            if self.starts[j] == self.starts[j + 1]:  # an empty dictionary: every row is null
                part[:] = null
                continue
            index = chunk.indices
            if chunk.null_count:
                index = pc.fill_null(index, 0)
            np.take(values[self.starts[j] : self.starts[j + 1]], index.to_numpy(), out=part)
            if chunk.null_count:
                part[chunk.is_null().to_numpy(zero_copy_only=False)] = null
        return out

    def keys(self) -> Keys:
        """The :class:`Keys` (codes in the smallest integer type)."""
        codes = np.arange(len(self.labels), dtype=np.min_scalar_type(-len(self.labels)))
        return Keys(self.per_row(codes), self.labels, self.typed_int)


def arrow_keys(col: pa.ChunkedArray, ids: bool = True) -> Keys:
    """``key_codes`` of the column converted to pandas (the reference), straight from Arrow
    (see :func:`arrow_key_table`)."""
    return arrow_key_table(col, ids).keys()


def arrow_key_table(col: pa.ChunkedArray, ids: bool = True) -> ArrowKeys:
    """The :class:`ArrowKeys` of a column: a dictionary column's chunks share the dictionary of
    their row group, so each distinct dictionary is read once, and a row's code is one small
    gather of its index (any other column is dictionary-encoded by Arrow first)."""
    value_type = None
    if not pa.types.is_dictionary(col.type):
        if col.null_count and pa.types.is_integer(col.type):
            value_type = pa.float64()  # as pandas holds integers with nulls
        col = pc.dictionary_encode(col)  # one dictionary shared by every chunk
    dicts, which = _distinct_dictionaries(col)
    values = pa.concat_arrays(dicts) if dicts else pa.array([], col.type.value_type)
    back = None  # each dictionary value's position among the distinct ones
    if len(dicts) > 1:  # hash the dictionaries (not the rows) once more
        encoded = pc.dictionary_encode(values, null_encoding="encode")
        values, back = encoded.dictionary, encoded.indices.to_numpy()
    if value_type is not None:
        values = values.cast(value_type, safe=False)
    distinct = as_pandas(pa.table({"v": values}))["v"]
    texts, typed = id_keys(distinct) if ids else (as_text(distinct), False)
    merged, labels = pd.factorize(np.append(texts, "").astype(object))
    starts = np.cumsum([0] + [len(d) for d in dicts])
    return ArrowKeys(
        col,
        which,
        starts,
        merged[:-1] if back is None else merged[back],
        np.asarray(labels, dtype=object),
        typed,
        int(merged[-1]),
    )


def _distinct_dictionaries(col: pa.ChunkedArray) -> tuple[list[pa.Array], list[int]]:
    """The distinct dictionaries of a dictionary column's chunks (the same buffers: the same
    dictionary) and which one each chunk uses."""
    dicts: list[pa.Array] = []
    seen: dict[tuple, int] = {}
    which = []
    for chunk in col.chunks:
        d = chunk.dictionary
        key = (d.offset, len(d), *(b.address if b is not None else 0 for b in d.buffers()))
        which.append(seen.setdefault(key, len(dicts)))
        if which[-1] == len(dicts):
            dicts.append(d)
    return dicts, which


def stable_order(codes: np.ndarray) -> np.ndarray:
    """``np.argsort(codes, kind="stable")`` for non-negative integer codes, as least-significant
    -digit radix passes over 16 bits (numpy radix-sorts 16-bit keys: linear time)."""
    codes = np.asarray(codes)
    if codes.dtype.kind not in "iu":
        codes = codes.astype(np.int64)
    top = int(codes.max()) if len(codes) else 0
    low = (
        codes.astype(np.uint16, copy=False) if top <= 0xFFFF else (codes & 0xFFFF).astype(np.uint16)
    )
    order = np.argsort(low, kind="stable")
    shift = 16
    while top >> shift:
        digit = ((codes[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
    return order


def sorted_codes(codes: np.ndarray) -> np.ndarray:
    """``np.sort(codes)`` (= ``codes[stable_order(codes)]``) for non-negative integer codes, as
    int64: each code repeated as often as it occurs (a count and a sequential write instead of
    a gather through the order), counted a block at a time (no int64 copy of int32 codes)."""
    codes = np.asarray(codes)
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    counts = code_counts(codes, int(codes.max()) + 1)
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def code_counts(codes: np.ndarray, size: int, keep: np.ndarray | None = None) -> np.ndarray:
    """``np.bincount(codes[keep], minlength=size)`` counted a block at a time (no int64 copy
    of small integer codes, no copy of the kept ones)."""
    counts = np.zeros(size, dtype=np.int64)
    for at in range(0, len(codes), BLOCK):
        part = codes[at : at + BLOCK]
        counts += np.bincount(part if keep is None else part[keep[at : at + BLOCK]], minlength=size)
    return counts


def first_seen(codes: np.ndarray, keep: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """The codes (non-negative, below ``len(skip)``) of the kept rows in order of first
    appearance, without those ``skip`` marks: ``[c for c in pd.unique(codes[keep]) if not
    skip[c]]`` (:func:`first_seen_reference`), counted a block at a time; only rows of codes
    not skipped, usually none, are gathered and hashed."""
    wanted = (code_counts(codes, len(skip), keep) > 0) & ~skip
    if not wanted.any():
        return np.zeros(0, dtype=np.int64)
    rows = np.flatnonzero(wanted[codes] & keep)
    return pd.unique(codes[rows]).astype(np.int64)


def first_seen_reference(codes: np.ndarray, keep: np.ndarray, skip: np.ndarray) -> np.ndarray:
    return np.array([c for c in pd.unique(codes[keep]) if not skip[c]], dtype=np.int64)


def take_as(values: np.ndarray, rows: np.ndarray, dtype) -> np.ndarray:
    """``values[rows].astype(dtype)`` a block at a time (no full-size temporary): int32 codes
    become an int64 column in one pass."""
    out = np.empty(len(rows), dtype=dtype)
    for at in range(0, len(rows), BLOCK):
        out[at : at + BLOCK] = values[rows[at : at + BLOCK]]
    return out


# Rows per block where a whole-column temporary would only be reduced or copied out.
BLOCK = 1 << 20


def first_true(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def numbers(src: Source, column: str) -> np.ndarray:
    """A numeric column as float64 (NaN where empty); text that is not a number raises."""
    col = src.df[column]
    if pd.api.types.is_bool_dtype(col):
        raise DataError(f"{src.name}: column '{column}' holds booleans, expected numbers")
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float, na_value=np.nan)
    text = as_text(col)
    vals = pd.to_numeric(pd.Series(text, dtype=object).replace("", np.nan), errors="coerce")
    out = vals.to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(out) & (text != "")
    if bad.any():
        i = first_true(bad)
        raise DataError(src.at(i, f"{column} '{text[i]}' is not a number"))
    return out


def booleans(src: Source, column: str) -> pd.arrays.BooleanArray:
    col = src.df[column]
    if pd.api.types.is_bool_dtype(col):
        return pd.array(col, dtype="boolean")
    text = np.array([t.lower() for t in as_text(col)], dtype=object)
    if pd.api.types.is_float_dtype(col):  # 1.0 / 0.0 from a numeric Parquet column
        text = np.array([t[:-2] if t.endswith(".0") else t for t in text], dtype=object)
    is_true = np.isin(text, list(_TRUE))
    is_false = np.isin(text, list(_FALSE))
    bad = ~(is_true | is_false) & (text != "")
    if bad.any():
        i = first_true(bad)
        raise DataError(
            src.at(
                i, f"{column} '{as_text(col)[i]}' is not a boolean (use true/false, 1/0, yes/no)"
            )
        )
    return pd.arrays.BooleanArray(is_true, ~(is_true | is_false))


def check_unique(src: Source, keys: np.ndarray, column: str) -> None:
    dup = pd.Series(keys).duplicated().to_numpy()
    if dup.any():
        j = first_true(dup)
        i = first_true(keys == keys[j])
        raise DataError(
            src.at(
                j,
                f"duplicated {column} '{keys[j]}' (first on {src.where(i)}); "
                f"each {column} must appear once",
            )
        )


def check_not_empty(src: Source, keys: np.ndarray, column: str, what: str) -> None:
    empty = keys == ""
    if empty.any():
        raise DataError(src.at(first_true(empty), f"empty {column}: {what}"))


def vocab_warning(src: Source, values: pd.Series, column: str, vocab: Sequence[str]) -> str:
    odd = values.ne("") & ~values.isin(list(vocab))
    if not odd.any():
        return ""
    counts = values[odd].value_counts()
    shown = ", ".join(f"'{v}' ×{n}" for v, n in counts.head(5).items())
    more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
    return (
        f"{src.name}: {plural(int(odd.sum()), 'contact')} with a {column} outside the vocabulary "
        f"({', '.join(vocab)}): {shown}{more}; policies filtering on {column} never match them"
    )
