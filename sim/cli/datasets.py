"""``qualsim olist ...``: the Olist marketing funnel (a real, public B2B funnel) as a qualsim
log, its published figures, a replay per acquisition channel and the smb preset's timing
against it. The data is not shipped: download the "Marketing Funnel by Olist" dataset (Kaggle,
olistbr) and pass its folder with ``--folder`` or ``QUALSIM_OLIST``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.base import FormatOpt, HorizonDaysOpt, ReportOpt, SeedOpt, user_errors, wrote
from sim.cli.output import Printer
from sim.cli.plain import PlainCommand, PlainGroup

olist_app = typer.Typer(
    cls=PlainGroup,
    no_args_is_help=True,
    help="The Olist marketing funnel (download it first; see `qualsim olist --help`).",
)
SinceOpt = Annotated[str, typer.Option("--since", help="first MQL date kept (inclusive)")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="MQL dates before this are kept")]
FolderOpt = Annotated[
    Path | None,
    typer.Option("--folder", help="the Olist folder (default: $QUALSIM_OLIST)"),
]


@olist_app.command("write", cls=PlainCommand)
@user_errors
def write(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="folder to write events, contacts and accounts CSVs to (required)"
        ),
    ],
    folder: FolderOpt = None,
    since: SinceOpt = "2018-01-01",
    until: UntilOpt = None,
) -> None:
    """Write the files `qualsim evaluate` reads (one account and contact per MQL)."""
    from sim.datasets import olist

    wrote(list(olist.write_olist(out, folder, since, until)))


@olist_app.command("figures", cls=PlainCommand)
@user_errors
def figures(
    folder: FolderOpt = None,
    since: SinceOpt = "2018-01-01",
    until: UntilOpt = None,
    fmt: FormatOpt = "table",
    start: Annotated[str | None, typer.Option("--start", hidden=True)] = None,  # old --since
    end: Annotated[str | None, typer.Option("--end", hidden=True)] = None,  # old --until
) -> None:
    """The funnel figures of a cohort (MQL → won, days to a win)."""
    from sim.datasets import olist

    with Printer(fmt) as show:
        since, until = start or since, end or until
        figures = olist.funnel_figures(folder, since, until)
        if show.terminal:
            show.echo(str(figures))
        else:  # the summary on stderr, the figures by origin as the table
            show.echo(str(figures).rsplit("\nby origin:", 1)[0])
            show.table(figures.by_origin, "By origin", name="by_origin")


@olist_app.command("replay", cls=PlainCommand)
@user_errors
def replay(
    folder: FolderOpt = None,
    horizon_days: HorizonDaysOpt = 90.0,
    fmt: FormatOpt = "table",
) -> None:
    """Precision and recall of simple MQL policies per acquisition channel."""
    from sim.datasets import olist

    with Printer(fmt) as show:
        df = olist.replay_by_origin(folder, horizon_days=horizon_days)
        title = "Simple MQL policies per acquisition channel"
        show.table(df.set_index("origin"), title, name="replay")


@olist_app.command("timing", cls=PlainCommand)
@user_errors
def timing(
    folder: FolderOpt = None,
    accounts: Annotated[
        int, typer.Option("--simulated-accounts", min=1, help="accounts of the simulated world")
    ] = 20_000,
    seed: SeedOpt = 102,
    report: ReportOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Olist's days MQL → won against the smb preset's days first form fill → buy."""
    from sim.datasets import olist
    from sim.files import write_text
    from sim.report import build_timing_report

    with Printer(fmt) as show:
        check = olist.smb_timing_check(folder, accounts=accounts, seed=seed)
        if show.terminal:
            show.echo(str(check))
        else:  # the quantiles as the table, the rest on stderr
            show.echo(f"KS distance {check.ks:.3f} (p = {check.p_value:.2g})")
            show.table(check.quantiles, "Days MQL -> won, quantiles", name="quantiles")
        if report is not None:
            wrote(write_text(report, build_timing_report(check)), show)
