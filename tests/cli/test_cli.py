"""Tests for the ``qualsim`` command line: bad scenarios give one paragraph on stderr and exit code
2 (never a traceback), ``validate`` prints "ok", ``schema`` prints JSON Schema, ``simulate``
writes the tables and ``run`` prints a summary.

Most tests drive ``sim.cli`` in-process with typer's ``CliRunner``. The installed typer
(vendored click >= 8.2) keeps stdout and stderr apart in ``result.stdout`` / ``result.stderr``
(``result.output`` interleaves both), which ``test_runner_separates_stderr`` checks. The
``qualsim`` executable itself is run as a subprocess for every bad-scenario kind, so the real
exit code and the absence of a traceback are proven end to end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

import sim
from sim.cli import app

TABLES = ("accounts", "contacts", "events", "truth", "campaigns")
TITLES = (
    "Accounts by tier",
    "Buying committees and noise contacts per account",
    "Touches by activity",
    "Touches by channel",
    "Latent journey funnel (in-market accounts)",
    "Decision outcomes",
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
QUALSIM = shutil.which("qualsim")
needs_exe = pytest.mark.skipif(
    QUALSIM is None, reason="the 'qualsim' console script is not on PATH (pip install -e . first)"
)


def plain(text: str) -> str:
    """``text`` without ANSI escape codes (in case a terminal forces colour)."""
    return ANSI.sub("", text)


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def assert_user_error(code: int, stdout: str, stderr: str, fragment: str) -> None:
    """Exit 2, no traceback, one paragraph starting 'error:' on stderr naming ``fragment``."""
    stdout, stderr = plain(stdout), plain(stderr)
    assert code == 2, (code, stdout, stderr)
    assert "Traceback" not in stdout + stderr
    assert stdout == "", stdout
    assert stderr.startswith("error: "), stderr
    assert "\n\n" not in stderr.strip(), "the error must be one paragraph"
    assert fragment in stderr, stderr


# --- bad scenario kinds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A kind of bad scenario: ``make(folder)`` writes it and returns the CLI argument."""

    id: str
    make: Callable[[Path], str]
    fragment: str  # a piece of the expected error, with {dir} for the folder


def _file(name: str, text: str) -> Callable[[Path], str]:
    def make(folder: Path) -> str:
        return str(write(folder / name, text))

    return make


def _cycle(folder: Path) -> str:
    write(folder / "b.yaml", "extends: a.yaml\n")
    return str(write(folder / "a.yaml", "extends: b.yaml\n"))


