"""Account-stage criteria in the form ABM platforms take (6sense / Demandbase-style stages:
"an account enters a stage when N people engaged in the last D days"): ``abm.json`` (machine
readable; :func:`read_abm` reads it back into a policy) and ``abm.md`` (the same, readable).

There is no published import format for ABM stage definitions (they are configured in each
platform's UI); the JSON spells every condition out completely (its window, counting
activities and people filters, no defaults), so a team can configure each stage from it and
qualsim can read it back: for ``mqa_count`` and ``stages`` policies the read-back policy hands
off exactly the same accounts at the same times (tested). ``mql`` and ``weighted_titles`` are
scores, which ABM platforms do not compute: they are exported as a stage on the score and say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from policies.export.common import (
    NOT_EXPRESSIBLE,
    Export,
    Limitation,
    common_limits,
    fmt,
    limitation_dicts,
    limits_section,
    md_cell,
    md_table,
)
from policies.export.scoring import score_model
from policies.schema import Condition, Group, MqaCount, PolicyBase, Stages

REFERENCE = (
    "qualsim account-stage spec: 6sense / Demandbase-style buying stages (breadth: engaged "
    "people, depth: activities, recency: a trailing window); no vendor publishes an import "
    "schema, so every condition is spelled out in full"
)
# qualsim condition field -> the spec's name for it (read back by inverting it)
NAMES = {
    "unique_contacts": "engaged_people_at_least",
    "min_touches_per_contact": "touches_per_person_at_least",
    "min_activities": "activities_at_least",
    "window_days": "in_last_days",
    "activities": "counting_activities",
    "include_anonymous": "count_anonymous_visits",
    "seniority": "people_seniority",
    "roles": "people_roles",
    "exclude_titles": "people_titles_excluded",
    "tier": "account_tier",
    "icp_fit_min": "icp_fit_at_least",
}
BACK = {v: k for k, v in NAMES.items()}
TARGET = "An ABM platform"


def condition_spec(c: Condition, window: float, activities: Sequence[str], anon: bool) -> dict:
    """A condition with every default filled in, under the spec's names."""
    full = c.model_dump(exclude_none=True)
    full.setdefault("window_days", window)
    full.setdefault("activities", list(activities))
    full.setdefault("include_anonymous", anon)
    return {NAMES[k]: v for k, v in full.items()}


def tree(node: Condition | Group, window: float, activities: Sequence[str], anon: bool) -> dict:
    """A clause (condition or any / all / not group) as the spec's criteria tree."""
    if isinstance(node, Condition):
        return condition_spec(node, window, activities, anon)
    kids = [tree(k, window, activities, anon) for k in node.children]
    return {node.op: kids[0] if node.op == "not" else kids}


def words(spec: dict) -> str:
    """A criteria tree in words."""
    for op in ("any", "all"):
        if op in spec:
            joined = "; ".join(f"({words(k)})" for k in spec[op])
            return f"{'any' if op == 'any' else 'all'} of: {joined}"
    if "not" in spec:
        return f"not ({words(spec['not'])})"
    parts = []
    if spec.get("engaged_people_at_least", 0):
        deep = spec.get("touches_per_person_at_least", 1)
        each = f" with {deep}+ touches each" if deep > 1 else ""
        parts.append(f"{spec['engaged_people_at_least']}+ engaged people{each}")
    if spec.get("activities_at_least", 0):
        parts.append(f"{spec['activities_at_least']}+ activities")
    text = " and ".join(parts) + f" in the last {fmt(spec['in_last_days'])} days"
    text += f" (counting {', '.join(spec['counting_activities'])}"
    text += "; anonymous visits count)" if spec["count_anonymous_visits"] else ")"
    for key, label in (
        ("people_seniority", "people of seniority"),
        ("people_roles", "people in roles"),
        ("people_titles_excluded", "not counting titles with the whole words"),
        ("account_tier", "accounts of tier"),
    ):
        if key in spec:
            text += f"; {label} {', '.join(str(v) for v in spec[key])}"
    if "icp_fit_at_least" in spec:
        text += f"; ICP fit at least {fmt(spec['icp_fit_at_least'])}"
    return text


