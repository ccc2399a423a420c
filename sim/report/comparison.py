"""One self-contained HTML report of a comparison (and of a sweep, when given).

``build_report(cmp, sweep_dir=None) -> str`` returns the page; every plot is an embedded PNG
(matplotlib, Agg backend), so the file opens offline and can be mailed around. Policies keep
one colour throughout. Sections: the verdict first (:mod:`sim.experiment.verdict`), then the
comparison table with CIs and the paired differences;
handoff timing (against the sales-ready moment and before the decision); precision against
weekly handoff volume with the SDR capacity; weekly handoffs against the capacity line, week
by week, with the median, p90 and busiest week; the Pareto frontier and the recommendation (with a
sweep); account progression (stage distribution over time, progression rates and velocity, the
double funnel, buying-group coverage); and the configs, hashes and seeds that reproduce it.

>>> import sim
>>> cmp = sim.compare("smb", ["mql_only", "mqa_count"], replications=2,
...                   overrides={"accounts": {"count": 150}})
>>> page = build_report(cmp)
>>> page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.experiment import recommend as rec
from sim.experiment.compare import Comparison
from sim.experiment.robustness import Robustness
from sim.experiment.sweep import results
from sim.experiment.verdict import verdict
from sim.files import write_text
from sim.report.calibration import calibration_section
from sim.report.html import CONTENTS, esc, html_table, page
from sim.report.numbers import MARK_NOTE, fmt_interval, format_columns, metric_table
from sim.report.numbers import label as metric_label
from sim.report.plots import boxes, colours, figure, png, weekly_lines
from sim.report.progression import progression_section
from sim.report.robustness import robustness_section
from sim.report.rollout import rollout_section
from sim.sales.metrics import HEADLINE, METRICS
from sim.sales.weekly import WEEKLY_METRICS

WEEKLY = ["handoffs_per_week", *WEEKLY_METRICS]


def verdict_limits(cmp: Comparison, limits: dict | None = None) -> dict:
    """The limits the report's verdict judges by: those stored with the comparison (as given
    to ``qualsim compare``), each overridden by one given here (``objective``,
    ``max_handoffs_per_week``, ``min_precision``, ``capacity_quantile``).

    >>> import types
    >>> stored = types.SimpleNamespace(meta={"limits": {"objective": "queue_wait_hours",
    ...                                                 "max_handoffs_per_week": 20.0}})
    >>> verdict_limits(stored, {"max_handoffs_per_week": 5.0})
    {'objective': 'queue_wait_hours', 'max_handoffs_per_week': 5.0}
    """
    return {**cmp.meta.get("limits", {}), **(limits or {})}


def _verdict(cmp: Comparison, limits: dict) -> str:
    """The verdict section, first on the page (:func:`sim.experiment.verdict.verdict`), under
    :func:`verdict_limits`: the capacity bounds the ``capacity_quantile`` week (default the
    p90 week, as in compare), the chosen policy in bold."""
    v = verdict(
        cmp,
        limits.get("objective") or "total_wins",
        limits.get("max_handoffs_per_week"),
        limits.get("min_precision"),
        limits.get("capacity_quantile", 0.9),
    )
    text = esc(v.text().removeprefix("Verdict: "))
    if v.chosen is not None and text.startswith(esc(v.chosen)):
        text = f"<strong>{esc(v.chosen)}</strong>{text[len(esc(v.chosen)) :]}"
    return f'<h2>Verdict</h2>\n<p class="verdict">{text}</p>'


def _cells_note(cmp: Comparison) -> str:
    if len(cmp.seeds) < 2:
        return (
            '<p class="note">Each cell: the value on the one replication; no confidence '
            f"interval can be computed (run 2 or more replications). {MARK_NOTE}</p>"
        )
    return (
        f'<p class="note">Each cell: mean ±half-width of its {cmp.level:.0%} confidence '
        f"interval over {len(cmp.seeds)} replications (Student t). {MARK_NOTE}</p>"
    )


def _summary_tables(cmp: Comparison) -> str:
    """The comparison's tables: every metric but the SDR capacity (a setting of the scenario,
    in the page's header, not a result), and the paired differences of the headline ones."""
    metrics = [m for m in METRICS if m != "capacity_per_week"]
    parts = [
        "<h2>Policies on the same simulated worlds</h2>",
        _cells_note(cmp),
        html_table(
            metric_table(cmp.summary(metrics), metrics, cmp.policies),
            "Every metric per policy, "
            + (
                "mean over the replications" if len(cmp.seeds) > 1 else "the value in the one world"
            ),
        ),
    ]
    if len(cmp.policies) > 1:
        base = cmp.baseline or cmp.policies[0]
        parts += [
            f"<h3>Difference from {esc(base)}, paired on the same worlds</h3>",
            html_table(
                metric_table(cmp.paired(metrics=HEADLINE), HEADLINE, cmp.policies),
                f"Headline metrics: each policy minus {base}, world by world",
            ),
        ]
    return "\n".join(parts)


