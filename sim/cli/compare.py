"""``qualsim run`` and ``qualsim compare``: policies on the same simulated worlds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from sim.cli.base import (
    COMPARE,
    ONE_REPLICATION,
    AllMetricsOpt,
    AllOpt,
    BaselineOpt,
    FormatOpt,
    MaxHandoffsOpt,
    MinPrecisionOpt,
    ObjectiveOpt,
    OptionalScenarioArg,
    OutFormatOpt,
    OutOpt,
    PoliciesOpt,
    RawCsvOpt,
    ReplicationsOpt,
    ReportOpt,
    ScenarioArg,
    SeedOpt,
    Timer,
    WorkersOpt,
    command,
    err,
    progress_bar,
    wrote,
)
from sim.cli.output import Printer
from sim.errors import QualsimError
from sim.world.names import DEFAULT_SCENARIO

RobustOpt = Annotated[
    bool,
    typer.Option(
        "--robustness",
        help="also measure robustness to messy CRM data: the policies again with every "
        "data_quality knob at zero and with each non-zero knob alone (as qualsim robustness); "
        "printed, and a section of --report",
    ),
]
GoLiveOpt = Annotated[
    float | None,
    typer.Option("--go-live", help="day the rules go live (overrides rollout.go_live_day)"),
]
BacklogOpt = Annotated[
    str | None,
    typer.Option("--backlog", help="at go-live: all, drain (--drain-per-week N) or new_only"),
]
DrainOpt = Annotated[
    int | None, typer.Option("--drain-per-week", help="backlog accounts handed over a week")
]
CadenceOpt = Annotated[
    str | None,
    typer.Option("--cadence", help="scoring runs: realtime, hourly:N, nightly:H or weekly:D:H"),
]


def _rollout(go_live, backlog, drain, cadence) -> dict | None:
    """The scenario overrides of the rollout options (None when none is given);
    ``--drain-per-week`` alone means ``--backlog drain``, another backlog drops the rate."""
    if drain is not None and backlog is None:
        backlog = "drain"
    given = {
        "go_live_day": go_live,
        "backlog": backlog,
        "drain_per_week": drain,
        "cadence": cadence,
    }
    over = {k: v for k, v in given.items() if v is not None}
    if backlog is not None and backlog != "drain":
        over["drain_per_week"] = None
    return {"rollout": over} if over else None


@command(rich_help_panel=COMPARE)
def run(
    scenario: OptionalScenarioArg = DEFAULT_SCENARIO,
    policy: PoliciesOpt = None,
    replications: ReplicationsOpt = 10,
    seed: SeedOpt = 0,
    baseline: BaselineOpt = None,
    out_dir: OutOpt = None,
    workers: WorkersOpt = 0,
    out_format: OutFormatOpt = "csv",
    fmt: FormatOpt = "table",
    show_all: AllOpt = False,
    all_metrics: AllMetricsOpt = False,
    objective: ObjectiveOpt = "total_wins",
    max_handoffs_per_week: MaxHandoffsOpt = None,
    min_precision: MinPrecisionOpt = None,
    report: ReportOpt = None,
    go_live: GoLiveOpt = None,
    backlog: BacklogOpt = None,
    drain_per_week: DrainOpt = None,
    cadence: CadenceOpt = None,
    robustness: RobustOpt = False,
    raw_csv: RawCsvOpt = False,
) -> None:
    """Compare the shipped policies (scored MQL, MQA with depth, weighted titles, stages and the
    two seed examples) on the default scenario:
    handoffs, precision, timing and sales outcomes, each with a 95% CI over replications."""
    args = {k: v for k, v in locals().items() if k != "policy"}
    _compare_and_write(policies=policy or [], **args)


@command("compare", rich_help_panel=COMPARE)
def compare_cmd(
    scenario: ScenarioArg,
    policies: Annotated[list[str], typer.Argument(help="policy YAML files or shipped names")],
    replications: ReplicationsOpt = 10,
    seed: SeedOpt = 0,
    baseline: BaselineOpt = None,
    out_dir: OutOpt = None,
    workers: WorkersOpt = 0,
    out_format: OutFormatOpt = "csv",
    fmt: FormatOpt = "table",
    show_all: AllOpt = False,
    all_metrics: AllMetricsOpt = False,
    objective: ObjectiveOpt = "total_wins",
    max_handoffs_per_week: MaxHandoffsOpt = None,
    min_precision: MinPrecisionOpt = None,
    report: ReportOpt = None,
    go_live: GoLiveOpt = None,
    backlog: BacklogOpt = None,
    drain_per_week: DrainOpt = None,
    cadence: CadenceOpt = None,
    robustness: RobustOpt = False,
    raw_csv: RawCsvOpt = False,
) -> None:
    """Compare policies on replicated worlds of a scenario, paired against a baseline."""
    _compare_and_write(**locals())


def _compare_and_write(
    scenario,
    policies: list[str],
    replications,
    seed,
    baseline,
    out_dir,
    workers,
    out_format,
    fmt,
    show_all,
    all_metrics,
    objective,
    max_handoffs_per_week,
    min_precision,
    report,
    go_live,
    backlog,
    drain_per_week,
    cadence,
    robustness,
    raw_csv,
) -> None:
    """What ``run`` and ``compare`` do with their options: check the outputs, compare (with
    the rollout options), measure robustness if asked, print and write."""
    from sim.experiment.verdict import check_objective

    show = Printer(fmt, safe=not raw_csv)  # a bad --format fails first
    _check_format(out_format, out_dir, [scenario, *policies], report)
    check_objective(objective)  # before anything runs
    if all_metrics:
        err.print("warning: --all-metrics is deprecated; use --all")
    over = _rollout(go_live, backlog, drain_per_week, cadence)
    goal = (objective, max_handoffs_per_week, min_precision)
    with show:
        cmp = _compare(
            show, scenario, policies, replications, seed, baseline, workers,
            show_all or all_metrics, over, goal,
        )  # fmt: skip
        given = zip(("objective", "max_handoffs_per_week", "min_precision"), goal, strict=True)
        cmp.meta["limits"] = {k: v for k, v in given if v is not None}  # for report
        robust = _robustness(show, cmp, policies or None, workers) if robustness else None
        _write(show, cmp, out_dir, out_format, report, not raw_csv, robust)


def _check_format(fmt: str, out_dir: Path | None, inputs: list[str], report: Path | None) -> None:
    """Fail early on a bad --out-format, an --out folder that cannot be replaced (or holds one
    of the ``inputs``) or a --report that is a folder."""
    from sim.files import check_output_file, check_output_folder

    check_output_file(report)
    if fmt not in ("csv", "parquet"):
        raise QualsimError(f"--out-format: expected csv or parquet, got {fmt!r}")
    if out_dir is not None:
        check_output_folder(out_dir, inputs)


def _compare(show, scenario, policies, replications, seed, baseline, workers, all_metrics,
             over=None, goal=("total_wins", None, None)):  # fmt: skip
    """Run the comparison with a progress bar and print it (the verdict for ``goal``:
    objective, capacity, precision floor); returns it."""
    import sim
    from sim.experiment import DEFAULT_BASELINES, SHIPPED_POLICIES, Processes

    sc = sim.load_scenario(scenario, overrides=over)
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
    cell = (
        "Each cell: mean ±half-width of its 95% CI over replications."
        if replications > 1
        else "Each cell: the value in the one world (no confidence interval)."
    )
    show.note(
        f"[bold]{escape(sc.name)}[/]: {sc.accounts.count:,} accounts over "
        f"{sc.horizon_days:g} days; {_n_by_n(len(cmp.policies), replications)} "
        f"(seed {seed}) in {timer.seconds:.1f} s. {cell} "
        f"{_capacities(sc.sales.capacity_per_week, goal[1])}"
    )
    if replications < 2:
        err.print(ONE_REPLICATION)
    if not sc.rollout.is_identity:
        r = sc.rollout
        live = "always live" if r.go_live_day is None else f"live from day {r.go_live_day:g}"
        show.note(
            f"Rollout: rules {live} (backlog: {r.backlog}), scoring {r.cadence}, CRM sync "
            f"{r.sync_delay_hours:g} h."
        )
    _verdict(show, cmp, *goal)
    _tables(show, cmp, all_metrics)
    return cmp


def _n_by_n(policies: int, replications: int) -> str:
    """ "2 policies x 1 replication": the size of a comparison, each word in its number.

    >>> _n_by_n(1, 2), _n_by_n(2, 1)
    ('1 policy x 2 replications', '2 policies x 1 replication')
    """
    pol = "policy" if policies == 1 else "policies"
    return f"{policies} {pol} x {replications} replication{'' if replications == 1 else 's'}"


def _capacities(scenario_cap: float, verdict_cap: float | None) -> str:
    """The scenario's SDR capacity (the one the weeks over capacity row counts against), and
    the verdict's when --max-handoffs-per-week gives another.

    >>> _capacities(36.0, None)
    'Scenario SDR capacity 36.0 handoffs/week.'
    >>> "against it); the verdict's capacity 10 handoffs in the p90 week" in _capacities(36, 10)
    True
    """
    text = f"Scenario SDR capacity {scenario_cap:.1f} handoffs/week"
    if verdict_cap is None:
        return text + "."
    return (
        f"{text} (the table's weeks over capacity count against it); the verdict's capacity "
        f"{verdict_cap:g} handoff{'' if verdict_cap == 1 else 's'} in the p90 week "
        "(--max-handoffs-per-week)."
    )


def _tables(show, cmp, all_metrics: bool) -> None:
    """The comparison's tables (numbers with their CIs for the machine formats)."""
    from sim.sales import HEADLINE, METRICS
    from sim.sales.metrics import legend

    metrics = list(METRICS) if all_metrics else HEADLINE
    show.table(cmp.table(metrics), "Policies on the same simulated worlds", False,
               data=cmp.summary(metrics), name="policies")  # fmt: skip
    if len(cmp.policies) > 1:
        base = cmp.baseline or cmp.policies[0]
        show.table(cmp.table(metrics, paired=True),
                   f"Difference from {base}, paired on the same worlds", False,
                   data=cmp.paired(metrics=metrics), name="paired")  # fmt: skip
    show.note(Text(legend(metrics), style="dim"))
    title = "Account progression in these worlds (truth, all policies)"
    show.table(cmp.progression_table(), title, False, data=cmp.progression_summary(),
               name="progression")  # fmt: skip
    cal = cmp.calibration_table()
    judged = cal[cal["status"] != "reference"]
    show.note(
        f"Calibration: {int((judged['status'] == 'in band').sum())} of {len(judged)} figures of "
        "these worlds are in their published bands (`qualsim calibration` lists them)."
    )


