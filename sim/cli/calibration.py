"""``qualsim calibration``: is the simulated world believable? Every published band a scenario
can be checked against, the scenario's figure with its 95% CI, and a team's own figure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.base import (
    ONE_REPLICATION,
    WORLDS,
    FormatOpt,
    ReplicationsOpt,
    ReportOpt,
    SeedOpt,
    Timer,
    WorkersOpt,
    command,
    err,
    wrote,
)
from sim.cli.output import Printer
from sim.world.names import DEFAULT_SCENARIO

EventsOpt = Annotated[
    Path | None, typer.Option(help="your export's touches (CSV/Parquet), with --contacts")
]
ContactsOpt = Annotated[Path | None, typer.Option(help="your export's contacts, with --events")]
AccountsOpt = Annotated[
    Path | None, typer.Option(help="your export's accounts (tiers, outcomes: O7), optional")
]


@command(rich_help_panel=WORLDS)
def calibration(
    scenario: Annotated[str, typer.Argument(help="a preset or a scenario YAML file")] = (
        DEFAULT_SCENARIO
    ),
    replications: ReplicationsOpt = 5,
    seed: SeedOpt = 0,
    workers: WorkersOpt = 0,
    events: EventsOpt = None,
    contacts: ContactsOpt = None,
    accounts: AccountsOpt = None,
    report: ReportOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Check a scenario against the published bands (docs/calibration.md lists them):
    its figure with a 95% CI over replications, in band or not; with --events/--contacts
    (and --accounts), the same figures from your own export beside them."""
    import sim
    from sim.experiment import Processes
    from sim.experiment.calibration import calibration_table, printable
    from sim.real import read_log

    show = Printer(fmt)
    sc = sim.load_scenario(scenario)
    real = read_log(events, contacts, accounts) if events and contacts else None
    timer = Timer()
    t = calibration_table(sc, replications, seed, real=real, executor=Processes(workers))
    if replications < 2:
        err.print(ONE_REPLICATION)
    n_in, n = int((t["status"] == "in band").sum()), int((t["status"] != "reference").sum())
    with show:
        show.note(
            f"[bold]{escape(sc.name)}[/]: {n_in} of {n} figures in their published bands "
            f"({replications} replications, seed {seed}, {timer.seconds:.1f} s)."
        )
        title = "Calibration against published figures"
        show.table(printable(t, real is not None), title, False, data=t, name="calibration")
        if report is not None:
            from sim.files import write_text
            from sim.report import build_calibration_report

            wrote(write_text(report, build_calibration_report(t, sc.name)), show)
