"""The typed schema of each built-in policy kind: pydantic models that validate a policy file
(unknown keys are errors, values immutable). A file names its ``kind``; the kind's model
(:mod:`policies.registry`) validates the rest, and :mod:`policies.loading` reads the YAML.

>>> p = MqaCount.model_validate({"name": "mqa", "window_days": 30,
...     "any": [{"unique_contacts": 4}, {"unique_contacts": 3, "min_activities": 9}]})
>>> p.kind, p.rule_names()
('mqa_count', ['any.0', 'any.1'])
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, cast

from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from policies.clauses import (
    ALL,
    ANY,
    DEFAULT_ACTIVITIES,
    NOT,
    SALES_DEFAULT_ACTIVITIES,
    Clause,
    Condition,
    Group,
    Phrases,
    Strict,
    check_activities,
)
from policies.cleaning import Exclusion
from policies.sales_touches import sales_named
from sim.config.chain import LocatedError
from sim.config.strict_yaml import did_you_mean
from sim.config.types import Float, NonNegFloat, PositiveFloat
from sim.vocab import SYSTEM_ACTIVITIES, Activity, Seniority

KIND = "which kind of rule: its fields depend on it"
ACTIVITIES = "the activities that count (default: all but impressions, email opens, sales)"
ANONYMOUS = "touches of people the CRM does not know count too"


class PolicyBase(Strict):
    """Fields every policy has. ``recycle_days``: after a handoff the account is not handed off
    again for this many days (null: never again). ``include_sales_touches``: see the sales
    touches (``sim.vocab.SALES_ACTIVITIES``: calls, meetings, ...); without it the policy is
    evaluated on the log without them, and naming a sales activity is an error. System events
    are never counted. ``exclude``: filters of touches (:mod:`policies.cleaning`)."""

    name: Annotated[str, Field(min_length=1, description="its name in tables and reports")]
    kind: str = Field(description=KIND)
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

    match: Phrases = Field(description="title phrases, matched as whole words, any case")
    weight: NonNegFloat = Field(description="the weight of a person whose title matches")


class Decay(Strict):
    """Score decay: exactly one of a half-life (exponential) or a trailing window (plain sum)."""

    half_life_days: PositiveFloat | None = Field(
        None, description="points halve every this many days"
    )
    window_days: PositiveFloat | None = Field(
        None, description="only points of the last this many days count, undecayed"
    )

    @model_validator(mode="after")
    def _one(self) -> Decay:
        if (self.half_life_days is None) == (self.window_days is None):
            raise ValueError("give exactly one of half_life_days or window_days")
        return self


class MqaCount(PolicyBase):
    """Account rollup: unique engaged contacts and activity counts in a trailing window,
    combined with any/all/not; ``tiers`` may replace the clauses for some tiers."""

    kind: Literal["mqa_count"] = Field("mqa_count", description=KIND)
    window_days: PositiveFloat = Field(description="the conditions' trailing window in days")
    activities: list[Activity] = Field(list(DEFAULT_ACTIVITIES), description=ACTIVITIES)
    include_anonymous: bool = Field(False, description=ANONYMOUS)
    any_: list[Clause] | None = Field(None, alias="any", min_length=1, description=ANY)
    all_: list[Clause] | None = Field(None, alias="all", min_length=1, description=ALL)
    not_: Clause | None = Field(None, alias="not", description=NOT)
    tiers: dict[Annotated[int, Field(ge=1)], Group] = Field(
        {}, description="per account tier, a clause group that replaces any/all/not"
    )

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

    match: Phrases = Field(description="title phrases, matched as whole words, any case")
    points: Float = Field(description="fit points of a person whose title matches")


class MqlFit(Strict):
    """Points added once per contact, never decaying: by seniority, department or title."""

    seniority: dict[Seniority, Float] = Field({}, description="fit points by seniority")
    department: dict[str, Float] = Field({}, description="fit points by department")
    titles: list[TitlePoints] = Field(
        [], description="fit points by title phrase (every matching entry adds)"
    )


class Mql(PolicyBase):
    """Lead scoring: a contact's score at t is its fit points plus its touches' points, decayed
    (``half_life_days``) or summed over a trailing window (``window_days``); no ``decay`` means
    points never decay. The account is handed off at its first contact whose score reaches the
    threshold. Scores are per contact."""

    kind: Literal["mql"] = Field("mql", description=KIND)
    threshold: PositiveFloat = Field(description="the lead score that hands the account off")
    points: dict[Activity, Float] = Field(description="points per touch, by activity")
    fit: MqlFit = Field(
        default_factory=lambda: MqlFit(), description="points a person has once, never decaying"
    )
    decay: Decay | None = Field(None, description="how touch points fade (null: never)")

    def points_for(self, activity: str) -> float:
        """A touch's points: 0 for an activity not listed."""
        return self.points.get(cast(Activity, activity), 0.0)


class WeightedTitles(PolicyBase):
    """Account score at t: the sum over the touches in the trailing window (or decayed) of the
    activity's weight times the contact's title weight (first matching entry, else
    ``default_title_weight``). Unlisted activities weigh 0; anonymous touches count only with
    ``include_anonymous`` (at the default title weight)."""

    kind: Literal["weighted_titles"] = Field("weighted_titles", description=KIND)
    threshold: PositiveFloat = Field(description="the account score that hands it off")
    window_days: PositiveFloat | None = Field(
        None, description="the score's trailing window in days (or give decay)"
    )
    decay: Decay | None = Field(None, description="the score's decay (or give window_days)")
    activity_weights: dict[Activity, NonNegFloat] = Field(
        description="weight per touch, by activity (unlisted: 0)"
    )
    title_weights: list[TitleWeight] = Field(
        [], description="title phrases and their weights; the first match applies"
    )
    default_title_weight: NonNegFloat = Field(
        1.0, description="the weight of a person no entry matches"
    )
    include_anonymous: bool = Field(False, description=ANONYMOUS)

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

    name: Annotated[str, Field(min_length=1)] = Field(description="the stage's name")
    when: Condition = Field(description="entered when this condition holds (give window_days)")

    @model_validator(mode="after")
    def _window(self) -> Stage:
        if self.when.window_days is None:
            raise LocatedError(("when", "window_days"), "a stage condition needs window_days")
        return self


class Stages(PolicyBase):
    """Account progression: ordered stages that only move forward; the handoff is the entry
    into ``handoff_stage``."""

    kind: Literal["stages"] = Field("stages", description=KIND)
    handoff_stage: str = Field(description="the stage whose entry is the handoff")
    stages: Annotated[list[Stage], Field(min_length=1)] = Field(
        description="the stages, in order: each entered only after the one before"
    )
    activities: list[Activity] = Field(list(DEFAULT_ACTIVITIES), description=ACTIVITIES)
    include_anonymous: bool = Field(False, description=ANONYMOUS)

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

    kind: Literal["any", "all"] = Field(description="any: one member holds; all: every one")
    policies: Annotated[list[str | dict[str, Any]], Field(min_length=1)] = Field(
        description="the members: policy files, shipped names or inline policies"
    )
    _members: list[PolicyBase] = PrivateAttr(default_factory=list)

    @property
    def members(self) -> list[PolicyBase]:
        """The member policies, loaded."""
        return self._members


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
