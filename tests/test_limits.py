"""The memory limit: each source faked in a tmp tree (``root``) or through ``resource``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import limits
from sim.errors import QualsimError
from sim.limits import Limit, LimitError, check_count, check_fits, memory_limit

GB = 1 << 30


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="ascii")
    return tmp_path


@pytest.fixture
def no_rlimit(monkeypatch):
    monkeypatch.setattr(
        limits.resource, "getrlimit", lambda _: (limits.resource.RLIM_INFINITY,) * 2
    )


MEMINFO = "MemTotal: 16000000 kB\nMemFree: 1000 kB\nMemAvailable: 8000000 kB\n"


def test_meminfo_alone(tmp_path, no_rlimit) -> None:
    root = _tree(tmp_path, {"proc/meminfo": MEMINFO})
    assert memory_limit(root) == Limit(8_000_000 * 1024, "MemAvailable in /proc/meminfo")


def test_cgroup_v2_limit_minus_usage_is_tighter_than_meminfo(tmp_path, no_rlimit) -> None:
    root = _tree(
        tmp_path,
        {
            "proc/meminfo": MEMINFO,
            "proc/self/cgroup": "0::/user.slice/job\n",
            "sys/fs/cgroup/user.slice/job/memory.max": f"{5 * GB}\n",
            "sys/fs/cgroup/user.slice/job/memory.current": f"{1 * GB}\n",
            "sys/fs/cgroup/user.slice/memory.max": "max\n",
        },
    )
    got = memory_limit(root)
    assert got is not None and got.bytes == 4 * GB  # 5 GB limit, 1 GB used
    assert "cgroup limit 5.0 GB" in got.source and "memory.max" in got.source


def test_cgroup_v2_parent_limit_counts(tmp_path, no_rlimit) -> None:
    root = _tree(
        tmp_path,
        {
            "proc/self/cgroup": "0::/a/b\n",
            "sys/fs/cgroup/a/b/memory.max": "max\n",
            "sys/fs/cgroup/a/memory.max": f"{2 * GB}\n",
            "sys/fs/cgroup/a/memory.current": "0\n",
        },
    )
    assert memory_limit(root) == Limit(
        2 * GB, f"cgroup limit 2.0 GB in {root / 'sys/fs/cgroup/a/memory.max'}"
    )


def test_cgroup_v1_limit_and_its_no_limit_value(tmp_path, no_rlimit) -> None:
    files = {
        "proc/meminfo": MEMINFO,
        "proc/self/cgroup": "5:devices:/\n4:memory:/docker/x\n",
        "sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes": f"{3 * GB}\n",
        "sys/fs/cgroup/memory/docker/x/memory.usage_in_bytes": f"{GB // 2}\n",
    }
    got = memory_limit(_tree(tmp_path, files))
    assert got is not None and got.bytes == 3 * GB - GB // 2
    # v1 writes 2**63 rounded down to a page for "no limit": MemAvailable applies then
    files["sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes"] = "9223372036854771712\n"
    got = memory_limit(_tree(tmp_path, files))
    assert got is not None and got.source == "MemAvailable in /proc/meminfo"


def test_cgroup_path_of_the_host_falls_back_to_the_mount(tmp_path, no_rlimit) -> None:
    # in a container /proc/self/cgroup may name a path that only exists on the host
    root = _tree(
        tmp_path,
        {
            "proc/self/cgroup": "0::/system.slice/docker-1.scope\n",
            "sys/fs/cgroup/memory.max": f"{GB}\n",
            "sys/fs/cgroup/memory.current": f"{GB // 4}\n",
        },
    )
    got = memory_limit(root)
    assert got is not None and got.bytes == GB - GB // 4


def test_rlimit_as_minus_address_space(tmp_path, monkeypatch) -> None:
    root = _tree(
        tmp_path,
        {"proc/meminfo": MEMINFO, "proc/self/status": "VmSize:\t 1048576 kB\nVmData: 10 kB\n"},
    )
    res = limits.resource
    inf = res.RLIM_INFINITY
    monkeypatch.setattr(
        res, "getrlimit", lambda w: (3 * GB, inf) if w == res.RLIMIT_AS else (inf, inf)
    )
    assert memory_limit(root) == Limit(2 * GB, "RLIMIT_AS 3.0 GB")  # 3 GB minus 1 GB mapped
    monkeypatch.setattr(
        res, "getrlimit", lambda w: (GB, inf) if w == res.RLIMIT_DATA else (inf, inf)
    )
    assert memory_limit(root) == Limit(GB - 10 * 1024, "RLIMIT_DATA 1.0 GB")


def test_nothing_known_falls_back_to_sysconf(tmp_path, no_rlimit, monkeypatch) -> None:
    monkeypatch.setattr(limits, "sysconf_available", lambda: Limit(123, "free physical memory"))
    assert memory_limit(tmp_path) == Limit(123, "free physical memory")
    monkeypatch.setattr(limits, "sysconf_available", lambda: None)
    assert memory_limit(tmp_path) is None


def test_check_fits_names_the_estimate_and_the_limit() -> None:
    have = Limit(2 * GB, "RLIMIT_AS 2.0 GB")
    check_fits(2 * GB, "a world", limit=have)  # exactly fits
    with pytest.raises(
        LimitError,
        match=r"a world needs about 3\.0 GB of memory, more than "
        r"the 2\.0 GB this process may use \(RLIMIT_AS 2\.0 GB\); fewer",
    ):
        check_fits(3 * GB, "a world", "fewer accounts", limit=have)
    assert issubclass(LimitError, QualsimError)  # the CLI prints it and exits 2


def test_check_count() -> None:
    check_count(10, 10, "units")
    with pytest.raises(LimitError, match="units: 1,000,000 is more than the cap of 10; less"):
        check_count(1_000_000, 10, "units", "less")
