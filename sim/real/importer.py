"""Import exports that do not use qualsim's column names: a mapping file renames columns
(one export column may feed several), translates values, filters rows, sets constants, cuts
numbers into bins, maps activity names to the vocabulary, sets the time zone and the timestamp
format, and says what to do with duplicate rows. The files are streamed in chunks (bounded
memory, whatever their size) into the canonical CSV files ``qualsim evaluate`` /
:func:`sim.real.read_log` read.

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
      ignore_activities: [Change Score, Sync Lead to CRM]   # system events, not touches
      duplicates: drop               # identical rows: keep (default, repeated touches) or drop
    contacts:
      columns: {contact_id: Email, account_id: Company, title: Job Title}   # title optional
    accounts:
      columns: {account_id: Company, tier: Segment}
      values: {tier: {Enterprise: 1, Mid-Market: 2, SMB: 3}}    # export value -> qualsim value
      bins:                          # [0, 200) -> 0.3, [200, 1000) -> 0.6, >= 1000 -> 1.0
        icp_fit: {column: Employees, edges: [0, 200, 1000], labels: [0.3, 0.6, 1.0]}
    opportunities:
      columns: {opportunity_id: Deal ID, account_id: Company, created: Created,
                closed: Closed, status: Stage, amount: Amount}
      filters: [{column: Pipeline, in: [New Business, Expansion]}]   # or equals / not_in
      values: {status: {Won: won, Lost: lost, Open: open}}
      unmapped_values: error         # or keep / empty; or per column: {status: error}
      constants: {type: new_business}

Order per chunk: filters (on the export's columns, before renaming), then columns, constants,
activities, value maps, bins, dates, duplicates. Every row is accounted for in the
:class:`ImportSummary`: rows read, kept, ignored (listed system activities), filtered out (per
filter), dropped duplicates, and rejected per reason with the first raw line of each.
Activity names neither mapped, ignored nor in the vocabulary, and timestamps that do not parse,
stop the import with the file, line and value (``skip_bad_rows`` counts and drops such event
rows instead); so do values a value map does not list (with ``unmapped_values: error``) and
bins of a value that is not a number or lies below the first edge. A failed import leaves no
file behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv

from sim.config.strict_yaml import did_you_mean
from sim.errors import DataError
from sim.files import replacing_folder
from sim.real.import_io import RecordPlaces, read_chunks, write_chunks
from sim.real.import_size import check_import_fits
from sim.real.import_summary import FileSummary, ImportSummary
from sim.real.import_times import convert_times, out_of_range_text
from sim.real.inputs import DATE_COLUMNS, INPUT_COLUMNS
from sim.real.mapping import FileMapping, Mapping, load_mapping
from sim.real.opportunities_file import check_chunk
from sim.real.reports import REASON_TEXT
from sim.real.transforms import (
    bin_values,
    check_sources,
    filter_rows,
    map_values,
    select_columns,
)
from sim.vocab import ACTIVITIES, SALES_ACTIVITIES

__all__ = ["CHUNK_ROWS", "FileSummary", "ImportSummary", "convert_file", "import_files"]

CHUNK_ROWS = 200_000


class _Converter:
    """One raw file streamed through the mapping, chunk by chunk, into canonical rows; every
    row counted in ``summary``."""

    def __init__(self, path: Path, role: str, out: Path, mapping: Mapping, skip_bad_rows: bool):
        self.path, self.role, self.mapping = path, role, mapping
        self.file: FileMapping = getattr(mapping, role, FileMapping())
        self.skip_bad_rows = skip_bad_rows
        self.summary = FileSummary(str(path), str(out))
        self.seen = np.array([], dtype=np.uint64)  # row hashes, when duplicates are dropped
        self.columns: list[str] = []  # the canonical columns written
        self.ids: dict[str, int] = {}  # accounts / opportunities: the ids seen, their record
        self.places = RecordPlaces(path)  # a record's line (CSV) or row (Parquet), for messages

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The kept rows of each chunk, filtered, renamed and converted."""
        line0 = 0  # the chunk's first record (its line: self.places, only for messages)
        for raw in read_chunks(self.path, self.role, CHUNK_ROWS):
            n = len(raw)
            self.summary.rows_read += n
            raw = raw.reset_index(drop=True)
            raw.columns = [str(c).strip() for c in raw.columns]
            raw = raw.loc[:, ~raw.columns.duplicated()]
            check_sources(list(raw.columns), self.file, self.path, self.role)
            keep, filtered = filter_rows(raw, self.file.filters)
            for rule, k in filtered.items():
                self.summary.filtered[rule] = self.summary.filtered.get(rule, 0) + k
            df = select_columns(raw, self.file, self.path, self.role)
            if self.role == "events":
                keep = self._activities(df, keep, line0)
            keep = self._values(df, keep, line0)
            keep = self._bins(raw, df, keep, line0)
            for col in DATE_COLUMNS.get(self.role, ()):
                if col in df.columns:
                    keep = self._dates(df, col, keep, line0)
            if self.file.duplicates == "drop":
                keep = self._drop_duplicates(df, keep)
            records = line0 + np.flatnonzero(keep)
            check_chunk(df[keep], self.role, str(self.path), records, self.ids, self.places.where)
            if self.role == "events":
                self._count_sales_touches(df.loc[keep, "activity"])
            self.summary.rows_kept += int(keep.sum())
            line0 += n
            self.columns = [c for c in INPUT_COLUMNS[self.role] if c in df.columns]
            yield df.loc[keep, self.columns]

    def _reject(self, reason: str, first: int, value: str, n: int) -> None:
        """A bad value in record ``first``: stop with its raw line (events with
        ``skip_bad_rows``: count the rows and go on)."""
        where = self.places.where(first)
        if not self.skip_bad_rows or self.role != "events":
            raise DataError(f"{self.path}, {where}: {reason}: {value!r}")
        self.summary.rejected[reason] = self.summary.rejected.get(reason, 0) + n
        self.summary.first_rejected.setdefault(reason, f"{where}: {value!r}")

    def _first_bad(self, df, col: str, bad: np.ndarray, reason: str, line0: int) -> np.ndarray:
        """Reject the rows flagged ``bad`` (naming the first); the rows still kept."""
        i = int(np.flatnonzero(bad)[0])
        self._reject(reason, line0 + i, str(df[col].iloc[i]).strip(), int(bad.sum()))
        return ~bad

    def _values(self, df: pd.DataFrame, keep: np.ndarray, line0: int) -> np.ndarray:
        """Translate the columns that have a value map."""
        for col, table in self.file.values.items():
            if col not in df.columns:
                raise DataError(
                    f"{self.path}: the mapping ({self.role}.values.{col}) translates {col}, "
                    f"which the {self.role} file has no column for; map it in "
                    f"{self.role}.columns"
                )
            mapped, bad = map_values(df[col], table, self.file.unmapped(col))
            bad &= keep
            if bad.any():
                known = [repr(k) for k in table]
                listed = ", ".join(known[:10]) + (
                    f", ... ({len(known)} in all)" if len(known) > 10 else ""
                )
                reason = (
                    f"{col}: a value not in the mapping's {self.role}.values.{col} (expected "
                    f"one of {listed}; or set {self.role}.unmapped_values to keep or empty)"
                )
                keep = keep & self._first_bad(df, col, bad, reason, line0)
            df[col] = mapped
        return keep

    def _bins(
        self, raw: pd.DataFrame, df: pd.DataFrame, keep: np.ndarray, line0: int
    ) -> np.ndarray:
        """Cut the binned columns into their labels."""
        for name, spec in self.file.bins.items():
            labels, not_number, below = bin_values(raw[spec.column], spec)
            where = f"{self.role}.bins.{name}"
            for bad, what in (
                (not_number & keep, "not a number"),
                (below & keep, f"below the first edge {spec.edges[0]:g}"),
            ):
                if bad.any():
                    reason = f"{spec.column} ({where}): {what}"
                    keep = keep & self._first_bad(raw, spec.column, bad, reason, line0)
            df[name] = labels
        return keep

    def _count_sales_touches(self, activity: pd.Series) -> None:
        counts = activity[activity.isin(SALES_ACTIVITIES)].value_counts()
        for a in SALES_ACTIVITIES:  # in the vocabulary's order
            if counts.get(a, 0):
                self.summary.sales_touches[a] = self.summary.sales_touches.get(a, 0) + int(
                    counts[a]
                )

    def _activities(self, df: pd.DataFrame, keep: np.ndarray, line0: int) -> np.ndarray:
        """Drop the listed system activities, map the others to the vocabulary; reject the
        names neither mapped, ignored nor in the vocabulary."""
        fm, summary = self.file, self.summary
        act = df["activity"].astype(str).str.strip()
        ignored = act.isin(fm.ignore_activities).to_numpy() & keep
        summary.ignored += int(ignored.sum())
        keep = keep & ~ignored
        mapped = act.map(fm.activities).astype(object).where(lambda m: m.notna(), act)
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
        mapping, fm = self.mapping, self.file
        fmt = fm.timestamp_format or mapping.timestamp_format
        text, bad = convert_times(df[col], fm.timezone or mapping.timezone, fmt)
        bad = bad & keep
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            if self.role != "events":
                raise DataError(
                    f"{self.path}, {self.places.where(line0 + i)}: {col}: cannot parse "
                    f"{df[col][i]!r}" + (f" with {fmt!r}" if fmt else "")
                )
            self._reject("an unparseable timestamp", line0 + i, df[col][i], int(bad.sum()))
            keep = keep & ~bad
        far = out_of_range_text(text) & keep
        if far.any():
            i = int(np.flatnonzero(far)[0])
            what = f"{col}: {REASON_TEXT['time_out_of_range']} (a CRM placeholder date?)"
            self._reject(what, line0 + i, df[col][i], int(far.sum()))
            keep = keep & ~far
        df[col] = text
        return keep

    def _drop_duplicates(self, df: pd.DataFrame, keep: np.ndarray) -> np.ndarray:
        """Drop kept rows identical to a row seen before (in this chunk or an earlier one),
        by 64-bit row hashes (``seen``: the sorted hashes of earlier chunks)."""
        h = pd.util.hash_pandas_object(df, index=False).to_numpy()[keep]
        pos = np.searchsorted(self.seen, h).clip(max=max(len(self.seen) - 1, 0))
        before = self.seen[pos] == h if len(self.seen) else np.zeros(len(h), dtype=bool)
        again = pd.Series(h).duplicated().to_numpy() | before
        dup = np.zeros(len(df), dtype=bool)
        dup[np.flatnonzero(keep)[again]] = True
        self.seen = np.sort(np.concatenate([self.seen, h[~again]]))
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
    check_import_fits(path, role, converter.file.duplicates == "drop")
    write_chunks(converter.chunks(), out)
    if converter.summary.rows_read == 0:
        out.unlink(missing_ok=True)
        raise DataError(f"{path}: the {role} file has a header but no data rows")
    if role == "contacts" and "title" not in converter.columns:
        converter.summary.notes.append(
            "no job titles (no title column): rules that weigh titles have nothing to weigh"
        )
    return converter.summary


