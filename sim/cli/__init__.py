"""The ``qualsim`` command line."""

from sim.cli.commands import app, main

__all__ = ["app", "main"]