def stage_specs(policy: PolicyBase) -> tuple[list[dict], str, dict, list[Limitation]]:
    """(stages, handoff stage, extra top-level fields, limitations) of the spec."""
    if isinstance(policy, MqaCount):
        acts, anon = list(policy.activities), policy.include_anonymous
        main = tree(policy.rule, policy.window_days, acts, anon)
        tiers = {str(t): tree(g, policy.window_days, acts, anon) for t, g in policy.tiers.items()}
        stage = {"name": "MQA", "criteria": main, **({"by_tier": tiers} if tiers else {})}
        return [stage], "MQA", {"account_window_days": policy.window_days}, []
    if isinstance(policy, Stages):
        acts, anon = list(policy.activities), policy.include_anonymous
        stages = [
            {"name": s.name, "criteria": tree(s.when, 0.0, acts, anon)} for s in policy.stages
        ]
        return stages, policy.handoff_stage, {}, []
    return _score_stage(policy)


def _score_stage(policy: PolicyBase) -> tuple[list[dict], str, dict, list[Limitation]]:
    """A score (mql, weighted_titles) as one stage on the score, said to be approximated."""
    model = score_model(policy, TARGET)
    if model is None:
        raise ValueError(f"{policy.name}: kind {policy.kind!r} cannot be exported")
    who = "a person's lead score" if model.object == "contact" else "the account's score"
    criteria = {
        "score_object": model.object,
        "score_at_least": model.threshold,
        "points": [
            vars(r) | {"titles": list(r.titles), "not_titles": list(r.not_titles)}
            for r in model.rules
        ],
        "fit": [
            vars(f) | {"values": list(f.values), "not_values": list(f.not_values)}
            for f in model.fit
        ],
        "points_count_for_days": model.window_days,
    }
    limit = Limitation(
        f"kind: {policy.kind}",
        f"{TARGET} does not compute {who} from points per touch",
        "exported as a stage 'score at least the threshold' on a score field kept by your "
        "marketing-automation tool (export the rule there too: hubspot, mautic or marketo)",
    )
    return (
        [{"name": "qualified", "criteria": criteria}],
        "qualified",
        {},
        # the scoring tools' own "kind: ..." limitation is about their score; this one replaces it
        [limit, *(x for x in model.limitations if not x.part.startswith("kind:"))],
    )


def _excluded_titles(spec: dict) -> bool:
    """Whether a criteria tree excludes people by title anywhere."""
    if "people_titles_excluded" in spec:
        return True
    kids = [k for op in ("any", "all") for k in spec.get(op, [])]
    kids += [spec["not"]] if "not" in spec else []
    return any(_excluded_titles(k) for k in kids)


def _title_limits(stages: list[dict]) -> list[Limitation]:
    trees = [s["criteria"] for s in stages] + [
        t for s in stages for t in s.get("by_tier", {}).values()
    ]
    if not any(_excluded_titles(t) for t in trees):
        return []
    return [
        Limitation(
            "exclude_titles",
            f"{TARGET} matches job titles by 'contains' (text), not qualsim's whole words",
            "exported as 'title contains' exclusions: a phrase inside a longer word also excludes "
            "('intern' excludes 'Internal Audit'), so fewer people count than in qualsim; use "
            "whole-word matching if your platform has it, or check short phrases",
        )
    ]


def criteria_lines(policy: MqaCount | Stages) -> list[str]:
    """The account criteria in words (as the ABM export states them)."""
    stages, handoff, _, _ = stage_specs(policy)
    lines = [f"{s['name']}: {words(s['criteria'])}" for s in stages]
    lines += [
        f"{s['name']} (tier {t}): {words(g)}"
        for s in stages
        for t, g in s.get("by_tier", {}).items()
    ]
    return [*lines, f"hand off on entering {handoff}"]


