"""Outputs that are safe and whole, through the API and the command line (in-process with
``CliRunner`` and as the real ``qualsim`` executable):

- CSV cells a spreadsheet would run as a formula get a leading ``'`` (``--raw-csv`` keeps them),
  numbers never change, and our own readers give the original values back;
- nothing printed to a terminal carries control characters from user text;
- a command's output folder is replaced as a whole: no stale file of a previous run, no partial
  file after a failure, never a folder qualsim did not write; bad places are exit 2.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.errors import DataError, QualsimError
from sim.experiment import Comparison
from sim.files import MARKER, write_tables
from sim.real.replays import replay
from sim.report import write_report

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
QUALSIM = shutil.which("qualsim")
needs_exe = pytest.mark.skipif(
    QUALSIM is None, reason="the 'qualsim' console script is not on PATH"
)
SHIPPED = Path(__file__).resolve().parents[2] / "policies" / "shipped"

EVIL_ACCOUNT = "=cmd|' /C calc'!A0"
# a policy name with a spreadsheet formula and a terminal escape (red text, then a title change)
EVIL_NAME = '=HYPERLINK("http://x")\x1b[31mred\x1b]0;owned\x07'
SHOWN_NAME = '=HYPERLINK("http://x")red'
ESC = ("\x1b", "\x07", "\x9b")


def plain(text: str) -> str:
    """``text`` without ANSI colour codes (in case a terminal forces colour)."""
    return ANSI.sub("", text)


def assert_user_error(code: int, stdout: str, stderr: str, fragment: str) -> None:
    """Exit 2, no traceback, nothing on stdout, one paragraph 'error: ...' naming ``fragment``."""
    stdout, stderr = plain(stdout), plain(stderr)
    assert code == 2, (code, stdout, stderr)
    assert "Traceback" not in stdout + stderr
    assert stdout == "", stdout
    assert stderr.startswith("error: "), stderr
    assert "\n\n" not in stderr.strip(), "the error must be one paragraph"
    assert fragment in " ".join(stderr.split()) or fragment in stderr, stderr


def invoke(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args])


def run_exe(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert QUALSIM is not None
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [QUALSIM, *map(str, args)], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture
def export(tmp_path: Path) -> dict[str, Path]:
    """A hand-made canonical export: the account ``=cmd|...`` hands off once (two demo
    requests, 60 points against a threshold of 50) and has an opportunity; ``acme`` hands off
    without one; ``-42`` never hands off."""
    files = {
        "events": "timestamp,account_id,contact_id,activity\n"
        f'2024-01-02T10:00:00,"{EVIL_ACCOUNT}",c1,demo_request\n'
        f'2024-01-03T10:00:00,"{EVIL_ACCOUNT}",c1,demo_request\n'
        "2024-01-05T10:00:00,acme,c2,demo_request\n"
        "2024-01-06T10:00:00,acme,c2,demo_request\n"
        "2024-02-01T10:00:00,-42,c3,web_visit\n",
        "contacts": f'contact_id,account_id,title\nc1,"{EVIL_ACCOUNT}",@SUM(1+1)*cmd\n'
        "c2,acme,VP Sales\nc3,-42,+buyer\n",
        "accounts": f'account_id,opportunity_date\n"{EVIL_ACCOUNT}",2024-01-20\nacme,\n-42,\n',
        "policy": f"name: {json.dumps(EVIL_NAME)}\nkind: mql\nthreshold: 50\n"
        "points: {demo_request: 30}\n",
    }
    paths = {}
    for role, text in files.items():
        paths[role] = tmp_path / "in" / (f"{role}.yaml" if role == "policy" else f"{role}.csv")
        paths[role].parent.mkdir(exist_ok=True)
        paths[role].write_text(text, encoding="utf-8")
    return paths


def evaluate_args(export: dict[str, Path], out: Path, accounts: bool = True) -> list[str]:
    args = ["evaluate", "--events", str(export["events"]), "--contacts", str(export["contacts"])]
    args += ["--policy", str(export["policy"]), "--out", str(out)]
    return args + (["--accounts", str(export["accounts"])] if accounts else [])


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


# --- CSV formula injection ------------------------------------------------------------------


def test_evaluate_neutralises_formulas_and_raw_csv_keeps_them(export, tmp_path: Path) -> None:
    safe, raw = tmp_path / "safe", tmp_path / "raw"
    assert invoke(*evaluate_args(export, safe)).exit_code == 0
    assert invoke(*evaluate_args(export, raw), "--raw-csv").exit_code == 0
    quoted = '"\'=HYPERLINK(""http://x"")\x1b[31mred\x1b]0;owned\x07"'
    assert lines(safe / "qualifications.csv")[1:] == [
        f"{quoted},'{EVIL_ACCOUNT},c1,2024-01-03T10:00:00,threshold,60.0",
        f"{quoted},acme,c2,2024-01-06T10:00:00,threshold,60.0",
    ]
    assert lines(safe / "metrics.csv")[1].startswith(f"{quoted},2,1,0.5,")
    assert lines(raw / "qualifications.csv")[1].startswith(f'"{EVIL_NAME[:1]}')
    assert f",{EVIL_ACCOUNT},c1," in lines(raw / "qualifications.csv")[1]


def test_replay_write_api_safe_and_raw(export, tmp_path: Path) -> None:
    r = replay(export["events"], export["contacts"], [export["policy"]], export["accounts"])
    r.write(tmp_path / "safe")
    r.write(tmp_path / "raw", safe=False)
    safe = pd.read_csv(tmp_path / "safe" / "qualifications.csv", keep_default_na=False)
    raw = pd.read_csv(tmp_path / "raw" / "qualifications.csv", keep_default_na=False)
    assert safe["account_id"].tolist() == ["'" + EVIL_ACCOUNT, "acme"]
    assert raw["account_id"].tolist() == [EVIL_ACCOUNT, "acme"]
    assert raw["score"].tolist() == safe["score"].tolist() == [60.0, 60.0]


def test_import_keeps_ids_raw_so_evaluate_sees_the_same_account(export, tmp_path: Path) -> None:
    imp = tmp_path / "imp"
    args = ["import", "--events", export["events"], "--contacts", export["contacts"]]
    assert invoke(*args, "--accounts", export["accounts"], "--out", imp).exit_code == 0
    accounts = pd.read_csv(imp / "accounts.csv", dtype=str, keep_default_na=False)
    assert accounts["account_id"].tolist() == [EVIL_ACCOUNT, "acme", "-42"]
    contacts = pd.read_csv(imp / "contacts.csv", dtype=str, keep_default_na=False)
    assert contacts["title"].tolist() == ["@SUM(1+1)*cmd", "VP Sales", "+buyer"]
    res = tmp_path / "res"
    ev = ["--events", imp / "events.csv", "--contacts", imp / "contacts.csv"]
    r = invoke("evaluate", *ev, "-p", export["policy"], "--out", res)
    assert r.exit_code == 0, r.output
    q = pd.read_csv(res / "qualifications.csv", keep_default_na=False)
    assert q["account_id"].tolist() == ["'" + EVIL_ACCOUNT, "acme"]  # quoted once, not twice


# --- terminal control characters ------------------------------------------------------------


@needs_exe
def test_no_control_characters_reach_the_terminal(export, tmp_path: Path) -> None:
    proc = run_exe(*evaluate_args(export, tmp_path / "res"))
    assert proc.returncode == 0, proc.stderr
    assert not any(c in proc.stdout + proc.stderr for c in ESC)
    assert f"{SHOWN_NAME}: 2 handoffs" in proc.stdout
    bad = tmp_path / "no\x1b]0;owned\x07such\x1b[2J.yaml"
    proc = run_exe("validate", bad)
    assert proc.returncode == 2
    assert not any(c in proc.stdout + proc.stderr for c in ESC)
    assert "nosuch.yaml" in proc.stderr.replace("\n", "")


# --- output folders replaced as a whole -----------------------------------------------------


def test_evaluate_twice_keeps_only_the_second_runs_files(export, tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert invoke(*evaluate_args(export, out)).exit_code == 0
    assert {p.name for p in out.iterdir()} >= {"metrics.csv", "outcomes.csv"}
    r = invoke(*evaluate_args(export, out, accounts=False))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "qualifications.csv"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_import_twice_leaves_no_stale_accounts_file(export, tmp_path: Path) -> None:
    imp = tmp_path / "imp"
    args = ["import", "--events", export["events"], "--contacts", export["contacts"]]
    assert invoke(*args, "--accounts", export["accounts"], "--out", imp).exit_code == 0
    assert invoke(*args, "--out", imp).exit_code == 0
    assert sorted(p.name for p in imp.iterdir()) == [MARKER, "contacts.csv", "events.csv"]


@pytest.mark.parametrize("command", ["evaluate", "simulate", "compare", "import"])
def test_a_foreign_or_file_out_is_exit_2_before_any_work(
    export, tmp_path: Path, command: str
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious", encoding="utf-8")
    a_file = tmp_path / "a_file"
    a_file.write_text("x", encoding="utf-8")
    for out, fragment in ((mine, "this folder holds files qualsim did not write"), (a_file, "")):
        args = {
            "evaluate": evaluate_args(export, out),
            "simulate": ["simulate", "smb", "--out", str(out)],
            "compare": ["compare", "smb", "mqa_count", "-r", "1", "--out", str(out)],
            "import": ["import", *evaluate_args(export, out, accounts=False)[1:5], "-o", out],
        }[command]
        r = invoke(*args)
        assert_user_error(r.exit_code, r.stdout, r.stderr, f"{out}: {fragment}")
    assert [p.name for p in mine.iterdir()] == ["thesis.docx"]
    assert a_file.read_text(encoding="utf-8") == "x"


def test_simulate_on_a_full_disk_keeps_the_previous_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "world"
    small = tmp_path / "small.yaml"
    small.write_text("extends: smb\naccounts: {count: 20}\n", encoding="utf-8")
    assert invoke("simulate", small, "--seed", "1", "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = []
    real = pd.DataFrame.to_parquet

    def to_parquet(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", to_parquet)
    r = invoke("simulate", small, "--seed", "2", "--out", out)
    assert_user_error(r.exit_code, r.stdout, r.stderr, f"{out}: cannot write the outputs")
    assert "disk is full" in plain(r.stderr)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert json.loads(before["scenario.json"])["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml", "world"]


@needs_exe
@pytest.mark.skipif(os.geteuid() == 0, reason="running as root: chmod cannot lock a folder")
def test_executable_read_only_out_is_exit_2(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        proc = run_exe("simulate", "smb", "--out", locked / "world")
        assert_user_error(proc.returncode, proc.stdout, proc.stderr, "permission denied")
    finally:
        locked.chmod(0o700)


@needs_exe
def test_executable_foreign_out_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    proc = run_exe("simulate", "smb", "--out", tmp_path)
    assert_user_error(proc.returncode, proc.stdout, proc.stderr, f"{tmp_path}: this folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


# --- comparisons: round trip, corrupt files, report --out -----------------------------------


@pytest.fixture(scope="module")
def evil_cmp(tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    folder = tmp_path_factory.mktemp("pol")
    p = folder / "evil.yaml"
    text = (SHIPPED / "mqa_count.yaml").read_text(encoding="utf-8")
    p.write_text(text.replace("name: mqa_count", "name: '=SUM(1+1)'"), encoding="utf-8")
    small = {"accounts": {"count": 60}}
    return sim.compare("smb", [str(p), "mqa_count"], replications=2, seed=1, overrides=small)


def test_comparison_round_trips_through_safe_csv(evil_cmp: Comparison, tmp_path: Path) -> None:
    evil_cmp.write(tmp_path / "c")
    tidy = (tmp_path / "c" / "tidy.csv").read_text(encoding="utf-8")
    assert "\n'=SUM(1+1),0,handoffs," in tidy and "\n=SUM" not in tidy
    back = Comparison.read(tmp_path / "c")
    assert back.policies == ["=SUM(1+1)", "mqa_count"]
    pd.testing.assert_frame_equal(back.tidy, evil_cmp.tidy, check_dtype=False)
    evil_cmp.write(tmp_path / "raw", safe=False)
    assert "\n=SUM(1+1),0,handoffs," in (tmp_path / "raw" / "tidy.csv").read_text(encoding="utf-8")
    pd.testing.assert_frame_equal(
        Comparison.read(tmp_path / "raw").tidy, evil_cmp.tidy, check_dtype=False
    )


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (lambda f: (f / "comparison.json").write_text("{not json", "utf-8"), "comparison.json"),
        (lambda f: (f / "comparison.json").write_text("[1, 2]", "utf-8"), "comparison.json"),
        (
            lambda f: (f / "comparison.json").write_text('{"format": "csv"}', "utf-8"),
            "scenario: expected a dict, got nothing",
        ),
        (lambda f: (f / "tidy.csv").write_bytes(b"\x00\xff\xfe garbage"), "tidy.csv"),
        (lambda f: (f / "handoffs.csv").unlink(), "handoffs.csv: missing"),
    ],
    ids=["not-json", "not-object", "no-fields", "garbage-table", "missing-table"],
)
def test_a_corrupt_comparison_folder_is_a_clear_error(
    evil_cmp: Comparison, tmp_path: Path, damage, fragment: str
) -> None:
    folder = tmp_path / "c"
    evil_cmp.write(folder)
    damage(folder)
    with pytest.raises(DataError, match=fragment):
        Comparison.read(folder)
    r = invoke("report", folder, "--out", tmp_path / "r.html")
    assert_user_error(r.exit_code, r.stdout, r.stderr, fragment)


def test_report_out_pointing_at_a_folder_is_exit_2(evil_cmp: Comparison, tmp_path: Path) -> None:
    evil_cmp.write(tmp_path / "c")
    (tmp_path / "dir").mkdir()
    r = invoke("report", tmp_path / "c", "--out", tmp_path / "dir")
    assert_user_error(r.exit_code, r.stdout, r.stderr, f"{tmp_path / 'dir'}: is a folder")
    with pytest.raises(QualsimError, match="is a folder"):
        write_report(evil_cmp, tmp_path / "dir")


# --- gate --update-baseline -------------------------------------------------------------------

TINY_SUITE = """\
name: tiny
seed: 3
replications: 2
tolerance_se: 4
metrics: [precision]
policies: [mqa_count]
scenarios:
  - name: small-smb
    scenario: smb
    overrides: {accounts: {count: 40}}
