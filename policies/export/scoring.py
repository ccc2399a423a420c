"""A points-per-touch score, the form lead-scoring tools take, read off an ``mql`` or
``weighted_titles`` policy: one :class:`ScoreRule` per (activity, title group) with its points,
fit points by contact property, the threshold and how long points count. Every target that
scores (HubSpot, Mautic, Marketo) builds from this one model, so they agree.

- ``mql``: a contact score. Points per activity; fit by seniority, department and title (first
  matching title entry: the later entries exclude the earlier ones' phrases).
- ``weighted_titles``: an account (company) score. The product activity weight x title weight
  is exact when each (activity, title entry) pair is its own rule with "job title contains one
  of the entry's phrases and none of the earlier entries'"; the default weight is the rule
  whose title contains none of the phrases.

>>> from policies import load_policy
>>> m = score_model(load_policy("mql_only"))
>>> m.object, m.threshold, m.window_days, [(r.activity, r.points) for r in m.rules][:2]
('contact', 100.0, 43, [('web_visit', 1.0), ('content_download', 5.0)])
"""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.export.common import (
    NOT_EXPRESSIBLE,
    Limitation,
    decay_limits,
    fmt,
    half_life_window,
)
from policies.schema import (
    Condition,
    Decay,
    Group,
    MqaCount,
    Mql,
    PolicyBase,
    Stages,
    WeightedTitles,
)
from sim.vocab import SALES_ACTIVITIES


@dataclass(frozen=True)
class ScoreRule:
    """Points for each touch of ``activity`` by a contact whose title contains one of
    ``titles`` (any title when empty) and none of ``not_titles``."""

    activity: str
    points: float
    titles: tuple[str, ...] = ()
    not_titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class FitRule:
    """Points added once to a contact whose ``field`` (``seniority``, ``department`` or
    ``title``) is one of ``values`` (``title``: contains one of them and none of
    ``not_values``)."""

    field: str
    values: tuple[str, ...]
    points: float
    not_values: tuple[str, ...] = ()


@dataclass
class ScoreModel:
    """A points-per-touch score: ``object`` is ``contact`` or ``company``; points count for
    ``window_days`` after the touch (None: forever); handoff at ``threshold``."""

    policy: str
    object: str
    threshold: float
    rules: list[ScoreRule]
    fit: list[FitRule] = field(default_factory=list)
    window_days: float | None = None
    limitations: list[Limitation] = field(default_factory=list)


def score_model(policy: PolicyBase, target: str = "the target") -> ScoreModel | None:
    """The points model of an ``mql`` or ``weighted_titles`` policy (None for other kinds),
    with the limitations shared by every scoring tool."""
    if isinstance(policy, Mql):
        return _mql(policy, target)
    if isinstance(policy, WeightedTitles):
        return _titles(policy, target)
    return None


def _window(decay: Decay | None, part: str, target: str) -> tuple[float | None, list[Limitation]]:
    if decay is None:
        return None, []
    if decay.window_days is not None:
        return decay.window_days, []
    assert decay.half_life_days is not None
    return half_life_window(decay.half_life_days), decay_limits(part, decay.half_life_days, target)


def _title_limit(part: str, target: str) -> Limitation:
    return Limitation(
        part,
        f"{target} matches job titles by 'contains' (text), not qualsim's whole words",
        "exported as 'job title contains'; a phrase inside a longer word also matches "
        "(`vp` in 'VPN Administrator'), so check short phrases",
    )


def _mql(policy: Mql, target: str) -> ScoreModel:
    window, limits = _window(policy.decay, "decay.half_life_days", target)
    rules = [ScoreRule(a, p) for a, p in policy.points.items() if p != 0]
    fit = [FitRule("seniority", (s,), p) for s, p in policy.fit.seniority.items() if p != 0]
    fit += [FitRule("department", (d,), p) for d, p in policy.fit.department.items() if p != 0]
    earlier: list[str] = []
    for t in policy.fit.titles:
        fit.append(FitRule("title", tuple(t.match), t.points, tuple(earlier)))
        earlier += t.match
    if policy.fit.titles:
        limits.append(_title_limit("fit.titles", target))
    if any(p < 0 for p in policy.points.values()):
        limits.append(
            Limitation(
                "points",
                f"{target} may floor a score at 0 or at a group minimum",
                "negative points are exported as they are; check the score's minimum allows them",
            )
        )
    return ScoreModel(policy.name, "contact", policy.threshold, rules, fit, window, limits)


