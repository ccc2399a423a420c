"""``qualsim export``: the chosen rule in the formats teams configure (HubSpot, Mautic,
Marketo-style, ABM account stages), with what each target cannot express."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.base import COMPARE, command, echo, wrote

TARGET_NAMES = ("hubspot", "mautic", "marketo", "abm")


@command("export", rich_help_panel=COMPARE)
def export_cmd(
    policy: Annotated[str, typer.Argument(help="policy YAML or shipped name")],
    to: Annotated[
        str, typer.Option("--to", help=f"target: {', '.join(TARGET_NAMES)}", show_default=False)
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="output folder (default: export-POLICY-TARGET from the policy's name, e.g. "
            "export-mql_scored-hubspot)",
        ),
    ] = None,
) -> None:
    """Export a policy to HubSpot lead scoring (API JSON), Mautic point actions and triggers
    (API JSON), a Marketo-style scoring program or ABM account-stage criteria (a spec and a
    readable page). Prints, and writes into every file, what the target cannot express and how
    the export approximates it."""
    from policies import load_policy
    from policies.export import export_policy
    from sim.files import check_output_folder, write_tables

    rule = load_policy(policy)
    # the policy's name in the default folder: exporting another rule never replaces this one
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", rule.name).strip(".-") or "policy"
    out = out_dir if out_dir is not None else Path(f"export-{name}-{to}")
    check_output_folder(out, [policy])
    exported = export_policy(rule, to)
    wrote(write_tables(dict(exported.files), out))
    if not exported.limitations:
        echo(f"{to}: every part of {exported.policy} is exported exactly")
        return
    echo(f"{to} cannot express {len(exported.limitations)} part(s) of {exported.policy} exactly:")
    for x in exported.limitations:
        echo(f"- {x.line()}")
