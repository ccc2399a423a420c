"""The ``qualsim`` command: a thin layer over the Python API.

Errors in the user's input (``QualsimError``) print as one paragraph on stderr, exit code 2.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sim.errors import QualsimError
from sim.world.presets import DEFAULT_SCENARIO, PRESETS, load_scenario
from sim.world.scenario import Scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="qualsim: test qualification rules (MQL, MQA, stages) on simulated buying journeys.",
)
out = Console()
err = Console(stderr=True)

ScenarioArg = Annotated[
    str,
    typer.Argument(help=f"a preset ({', '.join(PRESETS)}) or a scenario YAML file"),
]
SeedOpt = Annotated[int, typer.Option("--seed", "-s", min=0, help="root random seed")]


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Print a QualsimError as one readable paragraph and exit 2 (no traceback)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except QualsimError as exc:
            err.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def _table(df: pd.DataFrame, title: str) -> Table:
    t = Table(title=title, title_justify="left", title_style="bold")
    t.add_column(df.index.name or "", style="cyan")
    for c in df.columns:
        t.add_column(str(c), justify="right")
    for idx, row in df.iterrows():
        t.add_row(Text(str(idx)), *(Text(_fmt(v)) for v in row))
    return t


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if v != v:  # NaN
            return "-"
        if abs(v) < 1 and v != 0:
            return f"{v:.3f}"
        return f"{v:,.1f}" if not float(v).is_integer() else f"{int(v):,}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


ReplicationsOpt = Annotated[
    int, typer.Option("--replications", "-r", min=1, help="simulated worlds per policy")
]
BaselineOpt = Annotated[
    str | None,
    typer.Option("--baseline", "-b", help="policy the others are compared with (paired)"),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="write tidy, summary and paired tables to this folder"),
]
WorkersOpt = Annotated[
    int, typer.Option("--workers", "-w", min=0, help="processes (0: one per core)")
]
FormatOpt = Annotated[str, typer.Option("--format", help="csv or parquet (with --out)")]
AllOpt = Annotated[bool, typer.Option("--all-metrics", help="print every metric")]
ReportOpt = Annotated[
    Path | None, typer.Option("--report", help="also write a self-contained HTML report")
]


def _compare(
    scenario, policies, replications, seed, baseline, out_dir, workers, fmt, all_m, report=None
):
    """Shared body of ``run`` and ``compare``."""
    import os

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from sim.experiment.compare import SHIPPED_POLICIES, compare
    from sim.sales.metrics import HEADLINE, METRICS

    if fmt not in ("csv", "parquet"):
        raise QualsimError(f"--format: expected csv or parquet, got {fmt!r}")
    sc = load_scenario(scenario)
    policies = list(policies) or SHIPPED_POLICIES
    if baseline is None and "mql_only" in policies:
        baseline = "mql_only"
    workers = workers or os.cpu_count() or 1
    t0 = time.perf_counter()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("replications", total=replications)
        cmp = compare(
            sc,
            policies,
            replications,
            seed,
            baseline,
            workers=workers,
            progress=lambda _: bar.advance(task),
        )
    dt = time.perf_counter() - t0
    out.print(
        f"[bold]{escape(sc.name)}[/]: {sc.accounts.count:,} accounts over "
        f"{sc.horizon_days:g} days; {len(cmp.policies)} policies x {replications} replications "
        f"(seed {seed}) in {dt:.1f} s. Each cell: mean ±half-width of its 95% CI over "
        f"replications. SDR capacity "
        f"{sc.sales.capacity_per_week:.1f} handoffs/week."
    )
    metrics = list(METRICS) if all_m else HEADLINE
    out.print(_text_table(cmp.table(metrics), "Policies on the same simulated worlds"))
    if len(cmp.policies) > 1:
        base = cmp.baseline or cmp.policies[0]
        out.print(
            _text_table(
                cmp.table(metrics, paired=True),
                f"Difference from {base}, paired on the same worlds",
            )
        )
    prog = cmp.progression_summary()
    prog = prog.assign(text=[_ci_text(r) for r in prog.itertuples()])
    prog = prog.pivot_table(
        index=["stage", "next_stage"], columns="value", values="text", aggfunc="first", sort=False
    )
    prog.index = [f"{a} -> {b}" for a, b in prog.index]
    prog.index.name = "latent stage"
    prog = prog[["rate", "median_days"]].rename(
        columns={"rate": "progression rate", "median_days": "velocity (median days)"}
    )
    out.print(_text_table(prog, "Account progression in these worlds (truth, all policies)"))
    if out_dir is not None:
        try:
            written = cmp.write(out_dir, fmt)
        except OSError as exc:
            raise QualsimError(f"{out_dir}: cannot write results ({exc.strerror})") from None
        for path in written:
            typer.echo(f"wrote {path}")
    if report is not None:
        from sim.report import write_report

        try:
            typer.echo(f"wrote {write_report(cmp, report)}")
        except OSError as exc:
            raise QualsimError(f"{report}: cannot write the report ({exc.strerror})") from None


def _ci_text(r) -> str:
    from sim.experiment.stats import interval_text as _cell

    return _cell(r.mean, r.ci_low, r.ci_high)


def _text_table(df: pd.DataFrame, title: str) -> Table:
    t = Table(title=title, title_justify="left", title_style="bold")
    t.add_column(df.index.name or "", style="cyan")
    for c in df.columns:
        t.add_column(str(c), justify="right")
    for idx, row in df.iterrows():
        t.add_row(Text(str(idx)), *(Text(str(v)) for v in row))
    return t


@app.command()
@user_errors
def run(
    scenario: Annotated[str, typer.Argument(help="a preset or a scenario YAML file")] = (
        DEFAULT_SCENARIO
    ),
    policy: Annotated[
        list[str] | None,
        typer.Option("--policy", "-p", help="policy YAML or shipped name (repeat; default: 4)"),
    ] = None,
    replications: ReplicationsOpt = 10,
    seed: SeedOpt = 0,
    baseline: BaselineOpt = None,
    out_dir: OutOpt = None,
    workers: WorkersOpt = 0,
    fmt: FormatOpt = "csv",
    all_metrics: AllOpt = False,
    report: ReportOpt = None,
) -> None:
    """Compare the shipped policies (MQL, MQA, weighted titles, stages) on the default scenario:
    handoffs, precision, timing and sales outcomes, each with a 95% CI over replications."""
    _compare(
        scenario,
        policy or [],
        replications,
        seed,
        baseline,
        out_dir,
        workers,
        fmt,
        all_metrics,
        report,
    )


@app.command("compare")
@user_errors
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
) -> None:
    """Compare policies on replicated worlds of a scenario, paired against a baseline."""
    _compare(
        scenario,
        policies,
        replications,
        seed,
        baseline,
        out_dir,
        workers,
        fmt,
        all_metrics,
        report,
    )


@app.command()
@user_errors
def sweep(
    file: Annotated[Path, typer.Argument(help="sweep YAML (policies, grids, uncertainties)")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="results folder")],
    workers: WorkersOpt = 0,
    executor: Annotated[str, typer.Option("--executor", help="local or dask")] = "local",
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler, e.g. tcp://host:8786")
    ] = None,
) -> None:
    """Run a threshold sweep under scenario uncertainty into a resumable results store."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from sim.experiment.sweep import load_sweep, run_sweep

    spec, base = load_sweep(file)
    t0 = time.perf_counter()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("worlds", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        counts = run_sweep(
            spec, out_dir, base, executor=_executor(executor, workers, scheduler), progress=progress
        )
    typer.echo(
        f"{spec.name}: {counts['units']} worlds (scenario samples x replications), "
        f"{counts['done_before']} already done, {counts['ran']} run now in "
        f"{time.perf_counter() - t0:.1f} s; results in {out_dir}/cells"
    )


@app.command()
@user_errors
def recommend(
    run_dir: Annotated[Path, typer.Argument(help="a sweep's results folder")],
    max_handoffs_per_week: Annotated[
        float | None, typer.Option("--max-handoffs-per-week", min=0, help="SDR capacity")
    ] = None,
    min_precision: Annotated[
        float | None, typer.Option("--min-precision", min=0, max=1, help="precision floor")
    ] = None,
    objective: Annotated[str, typer.Option("--objective", help="metric to maximise")] = (
        "total_wins"
    ),
) -> None:
    """Recommend, per tier, the policy variant that maximises the objective under capacity and
    precision constraints; with its CI, how often it stays best across scenario samples, the
    Pareto frontier, and which uncertain parameters change the ranking."""
    from sim.experiment import recommend as rec
    from sim.experiment.sweep import results

    if not (run_dir / "cells").is_dir():
        raise QualsimError(f"{run_dir}: not a sweep results folder (no cells/ inside)")
    df = results(run_dir)
    rows = []
    overall = None
    for tier in [-1, *sorted(t for t in df["tier"].unique() if t != -1)]:
        r = rec.recommend(df, max_handoffs_per_week, min_precision, objective, int(tier))
        if tier == -1:
            overall = r
        label = "all accounts" if tier == -1 else f"tier {tier}"
        if r.get("variant") is None:
            rows.append({"tier": label, "policy": "-", "variant": "no variant meets the limits"})
            continue
        rows.append(
            {
                "tier": label,
                "policy": r["policy"],
                "variant": r["variant"],
                objective: _cell_text(r["mean"], r["ci_low"], r["ci_high"]),
                "precision": f"{r['precision']:.3f}",
                "handoffs/week (all)": f"{r['handoffs_per_week']:.1f}",
                "best in samples": f"{r['best_in_samples']}/{r['samples']}",
            }
        )
    table = pd.DataFrame(rows).set_index("tier").fillna("")
    out.print(_text_table(table, "Recommendation (mean ±95% CI over samples x replications)"))
    front = rec.pareto(rec.summary(df))
    cols = ["policy", "variant", *rec.PARETO]
    out.print(_table(front[cols].set_index("policy"), "Pareto frontier (all accounts)"))
    if overall and overall.get("variant") is not None:
        sens = rec.sensitivity(df, overall)
        if not sens.empty:
            out.print(_table(sens.set_index("parameter"), "What changes the ranking"))


@app.command()
@user_errors
def query(
    run_dir: Annotated[Path, typer.Argument(help="a sweep's results folder")],
    sql: Annotated[str, typer.Argument(help="SQL over the view `cells`")],
    csv: Annotated[bool, typer.Option("--csv", help="print CSV instead of a table")] = False,
) -> None:
    """Query a sweep's results with DuckDB SQL; the rows are in the view `cells`."""
    import duckdb

    files = sorted((run_dir / "cells").glob("s*-r*.parquet"))
    if not files:
        raise QualsimError(f"{run_dir}: no results (expected Parquet files in {run_dir}/cells)")
    con = duckdb.connect()
    pattern = str(run_dir / "cells" / "s*-r*.parquet").replace("'", "''")
    con.execute(f"CREATE VIEW cells AS SELECT * FROM read_parquet('{pattern}', union_by_name=true)")
    try:
        df = con.execute(sql).df()
    except duckdb.Error as exc:
        raise QualsimError(f"query: {exc}") from None
    if csv:
        typer.echo(df.to_csv(index=False), nl=False)
    else:
        out.print(_text_table(df.set_index(df.columns[0]), f"{len(df):,} rows"))


def _cell_text(mean: float, lo: float, hi: float) -> str:
    from sim.experiment.stats import interval_text as _cell

    return _cell(mean, lo, hi)


@app.command()
@user_errors
def report(
    folder: Annotated[Path, typer.Argument(help="a comparison folder (compare/run --out)")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="the HTML file")] = Path(
        "report.html"
    ),
    sweep_dir: Annotated[
        Path | None, typer.Option("--sweep", help="a sweep's results folder: adds its frontier")
    ] = None,
    max_handoffs_per_week: Annotated[
        float | None, typer.Option("--max-handoffs-per-week", min=0, help="for the sweep")
    ] = None,
    min_precision: Annotated[
        float | None, typer.Option("--min-precision", min=0, max=1, help="for the sweep")
    ] = None,
) -> None:
    """Write one self-contained HTML report (plots embedded) of a comparison folder, and of a
    sweep when given."""
    from sim.experiment.compare import Comparison
    from sim.report import write_report

    cmp = Comparison.read(folder)
    if sweep_dir is not None and not (sweep_dir / "cells").is_dir():
        raise QualsimError(f"{sweep_dir}: not a sweep results folder (no cells/ inside)")
    limits = {
        k: v
        for k, v in (
            ("max_handoffs_per_week", max_handoffs_per_week),
            ("min_precision", min_precision),
        )
        if v is not None
    }
    try:
        path = write_report(cmp, out_file, sweep_dir, limits)
    except OSError as exc:
        raise QualsimError(f"{out_file}: cannot write the report ({exc.strerror})") from None
    typer.echo(f"wrote {path}")