def _timing(cmp: Comparison, palette: dict[str, str]) -> str:
    h = cmp.handoffs
    if h.empty:
        return "<h2>Handoff timing</h2><p>No handoffs.</p>"
    fig, (ax1, ax2) = figure(11.5, 4.2, ncols=2)
    fig.subplots_adjust(wspace=0.5)
    true = h[h["true_handoff"].astype(bool)]
    for ax, col, label in (
        (ax1, "vs_sales_ready_days", "days from the sales-ready moment (negative: earlier)"),
        (ax2, "lead_time_days", "days left before the decision"),
    ):
        boxes(ax, true, col, cmp.policies, palette)
        ax.set_xlabel(label)
        ax.axvline(0, color="#888", lw=0.8, ls="--")
    ax1.set_title("When true handoffs come, against purchase intent")
    ax2.set_title("Runway left for sales (true handoffs)")
    return (
        "<h2>Handoff timing</h2>"
        '<p class="note">True handoffs only (account in an active journey at the handoff); '
        "boxes: quartiles, whiskers: 1.5 IQR, all replications pooled.</p>"
        + png(
            fig,
            "Box plots per policy of true handoffs: left, days from the account's sales-ready "
            "moment (negative: earlier); right, days left before the buying decision",
        )
    )


def _volume(cmp: Comparison, palette: dict[str, str]) -> str:
    s = cmp.summary(["precision", "handoffs_per_week"]).set_index(["policy", "metric"])
    fig, ax = figure(7, 4.5)
    for p in cmp.policies:
        x = s.loc[(p, "handoffs_per_week")]
        y = s.loc[(p, "precision")]
        ax.errorbar(
            x["mean"],
            y["mean"],
            xerr=[[x["mean"] - x["ci_low"]], [x["ci_high"] - x["mean"]]] if x["n"] > 1 else None,
            yerr=[[y["mean"] - y["ci_low"]], [y["ci_high"] - y["mean"]]] if y["n"] > 1 else None,
            fmt="o",
            color=palette[p],
            label=p,
            capsize=3,
            ms=8,
        )
    cap = cmp.scenario.sales.capacity_per_week
    ax.axvline(cap, color="#c00", ls="--", lw=1, label=f"SDR capacity ({cap:.0f}/week)")
    ax.set_xlabel("handoffs per week")
    ax.set_ylabel("precision (share of handoffs in an active journey)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Precision against weekly handoff volume (95% CI)")
    ax.legend(loc="best", fontsize=8)
    return "<h2>Precision against volume</h2>" + png(
        fig,
        "Each policy's precision against its handoffs per week, with 95% intervals, beside "
        f"the SDR capacity line at {cap:.0f} a week",
    )


def _weekly(cmp: Comparison, palette: dict[str, str]) -> str:
    """Weekly handoffs against the capacity line, and the weekly load metrics."""
    head = "<h2>Weekly handoffs against SDR capacity</h2>"
    fig, ax = figure(10, 4.2)
    cap = cmp.scenario.sales.capacity_per_week
    if not weekly_lines(ax, cmp.weekly, cmp.policies, palette, cap):
        return head + "<p>No weekly table in this comparison (written by an older qualsim).</p>"
    ax.set_title("Handoffs week by week (mean over replications; band: lowest to highest)")
    ax.legend(loc="upper right", fontsize=8)
    return (
        head + '<p class="note">An average inside capacity can hide a flood: each line counts '
        "the handoffs that join the SDR queue (not duplicates or recycling) in each week from "
        "go-live. The table reads whole weeks only: the median, the 90th-percentile and the "
        "busiest week, and the share of weeks over capacity.</p>"
        + png(
            fig,
            "Weekly queue-joining handoffs per policy: the mean over replications as a step "
            f"line, the lowest to highest replication as a band, and the SDR capacity at {cap:.0f}",
        )
        + html_table(
            metric_table(cmp.summary(WEEKLY), WEEKLY, cmp.policies),
            "Weekly load per policy: the average, median, 90th-percentile and busiest week",
        )
    )


