"""Timestamps of a real export: parsing (ISO 8601 text, or typed Parquet columns), the time
zone rule, and the time frame of a log (its origin, the days since it, the input's format).

- A timestamp with an offset (``Z``, ``+02:00``, ``-0500``) is converted to UTC; one without is
  taken as it is; mixing date-times with and without an offset (in the events file, or between
  events and outcome dates) is an error. A plain date (``2024-03-01``) has no clock and means
  midnight on whatever clock the date-times use, so it mixes with either.
- ``origin`` is midnight (UTC when the input has offsets) of the day of the earliest kept
  event; times are float days since it.
- The format is ``"date"`` when every valid timestamp is a plain date (or a Parquet date
  column), else ``"datetime"``, written with the input's separator (``T`` or space), with
  microseconds only if some input timestamp had a fraction of a second, and a ``Z`` suffix if
  the input had offsets. Typed Parquet timestamp columns count as date-times.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sim.errors import DataError
from sim.real.conversions import as_text, first_true
from sim.real.sources import Source, as_pandas

US_PER_DAY = 86_400_000_000
_ISO = (
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*(?:Z|[+-]\d{2}(?::?\d{2})?))?)?"
)
_OFFSET_AT_END = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"
ISO_HINT = "expected an ISO 8601 date or date-time such as 2024-03-01 or 2024-03-01T14:30:00"


@dataclass
class Times:
    """Parsed timestamps: naive datetime64[us] (UTC when they had an offset), NaT where bad.

    ``raw`` is the column as read (pandas, or Arrow; a typed Arrow column only as its
    :class:`Stored` type: the values hold it exactly); ``text`` (what the file said, for
    messages) is made from it only when asked for, ``text_at(i)`` for one row."""

    values: np.ndarray
    bad: np.ndarray
    date: np.ndarray  # a plain date (no clock)
    aware: np.ndarray  # a date-time that had an offset
    naive: np.ndarray  # a date-time without an offset
    raw: pd.Series | pa.ChunkedArray | Stored
    sep: str = "T"
    fraction: bool = False
    _text: np.ndarray | None = field(default=None, repr=False)

    @property
    def text(self) -> np.ndarray:
        """What the file said on every row (object array, "" where empty)."""
        if self._text is None:
            self._text = _as_written(self._raw())
        return self._text

    def text_at(self, row: int) -> str:
        """What the file said on one row."""
        return str(self.text_of(np.array([row]))[0])

    def text_of(self, rows: np.ndarray) -> np.ndarray:
        """What the file said on some rows (positions)."""
        if self._text is not None:
            return self._text[rows]
        return _as_written(self._raw(rows))

    def _raw(self, rows: np.ndarray | None = None) -> pd.Series | pa.ChunkedArray:
        """The column as read, on ``rows`` (positions; None: all of it)."""
        raw = self.raw
        if isinstance(raw, Stored):
            return raw.rebuild(self.values if rows is None else self.values[rows])
        if isinstance(raw, pa.ChunkedArray):
            return raw if rows is None else raw.take(pa.array(rows, pa.int64()))
        return raw if rows is None else raw.iloc[rows]


@dataclass(frozen=True)
class Stored:
    """A typed Arrow timestamp column (s to us) as its type alone: the parsed values (NaT where
    null) give it back exactly, so the column (8 bytes a row) is let go once parsed."""

    type: pa.TimestampType

    def rebuild(self, values: np.ndarray) -> pa.ChunkedArray:
        """The column as stored, for these parsed ``values``."""
        ints = values.astype("datetime64[us]", copy=False).view(np.int64)
        nat = ints == np.iinfo(np.int64).min
        stored = pa.array(ints // _US_PER_UNIT[self.type.unit], pa.int64(), mask=nat)
        return pa.chunked_array([stored.cast(self.type)])


def _as_written(col: pd.Series | pa.ChunkedArray) -> np.ndarray:
    if isinstance(col, pa.ChunkedArray):  # as the column converted to pandas says it
        col = as_pandas(pa.table({"v": col}))["v"]
    if pd.api.types.is_datetime64_any_dtype(col):
        text = col.astype(str).to_numpy(dtype=object)
        text[col.isna().to_numpy()] = ""
        return text
    if col.dtype == object:  # Parquet date / datetime objects
        col = pd.Series([v.isoformat() if hasattr(v, "isoformat") else v for v in col])
    return as_text(col)


def parse_times(col: pd.Series) -> Times:
    """Parse a timestamp column: ISO 8601 text (CSV, or text in Parquet), Parquet date or
    date-time objects, or a typed timestamp column (with a time zone: converted to UTC).

    Text columns held by Arrow are classified with Arrow's regular expressions and parsed with
    Arrow's strict ISO 8601 cast; a group of rows the cast refuses (an offset other than ``Z``,
    a space before it, nanoseconds, an invalid day) is parsed by pandas. Both paths give what
    :func:`parse_times_reference` gives (tests/real/test_read_columnar.py checks it on random
    ISO-like text)."""
    if pd.api.types.is_datetime64_any_dtype(col):
        return _typed_times(col)
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        arr = pa.array(col.array)
        whole = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        return _parse_arrow_text(whole, col)
    return parse_times_reference(col)


def parse_times_arrow(col: pa.ChunkedArray) -> Times:
    """:func:`parse_times` of the column converted to pandas, straight from Arrow where that
    is plain: a typed timestamp column (seconds to microseconds) is scaled to microseconds
    in place, a text column parsed by Arrow; anything else goes through pandas."""
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return _parse_arrow_text(col.combine_chunks(), col)
    typed = _arrow_typed_times(col) if pa.types.is_timestamp(col.type) else None
    return typed if typed is not None else parse_times(as_pandas(pa.table({"v": col}))["v"])


# Microseconds per unit of a typed Arrow timestamp column read without pandas.
_US_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}


def _arrow_typed_times(col: pa.ChunkedArray) -> Times | None:
    """A typed timestamp column as :func:`_typed_times` reads it from pandas (UTC for a
    column with a time zone: Arrow stores UTC), written once into one array; None for
    nanoseconds or values outside datetime64[us] (pandas' path then)."""
    factor = _US_PER_UNIT.get(col.type.unit)
    if factor is None:
        return None
    limits = pc.min_max(col).values()
    top = np.iinfo(np.int64).max // factor
    if any(v.is_valid and abs(v.cast(pa.int64()).as_py()) >= top for v in limits):
        return None
    ints = np.empty(len(col), dtype=np.int64)
    at = 0
    for chunk in col.chunks:
        stored = np.frombuffer(chunk.buffers()[1], np.int64, chunk.offset + len(chunk))
        part = ints[at : at + len(chunk)]
        np.multiply(stored[chunk.offset :], factor, out=part)
        if chunk.null_count:
            part[chunk.is_null().to_numpy(zero_copy_only=False)] = np.iinfo(np.int64).min
        at += len(chunk)
    values, n = ints.view("datetime64[us]"), len(ints)
    # masks that hold one value for every row take no memory (read-only views)
    bad = np.isnat(values) if col.null_count else np.broadcast_to(False, n)
    dt = ~bad if col.null_count else np.broadcast_to(True, n)
    none = np.broadcast_to(False, n)  # no row is a plain date
    aware = col.type.tz is not None
    with_offset, without = (dt, none) if aware else (none, dt)
    fraction = _has_fraction(values, dt)
    return Times(values, bad, none, with_offset, without, Stored(col.type), "T", fraction)


def parse_times_reference(col: pd.Series) -> Times:
    """The plain pandas parse (the reference for the Arrow path of :func:`parse_times`)."""
    if pd.api.types.is_datetime64_any_dtype(col):
        return _typed_times(col)
    raw = col
    if col.dtype == object:  # Parquet date / datetime objects
        col = pd.Series(
            [v.isoformat() if hasattr(v, "isoformat") else v for v in col], index=col.index
        )
    text = as_text(col)
    s = pd.Series(text, dtype=str)
    times = _classify(raw, s)
    times._text = text
    return times


def _typed_times(col: pd.Series) -> Times:
    n = len(col)
    tz = getattr(col.dtype, "tz", None)
    s = col.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else col
    values = s.to_numpy(dtype="datetime64[us]")
    bad = np.isnat(values)
    dt = ~bad
    return Times(
        values,
        bad,
        np.zeros(n, bool),
        dt if tz is not None else np.zeros(n, bool),
        np.zeros(n, bool) if tz is not None else dt,
        col,
        "T",
        _has_fraction(values, dt),
    )


# Rows per block where a whole-column temporary would only be reduced or copied out.
CHUNK = 1 << 20


def _has_fraction(values: np.ndarray, valid: np.ndarray) -> bool:
    """Does a valid datetime64[us] value have a fraction of a second? A block at a time (no
    full-size temporaries), stopping at the first block that has one."""
    ints = values.view(np.int64)
    for at in range(0, len(ints), CHUNK):
        part = slice(at, at + CHUNK)
        if np.any(ints[part][valid[part]] % 1_000_000):
            return True
    return False


def _parse_arrow_text(arr: pa.Array, raw: pd.Series | pa.ChunkedArray) -> Times:
    """The Arrow path of :func:`parse_times` for a text column held by Arrow (``arr``; ``raw``
    the column as read): Arrow's regular expressions classify, Arrow's strict ISO 8601 cast
    parses each group (pandas where the cast refuses any value of it)."""
    s = pc.utf8_trim_whitespace(pc.fill_null(arr, ""))
    n = len(s)
    with ThreadPoolExecutor(2) as pool:  # the two regular expressions side by side
        offset = pool.submit(pc.match_substring_regex, s, _OFFSET_AT_END)
        valid = _np(pc.match_substring_regex(s, f"^(?:{_ISO})$"))
        date = valid & (pc.utf8_length(s).to_numpy(zero_copy_only=False) == 10)
        aware = valid & ~date & _np(offset.result())
    naive = valid & ~date & ~aware
    values = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    for mask, utc in ((date | naive, False), (aware, True)):
        if mask.any():
            values[mask] = _cast_or_pandas(s.filter(pa.array(mask)), utc)
    bad = np.isnat(values)
    dt = (naive | aware) & ~bad
    sep = " " if dt.any() and s[first_true(dt)].as_py()[10] == " " else "T"
    fraction = _has_fraction(values, dt)
    return Times(values, bad, date & ~bad, aware & ~bad, naive & ~bad, raw, sep, fraction)


def _np(mask: pa.Array) -> np.ndarray:
    return mask.to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _cast_or_pandas(texts: pa.Array, utc: bool) -> np.ndarray:
    """Arrow's strict cast of a whole group, or pandas where it refuses any of them."""
    try:
        arr = pc.cast(texts, pa.timestamp("us", "UTC" if utc else None))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _parse_pandas(pd.Series(texts.to_numpy(zero_copy_only=False), dtype=str), utc)
    if utc:
        arr = arr.cast(pa.timestamp("us"))
    return arr.to_numpy(zero_copy_only=False).astype("datetime64[us]")


def _classify(raw: pd.Series, s: pd.Series) -> Times:
    """Classify stripped text ``s`` (ISO 8601 dates, date-times with and without offsets) and
    parse each group with pandas."""
    n = len(s)
    valid = s.str.fullmatch(_ISO).to_numpy(dtype=bool, na_value=False)
    lengths = s.str.len().to_numpy(dtype=np.int64, na_value=0)
    date = valid & (lengths == 10)
    aware = valid & ~date & s.str.contains(_OFFSET_AT_END).to_numpy(dtype=bool, na_value=False)
    naive = valid & ~date & ~aware
    values = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    for mask, utc in ((date | naive, False), (aware, True)):
        if mask.any():
            values[mask] = _parse_pandas(s[mask], utc)
    bad = np.isnat(values)
    dt = (naive | aware) & ~bad
    sep = " " if dt.any() and str(s.iloc[first_true(dt)])[10] == " " else "T"
    fraction = bool(np.any(values[dt].astype(np.int64) % 1_000_000))
    return Times(values, bad, date & ~bad, aware & ~bad, naive & ~bad, raw, sep, fraction)


def _parse_pandas(texts: pd.Series, utc: bool) -> np.ndarray:
    parsed = pd.to_datetime(texts, format="ISO8601", errors="coerce", utc=utc)
    if utc:
        parsed = parsed.dt.tz_localize(None)
    return parsed.to_numpy(dtype="datetime64[us]")


def check_time_zones(
    times: Times,
    keep: np.ndarray,
    outcome_times: dict[str, Times],
    ev_src: Source,
    ac_src: Source | None,
) -> bool:
    """Raise unless the kept events, and the outcome dates, use one convention: date-times all
    with a UTC offset or all without. Returns whether the events' date-times have offsets."""
    aware_rows = times.aware & keep
    naive_rows = times.naive & keep
    if aware_rows.any() and naive_rows.any():
        i, j = first_true(aware_rows), first_true(naive_rows)
        raise DataError(
            f"{ev_src.name}: timestamps mix date-times with and without a UTC offset: "
            f"{ev_src.where(i)} has '{times.text_at(i)}', {ev_src.where(j)} has "
            f"'{times.text_at(j)}'; "
            "give every date-time an offset, or none"
        )
    events_aware = bool(aware_rows.any())
    for c, t in outcome_times.items():
        other = t.naive if events_aware else t.aware
        if other.any() and (aware_rows.any() or naive_rows.any()):
            i = first_true(other)
            assert ac_src is not None
            raise DataError(
                ac_src.at(
                    i,
                    f"{c} '{t.text[i]}' is a date-time {'without' if events_aware else 'with'} a "
                    f"UTC offset, but the timestamps in {ev_src.name} are "
                    f"{'with' if events_aware else 'without'}; use one convention",
                )
            )
    aware_cols = [(c, t) for c, t in outcome_times.items() if t.aware.any()]
    naive_cols = [(c, t) for c, t in outcome_times.items() if t.naive.any()]
    if aware_cols and naive_cols:  # outcome dates disagree among themselves
        (ca, ta), (cn, tn) = aware_cols[0], naive_cols[0]
        i, j = first_true(ta.aware), first_true(tn.naive)
        assert ac_src is not None
        raise DataError(
            f"{ac_src.name}: outcome dates mix date-times with and without a UTC offset: "
            f"{ca} on {ac_src.where(i)} is '{ta.text[i]}', {cn} on {ac_src.where(j)} is "
            f"'{tn.text[j]}'; give every date-time an offset, or none"
        )
    return events_aware


@dataclass(frozen=True)
class TimeFrame:
    """Where a real log's days start (``origin``, midnight of its first kept event's day) and
    how its timestamps are written back (``time_format``, strftime ``pattern``)."""

    origin: pd.Timestamp
    origin64: np.datetime64
    time_format: Literal["date", "datetime"]
    pattern: str

    def days(self, values: np.ndarray) -> np.ndarray:
        """datetime64 values → float days since the origin (NaN where NaT)."""
        ints = values.astype("datetime64[us]", copy=False).view(np.int64)
        origin = self.origin64.astype(np.int64)
        out = np.empty(len(ints), dtype=np.float64)
        for at in range(0, len(ints), CHUNK):  # small temporaries: less fresh memory
            part = slice(at, at + CHUNK)
            out[part] = (ints[part] - origin) / US_PER_DAY
        out[np.isnat(values)] = np.nan
        return out

    def days_at(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``days(values)[rows]``, gathered and converted a block at a time: one full-size
        array (the result) instead of two."""
        ints = values.astype("datetime64[us]", copy=False).view(np.int64)
        origin = self.origin64.astype(np.int64)
        nat = np.iinfo(np.int64).min
        out = np.empty(len(rows), dtype=np.float64)
        for at in range(0, len(rows), CHUNK):
            part = slice(at, at + CHUNK)
            picked = ints[rows[part]]
            out[part] = (picked - origin) / US_PER_DAY
            out[part][picked == nat] = np.nan
        return out


def time_frame(
    times: Times, keep: np.ndarray, outcome_times: dict[str, Times], events_aware: bool
) -> TimeFrame:
    """The time frame of the kept events (see the module doc); the origin is in UTC when the
    events or the outcome dates had offsets."""
    kept = times.values if keep.all() else times.values[keep]  # no copy when all are kept
    origin64 = kept.min().astype("datetime64[D]").astype("datetime64[us]")
    dated = keep & ~times.bad
    all_dates = bool(np.all(times.date[dated]))
    time_format: Literal["date", "datetime"] = "date" if all_dates else "datetime"
    if all_dates:
        pattern = "%Y-%m-%d"
    else:
        pattern = f"%Y-%m-%d{times.sep}%H:%M:%S" + (".%f" if times.fraction else "")
        if events_aware:
            pattern += "Z"
    outcomes_aware = any(t.aware.any() for t in outcome_times.values())
    origin = pd.Timestamp(origin64)
    if events_aware or outcomes_aware:
        origin = origin.tz_localize("UTC")
    return TimeFrame(origin, origin64, time_format, pattern)
