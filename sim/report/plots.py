"""Plots for the report pages: matplotlib figures (object API, no pyplot state), embedded as
PNG data so a page opens offline."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def colours(policies: list[str]) -> dict[str, str]:
    """One colour per policy, kept throughout a page."""
    cmap = matplotlib.colormaps["tab10"]
    return {p: matplotlib.colors.to_hex(cmap(i % 10)) for i, p in enumerate(policies)}


def png(fig: Figure, alt: str) -> str:
    """The figure as an ``<img>`` with its PNG inline and ``alt``, the text a screen reader
    reads in its place: what the plot shows (required, never empty)."""
    if not alt.strip():
        raise ValueError("every plot of a report needs an alt text saying what it shows")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def figure(w: float = 8.0, h: float = 4.0, ncols: int = 1) -> tuple[Figure, Any]:
    """A figure of ``w`` x ``h`` inches and its axes (an array of them with ``ncols`` > 1)."""
    fig = Figure(figsize=(w, h))
    return fig, fig.subplots(1, ncols)


def boxes(ax, df: pd.DataFrame, column: str, policies: list[str], colours) -> bool:
    """Horizontal box plots of ``column`` per policy (NaN left out), in the policies'
    colours; False when no policy has a value."""
    data, labels = [], []
    for p in policies:
        v = df.loc[df["policy"] == p, column].to_numpy(np.float64)
        v = v[~np.isnan(v)]
        if v.size:
            data.append(v)
            labels.append(p)
    if not data:
        return False
    box = ax.boxplot(data, orientation="horizontal", patch_artist=True, showfliers=False)
    for patch, p in zip(box["boxes"], labels, strict=True):
        patch.set_facecolor(colours[p])
        patch.set_alpha(0.7)
    ax.set_yticks(range(1, len(labels) + 1), labels)
    return True


def weekly_lines(ax, weekly: pd.DataFrame, policies: list[str], colours, capacity: float) -> bool:
    """Queue-joining handoffs week by week per policy (the mean over replications as a step
    line, the lowest and highest replication as a band) against the SDR capacity line; False
    when there is no week to draw."""
    if weekly.empty:
        return False
    for p in policies:
        w = weekly[weekly["policy"] == p]
        if w.empty:
            continue
        by_week = w.groupby("start_day")["queued"].agg(["mean", "min", "max"])
        x = by_week.index.to_numpy(np.float64) / 7.0
        ax.step(x, by_week["mean"], where="post", color=colours[p], lw=1.4, label=p)
        ax.fill_between(
            x, by_week["min"], by_week["max"], step="post", color=colours[p], alpha=0.15, lw=0
        )
    ax.axhline(capacity, color="#c00", ls="--", lw=1, label=f"SDR capacity ({capacity:.0f}/week)")
    ax.set_xlabel("week")
    ax.set_ylabel("handoffs joining the SDR queue")
    ax.set_ylim(bottom=0)
    return True
