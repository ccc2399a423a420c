"""How much memory this process may still use, and refusing work that cannot fit.

The limit is the tightest of what applies to the process (each source is optional):

- the cgroup's ``memory.max`` (v2) or ``memory.limit_in_bytes`` (v1), minus what the cgroup
  already uses (``memory.current`` / ``memory.usage_in_bytes``), for the cgroup named in
  ``/proc/self/cgroup`` and each of its parents (a container's or a systemd unit's limit);
- the soft ``RLIMIT_AS`` minus the process's address space (``VmSize``) and the soft
  ``RLIMIT_DATA`` minus its data segment (``VmData``), from :mod:`resource`;
- ``MemAvailable`` of ``/proc/meminfo`` (the machine's free memory and reclaimable caches);
- off Linux, the free physical pages ``os.sysconf`` reports.

Every command that builds work estimates its size first and calls :func:`check_fits` (or
:func:`check_count` for a documented cap), which raises :class:`LimitError` naming the
estimate and the limit: the CLI prints it as one paragraph and exits 2, instead of growing
until the machine or the OOM killer stops it.

>>> check_count(12, 10, "sweep units", "fewer replications")
Traceback (most recent call last):
...
sim.limits.LimitError: sweep units: 12 is more than the cap of 10; fewer replications
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

try:  # not on Windows
    import resource
except ImportError:  # pragma: no cover
    resource = None  # type: ignore[assignment]

from sim.errors import QualsimError

# A cgroup v1 "no limit" is a page-rounded 2**63 - 1; anything above this is no limit.
_UNLIMITED = 1 << 60


class LimitError(QualsimError):
    """Work whose estimated size is above the memory limit or a documented cap."""


@dataclass(frozen=True)
class Limit:
    """Bytes of memory this process may still use, and which source says so."""

    bytes: int
    source: str


def format_bytes(n: float) -> str:
    """A size for people: ``format_bytes(3 * 2**30)`` is ``'3.0 GB'``.

    >>> format_bytes(512), format_bytes(1536), format_bytes(3 * 2**30)
    ('512 bytes', '1.5 KB', '3.0 GB')
    """
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _read_int(path: Path) -> int | None:
    """The integer a cgroup or proc file holds (None: missing, unreadable or ``max``)."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _status_kb(root: Path, field: str) -> int | None:
    """A ``kB`` field of ``/proc/self/status`` in bytes (e.g. ``VmSize``)."""
    try:
        with open(root / "proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        return None
    return None


def meminfo_available(root: Path = Path("/")) -> Limit | None:
    """``MemAvailable`` of ``/proc/meminfo``, or None where there is no such file."""
    try:
        with open(root / "proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return Limit(int(line.split()[1]) * 1024, "MemAvailable in /proc/meminfo")
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        return None
    return None


def _cgroup_dirs(root: Path) -> list[tuple[Path, str, str]]:
    """(folder, limit file, usage file) of this process's memory cgroup and its parents."""
    try:
        lines = (root / "proc/self/cgroup").read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    found = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        if controllers == "":  # v2 unified hierarchy
            mount, files = root / "sys/fs/cgroup", ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):  # v1 memory controller
            mount = root / "sys/fs/cgroup/memory"
            files = ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        here = mount / rel.strip("/")
        # inside a container the path may name the host's view: then the mount is our cgroup
        chain = [here, *here.parents] if here.is_dir() else [mount]
        for folder in chain:
            found.append((folder, *files))
            if folder == mount:
                break
    return found


def cgroup_available(root: Path = Path("/")) -> Limit | None:
    """The tightest cgroup memory limit minus the cgroup's use, or None without a limit."""
    best: Limit | None = None
    for folder, limit_file, usage_file in _cgroup_dirs(root):
        cap = _read_int(folder / limit_file)
        if cap is None or cap >= _UNLIMITED:
            continue
        left = max(cap - (_read_int(folder / usage_file) or 0), 0)
        if best is None or left < best.bytes:
            best = Limit(left, f"cgroup limit {format_bytes(cap)} in {folder / limit_file}")
    return best


def rlimit_available(root: Path = Path("/")) -> Limit | None:
    """The soft RLIMIT_AS / RLIMIT_DATA minus what the process already has, or None."""
    if resource is None:  # pragma: no cover
        return None
    best: Limit | None = None
    for name, field in (("RLIMIT_AS", "VmSize"), ("RLIMIT_DATA", "VmData")):
        which = getattr(resource, name, None)
        if which is None:  # pragma: no cover
            continue
        soft, _ = resource.getrlimit(which)
        if soft == resource.RLIM_INFINITY or soft < 0 or soft >= _UNLIMITED:
            continue
        left = max(soft - (_status_kb(root, field) or 0), 0)
        if best is None or left < best.bytes:
            best = Limit(left, f"{name} {format_bytes(soft)}")
    return best


def sysconf_available() -> Limit | None:
    """Free physical memory as ``os.sysconf`` reports it (the fallback off Linux)."""
    try:
        pages, size = os.sysconf("SC_AVPHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return Limit(pages * size, "free physical memory") if pages > 0 and size > 0 else None


def memory_limit(root: Path = Path("/")) -> Limit | None:
    """The tightest of the cgroup, rlimit and MemAvailable limits (None: nothing known).

    ``root`` is where ``/proc`` and ``/sys`` are looked for (tests point it at a fake tree).
    """
    found = [
        x
        for x in (cgroup_available(root), rlimit_available(root), meminfo_available(root))
        if x is not None
    ]
    if not found:
        return sysconf_available()
    return min(found, key=lambda x: x.bytes)


def check_fits(need: float, what: str, hint: str = "", limit: Limit | None = None) -> None:
    """Raise :class:`LimitError` when ``need`` bytes (an estimate of ``what``) exceed the
    memory limit (``limit``, by default :func:`memory_limit`); the message names both."""
    have = memory_limit() if limit is None else limit
    if have is not None and need > have.bytes:
        raise LimitError(
            f"{what} needs about {format_bytes(need)} of memory, more than the "
            f"{format_bytes(have.bytes)} this process may use ({have.source})"
            + (f"; {hint}" if hint else "")
        )


def check_count(n: int, cap: int, what: str, hint: str = "") -> None:
    """Raise :class:`LimitError` when a count of work is above its documented cap."""
    if n > cap:
        raise LimitError(
            f"{what}: {n:,} is more than the cap of {cap:,}" + (f"; {hint}" if hint else "")
        )
