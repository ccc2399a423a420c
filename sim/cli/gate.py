"""``qualsim gate``: the regression gate for policy configs (``qualsim bench`` is its old name,
kept as a deprecated alias for one release); ``qualsim report``: a comparison as one page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.base import (
    CHECKS,
    COMPARE,
    AllOpt,
    FormatOpt,
    MaxHandoffsOpt,
    MinPrecisionOpt,
    Timer,
    WorkersOpt,
    app,
    command,
    err,
    user_errors,
    wrote,
)
from sim.cli.output import Printer
from sim.cli.plain import PlainCommand
from sim.cli.progress import delayed_steps
from sim.cli.sweeps import left_out_cells
from sim.errors import QualsimError

SuiteArg = Annotated[Path, typer.Argument(help="a suite YAML (scenarios x policies)")]
BaselineFileOpt = Annotated[
    Path,
    typer.Option(
        "--baseline-file", help="the baseline JSON to compare with (--update-baseline: to write)"
    ),
]
# The old spelling: --baseline is a policy name in every other command.
OldBaselineOpt = Annotated[str | None, typer.Option("--baseline", "-b", hidden=True)]
UpdateOpt = Annotated[
    bool, typer.Option("--update-baseline", help="store this run as the baseline")
]


@command(rich_help_panel=CHECKS)
def gate(
    suite_file: SuiteArg,
    baseline: BaselineFileOpt = Path("baseline.json"),
    update_baseline: UpdateOpt = False,
    show_all: AllOpt = False,
    workers: WorkersOpt = 0,
    fmt: FormatOpt = "table",
    old_baseline: OldBaselineOpt = None,
) -> None:
    """Regression gate: run the suite and compare key metrics with the baseline; exit 1 when a
    metric moved beyond the tolerance (tolerance_se x the combined standard error)."""
    from sim.experiment.gate import (
        load_suite,
        read_baseline,
        run_suite,
        suite_hash,
        write_baseline,
    )
    from sim.files import check_output_file

    if old_baseline is not None:
        raise QualsimError(
            f"gate --baseline {old_baseline}: the baseline JSON is now given with "
            f"--baseline-file {old_baseline} (--baseline is a policy name in run and compare)"
        )
    show = Printer(fmt)
    suite, base = load_suite(suite_file)
    if not update_baseline:
        base_rows, header = read_baseline(baseline)  # fail early, before the long run
    else:
        check_output_file(baseline)
    timer = Timer()
    now = run_suite(suite, base, workers, progress=lambda name: err.print(f"  ran {escape(name)}"))
    if update_baseline:
        path = write_baseline(now, suite, base, baseline)
        show.echo(
            f"wrote {path}: {len(now)} metrics from {len(suite.scenarios)} scenarios "
            f"in {timer.seconds:.1f} s"
        )
        return
    with show:
        _print_gate(show, now, base_rows, header, suite_hash(suite, base), suite, show_all, timer)


def _print_gate(show, now, base_rows, header, digest, suite, show_all, timer) -> None:
    """Compare ``now`` with the baseline rows, print the moves (every metric with ``--all``);
    exit 1 when a metric moved."""
    from sim.experiment.gate import check

    if header.get("suite_hash") != digest:
        show.note(
            "[yellow]note:[/] the suite or its policy files changed since the baseline was "
            "stored; differences below may be intended (then run --update-baseline)"
        )
    diff = check(now, base_rows, suite.tolerance_se)
    bad = diff[diff["status"] != "ok"]
    shown = diff if show_all else bad
    if not shown.empty or not show.terminal:  # the machine formats: even an empty table
        show.table(shown.set_index("scenario"), "Metrics against the baseline", name="gate")
    show.note(
        f"{len(diff) - len(bad)} of {len(diff)} metrics within {suite.tolerance_se:g} standard "
        f"errors of the baseline ({timer.seconds:.1f} s)"
    )
    if len(bad):
        show.note(f"[bold red]regression gate failed: {len(bad)} metric(s) moved[/]")
        raise typer.Exit(1)


# The old name, for one release: click prints a deprecation warning when it is used.
app.command("bench", cls=PlainCommand, hidden=True, deprecated=True)(user_errors(gate))


@command(rich_help_panel=COMPARE)
def report(
    folder: Annotated[Path, typer.Argument(help="a comparison folder (compare/run --out)")],
    out_file: Annotated[
        Path, typer.Option("--out", "-o", help="file to write the HTML report to")
    ] = Path("report.html"),
    sweep_dir: Annotated[
        Path | None, typer.Option("--sweep", help="a sweep's results folder: adds its frontier")
    ] = None,
    max_handoffs_per_week: MaxHandoffsOpt = None,
    min_precision: MinPrecisionOpt = None,
    objective: Annotated[
        str | None,
        typer.Option(
            "--objective",
            help="metric the verdict maximises (or minimises); default: the one the "
            "comparison was run with (and total_wins for the sweep)",
        ),
    ] = None,
    capacity_quantile: Annotated[
        str,
        typer.Option(
            "--capacity-quantile",
            help="for the sweep: which week --max-handoffs-per-week bounds: 0.5, 0.9 (the p90 "
            "week), 1 (the busiest week) or mean",
        ),
    ] = "0.9",
) -> None:
    """Write one self-contained HTML report (plots embedded) of a comparison folder, and of a
    sweep when given. The verdict judges by the limits the comparison was run with (stored in
    its folder), each replaced by one given here; the sweep by the ones given here only."""
    from sim.experiment import Comparison
    from sim.experiment.recommend import parse_capacity_quantile
    from sim.experiment.verdict import check_objective
    from sim.files import check_output_file
    from sim.report import write_report

    check_output_file(out_file)
    if objective is not None:
        check_objective(objective)
    quantile = parse_capacity_quantile(capacity_quantile)
    cmp = Comparison.read(folder)
    if sweep_dir is not None and not (sweep_dir / "cells").is_dir():
        raise QualsimError(f"{sweep_dir}: not a sweep results folder (no cells/ inside)")
    given = (
        ("objective", objective),
        ("max_handoffs_per_week", max_handoffs_per_week),
        ("min_precision", min_precision),
    )
    limits: dict[str, str | float | None] = {k: v for k, v in given if v is not None}
    limits["capacity_quantile"] = quantile
    try:
        with left_out_cells(), delayed_steps("report") as progress:  # a bar after 2 s
            wrote(write_report(cmp, out_file, sweep_dir, limits, progress=progress))
    except OSError as exc:
        raise QualsimError(f"{out_file}: cannot write the report ({exc.strerror})") from None
