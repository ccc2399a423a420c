"""The opportunities file of a real export: several CRM opportunities per account
(``account_id``, ``opportunity_id``, ``created``; optional ``closed``, ``status``, ``amount``,
``type``), read, checked row by row, and turned into the :data:`~sim.tables.OPPORTUNITIES`
table. An accounts file's outcome columns become the same table (one opportunity per account,
of type ``new_business``), so scoring only ever sees opportunities.

Rules (each broken one is a ``DataError`` naming the file, the line and the value):

- ``opportunity_id`` is unique and not empty; ``account_id`` and ``created`` are not empty;
- ``status`` is ``open``, ``won`` or ``lost`` after case-folding and stripping (map a CRM's own
  names with the mapping's value maps); empty means "not said": ``open`` without a close date,
  unknown (``""`` in the table) with one. Without a status column the same holds for every row;
- ``won`` and ``lost`` need a ``closed`` date (a lost quote without one would count as open
  and make every fitted win rate 1.0); ``open`` may not have one; ``closed`` may not precede
  ``created``;
- ``amount`` is a finite number, not negative (empty: unknown);
- ``type`` is compared case- and space-insensitively: it is stored case-folded with runs of
  spaces and hyphens as ``_`` (``New Business`` → ``new_business``). Without a type column
  every opportunity is ``new_business``; an empty type is unknown (``""``) and never counted.

The same checks run on each chunk ``qualsim import`` streams (:func:`check_chunk`), so a bad
row is reported with the line of the user's own raw file, and duplicate ids are caught across
chunks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from sim.errors import DataError
from sim.real.accounts_file import AccountsFile, read_accounts_file
from sim.real.conversions import as_text, check_not_empty, first_true, id_keys, numbers
from sim.real.inputs import INPUT_FILES
from sim.real.reports import FileReport, ImportReport
from sim.real.sources import Source
from sim.real.time_range import check_in_range
from sim.real.timestamps import ISO_HINT, Times, parse_times
from sim.tables import ACCOUNT_OUTCOMES, OPPORTUNITIES
from sim.vocab import NEW_BUSINESS, OPPORTUNITY_STATUSES

__all__ = [
    "ChunkSource",
    "OpportunitiesFile",
    "check_chunk",
    "normalise_types",
    "read_opportunities_file",
]


def normalise_types(values: Iterable[object]) -> np.ndarray:
    """Opportunity types as compared: stripped, case-folded, runs of spaces/hyphens → ``_``
    (each distinct value worked out once).

    >>> list(normalise_types(["New Business", " new-business ", "Renewal", ""]))
    ['new_business', 'new_business', 'renewal', '']
    """
    codes, uniques = pd.factorize(pd.Series(list(values), dtype=object).fillna(""))
    u = pd.Series(uniques, dtype=object).astype(str).str.strip().str.casefold()
    norm = u.str.replace(r"[\s\-]+", "_", regex=True).to_numpy(dtype=object)
    return norm[codes] if len(norm) else np.array([], dtype=object)


class ChunkSource(Source):
    """A chunk of a raw file being imported, posing as a loaded ``Source`` so that the same
    checks report the raw file's own line (``lines``: the line of each row)."""

    def __init__(
        self,
        df: pd.DataFrame,
        name: str,
        records: np.ndarray,
        role: str,
        place: Callable[[int], str],
    ):
        self.df = df.reset_index(drop=True)
        self.name = name
        self.path = Path(name)
        self.role = role
        self.kind = "csv"
        self.records = np.asarray(records, np.int64)  # each row's record in the raw file
        self.place = place  # a record's place in the raw file, e.g. "line 7"
        self.ignored = ()
        self._line_cache: dict[int, int] = {}

    def where(self, row: int) -> str:
        return self.place(int(self.records[int(row)]))


@dataclass
class OpportunitiesFile:
    """What the opportunities file says, row by row (checked)."""

    account_keys: np.ndarray
    int_account_ids: bool
    ids: np.ndarray
    times: dict[str, Times]  # created, and closed when the file has it
    status: np.ndarray  # open / won / lost, "" where closed without a status
    amount: np.ndarray  # float, NaN where empty
    type: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))