@app.command()
@user_errors
def bench(
    suite_file: Annotated[Path, typer.Argument(help="a suite YAML (scenarios x policies)")],
    baseline: Annotated[
        Path, typer.Option("--baseline", "-b", help="the baseline JSON to compare with")
    ] = Path("baseline.json"),
    update_baseline: Annotated[
        bool, typer.Option("--update-baseline", help="store this run as the baseline")
    ] = False,
    show_all: Annotated[bool, typer.Option("--all", help="print every metric, not only moves")] = (
        False
    ),
    workers: WorkersOpt = 0,
) -> None:
    """Regression gate: run the suite and compare key metrics with the baseline; exit 1 when a
    metric moved beyond the tolerance (tolerance_se x the combined standard error)."""
    from sim.experiment.gate import (
        check,
        load_suite,
        read_baseline,
        run_suite,
        suite_hash,
        write_baseline,
    )

    suite, base = load_suite(suite_file)
    if not update_baseline:
        base_rows, header = read_baseline(baseline)  # fail early, before the long run
    t0 = time.perf_counter()
    now = run_suite(suite, base, workers, progress=lambda name: err.print(f"  ran {escape(name)}"))
    took = time.perf_counter() - t0
    if update_baseline:
        path = write_baseline(now, suite, base, baseline)
        typer.echo(
            f"wrote {path}: {len(now)} metrics from {len(suite.scenarios)} scenarios "
            f"in {took:.1f} s"
        )
        return
    if header.get("suite_hash") != suite_hash(suite, base):
        out.print(
            "[yellow]note:[/] the suite or its policy files changed since the baseline was "
            "stored; differences below may be intended (then run --update-baseline)"
        )
    diff = check(now, base_rows, suite.tolerance_se)
    bad = diff[diff["status"] != "ok"]
    shown = diff if show_all else bad
    if not shown.empty:
        out.print(_table(shown.set_index("scenario"), "Metrics against the baseline"))
    out.print(
        f"{len(diff) - len(bad)} of {len(diff)} metrics within {suite.tolerance_se:g} standard "
        f"errors of the baseline ({took:.1f} s)"
    )
    if len(bad):
        out.print(f"[bold red]regression gate failed: {len(bad)} metric(s) moved[/]")
        raise typer.Exit(1)


