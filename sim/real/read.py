"""Reading a team's real exports (CSV or Parquet) into the same EventLog a simulated world gives.

``read_log(events, contacts, accounts=None)`` reads

- events: ``timestamp`` (ISO 8601 date or date-time), ``account_id``, ``contact_id`` (empty =
  anonymous), ``activity`` (a name from ``sim.vocab.ACTIVITIES``); optional ``channel``,
  ``campaign``;
- contacts: ``contact_id``, ``account_id``, ``title``; optional ``seniority``, ``department``,
  ``role``;
- accounts (optional): ``account_id``; optional ``tier``, ``icp_fit`` and the outcomes
  ``opportunity_date``, ``close_date``, ``won``, ``value`` (one opportunity per account);

and returns a ``RealLog``: the ``EventLog`` (ids replaced by dense int64 codes, times as float
days since ``origin``), the labels to turn codes back into the original ids, a way to turn days
back into timestamps in the input's format, the outcomes, and an ``ImportReport``.

The file type is chosen by suffix (``.csv``; ``.parquet`` or ``.pq``). CSV files are read as
UTF-8 text (a byte-order mark is fine) with every column as text: ids stay text, so ``007`` and
``7`` are different ids; values and column names are stripped of surrounding spaces. Parquet
columns may be typed (integer ids, timestamp or date columns, numbers, booleans).

Memory: every file is loaded whole into memory with pandas (ids as str), about 25 bytes per
byte of CSV; a file that would not fit in the memory available is refused with a clear message
before reading (``qualsim import``, in ``sim.importer``, converts exports of any size in
bounded memory; evaluating still needs the whole log).

Bad input is never dropped silently. Every message names the file, the line (CSV: 1-based line
in the file, header = line 1, first data row = line 2, blank lines and quoted line breaks
counted; Parquet: ``row N``, the first data row being row 1) and the offending value, and is
raised as ``sim.errors.DataError``. Event rows with an unparseable timestamp, an unknown
activity, a contact_id not in the contacts file, an account_id that contradicts the contacts
file, or no account at all (anonymous with an empty account_id) stop the import; with
``skip_bad_rows=True`` they are dropped and counted per reason (a row with several problems is
counted once, under the first of ``SKIP_REASONS``). Everything else (missing columns, empty
files, duplicate ids, bad contact or account rows, mixed time zones) always raises.

Decisions worth knowing:

- Time zones: a timestamp with an offset (``Z``, ``+02:00``, ``-0500``) is converted to UTC; one
  without is taken as it is; mixing date-times with and without an offset (in the events file,
  or between events and outcome dates) is an error. A plain date (``2024-03-01``) has no clock
  and means midnight on whatever clock the date-times use, so it mixes with either.
- ``origin`` is midnight (UTC when the input has offsets) of the day of the earliest kept
  event; times are float days since it (outcome dates may be negative).
- ``time_format`` is ``"date"`` when every valid timestamp in the events file is a plain date
  (or a Parquet date column), else ``"datetime"``; ``to_timestamps`` writes dates as
  ``YYYY-MM-DD`` and date-times with the input's separator (``T`` or space), with microseconds
  only if some input timestamp had a fraction of a second, and a ``Z`` suffix if the input had
  offsets. Typed Parquet timestamp columns count as date-times.
- An event with an empty account_id but a known contact takes the contact's account (counted in
  the report); an anonymous one with no account is a bad row (``missing_account``).
- ``contact_id`` ``-1`` is an id like any other: anonymous rows leave contact_id empty.
- Account codes follow first appearance in the accounts file, then the contacts file, then the
  events file; contact codes follow the contacts file. Accounts found only in contacts or
  events are added without tier/icp_fit (NaN). ``tier`` is float64 (NaN = unknown) and must be
  a whole number; ``icp_fit`` is float64 in [0, 1].
- Identical event rows are kept (real repeated touches) and counted in the report.
- Outcomes (see ``truth_from_outcomes``): ``won`` is a nullable boolean (NA where empty),
  ``close_date`` needs an ``opportunity_date`` and may not precede it.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from sim.config.strict_yaml import did_you_mean
from sim.errors import DataError
from sim.eventlog import EventLog
from sim.vocab import ACTIVITIES, NO_ROLE, ROLES, SENIORITIES

__all__ = [
    "SKIP_REASONS",
    "FileReport",
    "ImportReport",
    "OutcomeTruth",
    "RealLog",
    "outcome_metrics",
    "read_log",
    "truth_from_outcomes",
]

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
EVENT_COLUMNS = ("timestamp", "account_id", "contact_id", "activity")
EVENT_OPTIONAL = ("channel", "campaign")
CONTACT_COLUMNS = ("contact_id", "account_id", "title")
CONTACT_OPTIONAL = ("seniority", "department", "role")
ACCOUNT_COLUMNS = ("account_id",)
OUTCOME_COLUMNS = ("opportunity_date", "close_date", "won", "value")
ACCOUNT_OPTIONAL = ("tier", "icp_fit", *OUTCOME_COLUMNS)

# Why an event row may be dropped with skip_bad_rows, in the order a row is classified.
SKIP_REASONS = (
    "bad_time",
    "unknown_activity",
    "unknown_contact",
    "account_mismatch",
    "missing_account",
)
_REASON_TEXT = {
    "bad_time": "an unparseable timestamp",
    "unknown_activity": "an unknown activity",
    "unknown_contact": "a contact_id not in the contacts file",
    "account_mismatch": "an account_id that differs from the contact's account",
    "missing_account": "no account (anonymous, empty account_id)",
}

EPS_DAYS = 1e-9  # ~86 µs: times this close count as equal in the outcome rule
_US_PER_DAY = 86_400_000_000
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_ISO = (
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*(?:Z|[+-]\d{2}(?::?\d{2})?))?)?"
)
_OFFSET_AT_END = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_ISO_HINT = "expected an ISO 8601 date or date-time such as 2024-03-01 or 2024-03-01T14:30:00"


# --------------------------------------------------------------------------------------------
# Reports


def _n(n: int, word: str) -> str:
    """``_n(1, "row")`` → "1 row", ``_n(1200, "row")`` → "1,200 rows"."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True, eq=False)
