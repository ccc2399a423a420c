"""The preset nearest to a history (the base a fitted scenario extends by default)."""

from __future__ import annotations

import math

from sim.real.calibration.timing import log_sum_moments
from sim.world.presets import PRESETS, load_scenario
from sim.world.scenario import Scenario


def _preset_observables(sc: Scenario) -> tuple[float, float]:
    tiers = sc.accounts.tiers.values()
    committee = sum(t.share * t.committee_size.mean for t in tiers)
    st = sc.journey.stages
    q, s = st.qualified, st.sales_ready
    m, _ = log_sum_moments(q.median_days, q.sigma, s.median_days, s.sigma)
    return committee, math.exp(m)


def closest_preset(committee_mean: float, days_to_close: float) -> tuple[str, dict[str, float]]:
    """The preset nearest to a history: Euclidean distance of log committee mean and log median
    days opportunity → close (both ratios count alike: twice the committee, twice the time)."""
    dist = {}
    for p in PRESETS:
        c, d = _preset_observables(load_scenario(p))
        dist[p] = math.hypot(math.log(committee_mean / c), math.log(days_to_close / d))
    return min(dist, key=dist.__getitem__), dist
