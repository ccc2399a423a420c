"""The ``data_quality:`` section of a scenario: how messy the CRM's record of a world is.

Every knob acts on the observable log only (what :class:`sim.eventlog.EventLog` shows), after
the world is drawn; the truth is the same with a knob on or off (:mod:`sim.world.messy` applies
them). A knob's default is a published or stated rate (Q1-Q2 in docs/sources.md), or zero where
none was found. Every field is a number, so a sweep can treat any of them as an uncertainty
(``data_quality.duplicate_contacts: {uniform: [0, 0.3]}``).

>>> DataQuality().is_clean()
False
>>> DataQuality.clean().is_clean()
True
>>> DataQuality.clean().knobs()[:3]
['blank_titles', 'title_variants', 'duplicate_contacts']
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from sim.config.types import NonNegFloat, PositiveFloat, Probability, Strict

Seconds = Annotated[float, Field(strict=True, gt=0.0, le=3600.0)]
Hours = Annotated[int, Field(strict=True, ge=1, le=23)]
Count = Annotated[int, Field(strict=True, ge=1, le=100)]

# The knobs: the fields that make the log messier (0 = clean). The other fields describe how a
# knob acts once it is on (a scanner's delay, a crawler's burst), and stay as they are.
KNOBS = (
    "blank_titles",
    "title_variants",
    "duplicate_contacts",
    "wrong_account",
    "no_account",
    "scanner_accounts",
    "crawler_bursts_per_week",
    "clock_skew",
)

# Overrides that turn every knob off: ``load_scenario(p, overrides={"data_quality": CLEAN})``.
CLEAN: dict[str, float] = dict.fromkeys(KNOBS, 0.0)


class DataQuality(Strict):
    """How the CRM records a world: blank and variant titles, duplicate people, contacts linked
    to the wrong account or to none, email security scanners, web crawlers and clock skew."""

    blank_titles: Probability = Field(
        0.0,
        description="share of contacts whose title is blank (and so their seniority, department "
        "and role, which the CRM infers from it); 0: no published rate found",
    )
    title_variants: Probability = Field(
        0.0,
        description="share of contacts whose title is typed another way ('VP Eng', 'Dir. IT', "
        "case and punctuation); 0: no published rate found",
    )
    duplicate_contacts: Probability = Field(
        0.1,
        description="share of contacts with a second record at the same account (a variant "
        "title) that logs some of their touches (Q1: 10-30% of CRM records)",
    )
    duplicate_touch_share: Probability = Field(
        0.5, description="share of a duplicated person's touches logged on the duplicate"
    )
    wrong_account: Probability = Field(
        0.0,
        description="share of contacts linked to another account (their touches go with them); "
        "0: no published rate found",
    )
    no_account: Probability = Field(
        0.0,
        description="share of contacts linked to no account (account_id -1 in the contacts "
        "table; their touches keep the account the visit was matched to); 0: none found",
    )
    scanner_accounts: Probability = Field(
        0.005,
        description="share of accounts behind an email security scanner that opens and clicks "
        "every marketing email within seconds of its delivery (Q2: 10-30% of B2B email clicks)",
    )
    scanner_seconds: Seconds = Field(
        10.0, description="a scanner's open and clicks fall within this many seconds of delivery"
    )
    scanner_clicks: Count = Field(1, description="links a scanner clicks in each email")
    crawler_bursts_per_week: NonNegFloat = Field(
        0.0,
        description="bursts of anonymous web visits by crawlers per account a week; 0: no "
        "published per-account rate found",
    )
    crawler_burst_visits: Count = Field(8, description="web visits in a crawler burst")
    crawler_burst_seconds: PositiveFloat = Field(
        60.0, description="a crawler burst's visits fall within this many seconds"
    )
    clock_skew: Probability = Field(
        0.0,
        description="share of contacts (and of accounts, for anonymous touches) whose touches "
        "are logged a whole number of hours off (a time-zone error); 0: none found",
    )
    clock_skew_hours: Hours = Field(
        8, description="the largest offset, hours; each skewed source is off by 1..this, +/-"
    )

    @model_validator(mode="after")
    def _shares(self) -> DataQuality:
        if self.wrong_account + self.no_account > 1.0:
            raise ValueError(
                "wrong_account + no_account is the share of contacts linked wrongly or not at "
                f"all: at most 1, got {self.wrong_account:g} + {self.no_account:g}"
            )
        return self

    @classmethod
    def clean(cls) -> DataQuality:
        """Every knob at zero: the log as the world made it."""
        return cls(**CLEAN)

    def knobs(self) -> list[str]:
        """The names of the knobs (the fields that make the log messier), in order."""
        return list(KNOBS)

    def is_clean(self) -> bool:
        """Are all knobs at zero?"""
        return all(getattr(self, k) == 0 for k in KNOBS)
