"""Importing raw exports through a mapping file (sim/importer.py): every row accounted for,
the same log as the canonical export, bounded-memory chunks, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import policies
import sim
import sim.real.importer as imp
import sim.real.sources as sources
from sim.cli import app
from sim.errors import ConfigError, DataError
from sim.real import export_world, import_files, load_mapping, read_log
from sim.world.data_quality import CLEAN

MA_NAMES = {
    "web_visit": "Visit Webpage",
    "content_download": "Fill Out Form",
    "email_open": "Open Email",
    "email_click": "Click Email",
    "impression": "Ad Impression",
    "webinar": "Attend Webinar",
    "pricing_visit": "Visit Pricing Page",
    "demo_request": "Request Demo",
    "event": "Attend Event",
    "ad_click": "Click Ad",
    "intent_signal": "Intent Surge",
}
MAPPING = (
    """\
timezone: Asia/Kolkata
timestamp_format: "%m/%d/%Y %I:%M:%S %p"
events:
  columns: {timestamp: Activity Date, account_id: Account Name, contact_id: Email,
            activity: Activity Type, channel: Channel}
  activities:
"""
    + "".join(f"    {v}: {k}\n" for k, v in MA_NAMES.items())
    + """\
  ignore_activities: [Change Score]
  duplicates: drop
contacts:
  columns: {contact_id: Email, account_id: Company, title: Job Title}
accounts:
  timestamp_format: "%Y-%m-%d"
  columns: {account_id: Company, opportunity_date: Opportunity Created,
            close_date: Close Date, won: Is Won, value: Amount}