@app.command("import")
@user_errors
def import_cmd(
    events: Annotated[Path, typer.Option("--events", help="raw touch/activity export")],
    contacts: Annotated[Path, typer.Option("--contacts", help="raw contacts export")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="folder for the canonical files")],
    accounts: Annotated[
        Path | None, typer.Option("--accounts", help="raw accounts export (with outcomes)")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", "-m", help="YAML: column names, activity names, time zone"),
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="count and drop bad event rows")
    ] = False,
) -> None:
    """Convert raw CRM / marketing-automation exports (any column names, activity names, time
    zone, duplicates) into the canonical files `evaluate` reads, streaming in bounded memory,
    with a report where every row is accounted for."""
    from sim.real.importer import import_files

    summary = import_files(events, contacts, accounts, out_dir, mapping, skip_bad_rows)
    typer.echo(str(summary))
    typer.echo(
        f"next: qualsim evaluate --events {out_dir}/events.csv --contacts "
        f"{out_dir}/contacts.csv"
        + (f" --accounts {out_dir}/accounts.csv" if accounts is not None else "")
        + " --policy ... --out results/"
    )


@app.command()
@user_errors
def calibrate(
    events: Annotated[Path, typer.Option("--events", help="touch log (CSV or Parquet)")],
    contacts: Annotated[Path, typer.Option("--contacts", help="contacts, with role if known")],
    accounts: Annotated[Path, typer.Option("--accounts", help="accounts with CRM outcomes")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="the fitted scenario YAML")] = Path(
        "fitted.yaml"
    ),
    base: Annotated[
        str | None, typer.Option("--base", help="preset to extend (default: the closest)")
    ] = None,
    seed: SeedOpt = 0,
    show_all: Annotated[bool, typer.Option("--all", help="also print every touch rate")] = False,
) -> None:
    """Fit a scenario to a real history (committee sizes, role mix, identification rate, touch
    rates, journey timing, win rate) and report how the simulated fit compares with it."""
    from sim.real.calibrate import calibrate_files

    cal, report = calibrate_files(events, contacts, accounts, out_file, base, seed)
    est = cal.table()
    key = est.columns[0]
    rates = est[key].astype(str).str.startswith(("touches.", "noise.rate_scale"))
    shown = est if show_all else est[~rates]
    out.print(_table(shown.set_index(key), "Estimates (± standard error, n)"))
    if not show_all and rates.any():
        out.print(
            f"[dim]{int(rates.sum())} touch-rate estimates: see {escape(str(out_file))} or --all[/]"
        )
    out.print(_table(report.set_index(report.columns[0]), "Observed vs simulated (fitted)"))
    for note in cal.notes:
        out.print(f"[dim]note: {escape(note)}[/]")
    typer.echo(f"wrote {out_file}")


