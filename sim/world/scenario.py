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
    PositiveFloat,
    Probability,
    Strict,
    require_all,
    sums_to_one,
)
from sim.vocab import (
    MARKETING_ACTIVITIES,
    MarketingActivity,
)
from sim.world.data_quality import DataQuality
from sim.world.rollout import Rollout
from sim.world.sales_team import Sales
from sim.world.scenario_parts import (
    BetaDist,
    BuyProbability,
    Committee,
    CommitteeSize,
    Competitor,
    InMarket,
    Journey,
    LogNormal,
    Noise,
    PersonaSpec,
    Rates,
    RoleSpec,
    StageDuration,
    StageDurations,
)


class Tier(Strict):
    """One account tier (1 = most strategic): its share of accounts and its segment's make-up."""

    share: Probability = Field(description="the tier's share of the accounts")
    employees: LogNormal = Field(description="employees of an account")
    committee_size: CommitteeSize = Field(description="people in a buying committee")
    noise_contacts: Annotated[float, Field(strict=True, ge=0.0, le=40.0)] = Field(
        description="mean number of people outside the buying committee who generate activity"
    )
    deal_value: LogNormal = Field(description="the value of a won deal, in dollars")


class Accounts(Strict):
    """The target-account universe."""

    count: Annotated[int, Field(strict=True, gt=0, le=5_000_000)] = Field(
        description="accounts in the world"
    )
    tiers: dict[Annotated[int, Field(ge=1, le=9)], Tier] = Field(  # lax: JSON keys are text
        description="the tiers by number (1 = most strategic); their shares sum to 1"
    )
    industries: dict[str, Probability] = Field(description="industry shares (sum to 1)")
    icp_fit: BetaDist = Field(description="an account's fit to the ideal customer profile")
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


class StageRates(Strict):
    """Touch rates per week, by latent stage, for each activity."""

    background: Rates = Field({}, description="outside an active journey")
    unaware: Rates = Field({}, description="in the unaware stage")
    aware: Rates = Field({}, description="in the aware stage")
    engaged: Rates = Field({}, description="in the engaged stage")
    qualified: Rates = Field({}, description="in the qualified stage")
    sales_ready: Rates = Field({}, description="in the sales_ready stage")


class Touches(Strict):
    """Who emits which touches, how often, through which channel, and who is identified."""

    contact_rates_per_week: StageRates = Field(
        description="per active committee member (times the role's multiplier)"
    )
    account_rates_per_week: StageRates = Field(
        description="per account, from anonymous visitors and account-level sources (contact -1)"
    )
    identification_rate: Probability = Field(
        description="share of a person's touches of the identifiable activities tied to "
        "them (a cookie); the rest are anonymous touches of their account"
    )
    identifiable: list[MarketingActivity] = Field(
        ["web_visit", "pricing_visit", "ad_click"],
        description="the activities identification_rate applies to (web touches)",
    )
    channels: dict[MarketingActivity, dict[str, Probability]] = Field(
        description="per activity, the weights of the channels its touches come through"
    )

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

    name: Annotated[str, Field(min_length=1)] = Field(description="the campaign's name")
    channel: Annotated[str, Field(min_length=1)] = Field(description="the channel it runs in")
    start_day: Float = Field(description="the first day it runs")
    end_day: Float = Field(description="the day it ends (exclusive)")
    tiers: list[Int] | None = Field(None, description="tiers exposed; null = all")
    targets_only: bool = Field(True, description="only accounts on the target list")
    lift: Annotated[float, Field(strict=True, ge=1.0, le=100.0)] = Field(
        description="multiplies the rates of its activities while it runs"
    )
    activities: Annotated[list[MarketingActivity], Field(min_length=1)] = Field(
        description="the activities it lifts"
    )
    progression_speedup: Annotated[float, Field(strict=True, ge=0.0, le=10.0)] = Field(
        0.0, description="journeys progress 1 + this times as fast while it runs"
    )

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
    accounts: Accounts = Field(description="the target-account universe")
    in_market: InMarket = Field(description="the chance an account has a buying journey")
    journey: Journey = Field(description="the latent buying journey of in-market accounts")
    committee: Committee = Field(description="who is in a buying committee")
    noise: Noise = Field(description="people outside the committee who still touch")
    touches: Touches = Field(description="who emits which touches, how often")
    crm: Crm = Field(Crm(), description="what the CRM knows of people")
    campaigns: list[Campaign] = Field([], description="campaigns that lift some touches")
    sales: Sales = Field(Sales(), description="the sales team that works the handoffs")
    rollout: Rollout = Field(Rollout(), description="how a policy goes live")
    data_quality: DataQuality = Field(  # messy CRM data, on the observable log only
        DataQuality(), description="the mess of a real CRM, applied to the observable log"
    )

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


__all__ = [
    "Accounts",
    "BetaDist",
    "BuyProbability",
    "Campaign",
    "Committee",
    "CommitteeSize",
    "Competitor",
    "Crm",
    "InMarket",
    "Journey",
    "LogNormal",
    "Noise",
    "PersonaSpec",
    "RoleSpec",
    "Scenario",
    "StageDuration",
    "StageDurations",
    "StageRates",
    "Tier",
    "Touches",
]
