"""The clauses of a policy: a :class:`Condition` on an account's trailing window and the
:class:`Group` that combines conditions with any/all/not (``mqa_count`` rules and ``stages``).
:mod:`policies.schema` re-exports them with the policy kinds.

>>> Condition.model_validate({"unique_contacts": 2, "window_days": 30}).count_fields()
['unique_contacts']
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from sim.config.types import PositiveFloat
from sim.vocab import SALES_ACTIVITIES, SYSTEM_ACTIVITIES, Activity, Role, Seniority

Count = Annotated[int, Field(strict=True, ge=0)]
# Title phrases, matched as whole words (no regular expressions from config).
Phrases = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]

# Touches that count unless a policy lists its own: everything but passive exposure and sales
# touches; with ``include_sales_touches: true`` the sales touches too (SALES_DEFAULT_ACTIVITIES).
DEFAULT_ACTIVITIES: tuple[Activity, ...] = tuple(
    a
    for a in get_args(Activity)
    if a not in ("impression", "email_open", *SALES_ACTIVITIES, *SYSTEM_ACTIVITIES)
)
SALES_DEFAULT_ACTIVITIES: tuple[Activity, ...] = (*DEFAULT_ACTIVITIES, *SALES_ACTIVITIES)


# The descriptions of a clause group's keys (a Group's and an mqa_count policy's).
ANY = "conditions or groups of which at least one must hold"
ALL = "conditions or groups that must all hold at once"
NOT = "a condition or group that must not hold"


class Strict(BaseModel):
    """Unknown keys are errors; values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(Strict):
    """A test on an account's trailing window: who and what counts, and how much is needed.

    At time t the window covers the events with time in [t - window_days, t]. Anonymous touches
    never count as a unique contact; they count toward ``min_activities`` only with
    ``include_anonymous: true``. ``seniority``/``roles`` filter who counts; ``exclude_titles``
    drops the touches of contacts whose title matches a phrase (whole words, case-insensitive);
    a contact counts toward ``unique_contacts`` only with at least ``min_touches_per_contact``
    counting touches in the window. ``tier`` and ``icp_fit_min`` filter accounts (the condition
    never holds for other accounts).
    """

    unique_contacts: Count = Field(0, description="distinct known people needed in the window")
    min_activities: Count = Field(0, description="counting touches needed in the window")
    min_touches_per_contact: Annotated[int, Field(strict=True, ge=1)] = Field(
        1, description="counting touches a person needs to count toward unique_contacts"
    )
    exclude_titles: Phrases | None = Field(
        None, description="title phrases (whole words) whose people's touches do not count"
    )
    window_days: PositiveFloat | None = Field(
        None, description="the trailing window in days (null: the policy's window_days)"
    )
    activities: list[Activity] | None = Field(
        None, description="the activities that count (null: the policy's activities)"
    )
    include_anonymous: bool | None = Field(
        None, description="anonymous touches count toward min_activities (null: the policy's)"
    )
    seniority: list[Seniority] | None = Field(
        None, description="only people of these seniorities count (null: everyone)"
    )
    roles: list[Role] | None = Field(
        None, description="only people with these CRM roles count (null: everyone)"
    )
    tier: list[Annotated[int, Field(strict=True, ge=1)]] | None = Field(
        None, description="holds only for accounts of these tiers (null: every tier)"
    )
    icp_fit_min: Annotated[float, Field(strict=True, ge=0.0, le=1.0)] | None = Field(
        None, description="holds only for accounts with at least this ICP fit (0..1)"
    )

    _acts = field_validator("activities")(classmethod(lambda cls, v: check_activities(v)))

    @model_validator(mode="after")
    def _something(self) -> Condition:
        if self.unique_contacts == 0 and self.min_activities == 0:
            raise ValueError("a condition needs unique_contacts or min_activities (or both) > 0")
        return self

    def count_fields(self) -> list[str]:
        """The counts this condition asks for: ``unique_contacts``, ``min_activities`` where
        set, and ``min_touches_per_contact`` where above 1 (with ``unique_contacts``)."""
        deep = self.min_touches_per_contact > 1 and self.unique_contacts > 0
        return [
            name
            for name, asked in (
                ("unique_contacts", self.unique_contacts > 0),
                ("min_touches_per_contact", deep),
                ("min_activities", self.min_activities > 0),
            )
            if asked
        ]


def _clause_kind(v: Any) -> str:
    if isinstance(v, dict):
        return "<group>" if {"any", "all", "not"} & set(v) else "<condition>"
    return "<group>" if isinstance(v, Group) else "<condition>"


Clause = Annotated[
    Annotated["Condition", Tag("<condition>")] | Annotated["Group", Tag("<group>")],
    Discriminator(_clause_kind),
]


class Group(Strict):
    """``any`` (at least one holds), ``all`` (every one holds) or ``not`` (does not hold) of
    conditions or nested groups; exactly one of the three keys."""

    any_: list[Clause] | None = Field(None, alias="any", min_length=1, description=ANY)
    all_: list[Clause] | None = Field(None, alias="all", min_length=1, description=ALL)
    not_: Clause | None = Field(None, alias="not", description=NOT)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one(self) -> Group:
        given = [
            k
            for k, v in (("any", self.any_), ("all", self.all_), ("not", self.not_))
            if v is not None
        ]
        if len(given) != 1:
            raise ValueError(f"give exactly one of any / all / not, got {given or 'none'}")
        return self

    @property
    def op(self) -> str:
        return "any" if self.any_ is not None else "all" if self.all_ is not None else "not"

    @property
    def children(self) -> list[Condition | Group]:
        return self.any_ or self.all_ or [self.not_]  # type: ignore[list-item]

    def named(self, prefix: str = "") -> list[tuple[str, Condition | Group]]:
        """Each child with its rule name, e.g. ``any.1`` or ``any.0.all.2``."""
        head = f"{prefix}{self.op}"
        if self.op == "not":
            return [(head, self.children[0])]
        return [(f"{head}.{i}", c) for i, c in enumerate(self.children)]


def check_activities(v: list[str] | None) -> list[str] | None:
    """Activity lists must be non-empty when given (names are checked by the schema)."""
    if v is not None and not v:
        raise ValueError("list at least one activity (or leave the key out for the default)")
    return v