def _sweep(sweep_dir: Path, limits: dict) -> str:
    """The sweep's section: its frontier and recommendation under the limits given to
    ``qualsim report`` only (as ``qualsim recommend``: no capacity unless given; the
    comparison's own capacity belongs to another scenario), the capacity line it uses."""
    df = results(sweep_dir)
    if df.empty:
        return "<h2>Threshold sweep</h2><p>The sweep folder has no results yet.</p>"
    s = rec.summary(df)
    front = rec.pareto(s)
    quantile = limits.get("capacity_quantile", 0.9)
    week = rec.capacity_metric(quantile)
    note = ""
    if week not in set(df["metric"]):  # a store written before the weekly load was stored
        quantile, week = None, rec.capacity_metric(None)
        note = " (this sweep's results hold no weekly load: the limit bounds the mean week)"
    cap = limits.get("max_handoffs_per_week")
    r = rec.recommend(
        df,
        cap,
        limits.get("min_precision"),
        limits.get("objective") or "total_wins",
        capacity_quantile=quantile,
    )
    fig, ax = figure(8, 4.8)
    pal = colours(list(dict.fromkeys(s["policy"])))
    for p, g in s.groupby("policy", sort=False):
        ax.scatter(g[week], g["precision"], color=pal[p], alpha=0.4, label=p)
        fr = front[front["policy"] == p]
        ax.scatter(fr[week], fr["precision"], color=pal[p], edgecolor="k", s=60)
    if r.get("variant") is not None:
        ax.scatter(
            [r["capacity_load"]],
            [r["precision"]],
            marker="*",
            s=300,
            color="gold",
            edgecolor="k",
            label=f"recommended: {r['policy']} {r['variant']}",
            zorder=5,
        )
    if cap is not None:
        ax.axvline(cap, color="#c00", ls="--", lw=1, label=f"capacity ({cap:g}/week)")
    ax.set_xlabel(f"{METRICS[week].label.lower()}, all accounts (mean over samples and worlds)")
    ax.set_ylabel("precision")
    ax.set_title("Sweep: every variant; outlined = Pareto frontier")
    ax.legend(fontsize=8)
    cols = ["policy", "variant", *rec.PARETO]
    text = (
        "no variant meets the limits"
        if r.get("variant") is None
        else f"{esc(r['policy'])} {esc(r['variant'])}: {_objective(r)}, "
        f"best in {r['best_in_samples']} of "
        f"{r['samples']} scenario samples"
    )
    bounds = [] if cap is None else [f"{METRICS[week].label.lower()} at most {cap:.1f}{note}"]
    if limits.get("min_precision") is not None:
        bounds.append(f"precision ≥ {limits['min_precision']:g}")
    line = "" if cap is None else f", and the capacity line at {cap:g} a week"
    return (
        "<h2>Threshold sweep: Pareto frontier and recommendation</h2>"
        f"<p>Recommendation ({'; '.join(bounds) or 'no limits given'}): <b>{text}</b></p>"
        + png(
            fig,
            f"Scatter of every swept variant: precision against the {METRICS[week].label} "
            f"load, the Pareto frontier outlined, the recommendation starred{line}",
        )
        + html_table(
            _front_table(front[cols]),
            "The Pareto frontier: the variants no other one beats on every frontier metric",
        )
    )


def _objective(r: dict) -> str:
    """ "total wins 4.1 ±1.6 deals": the recommendation's objective, its mean and CI."""
    m = METRICS[r["objective"]]
    interval = fmt_interval(r["mean"], r["ci_low"], r["ci_high"], m.unit)
    return esc(f"{m.label.lower()} {interval} {m.unit}")


def _front_table(front: pd.DataFrame) -> pd.DataFrame:
    """The frontier's variants with their means, each in its metric's unit and labelled."""
    units = {m: METRICS[m].unit for m in front.columns if m in METRICS}
    t = format_columns(front.set_index(["policy", "variant"]), units)
    return t.rename(columns={m: metric_label(m) for m in units})


