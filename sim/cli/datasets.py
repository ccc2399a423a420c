"""``qualsim olist ...``: the Olist marketing funnel (a real, public B2B funnel) as a qualsim
log, its published figures, a replay per acquisition channel and the smb preset's timing
against it. The data is not shipped: download the "Marketing Funnel by Olist" dataset (Kaggle,
olistbr) and pass its folder with ``--folder`` or ``QUALSIM_OLIST``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.base import echo, user_errors, wrote

olist_app = typer.Typer(
    no_args_is_help=True,
    help="The Olist marketing funnel (download it first; see `qualsim olist --help`).",
)
FolderOpt = Annotated[
    Path | None,
    typer.Option("--folder", help="the Olist folder (default: $QUALSIM_OLIST)"),
]


@olist_app.command("write")
@user_errors
def write(
    out: Annotated[Path, typer.Argument(help="folder for events/contacts/accounts CSVs")],
    folder: FolderOpt = None,
    since: Annotated[str, typer.Option(help="first MQL date kept (inclusive)")] = "2018-01-01",
    until: Annotated[str | None, typer.Option(help="MQL dates before this are kept")] = None,
) -> None:
    """Write the files `qualsim evaluate` reads (one account and contact per MQL)."""
    from sim.datasets import olist

    wrote(list(olist.write_olist(out, folder, since, until)))


@olist_app.command("figures")
@user_errors
def figures(
    folder: FolderOpt = None,
    start: Annotated[str, typer.Option(help="first MQL date of the cohort")] = "2018-01-01",
    end: Annotated[str | None, typer.Option(help="MQL dates before this")] = None,
) -> None:
    """The funnel figures of a cohort (MQL → won, days to a win)."""
    from sim.datasets import olist

    echo(str(olist.funnel_figures(folder, start, end)))


@olist_app.command("replay")
@user_errors
def replay(
    folder: FolderOpt = None,
    horizon_days: Annotated[float, typer.Option(help="truth horizon")] = 90.0,
) -> None:
    """Precision and recall of simple MQL policies per acquisition channel."""
    import pandas as pd

    from sim.datasets import olist

    with pd.option_context("display.width", 200, "display.max_columns", 20):
        echo(str(olist.replay_by_origin(folder, horizon_days=horizon_days).round(4)))


@olist_app.command("timing")
@user_errors
def timing(
    folder: FolderOpt = None,
    accounts: Annotated[int, typer.Option(help="simulated smb accounts")] = 20_000,
    seed: Annotated[int, typer.Option(help="seed of the simulated world")] = 102,
    report: Annotated[
        Path | None, typer.Option(help="also write an HTML page (quantiles, KS, both CDFs)")
    ] = None,
) -> None:
    """Olist's days MQL → won against the smb preset's days first form fill → buy."""
    from sim.datasets import olist
    from sim.files import write_text
    from sim.report import build_timing_report

    check = olist.smb_timing_check(folder, accounts=accounts, seed=seed)
    echo(str(check))
    if report is not None:
        wrote(write_text(report, build_timing_report(check)))
