"""Helpers shared by the benchmark scripts (run as ``python benchmarks/speed/bench_*.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rich.console import Console

import sim

console = Console(highlight=False, width=None if sys.stdout.isatty() else 110)


def scenario_overrides(preset: str, accounts: int, horizon: float | None) -> dict:
    """Overrides giving ``accounts`` accounts and, if set, a horizon of ``horizon`` days.

    Journeys must start within the horizon, so a horizon shorter than the end of
    ``journey.start_window_days`` also shortens that end in proportion (enterprise at 365 days:
    [-240, 300]).
    """
    over: dict = {"accounts": {"count": int(accounts)}}
    if horizon is None:
        return over
    over["horizon_days"] = float(horizon)
    lo, hi = sim.load_scenario(preset).journey.start_window_days
    if hi > horizon:
        new_hi = min(hi, round(horizon * 300.0 / 365.0))
        over["journey"] = {"start_window_days": [lo, max(new_hi, lo + 1.0)]}
    return over


def git_commit() -> str:
    """The checked-out commit (read-only ``git rev-parse``), or "unknown"."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def verdict(ok: bool) -> str:
    """A coloured ok / MISS for a target."""
    return "[green]ok[/green]" if ok else "[red]MISS[/red]"
