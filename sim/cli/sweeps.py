"""``qualsim sweep``, ``recommend`` and ``query``: thresholds under scenario uncertainty."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from sim.cli.base import (
    COMPARE,
    FormatOpt,
    MaxHandoffsOpt,
    MinPrecisionOpt,
    ObjectiveOpt,
    RawCsvOpt,
    Timer,
    WorkersOpt,
    clean,
    command,
    echo,
    err,
    progress_bar,
)
from sim.cli.output import Printer
from sim.cli.progress import delayed_steps
from sim.errors import QualsimError


@contextmanager
def left_out_cells() -> Iterator[None]:
    """Print the store's warnings about cells left out (foreign, truncated, corrupt) to stderr
    as one paragraph each, and carry on with the verified cells."""
    from sim.experiment.sweep.store import ForeignCellsWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ForeignCellsWarning)
        yield
    for w in caught:
        if issubclass(w.category, ForeignCellsWarning):
            err.print(Text.assemble(("warning: ", "bold yellow"), str(w.message)), soft_wrap=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


@command(rich_help_panel=COMPARE)
def sweep(
    file: Annotated[Path, typer.Argument(help="sweep YAML (policies, grids, uncertainties)")],
    out_dir: Annotated[
        Path,
        typer.Option("--out", "-o", help="folder of the results store (required; resumable)"),
    ],
    workers: WorkersOpt = 0,
    executor: Annotated[str, typer.Option("--executor", help="local or dask")] = "local",
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler, e.g. tcp://host:8786")
    ] = None,
) -> None:
    """Run a threshold sweep under scenario uncertainty into a resumable results store (at
    most 100,000 scenario samples, 1,000,000 worlds and 10,000 policy variants, counted before
    anything runs)."""
    from sim.experiment.sweep import load_sweep, run_sweep

    spec, base = load_sweep(file)
    run_on = _executor(executor, workers, scheduler)
    timer = Timer()
    with left_out_cells(), progress_bar("worlds", None) as update:
        counts = run_sweep(spec, out_dir, base, executor=run_on, progress=update)
    redone = f" ({counts['rejected']} cell files left out)" if counts["rejected"] else ""
    echo(
        f"{spec.name}: {counts['units']} worlds (scenario samples x replications), "
        f"{counts['done_before']} already done, {counts['ran']} run now{redone} in "
        f"{timer.seconds:.1f} s; results in {out_dir}/cells"
    )


def _executor(kind: str, workers: int, scheduler: str | None):
    from sim.experiment.executors import Dask, Processes

    if kind == "dask":
        if not scheduler:
            raise QualsimError("--executor dask needs --scheduler tcp://host:port")
        return Dask(scheduler=scheduler)
    if kind != "local":
        raise QualsimError(f"--executor: expected local or dask, got {kind!r}")
    run_on = Processes(workers)
    if run_on.requested > run_on.workers:
        err.print(
            f"note: --workers {run_on.requested} capped at {run_on.workers}, the cores this "
            "process may use",
            soft_wrap=True,
        )
    return run_on


@command(rich_help_panel=COMPARE)
def recommend(
    run_dir: Annotated[Path, typer.Argument(help="a sweep's results folder")],
    max_handoffs_per_week: MaxHandoffsOpt = None,
    min_precision: MinPrecisionOpt = None,
    objective: ObjectiveOpt = "total_wins",
    capacity_quantile: Annotated[
        str,
        typer.Option(
            "--capacity-quantile",
            help="which week --max-handoffs-per-week bounds: 0.5 (median week), 0.9 (the p90 "
            "week), 1 (the busiest week) or mean (the average week, as before)",
        ),
    ] = "0.9",
    fmt: FormatOpt = "table",
) -> None:
    """Recommend, per tier, the policy variant that maximises the objective under capacity and
    precision constraints; with its CI, how often it stays best across scenario samples, the
    Pareto frontier, and which uncertain parameters change the ranking. The capacity bounds the
    p90 week of queue-joining handoffs by default, not the mean: averages hide floods."""
    from sim.experiment import recommend as rec
    from sim.experiment.sweep import results
    from sim.experiment.verdict import recommendation_text as verdict_line

    show = Printer(fmt)
    quantile = rec.parse_capacity_quantile(capacity_quantile)
    if not (run_dir / "cells").is_dir():
        raise QualsimError(f"{run_dir}: not a sweep results folder (no cells/ inside)")
    with left_out_cells(), delayed_steps("recommend") as step:  # a bar after 2 s
        step(0, 4, "reading the cells")
        df = results(run_dir)
        step(1, 4, "per tier")
        by_tier, overall = rec.recommend_by_tier(
            df, max_handoffs_per_week, min_precision, objective, quantile
        )
        step(2, 4, "Pareto frontier")
        front = rec.pareto(rec.summary(df))
        step(3, 4, "sensitivity")
        sens = rec.sensitivity(df, overall) if overall.get("variant") is not None else None
    with show:
        show.echo(verdict_line(df, overall, max_handoffs_per_week, min_precision))
        title = "Recommendation (mean ±95% CI over samples x replications)"
        show.table(by_tier, title, False, name="recommendation")
        cols = ["policy", "variant", *rec.PARETO]
        show.table(front[cols].set_index("policy"), "Pareto frontier (all accounts)",
                   name="pareto")  # fmt: skip
        if sens is not None and not sens.empty:
            note = rec.sensitivity_note(sens)  # what the notes say as a whole, not NaN columns
            if sens["spearman"].notna().any():
                keep_notes = note is None and sens["note"].astype(bool).any()
                shown = sens if keep_notes else sens.drop(columns="note")
                show.table(shown.set_index("parameter"), "What changes the ranking",
                           name="sensitivity")  # fmt: skip
            if note is not None:
                show.echo(note)


@command(rich_help_panel=COMPARE)
def query(
    run_dir: Annotated[Path, typer.Argument(help="a sweep's results folder")],
    sql: Annotated[str, typer.Argument(help="SQL over the view `cells`")],
    csv: Annotated[bool, typer.Option("--csv", hidden=True)] = False,  # old --format csv
    raw_csv: RawCsvOpt = False,
    fmt: FormatOpt = "table",
) -> None:
    """Query a sweep's results with DuckDB SQL; the rows are in the view `cells` (the verified
    cells of this folder's configuration). The SQL cannot read or write files, attach
    databases or load extensions."""
    from sim.experiment.sweep.query import query as run_query

    show = Printer(fmt, safe=not raw_csv)
    with left_out_cells():
        df = run_query(run_dir, sql)
    if csv:  # deprecated: the rows as plain CSV (spreadsheet-safe unless --raw-csv)
        from sim.files import neutralise

        err.print("warning: --csv is deprecated; use --format csv")
        typer.echo(clean((df if raw_csv else neutralise(df)).to_csv(index=False)), nl=False)
        return
    with show:
        show.table(df.set_index(df.columns[0]), f"{len(df):,} rows", False, data=df,
                   name="rows")  # fmt: skip
