"""``qualsim sweep``, ``recommend`` and ``query``: thresholds under scenario uncertainty."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    import pandas as pd


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
    """Recommend, per tier, the policy variant with the best objective (highest, or lowest
    for a lower-is-better one such as false_handoff_hours) under capacity and precision
    constraints; with its CI, how often it stays best across scenario samples, the Pareto
    frontier, and which uncertain parameters change the ranking. The capacity bounds the p90
    week of queue-joining handoffs by default, not the mean: averages hide floods."""
    from sim.experiment import recommend as rec
    from sim.experiment.sweep import results
    from sim.experiment.verdict_sweep import recommendation_text as verdict_line

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
    cells = int(df[["sample", "replication"]].drop_duplicates().shape[0])
    if cells < 2:
        err.print(NO_CI, soft_wrap=True)
    with show:
        line = verdict_line(df, overall, max_handoffs_per_week, min_precision)
        show.note(Text(clean(line)))
        _recommend_tables(show, df, by_tier, front, sens, objective, quantile, cells, line)


NO_CI = (
    "warning: 1 world per variant (1 scenario sample x 1 replication): no confidence "
    "interval; sweep 2 or more samples or replications"
)


def _recommend_tables(show, df, by_tier, front, sens, objective, quantile, cells, line) -> None:
    """The tables of ``recommend``: the recommendation per tier, the Pareto frontier and the
    sensitivity; in the machine formats also the verdict as a one-row table, and numbers
    (mean, ci_low, ci_high) rather than text."""
    import pandas as pd

    from sim.experiment import recommend as rec
    from sim.experiment.recommend import capacity_metric as overall_metric

    if not show.terminal:
        show.table(pd.DataFrame({"verdict": [line]}), "Verdict", False, name="verdict")
    over = "samples x replications" if cells >= 2 else "1 world: no CI"
    title = f"Recommendation (mean ±95% CI over {over})"
    data = by_tier.reset_index()
    data.insert(3, "objective", objective)
    data.insert(data.columns.get_loc("capacity_load"), "capacity_metric", overall_metric(quantile))
    show.table(_tier_view(by_tier, objective, quantile), title, False, data=data,
               name="recommendation")  # fmt: skip
    if (by_tier["tied_with"].fillna(0) > 0).any():
        show.note(Text("Tied with: other variants with the same mean objective; ties go to the "
                       "variant listed first in the sweep.", style="dim"))  # fmt: skip
    labels = {m: _label(m, d) for m, d in rec.PARETO.items()}
    view = front.set_index(front["policy"] + " " + front["variant"]).rename_axis("variant")
    view = view[list(rec.PARETO)].apply(_column_text).rename(columns=labels)
    show.table(view, "Pareto frontier (all accounts; means over the cells)", False,
               data=front[["policy", "variant", *rec.PARETO]], name="pareto")  # fmt: skip
    if sens is not None and not sens.empty:
        note = rec.sensitivity_note(sens)  # what the notes say as a whole, not NaN columns
        if sens["spearman"].notna().any():
            keep_notes = note is None and sens["note"].astype(bool).any()
            shown = sens if keep_notes else sens.drop(columns="note")
            show.table(shown.set_index("parameter"), "What changes the ranking",
                       name="sensitivity")  # fmt: skip
        if note is not None:
            show.note(Text(clean(note)))


def _label(metric: str, direction: str) -> str:
    """A Pareto column's header: the metric's label, unit and the direction the frontier
    prefers (handoffs per week: fewer, though the metric itself has no better direction)."""
    from sim.sales.metrics import METRICS

    m = METRICS[metric]
    named = m.unit == "per week" or m.unit.lower() in m.label.lower()
    unit = "" if named else f" ({m.unit})"
    return f"{m.label}{unit} {'↑' if direction == 'max' else '↓'}"


def _decimals(values: pd.Series) -> str:
    """One number format for a whole column, to suit its largest value."""
    size = float(values.abs().max()) if values.notna().any() else 0.0  # pandas: max skips NaN
    return ",.0f" if size >= 100 else ".1f" if size >= 1 else ".3f"


def _column_text(col: pd.Series) -> pd.Series:
    """A column of numbers as text with one format for all its cells ("-" for NaN; a share
    such as precision always with 3 decimals)."""
    fmt = ".3f" if col.name == "precision" else _decimals(col)
    return col.map(lambda x: "-" if x != x else format(x, fmt))


def _tier_view(by_tier: pd.DataFrame, objective: str, quantile: float | None) -> pd.DataFrame:
    """The recommendation per tier for reading: the objective as "mean ±half-width" with one
    format for the column, labels with units and directions."""
    import pandas as pd

    from sim.experiment.recommend import capacity_metric
    from sim.sales.metrics import METRICS, row_label

    t = by_tier
    half = t["ci_high"] - t["mean"]
    fmt = _decimals(pd.concat([t["mean"], half]))
    ci = [
        "-" if m != m else format(m, fmt) + ("" if h != h else f" ±{h:{fmt}}")
        for m, h in zip(t["mean"], half, strict=True)
    ]
    none = t["variant"] == ""
    view = pd.DataFrame(index=t.index)
    view["policy"] = t["policy"].where(~none, "-")
    view["variant"] = t["variant"].where(~none, "no variant meets the limits")
    label = row_label(objective) if objective in METRICS else objective
    view[label] = ci
    view["Precision (share) ↑"] = _column_text(t["precision"])
    view["Handoffs / week (all)"] = _column_text(t["handoffs_per_week"])
    if quantile is not None:
        view[f"{METRICS[capacity_metric(quantile)].label} (all)"] = _column_text(t["capacity_load"])
    view["best or tied in samples"] = [
        "-" if v else f"{b}/{n}"
        for v, b, n in zip(none, t["best_in_samples"], t["samples"], strict=True)
    ]
    view["tied with"] = ["-" if v else str(k) for v, k in zip(none, t["tied_with"], strict=True)]
    return view


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
        show.table(df.set_index(df.columns[0]), f"{len(df):,} rows", data=df,
                   name="rows")  # fmt: skip  # numbers for reading here, exact in json/csv
