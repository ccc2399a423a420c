"""'Did you mean': short names for shipped policies, and nested paths in sweep files."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import policies
from policies.loading import shipped_policies
from sim.config import did_you_mean
from sim.errors import ConfigError, QualsimError
from sim.experiment.sweep.paths import field_paths, suggest_path
from sim.experiment.sweep.spec import load_sweep

NAMES = sorted(shipped_policies())


def test_a_short_name_suggests_the_shipped_policies_it_starts():
    with pytest.raises(ConfigError) as info:
        policies.load_policy("mqa")
    assert str(info.value) == (
        "mqa: no shipped policy or file of that name (did you mean 'mqa_count' or 'mqa_depth'?)"
    )


def test_a_part_of_a_name_suggests_it():
    assert did_you_mean("stages", NAMES) == " (did you mean 'progression_stages'?)"


def test_a_close_spelling_still_wins_over_a_part():
    # "mql_onyl" is one swap from mql_only: only that one is offered, not every mql_*.
    assert did_you_mean("mql_onyl", NAMES) == " (did you mean 'mql_only'?)"


def test_two_letters_suggest_nothing():
    assert did_you_mean("mq", NAMES) == ""


@given(st.sampled_from(NAMES), st.integers(3, 30))
def test_every_start_of_a_shipped_name_suggests_every_name_it_starts(name, n):
    start = name[:n]
    if start in NAMES or difflib.get_close_matches(start, NAMES, n=1, cutoff=0.6):
        return  # a name, or spelled nearly as one (that one is offered)
    hint = did_you_mean(start, NAMES)
    for other in [m for m in NAMES if m.startswith(start)][:4]:
        assert f"'{other}'" in hint


def _sweep(tmp_path: Path, grid: str) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(f"name: t\nscenario: smb\npolicies:\n  - policy: {grid}\n")
    with pytest.raises(QualsimError) as info:
        load_sweep(path)
    return str(info.value)


def test_a_misspelt_grid_path_names_its_line_and_the_field_meant(tmp_path):
    msg = _sweep(tmp_path, "mql_only\n    grid:\n      threshhold: 40..60 by 10")
    assert msg == (
        f"{tmp_path / 's.yaml'}:6: policies[0].grid.threshhold: mql_only (mql) has no field "
        "'threshhold' (did you mean 'threshold'?)"
    )
    assert "<dict>" not in msg


def test_a_grid_path_under_the_wrong_section_suggests_the_nested_paths(tmp_path):
    msg = _sweep(tmp_path, "mqa_count\n    grid: {rules.unique_contacts: 2..4}")
    assert "has no field 'rules.unique_contacts'" in msg
    assert "(did you mean 'any.0.unique_contacts' or 'any.1.unique_contacts'?)" in msg


def test_a_grid_path_far_from_any_lists_what_a_grid_can_vary(tmp_path):
    msg = _sweep(tmp_path, "mqa_count\n    grid: {rules.min_people: 2..4}")
    assert "has no field 'rules.min_people'; a grid can vary window_days, " in msg
    assert "any.0.unique_contacts" in msg and "tiers.1.any.0.unique_contacts" in msg


def test_a_bad_grid_value_names_the_value_and_no_placeholder(tmp_path):
    msg = _sweep(tmp_path, "mqa_count\n    grid: {window_days: [30, -1]}")
    assert msg.endswith(
        "s.yaml:5: policies[0].grid.window_days: value -1: window_days: must be > 0.0, got -1"
    )


def test_a_misspelt_uncertain_path_suggests_its_full_path(tmp_path):
    path = tmp_path / "u.yaml"
    path.write_text(
        "scenario: smb\nuncertain:\n  touches.identifcation_rate: 0.2..0.5\n"
        "policies:\n  - policy: mqa_count\n"
    )
    with pytest.raises(QualsimError) as info:
        load_sweep(path)
    assert str(info.value) == (
        f"{path}:3: uncertain.touches.identifcation_rate: the scenario has no field "
        "'touches.identifcation_rate' (did you mean 'touches.identification_rate'?)"
    )


def test_field_paths_walk_lists_and_mappings_by_key():
    tree = {"a": {"b": [1, {"c": None}]}, "tiers": {1: {"x": 2}}}
    assert field_paths(tree) == ["a.b.0", "a.b.1.c", "tiers.1.x"]
    assert suggest_path("zzz", field_paths(tree)) == ""
    assert suggest_path("tier.1.x", field_paths(tree)) == " (did you mean 'tiers.1.x'?)"


def test_a_misspelt_override_names_its_line_in_the_sweep_file(tmp_path):
    path = tmp_path / "o.yaml"
    path.write_text(
        "scenario: smb\noverrides:\n  accounts: {cont: 10}\npolicies:\n  - policy: mqa_count\n"
    )
    with pytest.raises(QualsimError) as info:
        load_sweep(path)
    assert str(info.value) == (
        f"{path}: the scenario with the sweep's overrides is invalid:\n"
        f"  {path}:3: overrides.accounts.cont: unknown key 'cont' (did you mean 'count'?)"
    )