def _verdict(show, cmp, objective="total_wins", capacity=None, min_precision=None) -> None:
    """Print the verdict (which policy does best within capacity, by how much, at what cost,
    the caveat) before any table."""
    from sim.experiment.verdict import verdict

    v = verdict(cmp, objective, capacity, min_precision)
    show.note(f"[bold]Verdict[/]: {escape(v.text().removeprefix('Verdict: '))}")
    if not show.terminal:  # the machine formats carry the verdict as a one-row table
        import pandas as pd

        keep = ["objective", "chosen", "against", "value", "diff", "ci_low", "ci_high", "n"]
        keep += ["distinguishable", "capacity", "load_metric", "min_precision", "caveat"]
        row = {"text": v.text(), **{k: getattr(v, k) for k in keep}}
        show.table(pd.DataFrame([row]), "Verdict", name="verdict")


def _robustness(show, cmp, policies, workers: int):
    """The robustness of the comparison's policies on its scenario (same replications and
    seed), printed; returns it for the report."""
    from sim.experiment import Processes
    from sim.experiment.robustness import robustness

    timer = Timer()
    r = robustness(cmp.scenario, policies, len(cmp.seeds), cmp.seed, executor=Processes(workers))
    show.note(
        f"Robustness to messy CRM data ({timer.seconds:.1f} s): each cell clean -> messy "
        "(paired change ±half-width of its 95% CI), every data_quality knob at zero against "
        "only that knob at the scenario's value."
    )
    if len(r.table):
        show.table(r.text(), "Robustness to messy CRM data", False, data=r.table,
                   name="robustness")  # fmt: skip
    else:
        show.note("No knob tried: every data_quality knob of the scenario is 0.")
    return r


def _write(
    show, cmp, out_dir: Path | None, fmt: str, report: Path | None, safe: bool, robust=None
) -> None:
    """Write the comparison's tables (``--out``; spreadsheet-safe CSV unless not ``safe``)
    and its report (``--report``, with the robustness section when ``robust`` is given)."""
    if out_dir is not None:
        try:
            wrote(cmp.write(out_dir, fmt, safe=safe), show)
        except OSError as exc:
            raise QualsimError(f"{out_dir}: cannot write results ({exc.strerror})") from None
    if report is not None:
        from sim.report import write_report

        try:
            wrote(write_report(cmp, report, robustness=robust), show)
        except OSError as exc:
            raise QualsimError(f"{report}: cannot write the report ({exc.strerror})") from None