def build(policy: PolicyBase) -> Export:
    """The ABM export of ``policy``: ``abm.json`` and ``abm.md``."""
    stages, handoff, extra, limits = stage_specs(policy)
    limits = (
        common_limits(
            policy,
            TARGET,
            "stages only move forward; re-qualify by resetting the account's stage after the "
            "recycle period",
            NOT_EXPRESSIBLE,
        )
        + limits
        + _title_limits(stages)
    )
    limits.append(
        Limitation(
            "evaluation times",
            f"{TARGET} recomputes stages on its own schedule (often daily), not at each event",
            "a stage is entered at the platform's next recomputation after the criteria hold",
        )
    )
    doc = {
        "target": "abm",
        "reference": REFERENCE,
        "policy": policy.name,
        "kind": policy.kind,
        "description": policy.description,
        "stages": stages,
        "handoff_stage": handoff,
        **extra,
        "limitations": limitation_dicts(limits),
    }
    return Export.of("abm", policy.name, doc, _readable(doc, limits), limits)


def score_words(c: dict) -> str:
    """A score stage's criteria in words: the threshold, the points and how long they count."""
    pts = [
        f"{r['activity']} {r['points']:+g}"
        + (f" (title: {', '.join(r['titles'])})" if r["titles"] else "")
        for r in c["points"]
    ]
    fit = [f"{f['field']} {', '.join(f['values'])} {f['points']:+g}" for f in c["fit"]]
    days = c["points_count_for_days"]
    text = f"{c['score_object']} score at least {fmt(c['score_at_least'])}; points: "
    text += "; ".join(pts) + (f"; fit: {'; '.join(fit)}" if fit else "")
    return text + (f"; points count for {fmt(days)} days" if days is not None else "")


def _readable(doc: dict, limits: list[Limitation]) -> str:
    rows: list[list[object]] = []
    for s in doc["stages"]:
        c = s["criteria"]
        text = words(c) if "score_at_least" not in c else score_words(c)
        rows.append([s["name"], text])
        for tier, t in s.get("by_tier", {}).items():
            rows.append([f"{s['name']} (tier {tier})", words(t)])
    head = f"# Account stages for {md_cell(doc['policy'])}\n\n{md_cell(doc['description'])}\n\n"
    order = (
        "Stages only move forward: an account enters a stage at or after entering the one "
        "before it.\n\n"
        if len(doc["stages"]) > 1
        else ""
    )
    hand = f"Hand off to sales on entering **{md_cell(doc['handoff_stage'])}**.\n\n"
    return (
        head
        + order
        + md_table(["stage", "entered when"], rows)
        + "\n"
        + hand
        + limits_section(limits)
    )


def read_abm(doc: dict[str, Any]) -> dict[str, Any]:
    """A policy (as a dict for ``load_policy``) from an ``abm.json`` of an ``mqa_count`` or
    ``stages`` policy: the same rule, the spec's names translated back."""
    if doc.get("kind") == "mqa_count":
        stage = doc["stages"][0]
        out = {
            "name": doc["policy"],
            "kind": "mqa_count",
            "window_days": doc["account_window_days"],
            **_back(stage["criteria"]),
        }
        if "by_tier" in stage:
            out["tiers"] = {int(t): _back(g) for t, g in stage["by_tier"].items()}
        return out
    if doc.get("kind") == "stages":
        stages = [{"name": s["name"], "when": _back(s["criteria"])} for s in doc["stages"]]
        return {
            "name": doc["policy"],
            "kind": "stages",
            "handoff_stage": doc["handoff_stage"],
            "stages": stages,
        }
    raise ValueError(f"kind {doc.get('kind')!r}: only mqa_count and stages exports read back")


def _back(spec: dict) -> dict:
    for op in ("any", "all"):
        if op in spec:
            return {op: [_back(k) for k in spec[op]]}
    if "not" in spec:
        return {"not": _back(spec["not"])}
    return {BACK[k]: v for k, v in spec.items()}


__all__ = ["NOT_EXPRESSIBLE", "build", "criteria_lines", "read_abm", "stage_specs", "words"]