def read_opportunities_file(
    src: Source | None, seen: dict[str, int] | None = None
) -> OpportunitiesFile | None:
    """Read and check the opportunities file (None without one). ``seen`` maps ids already
    read (an earlier chunk) to where they were, and is updated."""
    if src is None:
        return None
    accounts, int_accounts = id_keys(src.df["account_id"])
    check_not_empty(src, accounts, "account_id", "every opportunity needs its account")
    ids, _ = id_keys(src.df["opportunity_id"])
    check_not_empty(src, ids, "opportunity_id", "every opportunity needs an id")
    _check_unique(src, ids, "opportunity_id", seen)
    times = {"created": _times(src, "created", required=True)}
    if "closed" in src.df.columns:
        times["closed"] = _times(src, "closed", required=False)
    closed = times.get("closed")
    if closed is not None:
        _check_order(src, times["created"], closed)
    status = _status(src, closed)
    amount = numbers(src, "amount") if "amount" in src.df.columns else np.full(len(ids), np.nan)
    neg = amount < 0
    if neg.any():
        i = first_true(neg)
        raise DataError(src.at(i, f"amount '{as_text(src.df['amount'])[i]}' is negative"))
    endless = np.isinf(amount)
    if endless.any():
        i = first_true(endless)
        raise DataError(src.at(i, f"amount '{as_text(src.df['amount'])[i]}' is not finite"))
    kinds = (
        normalise_types(as_text(src.df["type"]))
        if "type" in src.df.columns
        else np.full(len(ids), NEW_BUSINESS, dtype=object)
    )
    return OpportunitiesFile(accounts, int_accounts, ids, times, status, amount, kinds)


def _check_unique(src: Source, keys: np.ndarray, column: str, seen: dict[str, int] | None) -> None:
    """No id twice: in this file (or chunk), nor among ``seen`` (ids of earlier chunks and
    their records; updated with these; ``src`` is then a :class:`ChunkSource`)."""
    earlier = seen if seen is not None else {}
    dup = pd.Series(keys).duplicated().to_numpy()
    if earlier:
        dup = dup | pd.Series(keys).isin(earlier.keys()).to_numpy()
    if dup.any():
        j = first_true(dup)
        first = (
            src.place(earlier[keys[j]])
            if keys[j] in earlier and isinstance(src, ChunkSource)
            else src.where(first_true(keys == keys[j]))
        )
        raise DataError(
            src.at(j, f"duplicated {column} '{keys[j]}' (first on {first}); each must appear once")
        )
    if seen is not None:
        assert isinstance(src, ChunkSource)
        seen.update(zip(keys, src.records.tolist(), strict=True))


def _times(src: Source, column: str, required: bool) -> Times:
    t = parse_times(src.df[column])
    bad = t.bad & (t.text != "")
    if bad.any():
        i = first_true(bad)
        raise DataError(src.at(i, f"unparseable {column} '{t.text[i]}' ({ISO_HINT})"))
    check_in_range(src, column, t)
    if required and t.bad.any():
        i = first_true(t.bad)
        raise DataError(src.at(i, f"empty {column}: every opportunity needs the date it opened"))
    return t


def _check_order(src: Source, created: Times, closed: Times) -> None:
    early = ~np.isnat(closed.values) & (closed.values < created.values)
    if early.any():
        i = first_true(early)
        raise DataError(
            src.at(i, f"closed '{closed.text[i]}' is before created '{created.text[i]}'")
        )


