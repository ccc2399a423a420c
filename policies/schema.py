"""The typed schema of each built-in policy kind: pydantic models that validate a policy file
(unknown keys are errors, values immutable). A file names its ``kind``; the kind's model
(:mod:`policies.registry`) validates the rest, and :mod:`policies.loading` reads the YAML.

>>> p = MqaCount.model_validate({"name": "mqa", "window_days": 30,
...     "any": [{"unique_contacts": 4}, {"unique_contacts": 3, "min_activities": 9}]})
>>> p.kind, p.rule_names()
('mqa_count', ['any.0', 'any.1'])
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, cast, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

from policies.cleaning import Exclusion
from policies.sales_touches import sales_named
from sim.config.chain import LocatedError
from sim.config.strict_yaml import did_you_mean
from sim.config.types import Float, NonNegFloat, PositiveFloat
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

    unique_contacts: Count = 0
    min_activities: Count = 0
    min_touches_per_contact: Annotated[int, Field(strict=True, ge=1)] = 1
    exclude_titles: Phrases | None = None
    window_days: PositiveFloat | None = None
    activities: list[Activity] | None = None
    include_anonymous: bool | None = None
    seniority: list[Seniority] | None = None
    roles: list[Role] | None = None
    tier: list[Annotated[int, Field(strict=True, ge=1)]] | None = None
    icp_fit_min: Annotated[float, Field(strict=True, ge=0.0, le=1.0)] | None = None

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

    any_: list[Clause] | None = Field(None, alias="any", min_length=1)
    all_: list[Clause] | None = Field(None, alias="all", min_length=1)
    not_: Clause | None = Field(None, alias="not")

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


class PolicyBase(Strict):
    """Fields every policy has. ``recycle_days``: after a handoff the account is not handed off
    again for this many days (null: never again). ``include_sales_touches``: see the sales
    touches (``sim.vocab.SALES_ACTIVITIES``: calls, meetings, ...); without it the policy is
    evaluated on the log without them, and naming a sales activity is an error. System events
    are never counted. ``exclude``: filters of touches (:mod:`policies.cleaning`)."""

    name: Annotated[str, Field(min_length=1, description="its name in tables and reports")]
    kind: str = Field(description="which kind of rule: its fields depend on it")
    description: str = Field("", description="what the rule is, in words")
    reference: str = Field("", description="where the rule comes from (a source, a team)")
    recycle_days: PositiveFloat | None = Field(None, description="days before another handoff")
    include_sales_touches: bool = Field(False, description="see calls, meetings, ... too")
    exclude: list[Exclusion] = Field([], description="filters that drop touches before counting")

    KIND: ClassVar[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _sales_defaults(cls, data: Any) -> Any:
        """With ``include_sales_touches``, a default activity list counts sales touches too."""
        opted = isinstance(data, dict) and data.get("include_sales_touches") is True
        if opted and "activities" in cls.model_fields and "activities" not in data:
            return {**data, "activities": list(SALES_DEFAULT_ACTIVITIES)}
        return data

    @model_validator(mode="after")
    def _sales_named(self) -> PolicyBase:
        dump = self.model_dump(by_alias=True, exclude_defaults=True)
        for loc, act in sales_named(dump, SYSTEM_ACTIVITIES)[:1]:
            raise LocatedError(loc, f"{act!r} is a system event, which no rule counts")
        if not self.include_sales_touches:
            named = sales_named(dump)
            if named:
                loc, act = named[0]
                raise LocatedError(
                    loc,
                    f"{act!r} is a sales touch, which this policy does not see: add "
                    "include_sales_touches: true to count sales touches (marketing rules ignore "
                    "them by default)",
                )
        return self

    def evaluate(self, log) -> Any:  # pragma: no cover - every kind overrides it
        raise NotImplementedError


class TitleWeight(Strict):
    """Phrases matched case-insensitively as whole words in a title; the first entry that
    matches gives the weight (no regular expressions from config)."""

    match: Phrases
    weight: NonNegFloat


class Decay(Strict):
    """Score decay: exactly one of a half-life (exponential) or a trailing window (plain sum)."""

    half_life_days: PositiveFloat | None = None
    window_days: PositiveFloat | None = None

    @model_validator(mode="after")
    def _one(self) -> Decay:
        if (self.half_life_days is None) == (self.window_days is None):
            raise ValueError("give exactly one of half_life_days or window_days")
        return self


class MqaCount(PolicyBase):
    """Account rollup: unique engaged contacts and activity counts in a trailing window,
    combined with any/all/not; ``tiers`` may replace the clauses for some tiers."""

    kind: Literal["mqa_count"] = "mqa_count"
    window_days: PositiveFloat
    activities: list[Activity] = list(DEFAULT_ACTIVITIES)
    include_anonymous: bool = False
    any_: list[Clause] | None = Field(None, alias="any", min_length=1)
    all_: list[Clause] | None = Field(None, alias="all", min_length=1)
    not_: Clause | None = Field(None, alias="not")
    tiers: dict[Annotated[int, Field(ge=1)], Group] = {}

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    _acts = field_validator("activities")(classmethod(lambda cls, v: check_activities(v)))

    @model_validator(mode="after")
    def _rule(self) -> MqaCount:
        self._group()  # exactly one of any / all / not
        return self

    def _group(self) -> Group:
        clauses = (("any", self.any_), ("all", self.all_), ("not", self.not_))
        return Group.model_validate({k: v for k, v in clauses if v is not None})

    @property
    def rule(self) -> Group:
        """The top-level clause group (for accounts whose tier has no override)."""
        return self._group()

    def rule_names(self) -> list[str]:
        return [name for name, _ in self.rule.named()]


class TitlePoints(Strict):
    """Fit points for titles matching any phrase (case-insensitive, whole words)."""

    match: Phrases
    points: Float


class MqlFit(Strict):
    """Points added once per contact, never decaying: by seniority, department or title."""

    seniority: dict[Seniority, Float] = {}
    department: dict[str, Float] = {}
    titles: list[TitlePoints] = []


class Mql(PolicyBase):
    """Lead scoring: a contact's score at t is its fit points plus its touches' points, decayed
    (``half_life_days``) or summed over a trailing window (``window_days``); no ``decay`` means
    points never decay. The account is handed off at its first contact whose score reaches the
    threshold. Scores are per contact."""

    kind: Literal["mql"] = "mql"
    threshold: PositiveFloat
    points: dict[Activity, Float]
    fit: MqlFit = Field(default_factory=lambda: MqlFit())
    decay: Decay | None = None

    def points_for(self, activity: str) -> float:
        """A touch's points: 0 for an activity not listed."""
        return self.points.get(cast(Activity, activity), 0.0)


