"""The ``qualsim`` command line: a thin layer over the Python API, one module per group of
commands (assembled in :mod:`sim.cli.commands`). Errors in the user's input (``QualsimError``)
print as one paragraph, exit code 2.

Nothing is imported here but what :func:`main` needs before the command line itself: for
``evaluate`` and ``explain`` it starts reading the events file first, and ends the process
without the interpreter's teardown once they are done (:mod:`sim.cli.launch`).
"""

from __future__ import annotations

import sys
from typing import Any

from sim.cli.launch import READS_EVENTS, end_process, head_start

__all__ = ["app", "main", "run"]


def main() -> None:
    """Entry point of the ``qualsim`` console script (ends the process: see :func:`run` to
    call the command line from Python)."""
    args = sys.argv[1:]
    if not args or args[0] not in READS_EVENTS:
        run()
        return
    try:
        run()
    except SystemExit as done:
        end_process(done.code)
    end_process(0)


def run() -> None:
    """The command line on ``sys.argv``, raising ``SystemExit`` when it is done."""
    head_start(sys.argv[1:])
    from sim.cli.commands import app

    app()


def __getattr__(name: str) -> Any:
    """``sim.cli.app``: the Typer app with every command (imported on first use)."""
    if name == "app":
        from sim.cli.commands import app

        return app
    raise AttributeError(f"module 'sim.cli' has no attribute {name!r}")
