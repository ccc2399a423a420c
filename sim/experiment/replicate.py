"""The replication pipeline, written once: simulate → event log → policies → sales side → metrics.

Every experiment (:func:`sim.compare`, sweeps, the regression gate) runs units of this shape: one
world, simulated from a seed, seen by every policy through the same :class:`EventLog` (common
random numbers), each policy's handoffs played through the same sales team.

>>> import sim, policies
>>> sc = sim.load_scenario("smb", overrides={"accounts": {"count": 60}})
>>> rep = Replica.simulate(sc, seed=3)
>>> q = rep.handoffs(policies.load_policy("mqa_count"))
>>> m = rep.metrics(rep.play(q))
>>> 0 <= m["precision"] <= 1 or m["handoffs"] == 0
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import policies as pol
from sim.errors import QualsimError
from sim.eventlog import EventLog
from sim.experiment.calibration.bands import PRACTICE_MQL
from sim.experiment.calibration.observables import funnel_figures, world_figures
from sim.sales.funnel import double_funnel
from sim.sales.handoff import SalesResult, play_handoffs
from sim.sales.measure import committee_first_seen, handoff_metrics, month_metrics
from sim.sales.metrics import MONTH_METRICS
from sim.sales.rollout import apply_rollout
from sim.sales.uplift import no_handoff_result
from sim.sales.weekly import go_live_day, weekly_series
from sim.world.progression import campaign_influence, progression, stage_distribution
from sim.world.scenario import Scenario
from sim.world.simulate import World, simulate


def replication_seeds(seed: int, replications: int) -> list[int]:
    """The world seed of each replication: the children of ``SeedSequence(seed)``."""
    children = np.random.SeedSequence(seed).spawn(replications)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


@dataclass
class Replica:
    """One simulated world as every policy sees it: the world, its log and the shared
    per-event arrays (one ``policies.Frame``, so policies share their work on the log)."""

    world: World
    log: EventLog
    frame: pol.Frame
    _seen: Any = field(default=None, repr=False)
    _without: SalesResult | None = field(default=None, repr=False)

    @classmethod
    def simulate(cls, scenario: Scenario, seed: int) -> Replica:
        world = simulate(scenario, seed=seed)
        log = EventLog.from_world(world)
        return cls(world, log, pol.Frame(log))

    def handoffs(self, policy: pol.PolicyBase) -> pd.DataFrame:
        """The policy's qualifications on this world's log, rolled out as the scenario's
        ``rollout:`` section says (go-live, backlog, cadence; by default as evaluated)."""
        return self.rolled_out(policy, self.evaluate(policy))

    def evaluate(self, policy: pol.PolicyBase) -> pd.DataFrame:
        """The policy's qualifications as ``policies.evaluate`` makes them (always live)."""
        return pol.evaluate(policy, self.log, self.frame)

    def rolled_out(self, policy: pol.PolicyBase, qualifications: pd.DataFrame) -> pd.DataFrame:
        """``policy``'s qualifications (``evaluate``'s) under the scenario's ``rollout:``
        (``sim.sales.rollout.apply_rollout``; handoffs pushed past the horizon are dropped)."""
        sc = self.world.scenario
        return apply_rollout(
            qualifications, self.log, self.frame, policy, sc.rollout, until=sc.horizon_days
        )

    def play(self, qualifications: pd.DataFrame) -> SalesResult:
        """The handoffs played through this world's sales team."""
        return play_handoffs(self.world, qualifications)

    def month_metrics(self, policy: pol.PolicyBase, handoffs: pd.DataFrame) -> dict[str, float]:
        """The month-by-month metrics of an account rule (as MQA status is reported); NaN for a
        lead-level rule (its ``handoffs`` name people: its per-lead metrics apply instead) and
        for a kind that cannot say at which touches its rule holds."""
        nan = dict.fromkeys(MONTH_METRICS, float("nan"))
        if (handoffs["contact_id"].to_numpy() >= 0).any():
            return nan
        try:
            at = pol.holds(policy, self.log, self.frame)
        except QualsimError:
            return nan
        touches = pd.DataFrame({"account_id": self.frame.account[at], "time": self.frame.time[at]})
        return month_metrics(self.world, touches)

    def metrics(
        self, result: SalesResult, tier: int | None = None, coverage: bool = True
    ) -> dict[str, float]:
        """The metrics of one policy's sales result (see ``sim.sales.metrics``); the buying
        committees' first-seen times, needed for coverage, and the no-handoff counterfactual of
        the uplift metrics are computed once per world."""
        if coverage and self._seen is None:
            self._seen = committee_first_seen(self.world)
        if self._without is None:
            self._without = no_handoff_result(self.world)
        return handoff_metrics(self.world, result, tier, coverage, self._seen, self._without)


