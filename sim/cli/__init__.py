"""The ``qualsim`` command line: a thin layer over the Python API, one module per group of
commands (assembled in :mod:`sim.cli.commands`). Errors in the user's input (``QualsimError``)
print as one paragraph, exit code 2.

Nothing is imported here but what :func:`main` needs before the command line itself: for
``evaluate`` and ``explain`` it starts reading the events file first (:mod:`sim.cli.launch`).
"""

from __future__ import annotations

import sys
from typing import Any

from sim.cli.launch import head_start

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``qualsim`` console script."""
    head_start(sys.argv[1:])
    from sim.cli.commands import app

    app()


def __getattr__(name: str) -> Any:
    """``sim.cli.app``: the Typer app with every command (imported on first use)."""
    if name == "app":
        from sim.cli.commands import app

        return app
    raise AttributeError(f"module 'sim.cli' has no attribute {name!r}")