def import_files(
    events: str | Path,
    contacts: str | Path,
    accounts: str | Path | None,
    out: str | Path,
    mapping: Mapping | str | Path | None = None,
    skip_bad_rows: bool = False,
    opportunities: str | Path | None = None,
) -> ImportSummary:
    """Convert a team's raw exports into canonical files under ``out`` (events.csv,
    contacts.csv, and accounts.csv, opportunities.csv when given) with a summary; memory stays
    bounded by the chunk size (plus the set of row hashes when duplicates are dropped, and the
    contacts' and accounts' ids). The folder ``out`` is replaced as a whole once every file is
    converted (:func:`sim.files.replacing_folder`: no file of a previous import survives, and a
    failed import leaves the previous folder as it was, or none). The canonical files keep the
    raw values (they are the input of ``evaluate``, not a spreadsheet: ids keep their
    identity)."""
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    out = Path(out)
    raws = {"events": events, "contacts": contacts, "accounts": accounts}
    raws["opportunities"] = opportunities
    _refuse_overwriting_inputs(raws, out)
    with replacing_folder(out) as stage:
        files = [
            convert_file(raw, role, stage / f"{role}.csv", m, skip_bad_rows)
            for role, raw in raws.items()
            if raw is not None
        ]
        summary = ImportSummary(files)
        _cross_checks(summary, stage)
        summary.check()
    for f in files:
        f.out = str(out / Path(f.out).name)
    return summary


