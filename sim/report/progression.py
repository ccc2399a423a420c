"""The report's account-progression section (truth of the simulated worlds): the stage
distribution over time, progression rates and velocity, the double funnel, buying-group
coverage and campaign influence, each under its own heading, stages in the order a journey
goes through them."""

from __future__ import annotations

import pandas as pd

from sim.experiment.compare import Comparison
from sim.report.html import html_table
from sim.report.numbers import DASH, fmt_interval
from sim.report.plots import figure, png
from sim.vocab import JOURNEY_STAGES
from sim.world.progression import ACCOUNT_STAGES

# the progression order: a journey's stages, then where accounts end up (customer, ...)
STAGE_ORDER = [*JOURNEY_STAGES, *[s for s in ACCOUNT_STAGES if s not in JOURNEY_STAGES]]


def in_stage_order(df: pd.DataFrame, by: str = "stage", first: str | None = None) -> pd.DataFrame:
    """``df``'s rows with the stages of column ``by`` in :data:`STAGE_ORDER` (unknown ones
    after, as found), within each value of column ``first`` (kept in its order) if given.

    >>> df = pd.DataFrame({"stage": ["unaware", "sales_ready", "aware"]})
    >>> in_stage_order(df)["stage"].tolist()
    ['unaware', 'aware', 'sales_ready']
    """
    rank = {s: i for i, s in enumerate(STAGE_ORDER)}
    keys = {"_stage": [rank.get(str(s), len(rank)) for s in df[by]]}
    if first is not None:
        keys["_first"] = pd.factorize(df[first])[0]
    cols = ["_first", "_stage"] if first is not None else ["_stage"]
    return df.assign(**keys).sort_values(cols, kind="stable").drop(columns=cols)


def _stages(cmp: Comparison) -> str:
    mean = cmp.stages.groupby("time")[ACCOUNT_STAGES].mean()
    shown = [s for s in ACCOUNT_STAGES if s != "out_of_market"]
    fig, ax = figure(9, 4.2)
    ax.stackplot(mean.index, *[mean[s] for s in shown], labels=shown, alpha=0.85)
    ax.set_xlabel("day of the scenario")
    ax.set_ylabel("accounts (mean over replications)")
    ax.set_title("Account stage distribution over time (in-market accounts, truth)")
    ax.legend(loc="upper left", fontsize=8, ncol=4)
    return "<h3>Accounts in each stage over time</h3>" + png(
        fig,
        "Stacked areas: in-market accounts in each stage day by day (mean over replications), "
        f"from {shown[0]} to {shown[-1]}",
    )


def _rates(cmp: Comparison) -> str:
    p = in_stage_order(cmp.progression_summary())
    units = {"rate": "share", "median_days": "days"}
    text = [fmt_interval(r.mean, r.ci_low, r.ci_high, units[r.value]) for r in p.itertuples()]
    t = p.assign(text=text).pivot_table(
        index=["stage", "next_stage"], columns="value", values="text", aggfunc="first", sort=False
    )
    t = t.reindex(columns=list(units))
    t.index = pd.Index([f"{a} → {b}" for a, b in t.index], name="latent stage")
    t.columns = ["progression rate (share)", "velocity (median days)"]
    return "<h3>Progression rate and velocity per latent stage</h3>" + html_table(
        t, "Share of accounts that move on from each stage, and the median days it takes"
    )


def _funnel(f: pd.DataFrame) -> str:
    counts = f[f["value"] == "count"]
    conv = f[f["value"] == "conversion"].set_index(["policy", "funnel", "step"])["mean"]
    rate = conv.reindex(pd.MultiIndex.from_frame(counts[["policy", "funnel", "step"]]))
    t = pd.DataFrame(
        {
            "count (mean ±CI)": [
                fmt_interval(r.mean, r.ci_low, r.ci_high, "count") for r in counts.itertuples()
            ],
            "conversion from the step before": [
                DASH if v != v else f"{v:.1%}" for v in rate.to_numpy(float)
            ],
        },
        index=rate.index,
    )
    return (
        "<h3>The double funnel: lead steps beside account steps</h3>"
        '<p class="note">Lead funnel: people with a form fill (inquiries) → handed off as '
        "MQL → accepted → opportunity → won; account-level policies hand off no person. "
        "Account funnel: accounts with an inquiry → handed off → accepted → opportunity → "
        "won.</p>" + html_table(t, "The lead and the account funnel of each policy")
    )


def _coverage(cov: pd.DataFrame, palette: dict[str, str]) -> str:
    fig, ax = figure(7, 3.2)
    for i, r in enumerate(cov.itertuples()):
        err = None if r.n < 2 else [[r.mean - r.ci_low], [r.ci_high - r.mean]]
        ax.barh(i, r.mean, color=palette[r.policy], xerr=err, capsize=3)
    ax.set_yticks(range(len(cov)), cov["policy"])
    ax.set_xlabel("share of the buying committee seen by the handoff (true handoffs)")
    ax.set_xlim(0, 1)
    ax.set_title("Buying-group coverage at handoff (95% CI)")
    return "<h3>Buying-group coverage at handoff</h3>" + png(
        fig,
        "Bars per policy: the share of the buying committee already seen when a true handoff "
        "is made, with 95% intervals",
    )


def _campaigns(camp: pd.DataFrame) -> str:
    camp = in_stage_order(camp, first="campaign")
    text = [fmt_interval(r.mean, r.ci_low, r.ci_high, "share") for r in camp.itertuples()]
    t = camp.assign(text=text).pivot_table(
        index=["campaign", "stage"], columns="group", values="text", aggfunc="first", sort=False
    )
    t.columns.name = None
    t.index.names = ["campaign", "from stage"]
    return (
        "<h3>Campaign influence: progression rate of exposed and unexposed accounts</h3>"
        '<p class="note">Exposed: at least one touch tagged with the campaign. Exposure is '
        "not random (campaigns target tiers and target accounts), so read differences as "
        "associations.</p>"
        + html_table(t, "Share of accounts moving on from each stage, by campaign exposure")
    )


def progression_section(cmp: Comparison, palette: dict[str, str]) -> str:
    """The section: each part under its own ``<h3>``, those the comparison has data for."""
    parts = ["<h2>Account progression</h2>"]
    if not cmp.stages.empty:
        parts.append(_stages(cmp))
    if not cmp.progression.empty:
        parts.append(_rates(cmp))
    funnel = cmp.funnel_summary()
    if not funnel.empty:
        parts.append(_funnel(funnel))
    cov = cmp.summary(["buying_group_coverage"])
    if cov["n"].sum():
        parts.append(_coverage(cov, palette))
    camp = cmp.campaign_summary()
    if not camp.empty:
        parts.append(_campaigns(camp))
    return "\n".join(parts)
