"""The sales side: what a team's SDRs and sellers do with a policy's handoffs, and the metrics.

- :func:`play_handoffs` plays one policy's handoffs on a simulated world through the SDR queue
  (:class:`SDRTeam`, :class:`WorkCalendar`), reach, nurture, opportunity and win or loss;
- :data:`METRICS` and :func:`handoff_metrics`: one number per metric for one (policy, world);
- :func:`double_funnel`: lead steps beside account steps;
- :func:`weekly_series` and :func:`weekly_load`: handoffs week by week against the SDR capacity.
"""

from sim.sales.calendar import SDRTeam, WorkCalendar
from sim.sales.funnel import double_funnel
from sim.sales.handoff import (
    OUTCOME_COLUMNS,
    STATUSES,
    SalesResult,
    play_handoffs,
    reach_probability,
    true_handoffs,
)
from sim.sales.measure import committee_first_seen, coverage_at, handoff_metrics, month_metrics
from sim.sales.metrics import ACCEPTABLE, ACTIVE, HEADLINE, METRICS, MONTH_METRICS, Metric
from sim.sales.weekly import WEEKLY_METRICS, go_live_day, weekly_load, weekly_series

__all__ = [
    # playing handoffs
    "OUTCOME_COLUMNS",
    "STATUSES",
    "SDRTeam",
    "SalesResult",
    "WorkCalendar",
    "play_handoffs",
    "reach_probability",
    "true_handoffs",
    # metrics
    "ACCEPTABLE",
    "ACTIVE",
    "HEADLINE",
    "METRICS",
    "MONTH_METRICS",
    "Metric",
    "committee_first_seen",
    "coverage_at",
    "double_funnel",
    "handoff_metrics",
    "month_metrics",
    # the weekly load
    "WEEKLY_METRICS",
    "go_live_day",
    "weekly_load",
    "weekly_series",
]