def _status(src: Source, closed: Times | None) -> np.ndarray:
    """The checked statuses: open / won / lost, "" for a closed opportunity without one."""
    n = len(src.df)
    has_close = ~closed.bad if closed is not None else np.zeros(n, bool)
    raw = as_text(src.df["status"]) if "status" in src.df.columns else np.full(n, "", object)
    codes, uniques = pd.factorize(pd.Series(raw, dtype=object))
    folded = np.array([u.casefold() for u in uniques], dtype=object)
    status = folded[codes] if len(folded) else np.array([], dtype=object)
    unknown = (status != "") & ~np.isin(status, list(OPPORTUNITY_STATUSES))
    if unknown.any():
        i = first_true(unknown)
        raise DataError(
            src.at(
                i,
                f"status '{raw[i]}' is not one of {', '.join(OPPORTUNITY_STATUSES)} "
                "(map your CRM's statuses with the mapping's value maps)",
            )
        )
    ended = np.isin(status, ["won", "lost"]) & ~has_close
    if ended.any():
        i = first_true(ended)
        raise DataError(
            src.at(
                i,
                f"status '{raw[i]}' without a closed date: a {status[i]} opportunity needs the "
                "date it closed (without one it would count as open)",
            )
        )
    still = (status == "open") & has_close
    if still.any():
        i = first_true(still)
        assert closed is not None
        raise DataError(src.at(i, f"status '{raw[i]}' with a closed date '{closed.text[i]}'"))
    return np.where(status == "", np.where(has_close, "", "open"), status).astype(object)


def check_chunk(
    df: pd.DataFrame,
    role: str,
    name: str,
    records: np.ndarray,
    seen: dict[str, int],
    place: Callable[[int], str],
) -> None:
    """The checks of ``read_log`` on one chunk of canonical text columns being imported (role
    ``opportunities``, or ``accounts`` with its outcome columns; other roles: nothing), naming
    the raw file ``name`` and the place of each row (``place`` of its raw ``records``, e.g.
    ``line 7``); ``seen`` (updated) catches ids repeated across chunks."""
    if role not in ("opportunities", "accounts") or len(df) == 0:
        return
    src = ChunkSource(df, name, records, role, place)
    if role == "opportunities":
        read_opportunities_file(src, seen)
    elif role == "accounts":
        found = read_accounts_file(src)
        _check_unique(src, found.keys, "account_id", seen)


# -- tables --------------------------------------------------------------------------------------


def opportunity_table(
    op: OpportunitiesFile, accounts: pd.Index, days: Callable[[np.ndarray], np.ndarray]
) -> pd.DataFrame:
    """The :data:`~sim.tables.OPPORTUNITIES` table of an opportunities file, in file order."""
    closed = op.times.get("closed")
    n = len(op.ids)
    return pd.DataFrame(
        {
            "account_id": accounts.get_indexer(op.account_keys).astype(np.int64),
            "opportunity_id": pd.Series(op.ids, dtype=str),
            "created": days(op.times["created"].values),
            "closed": days(closed.values) if closed is not None else np.full(n, np.nan),
            "status": pd.Series(op.status, dtype=str),
            "amount": op.amount,
            "type": pd.Series(op.type, dtype=str),
        }
    )[OPPORTUNITIES.names]


