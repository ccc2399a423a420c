"""The CLI's memory reuse (sim.cli.memory) takes effect on glibc and changes no result."""

from __future__ import annotations

import ctypes
import ctypes.util
import subprocess
import sys

import pytest

GLIBC = sys.platform.startswith("linux") and hasattr(
    ctypes.CDLL(ctypes.util.find_library("c") or None), "gnu_get_libc_version"
)

# In a child process: the settings are process-wide and must not leak into the test run.
CHILD = """
import pyarrow as pa
from sim.cli.memory import reuse_freed_memory
before = pa.default_memory_pool().backend_name
took = reuse_freed_memory()
print(before, took, pa.default_memory_pool().backend_name)
"""


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's: elsewhere nothing changes")
def test_reuse_takes_effect_on_glibc():
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[1:] == ["True", "system"], out
    assert out[0] != "system"  # it was another pool before: the call changed it


def test_reuse_is_a_no_op_without_glibc(monkeypatch):
    from sim.cli import memory

    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.reuse_freed_memory() is False
