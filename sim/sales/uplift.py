"""What a policy's handoffs *cause*: its pipeline and wins against the same world with no
proactive handoff at all.

"Pipeline touched" (``opportunities``, ``revenue``) counts every opportunity a handoff made,
including those of accounts that would have come in by themselves (late inbound, see
:mod:`sim.sales.handoff`) and been won anyway. The **counterfactual** of a world is
:func:`play_handoffs` with no handoffs on the same world and the same random streams: every
buying account can then only come in late inbound, go to the competitor or make no decision.
Since every draw is keyed by account (common random numbers), an account that no handoff
changed draws the same luck in both, and

- ``opportunities_caused`` = (opportunities from handoffs + late inbound opportunities) - late
  inbound opportunities of the counterfactual;
- ``wins_caused`` = total wins - the counterfactual's wins;
- ``revenue_caused`` = total revenue - the counterfactual's revenue.

A rule that only hands off accounts that were coming in anyway, too late to change anything,
causes nothing; the no-handoff rule causes exactly 0.

>>> import sim
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 200}}), seed=4)
>>> none = no_handoff_result(w)
>>> caused_metrics(none, none)
{'opportunities_caused': 0.0, 'wins_caused': 0.0, 'revenue_caused': 0.0}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.sales.handoff import SalesResult, play_handoffs
from sim.tables import QUALIFICATIONS
from sim.world.sales_team import Sales
from sim.world.simulate import World

UPLIFT_METRICS = ("opportunities_caused", "wins_caused", "revenue_caused")


def no_handoff_result(
    world: World, sales: Sales | None = None, seed: int | None = None
) -> SalesResult:
    """The counterfactual of ``world``: :func:`play_handoffs` with no handoffs (same sales team
    and seed as a policy's play, so the same random streams). Compute it once per world."""
    return play_handoffs(world, QUALIFICATIONS.empty(), sales, seed)


def totals(result: SalesResult) -> tuple[float, float, float]:
    """(opportunities, wins, revenue) of a play: its handoffs' and its late inbound's."""
    o, inbound = result.outcomes, result.inbound
    opportunities = o["t_opportunity"].notna().sum() + len(inbound)
    wins = o["won"].to_numpy(bool).sum() + inbound["won"].to_numpy(bool).sum()
    revenue = o["value"].to_numpy(np.float64).sum() + inbound["value"].to_numpy(np.float64).sum()
    return float(opportunities), float(wins), float(revenue)


def caused_metrics(result: SalesResult, counterfactual: SalesResult) -> dict[str, float]:
    """The uplift metrics (:data:`UPLIFT_METRICS`): ``result``'s totals minus the
    counterfactual's (both already restricted to the same accounts, e.g. one tier)."""
    policy, without = totals(result), totals(counterfactual)
    return {name: p - c for name, p, c in zip(UPLIFT_METRICS, policy, without, strict=True)}


def restrict(result: SalesResult, accounts: np.ndarray) -> SalesResult:
    """``result`` with only the handoffs and late inbound deals of ``accounts``."""
    o, inbound = result.outcomes, result.inbound
    return SalesResult(
        o[o["account_id"].isin(accounts).to_numpy()],
        inbound[inbound["account_id"].isin(accounts).to_numpy()],
    )


def caused_by_account(result: SalesResult, counterfactual: SalesResult) -> pd.DataFrame:
    """Per account whose totals differ: (account_id, opportunities, wins, revenue) caused —
    where the uplift of a policy comes from (the sums are :func:`caused_metrics`)."""

    def per_account(r: SalesResult, sign: float) -> pd.DataFrame:
        o, inbound = r.outcomes, r.inbound
        rows = pd.DataFrame(
            {
                "account_id": np.r_[
                    o["account_id"].to_numpy(np.int64), inbound["account_id"].to_numpy(np.int64)
                ],
                "opportunities": sign
                * np.r_[o["t_opportunity"].notna().to_numpy(float), np.ones(len(inbound))],
                "wins": sign * np.r_[o["won"].to_numpy(float), inbound["won"].to_numpy(float)],
                "revenue": sign
                * np.r_[o["value"].to_numpy(float), inbound["value"].to_numpy(float)],
            }
        )
        return rows

    both = pd.concat([per_account(result, 1.0), per_account(counterfactual, -1.0)])
    out = both.groupby("account_id", as_index=False).sum()
    changed = out[["opportunities", "wins", "revenue"]].abs().sum(axis=1) > 0
    return out[changed.to_numpy()].reset_index(drop=True)
