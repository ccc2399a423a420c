"""Malformed outcomes: every case through the API and the CLI (exit 2, the user's own file and
line), for the opportunities file, the accounts file's outcome columns, and ``qualsim import``
(the raw file's line, no half-written output folder)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import sim.real.importer as importer
from sim.cli import app
from sim.errors import DataError
from sim.real import import_files, read_log
from sim.real.mapping import Mapping

EVENTS = "timestamp,account_id,contact_id,activity\n2024-01-05,A,a1,web_visit\n"
CONTACTS = "contact_id,account_id,title\na1,A,CTO\n"
HEAD = "account_id,opportunity_id,created,closed,status,amount,type\n"
GOOD = "A,o1,2024-01-01,2024-02-01,won,10,new_business\n"

# (rows after a good first row on line 2, the message expected for line 3)
OPPORTUNITY_CASES = [
    ("A,o1,2024-01-01,,open,,\n", "duplicated opportunity_id 'o1' (first on line 2)"),
    ("A,o2,2024-01-01,2024-02-01,Closed Won,,\n", "status 'Closed Won' is not one of open"),
    ("A,o2,2024-02-01,2024-01-01,lost,,\n", "closed '2024-01-01' is before created '2024-02-01'"),
    ("A,o2,2024-01-01,,Lost,,\n", "status 'Lost' without a closed date"),
    ("A,o2,2024-01-01,,won,,\n", "status 'won' without a closed date"),
    ("A,o2,2024-01-01,2024-02-01,open,,\n", "status 'open' with a closed date '2024-02-01'"),
    ("A,o2,2024-01-01,,,-5,\n", "amount '-5' is negative"),
    ("A,o2,2024-01-01,,,lots,\n", "amount 'lots' is not a number"),
    ("A,o2,2024-01-01,,,inf,\n", "amount 'inf' is not finite"),
    ("A,o2,,,,,\n", "empty created"),
    ("A,o2,01/02/2024,,,,\n", "unparseable created '01/02/2024'"),
    ("A,o2,2024-01-01,soon,,,\n", "unparseable closed 'soon'"),
    (",o2,2024-01-01,,,,\n", "empty account_id"),
    ("A,,2024-01-01,,,,\n", "empty opportunity_id"),
]
# the accounts file's outcome columns (line 3 is bad)
ACCOUNT_CASES = [
    ("B,2024-01-01,,false\n", "won 'false' without a close_date"),
    ("B,2024-01-01,2024-02-01,Lost\n", "won 'Lost' is not a boolean"),
    ("B,2024-02-01,2024-01-01,true\n", "close_date '2024-01-01' is before opportunity_date"),
    ("A,2024-01-01,2024-02-01,true\n", "duplicated account_id 'A'"),
]
ACCOUNTS_HEAD = "account_id,opportunity_date,close_date,won\nA,2024-01-01,2024-02-01,true\n"


def _files(folder: Path, **texts: str) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, text in {"events": EVENTS, "contacts": CONTACTS, **texts}.items():
        out[name] = folder / f"{name}.csv"
        out[name].write_text(text, encoding="utf-8")
    return out


def _evaluate(f: dict[str, Path], tmp_path: Path, *extra: str):
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "name: p\nkind: mqa_count\nwindow_days: 30\nactivities: [web_visit]\n"
        "any:\n  - unique_contacts: 1\n",
        encoding="utf-8",
    )
    args = ["evaluate", "--events", str(f["events"]), "--contacts", str(f["contacts"])]
    args += ["--policy", str(policy), "--out", str(tmp_path / "out"), *extra]
    return CliRunner().invoke(app, args)


@pytest.mark.parametrize(("row", "expected"), OPPORTUNITY_CASES)
def test_bad_opportunity_rows_through_the_api(tmp_path, row, expected):
    f = _files(tmp_path, opportunities=HEAD + GOOD + row)
    with pytest.raises(DataError) as exc:
        read_log(f["events"], f["contacts"], opportunities=f["opportunities"])
    assert f"{f['opportunities']}, line 3: {expected}" in str(exc.value)


@pytest.mark.parametrize(("row", "expected"), OPPORTUNITY_CASES)
def test_bad_opportunity_rows_through_the_cli(tmp_path, row, expected):
    f = _files(tmp_path, opportunities=HEAD + GOOD + row)
    r = _evaluate(f, tmp_path, "--opportunities", str(f["opportunities"]))
    assert r.exit_code == 2, r.output
    flat = " ".join(r.output.split())
    assert f"opportunities.csv, line 3: {expected}" in flat
    assert "Traceback" not in r.output


def test_a_parquet_opportunities_file_names_the_row(tmp_path):
    f = _files(tmp_path)
    path = tmp_path / "opps.parquet"
    pd.DataFrame(
        {
            "account_id": ["A", "A"],
            "opportunity_id": [7, 8],
            "created": pd.to_datetime(["2024-01-01", "2024-01-01"]),
            "status": ["won", "open"],
        }
    ).to_parquet(path)
    with pytest.raises(DataError, match=r"opps.parquet, row 1: status 'won' without a closed"):
        read_log(f["events"], f["contacts"], opportunities=path)


@pytest.mark.parametrize(("row", "expected"), ACCOUNT_CASES)
def test_bad_account_outcomes_through_the_api_and_the_cli(tmp_path, row, expected):
    f = _files(tmp_path, accounts=ACCOUNTS_HEAD + row)
    with pytest.raises(DataError) as exc:
        read_log(f["events"], f["contacts"], f["accounts"])
    assert f"{f['accounts']}, line 3: {expected}" in str(exc.value)
    r = _evaluate(f, tmp_path, "--accounts", str(f["accounts"]))
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"accounts.csv, line 3: {expected}" in " ".join(r.output.split())


# -- qualsim import: the raw file's line ---------------------------------------------------------

RAW_ACCOUNTS = "Company,Opp Created,Closed On,Is Won\nA,01/01/2024,02/01/2024,true\n"
MAPPING = """\
timestamp_format: "%m/%d/%Y"
events:
  timestamp_format: "%Y-%m-%d"
