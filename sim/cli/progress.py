"""A progress bar for commands that are usually quick: it appears on stderr (a terminal only)
once the work has taken a couple of seconds, shows the step under way, and vanishes when the
work ends, so a one-second ``qualsim recommend`` prints nothing extra and a slow ``qualsim
report`` says what it is doing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from sim.cli.base import err

#: seconds of work before the bar appears
DELAY = 2.0


@contextmanager
def delayed_steps(
    description: str,
    delay: float = DELAY,
    console: Console | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[Callable[[int, int, str], None]]:
    """Yields ``update(done, total, label)``: call it as each step starts. The transient bar
    (on ``console``, stderr by default; nothing when it is not a terminal) starts at the first
    update made ``delay`` seconds or more after entering, and is cleared on leaving."""
    console = console or err
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = bar.add_task(description, total=None)
    start, shown = clock(), False

    def update(done: int, total: int, label: str) -> None:
        nonlocal shown
        bar.update(task, completed=done, total=total, description=f"{description}: {label}")
        if not shown and clock() - start >= delay:
            bar.start()
            shown = True

    try:
        yield update
    finally:
        if shown:
            bar.stop()
