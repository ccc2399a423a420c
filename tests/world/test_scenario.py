"""Tests for loading scenarios (``sim.load_scenario``): presets, ``extends`` chains, merges and
the errors a user sees for a bad scenario file.

Every bad-scenario test writes a small user file that ``extends: enterprise`` and breaks one
thing; the line numbers in the expectations are counted in that hand-written YAML (line 1 is
always the ``extends:`` line). An error must name the file, the line, the dotted field path and
what was expected, as ``file:line: field.path: message``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import sim
from sim import ConfigError, Scenario, load_scenario
from sim.world.presets import preset_path

# --- helpers ---------------------------------------------------------------------------------


def write(directory: Path, name: str, text: str) -> Path:
    """Write dedented YAML ``text`` to ``directory/name`` and return the path."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(source: Any, **kwargs: Any) -> str:
    """The message of the ConfigError that loading ``source`` raises."""
    with pytest.raises(ConfigError) as info:
        load_scenario(source, **kwargs)
    return str(info.value)


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Leaves of nested dicts as ``("a.b.c", value)``; lists and scalars are leaves."""
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            yield from flatten(sub, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def changed_paths(base: Scenario, child: Scenario) -> set[str]:
    """Dotted paths whose values differ between two scenarios."""
    a = dict(flatten(base.model_dump()))
    b = dict(flatten(child.model_dump()))
    return {k for k in a.keys() | b.keys() if a.get(k, object()) != b.get(k, object())}


@pytest.fixture(scope="module")
def enterprise() -> Scenario:
    return load_scenario("enterprise")


# --- bad scenarios: file, line, field path and expectation ------------------------------------


@dataclass(frozen=True)
class Bad:
    """A user scenario file with one problem, and the error it must give."""

    id: str
    text: str
    line: int
    path: str
    expect: tuple[str, ...]


BAD = [
    Bad(
        "wrong-type",
        """\
        extends: enterprise
        accounts: {count: many}
        """,
        2,
        "accounts.count",
        ("expected a whole number", "'many'"),
    ),
    Bad(
        "wrong-type-block",
        """\
        extends: enterprise
        horizon_days: 365
        accounts:
          count: many
        """,
        4,
        "accounts.count",
        ("expected a whole number", "'many'"),
    ),
    Bad(
        "wrong-type-section",
        """\
        extends: enterprise
        accounts: 5
        """,
        2,
        "accounts",
        ("expected a mapping",),
    ),
    Bad(
        "wrong-type-list",
        """\
        extends: enterprise
        campaigns: {name: x}
        """,
        2,
        "campaigns",
        ("expected a list",),
    ),
    Bad(
        "unknown-key-top",
        """\
        extends: enterprise
        horizon_day: 400
        """,
        2,
        "horizon_day",
        ("unknown key 'horizon_day'", "did you mean 'horizon_days'"),
    ),
    Bad(
        "unknown-key-nested",
        """\
        extends: enterprise
        journey:
          stages:
            engaged:
              median_dayz: 20
        """,
        5,
        "journey.stages.engaged.median_dayz",
        ("unknown key 'median_dayz'", "did you mean 'median_days'"),
    ),
    Bad(
        "unknown-activity-in-rates",
        """\
        extends: enterprise
        touches:
          contact_rates_per_week:
            engaged:
              webvisit: 1.0
        """,
        5,
        "touches.contact_rates_per_week.engaged.webvisit",
        ("unknown key 'webvisit'", "did you mean 'web_visit'"),
    ),
    Bad(
        "unknown-role",
        """\
        extends: enterprise
        committee:
          roles:
            champoin:
              activity: 1.0
        """,
        4,
        "committee.roles.champoin",
        ("unknown key 'champoin'", "did you mean 'champion'"),
    ),
    Bad(
        "negative-rate",
        """\
        extends: enterprise
        touches:
          account_rates_per_week:
            aware: {impression: -1.0}
        """,
        4,
        "touches.account_rates_per_week.aware.impression",
        ("must be >= 0", "-1.0"),
    ),
    Bad(
        "negative-persona-rate",
        """\
        extends: enterprise
        noise:
          personas:
            student:
              rates_per_week:
                web_visit: -0.5
        """,
        6,
        "noise.personas.student.rates_per_week.web_visit",
        ("must be >= 0",),
    ),
    Bad(
        "negative-count",
        """\
        extends: enterprise
        accounts:
          count: -5
        """,
        3,
        "accounts.count",
        ("must be > 0", "-5"),
    ),
    Bad(
        "zero-count",
        """\
        extends: enterprise
        accounts:
          count: 0
        """,
        3,
        "accounts.count",
        ("must be > 0", "got 0"),
    ),
    Bad(
        "probability-above-one",
        """\
        extends: enterprise
        in_market:
          at_fit_1: 1.5
        """,
        3,
        "in_market.at_fit_1",
        ("must be <= 1",),
    ),
    Bad(
        "industries-sum",
        """\
        extends: enterprise
        accounts:
          industries:
            software: 0.5
            retail: 0.3
        """,
        3,
        "accounts.industries",
        ("industry shares must sum to 1", "0.8"),
    ),
    Bad(
        "tier-shares-sum",
        """\
        extends: enterprise
        accounts:
          tiers:
            1:
              share: 0.5
        """,
        3,
        "accounts.tiers",
        ("tier shares must sum to 1", "1.4"),
    ),
    Bad(
        "join-stage-sum",
        """\
        extends: enterprise
        committee:
          roles:
            champion:
              join_stage: {aware: 0.5, engaged: 0.2}
        """,
        5,
        "committee.roles.champion.join_stage",
        ("join_stage weights must sum to 1", "0.7"),
    ),
    Bad(
        "campaign-end-before-start",
        """\
        extends: enterprise
        campaigns:
          - name: spring
            channel: email
            start_day: 100
            end_day: 50
            lift: 2
            activities: [webinar]
        """,
        3,
        "campaigns[0]",
        ("start_day < end_day",),
    ),
    Bad(
        "start-window-reversed",
        """\
        extends: enterprise
        journey:
          start_window_days: [10, 5]
        """,
        3,
        "journey.start_window_days",
        ("lo < hi",),
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_bad_scenario_names_file_line_path_and_expectation(tmp_path: Path, case: Bad) -> None:
    path = write(tmp_path, f"{case.id}.yaml", case.text)
    msg = error_of(path)
    assert f"{path}:{case.line}: {case.path}: " in msg, msg
    for fragment in case.expect:
        assert fragment in msg, msg
    assert "enterprise.yaml" not in msg, "the error must point at the user's file, not the preset"
    assert "Traceback" not in msg


def test_bad_scenario_file_name_also_given_as_str(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "extends: enterprise\naccounts: {count: 0}\n")
    assert f"{path}:2: accounts.count: must be > 0" in error_of(str(path))


def test_invalid_scenario_heading_counts_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "extends: enterprise\naccounts: {count: 0}\n")
    assert error_of(path).startswith(f"invalid scenario {path} (1 problem):")


def test_multi_error_file_lists_every_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "multi.yaml",
        """\
        extends: enterprise
        horizon_day: 400
        accounts:
          count: -1
        in_market:
          at_fit_0: 2
        journey:
          stages:
            aware: {median_dayz: 3}
        """,
    )
    msg = error_of(path)
    assert msg.startswith(f"invalid scenario {path} (4 problems):")
    assert f"{path}:2: horizon_day: unknown key 'horizon_day' (did you mean 'horizon_days'?)" in msg
    assert f"{path}:4: accounts.count: must be > 0, got -1" in msg
    assert f"{path}:6: in_market.at_fit_0: must be <= 1" in msg
    assert f"{path}:9: journey.stages.aware.median_dayz: unknown key 'median_dayz'" in msg
    assert "did you mean 'median_days'" in msg
    # one line per problem, under the heading
    assert len(msg.splitlines()) == 5


# --- cross-field checks ------------------------------------------------------------------------

CAMPAIGN_BAD_TIER = """\
    extends: enterprise
    campaigns:
      - name: spring
        channel: email
        start_day: 10
        end_day: 50
        lift: 2
        tiers: [4]
        activities: [webinar]
    """

START_WINDOW_BEYOND_HORIZON = """\
    extends: enterprise
    horizon_days: 700
    journey:
      start_window_days: [0, 800]
    """


def test_campaign_targeting_unknown_tier_is_explained(tmp_path: Path) -> None:
    path = write(tmp_path, "camp.yaml", CAMPAIGN_BAD_TIER)
    msg = error_of(path)
    assert str(path) in msg
    assert "campaign 'spring' targets tiers [4]" in msg
    assert "accounts.tiers does not define" in msg


def test_campaign_targeting_unknown_tier_points_at_tiers_line(tmp_path: Path) -> None:
    path = write(tmp_path, "camp.yaml", CAMPAIGN_BAD_TIER)
    assert f"{path}:8: campaigns[0].tiers: " in error_of(path)


def test_start_window_beyond_horizon_is_explained(tmp_path: Path) -> None:
    path = write(tmp_path, "window.yaml", START_WINDOW_BEYOND_HORIZON)
    msg = error_of(path)
    assert str(path) in msg
    assert "journey.start_window_days ends at 800, after horizon_days (700)" in msg


def test_start_window_beyond_horizon_points_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "window.yaml", START_WINDOW_BEYOND_HORIZON)
    assert f"{path}:4: journey.start_window_days: " in error_of(path)


def test_horizon_shortened_below_inherited_start_window(tmp_path: Path) -> None:
    path = write(tmp_path, "short.yaml", "extends: enterprise\nhorizon_days: 300\n")
    msg = error_of(path)
    assert str(path) in msg
    assert "after horizon_days (300)" in msg


# --- file-level errors -------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "no_such_scenario.yaml"
    assert error_of(path) == f"{path}: file not found"


def test_missing_file_given_as_str_without_yaml_suffix(tmp_path: Path) -> None:
    msg = error_of(str(tmp_path / "nope"))
    assert "nope" in msg
    assert "not a preset scenario (enterprise, smb) nor a YAML file" in msg


def test_directory_instead_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    assert error_of(folder) == (
        f"{folder}: cannot read a config file from a directory; "
        "a config file must be a regular file"
    )


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "syntax.yaml",
        """\
        extends: enterprise
        accounts:
          count: 10
        name: a: b
        """,
    )
    msg = error_of(path)
    assert msg.startswith(f"{path}:4:8: YAML syntax error: ")
    assert "mapping values are not allowed here" in msg
    assert "\n" not in msg


def test_yaml_syntax_error_unclosed_flow_sequence(tmp_path: Path) -> None:
    path = write(
        tmp_path, "flow.yaml", "extends: enterprise\njourney:\n  start_window_days: [0, 5\n"
    )
    msg = error_of(path)
    assert msg.startswith(f"{path}:")
    assert "YAML syntax error" in msg
    assert "line 3" in msg  # where the unclosed '[' is


def test_tab_indentation_is_a_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "tab.yaml", "extends: enterprise\naccounts:\n\tcount: 3\n")
    msg = error_of(path)
    assert msg.startswith(f"{path}:3:1: YAML syntax error: ")
    assert "'\\t'" in msg


def test_duplicate_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dup.yaml",
        """\
        extends: enterprise
        accounts:
          count: 10
          count: 20
        """,
    )
    assert error_of(path) == f"{path}:4: duplicate key 'count' (first at line 3)"


def test_unsafe_tag_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "tag.yaml", "extends: enterprise\nname: !!python/name:os.system\n")
    msg = error_of(path)
    assert msg.startswith(f"{path}:2:")
    assert "python/name:os.system" in msg


def test_top_level_list(tmp_path: Path) -> None:
    path = write(tmp_path, "list.yaml", "- extends: enterprise\n- accounts: {count: 10}\n")
    msg = error_of(path)
    assert msg == f"{path}:1: expected a mapping of fields at the top level, got list"


def test_top_level_scalar(tmp_path: Path) -> None:
    path = write(tmp_path, "scalar.yaml", "enterprise\n")
    assert "expected a mapping of fields at the top level, got str" in error_of(path)


REQUIRED = ("horizon_days", "accounts", "in_market", "journey", "committee", "noise", "touches")


@pytest.mark.parametrize(
    "text", ["", "# only a comment\n", "---\n"], ids=["empty", "comment", "doc"]
)
def test_empty_file_lists_missing_fields(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "empty.yaml", text)
    msg = error_of(path)
    assert msg.startswith(f"invalid scenario {path} ({len(REQUIRED)} problems):")
    for field in REQUIRED:
        assert f"{path}: {field}: required field is missing" in msg


def test_extends_only_is_complete(tmp_path: Path, enterprise: Scenario) -> None:
    path = write(tmp_path, "same.yaml", "extends: enterprise\n")
    sc = load_scenario(path)
    assert changed_paths(enterprise, sc) == {"extends"}


# --- extends errors ----------------------------------------------------------------------------


def test_extends_unknown_preset_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.yaml", "extends: enterprize\naccounts: {count: 10}\n")
    msg = error_of(path)
    assert "enterprize" in msg
    assert "not a preset scenario (enterprise, smb)" in msg
    assert "did you mean 'enterprise'" in msg


def test_extends_unknown_preset_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.yaml", "extends: enterprize\naccounts: {count: 10}\n")
    assert f"{path}:1: extends: " in error_of(path)


def test_extends_missing_file_names_the_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, "child.yaml", "extends: base.yaml\n")
    assert f"{tmp_path / 'base.yaml'}: file not found" in error_of(path)


def test_extends_missing_file_names_the_extending_file(tmp_path: Path) -> None:
    path = write(tmp_path, "child.yaml", "extends: base.yaml\n")
    assert f"{path}:1: extends: " in error_of(path)


def test_extends_not_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, "ext.yaml", "extends: 5\n")
    assert error_of(path) == f"{path}:1: extends: expected a preset name or a file path"


def test_extends_cycle_between_two_files(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: b.yaml\nhorizon_days: 300\n")
    b = write(tmp_path, "b.yaml", "extends: a.yaml\nhorizon_days: 400\n")
    msg = error_of(a)
    assert "'extends' makes a cycle" in msg
    assert f"{a} -> {b} -> {a}" in msg
    assert "\n" not in msg


def test_extends_self_cycle(tmp_path: Path) -> None:
    a = write(tmp_path, "self.yaml", "extends: self.yaml\n")
    assert "'extends' makes a cycle" in error_of(a)


def test_extends_cycle_names_line_and_field(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: b.yaml\n")
    b = write(tmp_path, "b.yaml", "extends: a.yaml\n")
    assert f"{b}:1: extends: " in error_of(a)


def test_error_in_parent_file_points_at_parent(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", "extends: enterprise\naccounts:\n  count: -3\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nhorizon_days: 700\n")
    msg = error_of(child)
    assert f"{tmp_path / 'base.yaml'}:3: accounts.count: must be > 0" in msg


def test_child_fixes_parent_error(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", "extends: enterprise\naccounts:\n  count: -3\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\naccounts: {count: 12}\n")
    assert load_scenario(child).accounts.count == 12


# --- problems found in review, now fixed ---


@pytest.mark.parametrize("key", ["one", "12"])
def test_bad_tier_key_says_what_is_expected(tmp_path: Path, key: str) -> None:
    path = write(
        tmp_path,
        "tierkey.yaml",
        f"""\
        extends: enterprise
        accounts:
          tiers:
            {key}: {{share: 0.1}}
        """,
    )
    msg = error_of(path)
    assert f"{path}:4: accounts.tiers.{key}: " in msg
    assert all(not line.rstrip().endswith("expected one of") for line in msg.splitlines()), msg


def test_short_start_window_points_at_user_file(tmp_path: Path) -> None:
    path = write(tmp_path, "w.yaml", "extends: enterprise\njourney:\n  start_window_days: [10]\n")
    msg = error_of(path)
    assert f"{path}:3: journey.start_window_days" in msg
    assert "enterprise.yaml" not in msg


def test_boolean_count_is_a_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, "b.yaml", "extends: enterprise\naccounts: {count: yes}\n")
    msg = error_of(path)
    assert f"{path}:2: accounts.count: expected a whole number" in msg


def _problem_lines(msg: str) -> list[str]:
    return [line.strip() for line in msg.splitlines()[1:]]


def test_bad_override_is_not_blamed_on_the_preset() -> None:
    msg = error_of("enterprise", overrides={"accounts": {"count": -1}})
    assert _problem_lines(msg) == ["<overrides>: accounts.count: must be > 0, got -1"]


def test_bad_dict_value_is_not_blamed_on_the_preset() -> None:
    msg = error_of({"extends": "enterprise", "accounts": {"count": -1}})
    assert _problem_lines(msg) == ["<dict>: accounts.count: must be > 0, got -1"]


def test_bad_override_message_has_path_and_expectation() -> None:
    msg = error_of("enterprise", overrides={"accounts": {"count": -1}})
    assert "accounts.count: must be > 0, got -1" in msg


def test_bad_dict_source_lists_missing_fields() -> None:
    msg = error_of({"horizon_days": 30})
    for field in REQUIRED[1:]:
        assert f"{field}: required field is missing" in msg


def test_dict_source_extends_unknown_preset() -> None:
    assert "did you mean 'enterprise'" in error_of({"extends": "enterprize"})


def test_unknown_preset_name() -> None:
    msg = error_of("enterprize")
    assert "did you mean 'enterprise'" in msg


# --- presets -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sim.PRESETS)
def test_presets_load(name: str) -> None:
    sc = load_scenario(name)
    assert isinstance(sc, Scenario)
    assert sc.name == name
    assert sc.accounts.count > 0
    assert preset_path(name).is_file()


def test_default_is_enterprise(enterprise: Scenario) -> None:
    assert sim.DEFAULT_SCENARIO == "enterprise"
    assert load_scenario() == enterprise


def test_smb_extends_enterprise(enterprise: Scenario) -> None:
    smb = load_scenario("smb")
    assert smb.extends == "enterprise"
    # smb does not restate the channel mixes nor the CRM: they come from enterprise
    assert smb.touches.channels == enterprise.touches.channels
    assert smb.crm == enterprise.crm
    # ...but states its own, quieter noise personas
    assert smb.noise != enterprise.noise
    # ...but replaces industries as a whole
    assert "professional_services" in smb.accounts.industries
    assert "public_sector" not in smb.accounts.industries
    # ...and merges roles key by key: the roles smb does not mention are enterprise's
    assert smb.committee.roles["blocker"] == enterprise.committee.roles["blocker"]
    assert smb.committee.roles["champion"] != enterprise.committee.roles["champion"]


def test_preset_file_path_loads_like_the_name(enterprise: Scenario) -> None:
    assert load_scenario(preset_path("enterprise")) == enterprise
    assert load_scenario(str(preset_path("enterprise"))) == enterprise


def test_loading_does_not_share_state(enterprise: Scenario) -> None:
    load_scenario("enterprise", overrides={"accounts": {"industries": {"software": 1.0}}})
    assert load_scenario("enterprise") == enterprise


# --- extends and overrides ------------------------------------------------------------------------


def test_extends_override_changes_only_overridden_values(
    tmp_path: Path, enterprise: Scenario
) -> None:
    path = write(
        tmp_path,
        "mine.yaml",
        """\
        extends: enterprise
        horizon_days: 700
        accounts:
          count: 10
        journey:
          stages:
            engaged: {median_days: 20}
        in_market:
          at_fit_1: 0.5
        """,
    )
    sc = load_scenario(path)
    assert changed_paths(enterprise, sc) == {
        "extends",
        "horizon_days",
        "accounts.count",
        "journey.stages.engaged.median_days",
        "in_market.at_fit_1",
    }
    assert sc.journey.stages.engaged.median_days == 20
    assert sc.journey.stages.engaged.sigma == enterprise.journey.stages.engaged.sigma
    assert sc.name == "enterprise"  # inherited unless the child renames it


def test_overriding_industries_replaces_the_whole_mapping(
    tmp_path: Path, enterprise: Scenario
) -> None:
    path = write(
        tmp_path,
        "ind.yaml",
        """\
        extends: enterprise
        accounts:
          industries: {software: 0.6, retail: 0.4}
        """,
    )
    sc = load_scenario(path)
    assert sc.accounts.industries == {"software": 0.6, "retail": 0.4}
    assert changed_paths(enterprise, sc) - {"extends"} == {
        f"accounts.industries.{k}" for k in enterprise.accounts.industries
    }


def test_overriding_count_keeps_other_account_fields(tmp_path: Path, enterprise: Scenario) -> None:
    path = write(tmp_path, "count.yaml", "extends: enterprise\naccounts: {count: 10}\n")
    sc = load_scenario(path)
    assert sc.accounts.count == 10
    assert sc.accounts.model_dump(exclude={"count"}) == enterprise.accounts.model_dump(
        exclude={"count"}
    )


def test_overriding_one_tier_keeps_the_others(tmp_path: Path, enterprise: Scenario) -> None:
    path = write(
        tmp_path,
        "tier.yaml",
        """\
        extends: enterprise
        accounts:
          tiers: {1: {committee_size: {mean: 12, min: 6, max: 16}}}
        """,
    )
    sc = load_scenario(path)
    t1, base1 = sc.accounts.tiers[1], enterprise.accounts.tiers[1]
    assert (t1.committee_size.mean, t1.committee_size.min, t1.committee_size.max) == (12, 6, 16)
    assert t1.model_dump(exclude={"committee_size"}) == base1.model_dump(exclude={"committee_size"})
    assert sc.accounts.tiers[2] == enterprise.accounts.tiers[2]
    assert sc.accounts.tiers[3] == enterprise.accounts.tiers[3]
    assert changed_paths(enterprise, sc) == {"extends", "accounts.tiers.1.committee_size.mean"}


def test_restating_an_inherited_value_changes_nothing(tmp_path: Path, enterprise: Scenario) -> None:
    path = write(tmp_path, "t.yaml", "extends: enterprise\naccounts:\n  tiers: {2: {share: 0.3}}\n")
    assert load_scenario(path).accounts.tiers == enterprise.accounts.tiers


def test_overriding_a_rates_table_replaces_it(tmp_path: Path, enterprise: Scenario) -> None:
    path = write(
        tmp_path,
        "rates.yaml",
        """\
        extends: enterprise
        touches:
          contact_rates_per_week:
            engaged: {web_visit: 2.0}
        """,
    )
    sc = load_scenario(path)
    assert sc.touches.contact_rates_per_week.engaged == {"web_visit": 2.0}
    assert (
        sc.touches.contact_rates_per_week.aware == enterprise.touches.contact_rates_per_week.aware
    )


def test_lists_replace(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "camp.yaml",
        """\
        extends: enterprise
        campaigns:
          - name: only-one
            channel: email
            start_day: 1
            end_day: 9
            lift: 2
            activities: [email_open]
        """,
    )
    sc = load_scenario(path)
    assert [c.name for c in sc.campaigns] == ["only-one"]


def test_overrides_argument(enterprise: Scenario) -> None:
    sc = load_scenario("enterprise", overrides={"accounts": {"count": 50}, "horizon_days": 700})
    assert sc.accounts.count == 50
    assert changed_paths(enterprise, sc) == {"accounts.count", "horizon_days"}


def test_overrides_replace_plain_mappings_whole() -> None:
    sc = load_scenario("enterprise", overrides={"accounts": {"industries": {"energy": 1.0}}})
    assert sc.accounts.industries == {"energy": 1.0}


def test_overrides_on_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "extends: smb\naccounts: {count: 40}\nhorizon_days: 340\n")
    sc = load_scenario(path, overrides={"accounts": {"count": 7}})
    assert (sc.accounts.count, sc.horizon_days, sc.name) == (7, 340, "smb")


def test_overrides_on_a_scenario_object(enterprise: Scenario) -> None:
    assert load_scenario(enterprise) is enterprise
    sc = load_scenario(enterprise, overrides={"accounts": {"count": 5}})
    assert sc.accounts.count == 5
    assert enterprise.accounts.count == 2000  # frozen models are not modified


def test_dict_source_with_extends(enterprise: Scenario) -> None:
    sc = load_scenario({"extends": "enterprise", "accounts": {"count": 10}})
    assert changed_paths(enterprise, sc) == {"extends", "accounts.count"}


def test_dict_source_complete(enterprise: Scenario) -> None:
    data = enterprise.model_dump()
    data["accounts"]["count"] = 10
    sc = load_scenario(data)
    assert sc.accounts.count == 10
    assert changed_paths(enterprise, sc) == {"accounts.count"}


def test_relative_extends_resolves_against_the_child_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enterprise: Scenario
) -> None:
    write(tmp_path / "configs", "team/base.yaml", "extends: enterprise\nhorizon_days: 700\n")
    child = write(
        tmp_path / "configs",
        "child.yaml",
        "extends: team/base.yaml\naccounts: {count: 10}\n",
    )
    sibling = write(tmp_path / "configs", "team/sib.yaml", "extends: base.yaml\nname: sib\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no base.yaml here: only the child's folder can resolve it
    sc = load_scenario(child)
    assert (sc.horizon_days, sc.accounts.count) == (700, 10)
    assert changed_paths(enterprise, sc) == {"extends", "horizon_days", "accounts.count"}
    sib = load_scenario(sibling)
    assert (sib.name, sib.horizon_days) == ("sib", 700)


def test_relative_path_source_resolves_against_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "base.yaml", "extends: smb\naccounts: {count: 33}\n")
    write(tmp_path, "child.yaml", "extends: base.yaml\n")
    monkeypatch.chdir(tmp_path)
    assert load_scenario("child.yaml").accounts.count == 33


def test_three_level_chain_child_wins(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "extends: enterprise\nhorizon_days: 700\naccounts: {count: 5}\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\naccounts: {count: 6}\n")
    c = write(tmp_path, "c.yaml", "extends: b.yaml\nname: c\n")
    sc = load_scenario(c)
    assert (sc.name, sc.horizon_days, sc.accounts.count, sc.extends) == ("c", 700, 6, "b.yaml")


def test_loaded_scenario_is_frozen(enterprise: Scenario) -> None:
    with pytest.raises(Exception, match="frozen"):
        enterprise.accounts.count = 3  # type: ignore[misc]
