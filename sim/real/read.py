"""Reading a team's real exports (CSV or Parquet) into the same EventLog a simulated world gives.

``read_log(events, contacts, accounts=None)`` reads

- events: ``timestamp`` (ISO 8601 date or date-time), ``account_id``, ``contact_id`` (empty =
  anonymous), ``activity`` (a name from ``sim.vocab.ACTIVITIES``); optional ``channel``,
  ``campaign``;
- contacts: ``contact_id``, ``account_id``; optional ``title`` (every title "" when the column
  is absent, with a warning in the report), ``seniority``, ``department``, ``role``;
- accounts (optional): ``account_id``; optional ``tier``, ``icp_fit`` and the outcomes
  ``opportunity_date``, ``close_date``, ``won``, ``value`` (one opportunity per account);
- opportunities (optional, instead of those outcomes): ``account_id``, ``opportunity_id``,
  ``created``; optional ``closed``, ``status``, ``amount``, ``type`` (several per account,
  :mod:`sim.real.opportunities_file`);

and returns a ``RealLog``: the ``EventLog`` (ids replaced by dense int64 codes, times as float
days since ``origin``), the labels to turn codes back into the original ids, a way to turn days
back into timestamps in the input's format, the outcomes, and an ``ImportReport``.

The file type is chosen by suffix (``.csv``; ``.parquet`` or ``.pq``). CSV files are read as
UTF-8 text (a byte-order mark is fine) with every column as text: ids stay text, so ``007`` and
``7`` are different ids; values and column names are stripped of surrounding spaces. Parquet
columns may be typed (integer ids, timestamp or date columns, numbers, booleans).

Memory and speed: every file is loaded whole, columnar: Arrow reads it (CSV: every column as
text; Parquet events: only the columns read here), ids and names are dictionary-encoded and
looked up once per distinct value (never a Python string per row, never a per-contact or
per-account scan), text timestamps are parsed by Arrow. The events file never becomes a pandas
frame: each column goes from Arrow to the int32 (or smaller) codes and the days of the event
table, and is let go once converted. A whole evaluate peaks at about 4-10 bytes of memory per
byte of CSV (12-20 per byte of Parquet); a file that would not fit in the memory available is
refused with a clear message before reading (``qualsim import``, in :mod:`sim.real.importer`,
converts exports of any size in bounded memory; evaluating still needs the whole log).
``benchmarks/speed/bench_real.py`` measures it at 10 million events.

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
  ``close_date`` needs an ``opportunity_date`` and may not precede it, a ``won`` needs a
  ``close_date``. An opportunities file (``opportunities=``; several per account, see
  :mod:`sim.real.opportunities_file`) may replace the accounts file's outcome columns (not
  both); its accounts not found elsewhere are added, after those of the events file.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import DataError
from sim.eventlog import EventLog
from sim.real.accounts_file import AccountsFile, outcome_table, read_accounts_file
from sim.real.conversions import (
    Keys,
    arrow_keys,
    as_text,
    check_not_empty,
    check_unique,
    first_seen,
    first_true,
    id_keys,
    positions_in,
    sorted_codes,
    stable_order,
    take_as,
    text_series,
    vocab_warning,
)
from sim.real.events_file import (
    EventRows,
    KeptRows,
    duplicate_events,
    kept_rows,
    read_event_rows,
)
from sim.real.inputs import CONTACT_OPTIONAL, EVENT_OPTIONAL, INPUT_FILES
from sim.real.opportunities_file import (
    load_opportunities,
    opportunities_of,
    opportunity_accounts,
    opportunity_times,
    report_opportunities,
)
from sim.real.reallog import RealLog
from sim.real.reports import FileReport, ImportReport
from sim.real.sources import TEXT_DTYPE as _TEXT
from sim.real.sources import Source
from sim.real.timestamps import TimeFrame, check_time_zones, time_frame
from sim.vocab import ACTIVITIES, NO_ROLE, ROLES, SENIORITIES

__all__ = ["read_log"]

# The contact columns whose values are checked against the vocabulary (outside it: a warning).
_VOCABULARIES = {"seniority": SENIORITIES, "role": (*ROLES, NO_ROLE)}


def read_log(
    events, contacts, accounts=None, opportunities=None, skip_bad_rows: bool = False
) -> RealLog:
    """Read a team's events, contacts and (optionally) accounts and opportunities export into a
    ``RealLog``.

    Raises ``DataError`` naming the file, line and value for anything that cannot be used (see
    the module docstring); with ``skip_bad_rows`` bad event rows are dropped and counted in
    ``report`` instead.
    """
    ev_src = _source(events, "events")
    co_src = _source(contacts, "contacts")
    ac_src = _source(accounts, "accounts") if accounts is not None else None
    people = _read_contacts(co_src)
    found = read_accounts_file(ac_src)
    op_src, opp = load_opportunities(opportunities, found, ac_src)
    rows = read_event_rows(ev_src, people.index, people.account_keys)
    kept = kept_rows(rows, ev_src, co_src, people.keys, skip_bad_rows)
    rows = rows.checked()
    events_aware = check_time_zones(rows.times, kept.keep, found.outcome_times, ev_src, ac_src)
    if op_src is not None:
        check_time_zones(rows.times, kept.keep, opportunity_times(opp), ev_src, op_src)
    outcome_times = {**found.outcome_times, **opportunity_times(opp)}
    frame = time_frame(rows.times, kept.keep, outcome_times, events_aware)
    codes = _AccountCodes.of(found, people, rows, kept.keep, opportunity_accounts(opp))
    warnings: list[str] = []
    outcomes, outcome_format = outcome_table(found, codes.count, codes.file_rows, frame.days)
    opps, outcomes, outcome_format = opportunities_of(
        opp, outcomes, outcome_format, codes.keys, frame.days
    )
    events, at, optional = _event_table(rows, kept.keep, ev_src, codes.index, frame)
    log = EventLog(
        events,
        _contact_table(co_src, people, codes.index, warnings),
        _account_table(found, codes),
    )
    duplicates = duplicate_events(rows, events, at, optional)
    report = _report(ev_src, co_src, ac_src, rows, kept, people, found, codes, outcomes, warnings)
    report = report_opportunities(report, op_src, opps)
    report = dataclasses.replace(report, duplicate_events=duplicates)
    return RealLog(
        log=log,
        origin=frame.origin,
        time_format=frame.time_format,
        account_labels=_labels(codes.keys, codes.int_ids),
        contact_labels=_labels(people.keys, people.int_ids),
        outcomes=outcomes,
        report=report,
        time_pattern=frame.pattern,
        outcome_time_format=outcome_format,
        buying_roles=_buying_roles(co_src),
        opportunities=opps,
    )


def _source(path, role: str) -> Source:
    required, optional = INPUT_FILES[role]
    return Source(path, role, required, optional)


@dataclass
class _Contacts:
    """The contacts file's ids (``keys``, their ``index``) and each contact's account key."""

    keys: np.ndarray
    int_ids: bool
    account_keys: np.ndarray
    int_account_ids: bool
    index: pd.Index


def _read_contacts(src: Source) -> _Contacts:
    keys, int_ids = id_keys(src.df["contact_id"])
    check_not_empty(src, keys, "contact_id", "every contact needs an id")
    check_unique(src, keys, "contact_id")
    accounts, int_accounts = id_keys(src.df["account_id"])
    if (accounts == "").any():
        i = first_true(accounts == "")
        raise DataError(src.at(i, f"empty account_id for contact '{keys[i]}'"))
    # object, not Arrow text: the keys as they are (label_positions compares them with no copy)
    return _Contacts(keys, int_ids, accounts, int_accounts, pd.Index(keys, dtype=object))


@dataclass
class _AccountCodes:
    """Account codes: the keys in order of first appearance in the accounts file, then the
    contacts file, then the kept events; the code of each accounts-file row."""

    keys: np.ndarray
    index: pd.Index
    int_ids: bool  # every source had typed integer ids
    file_rows: np.ndarray

    @property
    def count(self) -> int:
        return len(self.keys)

    @classmethod
    def of(
        cls,
        found: AccountsFile,
        people: _Contacts,
        rows: EventRows,
        keep: np.ndarray,
        opp_keys: tuple[np.ndarray, bool],
    ) -> _AccountCodes:
        before = pd.unique(np.concatenate([found.keys, people.account_keys]).astype(object))
        known = positions_in(pd.Index(before), rows.account_labels) >= 0
        seen = rows.account_labels[first_seen(rows.account, keep, known)]  # new ones only
        keys = pd.unique(np.concatenate([before, seen, opp_keys[0]]).astype(object))
        index = pd.Index(keys)
        flags = [people.int_account_ids, rows.int_account_ids, opp_keys[1]]
        if found.int_ids is not None:
            flags.append(found.int_ids)
        file_rows = index.get_indexer(found.keys) if len(found.keys) else np.array([], int)
        return cls(keys, index, all(flags), file_rows)


def _labels(keys: np.ndarray, as_int: bool) -> np.ndarray:
    keys = np.asarray(keys, dtype=object)
    return keys.astype(np.int64) if as_int else keys


def _event_table(
    rows: EventRows, keep: np.ndarray, src: Source, accounts: pd.Index, frame: TimeFrame
) -> tuple[pd.DataFrame, np.ndarray, dict[str, Keys]]:
    """The kept events in codes and days, sorted by (account_id, time), the file row of each
    (0-based), and the optional text columns as read. The optional columns are encoded while
    the rows are sorted, and the columns gathered two at a time (numpy releases the GIL)."""
    # None when every row is kept: then no row needs picking out (no gathers)
    picked = None if keep.all() else np.flatnonzero(keep)
    with ThreadPoolExecutor(2) as pool:
        texts = {c: pool.submit(arrow_keys, src.take(c), ids=False) for c in _optional(src)}
        small = np.uint16 if len(accounts) <= 1 << 16 else np.int32  # what the sort sorts
        account = accounts.get_indexer(rows.account_labels).astype(small)[
            rows.account if picked is None else rows.account[picked]
        ]
        values = rows.times.values if picked is None else rows.times.values[picked]
        order = _by_account_then_time(account, values, frame)
        at = order if picked is None else picked[order]
        optional = {c: k.result() for c, k in texts.items()}
        contacts = pool.submit(take_as, rows.contact_codes, at, np.int64)  # int32 codes
        times = pool.submit(frame.days_at, values, order)
        columns = [rows.activity.codes, *(k.codes for k in optional.values())]
        gathered = pool.map(np.take, columns, [at] * len(columns))
        account = sorted_codes(account)  # = account[order], counted out while they gather
        activity, *other = gathered
        contact, time = contacts.result(), times.result()
    vocab = pd.Index(ACTIVITIES).get_indexer(rows.activity.labels).astype(np.int8)
    activity = pd.Categorical.from_codes(vocab[activity], list(ACTIVITIES))  # a byte per event
    ev = pd.DataFrame(  # fresh arrays: no consolidating copy
        {"time": time, "account_id": account, "contact_id": contact, "activity": activity},
        copy=False,
    )
    for (c, text), codes in zip(optional.items(), other, strict=True):  # as a simulated channel
        ev[c] = pd.Categorical.from_codes(codes, pd.Index(text.labels, dtype=_TEXT))
    return ev, at, optional


def _by_account_then_time(account: np.ndarray, values: np.ndarray, frame: TimeFrame) -> np.ndarray:
    """The stable order by (account, days since the origin): a radix sort by account after a
    stable sort by days (none when the file is already in time order, as exports usually
    are: then the days are in order too, and never made whole here)."""
    ints = values.view(np.int64)  # in order, NaT (the smallest) can only come first
    nat = len(ints) > 0 and ints[0] == np.iinfo(np.int64).min
    if len(ints) > 1 and (nat or not bool(np.all(ints[1:] >= ints[:-1]))):
        time = frame.days(values)
        if not bool(np.all(time[1:] >= time[:-1])):
            by_time = np.argsort(time, kind="stable")
            return by_time[stable_order(account[by_time])]
    return stable_order(account)


def _optional(src: Source, columns: tuple[str, ...] = EVENT_OPTIONAL) -> list[str]:
    return [c for c in columns if c in src.columns]


def _contact_table(
    src: Source, people: _Contacts, accounts: pd.Index, warnings: list[str]
) -> pd.DataFrame:
    """The contacts in codes; a warning for values outside the vocabulary."""
    co = pd.DataFrame(
        {
            "contact_id": np.arange(len(people.keys), dtype=np.int64),
            "account_id": positions_in(accounts, people.account_keys).astype(np.int64),
            "title": (
                text_series(src.df["title"])
                if "title" in src.df.columns
                else pd.Series("", index=range(len(people.keys)), dtype=str)
            ),
        }
    )
    if "title" not in src.df.columns:
        warnings.append(f"{src.name}: no title column: rules that weigh titles weigh nothing")
    for c in _optional(src, CONTACT_OPTIONAL):
        vals = text_series(src.df[c])
        co[c] = vals
        vocab = _VOCABULARIES.get(c)
        if vocab is not None and (w := vocab_warning(src, vals, c, vocab)):
            warnings.append(w)
    return co


def _buying_roles(src: Source) -> np.ndarray | None:
    """Each contact's recorded buying role ("" where none was recorded), if the file has them."""
    if "buying_role" not in src.df.columns:
        return None
    return np.asarray(as_text(src.df["buying_role"]), dtype=object)


