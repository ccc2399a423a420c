"""Config input that used to give tracebacks or silently wrong results: non-regular and huge
files, deep nesting, huge integers, non-finite numbers, invalid strptime formats. Each is a
ConfigError naming the file, the line and (where there is one) the field path."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

import policies
import sim
from policies.cases import CaseFile, run_cases
from sim.config import MAX_CONFIG_BYTES, load_yaml, read_config_text, read_yaml_file
from sim.config.loader import MAX_DEPTH, MAX_INT_DIGITS
from sim.errors import ConfigError
from sim.real import load_mapping


def test_dev_zero_is_refused_before_reading() -> None:
    with pytest.raises(ConfigError, match=r"^/dev/zero: cannot read a config file from a char"):
        read_config_text("/dev/zero")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "policy.yaml"
    os.mkfifo(fifo)  # nobody writes to it: a blocking open would hang the test
    with pytest.raises(ConfigError, match=r"from a pipe \(FIFO\); a config file must be a regular"):
        policies.load_policy(fifo)


def test_the_size_cap_is_exactly_one_mebibyte(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: 1\n".ljust(MAX_CONFIG_BYTES, b"\n"))  # one key, then blank lines
    assert path.stat().st_size == 1_048_576
    assert read_yaml_file(path)[0] == {"a": 1}
    path.write_bytes(path.read_bytes() + b"\n")
    with pytest.raises(ConfigError) as info:
        read_yaml_file(path)
    assert str(info.value) == (
        f"{path}: 1,048,577 bytes is far larger than any config file "
        "(at most 1,048,576 bytes, 1 MiB)"
    )


def test_nesting_is_bounded() -> None:
    deepest = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)  # the mapping is level 1
    too_deep = "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert load_yaml(deepest, "d.yaml")[0]["a"] is not None
    with pytest.raises(ConfigError, match=r"^d\.yaml:1:\d+: YAML syntax error: lists and mappings"):
        load_yaml(too_deep, "d.yaml")


def test_hundred_thousand_levels_are_an_error_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nest deeper than 64 levels"):
        sim.load_scenario(path)


def test_integers_are_bounded(tmp_path: Path) -> None:
    assert load_yaml("n: " + "9" * MAX_INT_DIGITS, "i.yaml")[0]["n"] == 10**MAX_INT_DIGITS - 1
    path = tmp_path / "p.yaml"
    path.write_text("name: x\nkind: mql\nthreshold: " + "9" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        policies.load_policy(path)
    assert str(info.value).startswith(f"{path}:3:12: YAML error: a whole number of 5,000 char")


# YAML 1.1 floats need a dot and a signed exponent: ``1e999`` is text, which the schema refuses
# as "expected a number".
NON_FINITE = [".inf", "-.inf", ".nan", ".NaN", "+.Inf", "1.0e+999", "-1.5e+400"]


@pytest.mark.parametrize("text", NON_FINITE)
def test_non_finite_numbers_are_errors_with_their_field_path(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml(f"journey:\n  stages:\n    - {{median_days: {text}}}\n", "s.yaml")
    assert str(info.value) == (
        f"s.yaml:3: journey.stages[0].median_days: must be a finite number, got {text} "
        "(infinite and NaN numbers are not allowed in config)"
    )


def test_finite_floats_still_load() -> None:
    data = load_yaml("a: [1.5, -2.0e+3, .5, 1.0e+308]", "f.yaml")[0]
    assert data == {"a": [1.5, -2000.0, 0.5, 1e308]}


def test_a_non_finite_key_is_refused_too() -> None:
    with pytest.raises(ConfigError, match=r"^k\.yaml:1:2: YAML error: numbers in config must be"):
        load_yaml("{.nan: 1}", "k.yaml")


def test_window_days_inf_through_the_api_is_an_error() -> None:
    """A dict never meets the YAML reader: the shared field types refuse it."""
    data = {"name": "w", "kind": "mqa_count", "window_days": math.inf}
    data["any"] = [{"unique_contacts": 3}]
    with pytest.raises(ConfigError, match=r"window_days: Input should be a finite number"):
        policies.load_policy(data)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_points_through_the_api_are_errors(value: float) -> None:
    data = {"name": "p", "kind": "mql", "threshold": 10, "points": {"web_visit": value}}
    with pytest.raises(ConfigError, match=r"points\.web_visit: Input should be a finite number"):
        policies.load_policy(data)


def test_median_days_inf_through_overrides_is_an_error() -> None:
    over = {"journey": {"stages": {"engaged": {"median_days": math.inf}}}}
    with pytest.raises(ConfigError, match=r"journey\.stages\.engaged\.median_days"):
        sim.load_scenario("enterprise", overrides=over)


def test_nan_event_days_in_policy_cases_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(
        "policy: mql_only\ncases:\n  - name: c\n    events:\n      - [0, a, null, web_visit]\n"
        "      - [.nan, a, null, web_visit]\n    expect: []\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r":6: cases\[0\]\.events\[1\]\[0\]: must be a finite"):
        run_cases(path)


def test_non_finite_case_days_are_refused_by_the_schema_too() -> None:
    case = {"name": "c", "events": [[math.inf, "a", None, "webinar"]], "expect": []}
    with pytest.raises(ValueError, match="finite"):
        CaseFile.model_validate({"policy": "mql_only", "cases": [case]})


@pytest.mark.parametrize(
    ("fmt", "why"),
    [
        ("%Y-%m-%d %Q", "'Q' is a bad directive"),
        ("%H:%M %", "stray %"),
        ("%d/%m/%Y %z %z", "a directive appears twice"),
    ],
)
def test_an_invalid_timestamp_format_is_a_mapping_error(tmp_path: Path, fmt: str, why: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(f'timezone: UTC\nevents: {{timestamp_format: "{fmt}"}}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    assert f"{path}:2: events.timestamp_format: not a valid strptime format: {why}" in str(
        info.value
    )


def test_a_valid_timestamp_format_loads(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text('timestamp_format: "%m/%d/%Y %I:%M %p"\n', encoding="utf-8")
    assert load_mapping(path).timestamp_format == "%m/%d/%Y %I:%M %p"
