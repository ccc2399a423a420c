"""A policy written inline in another file: its problems name that file, the line and the
full field path, never a ``<dict>`` placeholder."""

from __future__ import annotations

from pathlib import Path

import pytest

import policies
from policies.cases import load_cases
from sim.config.inline import parse_path
from sim.errors import ConfigError

INLINE_CASES = """policy:
  name: x
  kind: mqa_count
  window_days: 30
  any:
    - {unique_contacts: 0}
cases:
  - name: a
    events: [[0, a, b, web_visit]]
    expect: []
"""

COMBINATOR = """name: both
kind: any
policies:
  - mql_only
  - name: y
    kind: mqa_count
    window_days: -1
    any: [{unique_contacts: 2}]
"""


def test_an_inline_policy_in_a_test_file_names_the_test_files_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(INLINE_CASES)
    with pytest.raises(ConfigError) as info:
        load_cases(path)
    msg = str(info.value)
    # The condition at line 6 asks for nothing.
    assert f"{path}:6: policy.any[0]: a condition needs unique_contacts or min_activities" in msg
    assert "<dict>" not in msg and "<config>" not in msg


def test_an_inline_member_of_a_combinator_names_the_combinators_line(tmp_path: Path) -> None:
    path = tmp_path / "both.yaml"
    path.write_text(COMBINATOR)
    with pytest.raises(ConfigError) as info:
        policies.load_policy(path)
    assert f"{path}:7: policies[1].window_days: must be > 0.0, got -1" in str(info.value)
    assert "<dict>" not in str(info.value)


def test_a_policy_given_as_a_dict_through_the_api_keeps_its_own_source() -> None:
    with pytest.raises(ConfigError, match="<dict>: window_days: must be > 0"):
        policies.load_policy(
            {"name": "y", "kind": "mqa_count", "window_days": -1, "any": [{"unique_contacts": 2}]}
        )


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("window_days", ("window_days",)),
        ("any[0].unique_contacts", ("any", 0, "unique_contacts")),
        ("tiers.1.any[2]", ("tiers", 1, "any", 2)),
        ("(top level)", ()),
    ],
)
def test_paths_read_back(text: str, path: tuple) -> None:
    assert parse_path(text) == path
