"""The report page of a replay of a real history (``qualsim evaluate --report``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.real.replays import NOT_MEASURABLE, Replay
from sim.report.html import esc, html_table, page
from sim.report.numbers import format_columns
from sim.report.plots import boxes, colours, figure, png

# the units of the outcome table's columns (sim.real.replays.replay_metrics)
UNITS = {
    "handoffs": "handoffs",
    "handoffs_per_week": "per week",
    "precision": "share",
    "recall": "share",
    "days_to_opportunity": "days",
    "days_to_close": "days",
    "won_accounts": "accounts",
    "won_value": "currency",
    "opportunities_missed": "opportunities",
    "false_in_other_types": "handoffs",
    "false_in_other_share": "share",
}


def _details(details: pd.DataFrame) -> pd.DataFrame:
    """The outcome table for reading: numbers in their units, headers in words."""
    t = format_columns(details.set_index("policy"), UNITS)
    return t.rename(columns=lambda c: str(c).replace("_", " "))


def build_replay_report(replay: Replay, title: str = "replay of a real history") -> str:
    """The report page of ``qualsim evaluate`` on a real export: the metrics the outcomes
    support, handoff timing against the opportunity dates, weekly handoff volume, and a list of
    what a real history cannot measure."""
    names = list(dict.fromkeys(replay.qualifications["policy"].astype(str)))
    if replay.details is not None:
        names = list(replay.details["policy"])
    palette = colours(names)
    body = [f"<h1>qualsim report: {esc(title)}</h1>", f"<pre>{esc(replay.real.report)}</pre>"]
    if replay.details is not None:
        body += [
            "<h2>Handoffs against CRM outcomes</h2>",
            '<p class="note">A handoff at t is true when the account\'s opportunity opened '
            "within the horizon after t or was open at t. Days to opportunity: true handoffs "
            "made before their opportunity opened. Won accounts: handed-off accounts whose "
            "opportunity was won (attribution is not claimed).</p>",
            html_table(_details(replay.details), "Each policy's handoffs against the CRM outcomes"),
        ]
        d, outcomes = replay.handoff_days, replay.real.outcomes
        assert d is not None and outcomes is not None  # replays with details have both
        opened = outcomes.set_index("account_id")["opportunity_date"]
        d = d.assign(vs_opp=d["time"].to_numpy() - opened.reindex(d["account_id"]).to_numpy())
        fig, ax = figure(8, 3.8)
        if boxes(ax, d, "vs_opp", names, palette):
            ax.axvline(0, color="#888", ls="--", lw=0.8)
            ax.set_xlabel("days from the opportunity opening (negative: handed off before it)")
            ax.set_title("When handoffs came, for accounts that had an opportunity")
            alt = (
                "Box plots per policy: days from each handoff to the opening of its account's "
                "opportunity (negative: handed off before it opened)"
            )
            body += ["<h2>Handoff timing against the opportunity</h2>", png(fig, alt)]
    q = replay.handoff_days
    if q is not None and len(q):
        fig, ax = figure(8, 3.5)
        t0 = float(replay.real.log.events["time"].min())
        span = int(np.floor((float(replay.real.log.events["time"].max()) - t0) / 7.0)) + 1
        for p in names:
            t = q.loc[q["policy"] == p, "time"].to_numpy(np.float64)
            if t.size:
                weeks = np.floor((t - t0) / 7.0)
                counts = pd.Series(weeks).value_counts().reindex(range(span), fill_value=0)
                ax.plot(counts.index, counts.to_numpy(), color=palette[p], label=p, lw=1.2)
        ax.set_xlabel("week of the history")
        ax.set_ylabel("handoffs per week")
        ax.set_title("Weekly handoff volume")
        ax.legend(fontsize=8)
        alt = "One line per policy: handoffs in each week of the history"
        body += ["<h2>Volume</h2>", png(fig, alt)]
    if replay.quiet:  # policies handing off nothing or almost nothing: why (policies.quiet)
        body += ["<h2>Why some policies hand off (almost) nothing</h2><ul>"]
        body += [
            f"<li><b>{esc(name)}</b>: {esc('; '.join(why) or 'no obstacle in the statistics')}</li>"
            for name, why in replay.quiet.items()
        ]
        body += ["</ul>"]
    if len(replay.filtered):  # declared filters (exclude): how many touches each removed
        body += [
            "<h2>Touches removed by the policies' filters</h2>",
            html_table(
                replay.filtered.set_index(["policy", "field"]),
                "Touches each policy's declared filters removed, per field",
            ),
        ]
    body += [
        "<h2>What a real history cannot measure</h2><ul>",
        *[f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in NOT_MEASURABLE.items()],
        '</ul><p class="note">Simulate with a scenario calibrated to this history '
        "(<code>qualsim calibrate</code>) to estimate them.</p>",
    ]
    return page(title, body)
