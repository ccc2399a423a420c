"""A Marketo-style scoring program: one trigger smart campaign per scored activity (smart list
trigger and filters, flow "Change Score" by N on a score field), fit campaigns on person fields,
a score-decay campaign, and the MQL campaign (trigger "Score is Changed", filter score at least
the threshold, flow "Change Status in Progression" to MQL).

References: https://experienceleague.adobe.com/en/docs/marketo/using/product-docs/core-marketo-concepts/smart-campaigns/flow-actions/change-score
(a score change is ``+N``, ``-N`` or ``=N`` on a score field) and
https://experienceleague.adobe.com/en/docs/marketo/using/product-docs/core-marketo-concepts/programs/program-library/op-scoring-behavior
(the operational behaviour-scoring program: one smart campaign per interaction, a "Behavior
Score" field, a score-decay folder). Marketo has no API to create smart lists, so the program
is a spec (``marketo.json``) and a readable page (``marketo.md``) to build it from; a person
score without decay reads back (:func:`read_marketo`).
"""

from __future__ import annotations

import math
from typing import Any

from policies.export.common import (
    NAMING_NOTE,
    NOT_EXPRESSIBLE,
    Export,
    Limitation,
    common_limits,
    criteria_section,
    fmt,
    limitation_dicts,
    limits_section,
    md_cell,
    md_table,
    per_contact_limit,
)
from policies.export.prepare import prepare
from policies.export.scoring import (
    ScoreModel,
    expiry_effect,
    fit_limits,
    scale_note,
    whole_points,
)
from policies.schema import PolicyBase

REFERENCE = [
    "https://experienceleague.adobe.com/en/docs/marketo/using/product-docs/core-marketo-concepts/"
    "smart-campaigns/flow-actions/change-score",
    "https://experienceleague.adobe.com/en/docs/marketo/using/product-docs/core-marketo-concepts/"
    "programs/program-library/op-scoring-behavior",
]
TARGET = "Marketo"
SCORE_FIELD = "Behavior Score"
# qualsim activity -> (Marketo trigger, the trigger's constraint to set)
TRIGGERS = {
    "web_visit": ("Visits Web Page", "any web page"),
    "pricing_visit": ("Visits Web Page", "the pricing page"),
    "content_download": ("Fills Out Form", "the gated-content forms"),
    "email_open": ("Opens Email", "any email"),
    "email_click": ("Clicks Link in Email", "any email"),
    "webinar": ("Program Status is Changed", "webinar programs, new status Attended"),
    "event": ("Program Status is Changed", "event programs, new status Attended"),
    "demo_request": ("Fills Out Form", "the demo request form"),
    "ad_click": ("Visits Web Page", "the ads' landing pages"),
}
FIT_FIELDS = {"seniority": "Seniority", "department": "Department", "title": "Job Title"}
RECYCLE = (
    "the MQL campaign's qualification rule is 'once every N days' (per person, not per account)"
)


def _campaign(model: ScoreModel, i: int) -> dict | Limitation:
    r = model.rules[i]
    if r.activity not in TRIGGERS:
        return Limitation(
            f"points.{r.activity}",
            f"{TARGET} has no trigger for {r.activity}",
            f"not exported: {fmt(r.points)} points per {r.activity} are missing from the score",
            NOT_EXPRESSIBLE,
        )
    trigger, constraint = TRIGGERS[r.activity]
    change = round(r.points)
    if change == 0:
        return Limitation(
            f"points.{r.activity}",
            f"{TARGET} score changes are whole numbers",
            f"{fmt(r.points)} points per {r.activity} round to 0: no campaign",
        )
    filters = []
    if r.titles:
        filters.append({"field": "Job Title", "operator": "contains", "values": list(r.titles)})
    if r.not_titles:
        filters.append(
            {"field": "Job Title", "operator": "not contains", "values": list(r.not_titles)}
        )
    return {
        "name": f"Score {r.activity} {change:+d}",
        "activity": r.activity,
        "smart_list": {"trigger": trigger, "constraint": constraint, "filters": filters},
        "flow": [{"action": "Change Score", "score_field": SCORE_FIELD, "change": f"{change:+d}"}],
        "qualification": "each time",
        "points": r.points,
    }