KINDS = [
    Kind(
        "wrong-type",
        _file("t.yaml", "extends: enterprise\naccounts: {count: many}\n"),
        "{dir}/t.yaml:2: accounts.count: expected a whole number, got 'many'",
    ),
    Kind(
        "unknown-key-top",
        _file("k.yaml", "extends: enterprise\nhorizon_day: 400\n"),
        "{dir}/k.yaml:2: horizon_day: unknown key 'horizon_day' (did you mean 'horizon_days'?)",
    ),
    Kind(
        "unknown-key-nested",
        _file("n.yaml", "extends: enterprise\njourney:\n  stages:\n    aware: {median_dayz: 3}\n"),
        "{dir}/n.yaml:4: journey.stages.aware.median_dayz: unknown key 'median_dayz' "
        "(did you mean 'median_days'?)",
    ),
    Kind(
        "unknown-activity",
        _file(
            "a.yaml",
            "extends: enterprise\ntouches:\n  contact_rates_per_week:\n    aware: {webvisit: 1}\n",
        ),
        "did you mean 'web_visit'?",
    ),
    Kind(
        "negative-rate",
        _file(
            "r.yaml",
            "extends: enterprise\ntouches:\n  account_rates_per_week:\n"
            "    aware: {impression: -1}\n",
        ),
        "{dir}/r.yaml:4: touches.account_rates_per_week.aware.impression: must be >= 0",
    ),
    Kind(
        "zero-count",
        _file("c.yaml", "extends: enterprise\naccounts:\n  count: 0\n"),
        "{dir}/c.yaml:3: accounts.count: must be > 0, got 0",
    ),
    Kind(
        "industries-sum",
        _file("i.yaml", "extends: enterprise\naccounts:\n  industries: {software: 0.5}\n"),
        "{dir}/i.yaml:3: accounts.industries: industry shares must sum to 1, got 0.5",
    ),
    Kind(
        "tier-shares-sum",
        _file("s.yaml", "extends: enterprise\naccounts:\n  tiers:\n    1: {share: 0.5}\n"),
        "{dir}/s.yaml:3: accounts.tiers: tier shares must sum to 1",
    ),
    Kind(
        "join-stage-sum",
        _file(
            "j.yaml",
            "extends: enterprise\ncommittee:\n  roles:\n    user:\n"
            "      join_stage: {aware: 0.1}\n",
        ),
        "{dir}/j.yaml:5: committee.roles.user.join_stage: join_stage weights must sum to 1",
    ),
    Kind(
        "campaign-dates",
        _file(
            "d.yaml",
            "extends: enterprise\ncampaigns:\n  - {name: x, channel: email, start_day: 9, "
            "end_day: 3, lift: 2, activities: [webinar]}\n",
        ),
        "{dir}/d.yaml:3: campaigns[0]: need start_day < end_day",
    ),
    Kind(
        "campaign-tier",
        _file(
            "ct.yaml",
            "extends: enterprise\ncampaigns:\n  - {name: x, channel: email, start_day: 1, "
            "end_day: 3, lift: 2, tiers: [7], activities: [webinar]}\n",
        ),
        "campaign 'x' targets tiers [7] that accounts.tiers does not define",
    ),
    Kind(
        "start-window",
        _file("w.yaml", "extends: enterprise\nhorizon_days: 100\n"),
        "journey.start_window_days ends at 540, after horizon_days (100)",
    ),
    Kind(
        "missing-file", lambda folder: str(folder / "missing.yaml"), "missing.yaml: file not found"
    ),
    Kind(
        "yaml-syntax",
        _file("y.yaml", "extends: enterprise\nname: a: b\n"),
        "{dir}/y.yaml:2:8: YAML syntax error: mapping values are not allowed here",
    ),
    Kind(
        "duplicate-key",
        _file("dk.yaml", "extends: enterprise\naccounts:\n  count: 1\n  count: 2\n"),
        "{dir}/dk.yaml:4: duplicate key 'count' (first at line 3)",
    ),
    Kind(
        "extends-unknown-preset",
        _file("e.yaml", "extends: enterprize\n"),
        "did you mean 'enterprise'?",
    ),
    Kind("extends-cycle", _cycle, "'extends' makes a cycle"),
    Kind(
        "top-level-list",
        _file("l.yaml", "- extends: enterprise\n"),
        "{dir}/l.yaml:1: expected a mapping of fields at the top level, got list",
    ),
    Kind(
        "empty-file",
        _file("empty.yaml", ""),
        "{dir}/empty.yaml: horizon_days: required field is missing",
    ),
    Kind("unknown-preset-name", lambda folder: "enterprize", "did you mean 'enterprise'?"),
]
KIND_IDS = [k.id for k in KINDS]


def _fragment(kind: Kind, folder: Path) -> str:
    return kind.fragment.format(dir=folder)


@pytest.mark.parametrize("command", ["validate", "run", "simulate"])
@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_bad_scenario_exits_2_with_one_paragraph(tmp_path: Path, kind: Kind, command: str) -> None:
    arg = kind.make(tmp_path)
    extra = ["--out", str(tmp_path / "world")] if command == "simulate" else []
    result = invoke(command, arg, *extra)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert_user_error(result.exit_code, result.stdout, result.stderr, _fragment(kind, tmp_path))
    assert not (tmp_path / "world").exists(), "nothing is written for a bad scenario"


def test_multi_error_file_lists_every_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.yaml",
        "extends: enterprise\nhorizon_day: 1\naccounts:\n  count: -1\nin_market: {at_fit_0: 2}\n",
    )
    result = invoke("validate", path)
    assert_user_error(result.exit_code, result.stdout, result.stderr, "(3 problems)")
    for piece in (f"{path}:2: horizon_day", f"{path}:4: accounts.count", f"{path}:5: in_market"):
        assert piece in result.stderr


def test_runner_separates_stderr(tmp_path: Path) -> None:
    result = invoke("validate", tmp_path / "missing.yaml")
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr in result.output  # output interleaves both streams


# --- the real executable -------------------------------------------------------------------------


