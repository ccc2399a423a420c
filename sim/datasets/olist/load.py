"""Reading the Olist files (``read_mqls``) and turning them into the three tables qualsim
reads (``load_olist``, ``write_olist``). See :mod:`sim.datasets.olist` for every choice."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TypeAlias

import numpy as np
import pandas as pd

from sim.errors import DataError
from sim.files import write_tables
from sim.real.sources import TEXT_CSV

MQL_FILE = "olist_marketing_qualified_leads_dataset.csv"
DEALS_FILE = "olist_closed_deals_dataset.csv"
MQL_COLUMNS = ("mql_id", "first_contact_date", "landing_page_id", "origin")
DEALS_COLUMNS = ("mql_id", "won_date")
ACTIVITY = "content_download"  # the landing-page sign-up form (see the package doc)
UNKNOWN_ORIGIN = "unknown"
FOLDER_VARIABLE = "QUALSIM_OLIST"
DATASET = (
    "the 'Marketing Funnel by Olist' dataset (Kaggle: olistbr/marketing-funnel-olist, "
    "CC BY-NC-SA 4.0)"
)

# An Olist folder (None: the default one), or the frame read_mqls returns.
FolderOrFrame: TypeAlias = str | Path | pd.DataFrame | None


def default_folder() -> Path:
    """Where the Olist files are when no folder is given: ``$QUALSIM_OLIST``. Raises
    ``DataError`` when it is not set."""
    env = os.environ.get(FOLDER_VARIABLE)
    if not env:
        raise DataError(
            f"no Olist folder given: pass the folder, or set {FOLDER_VARIABLE} to a folder "
            f"with {MQL_FILE} and {DEALS_FILE}; download {DATASET}"
        )
    return Path(env)


# --------------------------------------------------------------------------------------------
# Reading the two files


def _read_csv(path: Path, what: str, columns: Sequence[str]) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(
            f"{path}: file not found; expected the Olist {what} file "
            f"(CSV with columns {', '.join(columns)})"
        )
    try:
        df = pd.read_csv(path, **TEXT_CSV)
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the file is empty; expected the Olist {what} file with a header line "
            f"({', '.join(columns)})"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"{path}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)}; the Olist {what} file needs "
            f"{', '.join(columns)}; columns found: {', '.join(df.columns) or '(none)'}"
        )
    for c in columns:
        df[c] = df[c].str.strip()
    return df


def _line(i: int) -> int:
    """Data row i (0-based) → its line in the file (header = line 1; Olist has no quoted line
    breaks)."""
    return int(i) + 2


def _ids(df: pd.DataFrame, path: Path) -> None:
    empty = (df["mql_id"] == "").to_numpy()
    if empty.any():
        raise DataError(f"{path}, line {_line(np.flatnonzero(empty)[0])}: empty mql_id")
    dup = df["mql_id"].duplicated().to_numpy()
    if dup.any():
        j = int(np.flatnonzero(dup)[0])
        raise DataError(
            f"{path}, line {_line(j)}: duplicated mql_id '{df['mql_id'].iat[j]}'; "
            "each MQL must appear once"
        )


def _dates(df: pd.DataFrame, column: str, path: Path) -> pd.Series:
    text = df[column]
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    bad = (parsed.isna() | (text == "")).to_numpy()
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}, line {_line(j)}: {column} '{text.iat[j]}' is not a date "
            "(expected e.g. 2018-02-01 or 2018-02-26 19:58:54)"
        )
    if getattr(parsed.dtype, "tz", None) is not None:
        raise DataError(f"{path}: {column} has a time zone; Olist's dates have none")
    return parsed


def read_mqls(folder: str | Path | None = None) -> pd.DataFrame:
    """One row per MQL: ``mql_id``, ``first_contact_date`` (text), ``landing_page_id``,
    ``origin`` (empty → ``"unknown"``), ``won_date`` (text, empty if not won), ``mql_time`` and
    ``won_time`` (timestamps, NaT if not won) and ``days_to_won``: fractional days from midnight
    of first_contact_date to won_date (NaN if not won).

    Raises ``DataError`` naming the folder or file when it is missing, lacks a column, or has
    an empty or duplicated mql_id, an unparseable date, or a deal whose MQL is unknown.
    """
    root = Path(folder) if folder is not None else default_folder()
    if not root.is_dir():
        raise DataError(
            f"{root}: Olist folder not found; expected a folder with {MQL_FILE} and "
            f"{DEALS_FILE} ({DATASET})"
        )
    mql_path, deals_path = root / MQL_FILE, root / DEALS_FILE
    mqls = _read_csv(mql_path, "marketing-qualified leads", MQL_COLUMNS)
    deals = _read_csv(deals_path, "closed deals", DEALS_COLUMNS)
    _ids(mqls, mql_path)
    _ids(deals, deals_path)
    mql_time = _dates(mqls, "first_contact_date", mql_path)
    won_time = _dates(deals, "won_date", deals_path)
    orphan = ~deals["mql_id"].isin(mqls["mql_id"]).to_numpy()
    if orphan.any():
        j = int(np.flatnonzero(orphan)[0])
        raise DataError(
            f"{deals_path}, line {_line(j)}: mql_id '{deals['mql_id'].iat[j]}' is not in "
            f"{mql_path} ({int(orphan.sum()):,} such deals); every won deal must be an MQL"
        )
    out = mqls[list(MQL_COLUMNS)].copy()
    out["origin"] = out["origin"].where(out["origin"] != "", UNKNOWN_ORIGIN)
    won = pd.Series(won_time.to_numpy(), index=deals["mql_id"].to_numpy())
    won_text = pd.Series(deals["won_date"].to_numpy(), index=deals["mql_id"].to_numpy())
    out["won_date"] = won_text.reindex(out["mql_id"]).fillna("").to_numpy(dtype=object)
    out["mql_time"] = mql_time.to_numpy()
    out["won_time"] = won.reindex(out["mql_id"]).to_numpy()
    out["days_to_won"] = (out["won_time"] - out["mql_time"]).dt.total_seconds() / 86400
    return out


def cohort(mqls: pd.DataFrame, start: str | None, end: str | None) -> pd.DataFrame:
    """The MQLs whose first_contact_date is in [``start``, ``end``) (None: unbounded)."""
    keep = np.ones(len(mqls), dtype=bool)
    if start is not None:
        keep &= (mqls["mql_time"] >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (mqls["mql_time"] < pd.Timestamp(end)).to_numpy()
    return mqls[keep]


def mqls_of(source: FolderOrFrame) -> pd.DataFrame:
    """The MQLs of an Olist folder (default :func:`default_folder`) or of a frame."""
    return source if isinstance(source, pd.DataFrame) else read_mqls(source)


# --------------------------------------------------------------------------------------------
# The tables qualsim reads


def load_olist(
    folder: FolderOrFrame = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, pd.DataFrame]:
    """The Olist funnel as ``{"events", "contacts", "accounts"}`` tables of text, in the CSV
    format :func:`sim.real.read_log` reads (see :mod:`sim.datasets.olist` for every choice).
    ``since`` (inclusive) and ``until`` (exclusive) keep the MQLs whose first_contact_date falls
    between them; ``folder`` may also be the frame ``read_mqls`` returns."""
    m = cohort(mqls_of(folder), since, until)
    if m.empty:
        raise DataError(f"no Olist MQL with a first_contact_date in [{since}, {until})")
    ids = m["mql_id"].to_numpy(dtype=object)
    won = (m["won_date"] != "").to_numpy()
    won_date = m["won_date"].to_numpy(dtype=object)
    events = pd.DataFrame(
        {
            "timestamp": m["first_contact_date"].to_numpy(dtype=object),
            "account_id": ids,
            "contact_id": ids,
            "activity": ACTIVITY,
            "channel": m["origin"].to_numpy(dtype=object),
            "campaign": m["landing_page_id"].to_numpy(dtype=object),
        }
    )
    contacts = pd.DataFrame({"contact_id": ids, "account_id": ids, "title": ""})
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "opportunity_date": won_date,
            "close_date": won_date,
            "won": np.where(won, "true", ""),
        }
    )
    return {"events": events, "contacts": contacts, "accounts": accounts}


def write_olist(
    out: str | Path,
    folder: FolderOrFrame = None,
    since: str | None = None,
    until: str | None = None,
) -> list[Path]:
    """Write :func:`load_olist`'s tables to ``out/events.csv``, ``contacts.csv`` and
    ``accounts.csv`` (atomically) for ``qualsim evaluate --events ... --contacts ...
    --accounts ...``. Returns the paths written. Keep ``out`` outside the repository (the
    licence is non-commercial share-alike)."""
    return write_tables(load_olist(folder, since, until), out, "csv")