class FileReport:
    """What happened to one input file. ``skipped`` counts dropped rows per reason (only the
    events file drops rows); ``first_skipped`` gives the first such row per reason, e.g.
    ``"line 17: 'web visit'"``; ``ignored_columns`` are columns qualsim does not use."""

    path: str
    rows_read: int
    rows_kept: int
    skipped: dict[str, int] = field(default_factory=dict)
    first_skipped: dict[str, str] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [f"{self.path}: {_n(self.rows_read, 'row')} read, {self.rows_kept:,} kept"]
        for reason, n in self.skipped.items():
            first = self.first_skipped.get(reason, "")
            lines.append(
                f"  skipped {_n(n, 'row')} with {_REASON_TEXT.get(reason, reason)}"
                + (f" (first: {first})" if first else "")
            )
        if self.ignored_columns:
            lines.append(f"  ignored columns: {', '.join(self.ignored_columns)}")
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class ImportReport:
    """Rows read / kept / skipped per file, and what was noticed on the way.

    ``contacts_without_account``: contacts whose account is not in the accounts file (None
    without one). ``accounts_added``: accounts known only from contacts or events.
    ``accounts_without_outcomes``: accounts of the log without an opportunity_date, added ones
    included (None when the accounts file has no outcome columns). ``accounts_filled``: events
    with an empty account_id that took their contact's account."""

    events: FileReport
    contacts: FileReport
    accounts: FileReport | None
    anonymous_events: int
    duplicate_events: int
    accounts_filled: int
    accounts_total: int
    accounts_added: int
    contacts_without_account: int | None
    accounts_without_outcomes: int | None
    warnings: tuple[str, ...] = ()

    @property
    def skipped(self) -> dict[str, int]:
        """Dropped event rows per reason."""
        return dict(self.events.skipped)

    def __str__(self) -> str:
        ev = self.events
        lines = [str(ev)]
        notes = [f"{self.anonymous_events:,} anonymous"]
        if self.duplicate_events:
            notes.append(f"{self.duplicate_events:,} identical repeats kept")
        if self.accounts_filled:
            notes.append(f"{self.accounts_filled:,} took their contact's account")
        lines[0] += f" ({', '.join(notes)})"
        lines.append(str(self.contacts))
        if self.accounts is not None:
            lines.append(str(self.accounts))
        parts = [_n(self.accounts_total, "account")]
        if self.accounts is not None and self.accounts_added:
            parts.append(f"{self.accounts_added:,} of them not in {self.accounts.path} (added)")
        if self.contacts_without_account:
            parts.append(
                f"{_n(self.contacts_without_account, 'contact')} whose account is not in it"
            )
        if self.accounts_without_outcomes is not None:
            parts.append(f"{self.accounts_without_outcomes:,} without an opportunity")
        lines.append("; ".join(parts))
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True, eq=False)
class RealLog:
    """A real export as an EventLog, with what is needed to speak the input's language again.

    ``outcomes`` has one row per account code (``account_id``) with ``opportunity_date`` and
    ``close_date`` (float days since ``origin``, NaN where empty), ``won`` (nullable boolean) and
    ``value`` (float); None when the accounts file has no ``opportunity_date`` column.
    ``time_pattern`` is the strftime pattern ``to_timestamps`` uses; ``outcome_time_format`` is
    ``"date"`` when every outcome date is a plain date (the truth rule then works by day).
    """

    log: EventLog
    origin: pd.Timestamp
    time_format: Literal["date", "datetime"]
    account_labels: np.ndarray
    contact_labels: np.ndarray
    outcomes: pd.DataFrame | None
    report: ImportReport
    time_pattern: str = "%Y-%m-%d"
    outcome_time_format: Literal["date", "datetime"] | None = None

    def to_timestamps(self, days) -> np.ndarray:
        """Float days since ``origin`` → timestamps as text in the input's format (object array;
        NaN → ""). Dates are the day the time falls on; date-times are rounded to the input's
        precision (whole seconds, or microseconds if the input had fractions)."""
        d = np.asarray(days, dtype=float)
        out = np.full(d.shape, "", dtype=object)
        ok = np.isfinite(d)
        if ok.any():
            us = np.round(d[ok] * _US_PER_DAY).astype(np.int64)
            base = self.origin.tz_localize(None) if self.origin.tz is not None else self.origin
            ts = pd.DatetimeIndex(np.datetime64(base, "us") + us.astype("timedelta64[us]"))
            if self.time_format == "date":
                ts = ts.floor("D")
            elif ".%f" not in self.time_pattern:
                ts = ts.round("s")
            out[ok] = np.asarray(ts.strftime(self.time_pattern), dtype=object)
        return out

    def label_accounts(self, codes) -> np.ndarray:
        """Account codes → the original account ids."""
        return self.account_labels[np.asarray(codes, dtype=np.int64)]

    def label_contacts(self, codes):
        """Contact codes → the original contact ids; −1 (anonymous) → empty: "" for text ids,
        <NA> (a pandas Int64 array, written empty to CSV) for integer ids."""
        c = np.asarray(codes, dtype=np.int64)
        known = c >= 0
        if self.contact_labels.dtype.kind in "iu":
            vals = np.zeros(c.shape, dtype=np.int64)
            vals[known] = self.contact_labels[c[known]]
            return pd.arrays.IntegerArray(vals, ~known)
        out = np.full(c.shape, "", dtype=object)
        out[known] = self.contact_labels[c[known]]
        return out


