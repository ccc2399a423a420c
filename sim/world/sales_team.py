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

    immediate: Probability = 0.9
    half_life_hours: PositiveFloat = 4.0
    floor: Probability = 0.3

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

    sdrs: Annotated[int, Field(strict=True, ge=1, le=10_000)] = 4
    workdays_per_week: Annotated[int, Field(strict=True, ge=1, le=7)] = 5
    working_hours: tuple[Float, Float] = (9.0, 17.0)
    handoff_share: Annotated[float, Field(strict=True, gt=0.0, le=1.0)] = 0.3
    hours_per_handoff: PositiveFloat = 2.0
    priority_by_tier: bool = True
    sla_hours: PositiveFloat = 24.0
    max_wait_days: PositiveFloat = Field(
        14.0, description="a handoff still waiting after this long is never followed up (C7)"
    )
    reach: Reach = Reach()
    recycle_days: NonNegFloat = Field(
        90.0, description="a rejected account is ignored for this long, then may come back"
    )
    nurture_hours_per_week: NonNegFloat = 0.5
    nurture_half_life_days: PositiveFloat = Field(
        90.0, description="sales keeps nurturing an early account with this half-life"
    )
    opportunity_hours: NonNegFloat = 20.0
    win: WinRates = WinRates()

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
