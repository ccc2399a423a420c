"""One self-contained HTML report of a comparison (and of a sweep, when given).

``build_report(cmp, sweep_dir=None) -> str`` returns the page; every plot is an embedded PNG
(matplotlib, Agg backend), so the file opens offline and can be mailed around. Policies keep
one colour throughout. Sections: the comparison table with CIs and the paired differences;
handoff timing (against the sales-ready moment and before the decision); precision against
weekly handoff volume with the SDR capacity; the Pareto frontier and the recommendation (with a
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

import base64
import hashlib
import html
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiment.compare import Comparison
from sim.experiment.stats import interval_text as _cell
from sim.sales.metrics import HEADLINE, METRICS
from sim.world.progression import ACCOUNT_STAGES

CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #222; line-height: 1.4; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem;
     border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .3rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f4f4f4; }
img { max-width: 100%; height: auto; display: block; margin: .8rem 0; }
.note { color: #555; font-size: .9rem; }
pre { background: #f7f7f7; padding: .8rem; overflow-x: auto; font-size: .8rem; }
details { margin: .6rem 0; }
"""


def _colours(policies: list[str]) -> dict[str, str]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return {p: matplotlib.colors.to_hex(cmap(i % 10)) for i, p in enumerate(policies)}


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def _figure(w: float = 8.0, h: float = 4.0, ncols: int = 1):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=(w, h))


def _boxes(ax, df: pd.DataFrame, column: str, policies: list[str], colours) -> bool:
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


def _html_table(df: pd.DataFrame) -> str:
    return df.to_html(escape=True, border=0, na_rep="-")


def _esc(x) -> str:
    return html.escape(str(x))


def _summary_tables(cmp: Comparison) -> str:
    parts = [
        "<h2>Policies on the same simulated worlds</h2>",
        f'<p class="note">Each cell: mean ±half-width of its {cmp.level:.0%} confidence '
        f"interval over {len(cmp.seeds)} replications (Student t).</p>",
        _html_table(cmp.table(list(METRICS))),
    ]
    if len(cmp.policies) > 1:
        base = cmp.baseline or cmp.policies[0]
        parts += [
            f"<h3>Difference from {_esc(base)}, paired on the same worlds</h3>",
            _html_table(cmp.table(HEADLINE, paired=True)),
        ]
    return "\n".join(parts)


def _timing(cmp: Comparison, colours: dict[str, str]) -> str:
    h = cmp.handoffs
    if h.empty:
        return "<h2>Handoff timing</h2><p>No handoffs.</p>"
    fig, (ax1, ax2) = _figure(11.5, 4.2, ncols=2)
    fig.subplots_adjust(wspace=0.5)
    true = h[h["true_handoff"].astype(bool)]
    for ax, col, label in (
        (ax1, "vs_sales_ready_days", "days from the sales-ready moment (negative: earlier)"),
        (ax2, "lead_time_days", "days left before the decision"),
    ):
        _boxes(ax, true, col, cmp.policies, colours)
        ax.set_xlabel(label)
        ax.axvline(0, color="#888", lw=0.8, ls="--")
    ax1.set_title("When true handoffs come, against purchase intent")
    ax2.set_title("Runway left for sales (true handoffs)")
    return (
        "<h2>Handoff timing</h2>"
        '<p class="note">True handoffs only (account in an active journey at the handoff); '
        "boxes: quartiles, whiskers: 1.5 IQR, all replications pooled.</p>" + _png(fig)
    )


