"""``qualsim run`` and ``qualsim compare``: policies on the same simulated worlds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.base import (
    COMPARE,
    AllOpt,
    BaselineOpt,
    FormatOpt,
    OutOpt,
    RawCsvOpt,
    ReplicationsOpt,
    ReportOpt,
    ScenarioArg,
    SeedOpt,
    Timer,
    WorkersOpt,
    command,
    out,
    progress_bar,
    table,
    wrote,
)
from sim.errors import QualsimError
from sim.world.presets import DEFAULT_SCENARIO


@command(rich_help_panel=COMPARE)
def run(
    scenario: Annotated[str, typer.Argument(help="a preset or a scenario YAML file")] = (
        DEFAULT_SCENARIO
    ),
    policy: Annotated[
        list[str] | None,
        typer.Option("--policy", "-p", help="policy YAML or shipped name (repeat; default: all 6)"),
    ] = None,
    replications: ReplicationsOpt = 10,
    seed: SeedOpt = 0,
    baseline: BaselineOpt = None,
    out_dir: OutOpt = None,
    workers: WorkersOpt = 0,
    fmt: FormatOpt = "csv",
    all_metrics: AllOpt = False,
    report: ReportOpt = None,
    raw_csv: RawCsvOpt = False,
) -> None:
    """Compare the shipped policies (scored MQL, MQA with depth, weighted titles, stages and the
    two seed examples) on the default scenario:
    handoffs, precision, timing and sales outcomes, each with a 95% CI over replications."""
    _check_format(fmt, out_dir, [scenario, *(policy or [])], report)
    cmp = _compare(scenario, policy or [], replications, seed, baseline, workers, all_metrics)
    _write(cmp, out_dir, fmt, report, not raw_csv)


@command("compare", rich_help_panel=COMPARE)
def compare_cmd(
    scenario: ScenarioArg,
    policies: Annotated[list[str], typer.Argument(help="policy YAML files or shipped names")],
    replications: ReplicationsOpt = 10,
    seed: SeedOpt = 0,
    baseline: BaselineOpt = None,
    out_dir: OutOpt = None,
    workers: WorkersOpt = 0,
    fmt: FormatOpt = "csv",
    all_metrics: AllOpt = False,
    report: ReportOpt = None,
    raw_csv: RawCsvOpt = False,
) -> None:
    """Compare policies on replicated worlds of a scenario, paired against a baseline."""
    _check_format(fmt, out_dir, [scenario, *policies], report)
    cmp = _compare(scenario, policies, replications, seed, baseline, workers, all_metrics)
    _write(cmp, out_dir, fmt, report, not raw_csv)


def _check_format(fmt: str, out_dir: Path | None, inputs: list[str], report: Path | None) -> None:
    """Fail early on a bad --format, an --out folder that cannot be replaced (or holds one
    of the ``inputs``) or a --report that is a folder."""
    from sim.files import check_output_file, check_output_folder

    check_output_file(report)
    if fmt not in ("csv", "parquet"):
        raise QualsimError(f"--format: expected csv or parquet, got {fmt!r}")
    if out_dir is not None:
        check_output_folder(out_dir, inputs)


def _compare(scenario, policies, replications, seed, baseline, workers, all_metrics):
    """Run the comparison with a progress bar and print its tables; returns it."""
    import sim
    from sim.experiment import DEFAULT_BASELINES, SHIPPED_POLICIES, Processes
    from sim.sales import HEADLINE, METRICS

    sc = sim.load_scenario(scenario)
    policies = list(policies) or SHIPPED_POLICIES
    if baseline is None:
        baseline = next((b for b in DEFAULT_BASELINES if b in policies), None)
    timer = Timer()
    with progress_bar("replications", replications, transient=True) as update:
        done = [0]

        def tick(_: int) -> None:
            done[0] += 1
            update(done[0])

        cmp = sim.compare(
            sc, policies, replications, seed, baseline, executor=Processes(workers), progress=tick
        )
    out.print(
        f"[bold]{escape(sc.name)}[/]: {sc.accounts.count:,} accounts over "
        f"{sc.horizon_days:g} days; {len(cmp.policies)} policies x {replications} replications "
        f"(seed {seed}) in {timer.seconds:.1f} s. Each cell: mean ±half-width of its 95% CI over "
        f"replications. SDR capacity {sc.sales.capacity_per_week:.1f} handoffs/week."
    )
    metrics = list(METRICS) if all_metrics else HEADLINE
    out.print(table(cmp.table(metrics), "Policies on the same simulated worlds", False))
    if len(cmp.policies) > 1:
        base = cmp.baseline or cmp.policies[0]
        paired = cmp.table(metrics, paired=True)
        out.print(table(paired, f"Difference from {base}, paired on the same worlds", False))
    title = "Account progression in these worlds (truth, all policies)"
    out.print(table(cmp.progression_table(), title, False))
    cal = cmp.calibration_table()
    judged = cal[cal["status"] != "reference"]
    out.print(
        f"Calibration: {int((judged['status'] == 'in band').sum())} of {len(judged)} figures of "
        "these worlds are in their published bands (`qualsim calibration` lists them)."
    )
    return cmp


def _write(cmp, out_dir: Path | None, fmt: str, report: Path | None, safe: bool) -> None:
    """Write the comparison's tables (``--out``; spreadsheet-safe CSV unless not ``safe``)
    and its report (``--report``)."""
    if out_dir is not None:
        try:
            wrote(cmp.write(out_dir, fmt, safe=safe))
        except OSError as exc:
            raise QualsimError(f"{out_dir}: cannot write results ({exc.strerror})") from None
    if report is not None:
        from sim.report import write_report

        try:
            wrote(write_report(cmp, report))
        except OSError as exc:
            raise QualsimError(f"{report}: cannot write the report ({exc.strerror})") from None
