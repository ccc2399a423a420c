"""The report's go-live section: the backlog spike and how long the SDR queue takes to recover
(only when the scenario's ``rollout:`` sets a ``go_live_day``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.experiment.compare import Comparison
from sim.report.html import esc, html_table
from sim.report.numbers import fmt_interval
from sim.report.plots import figure, png

WEEKS_SHOWN = 26  # weeks after go-live in the plot


def weekly_joined(weekly: pd.DataFrame, weeks: int) -> pd.DataFrame:
    """Per (policy, replication): the handoffs joining the SDR queue (not duplicates or
    recycling) in each of the first ``weeks`` weeks after go-live (columns 0 .. weeks-1), from a
    comparison's weekly series (:data:`sim.tables.WEEKLY`, whose weeks count from go-live)."""
    w = weekly[weekly["week"].to_numpy() < weeks]
    counts = w.pivot_table(
        index=["policy", "replication"], columns="week", values="queued", aggfunc="sum"
    )
    return counts.reindex(columns=range(weeks), fill_value=0).fillna(0).astype(np.int64)


def rollout_section(cmp: Comparison, palette: dict[str, str]) -> str:
    """The go-live section: a sentence, a table (go-live week, weeks to recover) and the
    weekly queue-joining handoffs against the SDR capacity."""
    sc = cmp.scenario
    r, cap = sc.rollout, sc.sales.capacity_per_week
    g = float(r.go_live_day) if r.go_live_day is not None else 0.0
    weeks = max(1, min(WEEKS_SHOWN, int((sc.horizon_days - g) // 7.0)))
    load = weekly_joined(cmp.weekly, weeks)
    reps = pd.MultiIndex.from_product([cmp.policies, range(len(cmp.seeds))])
    load = load.reindex(reps, fill_value=0)
    rec = cmp.summary(["backlog_recovery_weeks"]).set_index("policy")
    rows = []
    for p in cmp.policies:
        w = rec.loc[p]
        rows.append(
            {
                "policy": p,
                "handoffs in the go-live week": f"{load.loc[p][0].mean():.1f}",
                "weeks to recover": fmt_interval(w["mean"], w["ci_low"], w["ci_high"], "weeks"),
            }
        )
    fig, ax = figure(8, 4.2)
    for p in cmp.policies:
        ax.plot(range(weeks), load.loc[p].mean().to_numpy(), color=palette[p], label=p, lw=1.5)
    ax.axhline(cap, color="#c00", ls="--", lw=1, label=f"SDR capacity ({cap:.0f}/week)")
    ax.set_xlabel(f"weeks after go-live (day {g:g})")
    ax.set_ylabel("handoffs joining the SDR queue")
    ax.set_title("The go-live backlog and the weeks after it (mean over replications)")
    ax.legend(loc="best", fontsize=8)
    drain = f", {r.drain_per_week} a week" if r.backlog == "drain" else ""
    return (
        "<h2>Going live</h2>"
        f"<p>The rules go live on day {g:g} over the history before it; the accounts over the "
        f"bar then are the backlog (handed over: {esc(r.backlog)}{drain}); scoring runs "
        f"{esc(r.cadence)}, CRM sync {r.sync_delay_hours:g} h. <em>Weeks to recover</em>: whole "
        "weeks until a week's queue-joining handoffs first fit the SDR capacity "
        "(the weeks left in the horizon when they never do).</p>"
        + html_table(
            pd.DataFrame(rows).set_index("policy"),
            "The go-live week's handoffs and the weeks the SDR queue takes to recover",
        )
        + png(
            fig,
            "One line per policy: queue-joining handoffs in each week after go-live (mean over "
            f"replications) against the SDR capacity at {cap:.0f} a week",
        )
    )
