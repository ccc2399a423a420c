"""The parts of a scenario (:mod:`sim.world.scenario`) that describe distributions, the buying
journey and the people in it: the buying committee and the noise around it. The scenario module
re-exports them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from sim.config.types import (
    Float,
    NonNegFloat,
    PositiveFloat,
    Probability,
    Strict,
    require_all,
    sums_to_one,
)
from sim.vocab import ROLES, Department, JoinStage, MarketingActivity, Persona, Role, Seniority

Rates = dict[MarketingActivity, NonNegFloat]


class LogNormal(Strict):
    """A positive quantity drawn lognormally: its median and the sigma of its logarithm."""

    median: PositiveFloat = Field(description="the median")
    sigma: NonNegFloat = Field(0.5, description="the standard deviation of the logarithm")


class BetaDist(Strict):
    """A Beta(a, b) distribution on [0, 1]; its mean is a / (a + b)."""

    a: PositiveFloat = Field(description="the first shape parameter (pulls toward 1)")
    b: PositiveFloat = Field(description="the second shape parameter (pulls toward 0)")


class CommitteeSize(Strict):
    """Buying-committee size: min + Poisson(mean - min), truncated at max."""

    mean: Annotated[float, Field(strict=True, ge=1.0)] = Field(description="the mean size")
    min: Annotated[int, Field(strict=True, ge=1)] = Field(1, description="the smallest size")
    max: Annotated[int, Field(strict=True, ge=1, le=60)] = Field(20, description="the largest size")

    @model_validator(mode="after")
    def _ordered(self) -> CommitteeSize:
        if not self.min <= self.mean <= self.max:
            raise ValueError(f"need min <= mean <= max, got {self.min}, {self.mean}, {self.max}")
        if self.mean - self.min > 40:
            raise ValueError("mean - min must be at most 40")
        return self


class InMarket(Strict):
    """Chance of an active buying journey: at_fit_0 + (at_fit_1 - at_fit_0) * icp_fit**shape."""

    at_fit_0: Probability = Field(description="the chance of an account with ICP fit 0")
    at_fit_1: Probability = Field(description="the chance of an account with ICP fit 1")
    shape: PositiveFloat = Field(1.0, description="the curve between them (1: a straight line)")


class StageDuration(Strict):
    """Days spent in a latent stage: lognormal with this median and log-scale sigma."""

    median_days: PositiveFloat = Field(description="the median days in the stage")
    sigma: NonNegFloat = Field(0.5, description="the standard deviation of the log of the days")


class StageDurations(Strict):
    """Durations of the latent stages, in journey order; the last one ends in the decision."""

    unaware: StageDuration = Field(description="in market, not yet looking")
    aware: StageDuration = Field(description="researching the problem")
    engaged: StageDuration = Field(description="evaluating solutions")
    qualified: StageDuration = Field(description="a shortlist, talking to vendors")
    sales_ready: StageDuration = Field(description="ready to buy; ends in the decision")


class BuyProbability(Strict):
    """Chance a journey ends in a purchase rather than "no decision", falling with committee size.

    p(buy | n members) = one_person * factor_per_member ** (n - 1)  (B3, W2 in docs/sources.md).
    """

    one_person: Probability = Field(0.81, description="p(buy) of a one-person committee")
    factor_per_member: Annotated[float, Field(strict=True, gt=0.0, le=1.0)] = Field(
        0.91, description="p(buy) is multiplied by this per further member"
    )
    early_stall: Probability = Field(
        0.0,
        description="share of the journeys that will not buy that stall before 'qualified' "
        "(no decision, early, at the end of 'aware' or 'engaged'); the rest decide against at "
        "the end",
    )


class Competitor(Strict):
    """A competitor engages an in-market account with this probability, at a Beta-distributed
    fraction of the account's (nominal) journey length (P4: first contact at ~70%)."""

    probability: Probability = Field(description="chance a competitor engages the account")
    journey_fraction: BetaDist = Field(description="when, as a fraction of the journey's length")


class Journey(Strict):
    """The latent buying journey of in-market accounts."""

    start_window_days: tuple[Float, Float] = Field(
        description="journey_start is uniform in [lo, hi) days; lo < 0 means already under way"
    )
    stages: StageDurations = Field(description="how long each latent stage lasts")
    buy_probability: BuyProbability = Field(
        BuyProbability(), description="the chance a journey ends in a purchase"
    )
    competitor: Competitor = Field(description="whether and when a competitor engages")

    @field_validator("start_window_days")
    @classmethod
    def _window(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not v[0] < v[1]:
            raise ValueError(f"need lo < hi, got [{v[0]}, {v[1]}]")
        return v


class RoleSpec(Strict):
    """How one committee role behaves: activity multiplier, when it joins, who holds it."""

    activity: NonNegFloat = Field(1.0, description="multiplies the role's touch rates")
    join_stage: dict[JoinStage, Probability] = Field(
        description="weights of the stage at which the role joins the journey"
    )
    seniority: dict[Seniority, Probability] = Field(description="weights of its seniorities")
    departments: dict[Department, Probability] = Field(description="weights of its departments")

    @field_validator("join_stage", "seniority", "departments")
    @classmethod
    def _mix(cls, v: dict, info) -> dict:
        return sums_to_one(v, f"{info.field_name} weights")


class Committee(Strict):
    """Buying-committee make-up. Core roles are filled first: decision maker, champion, then
    procurement (committees of ``procurement_min_size`` or more), then a blocker (with
    ``blocker_probability``); the remaining seats are influencers or users by ``fill``."""

    roles: dict[Role, RoleSpec] = Field(description="how each role behaves (every role)")
    fill: dict[Role, Probability] = Field(description="weights of the roles of the other seats")
    procurement_min_size: Annotated[int, Field(strict=True, ge=1)] = Field(
        4, description="committees of this size or more include procurement"
    )
    blocker_probability: Probability = Field(0.3, description="chance a committee has a blocker")

    @field_validator("fill")
    @classmethod
    def _fill(cls, v: dict) -> dict:
        return sums_to_one(v, "fill weights")

    @field_validator("roles")
    @classmethod
    def _all_roles(cls, v: dict) -> dict:
        return require_all(v, ROLES, "every role needs a spec")


class PersonaSpec(Strict):
    """People outside the buying committee who still generate activity (the noise)."""

    share: Probability = Field(description="the persona's share of the noise contacts")
    rates_per_week: Rates = Field(description="touches a week, by activity")
    active_days: PositiveFloat | None = Field(
        None, description="how long such a person stays active; null = the whole horizon"
    )
    seniority: dict[Seniority, Probability] = Field(
        {"individual": 1.0}, description="weights of its seniorities"
    )
    known_share: Probability = Field(
        1.0, description="share known to the CRM from the start; a form fill identifies the rest"
    )

    @field_validator("seniority")
    @classmethod
    def _sen(cls, v: dict) -> dict:
        return sums_to_one(v, "seniority weights")


class Noise(Strict):
    """The mix of non-committee personas; the count per account is set per tier."""

    personas: dict[Persona, PersonaSpec] = Field(description="each persona's share and touches")

    @field_validator("personas")
    @classmethod
    def _shares(cls, v: dict) -> dict:
        sums_to_one({k: p.share for k, p in v.items()}, "persona shares")
        return v
