"""The per-event columns of an EventLog that every fast evaluator reads: the log's own columns,
the account and time-tie structure (where each account's events start and end, which events
share a time), and the attributes of each event's contact and account.

Trailing-window and decayed sums over these columns are in :mod:`policies.kernels.windows`,
the qualifications rows in :mod:`policies.kernels.output`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from policies.kernels.scoring import first_matching
from sim.errors import DataError
from sim.eventlog import EventLog
from sim.vocab import ACTIVITIES

T = TypeVar("T")
BLOCK_EVENTS = 1 << 20  # events per block when checking the order (to stay in the CPU cache)


class Frame:
    """Per-event arrays of a log, aligned with ``log.events`` (sorted by account, time).

    Building a frame only checks the log (known activities, sorted by (account_id, time));
    every array is computed the first time it is used (``functools.cached_property``), so an
    evaluator pays only for what its policy needs. The ``raw_*`` arrays are the log's own
    columns without a copy where their dtype allows; the others are int64 / float64.
    """

    def __init__(self, log: EventLog):
        self.log = log
        self._memo: dict[Hashable, Any] = {}
        self._activity_names: list[str] = []
        self.n = len(log.events)
        self._check()

    def _check(self) -> None:
        codes, table = self.activity_codes
        if self.n and codes.size and int(codes.min()) < 0:
            raise DataError("events: missing activity values")
        bad = np.flatnonzero(table < 0)
        if bad.size:
            present = np.unique(codes[np.isin(codes, bad)])
            if present.size:
                unknown = sorted({self._activity_names[c] for c in present})
                raise DataError(f"events: unknown activities {unknown}")
        acc, t = self.raw_account, self.raw_time
        for s in range(0, self.n - 1, BLOCK_EVENTS):
            a, b = acc[s : s + BLOCK_EVENTS + 1], t[s : s + BLOCK_EVENTS + 1]
            down = np.flatnonzero(b[1:] < b[:-1])  # few: only where a new account starts
            if (a[1:] < a[:-1]).any() or (a[1:][down] == a[:-1][down]).any():
                raise DataError("events must be sorted by (account_id, time)")

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Memoise ``compute()`` under ``key`` on this frame (for sweeps over one log); arrays
        in the result are made read-only."""
        if key not in self._memo:
            value = compute()
            for v in value if isinstance(value, tuple) else (value,):
                if isinstance(v, np.ndarray):
                    v.setflags(write=False)
            self._memo[key] = value
        return self._memo[key]

    # -- the log's columns ------------------------------------------------------------------
    @cached_property
    def raw_account(self) -> np.ndarray:
        """``account_id`` as stored (any integer dtype, no copy when possible)."""
        return _integers(self.log.events["account_id"])

    @cached_property
    def raw_contact(self) -> np.ndarray:
        """``contact_id`` as stored (any integer dtype, no copy when possible)."""
        return _integers(self.log.events["contact_id"])

    @cached_property
    def raw_time(self) -> np.ndarray:
        """``time`` as float64 (no copy when it is float64 already)."""
        return self.log.events["time"].to_numpy(np.float64)

    @cached_property
    def activity_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """(a code per event, each code's index in ``ACTIVITIES`` (-1: unknown name)). The
        categorical codes of ``activity`` are used as they are; other columns are factorized."""
        col = self.log.events["activity"]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = np.asarray(col.array.codes)
            names = [str(c) for c in col.cat.categories]
        else:
            codes, uniques = pd.factorize(col, sort=False)
            names = [str(u) for u in uniques]
        self._activity_names = names
        index: dict[str, int] = {a: i for i, a in enumerate(ACTIVITIES)}
        table = np.array([index.get(u, -1) for u in names] or [0], dtype=np.int64)
        return codes, table

    @cached_property
    def code_counts(self) -> np.ndarray:
        """Events per activity code (of ``activity_codes``), counted a block at a time."""
        codes, table = self.activity_codes
        counts = np.zeros(len(table), dtype=np.int64)
        for s in range(0, self.n, BLOCK_EVENTS):
            counts += np.bincount(codes[s : s + BLOCK_EVENTS], minlength=len(table))
        return counts

    def has_activity(self, activities: Iterable[str]) -> bool:
        """Is any event's activity one of ``activities``? (From the counts per code: no pass
        over the events once they are counted.)"""
        _, table = self.activity_codes
        return bool(self.code_counts[allowed_codes(table, activities)].any())

    def activity_in(self, activities: Iterable[str]) -> np.ndarray:
        """Per event: is its activity one of ``activities``? (Memoised, read-only.)"""
        key = ("activity_in", tuple(sorted(activities)))
        codes, table = self.activity_codes
        return self.memo(key, lambda: allowed_codes(table, key[1])[codes])

    @cached_property
    def account(self) -> np.ndarray:
        return self.raw_account.astype(np.int64, copy=False)

    @cached_property
    def time(self) -> np.ndarray:
        return self.raw_time

    @cached_property
    def contact(self) -> np.ndarray:
        return self.raw_contact.astype(np.int64, copy=False)

    @cached_property
    def known(self) -> np.ndarray:
        """Per event: is it by a known contact (not anonymous)?"""
        return self.contact >= 0

    @cached_property
    def activity(self) -> np.ndarray:
        """Each event's index in ``ACTIVITIES``."""
        codes, table = self.activity_codes
        return table[codes] if self.n else np.zeros(0, dtype=np.int64)

    # -- account and time-tie structure -------------------------------------------------------
    @cached_property
    def _new_account(self) -> np.ndarray:
        acc = self.raw_account
        return np.r_[True, acc[1:] != acc[:-1]] if self.n else np.zeros(0, bool)

    @cached_property
    def first_of_account(self) -> np.ndarray:
        return np.flatnonzero(self._new_account)

    @cached_property
    def _account_sizes(self) -> np.ndarray:
        return np.diff(np.r_[self.first_of_account, self.n])

    @cached_property
    def acct_start(self) -> np.ndarray:
        return np.repeat(self.first_of_account, self._account_sizes)

    @cached_property
    def acct_end(self) -> np.ndarray:
        return np.repeat(self.first_of_account + self._account_sizes, self._account_sizes)

    @cached_property
    def rank(self) -> np.ndarray:
        """Each event's account rank, for composite keys."""
        return np.cumsum(self._new_account) - 1

    @cached_property
    def _ties(self) -> tuple[np.ndarray, np.ndarray]:
        t = self.time
        new_tie = self._new_account | np.r_[True, t[1:] != t[:-1]] if self.n else self._new_account
        tie_starts = np.flatnonzero(new_tie)
        tie_sizes = np.diff(np.r_[tie_starts, self.n])
        return tie_starts, tie_sizes

    @cached_property
    def tie_start(self) -> np.ndarray:
        starts, sizes = self._ties
        return np.repeat(starts, sizes)

    @cached_property
    def tie_end(self) -> np.ndarray:
        """The last index of each event's time tie."""
        starts, sizes = self._ties
        return np.repeat(starts + sizes - 1, sizes)

    # -- attributes of each event's contact and account -------------------------------------
    @cached_property
    def contact_row(self) -> np.ndarray:
        """Each event's row in ``log.contacts`` (-1: anonymous or not in the table)."""
        return rows_of(self.log.contacts["contact_id"].to_numpy(np.int64), self.contact)

    @cached_property
    def account_row(self) -> np.ndarray:
        """Each event's row in ``log.accounts`` (-1: not in the table)."""
        return rows_of(self.log.accounts["account_id"].to_numpy(np.int64), self.account)

    def per_contact(self, values: np.ndarray, missing: Any) -> np.ndarray:
        """Spread a per-contact-row array over the events (``missing`` where no row)."""
        return take(values, self.contact_row, missing)

    def contact_in(self, column: str, allowed: Iterable[str]) -> np.ndarray:
        """Per event: is its (known) contact's ``column`` one of ``allowed``? (False when the
        contacts table has no such column.)"""
        con = self.log.contacts
        if column not in con.columns:
            return np.zeros(self.n, dtype=bool)
        ok = con[column].astype(object).isin(list(allowed)).to_numpy(bool)
        return self.per_contact(ok, False).astype(bool)

    def title_in(self, phrases: Iterable[str]) -> np.ndarray:
        """Per event: does its (known) contact's title match one of ``phrases`` (whole words,
        case-insensitive)? False when anonymous, not in the contacts table or without a title.
        (Memoised, read-only.)"""
        key = ("title_in", tuple(phrases))
        return self.memo(
            key, lambda: self.per_contact(titles_in(self.log.contacts, key[1]), False).astype(bool)
        )

    def contact_values(self, column: str) -> np.ndarray:
        """Per event: its contact's ``column`` (object; None when anonymous or unknown)."""
        con = self.log.contacts
        if column not in con.columns:
            return np.full(self.n, None, dtype=object)
        return self.per_contact(con[column].astype(object).to_numpy(dtype=object), None)

    def account_number(self, column: str) -> np.ndarray:
        """Per event: its account's numeric ``column`` (NaN where unknown)."""
        return self.memo(("account_number", column), lambda: self._account_number(column))

    def _account_number(self, column: str) -> np.ndarray:
        acc = self.log.accounts
        if column not in acc.columns:
            return np.full(self.n, np.nan)
        vals = pd.to_numeric(acc[column], errors="coerce").to_numpy(np.float64)
        return take(vals, self.account_row, np.nan)

    def account_number_at(self, column: str, idx: np.ndarray) -> np.ndarray:
        """Like :meth:`account_number`, for the events ``idx`` only (cheap on a big log)."""
        first = self.first_of_account
        by_rank = self.memo(
            ("account_number_by_rank", column),
            lambda: account_numbers(self.log.accounts, column, self.account[first]),
        )
        return by_rank[self.rank[idx]]

    def title_values(
        self, entries: list[tuple[list[str], float]], default: float, anonymous: float
    ) -> np.ndarray:
        """Per event: the value of the first entry matching its contact's title."""
        con = self.log.contacts
        titles = con["title"].to_numpy(dtype=object) if "title" in con.columns else []
        per_row = first_matching(np.asarray(titles, dtype=object), entries, default)
        out = self.per_contact(per_row, default).astype(float)
        out[self.contact < 0] = anonymous
        return out


