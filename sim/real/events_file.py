"""The events file of a real export: its rows checked against the contacts, and the bad ones
either stopping the import or, with ``skip_bad_rows``, dropped and counted per reason.

An event row is bad for an unparseable timestamp, an unknown activity, a contact_id not in the
contacts file, an account_id that contradicts the contacts file, or no account at all
(anonymous with an empty account_id); a row with several problems counts once, under the first
of :data:`~sim.real.reports.SKIP_REASONS`. An event with an empty account_id but a known
contact takes the contact's account. ``contact_id`` ``-1`` is an id like any other: anonymous
rows leave contact_id empty.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from sim.config.strict_yaml import did_you_mean
from sim.errors import DataError
from sim.real.conversions import (
    ArrowKeys,
    Keys,
    arrow_key_table,
    arrow_keys,
    arrow_text,
    first_true,
    positions_in,
)
from sim.real.formats import encode_halves, long_text
from sim.real.reports import REASON_TEXT, SKIP_REASONS, plural
from sim.real.sources import Source
from sim.real.time_range import RANGE_TEXT, out_of_range
from sim.real.timestamps import ISO_HINT, Times, parse_times_arrow
from sim.vocab import ACTIVITIES


@dataclass
class EventRows:
    """The events file's rows as read, dictionary-encoded: timestamps, activities, the contact
    keys, and the account of each row (as written, or filled from a known contact) and of its
    contact in the contacts file, both as codes into ``account_labels`` (which holds "");
    each row's contact code (-1 when anonymous or unknown)."""

    times: Times
    activity: Keys
    contact_table: ArrowKeys | Keys | None  # the contact ids, per distinct value
    account: np.ndarray  # per row: code into account_labels (filled from a known contact)
    account_labels: np.ndarray
    int_account_ids: bool
    contact_codes: np.ndarray
    contact_account: np.ndarray | None  # per row: code of the contact's account (contacts file)
    anonymous: np.ndarray | None  # let go once the rows are checked (counted in KeptRows)
    filled: np.ndarray | None  # took its contact's account (the same)
    _contact_keys: Keys | None = field(default=None, repr=False)

    @property
    def contact_keys(self) -> Keys:
        """The contact id of each row (made when asked: for messages)."""
        if self._contact_keys is None:
            table = self.contact_table
            if table is None:
                raise RuntimeError("the contact ids are let go once the rows are checked")
            self._contact_keys = table.keys() if isinstance(table, ArrowKeys) else table
        return self._contact_keys

    def checked(self) -> EventRows:
        """The rows once :func:`kept_rows` checked them, without what only its messages read
        (the contact ids as written, the contacts' accounts) or what it counted (anonymous and
        filled rows): let go before the sort, which needs the memory."""
        return replace(
            self,
            contact_table=None,
            contact_account=None,
            _contact_keys=None,
            anonymous=None,
            filled=None,
        )

    def account_at(self, row: int) -> str:
        return str(self.account_labels[self.account[row]])

    def contact_account_at(self, row: int) -> str:
        if self.contact_account is None:
            raise RuntimeError("the contacts' accounts are let go once the rows are checked")
        return str(self.account_labels[self.contact_account[row]])

    @property
    def empty_account(self) -> int:
        """The code of the empty account id ""."""
        return int(np.flatnonzero(self.account_labels == "")[0])


@dataclass
class KeptRows:
    """Which event rows are kept, and the dropped ones per reason (with the first of each)."""

    keep: np.ndarray
    anonymous: int = 0  # kept rows without a contact id
    filled: int = 0  # kept rows that took their contact's account
    skipped: dict[str, int] = field(default_factory=dict)
    first_skipped: dict[str, str] = field(default_factory=dict)


def read_event_rows(src: Source, contacts: pd.Index, contact_accounts: np.ndarray) -> EventRows:
    """The rows of the events file, with ``contacts`` the index of the contact keys and
    ``contact_accounts`` their account keys. Ids are looked up once per distinct value; the
    contact ids (the most distinct values: the longest encoding), the timestamps and the
    activities are converted on other threads meanwhile (Arrow and numpy release the GIL)."""
    with ThreadPoolExecutor(2) as pool:
        ids = src.take("contact_id")  # read once: let go
        halves = encode_halves(
            ids, pool, arrow_text(contacts.to_numpy()) if long_text(ids) else None
        )
        times = pool.submit(parse_times_arrow, src.take("timestamp"))
        activity = pool.submit(arrow_keys, src.take("activity"), ids=False)
        accounts = arrow_keys(src.take("account_id"))
        labels = pd.unique(np.concatenate([[""], contact_accounts, accounts.labels]).astype(object))
        space = pd.Index(labels)
        small = np.min_scalar_type(-len(space))  # account codes: int16 up to 32,767 accounts
        written = space.get_indexer(accounts.labels).astype(small)[accounts.codes]
        contact_table = arrow_key_table(halves())
        people = contact_columns(
            contact_table, contacts, positions_in(space, contact_accounts).astype(small)
        )
        filled = written == 0  # no account written: take the contact's, if known
        if filled.any():
            filled &= people.known
        return EventRows(
            times=times.result(),
            activity=activity.result(),
            contact_table=contact_table,
            account=np.where(filled, people.account, written) if filled.any() else written,
            account_labels=np.asarray(labels, dtype=object),
            int_account_ids=accounts.typed_int,
            contact_codes=people.codes,
            contact_account=people.account,
            anonymous=people.anonymous,
            filled=filled,
        )


