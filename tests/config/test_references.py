"""References one config file makes to another stay inside its folder tree (SECURITY.md).

Every kind of reference — ``extends`` of scenarios and policies, a combinator's members, a test
file's ``policy``, a sweep's ``scenario`` and ``policies``, a suite's ``policies`` and
``scenarios`` — is tried with an absolute path, a ``..`` and a symlink leading out of the
folder, each pointing at a *valid* config file outside that holds a marker: the reference must
be refused with the referencing file, its field path and the rule, and the marker (the
foreign file's content) must never appear in the message.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import policies
import sim
from policies.cases import run_cases
from sim.config import resolve_reference
from sim.errors import ConfigError
from sim.experiment.gate import load_suite
from sim.experiment.sweep import load_sweep

MARKER = "FOREIGN_MARKER_7f3a"
# Valid config files, so that only the rule can refuse them; the marker is their content.
FOREIGN_POLICY = f"name: {MARKER}\nkind: mql\nthreshold: 10\npoints: {{web_visit: 5}}\n"
FOREIGN_SCENARIO = f"extends: enterprise\nname: {MARKER}\n"


@dataclass(frozen=True)
class Ref:
    """A config file kind that references another file, and how to load it."""

    id: str
    foreign: str  # the content of the referenced file outside the tree
    text: Callable[[str], str]  # the referencing file, given the reference
    load: Callable[[Path], object]
    field: str  # the field path the error must name


def _sweep(scenario: str = "enterprise", policy: str = "mql_only") -> str:
    return (
        f"scenario: {scenario}\noverrides: {{accounts: {{count: 20}}}}\n"
        f"policies: [{{policy: {policy}}}]\n"
    )


def _suite(policy: str = "mql_only", scenario: str = "enterprise") -> str:
    return f"policies: [{policy}]\nscenarios: [{{name: a, scenario: {scenario}}}]\n"


REFS = [
    Ref(
        "scenario-extends",
        FOREIGN_SCENARIO,
        lambda r: f"extends: {r}\n",
        sim.load_scenario,
        "extends",
    ),
    Ref(
        "policy-extends",
        FOREIGN_POLICY,
        lambda r: f"extends: {r}\nname: mine\n",
        policies.load_policy,
        "extends",
    ),
    Ref(
        "combinator-member",
        FOREIGN_POLICY,
        lambda r: f"name: both\nkind: any\npolicies: [mql_only, {r}]\n",
        policies.load_policy,
        "policies[1]",
    ),
    Ref(
        "cases-policy",
        FOREIGN_POLICY,
        lambda r: f"policy: {r}\ncases: [{{name: c, events: [], expect: []}}]\n",
        run_cases,
        "policy",
    ),
    Ref("sweep-scenario", FOREIGN_SCENARIO, lambda r: _sweep(scenario=r), load_sweep, "scenario"),
    Ref("sweep-policy", FOREIGN_POLICY, lambda r: _sweep(policy=r), load_sweep, "policies[0]"),
    Ref("suite-policy", FOREIGN_POLICY, lambda r: _suite(policy=r), load_suite, "policies[0]"),
    Ref(
        "suite-scenario",
        FOREIGN_SCENARIO,
        lambda r: _suite(scenario=r),
        load_suite,
        "scenarios[0].scenario",
    ),
]
ATTACKS = ["absolute", "dotdot", "symlink"]


def attack(tmp_path: Path, ref: Ref, how: str) -> Path:
    """Write a foreign file outside ``team/`` and a file in ``team/`` that references it
    ``how``; return the referencing file."""
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "foreign.yaml").write_text(ref.foreign, encoding="utf-8")
    team = tmp_path / "team"
    team.mkdir(exist_ok=True)
    target = {
        "absolute": str(outside / "foreign.yaml"),
        "dotdot": "../outside/foreign.yaml",
        "symlink": "link.yaml",
    }[how]
    if how == "symlink":
        (team / "link.yaml").symlink_to(outside / "foreign.yaml")
    path = team / "config.yaml"
    path.write_text(ref.text(target), encoding="utf-8")
    return path


@pytest.mark.parametrize("how", ATTACKS)
@pytest.mark.parametrize("ref", REFS, ids=[r.id for r in REFS])
def test_a_reference_out_of_the_folder_is_refused_without_echoing_the_target(
    tmp_path: Path, ref: Ref, how: str
) -> None:
    path = attack(tmp_path, ref, how)
    with pytest.raises(ConfigError) as info:
        ref.load(path)
    message = str(info.value)
    assert MARKER not in message
    assert f"{path}:" in message  # the referencing file, with its line
    assert f"{ref.field}:" in message
    if ref.id == "policy-extends":  # policies extend nothing: refused before any reading
        assert "a policy cannot extend another file" in message
        return
    expected = {"absolute": "is an absolute path", "dotdot": "goes up with '..'"}
    assert expected.get(how, "is a symlink that leads out") in message
    assert "own folder or below it" in message


@pytest.mark.parametrize("ref", REFS[:1] + REFS[2:], ids=[r.id for r in REFS[:1] + REFS[2:]])
def test_a_reference_into_a_subfolder_is_followed(tmp_path: Path, ref: Ref) -> None:
    """The same files, moved inside the tree, load: the rule refuses nothing legitimate."""
    team = tmp_path / "team"
    (team / "shared").mkdir(parents=True)
    policy = FOREIGN_POLICY.replace(MARKER, "inside")
    foreign = policy if ref.foreign == FOREIGN_POLICY else FOREIGN_SCENARIO.replace(MARKER, "in")
    (team / "shared" / "base.yaml").write_text(foreign, encoding="utf-8")
    (team / "shared" / "link.yaml").symlink_to(team / "shared" / "base.yaml")  # stays inside
    for name in ("shared/base.yaml", "shared/link.yaml"):
        path = team / "config.yaml"
        text = ref.text(name)
        if ref.id == "cases-policy":  # a case the policy passes: no events, no handoff
            text = text.replace("events: []", "events: [[0, a, null, web_visit]]")
        path.write_text(text, encoding="utf-8")
        ref.load(path)


def test_shipped_names_are_the_allow_list(tmp_path: Path) -> None:
    path = tmp_path / "both.yaml"
    path.write_text("name: both\nkind: any\npolicies: [mql_only, mqa_count]\n", encoding="utf-8")
    assert [m.name for m in policies.load_policy(path).members] == ["mql_only", "mqa_count"]
    child = tmp_path / "small.yaml"
    child.write_text("extends: smb\naccounts: {count: 7}\n", encoding="utf-8")
    assert sim.load_scenario(child).accounts.count == 7


def test_files_the_user_names_may_be_anywhere(tmp_path: Path, monkeypatch) -> None:
    """The rule is about references: a path given on the command line or to the API is the
    user's choice, and so is a path one level up from the working directory."""
    (tmp_path / "rule.yaml").write_text(FOREIGN_POLICY, encoding="utf-8")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert policies.load_policy("../rule.yaml").name == MARKER


