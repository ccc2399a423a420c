"""How a rule goes live: the go-live day, what happens to the backlog, the scoring cadence.

The ``rollout:`` section of a scenario. ``sim.sales.rollout.apply_rollout`` applies it to a
policy's qualifications (its docstring and docs/scenarios.md, "Rolling a rule out", give the
exact semantics). The defaults (no go-live, real-time scoring, no sync delay) leave every
handoff as ``policies.evaluate`` makes it.

>>> Rollout(go_live_day=180, backlog="drain", drain_per_week=24, cadence="nightly:2").run_times
(1.0, 0.08333333333333333)
>>> Rollout(cadence="weekly:0:6").run_times   # Mondays at 06:00 (day 0 is a Monday)
(7.0, 0.25)
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.config.types import NonNegFloat, Strict

CADENCE_FORMS = "realtime, hourly:N (every N hours), nightly:H (at hour H) or weekly:D:H"


def parse_cadence(text: str) -> tuple[float, float] | None:
    """``(period_days, offset_days)`` of a cadence: scoring runs at ``offset + k * period``
    (day 0 is Monday 00:00); None for ``realtime``. ValueError naming the accepted forms.

    >>> parse_cadence("hourly:4"), parse_cadence("nightly:2.5"), parse_cadence("realtime")
    ((0.16666666666666666, 0.0), (1.0, 0.10416666666666667), None)
    """
    kind, *args = text.strip().split(":")
    try:
        nums = [float(a) for a in args]
    except ValueError:
        nums = []
        args = ["?"]  # a non-number: report the form below
    shape = {"realtime": 0, "hourly": 1, "nightly": 1, "weekly": 2}.get(kind)
    if shape is None or len(nums) != shape or len(args) != shape:
        raise ValueError(f"cadence: expected {CADENCE_FORMS}, got {text!r}")
    if kind == "realtime":
        return None
    if kind == "hourly":
        if not 0.0 < nums[0] <= 24.0 * 7:
            raise ValueError(f"cadence {text!r}: every N hours needs 0 < N <= 168")
        return nums[0] / 24.0, 0.0
    hour = nums[-1]
    if not 0.0 <= hour < 24.0:
        raise ValueError(f"cadence {text!r}: the hour must be in [0, 24), got {hour:g}")
    if kind == "nightly":
        return 1.0, hour / 24.0
    day = nums[0]
    if day != int(day) or not 0 <= day <= 6:
        raise ValueError(f"cadence {text!r}: the weekday must be 0 (Monday) .. 6, got {day:g}")
    return 7.0, day + hour / 24.0


class Rollout(Strict):
    """When and how the rule goes live.

    ``go_live_day`` null: the rule has always been live (every handoff as evaluated). A day:
    the rule is not evaluated before it; at go-live it sees the history, so every account over
    the bar then fires at once (the *backlog*), handed over as ``backlog`` says: ``all`` at
    go-live, ``drain`` ``drain_per_week`` a week (tier 1 first, then the longest over the bar),
    ``new_only`` never. ``cadence``: handoffs wait for the next scoring run, then
    ``sync_delay_hours`` for the CRM sync.
    """

    go_live_day: NonNegFloat | None = Field(
        None, description="the day the rule goes live; null = always live"
    )
    backlog: Literal["all", "drain", "new_only"] = Field(
        "all", description="what happens to the accounts over the bar at go-live"
    )
    drain_per_week: Annotated[int, Field(strict=True, ge=1, le=1_000_000)] | None = Field(
        None, description="backlog accounts handed over a week (backlog: drain)"
    )
    cadence: str = Field("realtime", description=f"when the scoring job runs: {CADENCE_FORMS}")
    sync_delay_hours: NonNegFloat = Field(
        0.0, description="CRM sync delay added to every handoff after its scoring run"
    )

    @field_validator("cadence")
    @classmethod
    def _cadence(cls, v: str) -> str:
        parse_cadence(v)
        return v

    @model_validator(mode="after")
    def _drain(self) -> Rollout:
        if self.backlog == "drain" and self.drain_per_week is None:
            raise ValueError("backlog: drain needs drain_per_week (backlog accounts a week)")
        if self.backlog != "drain" and self.drain_per_week is not None:
            raise ValueError(f"drain_per_week applies only to backlog: drain, not {self.backlog}")
        if self.go_live_day is None and self.backlog != "all":
            raise ValueError(f"backlog: {self.backlog} needs a go_live_day (there is no backlog)")
        return self

    @property
    def run_times(self) -> tuple[float, float] | None:
        """``(period_days, offset_days)`` of the scoring runs; None when real-time."""
        return parse_cadence(self.cadence)

    @property
    def is_identity(self) -> bool:
        """True when every handoff stays as evaluated (the default)."""
        return self.go_live_day is None and self.run_times is None and not self.sync_delay_hours
