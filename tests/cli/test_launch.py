"""The command line's head start (sim.cli.launch): ``evaluate`` and ``explain`` start reading
a Parquet events file before the command line imports, found in the arguments as the command
line takes them, and the command then gives what it gives without it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import sim.cli
from sim.cli import app
from sim.cli.launch import events_file, head_start
from sim.real import formats
from tests.real.test_formats import KNOWN, POLICY, files, take  # noqa: F401  (a fixture)


@pytest.mark.parametrize(
    ("args", "found"),
    [
        (["evaluate", "--events", "e.parquet", "--contacts", "c.csv"], "e.parquet"),
        (["explain", "--contacts", "c.csv", "--events=e.parquet"], "e.parquet"),
        (["evaluate", "--events", "a.parquet", "--events", "b.parquet"], "b.parquet"),
        (["evaluate", "--events=a.parquet", "--events", "b.parquet"], "b.parquet"),
        (["evaluate", "--events"], None),  # no value: the command line says so
        (["evaluate", "--events", "e.parquet", "--help"], None),
        (["import", "--events", "e.parquet"], None),  # streams: nothing to start
        (["run", "--events", "e.parquet"], None),
        ([], None),
    ],
)
def test_the_events_file_is_found_as_the_command_line_takes_it(args, found):
    assert events_file(args) == found


def _quiet_memory(monkeypatch):
    # the allocator settings are process-wide (tests/cli/test_memory.py checks them in a child)
    monkeypatch.setattr("sim.cli.memory.reuse_freed_memory", lambda: False)


def test_the_head_start_is_one_read_and_the_command_takes_it(files, monkeypatch):  # noqa: F811
    _quiet_memory(monkeypatch)
    path = files / "events.parquet"
    head_start(["evaluate", "--events", str(path)])
    head_start(["evaluate", "--events", str(path)])  # and evaluate's own start: no second read
    assert len(formats._STARTED) == 1
    assert take(path, KNOWN) is not None


def test_nothing_starts_for_another_command_or_a_csv_file(files, monkeypatch):  # noqa: F811
    _quiet_memory(monkeypatch)
    EVENTS_CSV = files / "events.csv"
    EVENTS_CSV.write_text("timestamp,account_id,contact_id,activity\n")
    head_start(["import", "--events", str(files / "events.parquet")])
    head_start(["evaluate", "--events", str(EVENTS_CSV)])
    head_start(["evaluate", "--events", str(files / "nowhere.parquet")])
    assert formats._STARTED == {}


def test_main_reads_through_the_head_start_and_writes_what_the_app_writes(
    files,  # noqa: F811
    monkeypatch,
):
    _quiet_memory(monkeypatch)
    (files / "p.yaml").write_text(POLICY)
    args = ["evaluate", "--events", str(files / "events.parquet"), "--contacts"]
    args += [str(files / "contacts.csv"), "--policy", str(files / "p.yaml")]
    monkeypatch.setattr("sim.cli.real.start_reading", lambda *a: None)  # only main's
    taken = []
    monkeypatch.setattr(
        "sim.real.sources.take_read", lambda *a: taken.append(take(*a)) or taken[-1]
    )
    monkeypatch.setattr(sys, "argv", ["qualsim", *args, "--out", str(files / "main")])
    with pytest.raises(SystemExit) as done:
        sim.cli.run()  # main itself ends the process: tested in a child below
    assert done.value.code == 0
    assert taken and taken[0] is not None  # the table main started reading
    res = CliRunner().invoke(app, [*args, "--out", str(files / "app")])
    assert res.exit_code == 0, res.output
    main, plain = (files / out / "qualifications.csv" for out in ("main", "app"))
    assert main.read_bytes() == plain.read_bytes()


def test_the_head_start_gives_numpys_blas_one_thread_unless_told_otherwise(monkeypatch):
    _quiet_memory(monkeypatch)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    head_start(["run", "--events", "nowhere.parquet"])  # another command: nothing set
    assert "OPENBLAS_NUM_THREADS" not in os.environ
    head_start(["evaluate", "--events", "nowhere.parquet"])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    head_start(["evaluate", "--events", "nowhere.parquet"])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "2"


# A child running the console script's entry point, with an atexit function that writes a file.
CHILD = """
import atexit, sys
from pathlib import Path
flag = Path(sys.argv.pop())
atexit.register(lambda: flag.write_text("ran") and print("printed at exit"))
from sim.cli import main
sys.argv[0] = "qualsim"
main()
"""


def _console(folder, *args):
    flag = folder / "atexit-ran"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a buffered pipe
    run = subprocess.run(
        [sys.executable, "-c", CHILD, *args, str(flag)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    return run, flag.exists()


def _evaluate_args(folder):
    (folder / "p.yaml").write_text(POLICY)
    args = ["evaluate", "--events", str(folder / "events.parquet"), "--contacts"]
    return [*args, str(folder / "contacts.csv"), "--policy", str(folder / "p.yaml"), "--out"]


def test_the_console_script_ends_evaluate_with_its_output_flushed_and_atexit_run(files):  # noqa: F811
    """``main`` ends the process itself after ``evaluate`` (no interpreter teardown): what the
    command printed to a pipe (block-buffered) still arrives, the atexit functions still run
    and the files are written whole, the same as the in-process command line writes them."""
    run, ran = _console(files, *_evaluate_args(files), str(files / "child"))
    assert run.returncode == 0, run.stderr
    assert ran and run.stdout.endswith("printed at exit\n")
    plain = CliRunner().invoke(app, [*_evaluate_args(files), str(files / "app")])
    assert plain.exit_code == 0, plain.output
    # the same text, whatever the width it was wrapped at
    child = "".join(run.stdout.removesuffix("printed at exit\n").split())
    child = child.replace(str(files / "child"), str(files / "app"))
    assert child == "".join(plain.stdout.split())
    written = sorted(p.name for p in (files / "app").iterdir())
    assert written and sorted(p.name for p in (files / "child").iterdir()) == written
    for name in written:
        assert (files / "child" / name).read_bytes() == (files / "app" / name).read_bytes()


def test_the_console_script_keeps_the_exit_code_and_message_of_a_failed_evaluate(files):  # noqa: F811
    (files / "contacts.csv").write_text("contact_id,account_id\nc1,A1\nc1,A1\n")
    run, ran = _console(files, *_evaluate_args(files), str(files / "child"))
    assert run.returncode == 2
    assert "duplicated contact_id 'c1'" in " ".join(run.stderr.split())
    assert ran


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (2, 2), ("stopped", 1)])
def test_end_process_exits_as_sys_exit_would(monkeypatch, capsys, code, status):
    from sim.cli import launch

    ended, ran = [], []
    monkeypatch.setattr(launch.os, "_exit", ended.append)
    monkeypatch.setattr(launch.atexit, "_run_exitfuncs", lambda: ran.append(True))
    launch.end_process(code)
    assert ended == [status] and ran == [True]
    assert capsys.readouterr().err == ("stopped\n" if code == "stopped" else "")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full to fail a write")
def test_output_that_cannot_be_written_is_said_and_not_a_success():
    """A full disk under the output: the flush fails, the process says so and exits 120 (as
    Python's own exit does), never 0 with the output lost."""
    code = "import sys; print('x' * 100); from sim.cli.launch import end_process; end_process(0)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [sys.executable, "-c", code], stdout=full, stderr=subprocess.PIPE, text=True, env=env
        )
    assert run.returncode == 120
    assert "could not write the output" in run.stderr
