"""Import exports that do not use qualsim's column names: a mapping file renames columns, maps
activity names to the vocabulary, sets the time zone and the timestamp format, and says what to
do with duplicate rows. The files are streamed in chunks (bounded memory, whatever their size)
into the canonical CSV files ``qualsim evaluate`` / :func:`sim.real.read_log` read.

A mapping file (YAML, :mod:`sim.real.mapping`; every key optional except the columns a file needs)::

    timezone: America/New_York       # naive timestamps are local time there; written as UTC
                                     # (repeated autumn hour: first occurrence; skipped spring
                                     # hour: moved forward)
    timestamp_format: "%m/%d/%Y %I:%M %p"   # strptime pattern; default: ISO 8601
    events:
      columns: {timestamp: Activity Date, account_id: Account Name, contact_id: Email,
                activity: Activity Type, channel: Channel}
      activities:                    # export name -> qualsim activity
        Visit Webpage: web_visit
        Fill Out Form: content_download
        Open Email: email_open
        Click Email: email_click
      ignore_activities: [Change Score, Sync Lead to CRM]   # system events, not touches
      duplicates: drop               # identical rows: keep (default, repeated touches) or drop
    contacts:
      columns: {contact_id: Email, account_id: Company, title: Job Title}
    accounts:
      columns: {account_id: Company, opportunity_date: Opportunity Created,
                close_date: Close Date, won: Is Won, value: Amount}

Every row is accounted for in the :class:`ImportSummary`: rows read, kept, ignored (listed
system activities), dropped duplicates, and rejected per reason with the first raw line of
each. Activity names neither mapped, ignored nor in the vocabulary, and timestamps that do not
parse, stop the import with the file, line and value (``skip_bad_rows`` counts and drops them
instead).
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.config.strict_yaml import did_you_mean
from sim.errors import DataError
from sim.real.inputs import DATE_COLUMNS, INPUT_COLUMNS, INPUT_FILES, SUFFIXES
from sim.real.mapping import FileMapping, Mapping, load_mapping
from sim.real.opportunities_file import check_chunk
from sim.real.sources import TEXT_CSV, csv_errors
from sim.vocab import ACTIVITIES

__all__ = ["CHUNK_ROWS", "FileSummary", "ImportSummary", "convert_file", "import_files"]

CHUNK_ROWS = 200_000


@dataclass
class FileSummary:
    """What happened to the rows of one raw file."""

    path: str
    out: str
    rows_read: int = 0
    rows_kept: int = 0
    ignored: int = 0
    duplicates_dropped: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    first_rejected: dict[str, str] = field(default_factory=dict)
    unmapped_activities: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [
            f"{self.path}: {self.rows_read:,} rows read, {self.rows_kept:,} kept -> {self.out}"
        ]
        if self.ignored:
            lines.append(f"  ignored {self.ignored:,} rows of listed system activities")
        if self.duplicates_dropped:
            lines.append(f"  dropped {self.duplicates_dropped:,} duplicate rows")
        for reason, n in self.rejected.items():
            lines.append(f"  rejected {n:,} rows: {reason} (first: {self.first_rejected[reason]})")
        return "\n".join(lines)


@dataclass
class ImportSummary:
    files: list[FileSummary]
    contacts_without_account: int | None = None
    accounts_without_outcomes: int | None = None

    def __str__(self) -> str:
        lines = [str(f) for f in self.files]
        if self.contacts_without_account is not None:
            lines.append(
                f"{self.contacts_without_account:,} contacts whose account is not in the "
                "accounts file"
            )
        if self.accounts_without_outcomes is not None:
            lines.append(f"{self.accounts_without_outcomes:,} accounts without an opportunity")
        return "\n".join(lines)

    def check(self) -> None:
        """Every row is accounted for."""
        for f in self.files:
            total = f.rows_kept + f.ignored + f.duplicates_dropped + sum(f.rejected.values())
            assert total == f.rows_read, (f.path, total, f.rows_read)


def _chunks(path: Path, role: str) -> Iterator[pd.DataFrame]:
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
        for batch in pf.iter_batches(batch_size=CHUNK_ROWS):
            df = batch.to_pandas()
            yield df.astype({c: str for c in df.columns if df[c].dtype == object})
        return
    with csv_errors(str(path), "expected a header line"):
        yield from pd.read_csv(path, **TEXT_CSV, chunksize=CHUNK_ROWS)


def _rename(df: pd.DataFrame, path: Path, role: str, fm: FileMapping) -> pd.DataFrame:
    df.columns = [str(c).strip() for c in df.columns]
    found = list(df.columns)
    missing_src = [src for src in fm.columns.values() if src not in found]
    if missing_src:
        src = missing_src[0]
        raise DataError(
            f"{path}: the mapping names column {src!r}, which the {role} file does not have"
            f"{did_you_mean(src, found)}; columns found: {', '.join(found)}"
        )
    renamed = {src: ours for ours, src in fm.columns.items()}
    taken = set(renamed.values())
    out = df.rename(columns=renamed)
    keep = [c for c in out.columns if c in INPUT_COLUMNS[role] and (c in taken or c not in renamed)]
    out = out.loc[:, ~out.columns.duplicated()][list(dict.fromkeys(keep))]
    missing = [c for c in INPUT_FILES[role][0] if c not in out.columns]
    if missing:
        raise DataError(
            f"{path}: no column for {', '.join(missing)} (the {role} file needs "
            f"{', '.join(INPUT_FILES[role][0])}); map them in the mapping file's {role}.columns, "
            f"columns found: {', '.join(found)}"
        )
    return out


def _times(col: pd.Series, mapping: Mapping, fmt: str | None) -> tuple[pd.Series, np.ndarray]:
    """Text timestamps → ISO text (UTC with a Z when a time zone is set or given); bad rows.
    Plain ISO dates (2024-03-01: no clock) stay dates, never shifted by a time zone."""
    s = col.astype(str).str.strip()
    empty = s == ""
    if fmt is None and mapping.timezone is None:
        return s, np.zeros(len(s), dtype=bool)  # read_log parses (and reports) ISO text
    plain = s.str.fullmatch(r"\d{4}-\d{2}-\d{2}").to_numpy(dtype=bool)
    if plain.all():
        return s, np.zeros(len(s), dtype=bool)
    parsed = pd.to_datetime(
        s.where(~empty & ~plain), format=fmt or "ISO8601", errors="coerce", utc=False
    )
    if getattr(parsed.dtype, "tz", None) is None and mapping.timezone:
        # the repeated hour when clocks go back is taken as its first occurrence (DST); a
        # time in the skipped hour when they go forward is moved forward to valid time
        first = np.ones(len(parsed), dtype=bool)
        parsed = parsed.dt.tz_localize(
            mapping.timezone, ambiguous=first, nonexistent="shift_forward"
        )
    bad = (parsed.isna() & ~empty).to_numpy() & ~plain
    if getattr(parsed.dtype, "tz", None) is not None:
        text = parsed.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        text = parsed.dt.strftime("%Y-%m-%d %H:%M:%S")
    text = text.where(~parsed.isna(), "")
    return text.where(~plain, s), bad


def _write(chunks: Iterator[pd.DataFrame], out: Path) -> None:
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    first = True
    try:
        for df in chunks:
            df.to_csv(tmp, mode="w" if first else "a", header=first, index=False)
            first = False
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


class _Converter:
    """One raw file streamed through the mapping, chunk by chunk, into canonical rows; every
    row counted in ``summary``."""

    def __init__(self, path: Path, role: str, out: Path, mapping: Mapping, skip_bad_rows: bool):
        self.path, self.role, self.mapping = path, role, mapping
        self.file: FileMapping = getattr(mapping, role, FileMapping())
        self.skip_bad_rows = skip_bad_rows
        self.summary = FileSummary(str(path), str(out))
        self.seen: set[int] = set()  # row hashes, when duplicates are dropped
        self.ids: dict[str, str] = {}  # accounts / opportunities: the ids seen, where

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The kept rows of each chunk, renamed and converted."""
        line0 = 2  # the first data row of a CSV (no multi-line records assumed for messages)
        for raw in _chunks(self.path, self.role):
            n = len(raw)
            self.summary.rows_read += n
            df = _rename(raw, self.path, self.role, self.file).reset_index(drop=True)
            keep = np.ones(n, dtype=bool)
            if self.role == "events":
                keep = self._activities(df, keep, line0)
            for col in DATE_COLUMNS.get(self.role, ()):
                if col in df.columns:
                    keep = self._dates(df, col, keep, line0)
            if self.file.duplicates == "drop":
                keep = self._drop_duplicates(df, keep)
            lines = line0 + np.flatnonzero(keep)
            check_chunk(df[keep], self.role, str(self.path), lines, self.ids)
            self.summary.rows_kept += int(keep.sum())
            line0 += n
            yield df[keep]

    def _reject(self, reason: str, first_line: int, value: str, n: int) -> None:
        if not self.skip_bad_rows:
            raise DataError(f"{self.path}, line {first_line}: {reason}: {value!r}")
        self.summary.rejected[reason] = self.summary.rejected.get(reason, 0) + n
        self.summary.first_rejected.setdefault(reason, f"line {first_line}: {value!r}")

    def _activities(self, df: pd.DataFrame, keep: np.ndarray, line0: int) -> np.ndarray:
        """Drop the listed system activities, map the others to the vocabulary; reject the
        names neither mapped, ignored nor in the vocabulary."""
        fm, summary = self.file, self.summary
        act = df["activity"].astype(str).str.strip()
        ignored = act.isin(fm.ignore_activities).to_numpy()
        summary.ignored += int(ignored.sum())
        keep = keep & ~ignored
        mapped = act.map(lambda a: fm.activities.get(a, a))
        unknown = keep & ~mapped.isin(set(ACTIVITIES)).to_numpy()
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            unmapped = summary.unmapped_activities
            for name, c in pd.Series(act[unknown]).value_counts().items():
                unmapped[name] = unmapped.get(name, 0) + int(c)
            hint = did_you_mean(act[i], [*fm.activities, *ACTIVITIES])
            self._reject(
                "an activity neither mapped, ignored nor a qualsim activity"
                + (hint if not self.skip_bad_rows else ""),
                line0 + i,
                act[i],
                int(unknown.sum()),
            )
            keep = keep & ~unknown
        df["activity"] = mapped
        return keep

    def _dates(self, df: pd.DataFrame, col: str, keep: np.ndarray, line0: int) -> np.ndarray:
        """Convert a date column; an unparseable date stops the import (events: a rejected
        row)."""
        mapping = self.mapping
        text, bad = _times(df[col], mapping, self.file.timestamp_format or mapping.timestamp_format)
        bad = bad & keep
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            if self.role != "events":
                raise DataError(
                    f"{self.path}, line {line0 + i}: {col}: cannot parse {df[col][i]!r}"
                    + (f" with {mapping.timestamp_format!r}" if mapping.timestamp_format else "")
                )
            self._reject("an unparseable timestamp", line0 + i, df[col][i], int(bad.sum()))
            keep = keep & ~bad
        df[col] = text
        return keep

    def _drop_duplicates(self, df: pd.DataFrame, keep: np.ndarray) -> np.ndarray:
        """Drop kept rows identical to a row seen before (in this chunk or an earlier one)."""
        h = pd.util.hash_pandas_object(df, index=False).to_numpy()
        dup = np.zeros(len(df), dtype=bool)
        for i in np.flatnonzero(keep):
            v = int(h[i])
            if v in self.seen:
                dup[i] = True
            else:
                self.seen.add(v)
        self.summary.duplicates_dropped += int(dup.sum())
        return keep & ~dup


