"""Memory reuse for the commands that read a team's export whole.

Reading 10 million events makes and frees a few dozen arrays of tens of megabytes. By default
glibc hands each such block back to the operating system when it is freed (``munmap``), so the
next one is a fresh mapping the kernel must fault in and zero page by page: on a 2-core virtual
machine that zeroing was a third of ``qualsim evaluate``'s CPU time on the 10 M-event benchmark
(``perf``: ``clear_page_erms``). :func:`reuse_freed_memory` asks glibc to serve big blocks from
its heap and keep what is freed there (``mallopt``), and Arrow to allocate through the same
``malloc``, so freed blocks are reused instead of faulted in again (measured in
``benchmarks/speed/bench_real.py``). Arrow has two defaults to set: pyarrow's (for what Python
calls) and its C++ library's, read once from ``ARROW_DEFAULT_MEMORY_POOL`` (the Parquet reader
allocates from it: 125 MiB of mimalloc segments for the 10 M-event file, handed back to the
system after the read, so the heap's next arrays were faulted in afresh), so that one is set
as pyarrow is imported, unless the environment already names a pool. It also keeps one
heap for all threads: by default glibc gives threads heaps (arenas) of their own, and what the
reading threads free (the file's text once encoded) could not serve the main thread's next
arrays, which were faulted in afresh. glibc fixes the number of heaps the first time a thread
needs one, and numpy's BLAS starts its threads when numpy is imported: the command line calls
this before (:mod:`sim.cli.launch`).

Only the command-line process calls it, at the start of ``evaluate`` and ``explain`` (which load
an export whole): a short-lived process whose memory is given back when it exits. ``import``
streams in bounded memory and does not: there the heap kept whole raised the peak (356 to 539
MiB on a 1 M-event export) and saved no time. A notebook that imports qualsim
keeps its allocator as it was. Where glibc's ``mallopt`` is not there (macOS, Windows, musl)
nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1  # keep this much free memory at the top of the heap before trimming
_M_TOP_PAD = -2  # grow the heap by this much more than asked (fewer brk calls)
_M_MMAP_THRESHOLD = -3  # blocks from this size get their own mapping (and lose it when freed)
_M_ARENA_MAX = -8  # at most this many arenas (by default up to 8 per core)

_SETTINGS = (
    (_M_MMAP_THRESHOLD, 1 << 30),  # up to 1 GiB from the heap (reused when freed)
    (_M_TRIM_THRESHOLD, (1 << 31) - 1),  # never trim: the process ends soon
    (_M_TOP_PAD, 64 << 20),
    (_M_ARENA_MAX, 1),  # one heap: what any thread frees, any thread reuses
)


def reuse_freed_memory() -> bool:
    """Keep freed memory for reuse in this process (see the module docstring). Returns whether
    the allocator took the settings (False where there is no glibc ``mallopt``)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # no libc to load, or not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    if not all(mallopt(param, value) == 1 for param, value in _SETTINGS):
        return False
    pa = _import_arrow_on_malloc()

    pa.set_memory_pool(pa.system_memory_pool())  # Arrow's buffers through the same heap
    return True


def _import_arrow_on_malloc():
    """pyarrow, its C++ library's default pool the system's (``malloc``) unless the
    environment names one: the library reads ``ARROW_DEFAULT_MEMORY_POOL`` as pyarrow is
    imported, so it is set for the import only (not left for the processes this one starts).
    Once pyarrow is imported it is too late, and nothing changes."""
    ours = "ARROW_DEFAULT_MEMORY_POOL" not in os.environ and "pyarrow" not in sys.modules
    if ours:
        os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    try:
        import pyarrow
    finally:
        if ours:
            del os.environ["ARROW_DEFAULT_MEMORY_POOL"]
    return pyarrow
