"""The progress bar of ``qualsim recommend`` and ``report``: nothing for work under the delay,
a bar naming the step once the work has taken longer, nothing at all off a terminal; and the
report calls its progress once per section, in order."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

import sim
from sim.cli.progress import delayed_steps
from sim.experiment.sweep import SweepSpec, run_sweep
from sim.report import build_report

SMALL = {"accounts": {"count": 150}}


@pytest.fixture(scope="module")
def tiny_comparison(tmp_path_factory) -> tuple[sim.Comparison, Path]:
    """A comparison of two policies and a one-world sweep of one policy's threshold."""
    cmp = sim.compare("smb", ["mql_only", "mqa_count"], replications=2, overrides=SMALL)
    spec = SweepSpec.model_validate(
        {
            "scenario": "smb",
            "overrides": SMALL,
            "seed": 1,
            "replications": 1,
            "policies": [{"policy": "mqa_count", "grid": {"any.0.unique_contacts": "3..4"}}],
        }
    )
    out = tmp_path_factory.mktemp("sweep")
    run_sweep(spec, out, workers=1)
    return cmp, out


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=terminal, width=80), buf


def test_quick_work_shows_nothing() -> None:
    console, buf = _console(terminal=True)
    clock = Clock()
    with delayed_steps("report", delay=2.0, console=console, clock=clock) as step:
        for i, label in enumerate(["verdict", "timing", "sweep"]):
            clock.now += 0.5  # 1.5 s in all: under the delay
            step(i, 3, label)
    assert buf.getvalue() == ""


def test_slow_work_shows_the_step_then_clears() -> None:
    console, buf = _console(terminal=True)
    clock = Clock()
    with delayed_steps("report", delay=2.0, console=console, clock=clock) as step:
        step(0, 3, "verdict")
        assert buf.getvalue() == ""
        clock.now += 2.5
        step(1, 3, "handoff timing")
        console.file.flush()
        shown = buf.getvalue()
        assert "report: handoff timing" in shown and "1/3" in shown
    # transient: on leaving, the cursor goes back up over the bar's line and erases it
    assert buf.getvalue().endswith("\r\x1b[1A\x1b[2K")


def test_no_bar_off_a_terminal() -> None:
    console, buf = _console(terminal=False)
    clock = Clock()
    with delayed_steps("recommend", delay=0.0, console=console, clock=clock) as step:
        step(0, 2, "reading the cells")
        step(1, 2, "per tier")
    assert buf.getvalue() == ""


@pytest.mark.parametrize("with_sweep", [False, True])
def test_report_names_each_section_once(tiny_comparison, with_sweep) -> None:
    calls: list[tuple[int, int, str]] = []
    sweep = tiny_comparison[1] if with_sweep else None
    build_report(tiny_comparison[0], sweep, progress=lambda *a: calls.append(a))
    labels = [label for _, _, label in calls]
    assert [done for done, _, _ in calls] == list(range(len(calls)))
    assert {total for _, total, _ in calls} == {len(calls)}
    assert labels[0] == "verdict" and labels[-1] == "configs"
    assert ("sweep" in labels) == with_sweep