def convert_file(
    path: str | Path,
    role: str,
    out: str | Path,
    mapping: Mapping,
    skip_bad_rows: bool = False,
) -> FileSummary:
    """Stream one raw file through the mapping into a canonical CSV (see the module doc)."""
    path, out = Path(path), Path(out)
    converter = _Converter(path, role, out, mapping, skip_bad_rows)
    _write(converter.chunks(), out)
    if converter.summary.rows_read == 0:
        out.unlink(missing_ok=True)
        raise DataError(f"{path}: the {role} file has a header but no data rows")
    return converter.summary


def _no_partial_output(fn: Callable[..., ImportSummary]) -> Callable[..., ImportSummary]:
    """On any error, remove the files the import wrote under ``out`` (new or overwritten ones)
    and ``out`` itself if it made it: a failed import leaves no half-written or empty folder."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs) -> ImportSummary:
        out = Path(inspect.signature(fn).bind(*args, **kwargs).arguments["out"])
        existed = out.is_dir()
        before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()} if existed else {}
        try:
            return fn(*args, **kwargs)
        except BaseException:
            if out.is_dir():
                for p in out.iterdir():
                    if p.is_file() and before.get(p.name) != p.stat().st_mtime_ns:
                        p.unlink(missing_ok=True)
                if not existed and not any(out.iterdir()):
                    out.rmdir()
            raise

    return wrapper


@_no_partial_output
def import_files(
    events: str | Path,
    contacts: str | Path,
    accounts: str | Path | None,
    out: str | Path,
    mapping: Mapping | str | Path | None = None,
    skip_bad_rows: bool = False,
) -> ImportSummary:
    """Convert a team's raw exports into canonical files under ``out`` (events.csv,
    contacts.csv, accounts.csv) with a summary; memory stays bounded by the chunk size (plus the
    set of row hashes when duplicates are dropped, and the contacts' and accounts' ids)."""
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = [
        convert_file(events, "events", out / "events.csv", m, skip_bad_rows),
        convert_file(contacts, "contacts", out / "contacts.csv", m, skip_bad_rows),
    ]
    summary = ImportSummary(files)
    if accounts is not None:
        files.append(convert_file(accounts, "accounts", out / "accounts.csv", m, skip_bad_rows))
        acc = pd.read_csv(out / "accounts.csv", dtype=str, keep_default_na=False)
        ids = set(acc["account_id"].str.strip())
        con = pd.read_csv(
            out / "contacts.csv", dtype=str, keep_default_na=False, usecols=["account_id"]
        )
        summary.contacts_without_account = int((~con["account_id"].str.strip().isin(ids)).sum())
        if "opportunity_date" in acc.columns:
            summary.accounts_without_outcomes = int(
                (acc["opportunity_date"].str.strip() == "").sum()
            )
    summary.check()
    return summary
