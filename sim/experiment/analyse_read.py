"""Reading the export of a live rollout experiment for :mod:`sim.experiment.analyse`: the
accounts with their arm, the opportunities, optionally the touches.

The files are read and checked by the readers of real exports (:mod:`sim.real`), so a bad
row is a ``DataError`` naming the file, the line and the value:

- ``accounts``: ``account_id`` (unique, not empty) and ``arm`` (``candidate``, ``incumbent``
  or ``holdout``, compared case-insensitively); optional ``tier``;
- ``opportunities``: the canonical opportunities file ``qualsim import`` writes (``created``
  and ``closed`` ISO dates, ``status``, ``amount``) or the one
  :func:`sim.experiment.design_export.write_experiment_export` writes (times as days, with
  ``won`` and ``value``). Times are either all day numbers or all ISO dates. An opportunity is
  won when its ``status`` says ``won`` (without a status column: when ``won`` is true; with
  both, ``won`` must be a boolean that agrees with the status); its
  revenue is ``value`` when the file has that column, else ``amount``. Only opportunities of
  the counted types are read (default ``new_business``; ``type`` compared as
  ``qualsim import`` compares it; without a ``type`` column every one is new business);
- ``events`` (optional): ``account_id`` and ``time`` (days) or ``timestamp`` (ISO).

Times become float days: day numbers as they are, ISO times as days since 1970-01-01.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import ConfigError, DataError
from sim.real.accounts_file import read_accounts_file
from sim.real.conversions import as_text, booleans, first_true, id_keys, numbers
from sim.real.inputs import OPPORTUNITY_COLUMNS, OPPORTUNITY_OPTIONAL
from sim.real.opportunities_file import normalise_types, read_opportunities_file
from sim.real.sources import Source
from sim.real.timestamps import parse_times
from sim.vocab import NEW_BUSINESS

ARM_NAMES = ("candidate", "incumbent", "holdout")
US_PER_DAY = 86_400_000_000
#: day numbers are checked by the real-export reader as times from this day
DAY_ORIGIN = np.datetime64("2000-01-01", "us")


@dataclass
class ExperimentData:
    """An experiment's export, checked: per account (in the accounts file's order) its key and
    arm; per opportunity of a known account its account's position, times (float days; NaN:
    not closed), whether won and its revenue (NaN: unknown)."""

    accounts: pd.DataFrame  # account_id (text key), arm, tier (NaN: unknown)
    opportunities: pd.DataFrame  # account, created, closed, won, value, where
    days: bool  # times were day numbers (else ISO dates, as days since 1970-01-01)
    unknown_rows: int  # opportunities of accounts missing from the accounts file
    unknown_accounts: int
    touches: pd.DataFrame | None = None  # account, time
    other_types: int = 0  # opportunities of types not counted


def read_arms(path: str | Path) -> pd.DataFrame:
    """The accounts file: ``account_id`` keys, ``arm`` and ``tier`` (see the module doc)."""
    src = Source(path, "accounts", ("account_id", "arm"), ("tier",))
    found = read_accounts_file(src)
    arm = np.array([a.strip().casefold() for a in as_text(src.df["arm"])], dtype=object)
    bad = ~np.isin(arm, ARM_NAMES)
    if bad.any():
        i = first_true(bad)
        raise DataError(
            src.at(
                i,
                f"column 'arm': '{as_text(src.df['arm'])[i]}' is not an arm; expected one of "
                f"{', '.join(ARM_NAMES)}",
            )
        )
    tier = found.attributes.get("tier", np.full(len(arm), np.nan))
    return pd.DataFrame({"account_id": found.keys, "arm": arm.astype(str), "tier": tier})


def _day_numbers(src: Source) -> bool:
    """Whether the file's ``created`` times are day numbers (the first filled one is a
    number; then every one must be, else a ``DataError`` names the first that is not)."""
    text = pd.Series(as_text(src.df["created"]), dtype=object)
    filled = text[text != ""]
    if not len(filled) or pd.isna(pd.to_numeric(filled.iloc[:1], errors="coerce")).all():
        return False
    bad = pd.to_numeric(text, errors="coerce").isna().to_numpy() & (text != "").to_numpy()
    if bad.any():
        i = first_true(bad)
        raise DataError(
            src.at(
                i,
                f"created '{text[i]}' is not a day number; expected a number of days like the "
                "file's first created (times are all day numbers or all ISO dates)",
            )
        )
    return True


def _as_datetimes(src: Source, column: str) -> np.ndarray:
    """Day numbers of ``column`` (float; NaN where empty), and the column replaced by times
    from :data:`DAY_ORIGIN` for the real-export checks."""
    days = numbers(src, column)
    late = np.abs(days) > 36_000  # 36,000 days from 2000-01-01 stays within 1970-2099
    if late.any():
        i = first_true(late)
        raise DataError(src.at(i, f"{column} '{days[i]:g}' is not a day number of the experiment"))
    us = np.rint(np.nan_to_num(days) * US_PER_DAY).astype(np.int64)
    stamps = DAY_ORIGIN + us.astype("timedelta64[us]")
    src.df[column] = pd.Series(np.where(np.isnan(days), np.datetime64("NaT"), stamps))
    return days


def _times(src: Source, days: bool) -> dict[str, np.ndarray]:
    """``created`` and ``closed`` as float days (closed NaN where empty or absent)."""
    columns = [c for c in ("created", "closed") if c in src.df.columns]
    if days:
        out = {c: _as_datetimes(src, c) for c in columns}
        if "closed" in out:  # the reader's own check would quote the stand-in times
            early = out["closed"] < out["created"]
            if early.any():
                i = first_true(early)
                what = f"closed {out['closed'][i]:g} is before created {out['created'][i]:g}"
                raise DataError(src.at(i, what))
    else:
        out = {}
        for c in columns:
            t = parse_times(src.df[c]).values.astype("datetime64[us]").astype(np.int64)
            out[c] = np.where(t == np.iinfo(np.int64).min, np.nan, t / US_PER_DAY)
    out.setdefault("closed", np.full(len(src.df), np.nan))
    return out


def _won(src: Source, status: np.ndarray) -> np.ndarray:
    """Whether each opportunity is won: its ``status`` says ``won`` (without a status column:
    ``won`` is true). A ``won`` column is checked even beside a status (a value that is not a
    boolean is an error), and a row whose two say different things is an error naming it."""
    if "won" not in src.df.columns:
        return status == "won"
    flag = booleans(src, "won")
    if "status" not in src.df.columns:
        return flag.fillna(False).to_numpy(bool)
    said = status == "won"
    stated = ~np.asarray(flag.isna(), bool) & (status != "")
    clash = stated & (np.asarray(flag.fillna(False), bool) != said)
    if clash.any():
        i = first_true(clash)
        raise DataError(
            src.at(
                i,
                f"status '{status[i]}' and won '{as_text(src.df['won'])[i]}' disagree; "
                "expected won true exactly when the status is won",
            )
        )
    return said


def read_opportunities(
    path: str | Path, accounts: pd.DataFrame, counted: Sequence[str] = (NEW_BUSINESS,)
) -> tuple[pd.DataFrame, bool, tuple[int, int, int]]:
    """The opportunities of the counted types of the accounts of ``accounts`` (see the module
    doc and :class:`ExperimentData`), whether times are day numbers, and what was left out:
    the rows and distinct accounts of opportunities whose account is not in ``accounts``, and
    the opportunities of other types."""
    extra = ("won", "value", "source")
    src = Source(path, "opportunities", OPPORTUNITY_COLUMNS, (*OPPORTUNITY_OPTIONAL, *extra))
    days = _day_numbers(src)
    times = _times(src, days)  # day numbers: checked, then stand-in times for the reader
    found = read_opportunities_file(src)
    assert found is not None
    won = _won(src, found.status)
    value = numbers(src, "value") if "value" in src.df.columns else found.amount
    keys, _ = id_keys(src.df["account_id"])
    position = pd.Index(accounts["account_id"]).get_indexer(keys)
    known = position >= 0
    kept = np.isin(found.type, normalise_types(counted))
    rows = pd.DataFrame(
        {
            "account": position,
            "created": times["created"],
            "closed": times["closed"],
            "won": won,
            "value": np.where(won, value, 0.0),
            "where": "",
        }
    )
    for i in np.flatnonzero(won & np.isnan(value)):  # where a won deal's revenue is unknown
        rows.loc[i, "where"] = src.at(int(i), "a won opportunity without its revenue")
    left_out = (
        int((~known & kept).sum()),
        int(pd.unique(keys[~known & kept]).size),
        int((known & ~kept).sum()),
    )
    return rows[known & kept].reset_index(drop=True), days, left_out


def read_touches(path: str | Path, accounts: pd.DataFrame, days: bool) -> pd.DataFrame:
    """The events file's touches of known accounts: account position and time (float days;
    ``time`` when the opportunities' times are day numbers, else ``timestamp``)."""
    column = "time" if days else "timestamp"
    src = Source(path, "events", ("account_id", column), ())
    if days:
        t = numbers(src, column)
    else:
        parsed = parse_times(src.df[column])
        if parsed.bad.any():
            i = first_true(parsed.bad)
            raise DataError(src.at(i, f"unparseable {column} '{parsed.text[i]}'"))
        t = parsed.values.astype("datetime64[us]").astype(np.int64) / US_PER_DAY
    keys, _ = id_keys(src.df["account_id"])
    position = pd.Index(accounts["account_id"]).get_indexer(keys)
    keep = position >= 0
    return pd.DataFrame({"account": position[keep], "time": t[keep]})


