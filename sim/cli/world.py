"""``qualsim world``, ``simulate``, ``validate`` and ``schema``: scenarios and simulated worlds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.base import (
    WORLDS,
    FormatOpt,
    OutFormatOpt,
    RawCsvOpt,
    ScenarioArg,
    SeedOpt,
    Timer,
    command,
    echo,
    err,
    wrote,
)
from sim.cli.output import Printer
from sim.config.kinds import KINDS
from sim.errors import QualsimError
from sim.world.names import DEFAULT_SCENARIO

SUMMARY_TITLES = {
    "accounts": "Accounts by tier",
    "committees": "Buying committees and noise contacts per account",
    "touches": "Touches by activity",
    "channels": "Touches by channel",
    "funnel": "Latent journey funnel (in-market accounts)",
    "decisions": "Decision outcomes",
}


@command(rich_help_panel=WORLDS)
def world(
    scenario: Annotated[str, typer.Argument(help="a preset or a scenario YAML file")] = (
        DEFAULT_SCENARIO
    ),
    seed: SeedOpt = 0,
    fmt: FormatOpt = "table",
) -> None:
    """Simulate the scenario once and print what the world looks like (accounts, committees,
    touches, the latent funnel, decisions)."""
    import sim
    from sim.world import summarize

    show = Printer(fmt)
    sc = sim.load_scenario(scenario)
    timer = Timer()
    w = sim.simulate(sc, seed=seed)
    with show:
        show.note(
            f"[bold]{escape(sc.name)}[/]: {len(w.accounts):,} accounts, {len(w.contacts):,} "
            f"contacts, {len(w.events):,} touches over {sc.horizon_days:g} days (seed {seed}, "
            f"simulated in {timer.seconds:.1f} s)"
        )
        for name, df in summarize(w).items():
            show.table(df, SUMMARY_TITLES[name], name=name)


@command("simulate", rich_help_panel=WORLDS)
def simulate_cmd(
    scenario: ScenarioArg,
    out_dir: Annotated[
        Path,
        typer.Option("--out", "-o", help="folder to write the tables to (replaced as a whole)"),
    ] = Path("world"),
    seed: SeedOpt = 0,
    out_format: OutFormatOpt = "parquet",
    csv: Annotated[bool, typer.Option("--csv", hidden=True)] = False,  # old --out-format csv
    raw_csv: RawCsvOpt = False,
) -> None:
    """Simulate a world and write accounts, contacts, events, truth and campaigns tables
    (replacing the output folder as a whole)."""
    import sim
    from sim.files import check_output_folder

    if csv:
        err.print("warning: --csv is deprecated; use --out-format csv")
        out_format = "csv"
    if out_format not in ("csv", "parquet"):
        raise QualsimError(f"--out-format: expected csv or parquet, got {out_format!r}")
    check_output_folder(out_dir, [scenario])
    w = sim.simulate(sim.load_scenario(scenario), seed=seed)
    wrote(w.write(out_dir, fmt=out_format, safe=not raw_csv))


CONFIG_KINDS = tuple(KINDS)
KindOpt = Annotated[
    str | None,
    typer.Option(
        "--kind",
        "-k",
        help=f"read FILE as this kind ({', '.join(CONFIG_KINDS)}); default: from its keys",
    ),
]


@command(rich_help_panel=WORLDS)
def validate(
    file: Annotated[
        str,
        typer.Argument(
            help="a config file (scenario, policy, sweep, mapping, suite or policy test "
            "cases), or a preset or shipped policy name",
            metavar="FILE",
        ),
    ],
    kind: KindOpt = None,
) -> None:
    """Check any config file with its own kind's rules: prints "ok: KIND ...", or every
    problem with its line and field path (exit 2). The kind comes from the file's keys
    (`kind:` a policy, `design:` a sweep, `events:` a mapping, ...) unless `--kind` says it."""
    from sim.cli.kinds import validate_file

    _, summary = validate_file(file, kind)
    echo(f"ok: {summary}")


@command(rich_help_panel=WORLDS)
def schema(
    kind: Annotated[
        str,
        typer.Argument(help=f"which kind of file: {', '.join(CONFIG_KINDS)}", metavar="KIND"),
    ] = "scenario",
) -> None:
    """Print the JSON Schema of a config file kind, for an editor to complete and check the
    YAML (e.g. `qualsim schema sweep > sweep.schema.json`)."""
    from sim.cli.kinds import json_schema

    echo(json.dumps(json_schema(kind), indent=2))
