"""The scenario: everything that defines a simulated world, as a validated, typed config.

A scenario is YAML, validated by the pydantic models below. Shipped presets live in
``sim/world/scenarios/*.yaml`` (``enterprise`` is the default, ``smb`` the small-business one); a
user's file may say ``extends: enterprise`` (or a path to another file) and override only what it
changes: mappings merge key by key, lists and scalars replace. Loading is in
:mod:`sim.world.presets`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from sim.config.chain import LocatedError
from sim.config.types import (
    Float,
    Int,
    NonNegFloat,
    PositiveFloat,
    Probability,
    Strict,
    require_all,
    sums_to_one,
)
from sim.vocab import (
    MARKETING_ACTIVITIES,
    ROLES,
    Department,
    JoinStage,
    MarketingActivity,
    Persona,
    Role,
    Seniority,
)
from sim.world.data_quality import DataQuality
from sim.world.rollout import Rollout
from sim.world.sales_team import Sales

Rates = dict[MarketingActivity, NonNegFloat]


class LogNormal(Strict):
    """A positive quantity drawn lognormally: its median and the sigma of its logarithm."""

    median: PositiveFloat
    sigma: NonNegFloat = 0.5


class BetaDist(Strict):
    """A Beta(a, b) distribution on [0, 1]; its mean is a / (a + b)."""

    a: PositiveFloat
    b: PositiveFloat


class CommitteeSize(Strict):
    """Buying-committee size: min + Poisson(mean - min), truncated at max."""

    mean: Annotated[float, Field(strict=True, ge=1.0)]
    min: Annotated[int, Field(strict=True, ge=1)] = 1
    max: Annotated[int, Field(strict=True, ge=1, le=60)] = 20

    @model_validator(mode="after")
    def _ordered(self) -> CommitteeSize:
        if not self.min <= self.mean <= self.max:
            raise ValueError(f"need min <= mean <= max, got {self.min}, {self.mean}, {self.max}")
        if self.mean - self.min > 40:
            raise ValueError("mean - min must be at most 40")
        return self


class Tier(Strict):
    """One account tier (1 = most strategic): its share of accounts and its segment's make-up."""

    share: Probability
    employees: LogNormal
    committee_size: CommitteeSize
    noise_contacts: Annotated[float, Field(strict=True, ge=0.0, le=40.0)] = Field(
        description="mean number of people outside the buying committee who generate activity"
    )
    deal_value: LogNormal


class Accounts(Strict):
    """The target-account universe."""

    count: Annotated[int, Field(strict=True, gt=0, le=5_000_000)]
    tiers: dict[Annotated[int, Field(ge=1, le=9)], Tier]  # lax: JSON keys are text
    industries: dict[str, Probability]
    icp_fit: BetaDist
    target_icp_fit_min: Probability = Field(
        0.5, description="accounts with ICP fit at or above this are on the target list"
    )

    @field_validator("tiers")
    @classmethod
    def _tier_shares(cls, v: dict[int, Tier]) -> dict[int, Tier]:
        sums_to_one({k: t.share for k, t in v.items()}, "tier shares")
        return dict(sorted(v.items()))

    @field_validator("industries")
    @classmethod
    def _industry_shares(cls, v: dict[str, float]) -> dict[str, float]:
        return sums_to_one(v, "industry shares")


class InMarket(Strict):
    """Chance of an active buying journey: at_fit_0 + (at_fit_1 - at_fit_0) * icp_fit**shape."""

    at_fit_0: Probability
    at_fit_1: Probability
    shape: PositiveFloat = 1.0


class StageDuration(Strict):
    """Days spent in a latent stage: lognormal with this median and log-scale sigma."""

    median_days: PositiveFloat
    sigma: NonNegFloat = 0.5


class StageDurations(Strict):
    """Durations of the latent stages, in journey order; the last one ends in the decision."""

    unaware: StageDuration
    aware: StageDuration
    engaged: StageDuration
    qualified: StageDuration
    sales_ready: StageDuration


