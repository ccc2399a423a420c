"""``qualsim test-policy``: policy test cases written in YAML, for a team's CI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.base import CHECKS, command, out


@command("test-policy", rich_help_panel=CHECKS)
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