def handoff_table(world: World, name: str, result: SalesResult) -> pd.DataFrame:
    """Every handoff of one policy with its timing against the truth (``sim.tables.HANDOFFS``
    without the replication)."""
    tr = world.truth.set_index("account_id")
    tier_of = world.accounts.set_index("account_id")["tier"]
    o = result.outcomes
    a = o["account_id"].to_numpy()
    t = o["t_handoff"].to_numpy(np.float64)
    return pd.DataFrame(
        {
            "policy": name,
            "account_id": a,
            "tier": tier_of.reindex(a).to_numpy(),
            "t_handoff": t,
            "true_handoff": o["true_handoff"].to_numpy(bool),
            "vs_sales_ready_days": t - tr["t_sales_ready"].reindex(a).to_numpy(),
            "lead_time_days": tr["t_decision"].reindex(a).to_numpy() - t,
            "status": o["status"].to_numpy(),
            "queue_wait_hours": o["queue_wait_hours"].to_numpy(),
            "won": o["won"].to_numpy(bool),
        }
    )


def weekly_table(world: World, name: str, result: SalesResult) -> pd.DataFrame:
    """One policy's handoffs week by week (``sim.tables.WEEKLY`` without the replication)."""
    sc = world.scenario
    cap = sc.sales.capacity_per_week
    series = weekly_series(result.outcomes, sc.horizon_days, cap, go_live_day(sc))
    return series.assign(policy=name)


def replicate(scenario: Scenario, policies: list, seed: int) -> dict[str, Any]:
    """One replication of a comparison: the metric rows (policy, metric, value), every handoff,
    each policy's handoffs week by week, its double funnel, the world's progression, stage and
    campaign tables, and its calibration figures (the funnel rows when the practice MQL is among
    the policies)."""
    rep = Replica.simulate(scenario, seed)
    rows, funnels, handoffs, weekly = [], [], [], []
    figures = world_figures(rep.world)  # is the world believable? (the calibration table)
    for p in policies:
        q = rep.handoffs(p)
        res = rep.play(q)
        for metric, value in {**rep.metrics(res), **rep.month_metrics(p, q)}.items():
            rows.append({"policy": p.name, "metric": metric, "value": value})
        funnels.append(double_funnel(rep.world, res).assign(policy=p.name))
        handoffs.append(handoff_table(rep.world, p.name, res))
        weekly.append(weekly_table(rep.world, p.name, res))
        if p.name == PRACTICE_MQL:  # the world's figures: the rule always live, as published
            live = res if scenario.rollout.is_identity else rep.play(rep.evaluate(p))
            figures.update(funnel_figures(rep.world, live))
    return {
        "calibration": pd.DataFrame({"id": list(figures), "value": list(figures.values())}),
        "handoffs": pd.concat(handoffs, ignore_index=True),
        "weekly": pd.concat(weekly, ignore_index=True),
        "metrics": rows,
        "progression": progression(rep.world),
        "stages": stage_distribution(rep.world),
        "campaigns": campaign_influence(rep.world),
        "funnel": pd.concat(funnels, ignore_index=True),
    }


def run_replication(scenario: Scenario, policies: list, seed: int) -> list[dict[str, Any]]:
    """Simulate one world and play every policy on it: tidy rows (policy, metric, value)."""
    return replicate(scenario, policies, seed)["metrics"]
