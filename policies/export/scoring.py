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

from dataclasses import dataclass, field, replace

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
    half_life_days: float | None = None


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
    half = policy.decay.half_life_days if policy.decay is not None else None
    return ScoreModel(policy.name, "contact", policy.threshold, rules, fit, window, limits, half)


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
    half = decay.half_life_days
    return ScoreModel(policy.name, "company", policy.threshold, rules, [], window, limits, half)


def count_model(
    policy: MqaCount | Stages, target: str, company_score: bool = True
) -> tuple[ScoreModel, list[Limitation]]:
    """For rules that count people (``mqa_count``, ``stages``): a company score of one point
    per counting activity of any associated contact in the rule's window (the handoff stage's
    for ``stages``), and the limitation saying the people counts are not expressible. A target
    without a company score (``company_score`` false: Mautic) scores each contact's own
    activities, which is no pre-filter, and its limitation says so."""
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
    if company_score:
        score = (
            "a company score of 1 point per counting activity of any associated contact in the "
            f"last {fmt(window or 0)} days, with the threshold at the fewest activities the rule "
            f"can hold with ({max(1, needed)}): a pre-filter that fires at or before the rule"
        )
    else:
        score = (
            f"1 contact point per counting activity and a trigger at {max(1, needed)} points (the "
            "fewest activities the rule can hold with) on each contact; a contact's points count "
            "only their own activities, at most the account's, so this is no pre-filter: an "
            "account whose activities are spread over several people hands off in qualsim but "
            "never reaches the trigger on one contact"
        )
    limit = Limitation(
        f"kind: {policy.kind}",
        f"a {target} score cannot count distinct engaged people, a person's touches, or stages "
        "that only move forward",
        f"exported: {score}; the people counts are not expressible: build a company property "
        "'engaged contacts in the last N days' (a rollup of associated contacts) for them; the "
        "abm export states the full account criteria",
        NOT_EXPRESSIBLE,
    )
    return model, [limit]


SCALES = (1, 10, 100, 1000)


def _whole(x: float) -> bool:
    return abs(x - round(x)) <= 1e-9 * max(1.0, abs(x))


def whole_points(model: ScoreModel, target: str) -> tuple[ScoreModel, int, list[Limitation]]:
    """``model`` with whole-number points for a tool whose score changes are whole numbers:
    every point (and the threshold) multiplied by the smallest of 1, 10, 100, 1000 that makes
    every point whole, which hands off exactly as qualsim does; when none does, x1000 and
    rounded (said). Returns (the scaled model, the scale, limitations).

    >>> from policies import load_policy
    >>> m, scale, limits = whole_points(score_model(load_policy("mql_only")), "X")
    >>> scale, m.threshold, limits
    (1, 100.0, [])
    """
    values = [r.points for r in model.rules] + [f.points for f in model.fit]
    scale = next((s for s in SCALES if all(_whole(v * s) for v in values)), SCALES[-1])
    limits = []
    inexact = [r.activity for r in model.rules if not _whole(r.points * scale)]
    inexact += [f"fit {f.field}" for f in model.fit if not _whole(f.points * scale)]
    if inexact:
        limits.append(
            Limitation(
                "points",
                f"{target} score changes are whole numbers",
                f"points and the threshold x{scale}; the points of {', '.join(inexact)} then "
                "rounded to the nearest whole number (halves to the even number)",
            )
        )
    threshold = model.threshold * scale
    scaled = replace(
        model,
        threshold=float(round(threshold)) if _whole(threshold) else threshold,
        rules=[replace(r, points=float(round(r.points * scale))) for r in model.rules],
        fit=[replace(f, points=float(round(f.points * scale))) for f in model.fit],
    )
    return scaled, scale, limits


def scale_note(scale: int) -> str:
    """The readable files' line on scaled points (empty at scale 1)."""
    if scale == 1:
        return ""
    return (
        f"Points and the threshold are qualsim's x{scale} (whole numbers, as the tool takes "
        "them): the same contacts reach the threshold at the same touches.\n\n"
    )


def expiry_effect(model: ScoreModel, target: str, reset: bool) -> str:
    """How a score whose points do not expire per touch compares with qualsim's: an active
    contact keeps points older than the window (higher), negative points stay (lower), and a
    ``reset`` to 0 also wipes the fit points, which qualsim keeps (lower)."""
    lower = []
    if any(r.points < 0 for r in model.rules):
        lower.append("negative points never expire either")
    if reset and model.fit:
        lower.append("the reset also wipes the fit points, which qualsim keeps for good")
    if not lower:
        return (
            f"an active contact keeps points older than the window, so the {target} score is at "
            "least qualsim's and reaches the threshold at or before it"
        )
    return (
        "an active contact keeps points older than the window (a higher score), but "
        + " and ".join(lower)
        + f" (a lower one): the {target} score can be higher or lower than qualsim's, so "
        "handoffs can come earlier, later or not at all"
    )


def fit_limits(model: ScoreModel, target: str) -> list[Limitation]:
    """A tool adds fit points when the contact has the field, before any touch; qualsim scores
    a contact from its first touch. That differs only when fit alone can reach the threshold."""
    if not model.fit:
        return []
    best: dict[str, float] = {}
    for f in model.fit:
        best[f.field] = max(best.get(f.field, 0.0), f.points)
    most = sum(best.values())
    if most < model.threshold:
        return []
    return [
        Limitation(
            "fit before touches",
            f"{target} adds fit points as soon as a contact has the field (created or changed), "
            "before any touch; qualsim scores a contact from its first touch",
            f"fit alone reaches the threshold (up to {fmt(most)} of {fmt(model.threshold)}): such "
            f"a contact becomes an MQL in {target} with no touch at all; add a filter 'has at "
            "least one activity' to the MQL step",
        )
    ]


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
