"""``qualsim validate FILE`` knows every kind of config file from its keys and checks it with that
kind's own loader; ``qualsim schema KIND`` emits a JSON Schema that the shipped and example
files of that kind satisfy and that rejects what the loader rejects.

jsonschema is not a qualsim dependency: nbformat (a test dependency, for the notebooks) brings
it, and these tests use it only to check the emitted schemas.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from sim.cli import app
from sim.cli.kinds import json_schema
from sim.cli.world import CONFIG_KINDS
from sim.config.kinds import KINDS, detect, distinctive, partial_schema
from sim.errors import ConfigError
from sim.experiment.reference_docs import schema_of as model_schema

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

# One valid file of each kind, written by hand, and what `validate` must say about it.
VALID = {
    "scenario": ("extends: smb\naccounts: {count: 30}\n", "ok: scenario 'smb' (30 accounts"),
    "policy": (
        "name: four_people\nkind: mqa_count\nwindow_days: 30\nany:\n  - {unique_contacts: 4}\n",
        "ok: mqa_count policy 'four_people'",
    ),
    "sweep": (
        "name: windows\nscenario: smb\npolicies:\n  - policy: mqa_count\n"
        "    grid: {window_days: [20, 30, 40]}\n  - policy: mql_only\n",
        "ok: sweep 'windows' (2 policies, 4 variants, grid design over 0 uncertain parameters, "
        "1 replication)",
    ),
    "mapping": (
        "timezone: Europe/Paris\nevents:\n  columns: {account_id: Company, timestamp: When}\n",
        "ok: mapping (events mapped)",
    ),
    "suite": (
        "name: ci\npolicies: [mqa_count, mql_only]\nscenarios:\n  - {name: small, scenario: smb}\n",
        "ok: suite 'ci' (2 policies × 1 scenario, 5 replications, 5 metrics)",
    ),
    "cases": (
        "policy: mqa_count\ncases:\n  - name: one person is not enough\n"
        "    accounts: [{account_id: acme, tier: 2}]\n    events: [[0, acme, ann, web_visit]]\n"
        "    expect: []\n",
        "ok: 1 test case of mqa_count policy 'mqa_count'",
    ),
}

# One invalid file of each kind: its first lines show the kind; the error is that kind's own.
INVALID = {
    "scenario": (
        "extends: smb\naccounts: {count: -1}\n",
        ["invalid scenario", "bad.yaml:2: accounts.count"],
    ),
    "policy": (
        "name: p\nkind: mqa_count\nwindw_days: 30\nany:\n  - {unique_contacts: 4}\n",
        ["invalid mqa_count policy", "bad.yaml:3: windw_days", "did you mean 'window_days'?"],
    ),
    "sweep": (  # the case: a sweep file read as a scenario gave 14 unknown keys
        "name: s\nscenario: smb\ndesing: {kind: lhs}\npolicies:\n  - policy: mqa_count\n",
        ["invalid sweep", "(1 problem)", "bad.yaml:3: desing", "did you mean 'design'?"],
    ),
    "mapping": (
        "events:\n  columns: {acount_id: Company}\n",
        ["invalid mapping", "'acount_id' is not a qualsim events column"],
    ),
    "suite": (
        "policies: [mqa_count]\nscenarios: [{name: a}]\nreplications: 1\n",
        ["invalid suite", "bad.yaml:3: replications"],
    ),
    "cases": ("policy: mqa_count\ncases: []\n", ["invalid policy tests", "bad.yaml:2: cases"]),
}


def invoke(*args: object) -> Result:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def plain(text: str) -> str:
    return " ".join(ANSI.sub("", text).split())  # the console wraps long lines


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_cli_lists_every_kind() -> None:
    assert set(CONFIG_KINDS) == set(KINDS) == set(VALID) == set(INVALID)


@pytest.mark.parametrize("kind", list(VALID))
def test_validate_detects_a_valid_file_and_summarises_it(tmp_path: Path, kind: str) -> None:
    text, says = VALID[kind]
    result = invoke("validate", write(tmp_path / "good.yaml", text))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(says), result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("kind", list(INVALID))
def test_validate_reports_an_invalid_file_with_its_own_kinds_errors(
    tmp_path: Path, kind: str
) -> None:
    text, fragments = INVALID[kind]
    result = invoke("validate", write(tmp_path / "bad.yaml", text))
    assert result.exit_code == 2
    assert result.stdout == ""
    err = plain(result.stderr)
    assert err.startswith("error: ")
    for fragment in [*fragments, f"(read as a {kind} file because of its key"]:
        assert fragment in err, err
    assert "unknown key 'scenario'" not in err and "unknown key 'policies'" not in err


def test_kind_forces_how_a_file_is_read(tmp_path: Path) -> None:
    sweep = write(tmp_path / "s.yaml", VALID["sweep"][0])
    assert invoke("validate", sweep, "--kind", "sweep").exit_code == 0
    result = invoke("validate", sweep, "--kind", "scenario")
    err = plain(result.stderr)
    assert result.exit_code == 2
    assert "invalid scenario" in err and "unknown key 'policies'" in err
    assert "read as a" not in err  # the user chose the kind: no note about detecting it


def test_an_unknown_kind_name_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    result = invoke("validate", write(tmp_path / "s.yaml", VALID["sweep"][0]), "--kind", "swep")
    assert result.exit_code == 2
    assert "unknown kind 'swep': expected one of scenario, policy" in plain(result.stderr)
    assert "did you mean 'sweep'?" in plain(result.stderr)


def test_an_unrecognisable_file_says_which_kinds_it_tried(tmp_path: Path) -> None:
    result = invoke("validate", write(tmp_path / "u.yaml", "desgin: {}\ncolour: blue\n"))
    err = plain(result.stderr)
    assert result.exit_code == 2
    assert "none of its keys (desgin, colour) belongs to a qualsim config file" in err
    for kind in KINDS:
        assert f" {kind}: " in err, kind
    assert "'desgin' may be 'design'" in err  # the typo is pointed out under the sweep
    assert "--kind" in err


def test_a_file_that_fits_two_kinds_equally_says_so(tmp_path: Path) -> None:
    result = invoke("validate", write(tmp_path / "a.yaml", "name: x\npolicies: [mqa_count]\n"))
    assert result.exit_code == 2
    assert "cannot tell whether this is a policy, sweep or suite file" in plain(result.stderr)


def test_a_list_at_the_top_level_is_no_config_file(tmp_path: Path) -> None:
    result = invoke("validate", write(tmp_path / "l.yaml", "- a\n- b\n"))
    assert result.exit_code == 2
    assert "l.yaml:1: expected a mapping of fields at the top level, got list" in result.stderr


@pytest.mark.parametrize(
    ("name", "says"),
    [("smb", "ok: scenario 'smb'"), ("mql_only", "ok: mql policy 'mql_only'")],
)
def test_shipped_names_are_validated_as_their_kind(name: str, says: str) -> None:
    result = invoke("validate", name)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(says)


def test_a_name_that_is_nothing_suggests_the_nearest() -> None:
    result = invoke("validate", "mqa_cuont")
    assert result.exit_code == 2
    assert "no such file, preset scenario" in plain(result.stderr)
    assert "did you mean 'mqa_count'?" in plain(result.stderr)


def test_a_reference_out_of_the_folder_tree_is_refused(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    write(tmp_path / "secret.yaml", "extends: smb\n")
    sweep = write(
        tmp_path / "team" / "s.yaml", "scenario: ../secret.yaml\npolicies: [{policy: mql_only}]\n"
    )
    result = invoke("validate", sweep)
    err = plain(result.stderr)
    assert result.exit_code == 2
    assert "s.yaml:1: scenario:" in err
    assert "may reference only files in its own folder" in err
    assert "read as a sweep file" in err


# -- detection, without the CLI ---------------------------------------------------------------


def test_each_kinds_own_keys_belong_to_no_other_kind() -> None:
    own = distinctive()
    for name, keys in own.items():
        assert keys, name
        assert set(KINDS[name].shows) <= keys, name  # the keys messages show are its own
        for other, other_keys in own.items():
            assert other == name or not keys & other_keys


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"kind": "mql", "name": "x", "threshold": 50}, "policy"),
        ({"policy": "mql_only", "cases": []}, "cases"),
        ({"scenarios": [], "policies": []}, "suite"),
        ({"scenario": "smb", "policies": [], "uncertain": {}}, "sweep"),
        ({"contacts": {"columns": {}}}, "mapping"),
        ({"accounts": {"columns": {"account_id": "Id"}}, "timezone": "UTC"}, "mapping"),
        ({"name": "x", "accounts": {"count": 3}}, "scenario"),  # no own key: most keys known
        ({"extends": "smb", "horizon_dayz": 3}, "scenario"),
        (None, "scenario"),  # an empty file: the default kind
    ],
)
def test_detect_hand_worked_examples(data: object, kind: str) -> None:
    assert detect(data)[0] == kind


def test_detect_refuses_what_no_kind_has() -> None:
    with pytest.raises(ConfigError, match="none of its keys"):
        detect({"foo": 1})


SHIPPED = [
    *[(p, "policy") for p in sorted((ROOT / "policies" / "shipped").glob("*.yaml"))],
    (ROOT / "policies" / "examples" / "cleaned_mqa.yaml", "policy"),
    *[(p, "cases") for p in sorted((ROOT / "policies" / "examples").glob("*_cases.yaml"))],
    *[(p, "scenario") for p in sorted((ROOT / "sim" / "world" / "scenarios").glob("*.yaml"))],
    (ROOT / "benchmarks" / "regression" / "suite.yaml", "suite"),
]


@pytest.mark.parametrize(("path", "kind"), SHIPPED, ids=[p.name for p, _ in SHIPPED])
def test_every_shipped_file_is_detected_as_its_kind(path: Path, kind: str) -> None:
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
    assert detect(yaml.safe_load(path.read_text(encoding="utf-8")))[0] == kind


# -- schema -----------------------------------------------------------------------------------


def schema_of(kind: str) -> dict:
    result = invoke("schema", kind)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def examples(kind: str) -> list[object]:
    """The shipped files of ``kind`` and the hand-written valid one, as YAML data."""
    texts = [p.read_text(encoding="utf-8") for p, k in SHIPPED if k == kind]
    return [yaml.safe_load(t) for t in [*texts, VALID[kind][0]]]


@pytest.mark.parametrize("kind", list(KINDS))
def test_schema_is_json_schema_that_valid_files_satisfy(kind: str) -> None:
    schema = schema_of(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for data in examples(kind):
        errors = [e.message for e in validator.iter_errors(data)]
        assert not errors, (kind, data, errors)


@pytest.mark.parametrize("kind", list(KINDS))
def test_schema_rejects_an_unknown_top_level_key(kind: str) -> None:
    data = dict(examples(kind)[-1])
    data["no_such_key"] = 1
    assert not jsonschema.Draft202012Validator(schema_of(kind)).is_valid(data)


def test_policy_schema_is_discriminated_on_kind() -> None:
    schema = schema_of("policy")
    # plug-ins registered by other tests of this process may add theirs
    assert set(schema["discriminator"]["mapping"]) >= {
        "any",
        "all",
        "mqa_count",
        "mql",
        "stages",
        "weighted_titles",
    }
    validator = jsonschema.Draft202012Validator(schema)
    good = {"name": "x", "kind": "mql", "threshold": 50, "points": {"webinar": 10}}
    assert validator.is_valid(good)
    assert not validator.is_valid({**good, "kind": "mqll"})
    assert not validator.is_valid({**good, "window_days": 30})  # an mqa_count field on an mql
    assert not validator.is_valid({**good, "points": {"webinr": 10}})  # not an activity


def test_scenario_schema_lets_a_file_that_extends_give_any_part_but_nothing_unknown() -> None:
    validator = jsonschema.Draft202012Validator(schema_of("scenario"))
    assert validator.is_valid({"extends": "smb", "accounts": {"count": 30}})
    assert not validator.is_valid({"accounts": {"count": 30}})  # no extends: must be whole
    assert not validator.is_valid({"extends": "smb", "accounts": {"cuont": 30}})
    assert not validator.is_valid({"extends": "smb", "accounts": {"count": "many"}})
    # a list replaces what it extends as a whole: each campaign must be complete
    assert not validator.is_valid({"extends": "smb", "campaigns": [{"name": "spring"}]})


def _docs_yaml_kind():
    """tests/test_docs.py's own way of telling a documented YAML block's kind (written apart
    from sim.config.kinds, so the two check each other)."""
    spec = importlib.util.spec_from_file_location("_docs_kinds", ROOT / "tests" / "test_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.yaml_kind


DOC_BLOCKS = [
    (doc.relative_to(ROOT).as_posix(), block)
    for doc in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "policies" / "README.md"]
    for block in re.findall(r"^```yaml[^\n]*\n(.*?)^```", doc.read_text("utf-8"), re.M | re.S)
]


def test_every_documented_yaml_block_is_detected_as_the_docs_say() -> None:
    docs_kind = _docs_yaml_kind()
    assert len(DOC_BLOCKS) >= 15
    for doc, block in DOC_BLOCKS:
        data = yaml.safe_load(block)
        expected = docs_kind(data)
        if expected != "workflow":
            assert detect(data, doc)[0] == expected, (doc, block)


@given(st.sampled_from(list(KINDS)), st.data())
def test_a_file_with_only_one_kinds_keys_is_that_kind(kind: str, data: st.DataObject) -> None:
    own = sorted(distinctive()[kind])
    shared = sorted(KINDS[kind].keys - distinctive()[kind])
    keys = data.draw(st.lists(st.sampled_from(own), min_size=1, unique=True))
    keys += data.draw(st.lists(st.sampled_from(shared), unique=True)) if shared else []
    keys = data.draw(st.permutations(keys))
    assert detect(dict.fromkeys(keys, 1)) == (kind, [k for k in keys if k in own])


def test_a_file_of_many_unknown_keys_names_a_few(tmp_path: Path) -> None:
    text = "".join(f"key_{i}: {i}\n" for i in range(5000))
    result = invoke("validate", write(tmp_path / "many.yaml", text))
    err = plain(result.stderr)
    assert result.exit_code == 2
    assert "(key_0, key_1, key_2, key_3, key_4, key_5, key_6, key_7, ... (5,000 keys))" in err
    assert "key_8" not in err


# -- the light key table is the models' ---------------------------------------------------------


def _model_keys(model) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def test_each_kinds_keys_are_its_models_fields() -> None:
    import policies
    from policies.cases import CaseFile
    from sim.experiment.gate import Suite
    from sim.experiment.sweep.spec import SweepSpec
    from sim.real.mapping import Mapping
    from sim.world.scenario import Scenario

    builtin = ("any", "all", "mqa_count", "mql", "stages", "weighted_titles")
    policy_keys = set().union(*(_model_keys(policies.kinds()[k]) for k in builtin))
    models = {"scenario": Scenario, "sweep": SweepSpec, "mapping": Mapping, "suite": Suite}
    expected = {k: _model_keys(m) for k, m in (models | {"cases": CaseFile}).items()}
    expected["policy"] = policy_keys
    assert {k: set(v.keys) for k, v in KINDS.items()} == expected, (
        "sim/config/kinds.py's KINDS must list the top-level fields of each kind's model"
    )


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_cli_schema_is_the_reference_pages(kind: str) -> None:
    cli = json_schema(kind)
    assert cli.pop("$schema") == "https://json-schema.org/draft/2020-12/schema"
    docs = model_schema(kind)
    if kind == "policy":  # qualsim schema adds plug-ins (other tests of this process add some)
        mapping = cli["discriminator"]["mapping"]
        assert docs["discriminator"]["mapping"].items() <= mapping.items()
        assert docs["$defs"].items() <= cli["$defs"].items()
    else:
        assert cli == (partial_schema(docs) if kind == "scenario" else docs)


def test_detecting_a_kind_imports_no_loader() -> None:
    code = (
        "import sys; from sim.config.kinds import detect; detect({'kind': 'mql'}); "
        "heavy = [m for m in ('pandas', 'scipy', 'sim.experiment', 'policies', 'sim.world') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_kind_key_makes_a_policy_whatever_else_it_says() -> None:
    # a policy with a scenario's `extends` is a policy (and gets the policy's error), not a tie
    assert detect({"name": "p", "kind": "mql", "extends": "../base.yaml"}) == ("policy", ["kind"])
    assert detect({"extends": "smb", "horizon_days": 30})[0] == "scenario"
