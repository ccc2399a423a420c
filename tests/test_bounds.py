"""Work too large to fit is refused before it starts, naming the estimate and the limit: worlds,
comparisons and sweeps, through the API (the limit faked) and the real ``qualsim`` executable
(the limit a real ``RLIMIT_AS`` of the child process)."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim import limits
from sim.errors import DataError
from sim.experiment import SweepSpec, run_sweep
from sim.experiment.calibration import calibration_table
from sim.experiment.size import MAX_REPLICATIONS, comparison_memory
from sim.experiment.sweep.design import (
    MAX_SAMPLES,
    MAX_UNITS,
    MAX_VARIANTS,
    count_samples,
    count_variants,
    scenario_samples,
    variants,
)
from sim.limits import Limit, LimitError
from sim.real import import_files, read_log
from sim.real.import_size import estimated_rows, import_memory
from sim.world.simulate import world_memory

GB = 1 << 30
QUALSIM = shutil.which("qualsim") or str(Path(sys.executable).with_name("qualsim"))
needs_exe = pytest.mark.skipif(not Path(QUALSIM).exists(), reason="no 'qualsim' console script")


@pytest.fixture
def one_gb(monkeypatch):
    """This process may use exactly 1 GB (whatever the machine has)."""
    monkeypatch.setattr(limits, "memory_limit", lambda: Limit(GB, "a test's limit"))


def run_limited(*args: str, limit: int = 3 * GB, cwd: Path | None = None):
    """``qualsim *args`` in a child whose address space is capped at ``limit`` bytes."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env["NO_COLOR"] = "1"
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run(
        [QUALSIM, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        preexec_fn=cap,
        timeout=300,
    )


def assert_refused(done: subprocess.CompletedProcess[str], *phrases: str) -> None:
    """Exit 2 with one paragraph naming each phrase; no traceback, no MemoryError."""
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    assert "bad_alloc" not in done.stderr
    for phrase in phrases:
        assert phrase in " ".join(done.stderr.split()), done.stderr


# --- worlds ----------------------------------------------------------------------------------


def test_world_memory_by_hand() -> None:
    # smb: tiers share .1/.3/.6 with committee means 2.2/1.6/1.2 and noise contacts 2/1/0.5:
    # 0.42 + 0.78 + 1.02 = 2.22 contacts per account, 45 events each (horizon 365 <= 730 days):
    # 7,200 + 62 * 99.9 = 13,393.8 bytes per account.
    sc = sim.load_scenario("smb", overrides={"accounts": {"count": 1000}})
    assert world_memory(sc) == pytest.approx(13_393_800, abs=2)
    longer = sim.load_scenario("smb", overrides={"accounts": {"count": 1000}, "horizon_days": 1460})
    assert world_memory(longer) == pytest.approx(1000 * (7_200 + 62 * 99.9 * 2), abs=2)


def test_a_world_too_large_is_refused_before_drawing(one_gb) -> None:
    sc = sim.load_scenario("enterprise", overrides={"accounts": {"count": 5_000_000}})
    with pytest.raises(
        LimitError,
        match=r"enterprise: a world of 5,000,000 accounts needs about 2\d\d\.\d GB of memory, "
        r"more than the 1\.0 GB this process may use \(a test's limit\); lower accounts\.count",
    ):
        sim.simulate(sc, seed=1)
    small = sim.load_scenario("smb", overrides={"accounts": {"count": 50}})
    assert len(sim.simulate(small, seed=1).accounts) == 50  # 0.7 MB: fits


@needs_exe
def test_cli_world_too_large_for_a_real_rlimit(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_text("extends: enterprise\naccounts: {count: 5000000}\n")
    done = run_limited("simulate", str(tmp_path / "big.yaml"), "-o", str(tmp_path / "w"))
    assert_refused(done, "a world of 5,000,000 accounts needs about", "(RLIMIT_AS 3.0 GB)")
    assert not (tmp_path / "w").exists()


# --- comparisons -----------------------------------------------------------------------------


def test_comparison_memory_by_hand() -> None:
    sc = sim.load_scenario("smb", overrides={"accounts": {"count": 1000}})
    # two worlds at once, and per replication 1000 accounts x 3 policies x 32 B + 32 KB kept
    kept = 10 * (1000 * 3 * 32 + 32 * 1024)
    assert comparison_memory(sc, 3, 10, at_once=2) == 2 * world_memory(sc) + kept
    assert comparison_memory(sc, 3, 1, at_once=2) == world_memory(sc) + kept // 10


def test_compare_refuses_a_billion_replications_at_once() -> None:
    with pytest.raises(
        LimitError,
        match=f"replications: 1,000,000,000 is more than the cap of {MAX_REPLICATIONS:,}",
    ):
        sim.compare("smb", ["mql_only"], replications=1_000_000_000)


def test_compare_refuses_what_cannot_fit(one_gb) -> None:
    with pytest.raises(
        LimitError,
        match=r"comparing 2 policies on 90,000 worlds of 5,000 accounts \(1 at once\) needs "
        r"about [\d.]+ GB of memory, more than the 1\.0 GB",
    ):
        sim.compare("smb", ["mql_only", "mqa_count"], replications=90_000, workers=1)


@needs_exe
def test_cli_compare_r_a_billion() -> None:
    done = run_limited("compare", "smb", "mql_only", "-r", "1000000000")
    assert_refused(done, "replications: 1,000,000,000 is more than the cap of 100,000")


@needs_exe
def test_cli_compare_too_large_for_a_real_rlimit() -> None:
    done = run_limited("compare", "enterprise", "mql_only", "-r", "50000", "-w", "1")
    assert_refused(done, "comparing 1 policy on 50,000 worlds", "(RLIMIT_AS 3.0 GB)")


# --- sweeps ----------------------------------------------------------------------------------

SWEEP = {
    "name": "big",
    "scenario": "smb",
    "policies": [{"policy": "mql_only", "grid": {"threshold": [60, 100]}}],
}
SIX = [
    "touches.identification_rate",
    "crm.committee_known_share",
    "crm.role_share",
    "noise.personas.junior_staff.known_share",
    "noise.personas.competitor.known_share",
    "noise.personas.partner.known_share",
]


def spec(**changes) -> SweepSpec:
    return SweepSpec.model_validate({**SWEEP, **changes})


def test_counting_by_hand() -> None:
    # 1..2 at 3 levels rounds to {1, 2}; 0.1..0.2 at 3 levels is 3 values; a list of 4: 2*3*4
    s = spec(
        design={"kind": "grid", "levels": 3},
        uncertain={"a": "1..2", "b": "0.1..0.2", "c": [1, 2, 3, 4]},
    )
    assert count_samples(s) == 24 == len(scenario_samples(s))
    assert count_samples(spec(design={"kind": "lhs", "samples": 7}, uncertain={"a": "0..1"})) == 7
    assert count_samples(spec()) == 1  # nothing uncertain
    two = spec(
        policies=[
            {"policy": "mql_only", "grid": {"threshold": "10..20", "recycle_days": [30, 60]}},
            {"policy": "mqa_count"},
        ]
    )
    assert count_variants(two) == 11 * 2 + 1 == len(variants(two, None))


def test_a_grid_of_a_trillion_samples_is_refused_by_counting(tmp_path: Path) -> None:
    s = spec(design={"kind": "grid", "levels": 100}, uncertain={p: "0.1..0.9" for p in SIX})
    with pytest.raises(
        LimitError,
        match=r"the grid design has 100 x 100 x 100 x 100 x 100 x 100 = 1,000,000,000,000 "
        f"scenario samples: 1,000,000,000,000 is more than the cap of {MAX_SAMPLES:,}",
    ):
        run_sweep(s, tmp_path / "out", workers=1)
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_three_grid_keys_of_ten_thousand_are_refused(tmp_path: Path) -> None:
    grid = {"threshold": "1..10000", "recycle_days": "1..10000", "decay.half_life_days": "1..10000"}
    s = spec(policies=[{"policy": "mql_only", "grid": grid}])
    with pytest.raises(
        LimitError,
        match=r"1,000,000,000,000 policy variants \(mql_only 10,000 x 10,000 x 10,000\): "
        f"1,000,000,000,000 is more than the cap of {MAX_VARIANTS:,}",
    ):
        run_sweep(s, tmp_path / "out", workers=1)


def test_replications_times_samples_is_capped(tmp_path: Path) -> None:
    s = spec(
        replications=10_000,
        design={"kind": "lhs", "samples": 100_000},
        uncertain={"touches.identification_rate": "0.2..0.5"},
    )
    with pytest.raises(
        LimitError,
        match=r"100,000 scenario samples x 10,000 replications = 1,000,000,000 units \(each "
        f"simulates a world\\): 1,000,000,000 is more than the cap of {MAX_UNITS:,}",
    ):
        run_sweep(s, tmp_path / "out", workers=1)


SWEEP_GRID = """\
name: huge
scenario: smb
design: {kind: grid, levels: 100}
uncertain:
%s
policies:
  - policy: mql_only
    grid: {threshold: [60, 100]}
"""


@needs_exe
def test_cli_sweep_of_a_trillion_samples(tmp_path: Path) -> None:
    body = "\n".join(f"  {p}: 0.1..0.9" for p in SIX)
    (tmp_path / "huge.yaml").write_text(SWEEP_GRID % body, encoding="utf-8")
    done = run_limited("sweep", str(tmp_path / "huge.yaml"), "-o", str(tmp_path / "out"))
    assert_refused(done, "= 1,000,000,000,000 scenario samples", "cap of 100,000")


# --- real exports ----------------------------------------------------------------------------


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` zero bytes that takes no disk space."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def test_an_export_too_large_is_refused_before_reading(tmp_path: Path, one_gb) -> None:
    events = sparse(tmp_path / "events.csv", 200 * 2**20)  # 200 MB of CSV: about 2 GB loaded
    (tmp_path / "contacts.csv").write_text("contact_id,account_id\nc1,a1\n")
    with pytest.raises(
        DataError,
        match=r"events\.csv: the events file "
        r"is 200\.0 MB; loading it needs about 2\.0 GB of memory and 1\.0 GB",
    ):
        read_log(events, tmp_path / "contacts.csv")


def test_a_csv_without_a_line_break_is_refused_before_reading(tmp_path: Path) -> None:
    # 3 MB of zero bytes: it fits in memory, but no CSV header ends in its first megabyte
    events = sparse(tmp_path / "events.csv", 3 * 2**20)
    (tmp_path / "contacts.csv").write_text("contact_id,account_id\nc1,a1\n")
    with pytest.raises(DataError, match=r"events\.csv: no line break in the first 1 MB") as got:
        read_log(events, tmp_path / "contacts.csv")
    assert len(str(got.value)) < 300  # never the file's content


@needs_exe
def test_cli_evaluate_too_large_for_a_real_rlimit(tmp_path: Path) -> None:
    sparse(tmp_path / "events.csv", GB)
    (tmp_path / "contacts.csv").write_text("contact_id,account_id\nc1,a1\n")
    args = ["--events", "events.csv", "--contacts", "contacts.csv"]
    done = run_limited("evaluate", *args, "-p", "mql_only", "-o", "r", cwd=tmp_path)
    assert_refused(done, "the events file is 1.0 GB; loading it needs about 10.0 GB")


@needs_exe
def test_cli_import_of_one_endless_line_under_a_real_rlimit(tmp_path: Path) -> None:
    sparse(tmp_path / "events.csv", GB)  # no line break: pandas would buffer 1 GB of header
    (tmp_path / "contacts.csv").write_text("contact_id,account_id\nc1,a1\n")
    args = ["--events", "events.csv", "--contacts", "contacts.csv"]
    done = run_limited("import", *args, "-o", "imp", cwd=tmp_path)
    assert_refused(done, "events.csv: no line break in the first 1 MB")


def test_calibration_table_refuses_a_billion_replications() -> None:
    with pytest.raises(LimitError, match="replications: 1,000,000,000 is more than the cap"):
        calibration_table("smb", replications=1_000_000_000)


@needs_exe
def test_cli_calibration_r_a_billion() -> None:
    done = run_limited("calibration", "smb", "-r", "1000000000")
    assert_refused(done, "replications: 1,000,000,000 is more than the cap of 100,000")


@needs_exe
def test_cli_sweep_of_three_grid_keys_of_ten_thousand(tmp_path: Path) -> None:
    grid = "{threshold: 1..10000, recycle_days: 1..10000, decay.half_life_days: 1..10000}"
    text = f"name: keys\nscenario: smb\npolicies:\n  - policy: mql_only\n    grid: {grid}\n"
    (tmp_path / "keys.yaml").write_text(text, encoding="utf-8")
    done = run_limited("sweep", str(tmp_path / "keys.yaml"), "-o", str(tmp_path / "out"))
    assert_refused(done, "1,000,000,000,000 policy variants (mql_only 10,000 x 10,000 x 10,000)")
    assert not (tmp_path / "out").exists()


def accounts_csv(path: Path, n: int = 999) -> Path:
    """A header and ``n`` rows, every line 16 bytes."""
    rows = "".join(f"ACC-{i:06d},1234\n" for i in range(n))
    path.write_text("account_id,tier\n" + rows, encoding="ascii")
    return path


def test_import_memory_by_hand(tmp_path: Path) -> None:
    acc = accounts_csv(tmp_path / "accounts.csv")
    assert estimated_rows(acc) == 1000  # 16,000 bytes over 16 bytes a line
    assert import_memory(acc, "accounts", drop_duplicates=False) == 1000 * 128
    assert import_memory(acc, "accounts", drop_duplicates=True) == 1000 * (128 + 24)
    assert import_memory(acc, "events", drop_duplicates=False) == 0  # streams in chunks


def test_import_refuses_ids_that_cannot_fit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(limits, "memory_limit", lambda: Limit(100_000, "a test's limit"))
    ev = tmp_path / "events.csv"
    ev.write_text("timestamp,account_id,contact_id,activity\n2024-01-01,ACC-000001,c1,call\n")
    (tmp_path / "contacts.csv").write_text("contact_id,account_id\nc1,ACC-000001\n")
    acc = accounts_csv(tmp_path / "accounts.csv")
    with pytest.raises(
        LimitError,
        match=r"accounts\.csv: importing its 1,000 rows \(estimated\) keeps its ids in memory; "
        r"that needs about 125\.0 KB of memory, more than the 97\.7 KB",
    ):
        import_files(ev, tmp_path / "contacts.csv", acc, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@needs_exe
def test_cli_import_of_ids_too_many_for_a_real_rlimit(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text(
        "timestamp,account_id,contact_id,activity\n2024-01-01,ACC-000001,c1,call\n"
    )
    (tmp_path / "contacts.csv").write_text("contact_id,account_id\nc1,ACC-000001\n")
    acc = accounts_csv(tmp_path / "accounts.csv", 70_000)  # its first MB: 16-byte lines
    with open(acc, "ab") as f:
        f.truncate(2 * GB)  # zeros after the rows: 134 million 16-byte lines estimated
    args = ["--events", "events.csv", "--contacts", "contacts.csv", "--accounts", "accounts.csv"]
    done = run_limited("import", *args, "-o", "imp", cwd=tmp_path)
    assert_refused(done, "accounts.csv: importing its 134,217,728 rows (estimated)", "RLIMIT_AS")


def test_a_sweep_whose_largest_world_cannot_fit_writes_nothing(tmp_path: Path, one_gb) -> None:
    s = spec(
        design={"kind": "lhs", "samples": 3},
        uncertain={"accounts.count": "100..5000000"},  # its largest world: 5,000,000 accounts
    )
    with pytest.raises(LimitError, match=r"smb: a world of 5,000,000 accounts needs about"):
        run_sweep(s, tmp_path / "out", workers=1)
    assert not (tmp_path / "out").exists()


@needs_exe
def test_cli_sweep_of_worlds_too_large_for_a_real_rlimit(tmp_path: Path) -> None:
    text = (
        "name: big\nscenario: enterprise\noverrides: {accounts: {count: 5000000}}\n"
        "policies:\n  - policy: mql_only\n"
    )
    (tmp_path / "big.yaml").write_text(text, encoding="utf-8")
    done = run_limited("sweep", str(tmp_path / "big.yaml"), "-o", str(tmp_path / "out"))
    assert_refused(done, "a world of 5,000,000 accounts needs about", "(RLIMIT_AS 3.0 GB)")
    assert not (tmp_path / "out").exists()
