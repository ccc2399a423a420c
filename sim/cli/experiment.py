"""``qualsim experiment design``: the power of a rollout experiment (candidate rule, incumbent
rule, no-handoff holdout), by simulation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.base import (
    OptionalScenarioArg,
    RawCsvOpt,
    ReplicationsOpt,
    SeedOpt,
    Timer,
    WorkersOpt,
    echo,
    out,
    progress_bar,
    table,
    user_errors,
    wrote,
)
from sim.world.presets import DEFAULT_SCENARIO

experiment_app = typer.Typer(
    no_args_is_help=True,
    help="Rollout experiments: a candidate rule against the incumbent and a no-handoff holdout.",
)


@experiment_app.command("design")
@user_errors
def design(
    candidate: Annotated[
        str, typer.Option("--candidate", help="the rule to roll out (policy YAML or shipped name)")
    ],
    scenario: OptionalScenarioArg = DEFAULT_SCENARIO,
    incumbent: Annotated[
        str, typer.Option("--incumbent", help="the rule in place today")
    ] = "mql_scored",
    split: Annotated[
        str,
        typer.Option(
            "--split", help="shares of accounts: candidate,incumbent,holdout (summing to 1)"
        ),
    ] = "0.45,0.45,0.10",
    stratify: Annotated[
        str | None, typer.Option("--stratify", help="randomise within each value of: tier")
    ] = None,
    metric: Annotated[
        str, typer.Option("--metric", help="opportunities, wins or revenue (per account)")
    ] = "opportunities",
    replications: ReplicationsOpt = 100,
    seed: SeedOpt = 0,
    workers: WorkersOpt = 1,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            help="also write the first simulated experiment as a live experiment's export "
            "(accounts with their arm, contacts, events, handoffs, opportunities)",
        ),
    ] = None,
    raw_csv: RawCsvOpt = False,
) -> None:
    """Simulate the experiment many times and print its power to detect the difference
    (candidate - incumbent, candidate - holdout; a two-proportion z-test, or Welch's t for
    revenue, at 5%) after 4, 8, 13, 26 and 52 weeks, with Monte-Carlo standard errors, and the
    weeks needed for 80% power."""
    from sim.experiment.design import design_experiment
    from sim.experiment.design_export import write_experiment_export
    from sim.experiment.design_stats import weeks_to_power
    from sim.experiment.executors import Processes
    from sim.files import check_output_folder

    if export is not None:
        check_output_folder(export, [scenario])
    timer = Timer()
    with progress_bar("experiments", replications) as update:
        done = [0]

        def step(_: int) -> None:
            done[0] += 1
            update(done[0])

        curve = design_experiment(
            scenario, candidate, incumbent, split, stratify, metric, replications, seed,
            Processes(workers), step,
        )  # fmt: skip
    echo(
        f"{replications} simulated experiments of {scenario} ({metric} per account; "
        f"{candidate} against {incumbent}, split {split}) in {timer.seconds:.1f} s"
    )
    for comparison, g in curve.groupby("comparison", sort=False):
        shown = g.set_index("weeks")[["power", "power_se", "experiments"]]
        shown.insert(0, "difference / 1,000 accounts", 1000.0 * g["mean_difference"].to_numpy())
        shown.columns = ["difference / 1,000 accounts", "power", "MC s.e.", "experiments"]
        out.print(table(shown, f"Power at 5%: {comparison}"))
    weeks = weeks_to_power(curve)
    for row in weeks.itertuples():
        echo(f"weeks needed for 80% power, {row.comparison}: {row.text}")
    if export is not None:
        files = write_experiment_export(
            export, scenario, candidate, incumbent, split, stratify, seed, safe=not raw_csv
        )
        wrote(files)