def _configs(cmp: Comparison) -> str:
    sc = cmp.scenario.model_dump(mode="json")
    sc_text = json.dumps(sc, indent=2, sort_keys=True)
    parts = [
        "<h2>Reproduce this page</h2>",
        f"<p>qualsim {esc(__version__)}; scenario <b>{esc(cmp.scenario.name)}</b> "
        f"(hash {hashlib.blake2b(sc_text.encode(), digest_size=8).hexdigest()}); root seed "
        f"{cmp.seed}; replication world seeds {', '.join(map(str, cmp.seeds))}.</p>",
        f"<details><summary>Scenario (resolved)</summary><pre>{esc(sc_text)}</pre></details>",
    ]
    for name, conf in cmp.meta.get("policy_configs", {}).items():
        text = json.dumps(conf, indent=2, sort_keys=True)
        digest = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
        parts.append(
            f"<details><summary>Policy {esc(name)} (hash {digest})</summary>"
            f"<pre>{esc(text)}</pre></details>"
        )
    return "\n".join(parts)


def _capacity_note(cmp: Comparison, limits: dict) -> str:
    """The scenario's SDR capacity, and the verdict's when another one was given."""
    text = f"scenario SDR capacity {cmp.scenario.sales.capacity_per_week:g} handoffs/week"
    cap = limits.get("max_handoffs_per_week")
    if cap is None:
        return text + "."
    week = rec.capacity_metric(limits.get("capacity_quantile", 0.9))
    words = "average week" if week == "handoffs_per_week" else METRICS[week].label.lower()
    return (
        f"{text}; the verdict's capacity {cap:g} handoff{'' if cap == 1 else 's'} in the {words}."
    )


def build_report(
    cmp: Comparison,
    sweep_dir: str | Path | None = None,
    limits: dict | None = None,
    robustness: Robustness | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> str:
    """The report page (HTML text) of a comparison, plus a sweep's frontier and the robustness
    to messy data (:func:`sim.experiment.robustness.robustness`) when given. ``progress(done,
    total, section)`` is called as each section starts (the CLI's progress bar)."""
    palette = colours(cmp.policies)
    judged = verdict_limits(cmp, limits)
    legend = " ".join(  # the squares are decoration: a screen reader reads the names
        f'<span aria-hidden="true" style="color:{c}">&#9632;</span> {esc(p)}'
        for p, c in palette.items()
    )
    body = [
        f"<h1>qualsim report: {esc(cmp.scenario.name)}</h1>",
        f"<p>{len(cmp.policies)} polic{'y' if len(cmp.policies) == 1 else 'ies'} × "
        f"{len(cmp.seeds)} replication{'' if len(cmp.seeds) == 1 else 's'} on the same simulated "
        f"worlds; {cmp.scenario.accounts.count:,} accounts over {cmp.scenario.horizon_days:g} "
        f"days; {_capacity_note(cmp, judged)} Colours: {legend}</p>",
    ]
    sections: list[tuple[str, Callable[[], str]]] = [
        ("verdict", lambda: _verdict(cmp, judged)),
        ("contents", lambda: CONTENTS),
        ("comparison tables", lambda: _summary_tables(cmp)),
        ("handoff timing", lambda: _timing(cmp, palette)),
        ("precision against volume", lambda: _volume(cmp, palette)),
        ("weekly handoffs", lambda: _weekly(cmp, palette)),
    ]
    if cmp.scenario.rollout.go_live_day is not None:
        sections.append(("rollout", lambda: rollout_section(cmp, palette)))
    if robustness is not None:
        messy = robustness
        sections.append(("robustness", lambda: robustness_section(messy)))
    if sweep_dir is not None:
        swept = Path(sweep_dir)
        sections.append(("sweep", lambda: _sweep(swept, limits or {})))
    if not cmp.calibration.empty:
        sections.append(("calibration", lambda: calibration_section(cmp.calibration_table())))
    sections += [
        ("account progression", lambda: progression_section(cmp, palette)),
        ("configs", lambda: _configs(cmp)),
    ]
    for done, (label, make) in enumerate(sections):
        if progress is not None:
            progress(done, len(sections), label)
        body.append(make())
    return page(cmp.scenario.name, body)


def write_report(
    cmp: Comparison,
    out: str | Path,
    sweep_dir=None,
    limits: dict | None = None,
    robustness: Robustness | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Path:
    """Write :func:`build_report` to ``out`` atomically; returns the path."""
    return write_text(out, build_report(cmp, sweep_dir, limits, robustness, progress))