class BuyProbability(Strict):
    """Chance a journey ends in a purchase rather than "no decision", falling with committee size.

    p(buy | n members) = one_person * factor_per_member ** (n - 1)  (B3, W2 in docs/sources.md).
    """

    one_person: Probability = 0.81
    factor_per_member: Annotated[float, Field(strict=True, gt=0.0, le=1.0)] = 0.91
    early_stall: Probability = Field(
        0.0,
        description="share of the journeys that will not buy that stall before 'qualified' "
        "(no decision, early, at the end of 'aware' or 'engaged'); the rest decide against at "
        "the end",
    )


class Competitor(Strict):
    """A competitor engages an in-market account with this probability, at a Beta-distributed
    fraction of the account's (nominal) journey length (P4: first contact at ~70%)."""

    probability: Probability
    journey_fraction: BetaDist


class Journey(Strict):
    """The latent buying journey of in-market accounts."""

    start_window_days: tuple[Float, Float] = Field(
        description="journey_start is uniform in [lo, hi) days; lo < 0 means already under way"
    )
    stages: StageDurations
    buy_probability: BuyProbability = BuyProbability()
    competitor: Competitor

    @field_validator("start_window_days")
    @classmethod
    def _window(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not v[0] < v[1]:
            raise ValueError(f"need lo < hi, got [{v[0]}, {v[1]}]")
        return v


class RoleSpec(Strict):
    """How one committee role behaves: activity multiplier, when it joins, who holds it."""

    activity: NonNegFloat = 1.0
    join_stage: dict[JoinStage, Probability]
    seniority: dict[Seniority, Probability]
    departments: dict[Department, Probability]

    @field_validator("join_stage", "seniority", "departments")
    @classmethod
    def _mix(cls, v: dict, info) -> dict:
        return sums_to_one(v, f"{info.field_name} weights")


class Committee(Strict):
    """Buying-committee make-up. Core roles are filled first: decision maker, champion, then
    procurement (committees of ``procurement_min_size`` or more), then a blocker (with
    ``blocker_probability``); the remaining seats are influencers or users by ``fill``."""

    roles: dict[Role, RoleSpec]
    fill: dict[Role, Probability]
    procurement_min_size: Annotated[int, Field(strict=True, ge=1)] = 4
    blocker_probability: Probability = 0.3

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

    share: Probability
    rates_per_week: Rates
    active_days: PositiveFloat | None = Field(
        None, description="how long such a person stays active; null = the whole horizon"
    )
    seniority: dict[Seniority, Probability] = {"individual": 1.0}
    known_share: Probability = Field(
        1.0, description="share known to the CRM from the start; a form fill identifies the rest"
    )

    @field_validator("seniority")
    @classmethod
    def _sen(cls, v: dict) -> dict:
        return sums_to_one(v, "seniority weights")


class Noise(Strict):
    """The mix of non-committee personas; the count per account is set per tier."""

    personas: dict[Persona, PersonaSpec]

    @field_validator("personas")
    @classmethod
    def _shares(cls, v: dict) -> dict:
        sums_to_one({k: p.share for k, p in v.items()}, "persona shares")
        return v


class StageRates(Strict):
    """Touch rates per week, by latent stage, for each activity."""

    background: Rates = {}
    unaware: Rates = {}
    aware: Rates = {}
    engaged: Rates = {}
    qualified: Rates = {}
    sales_ready: Rates = {}


class Touches(Strict):
    """Who emits which touches, how often, through which channel, and who is identified."""

    contact_rates_per_week: StageRates = Field(
        description="per active committee member (times the role's multiplier)"
    )
    account_rates_per_week: StageRates = Field(
        description="per account, from anonymous visitors and account-level sources (contact -1)"
    )
    identification_rate: Probability
    identifiable: list[MarketingActivity] = ["web_visit", "pricing_visit", "ad_click"]
    channels: dict[MarketingActivity, dict[str, Probability]]

    @field_validator("channels")
    @classmethod
    def _channel_mix(cls, v: dict) -> dict:
        require_all(v, MARKETING_ACTIVITIES, "every activity needs a channel mix")
        for a, mix in v.items():
            sums_to_one(mix, f"channel weights of {a}")
        return v


class Crm(Strict):
    """What the team's CRM knows of people (O4 in docs/sources.md): who is in it before raising a
    hand (the rest touch as anonymous visitors of their account, and get no marketing email,
    until a form fill identifies them), which buying roles it records, and how many marketing
    emails a known contact receives."""

    committee_known_share: Probability = Field(
        1.0, description="share of buying-committee members known before their first form fill"
    )
    role_share: Probability = Field(
        0.5,
        description="share of known contacts whose buying role the CRM maps from their title "
        "(the rest have none); the map never uses who is on a committee",
    )
    email_sends_per_month: PositiveFloat = Field(
        3.0, description="marketing emails a known contact receives a month (O2: 2-4)"
    )


class Campaign(Strict):
    """A campaign raises the rates of some activities of exposed accounts during its dates, and
    may speed their journeys up (progress runs ``1 + progression_speedup`` times as fast)."""

    name: Annotated[str, Field(min_length=1)]
    channel: Annotated[str, Field(min_length=1)]
    start_day: Float
    end_day: Float
    tiers: list[Int] | None = Field(None, description="tiers exposed; null = all")
    targets_only: bool = True
    lift: Annotated[float, Field(strict=True, ge=1.0, le=100.0)]
    activities: Annotated[list[MarketingActivity], Field(min_length=1)]
    progression_speedup: Annotated[float, Field(strict=True, ge=0.0, le=10.0)] = 0.0

    @model_validator(mode="after")
    def _dates(self) -> Campaign:
        if not self.start_day < self.end_day:
            raise ValueError(f"need start_day < end_day, got {self.start_day} >= {self.end_day}")
        return self


class Scenario(Strict):
    """A complete scenario. Field docs are in the shipped presets and in ``qualsim schema``."""

    name: str = Field("custom", description="the scenario's name in tables and reports")
    description: str = Field("", description="what market it describes, in words")
    reference: str = Field("", description="the published sources its figures come from")
    extends: str | None = Field(
        None,
        description="a preset (enterprise, smb) or a file in this folder tree this file "
        "overrides: give only what differs",
    )
    horizon_days: Annotated[float, Field(strict=True, gt=0.0, le=3650.0)] = Field(
        description="days observed, from day 0"
    )
    accounts: Accounts
    in_market: InMarket
    journey: Journey
    committee: Committee
    noise: Noise
    touches: Touches
    crm: Crm = Crm()
    campaigns: list[Campaign] = []
    sales: Sales = Sales()
    rollout: Rollout = Rollout()
    data_quality: DataQuality = DataQuality()  # messy CRM data, on the observable log only

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        hi = self.journey.start_window_days[1]
        if hi > self.horizon_days:
            raise LocatedError(
                ("journey", "start_window_days"),
                f"journey.start_window_days ends at {hi:g}, after horizon_days "
                f"({self.horizon_days:g}); journeys must start within the horizon",
                also=(("horizon_days",),),
            )
        seen: set[str] = set()
        for i, c in enumerate(self.campaigns):
            if c.name in seen:
                raise LocatedError(("campaigns", i, "name"), f"campaign {c.name!r} is repeated")
            seen.add(c.name)
            bad = [t for t in c.tiers or [] if t not in self.accounts.tiers]
            if bad:
                raise LocatedError(
                    ("campaigns", i, "tiers"),
                    f"campaign {c.name!r} targets tiers {bad} that accounts.tiers does not "
                    f"define (it has {', '.join(map(str, self.accounts.tiers))})",
                )
        return self
