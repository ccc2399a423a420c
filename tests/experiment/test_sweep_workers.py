"""Worker processes end with the command that started them, and their number is capped.

The real ``qualsim`` executable runs a sweep (and a comparison) with two workers; once its
workers are up it is killed with SIGKILL, as the OOM killer would, and every process it had
started must be gone within a few seconds (read from ``/proc``, Linux only). Before workers
watched their parent, both stayed alive and idle for ever.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment.executors import Processes, cores, die_with_parent

# the console script on PATH, else the one installed beside this interpreter (a venv's bin/)
QUALSIM = shutil.which("qualsim") or shutil.which("qualsim", path=str(Path(sys.executable).parent))
needs_proc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or QUALSIM is None or cores() < 2,
    reason="needs Linux /proc, the 'qualsim' console script on PATH and 2 cores",
)
SWEEP = """\
name: long
scenario: smb
overrides: {accounts: {count: 150}}
seed: 3
replications: 200
policies:
  - policy: mql_only
    grid: {threshold: [60, 100]}
"""


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc/*/stat)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(check, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return check()


@needs_proc
@pytest.mark.parametrize("command", ["sweep", "compare"])
def test_killing_the_command_ends_its_workers(tmp_path: Path, command: str) -> None:
    (tmp_path / "s.yaml").write_text(SWEEP, encoding="utf-8")
    argv = {
        "sweep": [QUALSIM, "sweep", "s.yaml", "--out", "run", "--workers", "2"],
        "compare": [QUALSIM, "compare", "smb", "mql_only", "-r", "400", "--workers", "2"],
    }[command]
    proc = subprocess.Popen(
        argv, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    workers: set[int] = set()
    try:
        assert wait_for(lambda: len(children(proc.pid)) >= 2, 120), "workers never started"
        time.sleep(1.0)  # the workers are busy with units
        workers = children(proc.pid)
        assert proc.poll() is None, "the command finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        left = lambda: {p for p in workers if running(p)}  # noqa: E731
        assert wait_for(lambda: not left(), 5.0), f"workers still alive: {left()}"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in workers | children(proc.pid):  # never leave a worker behind, even on failure
            if running(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_worker_ends_when_its_parent_is_gone() -> None:
    """The portable half of the watch, in a forked child whose parent exits: the grandchild
    (running ``die_with_parent``) must notice and exit on its own."""
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    r, w = os.pipe()
    middle = os.fork()
    if middle == 0:  # the parent that will die
        worker = os.fork()
        if worker == 0:
            os.close(r)
            die_with_parent()
            os.write(w, b"up\n")
            time.sleep(60)
            os._exit(0)
        os.write(w, f"{worker}\n".encode())
        time.sleep(0.3)
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as lines:
        first, second = lines.readline().strip(), lines.readline().strip()
    worker = int(first if first != "up" else second)
    os.waitpid(middle, 0)
    try:
        assert wait_for(lambda: not running(worker), 5.0), "the orphaned worker stayed alive"
    finally:
        if running(worker):
            os.kill(worker, signal.SIGKILL)


def test_sweep_caps_workers_at_the_cores(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        SWEEP.replace("replications: 200", "replications: 1").replace("150", "40"),
        encoding="utf-8",
    )
    n = cores() + 28
    result = CliRunner().invoke(
        app, ["sweep", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "run"), "-w", str(n)]
    )
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert f"--workers {n} capped at {cores()}" in result.stderr
    assert Processes(n).workers == cores()
