"""``qualsim robustness``: how each rule's precision, recall and weekly load move as each
messy-data knob of the scenario goes from clean to its documented value."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.text import Text

from sim.cli.base import (
    COMPARE,
    ONE_REPLICATION,
    FormatOpt,
    OptionalScenarioArg,
    PoliciesOpt,
    RawCsvOpt,
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
from sim.errors import QualsimError
from sim.world.names import DEFAULT_SCENARIO

if TYPE_CHECKING:
    import pandas as pd


def _knob_values(knobs: list[str]) -> dict[str, float]:
    """``NAME=VALUE`` options as a dict (a clear error otherwise)."""
    values: dict[str, float] = {}
    for item in knobs:
        name, sep, text = item.partition("=")
        try:
            if not sep:
                raise ValueError
            values[name.strip()] = float(text)
        except ValueError:
            raise QualsimError(
                f"--knob {item!r}: expected NAME=VALUE, e.g. blank_titles=0.2"
            ) from None
    return values


@command(rich_help_panel=COMPARE)
def robustness(
    scenario: OptionalScenarioArg = DEFAULT_SCENARIO,
    policy: PoliciesOpt = None,
    knob: Annotated[
        list[str] | None,
        typer.Option(
            "--knob",
            "-k",
            help="also try this data_quality knob at this value, NAME=VALUE (repeat)",
        ),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            "-m",
            help="metrics to show (repeat; default: precision, "
            "recall, weekly p90 load, handoffs a week)",
        ),
    ] = None,
    replications: ReplicationsOpt = 2,
    seed: SeedOpt = 0,
    workers: WorkersOpt = 0,
    raw_csv: RawCsvOpt = False,
    out_csv: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="CSV file to write the tidy table to (optional)"),
    ] = None,
    report: ReportOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Which rule degrades gracefully on messy CRM data: per policy and data_quality knob,
    each metric with every knob at zero and with only that knob at its value (the scenario's,
    or --knob), on the same worlds, and the paired change with its 95% CI."""
    import sim
    from sim.experiment import Processes
    from sim.experiment.robustness import DEFAULT_METRICS
    from sim.experiment.robustness import robustness as run
    from sim.sales.metrics import legend

    show = Printer(fmt, safe=not raw_csv)
    sc = sim.load_scenario(scenario)
    timer = Timer()
    r = run(sc, policy or None, replications, seed, values=_knob_values(knob or []),
            metrics=metric or DEFAULT_METRICS, executor=Processes(workers))  # fmt: skip
    knobs = ", ".join(f"{k} {v:g}" for k, v in r.table.drop_duplicates("knob")[["knob", "value"]]
                      .itertuples(index=False))  # fmt: skip
    if replications < 2:
        err.print(ONE_REPLICATION)
    with show:
        show.note(
            f"[bold]{escape(sc.name)}[/]: {sc.accounts.count:,} accounts, {replications} "
            f"replications (seed {seed}) per setting, {timer.seconds:.1f} s. Knobs tried: "
            f"{escape(knobs) or 'none (every knob is 0; give --knob NAME=VALUE)'}. Each cell: "
            "clean -> messy (paired change ±half-width of its 95% CI)."
        )
        if len(r.table):
            show.table(robustness_view(r.table), "Robustness to messy CRM data", False,
                       data=with_units(r.table), name="robustness")  # fmt: skip
            show.note(Text(legend(list(dict.fromkeys(r.table["metric"]))), style="dim"))
        _write(show, r, sc.name, out_csv, report, not raw_csv)


def with_units(table: pd.DataFrame) -> pd.DataFrame:
    """The tidy table with each metric's ``unit`` and ``better`` direction ("higher",
    "lower" or "" for neither) beside its name, for the machine formats."""
    from sim.sales.metrics import METRICS

    known = table["metric"].map(lambda m: METRICS.get(m))
    at = table.columns.get_loc("metric") + 1
    out = table.copy()
    out.insert(at, "unit", known.map(lambda m: m.unit if m else ""))
    out.insert(at + 1, "better", known.map(lambda m: m.better if m else ""))
    return out


def robustness_view(table: pd.DataFrame) -> pd.DataFrame:
    """The tidy table for reading: a row per "policy / knob", a column per metric (its label,
    unit and better direction), each cell "clean -> messy (change ±half-width)" with one
    number format per metric (a share always to 3 decimals), a signed change, and no "-0.000"."""
    import pandas as pd

    from sim.sales.metrics import METRICS, row_label

    cols: dict[str, list[str]] = {}
    rows = list(
        dict.fromkeys(f"{p} / {k}" for p, k in zip(table["policy"], table["knob"], strict=True))
    )
    for metric, t in table.groupby("metric", sort=False):
        m = METRICS.get(str(metric))
        size = pd.concat([t["clean"], t["messy"]]).abs().max()
        fmt = (
            ".3f" if (m and m.unit == "share") or not size >= 1 else ".1f" if size < 100 else ",.0f"
        )
        by = {
            f"{x.policy} / {x.knob}": f"{_n(x.clean, fmt)} -> {_n(x.messy, fmt)} "
            f"({_n(x.change, fmt, '+')} ±{_n(x.ci_high - x.change, fmt)})"
            for x in t.itertuples()
        }
        cols[row_label(str(metric)) if m else str(metric)] = [by.get(r, "") for r in rows]
    return pd.DataFrame(cols, index=pd.Index(rows, name="policy / knob"))


def _n(x: float, fmt: str, sign: str = "") -> str:
    """``x`` in ``fmt`` ("-" for NaN), never "-0.000": a value that rounds to zero is 0."""
    if x != x:
        return "-"
    text = format(x, sign + fmt)
    return text if text.strip("+-0.,") else format(0.0, fmt)


def _write(show, r, name: str, out_csv: Path | None, report: Path | None, safe: bool) -> None:
    """Write the tidy table (``--out``) and the HTML page (``--report``)."""
    try:
        if out_csv is not None:
            wrote([r.write(out_csv, safe=safe)], show)
        if report is not None:
            from sim.files import write_text
            from sim.report.robustness import build_robustness_report

            wrote(write_text(report, build_robustness_report(r, name)), show)
    except OSError as exc:
        raise QualsimError(f"{exc.filename}: cannot write ({exc.strerror})") from None