"""
)
N_SYSTEM, N_DUP = 40, 25


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> tuple[Path, Path]:
    """(canonical export folder, raw 'marketing automation' folder) of the same world."""
    root = tmp_path_factory.mktemp("exports")
    # the world as drawn: the raw mapping below knows no email_delivered (messy data is off)
    over = {"accounts": {"count": 120}, "data_quality": CLEAN}
    world = sim.simulate(sim.load_scenario("enterprise", overrides=over), seed=4)
    canon = root / "canon"
    export_world(world, canon)
    raw = root / "raw"
    raw.mkdir()
    ev = pd.read_csv(canon / "events.csv", dtype=str, keep_default_na=False)
    local = pd.to_datetime(ev["timestamp"]).dt.tz_localize("UTC").dt.tz_convert("Asia/Kolkata")
    table = pd.DataFrame(
        {
            "Activity Date": local.dt.strftime("%m/%d/%Y %I:%M:%S %p"),
            "Account Name": ev["account_id"],
            "Email": ev["contact_id"],
            "Activity Type": ev["activity"].map(MA_NAMES),
            "Channel": ev["channel"],
            "Lead Score Change": "",
        }
    )
    system = table.iloc[:N_SYSTEM].assign(**{"Activity Type": "Change Score"})
    dups = table.iloc[200 : 200 + N_DUP]
    pd.concat([table, system, dups], ignore_index=True).to_csv(raw / "events.csv", index=False)
    c = pd.read_csv(canon / "contacts.csv", dtype=str, keep_default_na=False)
    c.rename(columns={"contact_id": "Email", "account_id": "Company", "title": "Job Title"}).to_csv(
        raw / "contacts.csv", index=False
    )
    a = pd.read_csv(canon / "accounts.csv", dtype=str, keep_default_na=False)
    a.rename(
        columns={
            "account_id": "Company",
            "opportunity_date": "Opportunity Created",
            "close_date": "Close Date",
            "won": "Is Won",
            "value": "Amount",
        }
    ).to_csv(raw / "accounts.csv", index=False)
    (raw / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    return canon, raw


def _import(raw: Path, out: Path, **kw):
    return import_files(
        raw / "events.csv",
        raw / "contacts.csv",
        raw / "accounts.csv",
        out,
        raw / "mapping.yaml",
        **kw,
    )


def test_every_row_is_accounted_for(exports, tmp_path: Path) -> None:
    canon, raw = exports
    s = _import(raw, tmp_path / "out")
    n = len(pd.read_csv(canon / "events.csv"))
    ev = s.files[0]
    assert ev.rows_read == n + N_SYSTEM + N_DUP
    assert (ev.ignored, ev.duplicates_dropped, ev.rows_kept) == (N_SYSTEM, N_DUP, n)
    assert ev.rejected == {}
    text = str(s)
    assert f"ignored {N_SYSTEM} rows" in text and f"dropped {N_DUP} duplicate rows" in text
    assert s.contacts_without_account == 0
    acc = pd.read_csv(canon / "accounts.csv", dtype=str, keep_default_na=False)
    assert s.accounts_without_outcomes == int((acc["opportunity_date"] == "").sum())


def test_imported_log_equals_the_canonical_export(exports, tmp_path: Path) -> None:
    """The renamed, re-zoned (India: no daylight saving, so local times are unambiguous),
    re-formatted export with system rows and duplicates imports to the same log: same touches
    at the same instants, the same handoffs. (Daylight-saving rules: the next test.)"""
    canon, raw = exports
    _import(raw, tmp_path / "out")
    a = read_log(canon / "events.csv", canon / "contacts.csv", canon / "accounts.csv")
    b = read_log(
        *(tmp_path / "out" / f for f in ("events.csv", "contacts.csv")),
        tmp_path / "out" / "accounts.csv",
    )
    # canonical timestamps are naive (taken as UTC); imported ones are UTC with a Z
    ea, eb = a.log.events, b.log.events
    assert len(ea) == len(eb)
    np.testing.assert_allclose(ea["time"].to_numpy(), eb["time"].to_numpy(), atol=1e-9)
    assert (ea["activity"].astype(str).to_numpy() == eb["activity"].astype(str).to_numpy()).all()
    for name in ("mqa_count", "weighted_titles"):
        p = policies.load_policy(name)
        qa, qb = policies.evaluate(p, a.log), policies.evaluate(p, b.log)
        assert (
            a.label_accounts(qa["account_id"]).tolist()
            == b.label_accounts(qb["account_id"]).tolist()
        )


def test_chunks_give_the_same_files(exports, tmp_path: Path, monkeypatch) -> None:
    """Bounded memory: the file is streamed in chunks; tiny chunks give identical output
    (duplicates are found across chunks, lines are counted across chunks)."""
    _, raw = exports
    _import(raw, tmp_path / "big")
    monkeypatch.setattr(imp, "CHUNK_ROWS", 997)
    s = _import(raw, tmp_path / "small")
    assert s.files[0].duplicates_dropped == N_DUP
    for f in ("events.csv", "contacts.csv", "accounts.csv"):
        assert (tmp_path / "big" / f).read_bytes() == (tmp_path / "small" / f).read_bytes()


def test_unknown_activity_stops_with_the_raw_line(exports, tmp_path: Path, monkeypatch) -> None:
    _, raw = exports
    ev = pd.read_csv(raw / "events.csv", dtype=str, keep_default_na=False)
    ev.loc[1234, "Activity Type"] = "Visit Webpag"
    bad = tmp_path / "events.csv"
    ev.to_csv(bad, index=False)
    monkeypatch.setattr(imp, "CHUNK_ROWS", 500)  # the line is counted across chunks
    with pytest.raises(
        DataError, match=r"line 1236: .*did you mean 'Visit Webpage'.*'Visit Webpag'"
    ):
        import_files(bad, raw / "contacts.csv", None, tmp_path / "o", raw / "mapping.yaml")
    s = import_files(
        bad, raw / "contacts.csv", None, tmp_path / "o", raw / "mapping.yaml", skip_bad_rows=True
    )
    (reason,) = s.files[0].rejected
    assert s.files[0].rejected[reason] == 1 and "line 1236" in s.files[0].first_rejected[reason]


def test_bad_timestamp_and_time_zone_rules(tmp_path: Path) -> None:
    ev = pd.DataFrame(
        {
            "When": ["11/01/2026 01:30:00 AM", "03/08/2026 02:30:00 AM", "13/45/2026 9:00:00 AM"],
            "Acct": ["a", "a", "a"],
            "Who": ["c1", "c1", "c1"],
            "What": ["web_visit"] * 3,
        }
    )
    ev.to_csv(tmp_path / "e.csv", index=False)
    pd.DataFrame({"contact_id": ["c1"], "account_id": ["a"], "title": ["CTO"]}).to_csv(
        tmp_path / "c.csv", index=False
    )
    (tmp_path / "m.yaml").write_text(
        "timezone: America/New_York\ntimestamp_format: '%m/%d/%Y %I:%M:%S %p'\n"
        "events: {columns: {timestamp: When, account_id: Acct, contact_id: Who, activity: What}}\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"e.csv, line 4: an unparseable timestamp: '13/45/2026"):
        import_files(
            tmp_path / "e.csv", tmp_path / "c.csv", None, tmp_path / "o", tmp_path / "m.yaml"
        )
    s = import_files(
        tmp_path / "e.csv",
        tmp_path / "c.csv",
        None,
        tmp_path / "o",
        tmp_path / "m.yaml",
        skip_bad_rows=True,
    )
    assert s.files[0].rows_kept == 2
    out = pd.read_csv(tmp_path / "o" / "e.csv" if False else tmp_path / "o" / "events.csv")
    # 01:30 on the day clocks go back: the first (daylight, UTC-4) occurrence; 02:30 on the day
    # they go forward does not exist: moved forward to 03:00 EDT (UTC-4)
    assert out["timestamp"].tolist() == ["2026-11-01T05:30:00Z", "2026-03-08T07:00:00Z"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timezone: Mars/Olympus\n", "timezone: unknown time zone 'Mars/Olympus'"),
        ("events: {columns: {timestmp: X}}\n", "'timestmp' is not a qualsim events column"),
        ("events: {activities: {Visit: web_vist}}\n", "did you mean 'web_visit'"),
        ("events: {duplicates: sometimes}\n", "events.duplicates"),
        ("contacts: {colums: {}}\n", "unknown key 'colums'"),
    ],
)
def test_bad_mapping_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_mapping(path)
    assert str(path) in str(info.value)


def test_missing_columns_and_empty_files(exports, tmp_path: Path) -> None:
    _, raw = exports
    (tmp_path / "m.yaml").write_text("events: {columns: {timestamp: Activity Dat}}\n", "utf-8")
    with pytest.raises(
        DataError, match=r"names column 'Activity Dat'.*did you mean 'Activity Date'"
    ):
        import_files(
            raw / "events.csv", raw / "contacts.csv", None, tmp_path / "o", tmp_path / "m.yaml"
        )
    with pytest.raises(
        DataError, match="no column for timestamp, account_id, contact_id, activity"
    ):
        import_files(raw / "events.csv", raw / "contacts.csv", None, tmp_path / "o")
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty"):
        import_files(tmp_path / "empty.csv", raw / "contacts.csv", None, tmp_path / "o")
    (tmp_path / "header.csv").write_text("timestamp,account_id,contact_id,activity\n", "utf-8")
    with pytest.raises(DataError, match="header but no data rows"):
        import_files(tmp_path / "header.csv", raw / "contacts.csv", None, tmp_path / "o")
    assert not (tmp_path / "o" / "events.csv").exists()


def test_a_file_too_large_for_memory_is_refused_before_reading(exports, monkeypatch) -> None:
    canon, _ = exports
    size = (canon / "events.csv").stat().st_size
    monkeypatch.setattr(sources, "available_memory", lambda: size * 2)  # far below ~25x
    with pytest.raises(
        DataError, match=r"the events file is .*; loading it needs about .*`qualsim import`"
    ):
        read_log(canon / "events.csv", canon / "contacts.csv")
    monkeypatch.setattr(sources, "available_memory", lambda: size * 1000)
    read_log(canon / "events.csv", canon / "contacts.csv")  # fits: reads


def test_cli_import_then_evaluate(exports, tmp_path: Path) -> None:
    _, raw = exports
    runner = CliRunner()
    out = tmp_path / "imported"
    r = runner.invoke(
        app,
        [
            "import",
            "--events",
            str(raw / "events.csv"),
            "--contacts",
            str(raw / "contacts.csv"),
            "--accounts",
            str(raw / "accounts.csv"),
            "--mapping",
            str(raw / "mapping.yaml"),
            "--out",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    assert "rows read" in r.output and "qualsim evaluate" in r.output
    r = runner.invoke(
        app,
        [
            "evaluate",
            "--events",
            str(out / "events.csv"),
            "--contacts",
            str(out / "contacts.csv"),
            "--accounts",
            str(out / "accounts.csv"),
            "--policy",
            "mqa_count",
            "--out",
            str(tmp_path / "res"),
        ],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            "import",
            "--events",
            str(raw / "events.csv"),
            "--contacts",
            str(raw / "contacts.csv"),
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_unreadable_csv_files_name_the_file(tmp_path: Path) -> None:
    con = tmp_path / "c.csv"
    con.write_text("contact_id,account_id\nc1,a\n", encoding="utf-8")
    (tmp_path / "latin1.csv").write_bytes(
        b"timestamp,account_id,contact_id,activity\n2024-01-01,caf\xe9,c1,web_visit\n"
    )
    with pytest.raises(DataError, match=r"latin1\.csv: not UTF-8 text"):
        import_files(tmp_path / "latin1.csv", con, None, tmp_path / "o")
    (tmp_path / "ragged.csv").write_text(
        "timestamp,account_id,contact_id,activity\n2024-01-01,a,c1,web_visit,extra\n", "utf-8"
    )
    with pytest.raises(DataError, match=r"ragged\.csv: not a valid CSV file .*Expected 4 columns"):
        import_files(tmp_path / "ragged.csv", con, None, tmp_path / "o")
    assert not (tmp_path / "o").exists()
    (tmp_path / "bom.csv").write_bytes(
        b"\xef\xbb\xbftimestamp,account_id,contact_id,activity\n2024-01-01,007,c1,web_visit\n"
    )
    import_files(tmp_path / "bom.csv", con, None, tmp_path / "o")
    ev = pd.read_csv(tmp_path / "o" / "events.csv", dtype=str)
    assert ev["account_id"].tolist() == ["007"]  # ids stay text
