"""A summary of a simulated world: accounts, committees, touches, the latent funnel, decisions.

Each part is a small pandas DataFrame, so a notebook can look at them; ``qualsim run`` prints them.

>>> import sim
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 200}}), seed=1)
>>> sorted(summarize(w))
['accounts', 'channels', 'committees', 'decisions', 'funnel', 'touches']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.vocab import JOURNEY_STAGES, MARKETING_ACTIVITIES
from sim.world.journeys import ENTRY_COLUMNS
from sim.world.simulate import World


def summarize(world: World) -> dict[str, pd.DataFrame]:
    """The summary tables of ``world``, by name."""
    return {
        "accounts": _accounts(world),
        "committees": _committees(world),
        "touches": _touches(world),
        "channels": _channels(world),
        "funnel": _funnel(world),
        "decisions": _decisions(world),
    }


def _accounts(world: World) -> pd.DataFrame:
    """Accounts per tier (and all): targets, in-market share, size, ICP fit."""
    acc, truth = world.accounts, world.truth
    tiers = acc.assign(in_market=truth["in_market"].to_numpy()).groupby("tier")
    accounts = pd.DataFrame(
        {
            "accounts": tiers.size(),
            "targets": tiers["is_target"].sum(),
            "in_market": tiers["in_market"].sum(),
            "in_market_share": tiers["in_market"].mean(),
            "median_employees": tiers["employees"].median(),
            "mean_icp_fit": tiers["icp_fit"].mean(),
        }
    )
    accounts.loc["all"] = [
        len(acc),
        acc["is_target"].sum(),
        truth["in_market"].sum(),
        truth["in_market"].mean(),
        acc["employees"].median(),
        acc["icp_fit"].mean(),
    ]
    return accounts


def _committees(world: World) -> pd.DataFrame:
    """Committee sizes and noise contacts per account, per tier (and all)."""
    acc, con = world.accounts, world.contacts
    if "duplicate_of" in con.columns:  # people, not a messy CRM's records of them
        con = con[con["duplicate_of"].to_numpy() < 0]
    per_acc = (
        con.groupby("account_id")
        .agg(committee=("in_committee", "sum"), noise=("in_committee", lambda s: (~s).sum()))
        .reindex(acc["account_id"], fill_value=0)
    )
    per_acc["tier"] = acc["tier"].to_numpy()
    g = per_acc.groupby("tier")
    committees = pd.DataFrame(
        {
            "mean_size": g["committee"].mean(),
            "min_size": g["committee"].min(),
            "max_size": g["committee"].max(),
            "mean_noise_contacts": g["noise"].mean(),
        }
    )
    committees.loc["all"] = [
        per_acc["committee"].mean(),
        per_acc["committee"].min(),
        per_acc["committee"].max(),
        per_acc["noise"].mean(),
    ]
    return committees


def _touches(world: World) -> pd.DataFrame:
    """Touches per activity: count, per account and year, known share, campaign share."""
    ev, n = world.events, len(world.accounts)
    years = world.scenario.horizon_days / 365.25
    act = (
        ev.groupby("activity", observed=False)
        .agg(
            touches=("time", "size"),
            known_share=("known", "mean"),
            from_campaigns=("campaign_id", lambda s: float((s >= 0).mean()) if len(s) else 0.0),
        )
        .reindex(list(MARKETING_ACTIVITIES))
    )
    act["per_account_year"] = act["touches"] / max(n, 1) / years
    act.loc["all"] = [
        len(ev),
        ev["known"].mean() if len(ev) else np.nan,
        float((ev["campaign_id"] >= 0).mean()) if len(ev) else 0.0,
        len(ev) / max(n, 1) / years,
    ]
    return act[["touches", "per_account_year", "known_share", "from_campaigns"]]


def _channels(world: World) -> pd.DataFrame:
    """Touches per channel and their share, most used first."""
    ev = world.events
    channels = ev.groupby("channel", observed=True).size().rename("touches").to_frame()
    channels["share"] = channels["touches"] / max(len(ev), 1)
    return channels.sort_values("touches", ascending=False)


def _funnel(world: World) -> pd.DataFrame:
    """The latent journey funnel of in-market accounts: entries and days per stage."""
    im = world.truth[world.truth["in_market"]]
    rows = []
    for k, stage in enumerate([*JOURNEY_STAGES]):
        t0, t1 = im[ENTRY_COLUMNS[k]], im[ENTRY_COLUMNS[k + 1]]
        reached = t0.notna()
        days = (t1 - t0)[reached & t1.notna()]
        rows.append(
            {
                "stage": stage,
                "accounts_entered": int(reached.sum()),
                "left_stage": int(days.size),
                "median_days_in_stage": float(days.median()) if days.size else np.nan,
            }
        )
    rows.append(
        {
            "stage": "decision",
            "accounts_entered": int(im["t_decision"].notna().sum()),
            "left_stage": 0,
            "median_days_in_stage": np.nan,
        }
    )
    funnel = pd.DataFrame(rows).set_index("stage")
    funnel["share_of_in_market"] = funnel["accounts_entered"] / max(len(im), 1)
    return funnel


def _decisions(world: World) -> pd.DataFrame:
    """How in-market journeys ended: decided, bought, no decision, journey length, rivals."""
    im = world.truth[world.truth["in_market"]]
    decided = im[im["decision"] != ""]
    length = (decided["t_decision"] - decided["journey_start"]) / 30.44
    return pd.DataFrame(
        {
            "value": [
                len(im),
                len(decided),
                int((decided["decision"] == "buy").sum()),
                int((decided["decision"] == "no_decision").sum()),
                (decided["decision"] == "no_decision").mean() if len(decided) else np.nan,
                length.median() if len(decided) else np.nan,
                float(im["t_competitor"].notna().mean()) if len(im) else np.nan,
            ]
        },
        index=[
            "in-market accounts",
            "decided within horizon",
            "buy",
            "no decision",
            "no-decision share",
            "median months journey start -> decision",
            "share with a competitor engaged",
        ],
    )