@dataclass
class ContactColumns:
    """Per event row: its contact's code (-1 when anonymous or unknown), whether it is
    anonymous or known, and the code of its contact's account (0 when not known; the type of
    the accounts given). Contact codes are int32 (the EventLog's int64 column is made when the
    rows are sorted)."""

    codes: np.ndarray
    anonymous: np.ndarray
    account: np.ndarray

    @property
    def known(self) -> np.ndarray:
        return self.codes >= 0


def contact_columns(
    keys: Keys | ArrowKeys, contacts: pd.Index, accounts: np.ndarray
) -> ContactColumns:
    """The :class:`ContactColumns` of the rows' contact ``keys``, with ``contacts`` the index
    of the contacts file's keys and ``accounts`` the account code of each of its contacts:
    worked out once per distinct key, then one gather per column (see
    :func:`contact_columns_reference`); from :class:`ArrowKeys`, straight from the chunks'
    indices."""
    position = label_positions(contacts, keys.labels)
    position[keys.labels == ""] = _BLANK
    codes = keys.per_row(position)  # one gather; the rest is worked out from it
    anonymous = codes == _BLANK
    np.maximum(codes, -1, out=codes)  # blank or unknown: -1
    accounts = np.asarray(accounts)
    table = np.append(accounts, np.zeros(1, accounts.dtype))  # -1 takes the 0
    return ContactColumns(codes, anonymous, np.take(table, codes))


def label_positions(contacts: pd.Index, labels: np.ndarray) -> np.ndarray:
    """``positions_in(contacts, labels)`` for the contacts' keys (distinct: the reader checks).
    Labels that begin with those keys in their order (the events' ids encoded against the
    contacts' ids, :func:`sim.real.formats.encode_known`) are at their own positions: only the
    labels after them are looked up ("" is no contact's: the reader refuses an empty id)."""
    n = len(contacts)
    labels = np.asarray(labels)
    if not (n and len(labels) >= n and np.array_equal(labels[:n], contacts.to_numpy())):
        return positions_in(contacts, labels)
    rest = labels[n:]
    found = np.full(len(rest), -1, dtype=np.int32)  # "" (no contact's id) needs no lookup
    ask = rest != ""
    if ask.any():
        found[ask] = positions_in(contacts, rest[ask])
    return np.concatenate([np.arange(n, dtype=np.int32), found])


# A blank contact id's position while the rows are gathered (then -1, as an unknown one).
_BLANK = -2


def contact_columns_reference(
    keys: Keys, contacts: pd.Index, accounts: np.ndarray
) -> ContactColumns:
    """Row by row: the reference for :func:`contact_columns`."""
    codes, anonymous, account = [], [], []
    for row in range(len(keys)):
        key = keys[row]
        at = int(contacts.get_loc(key)) if key != "" and key in contacts else -1
        codes.append(at)
        anonymous.append(key == "")
        account.append(int(accounts[at]) if at >= 0 else 0)
    return ContactColumns(
        np.array(codes, dtype=np.int32), np.array(anonymous, bool), np.array(account, np.int64)
    )


def _kept(mask: np.ndarray, bad: np.ndarray) -> int:
    return int(np.count_nonzero(mask)) - int(np.count_nonzero(mask & bad))


def _reasons(rows: EventRows) -> np.ndarray:
    """Per row: the index in SKIP_REASONS of its first problem, or -1."""
    assert rows.anonymous is not None  # not checked yet
    known = rows.contact_codes >= 0
    unknown = ~np.isin(rows.activity.labels, list(ACTIVITIES))  # per distinct name
    problems = {
        "bad_time": rows.times.bad,
        "time_out_of_range": out_of_range(rows.times.values),
        "unknown_activity": unknown[rows.activity.codes] if unknown.any() else None,
        "unknown_contact": ~rows.anonymous & ~known,
        "account_mismatch": known & (rows.account != rows.contact_account),
        "missing_account": rows.account == rows.empty_account,
    }
    reason = np.full(len(rows.contact_codes), -1, dtype=np.int8)
    for k in range(len(SKIP_REASONS) - 1, -1, -1):
        rows_with = problems[SKIP_REASONS[k]]
        if rows_with is not None and rows_with.any():  # usually none: no pass to mark them
            reason[rows_with] = k
    return reason