def parse_start(start: str | float | None, days: bool) -> float:
    """The experiment's start (go-live) as float days: a day number when times are day
    numbers (default 0), an ISO date when they are dates (required)."""
    if start is None or str(start).strip() == "":
        if days:
            return 0.0
        raise ConfigError("--go-live: the export's times are dates; give the go-live date (ISO)")
    text = str(start).strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if days:
        if number is None or not np.isfinite(number):
            raise ConfigError(
                f"--go-live {text!r}: the export's times are day numbers; expected a day number"
            )
        return number
    t = parse_times(pd.Series([text], dtype=object))
    if number is not None or t.bad[0]:
        raise ConfigError(
            f"--go-live {text!r}: the export's times are dates; expected an ISO date such as "
            "2025-03-01"
        )
    return float(t.values.astype("datetime64[us]").astype(np.int64)[0] / US_PER_DAY)


def read_experiment(
    accounts: str | Path,
    opportunities: str | Path,
    events: str | Path | None = None,
    counted: Sequence[str] = (NEW_BUSINESS,),
) -> ExperimentData:
    """Read and check an experiment's export (see the module doc)."""
    arms = read_arms(accounts)
    opps, days, (unknown_rows, unknown_accounts, others) = read_opportunities(
        opportunities, arms, counted
    )
    touches = read_touches(events, arms, days) if events is not None else None
    return ExperimentData(arms, opps, days, unknown_rows, unknown_accounts, touches, others)
