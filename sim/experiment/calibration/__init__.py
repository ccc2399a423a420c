"""Calibration against published figures: is a simulated world believable before any policy
comparison is? :func:`calibration_table` checks a scenario against every band of
:data:`BANDS` that applies to it (the observable rates a team can check in its own export, and
the buying-group, funnel and decision figures of the literature), with the scenario's figure, its
95% CI over replications and — given a team's export — the team's own figure."""

from sim.experiment.calibration.bands import BANDS, PRACTICE_MQL, Band, bands_for
from sim.experiment.calibration.observables import export_figures, funnel_figures, world_figures
from sim.experiment.calibration.table import calibration_table, calibration_unit, printable

__all__ = [
    "BANDS",
    "PRACTICE_MQL",
    "Band",
    "bands_for",
    "calibration_table",
    "calibration_unit",
    "export_figures",
    "funnel_figures",
    "printable",
    "world_figures",
]