"""


@pytest.mark.parametrize("command", ["gate", "bench"])
def test_update_baseline_into_a_folder_is_exit_2(tmp_path: Path, command: str) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(TINY_SUITE, encoding="utf-8")
    (tmp_path / "dir").mkdir()
    args = [command, suite, "--baseline-file", tmp_path / "dir", "--update-baseline", "-w", "1"]
    r = invoke(*args)
    if command == "gate":
        assert_user_error(r.exit_code, r.stdout, r.stderr, f"{tmp_path / 'dir'}: is a folder")
    else:  # the deprecated alias also prints click's deprecation warning
        assert r.exit_code == 2 and "Traceback" not in r.output
        assert f"{tmp_path / 'dir'}: is a folder" in r.stderr
    assert list((tmp_path / "dir").iterdir()) == []


def test_update_baseline_on_a_full_disk_keeps_the_old_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(TINY_SUITE, encoding="utf-8")
    baseline = tmp_path / "baseline.json"
    baseline.write_text("old", encoding="utf-8")

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    r = invoke("gate", suite, "--baseline-file", baseline, "--update-baseline", "-w", "1")
    monkeypatch.undo()
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"{baseline}: cannot write this file (the disk is full)" in " ".join(r.stderr.split())
    assert baseline.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.json", "suite.yaml"]


def test_an_out_folder_holding_an_input_or_the_current_folder_is_refused(
    export, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a folder qualsim wrote (an import) that also holds evaluate's inputs: replacing it would
    # delete them
    imp = tmp_path / "imp"
    args = ["import", "--events", export["events"], "--contacts", export["contacts"]]
    assert invoke(*args, "--out", imp).exit_code == 0
    ev = ["evaluate", "--events", imp / "events.csv", "--contacts", imp / "contacts.csv"]
    r = invoke(*ev, "-p", export["policy"], "--out", imp)
    assert_user_error(r.exit_code, r.stdout, r.stderr, "is inside the output folder")
    assert sorted(p.name for p in imp.iterdir()) == [MARKER, "contacts.csv", "events.csv"]
    monkeypatch.chdir(imp)
    r = invoke(*ev, "-p", export["policy"], "--out", ".")
    assert_user_error(r.exit_code, r.stdout, r.stderr, "holds the current folder")
    with pytest.raises(QualsimError, match="holds the current folder"):
        write_tables({"t": pd.DataFrame({"a": [1]})}, imp)


def test_a_report_or_fitted_file_that_is_a_folder_is_exit_2_before_any_work(
    export, tmp_path: Path
) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    ev = ["--events", export["events"], "--contacts", export["contacts"]]
    cases = [
        [*evaluate_args(export, tmp_path / "res"), "--report", folder],
        ["compare", "smb", "mqa_count", "-r", "1", "--report", folder],
        ["run", "smb", "-r", "1", "--report", folder],
        ["calibrate", *ev, "--accounts", export["accounts"], "--out", folder],
    ]
    for args in cases:
        r = invoke(*args)
        assert_user_error(r.exit_code, r.stdout, r.stderr, f"{folder}: is a folder")
    assert list(folder.iterdir()) == []
    assert not (tmp_path / "res").exists()