def _run_exe(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert QUALSIM is not None
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [QUALSIM, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


@pytest.fixture(scope="module")
def exe_results(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """``qualsim validate <bad scenario>`` for every kind, run in parallel (they are slow-ish)."""
    if QUALSIM is None:
        pytest.skip("the 'qualsim' console script is not on PATH (pip install -e . first)")
    jobs = {}
    for kind in KINDS:
        folder = tmp_path_factory.mktemp(kind.id)
        jobs[kind.id] = (folder, kind.make(folder))
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {k: pool.submit(_run_exe, "validate", arg) for k, (_, arg) in jobs.items()}
        return {k: (jobs[k][0], f.result()) for k, f in futures.items()}


@needs_exe
@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_executable_bad_scenario_exits_2_without_traceback(
    kind: Kind, exe_results: dict[str, tuple[Path, subprocess.CompletedProcess[str]]]
) -> None:
    folder, proc = exe_results[kind.id]
    assert_user_error(proc.returncode, proc.stdout, proc.stderr, _fragment(kind, folder))


@needs_exe
@pytest.mark.parametrize("command", ["run", "simulate"])
def test_executable_run_and_simulate_bad_scenario(tmp_path: Path, command: str) -> None:
    path = write(tmp_path / "bad.yaml", "extends: smb\naccounts: {count: -4}\n")
    proc = _run_exe(command, str(path), cwd=tmp_path)
    assert_user_error(proc.returncode, proc.stdout, proc.stderr, f"{path}:2: accounts.count")
    assert not (tmp_path / "world").exists()


@needs_exe
def test_executable_schema_to_file_and_simulate(tmp_path: Path) -> None:
    schema_file = tmp_path / "scenario.schema.json"
    with schema_file.open("w", encoding="utf-8") as fh:
        assert (
            subprocess.run([QUALSIM, "schema", "scenario"], stdout=fh, timeout=120).returncode == 0
        )
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert {"accounts", "journey"} <= set(schema["properties"])

    scenario = write(tmp_path / "small.yaml", "extends: smb\naccounts: {count: 30}\n")
    proc = _run_exe("simulate", str(scenario), "--seed", "7", "--out", str(tmp_path / "w"))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    expected = sim.simulate(sim.load_scenario(scenario), seed=7)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "w" / "events.parquet"), expected.events
    )


# --- validate ------------------------------------------------------------------------------------


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    return write(tmp_path / "small.yaml", "extends: smb\naccounts: {count: 30}\n")


def test_validate_ok(small_file: Path) -> None:
    result = invoke("validate", small_file)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok")
    assert "'smb'" in result.stdout
    assert "30 accounts" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("preset", sim.PRESETS)
def test_validate_presets(preset: str) -> None:
    result = invoke("validate", preset)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: scenario '{preset}'")


def test_validate_needs_an_argument() -> None:
    result = invoke("validate")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr
    assert "Traceback" not in result.output


def test_bad_seed_is_a_usage_error(small_file: Path) -> None:
    result = invoke("run", small_file, "--seed", "-1")
    assert result.exit_code == 2
    assert "--seed" in result.stderr
    assert "Traceback" not in result.output


# --- markup-like user text is printed verbatim ---


def test_error_names_file_with_brackets_verbatim(tmp_path: Path) -> None:
    path = write(tmp_path / "scen[v2].yaml", "extends: enterprise\naccounts: {count: 0}\n")
    result = invoke("validate", path)
    assert_user_error(result.exit_code, result.stdout, result.stderr, f"{path}:2: accounts.count")


def test_error_with_markup_like_text_is_printed_verbatim(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.yaml",
        'extends: enterprise\ncampaigns:\n  - {name: "[/promo]", channel: email, start_day: 1, '
        "end_day: 3, lift: 2, tiers: [7], activities: [webinar]}\n",
    )
    result = invoke("validate", path)
    assert_user_error(result.exit_code, result.stdout, result.stderr, "campaign '[/promo]'")


@pytest.mark.parametrize("command", ["validate", "run", "simulate"])
def test_markup_like_names_do_not_crash(tmp_path: Path, command: str) -> None:
    path = write(tmp_path / "ok.yaml", 'extends: smb\nname: "[/x]"\naccounts: {count: 30}\n')
    extra = ["--out", str(tmp_path / "w[/x]")] if command == "simulate" else []
    result = invoke(command, path, *extra)
    assert result.exit_code == 0, result.output
    assert result.exception is None


# --- schema ---------------------------------------------------------------------------------------


def test_schema_scenario_is_json_schema() -> None:
    result = invoke("schema", "scenario")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert {"accounts", "journey"} <= set(schema["properties"])
    assert "horizon_days" in schema["else"]["required"]  # required unless the file extends
    assert result.stderr == ""


def test_schema_default_is_scenario() -> None:
    assert json.loads(invoke("schema").stdout) == json.loads(invoke("schema", "scenario").stdout)


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [
        ("nonsense", "unknown schema 'nonsense': expected one of scenario"),
        ("scenari", "did you mean 'scenario'?"),
    ],
)
def test_schema_unknown_kind(kind: str, fragment: str) -> None:
    result = invoke("schema", kind)
    assert_user_error(result.exit_code, result.stdout, result.stderr, fragment)


