"""Robustness to messy CRM data as a page (``qualsim robustness --report``): per metric, each
policy's paired change as each knob goes from clean to its value, with its 95% CI."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.experiment.robustness import Robustness
from sim.report.html import esc, html_table, page
from sim.report.numbers import fmt_interval, fmt_value, label
from sim.report.plots import colours, figure, png
from sim.sales.metrics import METRICS

NOTE = (
    '<p class="note">Every policy runs on the same worlds twice per knob: with every '
    "data_quality knob at zero (clean) and with only that knob at its value (messy); the same "
    "journeys and sales luck, only the log differs. A bar is the mean paired change over "
    "replications (messy minus clean), its whisker the 95% confidence interval (none with one "
    "replication). A rule that degrades gracefully has short bars.</p>"
)


def _plot(r: Robustness) -> str:
    """One panel per metric: horizontal bars of the change per (knob, policy)."""
    t = r.table
    metrics = list(dict.fromkeys(t["metric"]))
    knobs = list(dict.fromkeys(t["knob"]))
    policies = list(dict.fromkeys(t["policy"]))
    if not metrics:
        return ""
    palette = colours(policies)
    fig, axes = figure(4.0 * len(metrics), 0.5 + 0.35 * len(knobs) * len(policies), len(metrics))
    for i, (ax, m) in enumerate(zip(np.atleast_1d(axes), metrics, strict=True)):
        sub = t[t["metric"] == m].set_index(["knob", "policy"])
        y = 0.0
        for k in knobs:
            for p in policies:
                if (k, p) in sub.index:
                    row = sub.loc[(k, p)]
                    err = [[row["change"] - row["ci_low"]], [row["ci_high"] - row["change"]]]
                    ax.barh(y, row["change"], color=palette[p], xerr=None if np.isnan(
                        row["ci_low"]) else err, label=p if k == knobs[0] else None)  # fmt: skip
                y -= 1
            y -= 0.5
        ax.axvline(0, color="#888", lw=0.8)
        ax.set_yticks([-(i * (len(policies) + 0.5)) - (len(policies) - 1) / 2
                       for i in range(len(knobs))], knobs)  # fmt: skip
        ax.tick_params(labelleft=i == 0)
        ax.set_title(f"{m}: messy - clean", fontsize=9)
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=min(len(policies), 6),
               bbox_to_anchor=(0.5, -0.08))  # fmt: skip
    return png(
        fig,
        f"One panel per metric ({', '.join(metrics)}): bars per data-quality knob and policy, "
        "the paired change from clean to messy data with its 95% interval",
    )


def _table(r: Robustness) -> pd.DataFrame:
    """One row per (policy, knob), one column per metric (label, unit and direction), each
    cell "clean → messy (change ±half-width)" in the metric's unit."""
    t = r.table
    unit = [METRICS[m].unit if m in METRICS else "" for m in t["metric"]]
    cells = [
        f"{fmt_value(row.clean, u, False)} → {fmt_value(row.messy, u, False)} "
        f"({fmt_interval(row.change, row.ci_low, row.ci_high, u)})"
        for row, u in zip(t.itertuples(), unit, strict=True)
    ]
    wide = t.assign(cell=cells).pivot_table(
        index=["policy", "knob"], columns="metric", values="cell", aggfunc="first", sort=False
    )
    wide = wide[[m for m in dict.fromkeys(t["metric"]) if m in wide.columns]]
    wide.index = pd.Index([f"{p} / {k}" for p, k in wide.index], name="policy / knob")
    wide.columns = pd.Index([label(m) for m in wide.columns])
    return wide


def robustness_section(r: Robustness) -> str:
    """The section: the plot and the table (clean → messy, change ±half-width)."""
    if r.table.empty:
        return (
            "<h2>Robustness to messy CRM data</h2><p>No knob tried: every data_quality knob "
            "of the scenario is 0.</p>"
        )
    return (
        "<h2>Robustness to messy CRM data</h2>"
        + NOTE
        + _plot(r)
        + html_table(
            _table(r), "Each policy's change, clean to messy, as each knob goes to its value"
        )
    )


def build_robustness_report(r: Robustness, scenario: str) -> str:
    """A whole page of the robustness of the policies of ``r`` on ``scenario``."""
    return page(
        f"robustness on {scenario}",
        [f"<h1>qualsim robustness: {esc(scenario)}</h1>", robustness_section(r)],
    )
