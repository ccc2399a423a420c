"""The ``qualsim`` app with every command registered: one module per group of commands, the
groups in the order the help lists them."""

from sim.cli import calibration, compare, export, gate, policy, real, robustness, sweeps, world
from sim.cli.base import CHECKS, COMPARE, REAL, WORLDS, app
from sim.cli.datasets import olist_app
from sim.cli.experiment import experiment_app

app.add_typer(olist_app, name="olist", rich_help_panel=REAL)
app.add_typer(experiment_app, name="experiment", rich_help_panel=COMPARE)
# The help lists its groups in this order, each group's commands in the order they are defined.
_PANELS = [COMPARE, WORLDS, REAL, CHECKS]
app.registered_commands.sort(key=lambda c: _PANELS.index(c.rich_help_panel or CHECKS))

__all__ = [
    "app",
    "calibration",
    "compare",
    "export",
    "gate",
    "policy",
    "real",
    "robustness",
    "sweeps",
    "world",
]
