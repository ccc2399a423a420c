"""Reading a Parquet events file on a thread while qualsim imports (sim.real.formats): the
table it gives is the one the reader would read, and anything unusual leaves the file to the
normal path, with its usual messages."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import DataError
from sim.real import formats, read_log
from sim.real.formats import (
    EVENT_COLUMNS,
    EVENT_OPTIONAL,
    contact_ids,
    read_parquet,
    start_reading_events,
)
from sim.real.formats import take_read as take

KNOWN = (*EVENT_COLUMNS, *EVENT_OPTIONAL)
EVENTS = pd.DataFrame(
    {
        "timestamp": ["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-05"],
        "account_id": ["A1", "A1", "A1", "A2"],
        "contact_id": ["c1", "c2", "", "c3"],
        "activity": ["webinar", "web_visit", "impression", "web_visit"],
        "channel": ["email", "web", "display", "web"],
        "extra": [1, 2, 3, 4],  # not read
    }
)
CONTACTS = "contact_id,account_id,title\nc1,A1,VP Sales\nc2,A1,Analyst\nc3,A2,CISO\n"
POLICY = "name: two\nkind: mqa_count\nwindow_days: 30\nany:\n  - unique_contacts: 2\n"


@pytest.fixture
def files(tmp_path):
    EVENTS.to_parquet(tmp_path / "events.parquet")
    (tmp_path / "contacts.csv").write_text(CONTACTS)
    yield tmp_path
    formats._STARTED.clear()


def test_the_read_started_early_is_the_one_the_reader_makes(files):
    path = files / "events.parquet"
    start_reading_events(path)
    early = take(path, KNOWN)
    assert early is not None
    table, found = early
    expected, expected_found = read_parquet(path, KNOWN)
    assert table.equals(expected) and found == expected_found
    assert "extra" not in table.column_names and "extra" in found
    assert take(path, KNOWN) is None  # taken once


def test_read_log_takes_the_early_read_and_gives_the_same_log(files, monkeypatch):
    path = files / "events.parquet"
    plain = read_log(path, files / "contacts.csv")
    start_reading_events(path)
    taken = []
    monkeypatch.setattr("sim.real.sources.take_read", lambda *a: taken.append(a) or take(*a))
    early = read_log(path, files / "contacts.csv")
    assert taken and not formats._STARTED  # the reader took it
    pd.testing.assert_frame_equal(early.log.events, plain.log.events)
    assert str(early.report) == str(plain.report)  # what evaluate prints of the files


def test_a_file_changed_since_is_read_again(files):
    path = files / "events.parquet"
    start_reading_events(path)
    formats._STARTED[next(iter(formats._STARTED))].result()  # the early read is done
    EVENTS.iloc[:2].to_parquet(path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert take(path, KNOWN) is None
    assert len(read_log(path, files / "contacts.csv").log.events) == 2


@pytest.mark.parametrize("name", ["events.csv", "missing.parquet"])
def test_nothing_starts_for_csv_or_a_missing_file(files, name):
    if name.endswith(".csv"):
        EVENTS.to_csv(files / name, index=False)
    start_reading_events(files / name)
    assert formats._STARTED == {}


def test_nothing_starts_for_a_file_too_big_for_the_memory(files, monkeypatch):
    monkeypatch.setattr(formats, "available_memory", lambda: 10)
    start_reading_events(files / "events.parquet")
    assert formats._STARTED == {}


def test_a_failed_early_read_leaves_the_message_to_the_reader(files):
    path = files / "events.parquet"
    path.write_bytes(b"PAR1 not really parquet")
    start_reading_events(path)
    assert take(path, KNOWN) is None  # the early read failed: nothing to take
    start_reading_events(path)
    with pytest.raises(DataError, match=r"events\.parquet: not a readable Parquet file"):
        read_log(path, files / "contacts.csv")


def test_evaluate_reads_a_parquet_export_as_before(files):
    (files / "p.yaml").write_text(POLICY)
    args = ["evaluate", "--events", str(files / "events.parquet"), "--contacts"]
    args += [str(files / "contacts.csv"), "--policy", str(files / "p.yaml")]
    res = CliRunner().invoke(app, [*args, "--out", str(files / "out")])
    assert res.exit_code == 0, res.output
    assert "two: 1 handoff" in res.stdout
    written = pd.read_csv(files / "out" / "qualifications.csv")
    assert written["account_id"].tolist() == ["A1"]
    assert not formats._STARTED  # taken by the reader


def test_the_early_read_encodes_the_contact_ids_against_the_contacts_files(files, monkeypatch):
    """Given the contacts file, the early read encodes the events' contact ids against its ids
    (a long column: here every column of two rows or more): the same values row by row, the
    same log, and the dictionary starts with the contacts' ids as written."""
    monkeypatch.setattr(formats, "SPLIT_ROWS", 2)
    path = files / "events.parquet"
    start_reading_events(path, files / "contacts.csv")
    table, found = take(path, KNOWN)
    expected, expected_found = read_parquet(path, KNOWN)
    assert found == expected_found
    for name in table.column_names:
        assert table.column(name).to_pylist() == expected.column(name).to_pylist(), name
    ids = table.column("contact_id")
    assert all(c.dictionary.to_pylist()[:4] == ["c1", "c2", "c3", ""] for c in ids.chunks)
    plain = read_log(path, files / "contacts.csv")
    start_reading_events(path, files / "contacts.csv")
    early = read_log(path, files / "contacts.csv")
    assert not formats._STARTED  # the reader took it
    pd.testing.assert_frame_equal(early.log.events, plain.log.events)


def test_the_contacts_ids_are_read_as_written_or_not_at_all(tmp_path):
    (tmp_path / "c.csv").write_text(" contact_id ,title\n c1,VP\nc2,CISO\n")
    assert contact_ids(tmp_path / "c.csv").to_pylist() == [" c1", "c2"]  # a hint: unstripped
    (tmp_path / "bom.csv").write_text("\ufeffcontact_id,title\nc1,VP\n", encoding="utf-8")
    assert contact_ids(tmp_path / "bom.csv").to_pylist() == ["c1"]
    pd.DataFrame({"contact_id": ["c1", None], "x": [1, 2]}).to_parquet(tmp_path / "c.parquet")
    assert contact_ids(tmp_path / "c.parquet").to_pylist() == ["c1", None]
    pd.DataFrame({"contact_id": [1, 2]}).to_parquet(tmp_path / "ints.parquet")
    (tmp_path / "none.csv").write_text("id,title\nc1,VP\n")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really parquet")
    (tmp_path / "c.txt").write_text("contact_id\nc1\n")
    (tmp_path / "folder.csv").mkdir()
    os.mkfifo(tmp_path / "pipe.csv")  # no writer: opening it would wait forever
    for name in ("ints.parquet", "none.csv", "bad.parquet", "c.txt", "missing.csv"):
        assert contact_ids(tmp_path / name) is None, name
    for name in ("folder.csv", "pipe.csv"):
        assert contact_ids(tmp_path / name) is None, name


def test_the_contacts_ids_are_not_read_when_the_file_would_not_fit(tmp_path, monkeypatch):
    (tmp_path / "c.csv").write_text("contact_id\nc1\n")
    monkeypatch.setattr(formats, "available_memory", lambda: 10)
    assert contact_ids(tmp_path / "c.csv") is None
