"""Mautic points: point actions (``POST /api/points/new``: ``name``, ``description``,
``type``, ``delta``, ``properties``, ``isPublished``) and a point trigger (``POST
/api/points/triggers/new``: ``name``, ``points``, ``color``, ``trigger_existing_leads``,
``events`` of ``name``, ``type``, ``order``, ``properties``), as Mautic's REST API takes them.

Reference: https://developer.mautic.org/#point-actions and
https://developer.mautic.org/#point-triggers (the published action types: ``asset.download``,
``email.open``, ``email.send``, ``form.submit``, ``page.hit``, ``url.hit``; trigger event
``lead.changetags``).

Mautic scores contacts, with whole-number deltas that never expire. So an ``mql`` without
decay and with whole-number points is exact (:func:`read_mautic` reads it back); a window or a
half-life, fit points, company scores and people counts are listed as approximated or not
expressible.
"""

from __future__ import annotations

import math
from typing import Any

from policies.export.common import (
    APPROXIMATED,
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

REFERENCE = (
    "https://developer.mautic.org/#point-actions; https://developer.mautic.org/#point-triggers"
)
TARGET = "Mautic"
# qualsim activity -> (Mautic point action type, what to set in its properties)
ACTION_TYPES = {
    "web_visit": ("page.hit", "any landing page"),
    "pricing_visit": ("url.hit", "the pricing page URL"),
    "content_download": ("asset.download", "the gated assets"),
    "email_open": ("email.open", "the emails"),
    "email_click": ("url.hit", "the tracked links of the emails"),
    "webinar": ("form.submit", "the webinar registration forms"),
    "event": ("form.submit", "the event registration forms"),
    "demo_request": ("form.submit", "the demo request form"),
    "ad_click": ("url.hit", "the ads' landing page URLs"),
}
# activities Mautic scores only through a visit to a URL they lead to
INDIRECT = ("email_click", "ad_click")
RECYCLE = (
    "a point trigger fires once per contact; re-qualify with a campaign that "
    "removes the MQL tag after the recycle period"
)


def _actions(model: ScoreModel) -> tuple[list[dict], list[Limitation]]:
    actions, limits = [], []
    for r in model.rules:
        if r.activity not in ACTION_TYPES:
            limits.append(
                Limitation(
                    f"points.{r.activity}",
                    f"{TARGET} has no point action for {r.activity}",
                    f"not exported: {fmt(r.points)} points per {r.activity} are missing from the "
                    "Mautic score (add them with a campaign 'adjust contact points' on the "
                    "matching event if your Mautic tracks it)",
                    NOT_EXPRESSIBLE,
                )
            )
            continue
        kind, what = ACTION_TYPES[r.activity]
        if r.activity in INDIRECT:
            limits.append(
                Limitation(
                    f"points.{r.activity}",
                    f"{TARGET} has no point action for {r.activity} itself",
                    f"counted as {kind} on {what}: visits to those URLs by any route score too",
                )
            )
        delta = round(r.points)  # whole already (whole_points); 0 when rounded to nothing
        if delta == 0:
            limits.append(
                Limitation(
                    f"points.{r.activity}",
                    f"{TARGET} point deltas are whole numbers",
                    f"{r.activity} rounds to 0 points: no point action",
                )
            )
            continue
        titles = f"; job title contains any of {', '.join(r.titles)}" if r.titles else ""
        if r.not_titles:
            titles += f"; job title contains none of {', '.join(r.not_titles)}"
        actions.append(
            {
                "activity": r.activity,
                "set_in_mautic": f"select {what}{titles}",
                "method": "POST",
                "path": "/api/points/new",
                "body": {
                    "name": f"{r.activity} {delta:+d}",
                    "description": f"qualsim {model.policy}: {r.activity}",
                    "type": kind,
                    "delta": delta,
                    "isPublished": True,
                    "properties": {},
                },
            }
        )
    return actions, limits


def _model_limits(model: ScoreModel) -> list[Limitation]:
    out = []
    if any(r.titles or r.not_titles for r in model.rules):
        out.append(
            Limitation(
                "points by job title",
                f"{TARGET} point actions score every contact alike: they cannot filter by job "
                "title",
                "the actions with a job-title condition (in set_in_mautic) must be campaigns "
                "instead: a segment on the job title, a decision on the activity and the action "
                "'adjust contact points'",
            )
        )
    if model.window_days is not None:
        days = fmt(model.window_days)
        qualsim = (
            f"decays them with a half-life of {fmt(model.half_life_days)} days"
            if model.half_life_days is not None
            else f"counts them for {days} days"
        )
        out.append(
            Limitation(
                "decay",
                f"{TARGET} points never expire (qualsim {qualsim})",
                "not exported: points count forever; "
                + (
                    expiry_effect(model, TARGET, reset=False)
                    if model.object == "contact"
                    else "each contact's points only add up"
                )
                + "; a campaign that resets the points of contacts with no activity in "
                f"{days} days comes closer"
                + (", but also wipes the fit points, which qualsim keeps" if model.fit else ""),
                NOT_EXPRESSIBLE,
            )
        )
    if model.fit:
        out.append(
            Limitation(
                "fit",
                f"{TARGET} point actions score behaviour, not contact fields",
                "each fit rule is listed under fit_campaigns: a campaign on the contact field that "
                "adjusts contact points once",
                APPROXIMATED,
            )
        )
    if model.object == "company":
        out.append(
            Limitation(
                "score object",
                f"{TARGET} point actions score contacts, not companies",
                "exported as contact points with the trigger on each contact; the account total "
                "(sum over its contacts) is not expressible: a contact's points are at most the "
                "account's, so an account hands off later than in qualsim or not at all",
                NOT_EXPRESSIBLE,
            )
        )
    return out


def build(policy: PolicyBase) -> Export:
    """The Mautic export of ``policy``: ``mautic.json`` and ``mautic.md``."""
    model, extra, account = prepare(policy, TARGET, company_score=False)
    policy_threshold = model.threshold
    model, scale, scale_limits = whole_points(model, TARGET)
    actions, action_limits = _actions(model)
    threshold = math.ceil(model.threshold)
    trigger = {
        "method": "POST",
        "path": "/api/points/triggers/new",
        "body": {
            "name": f"MQL: {policy.name}",
            "description": f"qualsim {policy.name}: score at least {fmt(policy_threshold)}",
            "points": threshold,
            "color": "f4b400",
            "trigger_existing_leads": True,
            "isPublished": True,
            "events": [
                {
                    "name": "tag MQL",
                    "type": "lead.changetags",
                    "order": 1,
                    "properties": {"add_tags": ["MQL"], "remove_tags": []},
                }
            ],
        },
    }
    fit = [
        {
            "field": f.field,
            "values": list(f.values),
            "not_values": list(f.not_values),
            "adjust_points_once": f.points,
        }
        for f in model.fit
    ]
    limits = (
        common_limits(policy, TARGET, RECYCLE, NOT_EXPRESSIBLE)
        + [per_contact_limit(policy, TARGET)]
        # Mautic has no window at all: the "decay" limitation says so for a half-life too
        + [x for x in model.limitations if x.part != "decay.half_life_days"]
        + extra
        + scale_limits
        + action_limits
        + _model_limits(model)
        + fit_limits(model, TARGET)
    )
    doc = {
        "target": "mautic",
        "reference": REFERENCE,
        "policy": policy.name,
        "threshold": policy_threshold,
        "points_scale": scale,
        "point_actions": actions,
        "point_triggers": [trigger],
        "fit_campaigns": fit,
        "account_criteria": account,
        "limitations": limitation_dicts(limits),
    }
    return Export.of("mautic", policy.name, doc, _readable(doc, limits), limits)


def _readable(doc: dict, limits: list[Limitation]) -> str:
    rows: list[list[object]] = [
        [a["activity"], a["body"]["type"], a["body"]["delta"], a["set_in_mautic"]]
        for a in doc["point_actions"]
    ]
    trig = doc["point_triggers"][0]["body"]
    head = (
        f"# Mautic points for {md_cell(doc['policy'])}\n\nReference: {doc['reference']}\n\n"
        + NAMING_NOTE
        + scale_note(doc["points_scale"])
    )
    fit = "".join(
        f"- contact {md_cell(f['field'])} is one of {md_cell(', '.join(f['values']))}: "
        f"{md_cell(fmt(f['adjust_points_once']))} points once\n"
        for f in doc["fit_campaigns"]
    )
    body = (
        md_table(["activity", "action type", "points", "set in Mautic"], rows)
        + (f"\n## Fit campaigns\n\n{fit}" if fit else "")
        + f"\n## Point trigger\n\nAt {trig['points']} points: add the tag MQL.\n\n"
    )
    return head + body + criteria_section(doc["account_criteria"]) + limits_section(limits)


def read_mautic(doc: dict[str, Any]) -> dict[str, Any]:
    """An ``mql`` policy (a dict for ``load_policy``) from a ``mautic.json``: the point
    actions' deltas per activity and the trigger's points; no decay (Mautic has none). Fit
    campaigns are read back as fit points by seniority / department."""
    scale = doc.get("points_scale", 1)
    points: dict[str, float] = {}
    for a in doc["point_actions"]:
        points[a["activity"]] = points.get(a["activity"], 0.0) + a["body"]["delta"] / scale
    fit: dict[str, Any] = {}
    for f in doc["fit_campaigns"]:
        if f["field"] == "title":
            fit.setdefault("titles", []).append(
                {"match": f["values"], "points": f["adjust_points_once"] / scale}
            )
        else:
            fit.setdefault(f["field"], {})[f["values"][0]] = f["adjust_points_once"] / scale
    return {
        "name": doc["policy"],
        "kind": "mql",
        "threshold": doc["point_triggers"][0]["body"]["points"] / scale,
        "points": points,
        "fit": fit,
    }