def test_a_chain_is_checked_link_by_link(tmp_path: Path) -> None:
    """A base file inside the tree cannot reach out either: each link is relative to its own
    file, so ``shared/base.yaml`` extending ``../../outside/x.yaml`` is refused there."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.yaml").write_text(FOREIGN_SCENARIO, encoding="utf-8")
    shared = tmp_path / "team" / "shared"
    shared.mkdir(parents=True)
    (shared / "base.yaml").write_text("extends: ../../outside/x.yaml\n", encoding="utf-8")
    child = tmp_path / "team" / "child.yaml"
    child.write_text("extends: shared/base.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        sim.load_scenario(child)
    assert str(info.value).startswith(f"{shared / 'base.yaml'}:1: extends: '../../outside/")
    assert MARKER not in str(info.value)


def test_values_of_a_referenced_file_are_not_echoed(tmp_path: Path) -> None:
    """An error in a base file names it, the line and the field, not the value; the same error
    in the file the user named shows the value."""
    secret = "SECRET_VALUE_91"
    (tmp_path / "base.yaml").write_text(f"extends: enterprise\nname: [{secret}]\n", "utf-8")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        sim.load_scenario(child)
    assert f"{tmp_path / 'base.yaml'}:2: name: expected a text value" in str(info.value)
    assert secret not in str(info.value)
    child.write_text(f"extends: base.yaml\nhorizon_days: {secret}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{child}:2: horizon_days: expected a number, got "):
        sim.load_scenario(child)


def test_a_combinator_in_a_test_file_resolves_members_in_that_file_s_tree(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text(FOREIGN_POLICY, encoding="utf-8")
    team = tmp_path / "team"
    team.mkdir()
    path = team / "cases.yaml"
    path.write_text(
        "policy: {name: both, kind: any, policies: [mql_only, ../outside.yaml]}\n"
        "cases: [{name: c, events: [], expect: []}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"policies\[1\]: '\.\./outside\.yaml' goes up") as info:
        run_cases(path)
    assert MARKER not in str(info.value)


# --- the rule itself, on random paths --------------------------------------------------------

SEGMENTS = ["a", "b", "..", ".", "in_link", "out_link", "out_link", "loop", "x.yaml"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``root/`` with folders a/b, a symlink inside (in_link -> a), one leading out
    (out_link -> ../elsewhere) and one to the root itself (loop -> .)."""
    base = tmp_path_factory.mktemp("tree")
    root = base / "root"
    (root / "a" / "b").mkdir(parents=True)
    (base / "elsewhere" / "a").mkdir(parents=True)
    (root / "in_link").symlink_to(root / "a")
    (root / "out_link").symlink_to(base / "elsewhere")
    (root / "loop").symlink_to(root)
    return root


