"""Account progression, the double funnel and campaign influence (what account-based
teams track).

World-level (the same for every policy on a world, from the ground truth):

- :func:`stage_distribution`: how many accounts are in each account stage at given times
  (``out_of_market`` → ``unaware`` → ``aware`` → ``engaged`` → ``qualified`` → ``sales_ready`` →
  ``customer`` or ``no_decision``);
- :func:`progression`: per latent stage, the accounts that entered it within the horizon, the share
  of them that entered the next stage within the horizon (progression rate) and the median days
  between the two entries (velocity). Accounts entering a stage near the end of the horizon have
  less time to move on, so late stages read low on short horizons;
- :func:`campaign_influence`: the same progression rates for accounts exposed to a campaign (at
  least one touch tagged with it) and for the others, per stage. Exposure is not random (campaigns
  target tiers and the target list, and in-journey accounts touch more), so the difference is an
  association, not an effect.

The policy-level double funnel (lead steps beside account steps) is in :mod:`sim.sales.funnel`.

>>> import sim
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 300}}), seed=1)
>>> p = progression(w)
>>> list(p.columns)
['stage', 'next_stage', 'entered', 'progressed', 'rate', 'median_days']
>>> bool(((p["rate"] >= 0) & (p["rate"] <= 1)).all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.world.simulate import World

LATENT = ["journey_start", "t_aware", "t_engaged", "t_qualified", "t_sales_ready", "t_decision"]
STAGE_NAMES = ["unaware", "aware", "engaged", "qualified", "sales_ready", "decision"]
ACCOUNT_STAGES = [
    "out_of_market",
    "unaware",
    "aware",
    "engaged",
    "qualified",
    "sales_ready",
    "customer",
    "no_decision",
]


def stage_distribution(world: World, times=None) -> pd.DataFrame:
    """Accounts in each account stage at each of ``times`` (default: weekly over the horizon):
    one row per time, one column per stage of :data:`ACCOUNT_STAGES`."""
    if times is None:
        times = np.arange(0.0, world.scenario.horizon_days + 1e-9, 7.0)
    times = np.asarray(times, dtype=np.float64)
    tr = world.truth
    entries = np.stack([tr[c].to_numpy(np.float64) for c in LATENT], axis=1)  # (n, 6)
    in_market = tr["in_market"].to_numpy(bool)
    buys = (tr["decision"] == "buy").to_numpy()
    # the last latent entry at or before t (0 = not started, 1..5 = stage, 6 = decided); a
    # journey that stalled early skips from its last stage to the decision
    at = entries[None, :, :] <= times[:, None, None]  # NaN compares False
    reached = np.where(at.any(axis=2), entries.shape[1] - np.argmax(at[:, :, ::-1], axis=2), 0)
    reached = np.where(in_market[None, :], reached, 0)
    stage = np.where(reached == 6, np.where(buys[None, :], 6, 7), reached)
    counts = np.stack([(stage == k).sum(axis=1) for k in range(len(ACCOUNT_STAGES))], axis=1)
    out = pd.DataFrame(counts, columns=ACCOUNT_STAGES)
    out.insert(0, "time", times)
    return out


def progression(world: World, accounts: np.ndarray | None = None) -> pd.DataFrame:
    """Progression rate and velocity per latent stage (see the module doc); ``accounts``
    restricts it to some account ids (a boolean mask over ``world.truth`` rows)."""
    tr = world.truth if accounts is None else world.truth[accounts]
    tr = tr[tr["in_market"].to_numpy(bool)]
    rows = []
    for k in range(len(LATENT) - 1):
        a = tr[LATENT[k]].to_numpy(np.float64)
        b = tr[LATENT[k + 1]].to_numpy(np.float64)
        entered = ~np.isnan(a) & (a >= 0.0)  # entered within the observed horizon
        moved = entered & ~np.isnan(b)
        days = b[moved] - a[moved]
        rows.append(
            {
                "stage": STAGE_NAMES[k],
                "next_stage": STAGE_NAMES[k + 1],
                "entered": int(entered.sum()),
                "progressed": int(moved.sum()),
                "rate": moved.sum() / entered.sum() if entered.any() else np.nan,
                "median_days": float(np.median(days)) if days.size else np.nan,
            }
        )
    return pd.DataFrame(rows)


def campaign_influence(world: World) -> pd.DataFrame:
    """Per campaign and stage: progression rate of exposed vs unexposed in-market accounts."""
    ev = world.events
    rows = []
    ids = world.truth["account_id"].to_numpy(np.int64)
    for c in world.campaigns.itertuples():
        touched = np.unique(ev.loc[(ev["campaign_id"] == c.campaign_id).to_numpy(), "account_id"])
        exposed = np.isin(ids, touched)
        for label, mask in (("exposed", exposed), ("unexposed", ~exposed)):
            p = progression(world, mask)
            for r in p.itertuples():
                rows.append(
                    {
                        "campaign": c.name,
                        "group": label,
                        "stage": r.stage,
                        "entered": r.entered,
                        "rate": r.rate,
                        "median_days": r.median_days,
                    }
                )
    return pd.DataFrame(
        rows, columns=["campaign", "group", "stage", "entered", "rate", "median_days"]
    )