def _account_table(found: AccountsFile, codes: _AccountCodes) -> pd.DataFrame:
    """Every account code with the accounts file's attributes (NaN for added accounts)."""
    ac = pd.DataFrame({"account_id": np.arange(codes.count, dtype=np.int64)})
    for c, vals in found.attributes.items():
        col = np.full(codes.count, np.nan)
        col[codes.file_rows] = vals
        ac[c] = col
    return ac


def _report(
    ev_src: Source,
    co_src: Source,
    ac_src: Source | None,
    rows: EventRows,
    kept: KeptRows,
    people: _Contacts,
    found: AccountsFile,
    codes: _AccountCodes,
    outcomes: pd.DataFrame | None,
    warnings: list[str],
) -> ImportReport:
    keep = kept.keep
    n_people, n_file = len(people.keys), len(found.keys)
    in_file = (
        positions_in(pd.Index(found.keys), people.account_keys) >= 0 if ac_src is not None else None
    )
    return ImportReport(
        events=FileReport(
            ev_src.name,
            ev_src.num_rows,
            int(keep.sum()),
            kept.skipped,
            kept.first_skipped,
            ev_src.ignored,
        ),
        contacts=FileReport(co_src.name, n_people, n_people, ignored_columns=co_src.ignored),
        accounts=(
            FileReport(ac_src.name, n_file, n_file, ignored_columns=ac_src.ignored)
            if ac_src is not None
            else None
        ),
        anonymous_events=kept.anonymous,
        duplicate_events=0,  # counted by duplicate_events
        accounts_filled=kept.filled,
        accounts_total=codes.count,
        accounts_added=codes.count - n_file,
        contacts_without_account=(int((~in_file).sum()) if in_file is not None else None),
        accounts_without_outcomes=(
            int(np.isnan(outcomes["opportunity_date"].to_numpy()).sum())
            if outcomes is not None
            else None
        ),
        warnings=tuple(warnings),
    )
