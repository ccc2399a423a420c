"""HubSpot lead scoring: a score configuration as the body of HubSpot's Lead Scoring API
(``POST /marketing/lead-scoring/2026-09-beta/scores``), with the criterion of each rule spelled
out beside it, and the handoff (score at least the threshold).

Reference: https://developers.hubspot.com/docs/api-reference/2026-09-beta/marketing/lead-scoring/create-lead-score
(the request body: ``name``, ``objectTypeId``, ``groupConfigs`` of ``groupName``,
``groupCategory`` and ``ruleConfigurations`` whose ``configuration.calculation`` is
``{"type": "CONSTANT", "value": points}``; drafts are published with
``POST .../scores/{scoreId}/draft/publish``, see the guide
https://developers.hubspot.com/docs/api-reference/2026-09-beta/marketing/lead-scoring/guide).
The published example does not show how a rule names its criterion (the event or property
filter), so ``hubspot.json`` lists each rule's criterion in ``criteria`` (group and rule index
into the body) for whoever sets it in HubSpot, and every export carries the ``criteria``
limitation (printed, and at the top of ``hubspot.md``): the body POSTed as it is creates rules
that award points with no filter. :func:`read_hubspot` reads the body's points and these
criteria back into a policy.

``mql`` exports a contact score (``objectTypeId`` ``0-1``), ``weighted_titles`` a company score
(``0-2``) whose rules are associated contacts' activities filtered by job title. ``mqa_count``
and ``stages`` count distinct people, which a score cannot: they export a company score of one
point per counting activity and list the people counts as not expressible.
"""

from __future__ import annotations

from typing import Any

from policies.export.common import (
    NAMING_NOTE,
    NOT_EXPRESSIBLE,
    Export,
    Limitation,
    common_limits,
    fmt,
    limitation_dicts,
    limits_section,
    md_cell,
    md_table,
    per_contact_limit,
)
from policies.export.prepare import prepare
from policies.export.scoring import ScoreModel, fit_limits
from policies.schema import PolicyBase

REFERENCE = (
    "https://developers.hubspot.com/docs/api-reference/2026-09-beta/marketing/lead-scoring/"
    "create-lead-score"
)
PATH = "/marketing/lead-scoring/2026-09-beta/scores"
OBJECT_TYPES = {"contact": "0-1", "company": "0-2"}
TARGET = "HubSpot"
RECYCLE = (
    "a workflow on 'score is at least the threshold' with re-enrollment allowed, and a delay "
    "of the recycle period before the lifecycle stage is reset"
)

CRITERIA = Limitation(
    "criteria",
    "the request body gives each rule its points only: HubSpot's published example does not "
    "show how a rule names its criterion (event or property filter)",
    "each rule's criterion is in `criteria` (group and rule index into the body): POSTing the "
    "body as it is creates rules that award points with no filter, so create the score as a "
    "draft, set each rule's criterion in HubSpot from `criteria`, then publish",
    NOT_EXPRESSIBLE,
)


def _groups(model: ScoreModel) -> tuple[list[dict], list[dict]]:
    """(groupConfigs, criteria): an engagement group of the points per touch, a fit group of
    the property points."""
    rules = model.rules
    engagement = [_rule(r.points) for r in rules]
    criteria = [
        {
            "group": 0,
            "rule": i,
            "type": "event",
            "activity": r.activity,
            "points_each_time": r.points,
            "in_last_days": model.window_days,
            "contact_title_contains_any": list(r.titles),
            "contact_title_contains_none": list(r.not_titles),
        }
        for i, r in enumerate(rules)
    ]
    groups = [
        {"groupName": "Engagement", "groupCategory": "ENGAGEMENT", "ruleConfigurations": engagement}
    ]
    if model.fit:
        groups.append(
            {
                "groupName": "Fit",
                "groupCategory": "FIT",
                "ruleConfigurations": [_rule(f.points) for f in model.fit],
            }
        )
        criteria += [
            {
                "group": 1,
                "rule": i,
                "type": "property",
                "property": f.field,
                "is_any_of" if f.field != "title" else "contains_any": list(f.values),
                **({"contains_none": list(f.not_values)} if f.field == "title" else {}),
                "points_once": f.points,
            }
            for i, f in enumerate(model.fit)
        ]
    return groups, criteria


def _rule(points: float) -> dict:
    return {
        "configuration": {"calculation": {"type": "CONSTANT", "value": points}},
        "enabled": True,
    }