def titles_in(contacts: pd.DataFrame, phrases: Sequence[str]) -> np.ndarray:
    """Per row of ``contacts``: does its title match one of ``phrases``? (A missing title or
    ``title`` column matches nothing.)"""
    if "title" not in contacts.columns:
        return np.zeros(len(contacts), dtype=bool)
    return first_matching(contacts["title"].to_numpy(dtype=object), [(list(phrases), 1.0)], 0.0) > 0


def digest(a: np.ndarray) -> bytes:
    """A short digest of an array's bytes (booleans packed), for memo keys."""
    data = np.packbits(a) if a.dtype == bool else np.ascontiguousarray(a, dtype=float)
    return hashlib.blake2b(data.tobytes(), digest_size=16).digest()


def allowed_codes(table: np.ndarray, activities: Iterable[str]) -> np.ndarray:
    """Per activity code (``table``: each code's index in ``ACTIVITIES``, -1 unknown): is it
    one of ``activities``?"""
    return np.isin(table, [ACTIVITIES.index(a) for a in activities]) & (table >= 0)


def account_numbers(accounts: pd.DataFrame, column: str, ids: np.ndarray) -> np.ndarray:
    """Per account id in ``ids``: its numeric ``column`` in ``accounts`` (NaN where unknown)."""
    if column not in accounts.columns or ids.size == 0:
        return np.full(ids.size, np.nan)
    per = pd.to_numeric(accounts[column], errors="coerce").to_numpy(np.float64)
    return take(per, rows_of(accounts["account_id"].to_numpy(np.int64), ids), np.nan)


def take(values: np.ndarray, rows: np.ndarray, missing: Any) -> np.ndarray:
    """``values[rows]``, with ``missing`` where a row is -1 (absent)."""
    values = np.asarray(values)
    out = values[np.maximum(rows, 0)] if len(values) else np.full(rows.size, missing)
    return np.where(rows >= 0, out, missing)


def rows_of(table_ids: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Position of each query id in ``table_ids`` (-1 when absent)."""
    if table_ids.size == 0:
        return np.full(query.size, -1, dtype=np.int64)
    order = np.argsort(table_ids, kind="stable")
    srt = table_ids[order]
    pos = np.minimum(np.searchsorted(srt, query), srt.size - 1)
    return np.where(srt[pos] == query, order[pos], -1)


def _integers(col: pd.Series) -> np.ndarray:
    """An id column as a numpy integer array (no copy when it is one already)."""
    out = col.to_numpy()
    return out if out.dtype.kind in "iu" else col.to_numpy(np.int64)
