"""The real Olist marketing funnel as a qualsim log: loader, funnel figures, per-channel replay
and the ``smb`` timing check.

The public "Marketing Funnel by Olist" dataset (Kaggle ``olistbr/marketing-funnel-olist``,
CC BY-NC-SA 4.0: attribute Olist, non-commercial use, share alike; never copy it into this
repository) has two CSV files, read from ``../shared/data/olist`` next to the repository by
default (see its SOURCE.md):

- ``olist_marketing_qualified_leads_dataset.csv``: ``mql_id, first_contact_date,
  landing_page_id, origin`` — one row per MQL: a seller who signed up on a landing page;
- ``olist_closed_deals_dataset.csv``: ``mql_id, won_date`` and seller details — one row per
  won deal. An MQL without a row there was not won.

``load_olist`` turns them into the three tables ``sim.logio.read_log`` reads (so
``qualsim evaluate`` can replay them), as text exactly as in a CSV export:

- **accounts / contacts**: one account and one contact per MQL, both with the ``mql_id`` as
  id (a seller is a one-person business as far as the data tells; no title is known, so
  ``title`` is empty);
- **events**: one event per MQL at ``first_contact_date`` (a plain date), activity
  ``content_download``: the sign-up on a landing page is a form fill, and ``content_download``
  is the vocabulary's generic landing-page form. ``demo_request`` would claim an explicit ask
  for a sales conversation, which the data does not show. ``channel`` is Olist's ``origin``
  unchanged (an empty origin becomes ``"unknown"``, the name Olist already uses for ~1,100
  MQLs); ``campaign`` is the ``landing_page_id``;
- **outcomes** (accounts): a won MQL gets ``won=true`` and ``opportunity_date = close_date =
  won_date`` (the date-time as Olist gives it); every other MQL has empty outcomes (no
  opportunity). Olist has no opportunity date, and the choice decides what ``evaluate``'s truth
  rule ("a handoff at t is true when an opportunity opens within ``--horizon-days`` of t, or is
  open at t") measures. Dating the opportunity at the MQL for every lead would make every
  handoff true; dating it at the MQL for won leads only would make the horizon irrelevant and
  claim an SDR opened it at sign-up, which we do not know. The only dated fact is the win, so the
  opportunity is the win: a handoff is true when the lead was won within ``horizon`` days after
  it (``--horizon-days 90`` scores "won within 90 days of the handoff"). One won deal (an
  ``organic_search`` MQL of 2018-03-08 won 2018-03-06 19:38:55) predates its MQL; it is kept as
  it is, so a handoff at its MQL is false (the opportunity closed before it).

``funnel_figures`` computes SOURCE.md's figures for a cohort of MQLs (by first_contact_date),
``replay_by_origin`` replays simple MQL policies per acquisition channel and
``smb_timing_check`` compares Olist's days MQL → won with the simulated ``smb`` preset.
``python -m sim.olist write OUT`` (or ``figures``, ``replay``, ``timing``) runs them.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     _ = (Path(d) / MQL_FILE).write_text(
...         "mql_id,first_contact_date,landing_page_id,origin\\n"
...         "m1,2018-01-01,lp1,paid_search\\nm2,2018-01-02,lp1,\\n"
...     )
...     _ = (Path(d) / DEALS_FILE).write_text("mql_id,won_date\\nm1,2018-01-11 12:00:00\\n")
...     t = load_olist(d)
...     fig = funnel_figures(d)
>>> t["events"].loc[1].tolist()
['2018-01-02', 'm2', 'm2', 'content_download', 'unknown', 'lp1']
>>> t["accounts"].loc[0].tolist()
['m1', '2018-01-11 12:00:00', '2018-01-11 12:00:00', 'true']
>>> fig.mqls, fig.won, fig.rate, fig.days_quantiles[0.5]
(2, 1, 0.5, 10.5)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import DataError

__all__ = [
    "DEALS_FILE",
    "EVERY_MQL",
    "MQL_FILE",
    "FunnelFigures",
    "TimingCheck",
    "default_folder",
    "funnel_figures",
    "load_olist",
    "read_mqls",
    "replay_by_origin",
    "simulated_days_to_buy",
    "smb_timing_check",
    "write_olist",
]

MQL_FILE = "olist_marketing_qualified_leads_dataset.csv"
DEALS_FILE = "olist_closed_deals_dataset.csv"
MQL_COLUMNS = ("mql_id", "first_contact_date", "landing_page_id", "origin")
DEALS_COLUMNS = ("mql_id", "won_date")
ACTIVITY = "content_download"  # the landing-page sign-up form (see the module doc)
UNKNOWN_ORIGIN = "unknown"
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
WON_BY_DAYS = (7, 30, 90, 180)
# The analogue of "became an MQL" in a simulated journey: a form fill by a known person.
FORM_FILLS = ("content_download", "webinar", "demo_request")

# "Every MQL is handed off": a lead score that one form fill already takes to the threshold.
EVERY_MQL = {
    "name": "every_mql",
    "kind": "mql",
    "description": "Hand off every lead at its first form fill (one point reaches the bar).",
    "threshold": 1,
    "points": {ACTIVITY: 1},
}


def default_folder() -> Path:
    """Where the Olist files are looked for: ``$QUALSIM_OLIST`` when set; else
    ``../shared/data/olist`` from the working directory (the project root, as in the tests and
    the CLI), or else next to the source tree holding this package (an editable install run
    from elsewhere); the working-directory one when neither exists."""
    import os

    env = os.environ.get("QUALSIM_OLIST")
    if env:
        return Path(env)
    here = Path.cwd().resolve().parent / "shared" / "data" / "olist"
    source = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "olist"
    return here if here.is_dir() or not source.is_dir() else source


# --------------------------------------------------------------------------------------------
# Reading the two files


def _read_csv(path: Path, what: str, columns: Sequence[str]) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(
            f"{path}: file not found; expected the Olist {what} file "
            f"(CSV with columns {', '.join(columns)})"
        )
    try:
        df = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig"
        )
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
            f"{DEALS_FILE} (the 'Marketing Funnel by Olist' dataset)"
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


def _cohort(mqls: pd.DataFrame, start, end) -> pd.DataFrame:
    keep = np.ones(len(mqls), dtype=bool)
    if start is not None:
        keep &= (mqls["mql_time"] >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (mqls["mql_time"] < pd.Timestamp(end)).to_numpy()
    return mqls[keep]


def _source(source) -> pd.DataFrame:
    return source if isinstance(source, pd.DataFrame) else read_mqls(source)


# --------------------------------------------------------------------------------------------
# The tables qualsim reads


def load_olist(
    folder: str | Path | pd.DataFrame | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, pd.DataFrame]:
    """The Olist funnel as ``{"events", "contacts", "accounts"}`` tables of text, in the CSV
    format ``sim.logio.read_log`` reads (see the module doc for every choice). ``since``
    (inclusive) and ``until`` (exclusive) keep the MQLs whose first_contact_date falls between
    them; ``folder`` may also be the frame ``read_mqls`` returns."""
    m = _cohort(_source(folder), since, until)
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
    folder: str | Path | pd.DataFrame | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[Path]:
    """Write :func:`load_olist`'s tables to ``out/events.csv``, ``contacts.csv`` and
    ``accounts.csv`` (atomically) for ``qualsim evaluate --events ... --contacts ...
    --accounts ...``. Returns the paths written. Keep ``out`` outside the repository (the
    licence is non-commercial share-alike)."""
    from sim.files import write_tables

    return write_tables(load_olist(folder, since, until), out, "csv")


# --------------------------------------------------------------------------------------------
# Funnel figures


@dataclass(frozen=True, eq=False)
class FunnelFigures:
    """SOURCE.md's figures for one cohort of MQLs (first_contact_date in [start, end)).

    ``rate``: share of the cohort's MQLs that were won (any time). ``days_quantiles``: days
    MQL → won over the cohort's won MQLs (fractional days from midnight of first_contact_date
    to won_date; numpy's default "linear" quantile). ``won_by``: share of the cohort's MQLs
    won within k days (days_to_won ≤ k). ``by_origin``: mqls, won and rate per origin, largest
    channel first (ties by name)."""

    start: str | None
    end: str | None
    mqls: int
    won: int
    rate: float
    days_quantiles: dict[float, float]
    won_by: dict[int, float]
    by_origin: pd.DataFrame = field(repr=False)

    def __str__(self) -> str:
        q = ", ".join(f"p{round(k * 100)} {v:.1f}" for k, v in self.days_quantiles.items())
        w = " / ".join(f"{100 * v:.1f}%" for v in self.won_by.values())
        days = "/".join(str(k) for k in self.won_by)
        origins = ", ".join(f"{o} {100 * r:.1f}%" for o, r in self.by_origin["rate"].items())
        return (
            f"Olist MQLs from {self.start or 'the start'} to {self.end or 'the end'}: "
            f"{self.mqls:,} MQLs, {self.won:,} won: MQL -> won {100 * self.rate:.1f}%\n"
            f"days MQL -> won: {q}\nwon by {days} days: {w}\nby origin: {origins}"
        )


def funnel_figures(
    source: str | Path | pd.DataFrame | None = None,
    start: str | None = "2018-01-01",
    end: str | None = None,
    won_by_days: Sequence[int] = WON_BY_DAYS,
    quantiles: Sequence[float] = QUANTILES,
) -> FunnelFigures:
    """The funnel figures of the MQLs with first_contact_date in [``start``, ``end``)
    (default: the 2018 cohort, since won deals before 2017-12 are missing). ``source`` is the
    Olist folder (default :func:`default_folder`) or the frame :func:`read_mqls` returns."""
    m = _cohort(_source(source), start, end)
    if m.empty:
        raise DataError(f"no Olist MQL with a first_contact_date in [{start}, {end})")
    days = m["days_to_won"].to_numpy(dtype=float)
    won = ~np.isnan(days)
    dq = np.quantile(days[won], list(quantiles)) if won.any() else np.full(len(quantiles), np.nan)
    with np.errstate(invalid="ignore"):
        won_by = {int(k): float(np.mean(won & (days <= k))) for k in won_by_days}
    g = pd.DataFrame({"origin": m["origin"].to_numpy(), "won": won}).groupby("origin")["won"]
    by_origin = pd.DataFrame({"mqls": g.size(), "won": g.sum().astype(int)})
    by_origin["rate"] = by_origin["won"] / by_origin["mqls"]
    by_origin = by_origin.sort_values("mqls", ascending=False, kind="stable")  # then by name
    return FunnelFigures(
        start=start,
        end=end,
        mqls=len(m),
        won=int(won.sum()),
        rate=float(won.mean()),
        days_quantiles={float(q): float(v) for q, v in zip(quantiles, dq, strict=True)},
        won_by=won_by,
        by_origin=by_origin,
    )


# --------------------------------------------------------------------------------------------
# Replay per acquisition channel


REPLAY_COLUMNS = (
    "origin",
    "policy",
    "mqls",
    "won",
    "won_within_horizon",
    "conversion_within_horizon",
    "handoffs",
    "true_handoffs",
    "precision",
    "accounts_with_opportunity",
    "recalled",
    "recall",
)


def replay_by_origin(
    folder: str | Path | pd.DataFrame | None = None,
    policies: Sequence[str | Path | dict] = (EVERY_MQL, "mql_only"),
    since: str | None = "2018-01-01",
    until: str | None = None,
    horizon_days: float = 90.0,
) -> pd.DataFrame:
    """Replay ``policies`` on the Olist log of each origin (and ``"all"``, first) exactly as
    ``qualsim evaluate`` does (``policies.replay.replay`` on the written CSV files), with the
    metrics of ``sim.logio.outcome_metrics`` per origin and policy, next to the channel's
    ``mqls``, ``won`` (any time) and ``won_within_horizon`` (won at or after the MQL and at most
    ``horizon_days`` later; ``conversion_within_horizon`` = that / mqls).

    With one touch per lead a policy hands a lead off at its MQL or never. A policy that hands
    off every MQL therefore has precision = the channel's conversion within the horizon and
    recall = won_within_horizon / won; a stricter MQL policy can only pick a subset of leads on
    the same single touch (``mql_only`` never reaches 100 points on one form fill). Policies
    are shipped names, YAML paths or dicts (default: :data:`EVERY_MQL` and ``mql_only``).
    """
    import yaml

    from sim.real.replay import replay

    m = _cohort(_source(folder), since, until)
    if m.empty:
        raise DataError(f"no Olist MQL with a first_contact_date in [{since}, {until})")
    days = m["days_to_won"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        in_h = (days >= 0) & (days <= horizon_days)
    counts = m["origin"].value_counts()
    origins = ["all", *sorted(counts.index, key=lambda o: (-counts[o], o))]
    rows = []
    with tempfile.TemporaryDirectory(prefix="olist-replay-") as tmp:
        pol_files: list[str | Path] = []
        for i, p in enumerate(policies):
            if isinstance(p, dict):
                path = Path(tmp) / f"policy_{i}.yaml"
                path.write_text(yaml.safe_dump(p, sort_keys=False), encoding="utf-8")
                pol_files.append(path)
            else:
                pol_files.append(p)
        for origin in origins:
            sel = np.ones(len(m), bool) if origin == "all" else (m["origin"] == origin).to_numpy()
            paths = write_olist(Path(tmp) / "log", m[sel])
            r = replay(paths[0], paths[1], pol_files, paths[2], horizon_days=horizon_days)
            assert r.metrics is not None
            n, won, won_h = int(sel.sum()), int((~np.isnan(days[sel])).sum()), int(in_h[sel].sum())
            for rec in r.metrics.to_dict("records"):
                rows.append(
                    {
                        "origin": origin,
                        "mqls": n,
                        "won": won,
                        "won_within_horizon": won_h,
                        "conversion_within_horizon": won_h / n,
                        **rec,
                    }
                )
    return pd.DataFrame(rows, columns=list(REPLAY_COLUMNS))


# --------------------------------------------------------------------------------------------
# The smb timing check


@dataclass(frozen=True, eq=False)
class TimingCheck:
    """Olist's days MQL → won (``observed``) against the simulated ``smb`` preset's days from
    an account's first form fill to its "buy" decision (``simulated``), their quantiles side by
    side and the two-sample Kolmogorov–Smirnov distance (``ks``, with its ``p_value``)."""

    observed: np.ndarray = field(repr=False)
    simulated: np.ndarray = field(repr=False)
    quantiles: pd.DataFrame
    ks: float
    p_value: float
    buys: int  # simulated accounts that bought, journey started in the history
    buys_without_form: int  # ... of which without a known form fill before the decision

    @property
    def median_ratio(self) -> float:
        """Simulated median / observed median."""
        return float(np.median(self.simulated) / np.median(self.observed))

    def __str__(self) -> str:
        q = self.quantiles.to_string(float_format=lambda v: f"{v:.1f}")
        return (
            f"days MQL -> won: Olist ({len(self.observed):,} won MQLs) vs smb "
            f"({len(self.simulated):,} buys from a first form fill; {self.buys_without_form:,} "
            f"of {self.buys:,} buys had none)\n{q}\n"
            f"KS distance {self.ks:.3f} (p = {self.p_value:.2g}); "
            f"median ratio smb/Olist {self.median_ratio:.2f}"
        )


def simulated_days_to_buy(world) -> tuple[np.ndarray, int, int]:
    """Days from each buying account's first form fill (content_download, webinar or
    demo_request by a known person, at or after its journey start and not after its decision)
    to its "buy" decision. Accounts whose journey started before day 0 are left out (their
    early touches precede the simulated history). Returns (days, buys, buys without a form)."""
    ev, t = world.events, world.truth
    buyers = t[(t["decision"] == "buy") & (t["journey_start"] >= 0)]
    forms = ev[ev["activity"].isin(FORM_FILLS).to_numpy() & ev["known"].to_numpy()]
    forms = forms[["account_id", "time"]].merge(
        buyers[["account_id", "journey_start", "t_decision"]], on="account_id"
    )
    forms = forms[
        (forms["time"] >= forms["journey_start"]) & (forms["time"] <= forms["t_decision"])
    ]
    first = forms.groupby("account_id")["time"].min()
    dec = buyers.set_index("account_id")["t_decision"]
    days = (dec.reindex(first.index) - first).to_numpy(dtype=float)
    return days, len(buyers), len(buyers) - len(first)


def smb_timing_check(
    folder: str | Path | pd.DataFrame | None = None,
    accounts: int = 20_000,
    seed: int = 102,
    horizon_days: float = 1000,
    start: str | None = "2018-01-01",
    end: str | None = None,
) -> TimingCheck:
    """Compare Olist's days MQL → won (cohort [start, end)) with the ``smb`` preset simulated
    with ``accounts`` accounts, ``seed`` and a horizon extended to ``horizon_days`` so that
    journeys are not cut off (the preset's dynamics are unchanged).

    The closest analogue of "became an MQL" (a seller signs up on a landing page and is known
    from then on) is the first form fill by a known person in the journey; the first known touch
    of any kind (an email open, a web visit of an identified cookie) comes earlier than any
    sign-up would. The won deal is the "buy" decision."""
    from scipy.stats import ks_2samp

    import sim

    m = _cohort(_source(folder), start, end)
    observed = m["days_to_won"].dropna().to_numpy(dtype=float)
    if observed.size == 0:
        raise DataError(f"no won Olist MQL with a first_contact_date in [{start}, {end})")
    sc = sim.load_scenario(
        "smb", overrides={"horizon_days": horizon_days, "accounts": {"count": accounts}}
    )
    simulated, buys, without = simulated_days_to_buy(sim.simulate(sc, seed=seed))
    if simulated.size == 0:
        raise ValueError("the simulated smb world has no buy after a form fill")
    qs = list(QUANTILES)
    table = pd.DataFrame(
        {"olist": np.quantile(observed, qs), "smb": np.quantile(simulated, qs)},
        index=pd.Index([f"p{round(q * 100)}" for q in qs], name="quantile"),
    )
    res = ks_2samp(observed, simulated)
    return TimingCheck(
        observed, simulated, table, float(res.statistic), float(res.pvalue), buys, without
    )


# --------------------------------------------------------------------------------------------
# python -m sim.olist


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m sim.olist {write OUT | figures | replay | timing} [--folder F]``."""
    ap = argparse.ArgumentParser(prog="python -m sim.olist", description=__doc__.split("\n")[0])
    ap.add_argument("--folder", help="the Olist folder (default ../shared/data/olist)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write", help="write events/contacts/accounts CSVs for qualsim evaluate")
    w.add_argument("out")
    w.add_argument("--since", default="2018-01-01", help="first MQL date kept (inclusive)")
    w.add_argument("--until", default=None, help="MQL dates before this one are kept")
    f = sub.add_parser("figures", help="the funnel figures of a cohort")
    f.add_argument("--start", default="2018-01-01")
    f.add_argument("--end", default=None)
    r = sub.add_parser("replay", help="precision/recall of simple MQL policies per origin")
    r.add_argument("--horizon-days", type=float, default=90.0)
    t = sub.add_parser("timing", help="Olist's days MQL -> won against the smb preset")
    t.add_argument("--accounts", type=int, default=20_000)
    t.add_argument("--seed", type=int, default=102)
    t.add_argument("--report", help="also write an HTML page (quantiles, KS, both CDFs)")
    a = ap.parse_args(argv)
    try:
        _run(a)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _run(a: argparse.Namespace) -> None:
    if a.cmd == "write":
        for p in write_olist(a.out, a.folder, a.since, a.until):
            print(f"wrote {p}")
    elif a.cmd == "figures":
        print(funnel_figures(a.folder, a.start, a.end))
    elif a.cmd == "replay":
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(replay_by_origin(a.folder, horizon_days=a.horizon_days).round(4))
    else:
        check = smb_timing_check(a.folder, accounts=a.accounts, seed=a.seed)
        print(check)
        if a.report:
            from sim.files import write_text
            from sim.report import build_timing_report

            print(f"wrote {write_text(a.report, build_timing_report(check))}")


if __name__ == "__main__":
    main()