def _refuse_overwriting_inputs(raws: dict[str, str | Path | None], out: Path) -> None:
    """No raw file may be inside ``out``, which the import replaces as a whole (``--out .``
    beside a raw events.csv would delete it)."""
    where = out.resolve()
    for role, raw in raws.items():
        if raw is None:
            continue
        if Path(raw).resolve().is_relative_to(where):
            raise DataError(
                f"{raw}: the import would overwrite this raw {role} file (it replaces the "
                f"folder {out} as a whole, and the file is inside it); choose another --out folder"
            )


def _ids(path: Path, column: str) -> pd.Series:
    """One column of a canonical file this import wrote, as text."""
    opts = pcsv.ConvertOptions(
        include_columns=[column],
        column_types={column: pa.string()},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    return pcsv.read_csv(path, convert_options=opts).column(column).to_pandas()


def _cross_checks(summary: ImportSummary, folder: Path) -> None:
    """Contacts whose account is not in the accounts file, accounts without an opportunity,
    opportunities of accounts nobody in the contacts file belongs to."""
    people = _ids(folder / "contacts.csv", "account_id")
    if (folder / "accounts.csv").exists():
        ids = _ids(folder / "accounts.csv", "account_id")
        summary.contacts_without_account = int((~people.isin(ids)).sum())
        if "opportunity_date" in pcsv.open_csv(folder / "accounts.csv").schema.names:
            opened = _ids(folder / "accounts.csv", "opportunity_date")
            summary.accounts_without_outcomes = int((opened == "").sum())
    if (folder / "opportunities.csv").exists():
        opp = _ids(folder / "opportunities.csv", "account_id")
        summary.opportunities_without_people = int((~opp.isin(people)).sum())