def _titles(policy: WeightedTitles, target: str) -> ScoreModel:
    decay = policy.decay if policy.decay is not None else Decay(window_days=policy.window_days)
    window, limits = _window(decay, "decay.half_life_days", target)
    rules = []
    earlier: list[str] = []
    for entry in policy.title_weights:
        for a, w in policy.activity_weights.items():
            if w * entry.weight != 0:
                rules.append(ScoreRule(a, w * entry.weight, tuple(entry.match), tuple(earlier)))
        earlier += entry.match
    for a, w in policy.activity_weights.items():
        if w * policy.default_title_weight != 0:
            rules.append(ScoreRule(a, w * policy.default_title_weight, (), tuple(earlier)))
    if policy.title_weights:
        limits.append(_title_limit("title_weights", target))
    limits.append(
        Limitation(
            "kind: weighted_titles",
            f"{target} scores a company from its own criteria, not as qualsim's sum over every "
            "touch of every contact",
            "each rule is 'an associated contact did the activity' with the contact's job-title "
            "filter; check the company score counts every occurrence of every contact",
        )
    )
    if policy.include_anonymous:
        limits.append(
            Limitation(
                "include_anonymous",
                f"{target} does not score anonymous visits matched to a company",
                "not exported: anonymous touches score nothing in the target, so its score is "
                "lower than qualsim's on accounts with anonymous traffic",
                NOT_EXPRESSIBLE,
            )
        )
    return ScoreModel(policy.name, "company", policy.threshold, rules, [], window, limits)


def count_model(policy: MqaCount | Stages, target: str) -> tuple[ScoreModel, list[Limitation]]:
    """For rules that count people (``mqa_count``, ``stages``): a company score of one point
    per counting activity of any associated contact in the rule's window (the handoff stage's
    for ``stages``), and the limitation saying the people counts are not expressible."""
    window: float | None
    if isinstance(policy, MqaCount):
        window, acts = policy.window_days, list(policy.activities)
        groups = [policy.rule, *policy.tiers.values()]
        needed = min(needed_activities(g) for g in groups)
    else:
        stage = next(s for s in policy.stages if s.name == policy.handoff_stage)
        window = stage.when.window_days
        acts = list(stage.when.activities or policy.activities)
        needed = needed_activities(stage.when)
    rules = [ScoreRule(a, 1.0) for a in acts]
    model = ScoreModel(policy.name, "company", max(1, needed), rules, window_days=window)
    limit = Limitation(
        f"kind: {policy.kind}",
        f"a {target} score cannot count distinct engaged people, a person's touches, or stages "
        "that only move forward",
        "exported: a company score of 1 point per counting activity of any associated contact "
        f"in the last {fmt(window or 0)} days, with the threshold at the fewest activities the "
        f"rule can hold with ({max(1, needed)}): a pre-filter that fires at or before the rule; "
        "the people counts are not expressible: build a company property 'engaged contacts in "
        "the last N days' (a rollup of associated contacts) for them; the abm export states "
        "the full account criteria",
        NOT_EXPRESSIBLE,
    )
    return model, [limit]


def needed_activities(node: Condition | Group) -> int:
    """The fewest counting touches with which a clause can hold: a condition needs its
    ``min_activities`` and, for ``unique_contacts`` people of ``min_touches_per_contact``
    touches each, that many more; ``any`` the fewest of its children, ``all`` the most, ``not``
    none."""
    if isinstance(node, Condition):
        return max(node.min_activities, node.unique_contacts * node.min_touches_per_contact)
    if node.op == "not":
        return 0
    counts = [needed_activities(c) for c in node.children]
    return min(counts) if node.op == "any" else max(counts)


def sales_rules(model: ScoreModel) -> list[ScoreRule]:
    """The model's rules on sales activities (calls, meetings, ...)."""
    return [r for r in model.rules if r.activity in SALES_ACTIVITIES]
