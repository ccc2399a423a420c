"""The sales team a scenario describes: SDRs, working hours, reach, nurture and win rates.

``sim.sales`` plays handoffs through it; the sources of the defaults are in the shipped presets.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from sim.config.types import Float, NonNegFloat, PositiveFloat, Probability, Strict


class Reach(Strict):
    """Chance that the SDR reaches the buying group, falling with the response delay (R1, R2):
    ``floor + (immediate - floor) * 0.5 ** (delay_hours / half_life_hours)``."""

    immediate: Probability = Field(0.9, description="the chance when worked at once")
    half_life_hours: PositiveFloat = Field(4.0, description="hours for the chance to halve")
    floor: Probability = Field(0.3, description="the chance however late the follow-up")

    @model_validator(mode="after")
    def _ordered(self) -> Reach:
        if self.floor > self.immediate:
            raise ValueError(f"need floor <= immediate, got {self.floor} > {self.immediate}")
        return self


class WinRates(Strict):
    """Win probability of an opportunity whose account decides to buy (P4)."""

    preferred: Probability = Field(0.8, description="sales engaged before any competitor")
    after_competitor: Probability = Field(0.2, description="a competitor engaged first")
    inbound: Probability = Field(
        0.1, description="an account never worked from a handoff that comes in late by itself"
    )


class Sales(Strict):
    """The sales side a handoff meets: SDRs with working hours, a queue, reach, nurture, wins.

    Day 0 of the scenario is a Monday at 00:00; SDRs work ``working_hours`` on the first
    ``workdays_per_week`` days of each week and spend ``handoff_share`` of that time on handoffs.
    """

    sdrs: Annotated[int, Field(strict=True, ge=1, le=10_000)] = Field(
        4, description="sales development reps working handoffs"
    )
    workdays_per_week: Annotated[int, Field(strict=True, ge=1, le=7)] = Field(
        5, description="working days, from Monday"
    )
    working_hours: tuple[Float, Float] = Field(
        (9.0, 17.0), description="[start, end) hour of a working day"
    )
    handoff_share: Annotated[float, Field(strict=True, gt=0.0, le=1.0)] = Field(
        0.3, description="share of an SDR's working time spent on handoffs"
    )
    hours_per_handoff: PositiveFloat = Field(2.0, description="SDR hours to work one handoff")
    priority_by_tier: bool = Field(True, description="the queue serves tier 1 first")
    sla_hours: PositiveFloat = Field(
        24.0, description="the follow-up target: later first work is reported as a breach"
    )
    max_wait_days: PositiveFloat = Field(
        14.0, description="a handoff still waiting after this long is never followed up (C7)"
    )
    reach: Reach = Field(Reach(), description="the chance to reach the buying group")
    recycle_days: NonNegFloat = Field(
        90.0, description="a rejected account is ignored for this long, then may come back"
    )
    nurture_hours_per_week: NonNegFloat = Field(
        0.5, description="sales hours a week spent nurturing a handoff that came too early"
    )
    nurture_half_life_days: PositiveFloat = Field(
        90.0, description="sales keeps nurturing an early account with this half-life"
    )
    opportunity_hours: NonNegFloat = Field(20.0, description="sales hours an opportunity takes")
    win: WinRates = Field(WinRates(), description="win rates of opportunities")

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not 0.0 <= v[0] < v[1] <= 24.0:
            raise ValueError(f"need 0 <= start < end <= 24, got [{v[0]}, {v[1]}]")
        return v

    @property
    def capacity_per_week(self) -> float:
        """Handoffs the team can work in a week at full load."""
        day = (self.working_hours[1] - self.working_hours[0]) * self.handoff_share
        return self.sdrs * self.workdays_per_week * day / self.hours_per_handoff
