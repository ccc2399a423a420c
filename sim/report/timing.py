"""The report page of a timing check: observed against simulated days to a win."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.report.html import esc, html_table, page
from sim.report.numbers import format_columns
from sim.report.plots import figure, png


def build_timing_report(check: Any, title: str = "smb preset against the Olist funnel") -> str:
    """A page comparing observed and simulated days to a win (an Olist ``TimingCheck``): the
    quantiles side by side, the KS distance, and both empirical CDFs on a log axis."""
    fig, ax = figure(8, 4.2)
    for values, label, colour in (
        (check.observed, f"Olist, days MQL → won (n = {check.observed.size:,})", "#1f77b4"),
        (
            check.simulated,
            f"smb, days first form fill → buy (n = {check.simulated.size:,})",
            "#ff7f0e",
        ),
    ):
        v = np.sort(np.asarray(values, dtype=np.float64))
        v = np.maximum(v, 0.1)  # a log axis; same-day wins shown at 0.1 days
        ax.step(v, np.arange(1, v.size + 1) / v.size, where="post", label=label, color=colour)
    ax.set_xscale("log")
    ax.set_xlabel("days (log scale)")
    ax.set_ylabel("share of wins reached")
    ax.set_title(f"Days to a win: KS distance {check.ks:.3f} (p = {check.p_value:.2g})")
    ax.legend(fontsize=8, loc="lower right")
    body = [
        f"<h1>qualsim report: {esc(title)}</h1>",
        html_table(
            format_columns(check.quantiles, {c: "days" for c in check.quantiles.columns}),
            "Quantiles of the days to a win, observed and simulated",
        ),
        f"<p>Two-sample Kolmogorov–Smirnov distance {check.ks:.3f} (p = {check.p_value:.2g}); "
        f"{check.buys:,} simulated buys, {check.buys_without_form:,} of them without a form "
        "fill before the decision (left out).</p>",
        png(
            fig,
            "Empirical cumulative distributions of the days to a win on a log axis: observed "
            "(Olist) and simulated",
        ),
    ]
    return page(title, body)