@app.command()
@user_errors
def world(
    scenario: Annotated[str, typer.Argument(help="a preset or a scenario YAML file")] = (
        DEFAULT_SCENARIO
    ),
    seed: SeedOpt = 0,
) -> None:
    """Simulate the scenario once and print what the world looks like (accounts, committees,
    touches, the latent funnel, decisions)."""
    from sim.world.simulate import simulate
    from sim.world.summary import summarize

    sc = load_scenario(scenario)
    t0 = time.perf_counter()
    world = simulate(sc, seed=seed)
    dt = time.perf_counter() - t0
    out.print(
        f"[bold]{escape(sc.name)}[/]: {len(world.accounts):,} accounts, "
        f"{len(world.contacts):,} contacts, "
        f"{len(world.events):,} touches over {sc.horizon_days:g} days (seed {seed}, "
        f"simulated in {dt:.1f} s)"
    )
    titles = {
        "accounts": "Accounts by tier",
        "committees": "Buying committees and noise contacts per account",
        "touches": "Touches by activity",
        "channels": "Touches by channel",
        "funnel": "Latent journey funnel (in-market accounts)",
        "decisions": "Decision outcomes",
    }
    for name, df in summarize(world).items():
        out.print(_table(df, titles[name]))


@app.command("simulate")
@user_errors
def simulate_cmd(
    scenario: ScenarioArg,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="output folder")] = Path("world"),
    seed: SeedOpt = 0,
    csv: Annotated[bool, typer.Option("--csv", help="write CSV instead of Parquet")] = False,
) -> None:
    """Simulate a world and write accounts, contacts, events, truth and campaigns tables."""
    from sim.world.simulate import simulate

    world = simulate(load_scenario(scenario), seed=seed)
    for path in world.write(out_dir, fmt="csv" if csv else "parquet"):
        typer.echo(f"wrote {path}")