# --------------------------------------------------------------------------------------------
# Reading one file


# Loading a CSV export whole takes about this many bytes of memory per byte of file (measured:
# ~21x for a 13 MB events file: every id and name is a Python string).
MEMORY_PER_FILE_BYTE = 25


def available_memory() -> int | None:
    """Bytes of memory available to this process (Linux: MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def _check_memory(path: Path, role: str) -> None:
    """Refuse, with a clear message, a file too large to load into the memory available."""
    need = path.stat().st_size * MEMORY_PER_FILE_BYTE
    have = available_memory()
    if have is not None and need > have:
        raise DataError(
            f"{path}: the {role} file is {_size(path.stat().st_size)}; loading it needs "
            f"about {_size(need)} of memory and {_size(have)} are available. "
            "`qualsim import` converts an export of any size in bounded memory, but evaluating "
            "loads the whole log: split the history by period (or by account) and evaluate "
            "each part"
        )


class _Source:
    """One input file loaded whole (CSV: every column as text), and where its rows came from."""

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
        _check_memory(self.path, role)
        self.kind = kind
        self._line_cache: dict[int, int] = {}
        self.df = self._read(required)
        self.df.columns = [str(c).strip() for c in self.df.columns]
        found = list(self.df.columns)
        missing = [c for c in required if c not in found]
        if missing:
            named = ", ".join(f"'{c}'{did_you_mean(c, found)}" for c in missing)
            raise DataError(
                f"{self.name}: missing required column{'s' if len(missing) > 1 else ''} {named}; "
                f"the {role} file needs {', '.join(required)}"
                + (f" (optional: {', '.join(optional)})" if optional else "")
                + f"; columns found: {', '.join(found) if found else '(none)'}"
            )
        if len(self.df) == 0:
            raise DataError(f"{self.name}: the {role} file has a header but no data rows")
        known = set(required) | set(optional)
        self.ignored = tuple(c for c in found if c not in known)

    def _read(self, required: Sequence[str]) -> pd.DataFrame:
        if self.kind == "parquet":
            try:
                return pd.read_parquet(self.path)
            except Exception as exc:  # pyarrow raises many types for a bad file
                raise DataError(f"{self.name}: not a readable Parquet file ({exc})") from None
        try:
            return pd.read_csv(
                self.path,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding="utf-8-sig",
            )
        except pd.errors.EmptyDataError:
            raise DataError(
                f"{self.name}: the file is empty (expected a header line: {', '.join(required)})"
            ) from None
        except pd.errors.ParserError as exc:
            raise DataError(f"{self.name}: not a valid CSV file ({exc})") from None
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{self.name}: not UTF-8 text (undecodable byte at offset {exc.start})"
            ) from None

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


# --------------------------------------------------------------------------------------------
# Column conversions (text from CSV, or typed from Parquet)


def _text(col: pd.Series) -> np.ndarray:
    """The column as stripped text (object array); missing values become ""."""
    if isinstance(col.dtype, pd.StringDtype):
        return col.fillna("").str.strip().to_numpy(dtype=object)
    vals = col.astype(object).to_numpy()
    na = pd.isna(vals)
    return np.array(
        ["" if m else str(v).strip() for v, m in zip(vals, na, strict=True)], dtype=object
    )


def _ids(col: pd.Series) -> tuple[np.ndarray, bool]:
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
    return _text(col), False


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


@dataclass
class _Times:
    """Parsed timestamps: naive datetime64[us] (UTC when they had an offset), NaT where bad."""

    values: np.ndarray
    bad: np.ndarray
    date: np.ndarray  # a plain date (no clock)
    aware: np.ndarray  # a date-time that had an offset
    naive: np.ndarray  # a date-time without an offset
    text: np.ndarray  # what the file said, for messages
    sep: str = "T"
    fraction: bool = False


def _parse_times(col: pd.Series) -> _Times:
    n = len(col)
    if pd.api.types.is_datetime64_any_dtype(col):
        tz = getattr(col.dtype, "tz", None)
        s = col.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else col
        values = s.to_numpy(dtype="datetime64[us]")
        bad = np.isnat(values)
        text = col.astype(str).to_numpy(dtype=object)
        text[bad] = ""
        dt = ~bad
        return _Times(
            values,
            bad,
            np.zeros(n, bool),
            dt if tz is not None else np.zeros(n, bool),
            np.zeros(n, bool) if tz is not None else dt,
            text,
            "T",
            bool(np.any(values[dt].astype(np.int64) % 1_000_000)),
        )
    if col.dtype == object:  # Parquet date / datetime objects
        col = pd.Series(
            [v.isoformat() if hasattr(v, "isoformat") else v for v in col], index=col.index
        )
    text = _text(col)
    s = pd.Series(text, dtype=str)
    valid = s.str.fullmatch(_ISO).to_numpy(dtype=bool, na_value=False)
    date = valid & (s.str.len().to_numpy() == 10)
    aware = valid & ~date & s.str.contains(_OFFSET_AT_END).to_numpy(dtype=bool, na_value=False)
    naive = valid & ~date & ~aware
    values = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    for mask, utc in ((date | naive, False), (aware, True)):
        if mask.any():
            parsed = pd.to_datetime(s[mask], format="ISO8601", errors="coerce", utc=utc)
            if utc:
                parsed = parsed.dt.tz_localize(None)
            values[mask] = parsed.to_numpy(dtype="datetime64[us]")
    bad = np.isnat(values)
    dt = (naive | aware) & ~bad
    sep = " " if dt.any() and text[_first(dt)][10] == " " else "T"
    fraction = bool(np.any(values[dt].astype(np.int64) % 1_000_000))
    return _Times(values, bad, date & ~bad, aware & ~bad, naive & ~bad, text, sep, fraction)


def _numbers(src: _Source, column: str) -> np.ndarray:
    """A numeric column as float64 (NaN where empty); text that is not a number raises."""
    col = src.df[column]
    if pd.api.types.is_bool_dtype(col):
        raise DataError(f"{src.name}: column '{column}' holds booleans, expected numbers")
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float, na_value=np.nan)
    text = _text(col)
    vals = pd.to_numeric(pd.Series(text, dtype=object).replace("", np.nan), errors="coerce")
    out = vals.to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(out) & (text != "")
    if bad.any():
        i = _first(bad)
        raise DataError(src.at(i, f"{column} '{text[i]}' is not a number"))
    return out


def _booleans(src: _Source, column: str) -> pd.arrays.BooleanArray:
    col = src.df[column]
    if pd.api.types.is_bool_dtype(col):
        return pd.array(col, dtype="boolean")
    text = np.array([t.lower() for t in _text(col)], dtype=object)
    if pd.api.types.is_float_dtype(col):  # 1.0 / 0.0 from a numeric Parquet column
        text = np.array([t[:-2] if t.endswith(".0") else t for t in text], dtype=object)
    is_true = np.isin(text, list(_TRUE))
    is_false = np.isin(text, list(_FALSE))
    bad = ~(is_true | is_false) & (text != "")
    if bad.any():
        i = _first(bad)
        raise DataError(
            src.at(i, f"{column} '{_text(col)[i]}' is not a boolean (use true/false, 1/0, yes/no)")
        )
    return pd.arrays.BooleanArray(is_true, ~(is_true | is_false))


def _check_unique(src: _Source, keys: np.ndarray, column: str) -> None:
    dup = pd.Series(keys).duplicated().to_numpy()
    if dup.any():
        j = _first(dup)
        i = _first(keys == keys[j])
        raise DataError(
            src.at(
                j,
                f"duplicated {column} '{keys[j]}' (first on {src.where(i)}); "
                f"each {column} must appear once",
            )
        )


def _check_not_empty(src: _Source, keys: np.ndarray, column: str, what: str) -> None:
    empty = keys == ""
    if empty.any():
        raise DataError(src.at(_first(empty), f"empty {column}: {what}"))


def _vocab_warning(src: _Source, values: np.ndarray, column: str, vocab: Sequence[str]) -> str:
    odd = (values != "") & ~np.isin(values, list(vocab))
    if not odd.any():
        return ""
    counts = pd.Series(values[odd]).value_counts()
    shown = ", ".join(f"'{v}' ×{n}" for v, n in counts.head(5).items())
    more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
    return (
        f"{src.name}: {_n(int(odd.sum()), 'contact')} with a {column} outside the vocabulary "
        f"({', '.join(vocab)}): {shown}{more}; policies filtering on {column} never match them"
    )


# --------------------------------------------------------------------------------------------
# read_log


def read_log(events, contacts, accounts=None, skip_bad_rows: bool = False) -> RealLog:
    """Read a team's events, contacts and (optionally) accounts export into a ``RealLog``.

    Raises ``DataError`` naming the file, line and value for anything that cannot be used (see
    the module docstring); with ``skip_bad_rows`` bad event rows are dropped and counted in
    ``report`` instead.
    """
    ev_src = _Source(events, "events", EVENT_COLUMNS, EVENT_OPTIONAL)
    co_src = _Source(contacts, "contacts", CONTACT_COLUMNS, CONTACT_OPTIONAL)
    ac_src = (
        _Source(accounts, "accounts", ACCOUNT_COLUMNS, ACCOUNT_OPTIONAL)
        if accounts is not None
        else None
    )
    warnings: list[str] = []

    # -- contacts ----------------------------------------------------------------------------
    c_keys, c_int = _ids(co_src.df["contact_id"])
    _check_not_empty(co_src, c_keys, "contact_id", "every contact needs an id")
    _check_unique(co_src, c_keys, "contact_id")
    c_acc, c_acc_int = _ids(co_src.df["account_id"])
    if (c_acc == "").any():
        i = _first(c_acc == "")
        raise DataError(co_src.at(i, f"empty account_id for contact '{c_keys[i]}'"))
    contact_index = pd.Index(c_keys)

    # -- accounts file -----------------------------------------------------------------------
    a_file_keys = np.array([], dtype=object)
    a_int_flags: list[bool] = [c_acc_int]
    attrs: dict[str, np.ndarray] = {}
    out_cols: dict[str, object] = {}
    out_times: dict[str, _Times] = {}
    if ac_src is not None:
        a_file_keys, a_int = _ids(ac_src.df["account_id"])
        a_int_flags.append(a_int)
        _check_not_empty(ac_src, a_file_keys, "account_id", "every account needs an id")
        _check_unique(ac_src, a_file_keys, "account_id")
        cols = set(ac_src.df.columns)
        if "tier" in cols:
            tier = _numbers(ac_src, "tier")
            frac = ~np.isnan(tier) & (np.mod(tier, 1) != 0)
            if frac.any():
                i = _first(frac)
                raise DataError(
                    ac_src.at(
                        i,
                        f"tier '{_text(ac_src.df['tier'])[i]}' is not a "
                        "whole number (1 = most strategic)",
                    )
                )
            attrs["tier"] = tier
        if "icp_fit" in cols:
            fit = _numbers(ac_src, "icp_fit")
            out = ~np.isnan(fit) & ((fit < 0) | (fit > 1))
            if out.any():
                i = _first(out)
                raise DataError(
                    ac_src.at(i, f"icp_fit '{_text(ac_src.df['icp_fit'])[i]}' is outside [0, 1]")
                )
            attrs["icp_fit"] = fit
        present = [c for c in OUTCOME_COLUMNS if c in cols]
        if present and "opportunity_date" not in cols:
            raise DataError(
                f"{ac_src.name}: outcome column{'s' if len(present) > 1 else ''} "
                f"{', '.join(present)} given without 'opportunity_date'"
                f"{did_you_mean('opportunity_date', list(ac_src.df.columns))}; outcomes need "
                "the date each account's opportunity was opened"
            )
        for c in ("opportunity_date", "close_date"):
            if c in cols:
                t = _parse_times(ac_src.df[c])
                bad = t.bad & (t.text != "")
                if bad.any():
                    i = _first(bad)
                    raise DataError(ac_src.at(i, f"unparseable {c} '{t.text[i]}' ({_ISO_HINT})"))
                out_times[c] = t
        if "opportunity_date" in out_times:
            opened = out_times["opportunity_date"].values
            if "close_date" in out_times:
                closed = out_times["close_date"].values
                orphan = np.isnat(opened) & ~np.isnat(closed)
                if orphan.any():
                    i = _first(orphan)
                    raise DataError(
                        ac_src.at(
                            i,
                            f"close_date '{out_times['close_date'].text[i]}'"
                            " without an opportunity_date",
                        )
                    )
                early = ~np.isnat(opened) & ~np.isnat(closed) & (closed < opened)
                if early.any():
                    i = _first(early)
                    raise DataError(
                        ac_src.at(
                            i,
                            f"close_date '{out_times['close_date'].text[i]}' is before "
                            f"opportunity_date '{out_times['opportunity_date'].text[i]}'",
                        )
                    )
            if "won" in cols:
                out_cols["won"] = _booleans(ac_src, "won")
            if "value" in cols:
                out_cols["value"] = _numbers(ac_src, "value")

    # -- events ------------------------------------------------------------------------------
    df = ev_src.df
    n = len(df)
    times = _parse_times(df["timestamp"])
    activity = _text(df["activity"])
    e_ckeys, _ = _ids(df["contact_id"])
    anon = e_ckeys == ""
    ccode = contact_index.get_indexer(e_ckeys).astype(np.int64)
    ccode[anon] = -1
    known = ccode >= 0
    e_akeys, e_a_int = _ids(df["account_id"])
    a_int_flags.append(e_a_int)
    contact_acc = np.full(n, "", dtype=object)
    contact_acc[known] = c_acc[ccode[known]]
    filled = known & (e_akeys == "")
    e_akeys = np.where(filled, contact_acc, e_akeys)
    problems = {
        "bad_time": times.bad,
        "unknown_activity": ~np.isin(activity, list(ACTIVITIES)),
        "unknown_contact": ~anon & ~known,
        "account_mismatch": known & (e_akeys != contact_acc),
        "missing_account": e_akeys == "",
    }
    reason = np.full(n, -1, dtype=np.int64)
    for k in range(len(SKIP_REASONS) - 1, -1, -1):
        reason[problems[SKIP_REASONS[k]]] = k
    bad = reason >= 0
    skipped: dict[str, int] = {}
    first_skipped: dict[str, str] = {}
    if bad.any():
        counts = np.bincount(reason[bad], minlength=len(SKIP_REASONS))
        firsts = {
            SKIP_REASONS[k]: _first(reason == k) for k in range(len(SKIP_REASONS)) if counts[k]
        }
        values = {
            "bad_time": times.text,
            "unknown_activity": activity,
            "unknown_contact": e_ckeys,
            "account_mismatch": e_akeys,
            "missing_account": e_akeys,
        }
        if not skip_bad_rows:
            i = _first(bad)
            r = SKIP_REASONS[reason[i]]
            text = _event_problem(
                r, i, times, activity, e_ckeys, e_akeys, contact_acc, ev_src, co_src, c_keys
            )
            summary = ", ".join(
                f"{counts[k]:,} with {_REASON_TEXT[SKIP_REASONS[k]]}"
                for k in range(len(SKIP_REASONS))
                if counts[k]
            )
            raise DataError(
                ev_src.at(i, text) + f". {_n(int(bad.sum()), 'bad row')} in all ({summary});"
                " with --skip-bad-rows (skip_bad_rows=True) they are dropped and counted"
            )
        if ev_src.kind == "csv":
            ev_src.lines(sorted(firsts.values()))
        for r, i in firsts.items():
            skipped[r] = int(counts[SKIP_REASONS.index(r)])
            first_skipped[r] = f"{ev_src.where(i)}: '{values[r][i]}'"
    keep = ~bad
    if not keep.any():
        raise DataError(
            f"{ev_src.name}: no usable events: all rows were skipped ("
            + ", ".join(f"{v:,} with {_REASON_TEXT[k]}" for k, v in skipped.items())
            + ")"
        )

    # -- time zones, origin, format ------------------------------------------------------------
    aware_rows = times.aware & keep
    naive_rows = times.naive & keep
    if aware_rows.any() and naive_rows.any():
        i, j = _first(aware_rows), _first(naive_rows)
        raise DataError(
            f"{ev_src.name}: timestamps mix date-times with and without a UTC offset: "
            f"{ev_src.where(i)} has '{times.text[i]}', {ev_src.where(j)} has '{times.text[j]}'; "
            "give every date-time an offset, or none"
        )
    events_aware = bool(aware_rows.any())
    for c, t in out_times.items():
        other = t.naive if events_aware else t.aware
        if other.any() and (aware_rows.any() or naive_rows.any()):
            i = _first(other)
            assert ac_src is not None
            raise DataError(
                ac_src.at(
                    i,
                    f"{c} '{t.text[i]}' is a date-time {'without' if events_aware else 'with'} a "
                    f"UTC offset, but the timestamps in {ev_src.name} are "
                    f"{'with' if events_aware else 'without'}; use one convention",
                )
            )
    aware_cols = [(c, t) for c, t in out_times.items() if t.aware.any()]
    naive_cols = [(c, t) for c, t in out_times.items() if t.naive.any()]
    if aware_cols and naive_cols:  # outcome dates disagree among themselves
        (ca, ta), (cn, tn) = aware_cols[0], naive_cols[0]
        i, j = _first(ta.aware), _first(tn.naive)
        assert ac_src is not None
        raise DataError(
            f"{ac_src.name}: outcome dates mix date-times with and without a UTC offset: "
            f"{ca} on {ac_src.where(i)} is '{ta.text[i]}', {cn} on {ac_src.where(j)} is "
            f"'{tn.text[j]}'; give every date-time an offset, or none"
        )
    kept_values = times.values[keep]
    origin64 = kept_values.min().astype("datetime64[D]").astype("datetime64[us]")
    dated = keep & ~times.bad
    all_dates = bool(np.all(times.date[dated]))
    time_format: Literal["date", "datetime"] = "date" if all_dates else "datetime"
    if all_dates:
        pattern = "%Y-%m-%d"
    else:
        pattern = f"%Y-%m-%d{times.sep}%H:%M:%S" + (".%f" if times.fraction else "")
        if events_aware:
            pattern += "Z"
    outcomes_aware = any(t.aware.any() for t in out_times.values())
    origin = pd.Timestamp(origin64)
    if events_aware or outcomes_aware:
        origin = origin.tz_localize("UTC")

    def days(values: np.ndarray) -> np.ndarray:
        out = np.full(values.shape, np.nan)
        ok = ~np.isnat(values)
        out[ok] = (values[ok] - origin64).astype("timedelta64[us]").astype(np.int64) / _US_PER_DAY
        return out

    # -- codes -------------------------------------------------------------------------------
    acc_keys = pd.unique(np.concatenate([a_file_keys, c_acc, e_akeys[keep]]).astype(object))
    acc_index = pd.Index(acc_keys)
    account_labels = _labels(acc_keys, all(a_int_flags))
    contact_labels = _labels(c_keys, c_int)

    # -- tables ------------------------------------------------------------------------------
    ev = pd.DataFrame(
        {
            "time": days(times.values[keep]),
            "account_id": acc_index.get_indexer(e_akeys[keep]).astype(np.int64),
            "contact_id": ccode[keep],
            "activity": pd.Categorical(activity[keep], categories=list(ACTIVITIES)),
        }
    )
    extra = [c for c in EVENT_OPTIONAL if c in df.columns]
    for c in extra:
        ev[c] = pd.Series(_text(df[c])[keep], dtype=str)
    ev = ev.sort_values(["account_id", "time"], kind="stable", ignore_index=True)

    co = pd.DataFrame(
        {
            "contact_id": np.arange(len(c_keys), dtype=np.int64),
            "account_id": acc_index.get_indexer(c_acc).astype(np.int64),
            "title": pd.Series(_text(co_src.df["title"]), dtype=str),
        }
    )
    for c in CONTACT_OPTIONAL:
        if c in co_src.df.columns:
            vals = _text(co_src.df[c])
            co[c] = pd.Series(vals, dtype=str)
            vocab = {"seniority": SENIORITIES, "role": (*ROLES, NO_ROLE)}.get(c)
            if vocab is not None and (w := _vocab_warning(co_src, vals, c, vocab)):
                warnings.append(w)

    n_acc = len(acc_keys)
    file_pos = acc_index.get_indexer(a_file_keys) if len(a_file_keys) else np.array([], int)
    ac = pd.DataFrame({"account_id": np.arange(n_acc, dtype=np.int64)})
    for c, vals in attrs.items():
        col = np.full(n_acc, np.nan)
        col[file_pos] = vals
        ac[c] = col

    outcomes = None
    outcome_format: Literal["date", "datetime"] | None = None
    if "opportunity_date" in out_times:
        outcomes = pd.DataFrame({"account_id": np.arange(n_acc, dtype=np.int64)})
        dated_any = False
        all_plain = True
        for c in ("opportunity_date", "close_date"):
            col = np.full(n_acc, np.nan)
            if c in out_times:
                t = out_times[c]
                col[file_pos] = days(t.values)
                dated_any |= bool((~t.bad).any())
                all_plain &= bool(np.all(t.date[~t.bad]))
            outcomes[c] = col
        won = pd.array(np.zeros(n_acc, dtype=bool), dtype="boolean")
        won[:] = pd.NA
        if "won" in out_cols:
            won[file_pos] = out_cols["won"]
        outcomes["won"] = won
        value = np.full(n_acc, np.nan)
        if "value" in out_cols:
            value[file_pos] = out_cols["value"]
        outcomes["value"] = value
        outcome_format = "date" if (dated_any and all_plain) else "datetime"

    # -- report ------------------------------------------------------------------------------
    dup_frame = pd.DataFrame(
        {
            "t": times.text[keep],
            "a": e_akeys[keep],
            "c": e_ckeys[keep],
            "x": activity[keep],
            **{c: _text(df[c])[keep] for c in extra},
        }
    )
    in_file = np.isin(c_acc, a_file_keys) if ac_src is not None else None
    report = ImportReport(
        events=FileReport(ev_src.name, n, int(keep.sum()), skipped, first_skipped, ev_src.ignored),
        contacts=FileReport(co_src.name, len(c_keys), len(c_keys), ignored_columns=co_src.ignored),
        accounts=(
            FileReport(
                ac_src.name, len(a_file_keys), len(a_file_keys), ignored_columns=ac_src.ignored
            )
            if ac_src is not None
            else None
        ),
        anonymous_events=int((anon & keep).sum()),
        duplicate_events=int(dup_frame.duplicated().sum()),
        accounts_filled=int((filled & keep).sum()),
        accounts_total=n_acc,
        accounts_added=n_acc - len(a_file_keys),
        contacts_without_account=(int((~in_file).sum()) if in_file is not None else None),
        accounts_without_outcomes=(
            int(np.isnan(outcomes["opportunity_date"].to_numpy()).sum())
            if outcomes is not None
            else None
        ),
        warnings=tuple(warnings),
    )
    return RealLog(
        log=EventLog(ev, co, ac),
        origin=origin,
        time_format=time_format,
        account_labels=account_labels,
        contact_labels=contact_labels,
        outcomes=outcomes,
        report=report,
        time_pattern=pattern,
        outcome_time_format=outcome_format,
    )


def _labels(keys: np.ndarray, as_int: bool) -> np.ndarray:
    keys = np.asarray(keys, dtype=object)
    if as_int:
        return keys.astype(np.int64)
    return keys


def _event_problem(
    reason: str,
    i: int,
    times: _Times,
    activity: np.ndarray,
    ckeys: np.ndarray,
    akeys: np.ndarray,
    contact_acc: np.ndarray,
    ev_src: _Source,
    co_src: _Source,
    c_keys: np.ndarray,
) -> str:
    """The message for bad event row ``i`` (without file and line)."""
    if reason == "bad_time":
        v = times.text[i]
        return f"unparseable timestamp '{v}' ({_ISO_HINT})" if v else "empty timestamp"
    if reason == "unknown_activity":
        v = activity[i]
        head = f"unknown activity '{v}'{did_you_mean(v, ACTIVITIES)}" if v else "empty activity"
        return f"{head}; expected one of: {', '.join(ACTIVITIES)}"
    if reason == "unknown_contact":
        v = ckeys[i]
        hint = ""
        if v.endswith(".0") and v[:-2] in set(c_keys):
            hint = f" (it looks like '{v[:-2]}' written as a decimal; ids are compared as text)"
        elif v == "-1":
            hint = " (anonymous touches leave contact_id empty)"
        return f"contact_id '{v}' is not in {co_src.name}{hint}"
    if reason == "account_mismatch":
        return (
            f"account_id '{akeys[i]}' differs from the account of contact '{ckeys[i]}' in "
            f"{co_src.name} ('{contact_acc[i]}')"
        )
    return "empty account_id on an anonymous row (contact_id empty): its account is unknown"


# --------------------------------------------------------------------------------------------
# Outcomes: which handoffs were true, and how a policy did


@dataclass(frozen=True, eq=False)
class OutcomeTruth:
    """Whether a handoff of account ``a`` at time ``t`` (days since origin) was true.

    A handoff at t is true when the account's opportunity was opened in [t, t + horizon] (both
    ends included) or was open at t: opened before t and closed strictly after t or not closed.
    An opportunity closed exactly at t is no longer open at t (the handoff came too late), unless
    it was also opened at t. Comparisons allow ``EPS_DAYS`` (≈86 µs) so that times that are
    equal in the files compare equal after the float conversion.

    When every outcome date is a plain date (``by_day``), t is first taken to its day (midnight),
    since a dated opportunity has no time of day: an opportunity dated the day of a 14:00
    handoff counts as opened at the handoff, and one dated 90 days after that day as within.
    """

    opened: np.ndarray  # by account code; NaN = no opportunity
    closed: np.ndarray  # NaN = not closed
    horizon_days: float = 90.0
    by_day: bool = False

    @property
    def has_opportunity(self) -> np.ndarray:
        return ~np.isnan(self.opened)

    def __call__(self, account, t):
        a = np.asarray(account, dtype=np.int64)
        tt = np.asarray(t, dtype=float)
        if a.size and (a.min() < 0 or a.max() >= self.opened.size):
            raise ValueError(f"account code out of range 0..{self.opened.size - 1}")
        if self.by_day:
            tt = np.floor(tt + EPS_DAYS)
        o = self.opened[a]
        c = self.closed[a]
        with np.errstate(invalid="ignore"):
            opened_in = (o >= tt - EPS_DAYS) & (o <= tt + self.horizon_days + EPS_DAYS)
            open_at = (o < tt) & ~(c <= tt + EPS_DAYS)
        out = opened_in | open_at
        return bool(out) if out.ndim == 0 else out


def truth_from_outcomes(real: RealLog, horizon_days: float = 90) -> OutcomeTruth:
    """The handoff truth rule over ``real``'s outcomes (see ``OutcomeTruth``)."""
    if real.outcomes is None:
        acc = real.report.accounts
        raise DataError(
            (f"{acc.path}: " if acc is not None else "")
            + "no outcomes: the accounts file needs an opportunity_date column "
            "(and optionally close_date, won, value) to score handoffs"
        )
    if not horizon_days >= 0:
        raise ValueError(f"horizon_days must be >= 0, got {horizon_days}")
    o = real.outcomes.sort_values("account_id")
    return OutcomeTruth(
        o["opportunity_date"].to_numpy(dtype=float),
        o["close_date"].to_numpy(dtype=float),
        float(horizon_days),
        real.outcome_time_format == "date",
    )


