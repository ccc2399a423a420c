"""The command line's head start (sim.cli.launch): ``evaluate`` and ``explain`` start reading
a Parquet events file before the command line imports, found in the arguments as the command
line takes them, and the command then gives what it gives without it."""

from __future__ import annotations

import os
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
    monkeypatch.setattr("sim.cli.real.start_reading", lambda events: None)  # only main's
    taken = []
    monkeypatch.setattr(
        "sim.real.sources.take_read", lambda *a: taken.append(take(*a)) or taken[-1]
    )
    monkeypatch.setattr(sys, "argv", ["qualsim", *args, "--out", str(files / "main")])
    with pytest.raises(SystemExit) as done:
        sim.cli.main()
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
