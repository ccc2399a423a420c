"""``qualsim experiment design``: the power of a rollout experiment (candidate rule, incumbent
rule, no-handoff holdout), by simulation; ``qualsim experiment analyse``: the effect a live
experiment shows, from its export, against what the design predicted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.base import (
    FormatOpt,
    OptionalScenarioArg,
    RawCsvOpt,
    ReplicationsOpt,
    SeedOpt,
    Timer,
    WorkersOpt,
    progress_bar,
    user_errors,
    wrote,
)
from sim.cli.output import Printer
from sim.cli.plain import PlainCommand, PlainGroup
from sim.world.names import DEFAULT_SCENARIO

experiment_app = typer.Typer(
    cls=PlainGroup,
    no_args_is_help=True,
    help="Rollout experiments: a candidate rule against the incumbent and a no-handoff holdout.",
)


#: the default experiments: the fewest `experiment analyse` judges a live result by
DEFAULT_EXPERIMENTS = 40


@experiment_app.command("design", cls=PlainCommand)
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
            "--split",
            help="shares of accounts for candidate,incumbent,holdout, summing to 1; a holdout "
            "of 0 drops it",
        ),
    ] = "0.45,0.45,0.10",
    stratify: Annotated[
        str | None, typer.Option("--stratify", help="randomise within each value of: tier")
    ] = None,
    metric: Annotated[
        str, typer.Option("--metric", help="opportunities, wins or revenue (per account)")
    ] = "opportunities",
    replications: ReplicationsOpt = DEFAULT_EXPERIMENTS,
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
    fmt: FormatOpt = "table",
) -> None:
    """Simulate the experiment many times and print its power to detect the difference
    (candidate - incumbent, candidate - holdout; a two-proportion z-test, or Welch's t for
    revenue, at 5%) after 4, 8, 13, 26 and 52 weeks, with its 95% interval (Wilson), the central
    95% of the simulated differences, and the weeks needed for 80% power. -r counts the
    simulated experiments: 40 by default, the fewest `experiment analyse` judges a live result
    by; 100 or more give a tight power (about a second each on the enterprise preset, the
    default scenario; --workers 0 spreads them over every core)."""
    from sim.experiment.design import design_experiment
    from sim.experiment.design_export import write_experiment_export
    from sim.experiment.executors import Processes
    from sim.files import check_output_folder

    show = Printer(fmt, safe=not raw_csv)  # a bad --format fails first
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
    settings = {
        "scenario": str(scenario), "candidate": candidate, "incumbent": incumbent,
        "split": split, "stratify": stratify, "metric": metric,
        "replications": replications, "seed": seed,
    }  # fmt: skip
    with show:
        show.echo(
            f"{replications} simulated experiments of {scenario} ({metric} per account; "
            f"{candidate} against {incumbent}, split {split}) in {timer.seconds:.1f} s"
        )
        _print_design(show, curve, settings)
        if export is not None:
            files = write_experiment_export(
                export, scenario, candidate, incumbent, split, stratify, seed, safe=not raw_csv
            )
            wrote(files, show)


def _print_design(show: Printer, curve, settings: dict) -> None:
    """The power tables (terminal: one per comparison; machine formats: the tables
    ``design``, ``power`` and ``weeks_to_power`` that ``experiment analyse --design`` reads)."""
    import pandas as pd

    from sim.experiment.analyse import FEW_EXPERIMENTS
    from sim.experiment.design_stats import weeks_to_power

    weeks = weeks_to_power(curve)
    if not show.terminal:
        show.table(pd.DataFrame([settings]), "design", name="design")
        show.table(curve, "power", name="power")
        show.table(weeks, "weeks_to_power", name="weeks_to_power")
        return
    from sim.experiment.design_stats import power_interval

    low, high = power_interval(curve["power"], curve["experiments"])
    for comparison, g in curve.assign(low=low, high=high).groupby("comparison", sort=False):
        shown = pd.DataFrame(
            {
                "difference /1,000": [f"{1000 * d:+.1f}" for d in g["mean_difference"]],
                "central 95% /1,000": [
                    f"{1000 * a:+.1f} to {1000 * b:+.1f}"
                    for a, b in zip(g["difference_low"], g["difference_high"], strict=True)
                ],
                "power (95%)": [
                    f"{p:.2f} ({a:.2f}-{b:.2f})"
                    for p, a, b in zip(g["power"], g["low"], g["high"], strict=True)
                ],
            },
            index=pd.Index(g["weeks"].to_numpy(), name="weeks"),
        )
        show.table(shown, f"{comparison}: power at 5%", formatted=False)
    for row in weeks.itertuples():
        show.echo(f"weeks needed for 80% power, {row.comparison}: {row.text}")
    n = int(curve["experiments"].min())
    if n < FEW_EXPERIMENTS:
        show.note(
            f"[yellow]note:[/] {n} experiments are too few to read a power from (its 95% "
            f"interval is shown in brackets); use {FEW_EXPERIMENTS} or more, best 100"
        )


@experiment_app.command("analyse", cls=PlainCommand)
@user_errors
def analyse(
    accounts: Annotated[
        Path, typer.Option("--accounts", help="accounts with their arm: account_id, arm, tier")
    ],
    opportunities: Annotated[
        Path,
        typer.Option(
            "--opportunities",
            help="the opportunities: qualsim import's file, or experiment design --export's",
        ),
    ],
    events: Annotated[
        Path | None,
        typer.Option("--events", help="optional touches (account_id, time or timestamp)"),
    ] = None,
    go_live: Annotated[
        str | None,
        typer.Option(
            "--go-live",
            help="day the experiment started: a day number (default 0) or, when the export's "
            "times are dates, an ISO date",
        ),
    ] = None,
    weeks: Annotated[
        float | None,
        typer.Option(
            "--weeks",
            help="weeks after the go-live to analyse (default: all data); against --design, one "
            "of the plan's horizons (4, 8, 13, 26, 52)",
        ),
    ] = None,
    metric: Annotated[
        str, typer.Option("--metric", help="opportunities, wins or revenue (per account)")
    ] = "opportunities",
    design: Annotated[
        Path | None,
        typer.Option(
            "--design",
            help="the plan: experiment design --format json (or csv) output, to compare with",
        ),
    ] = None,
    counted_types: Annotated[
        list[str] | None,
        typer.Option(
            "--counted-type",
            help="opportunity type the metrics count (repeat; default new_business; case and "
            "spaces ignored)",
        ),
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """The difference a live experiment shows per comparison (candidate - incumbent,
    candidate - holdout, incumbent - holdout), with a 95% CI and the same tests as the design,
    and, with --design, whether it is in line with what the simulation predicted (only like for
    like: the plan's horizon and split, 40 or more experiments; else "cannot tell" and why)."""
    from sim.experiment.analyse import analyse_experiment

    show = Printer(fmt)
    found = analyse_experiment(
        accounts, opportunities, events, go_live, weeks, metric, design,
        counted_types or ["new_business"],
    )  # fmt: skip
    with show:
        unit = "revenue per account" if metric == "revenue" else f"{metric} per 1,000 accounts"
        show.echo(f"{unit}, {found.weeks:.1f} weeks from the go-live")
        show.table(_shown_arms(found.arms, metric), "Arms", data=found.arms, name="arms")
        c = found.comparisons
        if len(c):
            shown = _shown_differences(c, metric)
            show.table(shown, "Differences", formatted=False, data=c, name="differences")
            if "power" in c.columns:
                at = c["design_weeks"].dropna()
                title = f"The plan at {at.iloc[0]:g} weeks" if len(at) else "The plan"
                show.table(_shown_plan(c, metric), title, formatted=False, data=c, name=None)
        for text in found.notes:
            show.note(f"[yellow]note:[/] {text}")
        for text in found.verdicts():
            show.echo(text)


def _scaled(metric: str) -> tuple[float, str]:
    """Binary metrics per 1,000 accounts, revenue per account."""
    return (1.0, "per account") if metric == "revenue" else (1000.0, "/1,000 accounts")


def _span(lo, hi, scale: float) -> list[str]:
    return [
        "-" if a != a else f"{scale * a:+,.1f} to {scale * b:+,.1f}"
        for a, b in zip(lo, hi, strict=True)
    ]


def _shown_arms(arms, metric: str):
    """The arms for the terminal: the mean per 1,000 accounts (revenue: per account)."""
    scale, unit = _scaled(metric)
    shown = arms.set_index("arm").copy()
    shown[f"mean {unit}"] = [f"{scale * v:,.1f}" for v in shown.pop("per_account")]
    if "touches_per_account" in shown.columns:
        shown["touches per account"] = [f"{v:.1f}" for v in shown.pop("touches_per_account")]
    return shown


def _shown_differences(c, metric: str):
    """The differences for the terminal, in one number format: per 1,000 accounts (revenue:
    per account), the CI as a range, p to 3 decimals, whether distinguishable at 5%."""
    from sim.experiment.analyse import p_text

    scale, _ = _scaled(metric)
    shown = c.set_index("comparison")[[]].copy()
    shown["difference"] = [f"{scale * d:+,.1f}" for d in c["difference"]]
    shown["95% CI"] = _span(c["ci_low"], c["ci_high"], scale)
    shown["p"] = [p_text(p) for p in c["p_value"]]
    shown["at 5%"] = [
        "yes" if d else ("borderline" if b else "no")
        for d, b in zip(c["distinguishable"], c["borderline"], strict=True)
    ]
    return shown


def _shown_plan(c, metric: str):
    """What the plan simulated, per comparison: its central 95%, power and judgement."""
    scale, _ = _scaled(metric)
    shown = c.set_index("comparison")[[]].copy()
    shown["simulated 95%"] = _span(c["difference_low"], c["difference_high"], scale)
    shown["power (95%)"] = [
        "-" if p != p else f"{p:.2f} ({a:.2f}-{b:.2f})"
        for p, a, b in zip(c["power"], c["power_low"], c["power_high"], strict=True)
    ]
    shown["in line"] = [
        "-" if p != p else ("cannot tell" if v is None else ("yes" if v else "no"))
        for v, p in zip(c["in_line"], c["power"], strict=True)
    ]
    return shown