def kept_rows(
    rows: EventRows, src: Source, co_src: Source, contact_ids: np.ndarray, skip_bad_rows: bool
) -> KeptRows:
    """Classify the rows; raise for the first bad one unless ``skip_bad_rows``, then drop and
    count them. Raises when no row is left."""
    reason = _reasons(rows)
    bad = reason >= 0
    assert rows.anonymous is not None and rows.filled is not None  # not checked yet
    kept = KeptRows(~bad, _kept(rows.anonymous, bad), _kept(rows.filled, bad))
    if bad.any():
        counts = np.bincount(reason[bad], minlength=len(SKIP_REASONS))
        if not skip_bad_rows:
            raise _bad_row_error(rows, reason, counts, src, co_src, contact_ids)
        firsts = {
            SKIP_REASONS[k]: first_true(reason == k) for k in range(len(SKIP_REASONS)) if counts[k]
        }
        values = {
            "bad_time": rows.times.text_at,
            "time_out_of_range": rows.times.text_at,
            "unknown_activity": rows.activity.__getitem__,
            "unknown_contact": rows.contact_keys.__getitem__,
            "account_mismatch": rows.account_at,
            "missing_account": rows.account_at,
        }
        if src.kind == "csv":
            src.lines(sorted(firsts.values()))
        for r, i in firsts.items():
            kept.skipped[r] = int(counts[SKIP_REASONS.index(r)])
            kept.first_skipped[r] = f"{src.where(i)}: '{values[r](i)}'"
    if not kept.keep.any():
        raise DataError(
            f"{src.name}: no usable events: all rows were skipped ("
            + ", ".join(f"{v:,} with {REASON_TEXT[k]}" for k, v in kept.skipped.items())
            + ")"
        )
    return kept


def _bad_row_error(
    rows: EventRows,
    reason: np.ndarray,
    counts: np.ndarray,
    src: Source,
    co_src: Source,
    contact_ids: np.ndarray,
) -> DataError:
    """The error for the first bad row, with the count of bad rows per reason."""
    bad = reason >= 0
    i = first_true(bad)
    text = _event_problem(SKIP_REASONS[reason[i]], i, rows, co_src, contact_ids)
    summary = ", ".join(
        f"{counts[k]:,} with {REASON_TEXT[SKIP_REASONS[k]]}"
        for k in range(len(SKIP_REASONS))
        if counts[k]
    )
    return DataError(
        src.at(i, text) + f". {plural(int(bad.sum()), 'bad row')} in all ({summary});"
        " with --skip-bad-rows they are dropped and counted"
    )


def _event_problem(
    reason: str, i: int, rows: EventRows, co_src: Source, contact_ids: np.ndarray
) -> str:
    """The message for bad event row ``i`` (without file and line)."""
    if reason == "bad_time":
        v = rows.times.text_at(i)
        return f"unparseable timestamp '{v}' ({ISO_HINT})" if v else "empty timestamp"
    if reason == "time_out_of_range":
        return f"timestamp '{rows.times.text_at(i)}' out of range: {RANGE_TEXT}"
    if reason == "unknown_activity":
        v = rows.activity[i]
        head = f"unknown activity '{v}'{did_you_mean(v, ACTIVITIES)}" if v else "empty activity"
        return f"{head}; expected one of: {', '.join(ACTIVITIES)}"
    if reason == "unknown_contact":
        v = rows.contact_keys[i]
        hint = ""
        if v.endswith(".0") and v[:-2] in set(contact_ids):
            hint = f" (it looks like '{v[:-2]}' written as a decimal; ids are compared as text)"
        elif v == "-1":
            hint = " (anonymous touches leave contact_id empty)"
        return f"contact_id '{v}' is not in {co_src.name}{hint}"
    if reason == "account_mismatch":
        return (
            f"account_id '{rows.account_at(i)}' differs from the account of contact "
            f"'{rows.contact_keys[i]}' in {co_src.name} ('{rows.contact_account_at(i)}')"
        )
    return "empty account_id on an anonymous row (contact_id empty): its account is unknown"


def duplicate_events(
    rows: EventRows, events: pd.DataFrame, at: np.ndarray, optional: dict[str, Keys]
) -> int:
    """Kept event rows identical to an earlier one, as the file wrote them. Only rows sharing
    their (account, time) with a neighbour in the sorted events can be one: the rest are never
    compared."""
    account = events["account_id"].to_numpy()
    time = events["time"].to_numpy()
    same = (account[1:] == account[:-1]) & (time[1:] == time[:-1])
    shared = np.zeros(len(account), dtype=bool)
    shared[1:] |= same
    shared[:-1] |= same
    if not shared.any():
        return 0
    rows_at = np.sort(at[shared])  # in file order: "earlier" is earlier in the file
    frame = pd.DataFrame(
        {
            "t": rows.times.text_of(rows_at),
            "a": rows.account[rows_at],
            "c": rows.contact_codes[rows_at],  # a kept row's contact is known, or anonymous
            "x": rows.activity.codes[rows_at],
            **{c: k.codes[rows_at] for c, k in optional.items()},
        }
    )
    return int(frame.duplicated().sum())