@app.command()
@user_errors
def validate(
    scenario: Annotated[
        str, typer.Argument(help="a scenario or policy YAML file (or a preset name)")
    ],
) -> None:
    """Check a scenario or policy file: prints "ok", or every problem with its line and path."""
    path = Path(scenario)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        from sim.config.strict_yaml import read_yaml_file

        data, _ = read_yaml_file(path)
        if isinstance(data, dict) and "kind" in data:  # a policy file
            from policies import load_policy

            p = load_policy(path)
            typer.echo(f"ok: {p.kind} policy {p.name!r}")
            return
    sc = load_scenario(scenario)
    typer.echo(
        f"ok: scenario {sc.name!r} ({sc.accounts.count:,} accounts, "
        f"{sc.horizon_days:g} days, {len(sc.campaigns)} campaigns)"
    )


@app.command()
@user_errors
def evaluate(
    events: Annotated[Path, typer.Option("--events", help="touch log (CSV or Parquet)")],
    contacts: Annotated[Path, typer.Option("--contacts", help="contacts (CSV or Parquet)")],
    policy: Annotated[list[str], typer.Option("--policy", "-p", help="policy YAML (repeat)")],
    accounts: Annotated[
        Path | None, typer.Option("--accounts", help="accounts, optionally with CRM outcomes")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="output folder")] = Path("results"),
    horizon_days: Annotated[
        float,
        typer.Option(
            "--horizon-days",
            min=0,
            help="a handoff is true if an opportunity opens within this many days (or is open)",
        ),
    ] = 90.0,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="skip and count bad event rows")
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="also write a self-contained HTML report")
    ] = None,
) -> None:
    """Replay a real touch log through policies: qualifications (and precision/recall when the
    accounts file has opportunity outcomes)."""
    from sim.real.replay import replay

    r = replay(events, contacts, policy, accounts, horizon_days, skip_bad_rows)
    typer.echo(str(r.real.report))
    counts = r.qualifications.groupby("policy").size()
    for name in counts.index:
        typer.echo(f"{name}: {counts[name]:,} handoffs")
    if r.metrics is not None:
        out.print(_table(r.metrics.set_index("policy"), "Handoffs against CRM outcomes"))
    if r.details is not None:
        out.print(_table(r.details.set_index("policy"), "Volume, timing and wins"))
        from sim.real.replay import NOT_MEASURABLE

        out.print(
            "[dim]Not measurable on a real history: "
            + "; ".join(escape(k) for k in NOT_MEASURABLE)
            + " (see the report).[/]"
        )
    if report is not None:
        from sim.files import write_text
        from sim.report import build_replay_report

        typer.echo(f"wrote {write_text(report, build_replay_report(r, str(events)))}")
    for path in r.write(out_dir):
        typer.echo(f"wrote {path}")