def from_outcomes(outcomes: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """An accounts file's outcomes (:data:`~sim.tables.ACCOUNT_OUTCOMES`) as opportunities: one
    per account with an opportunity_date, its id the account's, of type ``new_business``."""
    o = outcomes[~np.isnan(outcomes["opportunity_date"].to_numpy(float))]
    closed = o["close_date"].to_numpy(float)
    won = o["won"].to_numpy(dtype=object, na_value=None)
    status = np.where(
        np.isnan(closed),
        "open",
        np.where(won == True, "won", np.where(won == False, "lost", "")),  # noqa: E712
    )
    acc = o["account_id"].to_numpy(np.int64)
    return pd.DataFrame(
        {
            "account_id": acc,
            "opportunity_id": pd.Series([str(x) for x in labels[acc]], dtype=str),
            "created": o["opportunity_date"].to_numpy(float),
            "closed": closed,
            "status": pd.Series(status, dtype=str),
            "amount": o["value"].to_numpy(float),
            "type": pd.Series([NEW_BUSINESS] * len(o), dtype=str),
        }
    )[OPPORTUNITIES.names]


def to_outcomes(opps: pd.DataFrame, n_accounts: int, counted: Iterable[str]) -> pd.DataFrame:
    """One row per account code (:data:`~sim.tables.ACCOUNT_OUTCOMES`): its first counted
    opportunity (earliest created; file order on ties), NaN / NA for accounts without one."""
    kinds = frozenset(normalise_types(counted))
    c = opps[opps["type"].isin(kinds)]
    first = c.sort_values(["account_id", "created"], kind="stable").drop_duplicates("account_id")
    acc = first["account_id"].to_numpy(np.int64)
    opened = np.full(n_accounts, np.nan)
    closed = np.full(n_accounts, np.nan)
    value = np.full(n_accounts, np.nan)
    opened[acc] = first["created"].to_numpy(float)
    closed[acc] = first["closed"].to_numpy(float)
    value[acc] = first["amount"].to_numpy(float)
    won = pd.array(np.zeros(n_accounts, dtype=bool), dtype="boolean")
    won[:] = pd.NA
    status = first["status"].to_numpy(object)
    decided = np.isin(status, ["won", "lost"])
    won[acc[decided]] = status[decided] == "won"
    columns = {
        "account_id": np.arange(n_accounts, dtype=np.int64),
        "opportunity_date": opened,
        "close_date": closed,
        "won": won,
        "value": value,
    }
    return pd.DataFrame(columns)[ACCOUNT_OUTCOMES.names]


# -- the hook of read_log ------------------------------------------------------------------------


def load_opportunities(
    path, accounts: AccountsFile, ac_src: Source | None
) -> tuple[Source | None, OpportunitiesFile | None]:
    """Load and check the opportunities file (nothing without one); refuse outcomes given both
    in the accounts file and in an opportunities file."""
    if path is None:
        return None, None
    if accounts.outcome_times and ac_src is not None:
        raise DataError(
            f"{ac_src.name}: the accounts file has outcome columns "
            f"({', '.join(accounts.outcome_times)}) and an opportunities file ({path}) is given "
            "too; give the outcomes in one place (the opportunities file holds several per "
            "account)"
        )
    required, optional = INPUT_FILES["opportunities"]
    src = Source(path, "opportunities", required, optional)
    return src, read_opportunities_file(src)


def opportunity_times(op: OpportunitiesFile | None) -> dict[str, Times]:
    """The opportunities' dates, for the time-zone rule and the log's time frame."""
    return op.times if op is not None else {}


def opportunity_accounts(op: OpportunitiesFile | None) -> tuple[np.ndarray, bool]:
    """The account keys of the opportunities (added to the log's accounts when unknown), and
    whether they were typed integers (True without a file: it does not decide)."""
    if op is None:
        return np.array([], dtype=object), True
    return op.account_keys, op.int_account_ids


def report_opportunities(
    report: ImportReport, src: Source | None, opps: pd.DataFrame | None
) -> ImportReport:
    """The read report with the opportunities file's rows and its opportunities per type."""
    if src is None or opps is None:
        return report
    n = len(opps)
    types = opps["type"].value_counts()
    return dataclasses.replace(
        report,
        opportunities=FileReport(src.name, n, n, ignored_columns=src.ignored),
        opportunity_types={str(k): int(v) for k, v in types.items()},
    )


def opportunities_of(
    op: OpportunitiesFile | None,
    outcomes: pd.DataFrame | None,
    outcome_format: Literal["date", "datetime"] | None,
    account_keys: np.ndarray,
    days: Callable[[np.ndarray], np.ndarray],
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, Literal["date", "datetime"] | None]:
    """The log's opportunities, its per-account outcomes (the first ``new_business`` one) and
    whether every outcome date is a plain date: from the opportunities file when there is one,
    else from the accounts file's outcome columns (or None, None, None without either)."""
    if op is None:
        if outcomes is None:
            return None, None, None
        return from_outcomes(outcomes, np.asarray(account_keys, object)), outcomes, outcome_format
    index = pd.Index(account_keys)
    opps = opportunity_table(op, index, days)
    plain = all(bool(np.all(t.date[~t.bad])) for t in op.times.values())
    outcomes = to_outcomes(opps, len(account_keys), (NEW_BUSINESS,))
    return opps, outcomes, "date" if plain else "datetime"
