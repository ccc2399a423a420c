"""Tests for sim.yamlio: strict YAML loading, line lookup and path formatting."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from sim.config.strict_yaml import LineMap, did_you_mean, format_path, load_yaml, read_yaml_file
from sim.errors import ConfigError, QualsimError

SCENARIO = textwrap.dedent(
    """\
    # scenario used for line-number tests
    name: demo
    journeys:
      stages:
        engaged:
          median_days: 14
          spread: 0.5
        qualified:
          median_days: 30
    campaigns:
      - name: webinar
        lift: 1.2
      - name: ebook
        lift: 1.1
      -
        name: trade show
        lift: 2.0
    tiers:
      1: {min_score: 10}
      2:
        min_score: 20
    start: 2024-01-05
    """
)


@pytest.fixture
def scenario() -> tuple[object, LineMap]:
    return load_yaml(SCENARIO, "scenario.yaml")


# --- values --------------------------------------------------------------------------------


def test_values_are_constructed(scenario: tuple[object, LineMap]) -> None:
    data, _ = scenario
    assert data == {
        "name": "demo",
        "journeys": {
            "stages": {
                "engaged": {"median_days": 14, "spread": 0.5},
                "qualified": {"median_days": 30},
            }
        },
        "campaigns": [
            {"name": "webinar", "lift": 1.2},
            {"name": "ebook", "lift": 1.1},
            {"name": "trade show", "lift": 2.0},
        ],
        "tiers": {1: {"min_score": 10}, 2: {"min_score": 20}},
        "start": "2024-01-05",
    }


@pytest.mark.parametrize(
    "text",
    [
        "d: 2024-01-05",
        "d: 2024-01-05T10:30:00Z",
        "d: 2024-01-05 10:30:00",
        "d: !!timestamp 2024-01-05",
    ],
)
def test_dates_stay_strings(text: str) -> None:
    data, _ = load_yaml(text, "d.yaml")
    assert isinstance(data, dict)
    assert isinstance(data["d"], str)
    assert data["d"] == text.removeprefix("d: ").removeprefix("!!timestamp ")


def test_scalars_resolve_as_yaml_1_1() -> None:
    data, _ = load_yaml(
        "a: true\nb: no\nc: 12\nd: 1.5\ne: null\nf: ~\ng: '12'\nh: 0x10\n", "s.yaml"
    )
    assert data == {
        "a": True,
        "b": False,
        "c": 12,
        "d": 1.5,
        "e": None,
        "f": None,
        "g": "12",
        "h": 16,
    }


def test_explicit_null_document_is_none() -> None:
    assert load_yaml("~\n", "n.yaml")[0] is None


def test_top_level_list_and_scalar() -> None:
    assert load_yaml("- 1\n- 2\n", "l.yaml")[0] == [1, 2]
    assert load_yaml("hello\n", "s.yaml")[0] == "hello"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "--- # c\n...\n"])
def test_empty_document_is_empty_mapping(text: str) -> None:
    data, lines = load_yaml(text, "empty.yaml")
    assert data == {}
    assert lines.line_of(("anything",)) is None


def test_anchors_and_merge_keys() -> None:
    text = textwrap.dedent(
        """\
        base: &base
          window_days: 30
          lift: 1.0
        variant:
          <<: *base
          lift: 2.0
        """
    )
    data, lines = load_yaml(text, "m.yaml")
    assert data["variant"] == {"window_days": 30, "lift": 2.0}
    assert lines.line_of(("variant", "lift")) == 6  # the explicit key wins
    assert lines.line_of(("variant", "window_days")) == 2  # merged: where it is written


# --- line map --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ((), 2),
        (("name",), 2),
        (("journeys",), 3),
        (("journeys", "stages"), 4),
        (("journeys", "stages", "engaged"), 5),
        (("journeys", "stages", "engaged", "median_days"), 6),
        (("journeys", "stages", "engaged", "spread"), 7),
        (("journeys", "stages", "qualified", "median_days"), 9),
        (("campaigns",), 10),
        (("campaigns", 0), 11),
        (("campaigns", 0, "lift"), 12),
        (("campaigns", 1, "name"), 13),
        (("campaigns", 2), 16),  # item after a bare '-' starts on the next line
        (("campaigns", 2, "lift"), 17),
        (("start",), 22),
    ],
)
def test_line_of_nested_paths(scenario: tuple[object, LineMap], path: tuple, line: int) -> None:
    _, lines = scenario
    assert lines.line_of(path) == line


@pytest.mark.parametrize("key", [1, "1"])
def test_int_mapping_keys_found_by_int_and_str(
    scenario: tuple[object, LineMap], key: int | str
) -> None:
    _, lines = scenario
    assert lines.line_of(("tiers", key)) == 19
    assert lines.line_of(("tiers", key, "min_score")) == 19
    two = 2 if isinstance(key, int) else "2"
    assert lines.line_of(("tiers", two, "min_score")) == 21


def test_int_key_prefers_matching_type() -> None:
    _, lines = load_yaml("m:\n  '1': a\n  1: b\n", "k.yaml")
    assert lines.line_of(("m", "1")) == 2
    assert lines.line_of(("m", 1)) == 3


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("journeys", "stages", "engaged", "missing"), 5),
        (("journeys", "stages", "nope", "median_days"), 4),
        (("campaigns", 7, "lift"), 10),
        (("campaigns", 1, "lift", "deeper"), 14),  # through a scalar
        (("missing",), 2),
        (("tiers", 1, "[key]"), 19),  # pydantic's loc for a bad mapping key
    ],
)
def test_missing_path_falls_back_to_deepest_ancestor(
    scenario: tuple[object, LineMap], path: tuple, line: int
) -> None:
    _, lines = scenario
    assert lines.line_of(path) == line


def test_line_of_accepts_str_list_index(scenario: tuple[object, LineMap]) -> None:
    _, lines = scenario
    assert lines.line_of(("campaigns", "1", "lift")) == 14


# --- errors ----------------------------------------------------------------------------------


def test_duplicate_top_level_key() -> None:
    text = "name: a\nwindow_days: 3\nlift: 1\nwindow_days: 5\n"
    with pytest.raises(ConfigError) as info:
        load_yaml(text, "my.yaml")
    assert str(info.value) == "my.yaml:4: duplicate key 'window_days' (first at line 2)"


def test_duplicate_nested_key() -> None:
    text = textwrap.dedent(
        """\
        journeys:
          stages:
            engaged:
              window_days: 3
              lift: 1
            qualified:
              window_days: 4
              window_days: 5
        """
    )
    with pytest.raises(ConfigError) as info:
        load_yaml(text, "my.yaml")
    assert str(info.value) == "my.yaml:8: duplicate key 'window_days' (first at line 7)"


def test_duplicate_key_in_list_item_and_flow_mapping() -> None:
    with pytest.raises(ConfigError, match=r"^c\.yaml:3: duplicate key 'lift' \(first at line 2\)$"):
        load_yaml("campaigns:\n  - lift: 1\n    lift: 2\n", "c.yaml")
    with pytest.raises(ConfigError, match=r"^f\.yaml:1: duplicate key 'a' \(first at line 1\)$"):
        load_yaml("x: {a: 1, a: 2}\n", "f.yaml")


def test_duplicate_int_keys() -> None:
    with pytest.raises(ConfigError, match=r"^t\.yaml:3: duplicate key 1 \(first at line 2\)$"):
        load_yaml("tiers:\n  1: a\n  0x1: b\n", "t.yaml")


def test_same_key_in_different_mappings_is_fine() -> None:
    data, _ = load_yaml("a: {x: 1}\nb: {x: 2}\n'1': s\n1: i\n", "ok.yaml")
    assert data == {"a": {"x": 1}, "b": {"x": 2}, "1": "s", 1: "i"}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: 1\nb: [1, 2\nc: 3\n", "s.yaml:3:2:"),
        ("a:\n  b: 1\n c: 2\n", "s.yaml:3:2:"),
        ("a: 'unterminated\n", "s.yaml:2:1:"),
        ("a: 1\n\tb: 2\n", "s.yaml:2:1:"),
        ("key: value: other\n", "s.yaml:1:11:"),
    ],
)
def test_syntax_error_names_file_line_column(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml(text, "s.yaml")
    message = str(info.value)
    assert message.startswith(f"{where} YAML syntax error: ")
    assert "\n" not in message
    assert "Traceback" not in message
    assert isinstance(info.value, QualsimError)


def test_syntax_error_includes_context() -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml("a: 1\nb: [1, 2\nc: 3\n", "s.yaml")
    assert "(while parsing a flow sequence at line 2)" in str(info.value)


def test_more_than_one_document_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"^two\.yaml:2:1: YAML syntax error: .*second document"):
        load_yaml("a: 1\n---\nb: 2\n", "two.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "x: !!python/object/apply:os.system ['echo hi']\n",
        "x: !!python/name:os.system\n",
        "x: !custom 3\n",
    ],
)
def test_unsafe_and_unknown_tags_are_rejected(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^u\.yaml:1:4: YAML error: could not determine"):
        load_yaml(text, "u.yaml")


def test_control_character_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml("a: 1\nb: x\x07\n", "bad.yaml")
    assert str(info.value) == (
        "bad.yaml:2:5: YAML syntax error: unacceptable character #x0007: "
        "special characters are not allowed"
    )


# --- files -----------------------------------------------------------------------------------


def test_read_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("name: café\nstart: 2024-01-05\n", encoding="utf-8")
    data, lines = read_yaml_file(path)
    assert data == {"name": "café", "start": "2024-01-05"}
    assert lines.line_of(("start",)) == 2
    assert read_yaml_file(str(path))[0] == data


def test_read_yaml_file_errors_use_path_as_source(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("a: 1\na: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_yaml_file(path)
    assert str(info.value) == f"{path}:2: duplicate key 'a' (first at line 1)"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        read_yaml_file(path)
    assert str(info.value) == f"{path}: file not found"


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read_yaml_file(tmp_path)
    assert str(info.value) == (
        f"{tmp_path}: cannot read a config file from a directory; "
        "a config file must be a regular file"
    )


@pytest.mark.skipif(
    sys.platform == "win32" or (hasattr(os, "geteuid") and os.geteuid() == 0),
    reason="needs POSIX permissions and a non-root user",
)
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    path.chmod(0)
    try:
        with pytest.raises(ConfigError, match=r"cannot read file: Permission denied"):
            read_yaml_file(path)
    finally:
        path.chmod(0o600)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: 1\nname: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r":2: file is not valid UTF-8 text \(byte 0xe9"):
        read_yaml_file(path)


# --- did_you_mean / format_path --------------------------------------------------------------


def test_did_you_mean_hit() -> None:
    choices = ["window_days", "median_days", "lift"]
    assert did_you_mean("windw_days", choices) == " (did you mean 'window_days'?)"
    assert did_you_mean("lfit", iter(choices)) == " (did you mean 'lift'?)"


def test_did_you_mean_miss() -> None:
    assert did_you_mean("zzz", ["window_days", "lift"]) == ""
    assert did_you_mean("anything", []) == ""


def test_format_path_dotted() -> None:
    assert format_path(("journeys", "stages", "engaged", "median_days")) == (
        "journeys.stages.engaged.median_days"
    )
    assert format_path(()) == ""


def test_format_path_list_index() -> None:
    assert format_path(("campaigns", 2, "lift")) == "campaigns[2].lift"
    data = {"campaigns": [{}, {}, {"lift": 1}]}
    assert format_path(("campaigns", 2, "lift"), data) == "campaigns[2].lift"
    assert format_path((0, "x"), [{"x": 1}]) == "[0].x"


def test_format_path_int_mapping_key(scenario: tuple[object, LineMap]) -> None:
    data, _ = scenario
    assert format_path(("tiers", 1, "min_score"), data) == "tiers.1.min_score"
    assert format_path(("tiers", "2", "min_score"), data) == "tiers.2.min_score"
    assert format_path(("campaigns", 1, "lift"), data) == "campaigns[1].lift"


def test_format_path_beyond_data() -> None:
    data = {"tiers": {1: {}}}
    assert format_path(("tiers", 3, "min"), data) == "tiers.3.min"  # 3 is a mapping key
    assert format_path(("campaigns", 0, "lift"), data) == "campaigns[0].lift"
