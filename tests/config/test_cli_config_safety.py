"""The same faults through the real ``qualsim`` executable: exit code 2, one paragraph on
stderr, no traceback, and never the content of a file the user did not name (a marker written
in the foreign file must not appear in stdout or stderr)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

QUALSIM = shutil.which("qualsim")
pytestmark = pytest.mark.skipif(
    QUALSIM is None, reason="the 'qualsim' console script is not on PATH (pip install -e . first)"
)
MARKER = "FOREIGN_MARKER_c41d"
FOREIGN_POLICY = f"name: {MARKER}\nkind: mql\nthreshold: 10\npoints: {{web_visit: 5}}\n"
FOREIGN_SCENARIO = f"extends: enterprise\nname: {MARKER}\n{MARKER}_key: 1\n"
CASES = "cases: [{name: c, events: [[0, a, null, web_visit]], expect: []}]\n"


@dataclass(frozen=True)
class Case:
    """A bad input: the files it needs (relative path -> text; ``@fifo``/``@link:target`` make a
    FIFO or a symlink), the qualsim arguments, and what stderr must say."""

    id: str
    files: dict[str, str]
    args: Callable[[Path], list[str]]
    says: str


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if text == "@fifo":
            os.mkfifo(path)
        elif text.startswith("@link:"):
            path.symlink_to(folder / text.removeprefix("@link:"))
        else:
            path.write_text(text, encoding="utf-8")


OUT = {"out/foreign.yaml": FOREIGN_POLICY, "out/scenario.yaml": FOREIGN_SCENARIO}
SUITE = "scenarios: [{name: a, scenario: enterprise}]\n"


def _f(name: str) -> Callable[[Path], list[str]]:
    return lambda d: ["validate", str(d / name)]


CASES_CLI = [
    Case("dev-zero", {}, lambda d: ["validate", "/dev/zero"], "from a character device"),
    Case("fifo", {"team/p.yaml": "@fifo"}, _f("team/p.yaml"), "from a pipe (FIFO)"),
    Case("directory", {"team/d.yaml/x": "a: 1\n"}, _f("team/d.yaml"), "from a directory"),
    Case(
        "huge-file",
        {"team/s.yaml": "extends: enterprise\n" + "#" * (2 << 20) + "\n"},
        _f("team/s.yaml"),
        "2,097,173 bytes is far larger than any config file (at most 1,048,576 bytes, 1 MiB)",
    ),
    Case(
        "deep-nesting",
        {"team/s.yaml": "a: " + "[" * 100_000 + "\n"},
        _f("team/s.yaml"),
        "nest deeper than 64 levels",
    ),
    Case(
        "huge-int",
        {"team/p.yaml": "name: x\nkind: mql\nthreshold: " + "9" * 5000 + "\n"},
        _f("team/p.yaml"),
        "a whole number of 5,000 characters is too long",
    ),
    Case(
        "window-inf",
        {
            "team/p.yaml": "name: x\nkind: mqa_count\nwindow_days: .inf\n"
            "any: [{unique_contacts: 3}]\n"
        },
        _f("team/p.yaml"),
        "p.yaml:3: window_days: must be a finite number, got .inf",
    ),
    Case(
        "median-days-inf",
        {"team/s.yaml": "extends: enterprise\njourney: {stages: {engaged: {median_days: .inf}}}\n"},
        _f("team/s.yaml"),
        "s.yaml:2: journey.stages.engaged.median_days: must be a finite number",
    ),
    Case(
        "nan-points",
        {"team/p.yaml": "name: x\nkind: mql\nthreshold: 10\npoints: {web_visit: .nan}\n"},
        _f("team/p.yaml"),
        "p.yaml:4: points.web_visit: must be a finite number, got .nan",
    ),
    Case(
        "scenario-extends-absolute",
        {**OUT, "team/s.yaml": "extends: {d}/out/scenario.yaml\n"},
        _f("team/s.yaml"),
        "s.yaml:1: extends: '{d}/out/scenario.yaml' is an absolute path",
    ),
    Case(
        "scenario-extends-dotdot",
        {**OUT, "team/s.yaml": "extends: ../out/scenario.yaml\n"},
        _f("team/s.yaml"),
        "s.yaml:1: extends: '../out/scenario.yaml' goes up with '..'",
    ),
    Case(
        "scenario-extends-symlink",
        {**OUT, "team/l.yaml": "@link:out/scenario.yaml", "team/s.yaml": "extends: l.yaml\n"},
        _f("team/s.yaml"),
        "s.yaml:1: extends: 'l.yaml' is a symlink that leads out",
    ),
    Case(
        "extends-nul-byte",
        {"team/s.yaml": 'extends: "a\\0b.yaml"\n'},
        _f("team/s.yaml"),
        "s.yaml:1: extends: 'a\\x00b.yaml' contains a control character",
    ),
    Case(
        "symlink-loop",
        {
            "team/a.yaml": "@link:team/b.yaml",
            "team/b.yaml": "@link:team/a.yaml",
            "team/p.yaml": "name: b\nkind: any\npolicies: [a.yaml]\n",
        },
        _f("team/p.yaml"),
        "p.yaml:3: policies[0]: {d}/team/a.yaml: cannot follow its symlinks",
    ),
    Case(
        "policy-extends",
        {**OUT, "team/p.yaml": "extends: {d}/out/foreign.yaml\nname: p\nkind: mql\n"},
        _f("team/p.yaml"),
        "p.yaml:1: extends: a policy cannot extend another file",
    ),
    Case(
        "combinator-member",
        {**OUT, "team/p.yaml": "name: b\nkind: any\npolicies: [mql_only, ../out/foreign.yaml]\n"},
        _f("team/p.yaml"),
        "p.yaml:3: policies[1]: '../out/foreign.yaml' goes up",
    ),
    Case(
        "test-policy",
        {**OUT, "team/c.yaml": "policy: {d}/out/foreign.yaml\n" + CASES},
        lambda d: ["test-policy", str(d / "team/c.yaml")],
        "c.yaml:1: policy: '{d}/out/foreign.yaml' is an absolute path",
    ),
    Case(
        "test-policy-nan-day",
        {"team/c.yaml": "policy: mql_only\n" + CASES.replace("[[0,", "[[.nan,")},
        lambda d: ["test-policy", str(d / "team/c.yaml")],
        "c.yaml:2: cases[0].events[0][0]: must be a finite number",
    ),
    Case(
        "gate-policy",
        {**OUT, "team/suite.yaml": "policies: [../out/foreign.yaml]\n" + SUITE},
        lambda d: ["gate", str(d / "team/suite.yaml"), "--baseline-file", str(d / "b.json")],
        "suite.yaml:1: policies[0]: '../out/foreign.yaml' goes up",
    ),
    Case(
        "gate-scenario",
        {
            **OUT,
            "team/suite.yaml": "policies: [mql_only]\n"
            "scenarios: [{name: a, scenario: {d}/out/scenario.yaml}]\n",
        },
        lambda d: ["gate", str(d / "team/suite.yaml"), "--baseline-file", str(d / "b.json")],
        "suite.yaml:2: scenarios[0].scenario: '{d}/out/scenario.yaml' is an absolute path",
    ),
    Case(
        "gate-baseline-dev-zero",
        {"team/suite.yaml": "policies: [mql_only]\n" + SUITE},
        lambda d: ["gate", str(d / "team/suite.yaml"), "--baseline-file", "/dev/zero"],
        "/dev/zero: cannot read a config file from a character device",
    ),
    Case(
        "sweep-scenario",
        {**OUT, "team/sw.yaml": "scenario: ../out/scenario.yaml\npolicies: [{policy: mql_only}]\n"},
        lambda d: ["sweep", str(d / "team/sw.yaml"), "--out", str(d / "runs")],
        "sw.yaml:1: scenario: '../out/scenario.yaml' goes up",
    ),
    Case(
        "sweep-policy",
        {**OUT, "team/sw.yaml": "policies: [{policy: /etc/passwd}]\n"},
        lambda d: ["sweep", str(d / "team/sw.yaml"), "--out", str(d / "runs")],
        "sw.yaml:1: policies[0]: '/etc/passwd' is an absolute path",
    ),
    Case(
        "mapping-timestamp-format",
        {
            "team/m.yaml": 'timestamp_format: "%Y-%m-%d %Q"\n',
            "team/e.csv": "account_id,contact_id,timestamp,activity\na,c,2024-01-01,webinar\n",
            "team/c.csv": "contact_id,account_id,title\nc,a,CEO\n",
        },
        lambda d: [
            "import",
            "--events",
            str(d / "team/e.csv"),
            "--contacts",
            str(d / "team/c.csv"),
            "--mapping",
            str(d / "team/m.yaml"),
            "--out",
            str(d / "imported"),
        ],
        "m.yaml:1: timestamp_format: not a valid strptime format: 'Q' is a bad directive",
    ),
]


def _run(case: Case, folder: Path) -> subprocess.CompletedProcess[str]:
    assert QUALSIM is not None
    _write(folder, {k: v.replace("{d}", str(folder)) for k, v in case.files.items()})
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env.update(NO_COLOR="1", COLUMNS="400")
    return subprocess.run(
        [QUALSIM, *case.args(folder)], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, object]]:
    """Every case through the executable, a few at a time (each start costs ~1 s)."""
    folders = {c.id: tmp_path_factory.mktemp(c.id) for c in CASES_CLI}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {c.id: pool.submit(_run, c, folders[c.id]) for c in CASES_CLI}
        return {k: (folders[k], f.result()) for k, f in futures.items()}


@pytest.mark.parametrize("case", CASES_CLI, ids=[c.id for c in CASES_CLI])
def test_bad_config_exits_2_with_one_paragraph(case: Case, results: dict) -> None:
    folder, done = results[case.id]
    assert isinstance(done, subprocess.CompletedProcess)
    printed = done.stdout + done.stderr
    assert done.returncode == 2, printed
    assert "Traceback" not in printed
    assert MARKER not in printed
    assert done.stderr.startswith("error: ")
    assert "\n\n" not in done.stderr.strip()
    assert case.says.replace("{d}", str(folder)) in " ".join(done.stderr.split()), done.stderr
