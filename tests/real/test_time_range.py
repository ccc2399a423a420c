"""Timestamps outside 1970..2099 (CRM placeholder dates such as 9999-12-31 or 0001-01-01) are
bad rows naming the file and line, or with ``skip_bad_rows`` dropped and counted; outcome
dates out of range always stop; ``qualsim import`` and ``qualsim evaluate`` exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import DataError
from sim.real import import_files, read_log
from sim.real.import_times import out_of_range_text
from sim.real.time_range import out_of_range

QUALSIM = shutil.which("qualsim") or str(Path(sys.executable).with_name("qualsim"))
needs_exe = pytest.mark.skipif(not Path(QUALSIM).exists(), reason="no 'qualsim' console script")
HEAD = "timestamp,account_id,contact_id,activity\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """Events with a 9999-12-31 placeholder on line 3, and their contacts."""
    ev = write(
        tmp_path,
        "events.csv",
        HEAD + "2024-01-01,a1,c1,web_visit\n"
        "9999-12-31,a1,c1,web_visit\n"
        "2024-01-11T12:00:00,a1,c1,demo_request\n",
    )
    return ev, write(tmp_path, "contacts.csv", "contact_id,account_id\nc1,a1\n")


def test_a_placeholder_date_is_a_bad_row_naming_file_and_line(files) -> None:
    ev, co = files
    with pytest.raises(
        DataError,
        match=r"events\.csv, line 3: timestamp '9999-12-31' out of range: expected a time from "
        r"1970-01-01 to 2099-12-31 .* 1 bad row in all .*--skip-bad-rows",
    ):
        read_log(ev, co)


def test_skip_bad_rows_drops_and_counts_them(files) -> None:
    ev, co = files
    real = read_log(ev, co, skip_bad_rows=True)
    # the log spans 2024-01-01 .. 2024-01-11 12:00 (10.5 days), not 8,000 years
    assert real.log.events["time"].tolist() == [0.0, 10.5]
    assert str(real.origin) == "2024-01-01 00:00:00"
    events = real.report.events
    assert events.skipped == {"time_out_of_range": 1}
    assert events.first_skipped["time_out_of_range"] == "line 3: '9999-12-31'"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1970-01-01", True),
        ("2099-12-31T23:59:59", True),
        ("1969-12-31T23:59:59", False),
        ("2100-01-01", False),
        ("0001-01-01T00:00:00Z", False),
        ("1900-01-01", False),
    ],
)
def test_the_range_ends(tmp_path: Path, value: str, ok: bool) -> None:
    ev = write(tmp_path, "e.csv", HEAD + "2024-01-01,a1,c1,web_visit\n" + value + ",a1,c1,call\n")
    co = write(tmp_path, "c.csv", "contact_id,account_id\nc1,a1\n")
    if ok:
        assert len(read_log(ev, co).log.events) == 2
    else:
        with pytest.raises(DataError, match=r"e\.csv, line 3: timestamp .* out of range"):
            read_log(ev, co)


def test_typed_parquet_timestamps_out_of_range(tmp_path: Path) -> None:
    times = pd.to_datetime(["2024-01-01", "2024-01-02"]).astype("datetime64[us]")
    times = np.array([times[0], np.datetime64("2150-06-01", "us")])
    df = pd.DataFrame(
        {"timestamp": times, "account_id": "a1", "contact_id": "c1", "activity": "web_visit"}
    )
    df.to_parquet(tmp_path / "e.parquet", index=False)
    co = write(tmp_path, "c.csv", "contact_id,account_id\nc1,a1\n")
    with pytest.raises(DataError, match=r"e\.parquet, row 2: timestamp '2150-06-01.*out of range"):
        read_log(tmp_path / "e.parquet", co)


def test_outcome_dates_out_of_range_always_stop(files, tmp_path: Path) -> None:
    ev, co = files
    ev = write(tmp_path, "ok.csv", HEAD + "2024-01-01,a1,c1,web_visit\n")
    acc = write(
        tmp_path,
        "accounts.csv",
        "account_id,opportunity_date,close_date\na1,2024-01-15,9999-12-31\n",
    )
    with pytest.raises(
        DataError, match=r"accounts\.csv, line 2: close_date '9999-12-31' out of range.*empty"
    ):
        read_log(ev, co, acc)
    opp = write(
        tmp_path,
        "opps.csv",
        "account_id,opportunity_id,created,closed,status\na1,o1,0001-01-01,,open\n",
    )
    with pytest.raises(DataError, match=r"opps\.csv, line 2: created '0001-01-01' out of range"):
        read_log(ev, co, opportunities=opp, skip_bad_rows=True)


def test_import_rejects_them_and_counts_with_skip(files, tmp_path: Path) -> None:
    ev, co = files
    with pytest.raises(
        DataError, match=r"events\.csv, line 3: timestamp: a timestamp before 1970 or after 2099"
    ):
        import_files(ev, co, None, tmp_path / "out")
    assert not (tmp_path / "out" / "events.csv").exists()
    summary = import_files(ev, co, None, tmp_path / "out", skip_bad_rows=True)
    written = pd.read_csv(tmp_path / "out" / "events.csv", dtype=str)
    assert written["timestamp"].tolist() == ["2024-01-01", "2024-01-11T12:00:00"]
    assert "a timestamp before 1970 or after 2099" in str(summary)


@given(
    st.lists(
        st.datetimes(
            min_value=pd.Timestamp("0001-01-01").to_pydatetime(),
            max_value=pd.Timestamp("9999-12-31").to_pydatetime(),
        ),
        min_size=1,
        max_size=20,
    )
)
@settings(max_examples=60, deadline=None)
def test_import_text_check_equals_the_parsed_reference(values) -> None:
    text = pd.Series([v.isoformat(sep=" ") for v in values])
    parsed = np.array([np.datetime64(v, "us") for v in values])
    assert out_of_range_text(text).tolist() == out_of_range(parsed).tolist()


def _exe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env["NO_COLOR"] = "1"
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run([QUALSIM, *args], capture_output=True, text=True, env=env, cwd=cwd)


@needs_exe
def test_cli_import_and_evaluate_exit_2(files, tmp_path: Path) -> None:
    ev, co = files
    done = _exe("import", "--events", str(ev), "--contacts", str(co), "-o", "imp", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "line 3: timestamp: a timestamp before 1970 or after 2099" in done.stderr
    args = ["evaluate", "--events", str(ev), "--contacts", str(co), "-p", "mql_only", "-o", "r"]
    done = _exe(*args, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "line 3: timestamp '9999-12-31' out of range" in " ".join(done.stderr.split())
    done = _exe(*args, "--skip-bad-rows", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "skipped 1 row with a timestamp before 1970 or after 2099" in done.stdout
