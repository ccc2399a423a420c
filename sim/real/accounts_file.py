"""The accounts file of a real export: ids, ``tier`` and ``icp_fit``, and the CRM outcomes
(one opportunity per account: ``opportunity_date``, ``close_date``, ``won``, ``value``).

``tier`` is float64 (NaN = unknown) and must be a whole number; ``icp_fit`` is float64 in
[0, 1]. ``won`` is a nullable boolean (NA where empty); ``close_date`` needs an
``opportunity_date`` and may not precede it; a ``won`` given for an opportunity needs its
``close_date`` (a lost opportunity without one would count as open).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from sim.config.strict_yaml import did_you_mean
from sim.errors import DataError
from sim.real.conversions import (
    as_text,
    booleans,
    check_not_empty,
    check_unique,
    first_true,
    id_keys,
    numbers,
)
from sim.real.inputs import CRM_OUTCOME_COLUMNS
from sim.real.sources import Source
from sim.real.time_range import check_in_range
from sim.real.timestamps import ISO_HINT, Times, parse_times
from sim.tables import ACCOUNT_OUTCOMES

OUTCOME_DATES = ("opportunity_date", "close_date")


@dataclass
class AccountsFile:
    """What the accounts file says, row by row (empty without one): the id ``keys`` and whether
    they were typed integers, the attributes (tier, icp_fit) and the outcome columns."""

    keys: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    int_ids: bool | None = None  # None: no accounts file
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    outcome_values: dict[str, object] = field(default_factory=dict)  # won, value
    outcome_times: dict[str, Times] = field(default_factory=dict)


def read_accounts_file(src: Source | None) -> AccountsFile:
    """Read and check the accounts file (nothing without one)."""
    if src is None:
        return AccountsFile()
    keys, int_ids = id_keys(src.df["account_id"])
    check_not_empty(src, keys, "account_id", "every account needs an id")
    check_unique(src, keys, "account_id")
    found = AccountsFile(keys, int_ids)
    cols = set(src.df.columns)
    if "tier" in cols:
        found.attributes["tier"] = _tier(src)
    if "icp_fit" in cols:
        found.attributes["icp_fit"] = _icp_fit(src)
    found.outcome_times = _outcome_times(src)
    if "opportunity_date" in found.outcome_times:
        if "won" in cols:
            found.outcome_values["won"] = booleans(src, "won")
            _check_decided_closed(src, found.outcome_values["won"], found.outcome_times)
        if "value" in cols:
            found.outcome_values["value"] = numbers(src, "value")
    return found


def _tier(src: Source) -> np.ndarray:
    tier = numbers(src, "tier")
    frac = ~np.isnan(tier) & (np.mod(tier, 1) != 0)
    if frac.any():
        i = first_true(frac)
        raise DataError(
            src.at(
                i,
                f"tier '{as_text(src.df['tier'])[i]}' is not a whole number (1 = most strategic)",
            )
        )
    return tier


def _icp_fit(src: Source) -> np.ndarray:
    fit = numbers(src, "icp_fit")
    out = ~np.isnan(fit) & ((fit < 0) | (fit > 1))
    if out.any():
        i = first_true(out)
        raise DataError(src.at(i, f"icp_fit '{as_text(src.df['icp_fit'])[i]}' is outside [0, 1]"))
    return fit


def _outcome_times(src: Source) -> dict[str, Times]:
    """The parsed outcome dates; raises for outcomes without an opportunity_date column, an
    unparseable date, a close without an opening, or a close before the opening."""
    cols = set(src.df.columns)
    present = [c for c in CRM_OUTCOME_COLUMNS if c in cols]
    if present and "opportunity_date" not in cols:
        raise DataError(
            f"{src.name}: outcome column{'s' if len(present) > 1 else ''} "
            f"{', '.join(present)} given without 'opportunity_date'"
            f"{did_you_mean('opportunity_date', list(src.df.columns))}; outcomes need "
            "the date each account's opportunity was opened"
        )
    times: dict[str, Times] = {}
    for c in OUTCOME_DATES:
        if c in cols:
            t = parse_times(src.df[c])
            bad = t.bad & (t.text != "")
            if bad.any():
                i = first_true(bad)
                raise DataError(src.at(i, f"unparseable {c} '{t.text[i]}' ({ISO_HINT})"))
            check_in_range(src, c, t)
            times[c] = t
    if "opportunity_date" in times and "close_date" in times:
        _check_closes(src, times["opportunity_date"], times["close_date"])
    return times


def _check_decided_closed(src: Source, won, times: dict[str, Times]) -> None:
    """An opportunity won or lost needs its close date: without one it would count as open."""
    decided = ~np.asarray(pd.isna(won), dtype=bool)
    opened = ~np.isnat(times["opportunity_date"].values)
    close = times.get("close_date")
    closed = ~np.isnat(close.values) if close is not None else np.zeros(len(decided), bool)
    bad = decided & opened & ~closed
    if bad.any():
        i = first_true(bad)
        raise DataError(
            src.at(
                i,
                f"won '{as_text(src.df['won'])[i]}' without a close_date: a won or lost "
                "opportunity needs the date it closed (without one it would count as open)",
            )
        )


def _check_closes(src: Source, opened: Times, closed: Times) -> None:
    o, c = opened.values, closed.values
    orphan = np.isnat(o) & ~np.isnat(c)
    if orphan.any():
        i = first_true(orphan)
        raise DataError(src.at(i, f"close_date '{closed.text[i]}' without an opportunity_date"))
    early = ~np.isnat(o) & ~np.isnat(c) & (c < o)
    if early.any():
        i = first_true(early)
        raise DataError(
            src.at(
                i,
                f"close_date '{closed.text[i]}' is before opportunity_date '{opened.text[i]}'",
            )
        )


def outcome_table(
    found: AccountsFile,
    n_accounts: int,
    file_rows: np.ndarray,
    days: Callable[[np.ndarray], np.ndarray],
) -> tuple[pd.DataFrame | None, Literal["date", "datetime"] | None]:
    """The :data:`~sim.tables.ACCOUNT_OUTCOMES` table, one row per account code (``file_rows``:
    the code of each accounts-file row; accounts not in the file have no outcome), and whether
    every outcome date is a plain date; (None, None) without an opportunity_date column."""
    if "opportunity_date" not in found.outcome_times:
        return None, None
    columns: dict[str, object] = {"account_id": np.arange(n_accounts, dtype=np.int64)}
    dated_any = False
    all_plain = True
    for c in OUTCOME_DATES:
        col = np.full(n_accounts, np.nan)
        if c in found.outcome_times:
            t = found.outcome_times[c]
            col[file_rows] = days(t.values)
            dated_any |= bool((~t.bad).any())
            all_plain &= bool(np.all(t.date[~t.bad]))
        columns[c] = col
    won = pd.array(np.zeros(n_accounts, dtype=bool), dtype="boolean")
    won[:] = pd.NA
    if "won" in found.outcome_values:
        won[file_rows] = found.outcome_values["won"]
    columns["won"] = won
    value = np.full(n_accounts, np.nan)
    if "value" in found.outcome_values:
        value[file_rows] = found.outcome_values["value"]
    columns["value"] = value
    outcomes = pd.DataFrame(columns)[ACCOUNT_OUTCOMES.names]
    return outcomes, "date" if (dated_any and all_plain) else "datetime"
