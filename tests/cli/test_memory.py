"""The CLI's memory reuse (sim.cli.memory) takes effect on glibc and changes no result."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
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
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    assert out[1:] == ["True", "system"], out
    assert out[0] != "system"  # it was another pool before: the call changed it


def test_reuse_is_a_no_op_without_glibc(monkeypatch):
    from sim.cli import memory

    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.reuse_freed_memory() is False


# In a child: allocate on four threads, then count glibc's heaps (arenas) in malloc_info.
ARENAS = """
import ctypes, ctypes.util, sys, tempfile, threading
if sys.argv[1] == "reuse":  # before numpy starts its threads, as the command line calls it
    from sim.cli.memory import reuse_freed_memory
    reuse_freed_memory()
import numpy as np
def work():
    for _ in range(50):
        blocks = [np.ones(1000) for _ in range(100)]
        del blocks
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
with tempfile.NamedTemporaryFile("r") as out:
    f = libc.fopen(out.name.encode(), b"w")
    libc.malloc_info(0, f)
    libc.fclose(f)
    print(out.read().count("<heap nr="))
"""


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's: elsewhere nothing changes")
def test_threads_share_one_heap_once_reuse_is_on():
    def heaps(mode: str) -> int:
        run = subprocess.run([sys.executable, "-c", ARENAS, mode], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return int(run.stdout)

    assert heaps("reuse") == 1
    assert heaps("plain") > 1  # threads get heaps of their own by default


# In a child: read a Parquet file, then how much the C++ library's own default pool (the build's:
# mimalloc or jemalloc) ever held, and which pool that is.
POOLS = """
import os, sys
if sys.argv[1] == "reuse":  # before pyarrow is imported, as the command line calls it
    from sim.cli.memory import reuse_freed_memory
    reuse_freed_memory()
import pyarrow as pa
import pyarrow.parquet as pq
table = pq.ParquetFile(sys.argv[2]).read()
pool = getattr(pa, sys.argv[3] + "_memory_pool")()
print(pool.max_memory() or 0, os.environ.get("ARROW_DEFAULT_MEMORY_POOL", "-"))
"""


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's: elsewhere nothing changes")
def test_the_parquet_reader_allocates_from_the_heap_too(tmp_path, monkeypatch):
    """The Parquet reader allocates from Arrow's C++ default pool, not pyarrow's: once memory
    reuse is on, that pool is glibc's too (the build's own pool is never used), unless the
    environment names one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [f"id{k}" for k in range(200_000)], "y": range(200_000)}), path)
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    own = subprocess.run(
        [
            sys.executable,
            "-c",
            "import pyarrow as pa; print(pa.default_memory_pool().backend_name)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if own == "system":
        pytest.skip("this pyarrow build's default pool is the system's already")

    def held(mode: str, pool: str = own) -> int:
        run = subprocess.run(
            [sys.executable, "-c", POOLS, mode, str(path), pool], capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        peak, named = run.stdout.split()
        assert named == os.environ.get("ARROW_DEFAULT_MEMORY_POOL", "-")  # as it was
        return int(peak)

    if held("plain") == 0:
        pytest.skip(f"the {own} pool does not count its peak")
    assert held("reuse") == 0
    assert held("reuse", "system") > 0
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", own)  # a user's choice stands
    assert held("reuse") > 0