# --- simulate -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smb50(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, sim.World]:
    """A small override file (extends smb, 50 accounts) and its in-memory world for seed 7."""
    path = write(
        tmp_path_factory.mktemp("smb50") / "smb50.yaml",
        "extends: smb\naccounts:\n  count: 50\n",
    )
    return path, sim.simulate(sim.load_scenario(path), seed=7)


def test_simulate_writes_parquet(tmp_path: Path, smb50: tuple[Path, sim.World]) -> None:
    path, world = smb50
    out = tmp_path / "world"
    result = invoke("simulate", path, "--seed", "7", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    names = {p.name for p in out.iterdir()}
    assert names == {f"{t}.parquet" for t in TABLES} | {"scenario.json", ".qualsim-output"}
    unwrapped = "".join(result.stdout.split())  # rich wraps long lines at 80 columns
    for table in TABLES:
        assert f"wrote{out / table}.parquet" in unwrapped
    meta = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert meta["seed"] == 7
    assert meta["scenario"]["accounts"]["count"] == 50
    assert meta["scenario"]["name"] == "smb"
    assert sim.load_scenario(meta["scenario"]) == world.scenario
    for table, df in world.tables().items():
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{table}.parquet"), df, obj=table)
    assert len(world.events) > 0


def test_simulate_writes_csv(tmp_path: Path, smb50: tuple[Path, sim.World]) -> None:
    path, world = smb50
    out = tmp_path / "world"
    result = invoke("simulate", path, "--seed", "7", "--out", out, "--out-format", "csv")
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert names == {f"{t}.csv" for t in TABLES} | {"scenario.json", ".qualsim-output"}
    events = pd.read_csv(out / "events.csv")
    expected = world.events.astype({"activity": str, "channel": str})
    assert list(events.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(events, expected, check_dtype=False)


def test_simulate_other_seed_differs(tmp_path: Path, smb50: tuple[Path, sim.World]) -> None:
    path, world = smb50
    result = invoke("simulate", path, "--seed", "8", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert not pd.read_parquet(tmp_path / "events.parquet").equals(world.events)


def test_simulate_preset_with_overrides_is_deterministic(tmp_path: Path, small_file: Path) -> None:
    for name in ("a", "b"):
        assert invoke("simulate", small_file, "-s", "3", "-o", tmp_path / name).exit_code == 0
    for table in TABLES:
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "a" / f"{table}.parquet"),
            pd.read_parquet(tmp_path / "b" / f"{table}.parquet"),
        )


def test_simulate_prints_each_written_path_on_one_line(tmp_path: Path, small_file: Path) -> None:
    out = tmp_path / ("long-folder-name-" * 5) / "world"
    result = invoke("simulate", small_file, "--out", out)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines == [f"wrote {out / table}.parquet" for table in TABLES] + [
        f"wrote {out / 'scenario.json'}"
    ]


@pytest.mark.parametrize("where", ["file", "file/sub"])
def test_simulate_out_not_a_folder(tmp_path: Path, small_file: Path, where: str) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    out = tmp_path / where
    result = invoke("simulate", small_file, "--out", out)
    assert_user_error(
        result.exit_code, result.stdout, result.stderr, f"{out}: cannot create output folder"
    )


# --- run ------------------------------------------------------------------------------------------


def test_world_prints_summary(small_file: Path) -> None:
    result = invoke("world", small_file, "--seed", "3")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    text = plain(result.stdout)
    assert text.startswith("smb: 30 accounts")
    assert "(seed 3" in text
    for title in TITLES:
        assert title in text