def build(policy: PolicyBase) -> Export:
    """The HubSpot export of ``policy``: ``hubspot.json`` and ``hubspot.md``."""
    model, extra, account = prepare(policy, TARGET)
    handoff = account or [f"score is at least {fmt(model.threshold)}"]
    limits = [CRITERIA, *common_limits(policy, TARGET, RECYCLE)]
    if model.object == "contact":
        limits.append(per_contact_limit(policy, TARGET))
    limits += model.limitations + extra + fit_limits(model, TARGET)
    groups, criteria = _groups(model)
    body: dict[str, Any] = {
        "name": policy.name,
        "objectTypeId": OBJECT_TYPES[model.object],
        "groupConfigs": groups,
    }
    doc = {
        "target": "hubspot",
        "reference": REFERENCE,
        "policy": policy.name,
        "score_object": model.object,
        "request": {"method": "POST", "path": PATH, "body": body},
        "criteria": criteria,
        "threshold": model.threshold,
        "handoff": handoff,
        "limitations": limitation_dicts(limits),
    }
    return Export.of("hubspot", policy.name, doc, _readable(doc, limits), limits)


def _readable(doc: dict, limits: list[Limitation]) -> str:
    rows: list[list[object]] = []
    body = doc["request"]["body"]
    for c in doc["criteria"]:
        group = body["groupConfigs"][c["group"]]
        points = group["ruleConfigurations"][c["rule"]]["configuration"]["calculation"]["value"]
        rows.append([group["groupName"], _criterion(c), fmt(points)])
    head = (
        f"# HubSpot lead score for {md_cell(doc['policy'])}\n\n"
        f"A {doc['score_object']} score (Lead Scoring API: {doc['reference']}).\n\n"
        "**The API body holds each rule's points, not its criterion: set the criteria below in "
        "HubSpot before publishing the score, or every rule awards points with no filter.**\n\n"
        + NAMING_NOTE
    )
    hand = "\n## Handoff\n\n" + "".join(f"- {md_cell(h)}\n" for h in doc["handoff"]) + "\n"
    return head + md_table(["group", "criterion", "points"], rows) + hand + limits_section(limits)


def _criterion(c: dict) -> str:
    if c["type"] == "property":
        values = c.get("is_any_of") or c.get("contains_any") or []
        verb = "is any of" if "is_any_of" in c else "contains any of"
        text = f"contact {c['property']} {verb} {', '.join(values)}"
        if c.get("contains_none"):
            text += f" and none of {', '.join(c['contains_none'])}"
        return text
    text = f"each {c['activity']}"
    if c["in_last_days"] is not None:
        text += f" in the last {fmt(c['in_last_days'])} days"
    if c["contact_title_contains_any"]:
        text += f", job title contains any of {', '.join(c['contact_title_contains_any'])}"
    if c["contact_title_contains_none"]:
        text += f", job title contains none of {', '.join(c['contact_title_contains_none'])}"
    return text


def read_hubspot(doc: dict[str, Any]) -> dict[str, Any]:
    """An ``mql`` policy (a dict for ``load_policy``) from the ``hubspot.json`` of a contact
    score: each event rule's points (read from the request body) per activity, the fit points
    by property, the window and the threshold. Title filters on event rules (a company score)
    are refused: only contact scores read back."""
    body = doc["request"]["body"]
    if body["objectTypeId"] != OBJECT_TYPES["contact"]:
        raise ValueError("only a contact score (objectTypeId 0-1) reads back as an mql policy")
    points: dict[str, float] = {}
    fit: dict[str, Any] = {}
    window = None
    for c in doc["criteria"]:
        value = body["groupConfigs"][c["group"]]["ruleConfigurations"][c["rule"]]
        value = value["configuration"]["calculation"]["value"]
        if c["type"] == "event":
            if c["contact_title_contains_any"] or c["contact_title_contains_none"]:
                raise ValueError("event rules with title filters do not read back")
            points[c["activity"]] = points.get(c["activity"], 0.0) + value
            window = c["in_last_days"]
        elif c["property"] == "title":
            fit.setdefault("titles", []).append({"match": c["contains_any"], "points": value})
        else:
            fit.setdefault(c["property"], {})[c["is_any_of"][0]] = value
    out = {
        "name": doc["policy"],
        "kind": "mql",
        "threshold": doc["threshold"],
        "points": points,
        "fit": fit,
    }
    return out | ({"decay": {"window_days": window}} if window is not None else {})