def _decay(model: ScoreModel) -> tuple[list[dict], list[Limitation]]:
    if model.window_days is None:
        return [], []
    days = fmt(model.window_days)
    campaign = {
        "name": f"Score decay: no activity in {days} days",
        "schedule": "batch, daily",
        "smart_list": {
            "filters": [
                {"field": "Not Was Active", "operator": "in past", "values": [f"{days} days"]}
            ]
        },
        "flow": [{"action": "Change Score", "score_field": SCORE_FIELD, "change": "=0"}],
        "qualification": "each time",
    }
    half = model.half_life_days
    cannot = (
        f"{TARGET} has no exponential score decay (qualsim: a half-life of {fmt(half)} days) "
        "and cannot expire each touch's points"
        if half is not None
        else f"{TARGET} cannot expire each touch's points {days} days after the touch"
    )
    mean = " (the half-life's mean lifetime, half-life / ln 2)" if half is not None else ""
    limit = Limitation(
        "decay.half_life_days" if half is not None else "decay",
        cannot,
        f"a daily batch campaign sets the score to 0 after {days} days{mean} without activity; "
        + expiry_effect(model, TARGET, reset=True),
    )
    return [campaign], [limit]


def _fit_campaigns(model: ScoreModel) -> list[dict]:
    """One campaign per fit rule: on the person field, change the score once."""
    return [
        {
            "name": f"Fit {f.field} {round(f.points):+d}",
            "smart_list": {
                "trigger": "Person is Created / Data Value Changes",
                "filters": [
                    {
                        "field": FIT_FIELDS[f.field],
                        "operator": "contains" if f.field == "title" else "is",
                        "values": list(f.values),
                    },
                    *(
                        [
                            {
                                "field": "Job Title",
                                "operator": "not contains",
                                "values": list(f.not_values),
                            }
                        ]
                        if f.not_values
                        else []
                    ),
                ],
            },
            "flow": [
                {
                    "action": "Change Score",
                    "score_field": SCORE_FIELD,
                    "change": f"{round(f.points):+d}",
                }
            ],
            "qualification": "once",
        }
        for f in model.fit
    ]


def _mql_campaign(policy: PolicyBase, model: ScoreModel) -> dict:
    """The MQL campaign: score at least the threshold, change the status."""
    return {
        "name": f"MQL: {policy.name}",
        "smart_list": {
            "trigger": "Score is Changed",
            "constraint": SCORE_FIELD,
            "filters": [
                {
                    "field": SCORE_FIELD,
                    "operator": "at least",
                    "values": [math.ceil(model.threshold)],
                }
            ],
        },
        "flow": [{"action": "Change Status in Progression", "status": "MQL"}],
        "qualification": (
            f"once every {fmt(policy.recycle_days)} days"
            if policy.recycle_days is not None
            else "once"
        ),
    }


def _score_limits(model: ScoreModel) -> list[Limitation]:
    """An account score, which Marketo's person scores cannot hold."""
    limits: list[Limitation] = []
    if model.object == "company":
        limits.append(
            Limitation(
                "score object",
                f"{TARGET} smart campaigns change a person's score, not an account's",
                "not expressible as one score: each person's campaigns add to their own score; sum "
                "them per account in an account-level field (Marketo ABM account scoring) and use "
                "that in the MQL campaign",
                NOT_EXPRESSIBLE,
            )
        )
    return limits


