"""The calibration table as a page (``qualsim calibration --report``) and as a section of the
comparison report."""

from __future__ import annotations

import pandas as pd

from sim.experiment.calibration import printable
from sim.report.html import esc, html_table, page

NOTE = (
    '<p class="note">Each figure is measured on the simulated worlds (mean ±half-width of its 95% '
    "confidence interval over replications) and set against the band the published source "
    "gives (docs/sources.md); rows marked <i>reference</i> have no like-for-like figure in the "
    "model and are not judged.</p>"
)


def calibration_section(table: pd.DataFrame, with_export: bool = False) -> str:
    """The section: how many figures are in band, and the table."""
    judged = table[table["status"] != "reference"]
    n_in = int((judged["status"] == "in band").sum())
    return (
        "<h2>Is this world believable? Calibration against published figures</h2>"
        f"<p>{n_in} of {len(judged)} figures are inside their published bands.</p>"
        + NOTE
        + html_table(
            printable(table, with_export),
            "Each published figure: its band, the simulated value and whether it is in band",
        )
    )


def build_calibration_report(table: pd.DataFrame, scenario: str) -> str:
    """A whole page of the calibration table of ``scenario``."""
    head = f"<h1>qualsim calibration: {esc(scenario)}</h1>"
    return page(
        f"calibration of {scenario}",
        [head, calibration_section(table, "export" in table and table["export"].notna().any())],
    )