@app.command()
@user_errors
def explain(
    events: Annotated[Path, typer.Option("--events", help="touch log (CSV or Parquet)")],
    contacts: Annotated[Path, typer.Option("--contacts", help="contacts (CSV or Parquet)")],
    policy: Annotated[str, typer.Option("--policy", "-p", help="policy YAML or shipped name")],
    account: Annotated[str, typer.Option("--account", "-a", help="the account's id")],
    accounts: Annotated[Path | None, typer.Option("--accounts", help="accounts file")] = None,
) -> None:
    """Show why and when an account qualified: the touches behind each handoff, by contact
    and activity."""
    from policies import load_policy
    from policies.explain import explain as why
    from sim.real.read import read_log

    pol = load_policy(policy)
    real = read_log(events, contacts, accounts)
    labels = [str(x) for x in real.account_labels]
    if account not in labels:
        from sim.config.strict_yaml import did_you_mean

        raise QualsimError(
            f"{events}: no account {account!r} in the touch log" + did_you_mean(account, labels)
        )
    code = labels.index(account)
    reasons = why(pol, real.log, code)
    if not reasons:
        typer.echo(f"{pol.name}: account {account} was never handed off")
        return
    for r in reasons:
        when = real.to_timestamps([r.handoff["time"]])[0]
        typer.echo(f"{pol.name}: account {account} handed off at {when} ({r.note})")
        t = r.touches.assign(
            time=real.to_timestamps(r.touches["time"]),
            contact_id=real.label_contacts(r.touches["contact_id"]),
        )
        out.print(_table(t.set_index("time"), "Touches the rule looked at"))


@app.command("test-policy")
@user_errors
def test_policy(
    files: Annotated[list[Path], typer.Argument(help="policy test files (YAML)")],
) -> None:
    """Run policy test cases written in YAML (tiny event logs and the expected handoffs); exit
    code 1 when a case fails, so a team can pin its rules in CI."""
    from policies.cases import run_cases

    failed = 0
    for path in files:
        name, outcomes = run_cases(path)
        for o in outcomes:
            mark = "[green]pass[/]" if o.passed else "[bold red]FAIL[/]"
            out.print(f"{mark} {escape(str(path))}: {escape(name)}: {escape(o.name)}")
            for m in o.missing:
                out.print(f"      expected, not handed off: {escape(m)}")
            for u in o.unexpected:
                out.print(f"      handed off, not expected: {escape(u)}")
            failed += not o.passed
    if failed:
        out.print(f"[bold red]{failed} failed[/]")
        raise typer.Exit(1)
    out.print("[green]all cases pass[/]")


@app.command()
@user_errors
def schema(
    kind: Annotated[str, typer.Argument(help="which schema: scenario")] = "scenario",
) -> None:
    """Print the JSON Schema of a config file kind (for editor completion of the YAML)."""
    kinds = {"scenario": Scenario}
    if kind not in kinds:
        from sim.config.strict_yaml import did_you_mean

        raise QualsimError(
            f"unknown schema {kind!r}: expected one of {', '.join(kinds)}"
            + did_you_mean(kind, kinds)
        )
    typer.echo(json.dumps(kinds[kind].model_json_schema(), indent=2))


def _executor(kind: str, workers: int, scheduler: str | None):
    from sim.experiment.executors import Dask, Processes

    if kind == "dask":
        if not scheduler:
            raise QualsimError("--executor dask needs --scheduler tcp://host:port")
        return Dask(scheduler=scheduler)
    if kind != "local":
        raise QualsimError(f"--executor: expected local or dask, got {kind!r}")
    return Processes(workers)


def main() -> None:
    """Entry point of the ``qualsim`` console script."""
    app()


if __name__ == "__main__":
    main()
