"""What the exports claim is true (issue 17's review): the direction of a score that cannot
expire points, per-contact MQLs against qualsim's per-account handoff, HubSpot rules that need
their criteria, whole-number scaling instead of rounding, numbers left alone in readable files,
title matching in ABM exclusions, no duplicated limitation, and a default folder per policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from policies import load_policy
from policies.export import export_policy, read_marketo, read_mautic
from policies.export.common import md_cell
from policies.export.scoring import score_model, whole_points
from sim.cli import app
from tests.policies.test_export import handoffs, make_log

FRAC = {
    "name": "frac",
    "kind": "mql",
    "threshold": 10,
    "points": {"web_visit": 0.4, "demo_request": 2.5},
}
NEG = {
    "name": "neg",
    "kind": "mql",
    "threshold": 50,
    "points": {"demo_request": 40, "web_visit": 5, "email_open": -10},
    "fit": {"seniority": {"c_level": 60}},
    "decay": {"half_life_days": 30},
}
PLAIN = {  # no fit, no negative points: a score that keeps old points is at least qualsim's
    "name": "plain",
    "kind": "mql",
    "threshold": 10,
    "points": {"web_visit": 1, "demo_request": 10},
    "decay": {"window_days": 30},
}


def limits(policy, target: str) -> dict[str, str]:
    """part -> 'cannot; instead' of each limitation."""
    e = export_policy(load_policy(policy), target)
    return {x.part: f"{x.cannot}; {x.instead}" for x in e.limitations}


# -- A10: numbers are not mangled by the formula escape -------------------------------------------


def test_numbers_stay_numbers_in_readable_files() -> None:
    assert [md_cell(-10), md_cell("-2.5"), md_cell("+3")] == ["-10", "-2.5", "+3"]
    assert md_cell("=1+1") == "'=1+1" and md_cell("-1+1") == "'-1+1"  # formulas still escaped
    neg = dict(NEG, decay=None, fit={})
    md = export_policy(load_policy(neg), "mautic").files["mautic.md"]
    assert "| email_open | email.open | -10 |" in md
    md = export_policy(load_policy(neg), "hubspot").files["hubspot.md"]
    assert "| Engagement | each email_open | -10 |" in md


# -- B2: fractional points scaled to whole ones, not rounded -----------------------------------


def test_fractional_points_are_scaled_by_ten_and_read_back() -> None:
    policy = load_policy(FRAC)
    mautic = json.loads(export_policy(policy, "mautic").files["mautic.json"])
    deltas = {a["activity"]: a["body"]["delta"] for a in mautic["point_actions"]}
    assert deltas == {"web_visit": 4, "demo_request": 25}  # 0.4 x 10, 2.5 x 10
    assert mautic["points_scale"] == 10 and mautic["point_triggers"][0]["body"]["points"] == 100
    marketo = json.loads(export_policy(policy, "marketo").files["marketo.json"])
    assert [c["flow"][0]["change"] for c in marketo["scoring_campaigns"]] == ["+4", "+25"]
    assert marketo["mql_campaign"]["smart_list"]["filters"][0]["values"] == [100]
    for target in ("mautic", "marketo"):
        assert "points" not in limits(FRAC, target)  # exact: nothing rounded
    # demo requests at 1, 2, 3 (7.5), a visit at 4 (7.9), a demo request at 5 (10.4 >= 10);
    # x10: 25, 50, 75, 79, 104 >= 100: the same handoff at 5
    log = make_log(
        [(t, 1, 11, "demo_request") for t in (1, 2, 3)]
        + [(4, 1, 11, "web_visit"), (5, 1, 11, "demo_request")]
    )
    assert handoffs(policy, log) == [(1, 5.0)]
    assert handoffs(load_policy(read_mautic(mautic)), log) == [(1, 5.0)]
    assert handoffs(load_policy(read_marketo(marketo)), log) == [(1, 5.0)]
    scaled = dict(FRAC, points={"web_visit": 4, "demo_request": 25}, threshold=100)
    assert handoffs(load_policy(scaled), log) == [(1, 5.0)]


def test_points_no_power_of_ten_makes_whole_are_rounded_after_x1000() -> None:
    third = dict(FRAC, points={"web_visit": 1 / 3})
    text = limits(third, "mautic")["points"]
    assert "x1000" in text and "web_visit" in text
    d = json.loads(export_policy(load_policy(third), "mautic").files["mautic.json"])
    assert [a["body"]["delta"] for a in d["point_actions"]] == [333]


@given(
    st.lists(st.integers(-999, 999).filter(bool), min_size=1, max_size=4),
    st.sampled_from([1, 10, 100]),
)
def test_scaled_points_are_the_points_times_the_scale(tenths: list[int], div: int) -> None:
    acts = ["web_visit", "demo_request", "webinar", "email_open"]
    points = {a: k / div for a, k in zip(acts, tenths, strict=False)}
    policy = load_policy({"name": "p", "kind": "mql", "threshold": 7, "points": points})
    original = score_model(policy)
    assert original is not None
    model, scale, extra = whole_points(original, "X")
    assert extra == [] and scale <= div
    assert all(r.points == round(r.points) for r in model.rules)
    assert [r.points / scale for r in model.rules] == pytest.approx(list(points.values()))
    assert model.threshold == 7 * scale


@given(
    st.lists(
        st.tuples(
            st.integers(0, 60).map(float),
            st.integers(1, 4),
            st.sampled_from(["web_visit", "demo_request", "webinar"]),
        ),
        min_size=1,
        max_size=25,
    ),
    st.dictionaries(
        st.sampled_from(["web_visit", "demo_request", "webinar"]),
        st.integers(-20, 300).filter(bool),
        min_size=1,
    ),
    st.integers(1, 400),
)
def test_the_scaled_mautic_points_hand_off_as_qualsim(events, tenths, threshold) -> None:
    # points in tenths; the threshold half a tenth above a tenth, so no sum ties with it (qualsim
    # compares floats exactly, and 0.7 + 0.1 + 0.2 < 1.0 in floating point)
    policy = load_policy(
        {
            "name": "t",
            "kind": "mql",
            "threshold": threshold / 10 + 0.05,
            "points": {a: k / 10 for a, k in tenths.items()},
            "fit": {"seniority": {"vp": 1.5}},
        }
    )
    d = json.loads(export_policy(policy, "mautic").files["mautic.json"])
    whole = {
        "name": "w",
        "kind": "mql",
        "threshold": d["point_triggers"][0]["body"]["points"],
        "points": {a["activity"]: a["body"]["delta"] for a in d["point_actions"]},
        "fit": {"seniority": {"vp": d["fit_campaigns"][0]["adjust_points_once"]}},
    }
    log = make_log([(t, c % 3 + 1, c, a) for t, c, a in events], {2: {"seniority": "vp"}})
    assert handoffs(load_policy(whole), log) == handoffs(policy, log)


# -- A5: what a score that cannot expire points does, said truly ----------------------------


def test_marketo_reset_says_it_wipes_fit_points() -> None:
    text = limits("mql_only", "marketo")["decay.half_life_days"]
    assert "wipes the fit points" in text and "higher or lower" in text
    assert "is at least qualsim's" not in text


def test_negative_points_make_the_score_possibly_lower() -> None:
    for target in ("mautic", "marketo"):
        found = limits(NEG, target)
        text = found.get("decay", "") + found.get("decay.half_life_days", "")
        assert "negative points never expire" in text and "is at least qualsim's" not in text


def test_without_fit_or_negative_points_the_score_is_at_least_qualsims() -> None:
    assert "is at least qualsim's" in limits(PLAIN, "marketo")["decay"]
    assert "is at least qualsim's" in limits(PLAIN, "mautic")["decay"]


def test_fit_that_reaches_the_threshold_alone_is_flagged() -> None:
    for target in ("hubspot", "mautic", "marketo"):
        assert "with no touch at all" in limits(NEG, target)["fit before touches"]  # 60 >= 50
        assert "fit before touches" not in limits("mql_only", target)  # at most 20 of 100


# -- A6, A7: per contact, not per account --------------------------------------------------


def test_mautic_count_export_is_not_called_a_pre_filter() -> None:
    found = limits("mqa_count", "mautic")
    assert "no pre-filter" in found["kind: mqa_count"]
    assert "fires at or before" not in " ".join(found.values())
    assert "compare each contact's points" not in " ".join(found.values())
    assert (
        "a pre-filter that fires at or before" in limits("mqa_count", "hubspot")["kind: mqa_count"]
    )


def test_contact_scores_say_each_contact_becomes_an_mql() -> None:
    for target in ("hubspot", "mautic", "marketo"):
        assert "every contact of an account" in limits("mql_only", target)["handoff per account"]
    assert "handoff per account" not in limits("weighted_titles", "hubspot")  # a company score
    assert "handoff per account" in limits("weighted_titles", "mautic")  # contact points


# -- A9: HubSpot rules need their criteria -------------------------------------------------


@pytest.mark.parametrize("name", ["mql_only", "weighted_titles", "mqa_count"])
def test_hubspot_says_the_body_has_no_criteria(name: str) -> None:
    e = export_policy(load_policy(name), "hubspot")
    (limit,) = [x for x in e.limitations if x.part == "criteria"]
    assert "no filter" in limit.instead and limit.status == "not expressible"
    assert "set the criteria below in HubSpot before publishing" in e.files["hubspot.md"]


# -- A8, C4: ABM title matching; no doubled limitation -------------------------------------


def test_abm_title_exclusions_say_contains_not_whole_words() -> None:
    assert "Internal Audit" in limits("mqa_depth", "abm")["exclude_titles"]
    assert "exclude_titles" not in limits("mqa_count", "abm")  # no title exclusions


@pytest.mark.parametrize("target", ["hubspot", "mautic", "marketo", "abm"])
@pytest.mark.parametrize("name", ["mql_only", "weighted_titles", "mqa_depth"])
def test_no_part_is_listed_twice(name: str, target: str) -> None:
    parts = [x.part for x in export_policy(load_policy(name), target).limitations]
    assert len(parts) == len(set(parts)), parts


def test_marketo_half_life_is_one_entry_and_mautic_names_it() -> None:
    found = limits("mql_only", "marketo")
    assert "decay" not in found and "half-life of 30 days" in found["decay.half_life_days"]
    text = limits("mql_only", "mautic")["decay"]
    assert "half-life of 30 days" in text and "or decays them" not in text


# -- A4: the default folder names the policy -----------------------------------------------


def test_default_folder_names_the_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("mql_only", "mql_scored"):
        r = CliRunner().invoke(app, ["export", name, "--to", "hubspot"])
        assert r.exit_code == 0, r.output
    for name in ("mql_only", "mql_scored"):
        d = json.loads((tmp_path / f"export-{name}-hubspot" / "hubspot.json").read_text())
        assert d["policy"] == name  # the second export replaced nothing of the first