def _inside(path: Path, root: Path) -> bool:
    """The obviously-correct check: the real path, string by string."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top + os.sep)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=6), st.booleans())
def test_a_resolved_reference_is_always_inside_the_tree(
    tree: Path, parts: list[str], absolute: bool
) -> None:
    ref = ("/" if absolute else "") + "/".join(parts)
    try:
        found = resolve_reference(ref, tree)
    except ConfigError:
        refused = True
    else:
        refused = False
        assert _inside(found, tree)
        assert found == tree / ref
    assert refused == (absolute or ".." in parts or not _inside(tree / ref, tree))


def test_a_sweep_does_not_echo_its_scenario_file_s_values(tmp_path: Path) -> None:
    secret = "SECRET_VALUE_52"
    (tmp_path / "world.yaml").write_text(f"extends: enterprise\nhorizon_days: {secret}\n", "utf-8")
    path = tmp_path / "sweep.yaml"
    path.write_text(_sweep(scenario="world.yaml"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sweep(path)
    assert f"{tmp_path / 'world.yaml'}:2: horizon_days: expected a number" in str(info.value)
    assert secret not in str(info.value)


@pytest.mark.parametrize("ref", ['"a\\0b.yaml"', '"x\\ty.yaml"', '"\\e[31m.yaml"'])
def test_a_reference_with_a_control_character_is_refused(tmp_path: Path, ref: str) -> None:
    """A NUL byte used to end in a ValueError traceback from realpath; escapes are no names."""
    path = tmp_path / "s.yaml"
    path.write_text(f"extends: {ref}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"s\.yaml:1: extends: .* contains a control character"):
        sim.load_scenario(path)


def test_a_symlink_loop_is_an_error_not_a_runtime_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    child = tmp_path / "s.yaml"
    child.write_text("extends: a.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"s\.yaml:1: extends: .*a\.yaml: cannot follow its sym"):
        sim.load_scenario(child)
    with pytest.raises(ConfigError, match=r"a\.yaml: cannot follow its symlinks"):
        sim.load_scenario(tmp_path / "a.yaml")  # named by the user
