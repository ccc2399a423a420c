"""``qualsim world``, ``simulate``, ``validate`` and ``schema``: scenarios and simulated worlds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.base import (
    WORLDS,
    RawCsvOpt,
    ScenarioArg,
    SeedOpt,
    Timer,
    command,
    echo,
    out,
    table,
    wrote,
)
from sim.errors import QualsimError
from sim.world.presets import DEFAULT_SCENARIO

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
) -> None:
    """Simulate the scenario once and print what the world looks like (accounts, committees,
    touches, the latent funnel, decisions)."""
    import sim
    from sim.world import summarize

    sc = sim.load_scenario(scenario)
    timer = Timer()
    w = sim.simulate(sc, seed=seed)
    out.print(
        f"[bold]{escape(sc.name)}[/]: {len(w.accounts):,} accounts, {len(w.contacts):,} "
        f"contacts, {len(w.events):,} touches over {sc.horizon_days:g} days (seed {seed}, "
        f"simulated in {timer.seconds:.1f} s)"
    )
    for name, df in summarize(w).items():
        out.print(table(df, SUMMARY_TITLES[name]))


@command("simulate", rich_help_panel=WORLDS)
def simulate_cmd(
    scenario: ScenarioArg,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="output folder")] = Path("world"),
    seed: SeedOpt = 0,
    csv: Annotated[bool, typer.Option("--csv", help="write CSV instead of Parquet")] = False,
    raw_csv: RawCsvOpt = False,
) -> None:
    """Simulate a world and write accounts, contacts, events, truth and campaigns tables
    (replacing the output folder as a whole)."""
    import sim
    from sim.files import check_output_folder

    check_output_folder(out_dir, [scenario])
    w = sim.simulate(sim.load_scenario(scenario), seed=seed)
    wrote(w.write(out_dir, fmt="csv" if csv else "parquet", safe=not raw_csv))


@command(rich_help_panel=WORLDS)
def validate(
    scenario: Annotated[
        str, typer.Argument(help="a scenario or policy YAML file (or a preset name)")
    ],
) -> None:
    """Check a scenario or policy file: prints "ok", or every problem with its line and path."""
    import sim
    from sim.config import read_yaml_file

    path = Path(scenario)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        data, _ = read_yaml_file(path)
        if isinstance(data, dict) and "kind" in data:  # a policy file
            from policies import load_policy

            p = load_policy(path)
            echo(f"ok: {p.kind} policy {p.name!r}")
            return
    sc = sim.load_scenario(scenario)
    echo(
        f"ok: scenario {sc.name!r} ({sc.accounts.count:,} accounts, "
        f"{sc.horizon_days:g} days, {len(sc.campaigns)} campaigns)"
    )


@command(rich_help_panel=WORLDS)
def schema(
    kind: Annotated[str, typer.Argument(help="which schema: scenario")] = "scenario",
) -> None:
    """Print the JSON Schema of a config file kind (for editor completion of the YAML)."""
    from sim.config import did_you_mean
    from sim.world import Scenario

    kinds = {"scenario": Scenario}
    if kind not in kinds:
        raise QualsimError(
            f"unknown schema {kind!r}: expected one of {', '.join(kinds)}"
            + did_you_mean(kind, kinds)
        )
    echo(json.dumps(kinds[kind].model_json_schema(), indent=2))
