"""Import exports that do not use qualsim's column names: a mapping file renames columns, maps
activity names to the vocabulary, sets the time zone and the timestamp format, and says what to
do with duplicate rows. The files are streamed in chunks (bounded memory, whatever their size)
into the canonical CSV files ``qualsim evaluate`` / ``sim.logio.read_log`` read.

A mapping file (YAML; every key optional except the columns a file needs)::

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

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sim.config.chain import ConfigFile, validate_model
from sim.config.strict_yaml import did_you_mean, read_yaml_file
from sim.errors import DataError
from sim.real.read import ACCOUNT_OPTIONAL, CONTACT_OPTIONAL, EVENT_OPTIONAL, SUFFIXES
from sim.vocab import ACTIVITIES

CHUNK_ROWS = 200_000
TARGET = {
    "events": ("timestamp", "account_id", "contact_id", "activity", *EVENT_OPTIONAL),
    "contacts": ("contact_id", "account_id", "title", *CONTACT_OPTIONAL),
    "accounts": ("account_id", *ACCOUNT_OPTIONAL),
}
REQUIRED = {
    "events": ("timestamp", "account_id", "contact_id", "activity"),
    "contacts": ("contact_id", "account_id", "title"),
    "accounts": ("account_id",),
}
DATE_COLUMNS = {"events": ("timestamp",), "accounts": ("opportunity_date", "close_date")}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileMapping(_Strict):
    columns: dict[str, Annotated[str, Field(min_length=1)]] = {}
    timestamp_format: str | None = None  # this file's own format (default: the top-level one)
    activities: dict[str, str] = {}
    ignore_activities: list[str] = []
    duplicates: Literal["keep", "drop"] = "keep"

    @field_validator("activities")
    @classmethod
    def _vocab(cls, v: dict[str, str]) -> dict[str, str]:
        bad = {k: a for k, a in v.items() if a not in ACTIVITIES}
        if bad:
            k, a = next(iter(bad.items()))
            raise ValueError(
                f"{k!r} maps to {a!r}, not a qualsim activity{did_you_mean(a, ACTIVITIES)}; "
                f"expected one of {', '.join(ACTIVITIES)}"
            )
        return v


class Mapping(_Strict):
    timezone: str | None = None
    timestamp_format: str | None = None
    events: FileMapping = FileMapping()
    contacts: FileMapping = FileMapping()
    accounts: FileMapping = FileMapping()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            pd.Timestamp("2024-01-01").tz_localize(v)
        except Exception:
            raise ValueError(
                f"unknown time zone {v!r} (expected e.g. Europe/Berlin, UTC)"
            ) from None
        return v

    @field_validator("events", "contacts", "accounts")
    @classmethod
    def _targets(cls, v: FileMapping, info) -> FileMapping:
        allowed = TARGET[info.field_name]
        bad = [k for k in v.columns if k not in allowed]
        if bad:
            raise ValueError(
                f"columns: {bad[0]!r} is not a qualsim {info.field_name} column"
                f"{did_you_mean(bad[0], allowed)}; expected some of {', '.join(allowed)}"
            )
        return v


def load_mapping(path: str | Path | None) -> Mapping:
    """Read and validate a mapping file (no file: the identity mapping)."""
    if path is None:
        return Mapping()
    data, lines = read_yaml_file(path)
    return validate_model(Mapping, data or {}, [ConfigFile(Path(path), data, lines)], "mapping")


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
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:
            raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
        for batch in pf.iter_batches(batch_size=CHUNK_ROWS):
            df = batch.to_pandas()
            yield df.astype({c: str for c in df.columns if df[c].dtype == object})
        return
    try:
        reader = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            chunksize=CHUNK_ROWS,
        )
        yield from reader
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty (expected a header line)") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: not a valid CSV file ({exc})") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text (undecodable byte at offset {exc.start})"
        ) from None


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
    keep = [c for c in out.columns if c in TARGET[role] and (c in taken or c not in renamed)]
    out = out.loc[:, ~out.columns.duplicated()][list(dict.fromkeys(keep))]
    missing = [c for c in REQUIRED[role] if c not in out.columns]
    if missing:
        raise DataError(
            f"{path}: no column for {', '.join(missing)} (the {role} file needs "
            f"{', '.join(REQUIRED[role])}); map them in the mapping file's {role}.columns, "
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


def convert_file(
    path: str | Path,
    role: str,
    out: str | Path,
    mapping: Mapping,
    skip_bad_rows: bool = False,
) -> FileSummary:
    """Stream one raw file through the mapping into a canonical CSV (see the module doc)."""
    path, out = Path(path), Path(out)
    fm: FileMapping = getattr(mapping, role)
    summary = FileSummary(str(path), str(out))
    seen: set[int] = set()
    known = set(ACTIVITIES)

    def reject(reason: str, first_line: int, value: str, n: int) -> None:
        if not skip_bad_rows:
            raise DataError(f"{path}, line {first_line}: {reason}: {value!r}")
        summary.rejected[reason] = summary.rejected.get(reason, 0) + n
        summary.first_rejected.setdefault(reason, f"line {first_line}: {value!r}")

    def gen() -> Iterator[pd.DataFrame]:
        line0 = 2  # the first data row of a CSV (no multi-line records assumed for messages)
        for raw in _chunks(path, role):
            n = len(raw)
            summary.rows_read += n
            df = _rename(raw, path, role, fm).reset_index(drop=True)
            keep = np.ones(n, dtype=bool)
            if role == "events":
                act = df["activity"].astype(str).str.strip()
                ignored = act.isin(fm.ignore_activities).to_numpy()
                summary.ignored += int(ignored.sum())
                keep &= ~ignored
                mapped = act.map(lambda a: fm.activities.get(a, a))
                unknown = keep & ~mapped.isin(known).to_numpy()
                if unknown.any():
                    i = int(np.flatnonzero(unknown)[0])
                    names = pd.Series(act[unknown]).value_counts()
                    for name, c in names.items():
                        summary.unmapped_activities[name] = summary.unmapped_activities.get(
                            name, 0
                        ) + int(c)
                    hint = did_you_mean(act[i], [*fm.activities, *ACTIVITIES])
                    reject(
                        "an activity neither mapped, ignored nor a qualsim activity"
                        + (hint if not skip_bad_rows else ""),
                        line0 + i,
                        act[i],
                        int(unknown.sum()),
                    )
                    keep &= ~unknown
                df["activity"] = mapped
            for col in DATE_COLUMNS.get(role, ()):
                if col in df.columns:
                    text, bad = _times(
                        df[col], mapping, fm.timestamp_format or mapping.timestamp_format
                    )
                    bad = bad & keep
                    if bad.any():
                        i = int(np.flatnonzero(bad)[0])
                        if role != "events":
                            raise DataError(
                                f"{path}, line {line0 + i}: {col}: cannot parse "
                                f"{df[col][i]!r}"
                                + (
                                    f" with {mapping.timestamp_format!r}"
                                    if mapping.timestamp_format
                                    else ""
                                )
                            )
                        reject("an unparseable timestamp", line0 + i, df[col][i], int(bad.sum()))
                        keep &= ~bad
                    df[col] = text
            if fm.duplicates == "drop":
                h = pd.util.hash_pandas_object(df, index=False).to_numpy()
                dup = np.zeros(n, dtype=bool)
                for i in np.flatnonzero(keep):
                    v = int(h[i])
                    if v in seen:
                        dup[i] = True
                    else:
                        seen.add(v)
                summary.duplicates_dropped += int(dup.sum())
                keep &= ~dup
            summary.rows_kept += int(keep.sum())
            line0 += n
            yield df[keep]

    _write(gen(), out)
    if summary.rows_read == 0:
        out.unlink(missing_ok=True)
        raise DataError(f"{path}: the {role} file has a header but no data rows")
    return summary


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