def build(policy: PolicyBase) -> Export:
    """The Marketo export of ``policy``: ``marketo.json`` and ``marketo.md``."""
    model, extra, account = prepare(policy, TARGET)
    policy_threshold = model.threshold
    per_contact = [per_contact_limit(policy, TARGET)]
    model, scale, scale_limits = whole_points(model, TARGET)
    made = [_campaign(model, i) for i in range(len(model.rules))]
    campaigns = [c for c in made if isinstance(c, dict)]
    decay, decay_limits = _decay(model)
    fit = _fit_campaigns(model)
    mql = _mql_campaign(policy, model)
    limits = (
        common_limits(policy, TARGET, RECYCLE)
        + (per_contact if model.object == "contact" else [])
        # the decay limitation below says what a half-life becomes in Marketo
        + [x for x in model.limitations if x.part != "decay.half_life_days"]
        + extra
        + scale_limits
        + [c for c in made if isinstance(c, Limitation)]
        + decay_limits
        + fit_limits(model, TARGET)
    )
    limits += _score_limits(model)
    doc = {
        "target": "marketo",
        "reference": REFERENCE,
        "policy": policy.name,
        "score_object": model.object,
        "score_field": SCORE_FIELD,
        "threshold": policy_threshold,
        "points_scale": scale,
        "scoring_campaigns": campaigns,
        "fit_campaigns": fit,
        "decay_campaigns": decay,
        "mql_campaign": mql,
        "account_criteria": account,
        "limitations": limitation_dicts(limits),
    }
    return Export.of("marketo", policy.name, doc, _readable(doc, limits), limits)


def _readable(doc: dict, limits: list[Limitation]) -> str:
    def row(c: dict) -> list[object]:
        sl = c["smart_list"]
        filters = "; ".join(
            f"{f['field']} {f['operator']} {', '.join(map(str, f['values']))}"
            for f in sl.get("filters", [])
        )
        trig = (
            f"{sl['trigger']}: {sl['constraint']}"
            if "constraint" in sl
            else sl.get("trigger", c.get("schedule", ""))
        )
        flow = "; ".join(f"{a['action']} {a.get('change', a.get('status', ''))}" for a in c["flow"])
        return [c["name"], trig, filters, flow, c["qualification"]]

    every = [
        *doc["scoring_campaigns"],
        *doc["fit_campaigns"],
        *doc["decay_campaigns"],
        doc["mql_campaign"],
    ]
    head = (
        f"# Marketo scoring program for {md_cell(doc['policy'])}\n\n"
        f"Score field: {md_cell(doc['score_field'])} ({doc['score_object']}). References: "
        + ", ".join(doc["reference"])
        + "\n\n"
        + NAMING_NOTE
        + scale_note(doc["points_scale"])
    )
    table = md_table(
        ["smart campaign", "trigger", "filters", "flow", "runs"], [row(c) for c in every]
    )
    return head + table + "\n" + criteria_section(doc["account_criteria"]) + limits_section(limits)


def read_marketo(doc: dict[str, Any]) -> dict[str, Any]:
    """An ``mql`` policy (a dict for ``load_policy``) from a ``marketo.json`` of a person score
    without decay: each scoring campaign's change per activity, the fit campaigns' changes by
    field and the MQL campaign's threshold. A score-decay campaign (a reset after inactivity,
    not a window), an account score or job-title filters on activities do not read back."""
    if doc["decay_campaigns"] or doc["score_object"] != "contact":
        raise ValueError("only a person score without decay reads back as an mql policy")
    scale = doc.get("points_scale", 1)
    points: dict[str, float] = {}
    for c in doc["scoring_campaigns"]:
        if c["smart_list"]["filters"]:
            raise ValueError("scoring campaigns with job-title filters do not read back")
        change = int(c["flow"][0]["change"]) / scale
        points[c["activity"]] = points.get(c["activity"], 0.0) + change
    fields = {v: k for k, v in FIT_FIELDS.items()}
    fit: dict[str, Any] = {}
    for c in doc["fit_campaigns"]:
        first = c["smart_list"]["filters"][0]
        field, change = fields[first["field"]], int(c["flow"][0]["change"]) / scale
        if field == "title":
            fit.setdefault("titles", []).append({"match": first["values"], "points": change})
        else:
            fit.setdefault(field, {})[first["values"][0]] = change
    (threshold,) = doc["mql_campaign"]["smart_list"]["filters"][0]["values"]
    return {
        "name": doc["policy"],
        "kind": "mql",
        "threshold": threshold / scale,
        "points": points,
        "fit": fit,
    }
