"""Each export file against the shape its target publishes: JSON Schemas written here from the
cited documentation (never from qualsim's own output), the readable files' safety, and the
``qualsim export`` command.

- HubSpot: the request body of ``POST /marketing/lead-scoring/2026-09-beta/scores``
  (https://developers.hubspot.com/docs/api-reference/2026-09-beta/marketing/lead-scoring/create-lead-score):
  only the documented keys, ``calculation.type`` ``CONSTANT`` with a number ``value``.
- Mautic: ``POST /api/points/new`` and ``POST /api/points/triggers/new``
  (https://developer.mautic.org/#point-actions, #point-triggers): ``delta`` and ``points`` are
  ints, ``type`` one of the published action types, ``color`` hex without ``#``.
- Marketo: "Change Score" takes ``+N``, ``-N``, ``=N`` or ``=-N`` (Adobe Experience League,
  flow action Change Score); scores are whole numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from policies import load_policy
from policies.export import export_policy
from sim.cli import app

SHIPPED = [
    "mql_only",
    "mql_scored",
    "mqa_count",
    "mqa_depth",
    "weighted_titles",
    "progression_stages",
]

NUMBER = {"type": "number"}
HUBSPOT_BODY = {
    "type": "object",
    "required": ["name", "objectTypeId", "groupConfigs"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "objectTypeId": {"type": "string", "pattern": "^[0-9]+-[0-9]+$"},
        "maxScore": NUMBER,
        "allowedGroupTypes": {"type": "array"},
        "groupConfigs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["groupName", "ruleConfigurations"],
                "additionalProperties": False,
                "properties": {
                    "groupCategory": {"type": "string"},
                    "groupName": {"type": "string"},
                    "maxValue": NUMBER,
                    "minValue": NUMBER,
                    "ruleConfigurations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["configuration"],
                            "additionalProperties": False,
                            "properties": {
                                "enabled": {"type": "boolean"},
                                "maximumValue": NUMBER,
                                "minimumValue": NUMBER,
                                "configuration": {
                                    "type": "object",
                                    "required": ["calculation"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "id": {"type": "string"},
                                        "calculation": {
                                            "type": "object",
                                            "required": ["type", "value"],
                                            "additionalProperties": False,
                                            "properties": {
                                                "type": {"const": "CONSTANT"},
                                                "value": NUMBER,
                                                "id": {"type": "string"},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}
MAUTIC_ACTION = {
    "type": "object",
    "required": ["name", "type", "delta"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": ["string", "null"]},
        "category": {"type": ["string", "null"]},
        "type": {
            "enum": [
                "asset.download",
                "email.send",
                "email.open",
                "form.submit",
                "page.hit",
                "url.hit",
            ]
        },
        "isPublished": {"type": "boolean"},
        "delta": {"type": "integer"},
        "properties": {"type": "object"},
    },
}
MAUTIC_TRIGGER = {
    "type": "object",
    "required": ["name", "points", "events"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": ["string", "null"]},
        "category": {"type": ["string", "null"]},
        "isPublished": {"type": "boolean"},
        "points": {"type": "integer"},
        "color": {"type": "string", "pattern": "^[0-9a-fA-F]{6}$"},
        "trigger_existing_leads": {"type": "boolean"},
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "name"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": ["string", "null"]},
                    "type": {"type": "string"},
                    "order": {"type": "integer"},
                    "properties": {"type": "object"},
                },
            },
        },
    },
}
CHANGE_SCORE = {"type": "string", "pattern": r"^([+-][0-9]+|=-?[0-9]+)$"}


def files(name: str, target: str) -> dict:
    return json.loads(export_policy(load_policy(name), target).files[f"{target}.json"])


@pytest.mark.parametrize("name", SHIPPED)
def test_hubspot_body_has_the_published_shape(name: str) -> None:
    d = files(name, "hubspot")
    assert d["request"]["method"] == "POST"
    assert d["request"]["path"] == "/marketing/lead-scoring/2026-09-beta/scores"
    jsonschema.validate(d["request"]["body"], HUBSPOT_BODY)
    assert d["reference"].startswith("https://developers.hubspot.com/")
    expected = "0-1" if name.startswith("mql") else "0-2"  # contacts / companies
    assert d["request"]["body"]["objectTypeId"] == expected


@pytest.mark.parametrize("name", SHIPPED)
def test_mautic_actions_and_trigger_have_the_published_shape(name: str) -> None:
    d = files(name, "mautic")
    for a in d["point_actions"]:
        assert (a["method"], a["path"]) == ("POST", "/api/points/new")
        jsonschema.validate(a["body"], MAUTIC_ACTION)
    (t,) = d["point_triggers"]
    assert (t["method"], t["path"]) == ("POST", "/api/points/triggers/new")
    jsonschema.validate(t["body"], MAUTIC_TRIGGER)


@pytest.mark.parametrize("name", SHIPPED)
def test_marketo_score_changes_are_what_change_score_takes(name: str) -> None:
    d = files(name, "marketo")
    campaigns = [*d["scoring_campaigns"], *d["fit_campaigns"], *d["decay_campaigns"]]
    for c in campaigns:
        for step in c["flow"]:
            assert step["action"] == "Change Score"
            jsonschema.validate(step["change"], CHANGE_SCORE)
    mql = d["mql_campaign"]
    assert mql["smart_list"]["trigger"] == "Score is Changed"
    assert mql["flow"][0]["action"] == "Change Status in Progression"


def test_marketo_scales_fractional_points_to_whole_ones() -> None:
    e = export_policy(load_policy("weighted_titles"), "marketo")  # analyst webinar: 3 x 0.5
    d = json.loads(e.files["marketo.json"])
    changes = [c["flow"][0]["change"] for c in d["scoring_campaigns"]]
    assert d["points_scale"] == 10  # 1.5 -> +15, 0.5 -> +5: nothing rounded
    assert "+15" in changes and "+5" in changes and "+0" not in changes
    assert not any(x.part == "points" for x in e.limitations)


# -- safe readable files -----------------------------------------------------------------------

EVIL = {
    "name": '=HYPERLINK("http://x")',
    "kind": "mql",
    "description": "<script>alert(1)</script> | broken | table",
    "threshold": 10,
    "points": {"web_visit": 1},
    "fit": {"titles": [{"match": ["<img src=x onerror=alert(1)>", "@SUM(A1)"], "points": 5}]},
}


@pytest.mark.parametrize("target", ["hubspot", "mautic", "marketo", "abm"])
def test_readable_files_run_nothing_from_the_policy(target: str) -> None:
    e = export_policy(load_policy(EVIL), target)
    md = e.files[f"{target}.md"]
    assert "<script" not in md and "<img" not in md
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            assert not any(c[:1] in ("=", "+", "@") for c in cells), line
            if "broken" in line:
                assert "\\| broken \\|" in line  # the description's pipes do not split cells
    assert json.loads(e.files[f"{target}.json"])["policy"] == EVIL["name"]  # JSON keeps it


# -- the command --------------------------------------------------------------------------------


def test_export_command_writes_the_files_and_prints_the_limitations(tmp_path: Path) -> None:
    out = tmp_path / "hs"
    r = CliRunner().invoke(app, ["export", "mql_only", "--to", "hubspot", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".qualsim-output",
        "hubspot.json",
        "hubspot.md",
    ]
    assert "decay.half_life_days (approximated)" in r.output
    r = CliRunner().invoke(app, ["export", "mqa_count", "--to", "abm", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [".qualsim-output", "abm.json", "abm.md"]


def test_export_command_refuses_bad_input_with_exit_2(tmp_path: Path) -> None:
    run = CliRunner().invoke
    r = run(app, ["export", "mql_only", "--to", "pardot", "-o", str(tmp_path / "a")])
    assert r.exit_code == 2 and "expected one of hubspot, mautic, marketo, abm" in r.output
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "keep.txt").write_text("mine")
    r = run(app, ["export", "mql_only", "--to", "abm", "-o", str(theirs)])
    assert r.exit_code == 2 and (theirs / "keep.txt").read_text() == "mine"
    outside = tmp_path / "secret.yaml"
    outside.write_text("name: s\nkind: mql\nthreshold: 1\npoints: {web_visit: 1}\n")
    inner = tmp_path / "rules" / "both.yaml"
    inner.parent.mkdir()
    inner.write_text("name: both\nkind: any\npolicies: [../secret.yaml]\n")
    r = run(app, ["export", str(inner), "--to", "abm", "-o", str(tmp_path / "b")])
    assert r.exit_code == 2 and "policies[0]" in r.output
    assert not (tmp_path / "b").exists()