METRIC_COLUMNS = (
    "policy",
    "handoffs",
    "true_handoffs",
    "precision",
    "accounts_with_opportunity",
    "recalled",
    "recall",
)


def outcome_metrics(
    qualifications: pd.DataFrame,
    real: RealLog,
    horizon_days: float = 90,
    policies: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per policy: handoffs, true_handoffs, precision (true / handoffs), accounts_with_opportunity,
    recalled (accounts with an opportunity that got a true handoff), recall (recalled /
    accounts_with_opportunity). NaN where a denominator is 0.

    ``qualifications`` has columns policy, account_id (codes, as evaluated on ``real.log``) and
    time (days). ``policies`` lists policies to report even without handoffs (and fixes the row
    order); by default the policies in ``qualifications``, in order of appearance.
    """
    missing = [c for c in ("policy", "account_id", "time") if c not in qualifications.columns]
    if missing:
        raise ValueError(f"qualifications lack column(s) {', '.join(missing)}")
    truth = truth_from_outcomes(real, horizon_days)
    pol = qualifications["policy"].astype(str).to_numpy()
    acc = qualifications["account_id"].to_numpy(dtype=np.int64)
    ok = np.asarray(truth(acc, qualifications["time"].to_numpy(dtype=float)), dtype=bool)
    names = list(policies) if policies is not None else []
    names += [p for p in pd.unique(pol) if p not in names]
    n_opp = int(truth.has_opportunity.sum())
    rows = []
    for name in names:
        sel = pol == name
        h = int(sel.sum())
        th = int((sel & ok).sum())
        rec = int(np.unique(acc[sel & ok]).size)
        rows.append(
            {
                "policy": name,
                "handoffs": h,
                "true_handoffs": th,
                "precision": th / h if h else np.nan,
                "accounts_with_opportunity": n_opp,
                "recalled": rec,
                "recall": rec / n_opp if n_opp else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