def _volume(cmp: Comparison, colours: dict[str, str]) -> str:
    s = cmp.summary(["precision", "handoffs_per_week"]).set_index(["policy", "metric"])
    fig, ax = _figure(7, 4.5)
    for p in cmp.policies:
        x = s.loc[(p, "handoffs_per_week")]
        y = s.loc[(p, "precision")]
        ax.errorbar(
            x["mean"],
            y["mean"],
            xerr=[[x["mean"] - x["ci_low"]], [x["ci_high"] - x["mean"]]] if x["n"] > 1 else None,
            yerr=[[y["mean"] - y["ci_low"]], [y["ci_high"] - y["mean"]]] if y["n"] > 1 else None,
            fmt="o",
            color=colours[p],
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
    return "<h2>Precision against volume</h2>" + _png(fig)


def _progression(cmp: Comparison, colours: dict[str, str]) -> str:
    parts = ["<h2>Account progression</h2>"]
    if not cmp.stages.empty:
        mean = cmp.stages.groupby("time")[ACCOUNT_STAGES].mean()
        shown = [s for s in ACCOUNT_STAGES if s != "out_of_market"]
        fig, ax = _figure(9, 4.2)
        ax.stackplot(mean.index, *[mean[s] for s in shown], labels=shown, alpha=0.85)
        ax.set_xlabel("day of the scenario")
        ax.set_ylabel("accounts (mean over replications)")
        ax.set_title("Account stage distribution over time (in-market accounts, truth)")
        ax.legend(loc="upper left", fontsize=8, ncol=4)
        parts.append(_png(fig))
    prog = cmp.progression_summary()
    if not prog.empty:
        prog = prog.assign(text=[_cell(r.mean, r.ci_low, r.ci_high) for r in prog.itertuples()])
        t = prog.pivot_table(
            index=["stage", "next_stage"], columns="value", values="text", aggfunc="first"
        )
        t = t.reindex(columns=["rate", "median_days"]).rename(
            columns={"rate": "progression rate", "median_days": "velocity (median days)"}
        )
        parts += ["<h3>Progression rate and velocity per latent stage</h3>", _html_table(t)]
    f = cmp.funnel_summary()
    if not f.empty:
        counts = f[f["value"] == "count"].assign(
            text=lambda d: [_cell(r.mean, r.ci_low, r.ci_high) for r in d.itertuples()]
        )
        conv = f[f["value"] == "conversion"].set_index(["policy", "funnel", "step"])["mean"]
        counts = counts.assign(
            conversion=[
                "-"
                if np.isnan(conv.get((r.policy, r.funnel, r.step), np.nan))
                else f"{conv[(r.policy, r.funnel, r.step)]:.1%}"
                for r in counts.itertuples()
            ]
        )
        t = counts.set_index(["policy", "funnel", "step"])[["text", "conversion"]]
        t.columns = ["count (mean ±CI)", "conversion from the step before"]
        parts += [
            "<h3>The double funnel: lead steps beside account steps</h3>",
            '<p class="note">Lead funnel: people with a form fill (inquiries) → handed off as '
            "MQL → accepted → opportunity → won; account-level policies hand off no person. "
            "Account funnel: accounts with an inquiry → handed off → accepted → opportunity → "
            "won.</p>",
            _html_table(t),
        ]
    cov = cmp.summary(["buying_group_coverage"])
    if cov["n"].sum():
        fig, ax = _figure(7, 3.2)
        for i, r in enumerate(cov.itertuples()):
            err = None if r.n < 2 else [[r.mean - r.ci_low], [r.ci_high - r.mean]]
            ax.barh(i, r.mean, color=colours[r.policy], xerr=err, capsize=3)
        ax.set_yticks(range(len(cov)), cov["policy"])
        ax.set_xlabel("share of the buying committee seen by the handoff (true handoffs)")
        ax.set_xlim(0, 1)
        ax.set_title("Buying-group coverage at handoff (95% CI)")
        parts.append(_png(fig))
    camp = cmp.campaign_summary()
    if not camp.empty:
        camp = camp.assign(text=[_cell(r.mean, r.ci_low, r.ci_high) for r in camp.itertuples()])
        t = camp.pivot_table(
            index=["campaign", "stage"], columns="group", values="text", aggfunc="first"
        )
        parts += [
            "<h3>Campaign influence: progression rate of exposed and unexposed accounts</h3>",
            '<p class="note">Exposed: at least one touch tagged with the campaign. Exposure is '
            "not random (campaigns target tiers and target accounts), so read differences as "
            "associations.</p>",
            _html_table(t),
        ]
    return "\n".join(parts)


def _sweep(sweep_dir: Path, colours: dict[str, str], cap: float, limits: dict) -> str:
    from sim.experiment import recommend as rec
    from sim.experiment.sweep import results

    df = results(sweep_dir)
    if df.empty:
        return "<h2>Threshold sweep</h2><p>The sweep folder has no results yet.</p>"
    s = rec.summary(df)
    front = rec.pareto(s)
    r = rec.recommend(df, limits.get("max_handoffs_per_week", cap), limits.get("min_precision"))
    fig, ax = _figure(8, 4.8)
    pal = _colours(list(dict.fromkeys(s["policy"])))
    for p, g in s.groupby("policy", sort=False):
        ax.scatter(g["handoffs_per_week"], g["precision"], color=pal[p], alpha=0.4, label=p)
        fr = front[front["policy"] == p]
        ax.scatter(fr["handoffs_per_week"], fr["precision"], color=pal[p], edgecolor="k", s=60)
    if r.get("variant") is not None:
        ax.scatter(
            [r["handoffs_per_week"]],
            [r["precision"]],
            marker="*",
            s=300,
            color="gold",
            edgecolor="k",
            label=f"recommended: {r['policy']} {r['variant']}",
            zorder=5,
        )
    ax.axvline(cap, color="#c00", ls="--", lw=1, label=f"SDR capacity ({cap:.0f}/week)")
    ax.set_xlabel("handoffs per week (mean over samples and replications)")
    ax.set_ylabel("precision")
    ax.set_title("Sweep: every variant; outlined = Pareto frontier")
    ax.legend(fontsize=8)
    cols = ["policy", "variant", *rec.PARETO]
    text = (
        "no variant meets the limits"
        if r.get("variant") is None
        else f"{_esc(r['policy'])} {_esc(r['variant'])}: {r['objective']} "
        f"{_cell(r['mean'], r['ci_low'], r['ci_high'])}, best in {r['best_in_samples']} of "
        f"{r['samples']} scenario samples"
    )
    return (
        "<h2>Threshold sweep: Pareto frontier and recommendation</h2>"
        f"<p>Recommendation (capacity {limits.get('max_handoffs_per_week', cap):.1f}/week"
        f"{', precision ≥ ' + str(limits['min_precision']) if limits.get('min_precision') else ''}"
        f"): <b>{text}</b></p>" + _png(fig) + _html_table(front[cols].set_index("policy"))
    )


def _configs(cmp: Comparison) -> str:
    from sim import __version__

    sc = cmp.scenario.model_dump(mode="json")
    sc_text = json.dumps(sc, indent=2, sort_keys=True)
    parts = [
        "<h2>Reproduce this page</h2>",
        f"<p>qualsim {_esc(__version__)}; scenario <b>{_esc(cmp.scenario.name)}</b> "
        f"(hash {hashlib.blake2b(sc_text.encode(), digest_size=8).hexdigest()}); root seed "
        f"{cmp.seed}; replication world seeds {', '.join(map(str, cmp.seeds))}.</p>",
        f"<details><summary>Scenario (resolved)</summary><pre>{_esc(sc_text)}</pre></details>",
    ]
    for name, conf in cmp.meta.get("policy_configs", {}).items():
        text = json.dumps(conf, indent=2, sort_keys=True)
        digest = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
        parts.append(
            f"<details><summary>Policy {_esc(name)} (hash {digest})</summary>"
            f"<pre>{_esc(text)}</pre></details>"
        )
    return "\n".join(parts)


def build_report(
    cmp: Comparison, sweep_dir: str | Path | None = None, limits: dict | None = None
) -> str:
    """The report page (HTML text) of a comparison, plus a sweep's frontier when given."""
    colours = _colours(cmp.policies)
    legend = " ".join(
        f'<span style="color:{c}">&#9632;</span> {_esc(p)}' for p, c in colours.items()
    )
    body = [
        f"<h1>qualsim report: {_esc(cmp.scenario.name)}</h1>",
        f"<p>{len(cmp.policies)} policies × {len(cmp.seeds)} replications on the same simulated "
        f"worlds; {cmp.scenario.accounts.count:,} accounts over {cmp.scenario.horizon_days:g} "
        f"days; SDR capacity {cmp.scenario.sales.capacity_per_week:.1f} handoffs/week. "
        f"Colours: {legend}</p>",
        _summary_tables(cmp),
        _timing(cmp, colours),
        _volume(cmp, colours),
    ]
    if sweep_dir is not None:
        body.append(
            _sweep(Path(sweep_dir), colours, cmp.scenario.sales.capacity_per_week, limits or {})
        )
    body += [_progression(cmp, colours), _configs(cmp)]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>qualsim report: {_esc(cmp.scenario.name)}</title><style>{CSS}</style></head>"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def build_replay_report(replay, title: str = "replay of a real history") -> str:
    """The report page of ``qualsim evaluate`` on a real export: the metrics the outcomes
    support, handoff timing against the opportunity dates, weekly handoff volume, and a list of
    what a real history cannot measure."""
    from sim.real.replay import NOT_MEASURABLE

    names = list(dict.fromkeys(replay.qualifications["policy"].astype(str)))
    if replay.details is not None:
        names = list(replay.details["policy"])
    colours = _colours(names)
    body = [f"<h1>qualsim report: {_esc(title)}</h1>", f"<pre>{_esc(replay.real.report)}</pre>"]
    if replay.details is not None:
        body += [
            "<h2>Handoffs against CRM outcomes</h2>",
            '<p class="note">A handoff at t is true when the account\'s opportunity opened '
            "within the horizon after t or was open at t. Days to opportunity: true handoffs "
            "made before their opportunity opened. Won accounts: handed-off accounts whose "
            "opportunity was won (attribution is not claimed).</p>",
            _html_table(replay.details.set_index("policy").round(3)),
        ]
        d = replay.handoff_days
        opened = replay.real.outcomes.set_index("account_id")["opportunity_date"]
        d = d.assign(vs_opp=d["time"].to_numpy() - opened.reindex(d["account_id"]).to_numpy())
        fig, ax = _figure(8, 3.8)
        if _boxes(ax, d, "vs_opp", names, colours):
            ax.axvline(0, color="#888", ls="--", lw=0.8)
            ax.set_xlabel("days from the opportunity opening (negative: handed off before it)")
            ax.set_title("When handoffs came, for accounts that had an opportunity")
            body += ["<h2>Handoff timing against the opportunity</h2>", _png(fig)]
    q = replay.handoff_days
    if q is not None and len(q):
        fig, ax = _figure(8, 3.5)
        t0 = float(replay.real.log.events["time"].min())
        span = int(np.floor((float(replay.real.log.events["time"].max()) - t0) / 7.0)) + 1
        for p in names:
            t = q.loc[q["policy"] == p, "time"].to_numpy(np.float64)
            if t.size:
                weeks = np.floor((t - t0) / 7.0)
                counts = pd.Series(weeks).value_counts().reindex(range(span), fill_value=0)
                ax.plot(counts.index, counts.to_numpy(), color=colours[p], label=p, lw=1.2)
        ax.set_xlabel("week of the history")
        ax.set_ylabel("handoffs per week")
        ax.set_title("Weekly handoff volume")
        ax.legend(fontsize=8)
        body += ["<h2>Volume</h2>", _png(fig)]
    body += [
        "<h2>What a real history cannot measure</h2><ul>",
        *[f"<li><b>{_esc(k)}</b>: {_esc(v)}</li>" for k, v in NOT_MEASURABLE.items()],
        '</ul><p class="note">Simulate with a scenario calibrated to this history '
        "(<code>qualsim calibrate</code>) to estimate them.</p>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>qualsim report: {_esc(title)}</title><style>{CSS}</style></head>"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def build_timing_report(check, title: str = "smb preset against the Olist funnel") -> str:
    """A page comparing observed and simulated days to a win (``sim.olist.TimingCheck``): the
    quantiles side by side, the KS distance, and both empirical CDFs on a log axis."""
    fig, ax = _figure(8, 4.2)
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
        f"<h1>qualsim report: {_esc(title)}</h1>",
        _html_table(check.quantiles.round(1)),
        f"<p>Two-sample Kolmogorov–Smirnov distance {check.ks:.3f} (p = {check.p_value:.2g}); "
        f"{check.buys:,} simulated buys, {check.buys_without_form:,} of them without a form "
        "fill before the decision (left out).</p>",
        _png(fig),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>qualsim report: {_esc(title)}</title><style>{CSS}</style></head>"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_report(
    cmp: Comparison, out: str | Path, sweep_dir=None, limits: dict | None = None
) -> Path:
    """Write :func:`build_report` to ``out`` atomically; returns the path."""
    from sim.files import write_text

    return write_text(out, build_report(cmp, sweep_dir, limits))