class WeightedTitles(PolicyBase):
    """Account score at t: the sum over the touches in the trailing window (or decayed) of the
    activity's weight times the contact's title weight (first matching entry, else
    ``default_title_weight``). Unlisted activities weigh 0; anonymous touches count only with
    ``include_anonymous`` (at the default title weight)."""

    kind: Literal["weighted_titles"] = "weighted_titles"
    threshold: PositiveFloat
    window_days: PositiveFloat | None = None
    decay: Decay | None = None
    activity_weights: dict[Activity, NonNegFloat]
    title_weights: list[TitleWeight] = []
    default_title_weight: NonNegFloat = 1.0
    include_anonymous: bool = False

    def weight_for(self, activity: str) -> float:
        """An activity's weight: 0 for an activity not listed."""
        return self.activity_weights.get(cast(Activity, activity), 0.0)

    @model_validator(mode="after")
    def _one_window(self) -> WeightedTitles:
        if (self.window_days is None) == (self.decay is None):
            raise ValueError("give exactly one of window_days or decay")
        return self


class Stage(Strict):
    """One account stage: entered at the first event time, at or after entering the previous
    stage, at which ``when`` holds on its trailing window (``window_days`` is required)."""

    name: Annotated[str, Field(min_length=1)]
    when: Condition

    @model_validator(mode="after")
    def _window(self) -> Stage:
        if self.when.window_days is None:
            raise LocatedError(("when", "window_days"), "a stage condition needs window_days")
        return self


class Stages(PolicyBase):
    """Account progression: ordered stages that only move forward; the handoff is the entry
    into ``handoff_stage``."""

    kind: Literal["stages"] = "stages"
    handoff_stage: str
    stages: Annotated[list[Stage], Field(min_length=1)]
    activities: list[Activity] = list(DEFAULT_ACTIVITIES)
    include_anonymous: bool = False

    _acts = field_validator("activities")(classmethod(lambda cls, v: check_activities(v)))

    @model_validator(mode="after")
    def _names(self) -> Stages:
        if self.recycle_days is not None:
            raise LocatedError(
                ("recycle_days",),
                "a stages policy hands an account off once (stages only move forward); "
                "recycle_days does not apply",
            )
        names = [s.name for s in self.stages]
        for i, n in enumerate(names):
            if n in names[:i]:
                raise LocatedError(("stages", i, "name"), f"stage {n!r} is repeated")
        if self.handoff_stage not in names:
            raise LocatedError(
                ("handoff_stage",),
                f"{self.handoff_stage!r} is not one of the stages ({', '.join(names)})"
                + did_you_mean(self.handoff_stage, names),
            )
        return self


class Combinator(PolicyBase):
    """Policies side by side ("run MQL and MQA together"): ``kind: any`` hands an account off
    at the first event time at which at least one member's rule holds, ``kind: all`` when every
    member's holds at once. Members are policy files (relative to this file), shipped names, or
    inline policies; ``rule`` names the first member that holds (``all`` for ``kind: all``)."""

    kind: Literal["any", "all"]
    policies: Annotated[list[str | dict[str, Any]], Field(min_length=1)]
    _members: list[PolicyBase] = PrivateAttr(default_factory=list)

    @property
    def members(self) -> list[PolicyBase]:
        """The member policies, loaded."""
        return self._members


def check_activities(v: list[str] | None) -> list[str] | None:
    """Activity lists must be non-empty when given (names are checked by the schema)."""
    if v is not None and not v:
        raise ValueError("list at least one activity (or leave the key out for the default)")
    return v


__all__ = [
    "DEFAULT_ACTIVITIES",
    "SALES_DEFAULT_ACTIVITIES",
    "Combinator",
    "Condition",
    "Decay",
    "Group",
    "LocatedError",
    "MqaCount",
    "Mql",
    "MqlFit",
    "PolicyBase",
    "Stage",
    "Stages",
    "Strict",
    "TitlePoints",
    "TitleWeight",
    "WeightedTitles",
    "check_activities",
    "field_validator",
]