accounts:
  columns: {account_id: Company, opportunity_date: Opp Created, close_date: Closed On,
            won: Is Won}
"""


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("B,01/01/2024,,false\n", "won 'false' without a close_date"),
        ("B,01/01/2024,02/01/2024,Lost\n", "won 'Lost' is not a boolean"),
        ("A,01/01/2024,02/01/2024,true\n", "duplicated account_id 'A' (first on line 2)"),
        # dates are shown as converted by the mapping's format
        ("B,02/01/2024,01/01/2024,true\n", "close_date '2024-01-01 00:00:00' is before"),
    ],
)
def test_import_stops_at_the_raw_line_and_leaves_no_output(tmp_path, row, expected):
    raw = _files(tmp_path / "raw", accounts=RAW_ACCOUNTS + row)
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    out = tmp_path / "canonical"
    with pytest.raises(DataError) as exc:
        import_files(
            raw["events"], raw["contacts"], raw["accounts"], out, tmp_path / "mapping.yaml"
        )
    assert f"{raw['accounts']}, line 3: {expected}" in str(exc.value)
    assert not out.exists()  # no empty (or half-written) output folder
    args = ["import", "--events", str(raw["events"]), "--contacts", str(raw["contacts"])]
    args += ["--accounts", str(raw["accounts"]), "--mapping", str(tmp_path / "mapping.yaml")]
    r = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"accounts.csv, line 3: {expected}" in " ".join(r.output.split())
    assert not out.exists()


def test_a_failed_import_keeps_what_was_there_before(tmp_path):
    raw = _files(tmp_path / "raw", accounts=RAW_ACCOUNTS + "B,01/01/2024,,false\n")
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    out = tmp_path / "canonical"
    out.mkdir()
    (out / ".qualsim-output").write_text("", encoding="utf-8")  # a folder qualsim wrote
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(DataError):
        import_files(
            raw["events"], raw["contacts"], raw["accounts"], out, tmp_path / "mapping.yaml"
        )
    assert sorted(p.name for p in out.iterdir()) == [".qualsim-output", "notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_duplicate_opportunity_ids_across_import_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
    rows = [f"A,o{i},2024-01-0{i},,open,," for i in range(1, 5)] + ["A,o2,2024-01-05,,,,"]
    raw = _files(tmp_path, opportunities=HEAD + "\n".join(rows) + "\n")
    with pytest.raises(DataError) as exc:
        importer.convert_file(raw["opportunities"], "opportunities", tmp_path / "o.csv", Mapping())
    assert f"{raw['opportunities']}, line 6: duplicated opportunity_id 'o2' (first on line 3)" in (
        str(exc.value)
    )
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(("row", "expected"), OPPORTUNITY_CASES[:7])
def test_import_checks_opportunity_rows_with_the_raw_line(tmp_path, row, expected):
    raw = _files(tmp_path, opportunities=HEAD + GOOD + row)
    with pytest.raises(DataError) as exc:
        importer.convert_file(raw["opportunities"], "opportunities", tmp_path / "o.csv", Mapping())
    assert f"{raw['opportunities']}, line 3: {expected}" in str(exc.value)


def test_import_cli_opportunities_error_names_the_raw_line(tmp_path):
    raw = _files(tmp_path, opportunities=HEAD + GOOD + "A,o2,2024-01-01,,Lost,,\n")
    args = ["import", "--events", str(raw["events"]), "--contacts", str(raw["contacts"])]
    args += ["--opportunities", str(raw["opportunities"]), "--out", str(tmp_path / "out")]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "opportunities.csv, line 3: status 'Lost' without a closed date" in " ".join(
        r.output.split()
    )
    assert not (tmp_path / "out").exists()


def test_opportunity_dates_follow_the_events_time_zone_rule(tmp_path):
    events = "timestamp,account_id,contact_id,activity\n2024-01-05T10:00:00,A,a1,web_visit\n"
    f = _files(tmp_path, events=events, opportunities=HEAD + "A,o1,2024-01-01T09:00:00Z,,,,\n")
    with pytest.raises(DataError) as exc:
        read_log(f["events"], f["contacts"], opportunities=f["opportunities"])
    assert f"{f['opportunities']}, line 2: created '2024-01-01T09:00:00Z' is a date-time with" in (
        str(exc.value)
    )


# A deal export with a free-text cell over two lines and a blank line: the record on line 7 of
# the file (as an editor numbers it) is the fourth data record.
NOTES_HEAD = "account_id,opportunity_id,created,closed,status,amount,type,notes\n"
NOTES_ROWS = [
    'A,o1,2024-01-01,2024-02-01,won,10,new_business,"call them\nback next week"\n',  # 2-3
    "\n",  # 4
    "A,o2,2024-01-01,,open,,,\n",  # 5
    'A,o3,2024-01-01,,open,,,"a ""quoted"" note"\n',  # 6
]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("A,o4,2024-01-01,,Lost,,,\n", "line 7: status 'Lost' without a closed date"),
        ("A,o2,2024-01-01,,open,,,\n", "line 7: duplicated opportunity_id 'o2' (first on line 5)"),
        ("A,o4,someday,,open,,,\n", "line 7: unparseable created 'someday'"),
    ],
)
def test_import_names_the_editor_line_past_multiline_cells_and_blank_lines(
    tmp_path, monkeypatch, bad, expected
):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)  # the duplicate is in a later chunk too
    raw = _files(tmp_path, opportunities=NOTES_HEAD + "".join(NOTES_ROWS) + bad)
    with pytest.raises(DataError) as exc:
        importer.convert_file(raw["opportunities"], "opportunities", tmp_path / "o.csv", Mapping())
    assert f"{raw['opportunities']}, {expected}" in str(exc.value)


def test_import_names_the_row_of_a_parquet_file(tmp_path):
    frame = pd.DataFrame(
        {
            "account_id": ["A", "A", "A"],
            "opportunity_id": ["o1", "o2", "o3"],
            "created": ["2024-01-01"] * 3,
            "status": ["open", "open", "Lost"],
        }
    )
    path = tmp_path / "opps.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataError) as exc:
        importer.convert_file(path, "opportunities", tmp_path / "o.csv", Mapping())
    assert f"{path}, row 3: status 'Lost' without a closed date" in str(exc.value)


def test_import_names_the_editor_line_of_a_bad_event(tmp_path):
    raw = _files(
        tmp_path,
        events="timestamp,account_id,contact_id,activity,campaign\n"
        '2024-01-05,A,a1,web_visit,"Spring\nlaunch"\n\n2024-01-06,A,a1,Visit Webpage,\n',
    )
    with pytest.raises(DataError) as exc:
        importer.convert_file(raw["events"], "events", tmp_path / "e.csv", Mapping())
    assert f"{raw['events']}, line 5: an activity neither mapped" in str(exc.value)


def test_import_keeps_integer_ids_of_a_parquet_column_with_nulls(tmp_path):
    """pandas would make an int64 column with a null float64 ("101.0"): ids must stay 101."""
    table = pa.table(
        {
            "timestamp": ["2024-01-05", "2024-01-06", "2024-01-07"],
            "account_id": pa.array([101, None, 102], pa.int64()),
            "contact_id": pa.array([7, 7, None], pa.int64()),
            "activity": ["web_visit"] * 3,
        }
    )
    pq.write_table(table, tmp_path / "ev.parquet")
    importer.convert_file(tmp_path / "ev.parquet", "events", tmp_path / "e.csv", Mapping())
    out = pd.read_csv(tmp_path / "e.csv", dtype=str, keep_default_na=False)
    assert out["account_id"].tolist() == ["101", "", "102"]
    assert out["contact_id"].tolist() == ["7", "7", ""]


def test_import_never_overwrites_a_raw_file(tmp_path):
    raw = _files(tmp_path, opportunities=HEAD + GOOD)
    before = raw["events"].read_bytes()
    args = ["import", "--events", str(raw["events"]), "--contacts", str(raw["contacts"])]
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "would overwrite this raw events file" in " ".join(r.output.split())
    assert raw["events"].read_bytes() == before
