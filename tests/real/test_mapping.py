"""Mappings that translate and filter (sim/real/mapping.py, sim/real/transforms.py): raw CRM
exports as a CRM writes them (text statuses, segment names, employee counts, a pipeline column,
a lead-level file without titles) imported with a mapping alone, then read back."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim.real.importer as imp
from sim.cli import app
from sim.errors import ConfigError, DataError
from sim.real import import_files, load_mapping, read_log

EVENTS = """\
Date,Account,Email,Type
2024-03-01,acme,ann@acme.com,Visit Webpage
2024-03-02,acme,bob@acme.com,Call
2024-03-04,globex,cid@globex.com,Fill Out Form
2024-03-05,initech,dee@initech.com,Visit Webpage
"""
CONTACTS = """\
Email,Account,Job Title
ann@acme.com,acme,VP Marketing
bob@acme.com,acme,Engineer
cid@globex.com,globex,CTO
dee@initech.com,initech,Analyst
"""
ACCOUNTS = """\
Account ID,Segment,Employees
acme,Enterprise,"5000"
globex,Mid-Market,199.5
initech,SMB,12
hooli,SMB,
"""
DEALS = """\
Deal ID,Account,Created Date,Close Date,Stage,Amount,Pipeline
d1,acme,2024-03-10,2024-04-01,Won,1000,New Business
d2,acme,2024-05-01,,Open,500,Expansion
d3,acme,2024-01-01,2024-02-01,Won,900,Renewal
d4,globex,2024-03-20,2024-03-30,Lost,200,New Business
d5,initech,2024-02-01,,Pending,50,Renewal
"""
MAPPING = """\
events:
  columns: {timestamp: Date, account_id: Account, contact_id: Email, activity: Type}
  activities: {Visit Webpage: web_visit, Fill Out Form: content_download, Call: web_visit}
contacts:
  columns: {contact_id: Email, account_id: Account, title: Job Title}
accounts:
  columns: {account_id: Account ID, tier: Segment}
  values:
    tier: {Enterprise: 1, Mid-Market: 2, SMB: 3}
  bins:
    icp_fit: {column: Employees, edges: [0, 200, 1000], labels: [0.3, 0.6, 1.0]}
opportunities:
  columns: {opportunity_id: Deal ID, account_id: Account, created: Created Date,
            closed: Close Date, status: Stage, amount: Amount, type: Pipeline}
  filters:
    - {column: Pipeline, not_in: [Renewal]}
  values:
    status: {Won: won, Lost: lost, Open: open}
    type: {New Business: new_business, Expansion: expansion}
"""


def _write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def crm(tmp_path: Path) -> Path:
    """A CRM's raw files (a segment column to translate, an employee count to bin)."""
    raw = _write(
        tmp_path / "raw",
        events_csv=EVENTS,
        contacts_csv=CONTACTS,
        accounts_csv=ACCOUNTS,
        deals_csv=DEALS,
        mapping_yaml=MAPPING,
    )
    return raw


def _import(raw: Path, out: Path, mapping: str | Path = "mapping.yaml", **kw):
    return import_files(
        raw / "events.csv",
        raw / "contacts.csv",
        raw / "accounts.csv",
        out,
        raw / mapping,
        opportunities=raw / "deals.csv",
        **kw,
    )


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_a_crm_export_imports_with_a_mapping_alone(crm: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    s = _import(crm, out)
    opp = _csv(out / "opportunities.csv")
    # the two renewals are filtered out (d5's unknown stage "Pending" is never looked at)
    assert opp["opportunity_id"].tolist() == ["d1", "d2", "d4"]
    assert opp["status"].tolist() == ["won", "open", "lost"]
    assert opp["type"].tolist() == ["new_business", "expansion", "new_business"]
    assert opp["closed"].tolist() == ["2024-04-01", "", "2024-03-30"]
    deals = s.files[3]
    assert (deals.rows_read, deals.rows_kept) == (5, 3)
    assert deals.filtered == {"Pipeline not in ['Renewal']": 2}
    assert "filtered out 2 rows by the filter Pipeline not in ['Renewal']" in str(s)
    acc = _csv(out / "accounts.csv")
    assert list(acc.columns) == ["account_id", "tier", "icp_fit"]
    assert acc["tier"].tolist() == ["1", "2", "3", "3"]
    # 5000 >= 1000; 199.5 in [0, 200); 12 in [0, 200); empty stays unknown
    assert acc["icp_fit"].tolist() == ["1.0", "0.3", "0.3", ""]
    assert s.opportunities_without_people == 0
    real = read_log(out / "events.csv", out / "contacts.csv", out / "accounts.csv")
    tiers = dict(zip(real.account_labels, real.log.accounts["tier"], strict=True))
    assert tiers == {"acme": 1.0, "globex": 2.0, "initech": 3.0, "hooli": 3.0}
    assert real.log.contacts["title"].tolist() == ["VP Marketing", "Engineer", "CTO", "Analyst"]


def test_bin_edges_are_closed_on_the_left(crm: Path, tmp_path: Path) -> None:
    text = ACCOUNTS.replace('"5000"', "1000").replace("199.5", "200").replace("12", "0")
    (crm / "accounts.csv").write_text(text, encoding="utf-8")
    _import(crm, tmp_path / "out")
    assert _csv(tmp_path / "out" / "accounts.csv")["icp_fit"].tolist() == ["1.0", "0.6", "0.3", ""]


def test_a_lead_level_export_without_titles(tmp_path: Path) -> None:
    """The lead is both contact and account: one column feeds two fields (it used to be
    dropped, then reported as not mapped); no title column: empty titles, said in both
    reports, and a title-weighing rule has nothing to weigh."""
    raw = _write(
        tmp_path / "raw",
        leads_csv="Lead ID,Company Size\nL1,4\nL2,40\n",
        touches_csv="Lead ID,When,What\n"
        "L1,2024-01-02,Form\nL2,2024-01-03,Form\nL1,2024-01-05,Page\n",
        m_yaml="events:\n  columns: {timestamp: When, account_id: Lead ID, contact_id: Lead ID,"
        " activity: What}\n  activities: {Form: content_download, Page: web_visit}\n"
        "contacts:\n  columns: {contact_id: Lead ID, account_id: Lead ID}\n",
    )
    s = import_files(raw / "touches.csv", raw / "leads.csv", None, tmp_path / "o", raw / "m.yaml")
    assert "no job titles" in str(s)
    con = _csv(tmp_path / "o" / "contacts.csv")
    assert con.to_dict("list") == {"contact_id": ["L1", "L2"], "account_id": ["L1", "L2"]}
    ev = _csv(tmp_path / "o" / "events.csv")
    assert ev["account_id"].tolist() == ev["contact_id"].tolist() == ["L1", "L2", "L1"]
    real = read_log(tmp_path / "o" / "events.csv", tmp_path / "o" / "contacts.csv")
    assert real.log.contacts["title"].tolist() == ["", ""]
    assert any("no title column" in w for w in real.report.warnings)
    assert "no title column" in str(real.report)


def test_constants_give_every_row_a_value(tmp_path: Path) -> None:
    """A single company's export: no account column; the account is a constant."""
    raw = _write(
        tmp_path / "raw",
        e_csv="ts,who,act\n2024-01-02,a,web_visit\n2024-01-03,b,web_visit\n",
        c_csv="who,job\na,CTO\nb,CFO\n",
        m_yaml="events:\n  columns: {timestamp: ts, contact_id: who, activity: act}\n"
        "  constants: {account_id: acme, campaign: 2024}\n"
        "contacts:\n  columns: {contact_id: who, title: job}\n  constants: {account_id: acme}\n",
    )
    import_files(raw / "e.csv", raw / "c.csv", None, tmp_path / "o", raw / "m.yaml")
    ev = _csv(tmp_path / "o" / "events.csv")
    assert ev["account_id"].tolist() == ["acme", "acme"]
    assert ev["campaign"].tolist() == ["2024", "2024"]
    assert list(ev.columns) == ["timestamp", "account_id", "contact_id", "activity", "campaign"]
    real = read_log(tmp_path / "o" / "events.csv", tmp_path / "o" / "contacts.csv")
    assert list(real.account_labels) == ["acme"]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("keep", ["new_business", "Expansion", "Renewal", "new_business", "Renewal"]),
        ("empty", ["new_business", "", "", "new_business", ""]),
    ],
)
def test_unmapped_values_kept_or_emptied(
    crm: Path, tmp_path: Path, policy: str, expected: list[str]
) -> None:
    text = MAPPING.replace("not_in: [Renewal]", "not_in: [Nothing]")
    text = text.replace("Open: open}", "Open: open, Pending: open}")
    text = text.replace(", Expansion: expansion}", "}") + f"  unmapped_values: {{type: {policy}}}\n"
    (crm / "m2.yaml").write_text(text, encoding="utf-8")
    _import(crm, tmp_path / "o", "m2.yaml")
    opp = _csv(tmp_path / "o" / "opportunities.csv")
    assert opp["opportunity_id"].tolist() == ["d1", "d2", "d3", "d4", "d5"]
    assert opp["type"].tolist() == expected
    assert opp["status"].tolist() == ["won", "open", "won", "lost", "open"]


# ---- errors: bad data names the raw file and line; a bad mapping its file and field path ----


def _deal_error(crm: Path, tmp_path: Path, deals: str, match: str) -> None:
    (crm / "deals.csv").write_text(deals, encoding="utf-8")
    with pytest.raises(DataError, match=match):
        _import(crm, tmp_path / "o")
    assert not (tmp_path / "o").exists()  # nothing half-written, no empty folder


def test_an_unmapped_value_stops_with_the_raw_line(crm: Path, tmp_path: Path) -> None:
    bad = DEALS.replace("Lost,200,New Business", "Closed Lost,200,New Business")
    _deal_error(
        crm,
        tmp_path,
        bad,
        r"deals\.csv, line 5: status: a value not in the mapping's opportunities\.values\.status "
        r".*'Won', 'Lost', 'Open'.*unmapped_values.*: 'Closed Lost'",
    )


def test_an_unmapped_value_is_found_across_chunks(crm: Path, tmp_path: Path, monkeypatch) -> None:
    rows = "".join(f"x{i},acme,2024-03-10,,Open,1,New Business\n" for i in range(40))
    bad = DEALS + rows + "x99,acme,2024-03-10,,Opn,1,New Business\n"
    monkeypatch.setattr(imp, "CHUNK_ROWS", 7)
    _deal_error(crm, tmp_path, bad, r"line 47: status: .*'Opn'")


def test_bins_reject_text_and_values_below_the_first_edge(crm: Path, tmp_path: Path) -> None:
    (crm / "accounts.csv").write_text(ACCOUNTS.replace("199.5", "about 200"), "utf-8")
    with pytest.raises(
        DataError,
        match=r"accounts\.csv, line 3: Employees \(accounts\.bins\.icp_fit\): not a number: "
        r"'about 200'",
    ):
        _import(crm, tmp_path / "o")
    (crm / "accounts.csv").write_text(ACCOUNTS.replace("199.5", "-3"), "utf-8")
    with pytest.raises(DataError, match=r"line 3: Employees .*below the first edge 0: '-3'"):
        _import(crm, tmp_path / "o")


def test_a_column_the_mapping_names_must_exist(crm: Path, tmp_path: Path) -> None:
    text = MAPPING.replace("column: Pipeline,", "column: Pipeline Name,")
    (crm / "m2.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(
        DataError,
        match=r"deals\.csv: the mapping \(opportunities\.filters\[0\]\.column\) names column "
        r"'Pipeline Name'.*did you mean 'Pipeline'.*columns found: Deal ID, Account",
    ):
        _import(crm, tmp_path / "o", "m2.yaml")


def test_a_value_map_needs_a_column(crm: Path, tmp_path: Path) -> None:
    text = MAPPING.replace(", tier: Segment", "")  # a value map for tier, no tier column
    (crm / "m2.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"accounts\.values\.tier\) translates tier, which"):
        _import(crm, tmp_path / "o", "m2.yaml")


BAD_MAPPINGS = [
    (
        "accounts: {values: {won: {Yes: true}}}\n",
        r"accounts\.values\.won.*YAML reads True as a boolean.*quote",
    ),
    (
        "accounts: {bins: {tier: {column: E, edges: [0, 200, 100], labels: [3, 2, 1]}}}\n",
        r"accounts\.bins\.tier.*edges must increase strictly",
    ),
    (
        "accounts: {bins: {icp_fit: {column: E, edges: [0, .nan, 1000], labels: [1, 2, 3]}}}\n",
        r"accounts\.bins\.icp_fit\.edges\[1\]: must be a finite number",
    ),
    (
        "accounts: {bins: {tier: {column: E, edges: [0, 200], labels: [3, 2, 1]}}}\n",
        r"accounts\.bins\.tier.*one label per edge.*2 edges, 3 labels",
    ),
    (
        "opportunities: {filters: [{column: P, equals: a, not_in: [b]}]}\n",
        r"opportunities\.filters\[0\].*exactly one of equals, in, not_in \(got 2\)",
    ),
    (
        "opportunities: {filters: [{column: P, among: [b]}]}\n",
        r"unknown key 'among'",
    ),
    (
        "events: {columns: {account_id: A}, constants: {account_id: acme}}\n",
        r"events.*'account_id' is given by both columns and constants",
    ),
    (
        "opportunities: {values: {stage: {Won: won}}}\n",
        r"opportunities: values: 'stage' is not a qualsim opportunities column; expected "
        r"some of account_id, opportunity_id",
    ),
    (
        "opportunities: {values: {status: {Won: won}}, unmapped_values: {staus: keep}}\n",
        r"unmapped_values: 'staus' has no value map.*did you mean 'status'",
    ),
    ("contacts: {unmapped_values: sometimes}\n", r"contacts\.unmapped_values"),
    ("events: {values: {activity: {Visit: web_visit}}}\n", r"under activities, not values"),
    # a mapping reads no other file: no extends, no includes
    ("extends: ../../secrets.yaml\n", r"unknown key 'extends'"),
]


@pytest.mark.parametrize(("text", "message"), BAD_MAPPINGS)
def test_bad_mappings_name_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_mapping(path)
    assert str(path) in str(info.value)


def _cli(crm: Path, out: Path, mapping: str = "mapping.yaml"):
    args = ["import", "--events", str(crm / "events.csv"), "--contacts", str(crm / "contacts.csv")]
    args += ["--accounts", str(crm / "accounts.csv"), "--opportunities", str(crm / "deals.csv")]
    return CliRunner().invoke(app, [*args, "--mapping", str(crm / mapping), "--out", str(out)])


def test_cli_imports_opportunities(crm: Path, tmp_path: Path) -> None:
    r = _cli(crm, tmp_path / "o")
    assert r.exit_code == 0, r.output
    assert "filtered out 2 rows" in r.output and "--opportunities" in r.output
    assert _csv(tmp_path / "o" / "opportunities.csv")["opportunity_id"].tolist() == [
        "d1",
        "d2",
        "d4",
    ]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("deals.csv", "Lost,200", "Gone,200"), "deals.csv, line 5: status"),
        (("accounts.csv", "199.5", "n/a"), "accounts.csv, line 3: Employees"),
        (("mapping.yaml", "not_in: [Renewal]", "not_in: [Renewal], equals: x"), "exactly one"),
        (("mapping.yaml", "Stage", "Stag"), "opportunities.columns.status"),
    ],
)
def test_cli_errors_exit_2_naming_the_file(
    crm: Path, tmp_path: Path, edit: tuple[str, str, str], message: str
) -> None:
    name, old, new = edit
    path = crm / name
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    r = _cli(crm, tmp_path / "o")
    assert r.exit_code == 2, r.output
    assert message in " ".join(r.output.split()) and "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


def test_each_file_may_have_its_own_time_zone_and_format(tmp_path: Path) -> None:
    raw = _write(
        tmp_path / "raw",
        e_csv="ts,a,c,x\n03/01/2024 10:00,acme,p,web_visit\n",
        c_csv="contact_id,account_id\np,acme\n",
        d_csv="id,a,opened\nd1,acme,2024-03-01 09:00\nd2,acme,2024-03-02\n",
        m_yaml="timezone: Europe/Berlin\ntimestamp_format: '%m/%d/%Y %H:%M'\n"
        "events: {columns: {timestamp: ts, account_id: a, contact_id: c, activity: x}}\n"
        "opportunities:\n  timezone: Asia/Tokyo\n  timestamp_format: '%Y-%m-%d %H:%M'\n"
        "  columns: {opportunity_id: id, account_id: a, created: opened}\n",
    )
    import_files(
        raw / "e.csv",
        raw / "c.csv",
        None,
        tmp_path / "o",
        raw / "m.yaml",
        opportunities=raw / "d.csv",
    )
    assert _csv(tmp_path / "o" / "events.csv")["timestamp"].tolist() == ["2024-03-01T09:00:00Z"]
    # Tokyo is UTC+9; a plain date has no clock and is never shifted
    opened = _csv(tmp_path / "o" / "opportunities.csv")["created"].tolist()
    assert opened == ["2024-03-01T00:00:00Z", "2024-03-02"]


def test_typed_parquet_columns_are_translated_as_text(tmp_path: Path) -> None:
    """Parquet keeps types: an integer segment code and employee count map like their text."""
    raw = _write(
        tmp_path / "raw",
        e_csv="timestamp,account_id,contact_id,activity\n2024-01-02,a1,p,web_visit\n",
        c_csv="contact_id,account_id\np,a1\n",
        m_yaml="accounts:\n  values: {tier: {1: 1, 2: 2, 9: 3}}\n"
        "  filters: [{column: active, equals: 1}]\n"
        "  bins: {icp_fit: {column: employees, edges: [0, 100], labels: [0.5, 1]}}\n",
    )
    pd.DataFrame(
        {
            "account_id": ["a1", "a2", "a3"],
            "tier": [9, 1, 2],
            "employees": [150, 20, 7],
            "active": [1, 1, 0],
        }
    ).to_parquet(raw / "a.parquet")
    s = import_files(
        raw / "e.csv", raw / "c.csv", raw / "a.parquet", tmp_path / "o", raw / "m.yaml"
    )
    acc = _csv(tmp_path / "o" / "accounts.csv")
    assert acc.to_dict("list") == {
        "account_id": ["a1", "a2"],
        "tier": ["3", "1"],
        "icp_fit": ["1", "0.5"],
    }
    assert s.files[2].filtered == {"active = '1'": 1}


def test_event_rows_with_unmapped_values_may_be_skipped(tmp_path: Path) -> None:
    raw = _write(
        tmp_path / "raw",
        e_csv="timestamp,account_id,contact_id,activity,channel\n"
        "2024-01-02,a1,p,web_visit,Paid Search\n2024-01-03,a1,p,web_visit,Carrier Pigeon\n",
        c_csv="contact_id,account_id\np,a1\n",
        m_yaml="events:\n  values: {channel: {Paid Search: paid_search}}\n",
    )
    args = (raw / "e.csv", raw / "c.csv", None, tmp_path / "o", raw / "m.yaml")
    with pytest.raises(DataError, match=r"e\.csv, line 3: channel: .*'Carrier Pigeon'"):
        import_files(*args)
    s = import_files(*args, skip_bad_rows=True)
    (reason,) = s.files[0].rejected
    assert "events.values.channel" in reason and s.files[0].rejected[reason] == 1
    assert "line 3: 'Carrier Pigeon'" in s.files[0].first_rejected[reason]
    assert _csv(tmp_path / "o" / "events.csv")["channel"].tolist() == ["paid_search"]


@pytest.mark.parametrize(("text", "message"), BAD_MAPPINGS)
def test_cli_bad_mappings_exit_2(crm: Path, tmp_path: Path, text: str, message: str) -> None:
    (crm / "bad.yaml").write_text(text, encoding="utf-8")
    r = _cli(crm, tmp_path / "o", "bad.yaml")
    assert r.exit_code == 2, r.output
    flat = " ".join(r.output.split())
    assert "bad.yaml:1:" in flat and "Traceback" not in r.output
    assert re.search(message, flat), flat
    assert not (tmp_path / "o").exists()


def test_text_outcomes_become_booleans_and_long_maps_are_shortened(tmp_path: Path) -> None:
    segments = "".join(f"  S{i}: {i % 3 + 1}\n" for i in range(30))
    raw = _write(
        tmp_path / "raw",
        e_csv="timestamp,account_id,contact_id,activity\n2024-01-02,a1,p,web_visit\n",
        c_csv="contact_id,account_id\np,a1\n",
        a_csv="id,opened,closed,outcome,seg\na1,2024-01-10,2024-02-01,Won,S4\n"
        "a2,2024-01-11,2024-02-02,Lost,S7\na3,,,,S29\n",
        m_yaml="accounts:\n  columns: {account_id: id, opportunity_date: opened,"
        " close_date: closed, won: outcome, tier: seg}\n"
        "  values:\n    won: {Won: true, Lost: false}\n    tier:\n"
        + segments.replace("  S", "      S"),
    )
    args = (raw / "e.csv", raw / "c.csv", raw / "a.csv", tmp_path / "o", raw / "m.yaml")
    import_files(*args)
    acc = _csv(tmp_path / "o" / "accounts.csv")
    assert acc["won"].tolist() == ["true", "false", ""]
    assert acc["tier"].tolist() == ["2", "2", "3"]
    real = read_log(
        tmp_path / "o" / "events.csv",
        tmp_path / "o" / "contacts.csv",
        args[2].parent.parent / "o" / "accounts.csv",
    )
    assert real.outcomes["won"].tolist()[:2] == [True, False]
    (raw / "a.csv").write_text("id,opened,closed,outcome,seg\na1,,,,S30\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"'S0', 'S1', .*'S9', \.\.\. \(30 in all\).*: 'S30'"):
        import_files(*args)


def test_typed_parquet_nulls_are_empty_and_timestamps_instants(tmp_path: Path) -> None:
    raw = _write(
        tmp_path / "raw",
        e_csv="timestamp,account_id,contact_id,activity\n2024-01-02,a1,p,web_visit\n",
        c_csv="contact_id,account_id\np,a1\n",
    )
    pd.DataFrame(
        {
            "account_id": ["a1", "a1"],
            "opportunity_id": [7, 8],
            "created": pd.to_datetime(["2024-01-10 09:30", "2024-02-01"], format="ISO8601"),
            "closed": pd.to_datetime(["2024-03-01", None]),
            "status": ["won", None],
            "amount": [1200.5, np.nan],
            "hot": [True, False],
        }
    ).to_parquet(raw / "o.parquet")
    (raw / "m.yaml").write_text(
        "opportunities:\n  timezone: Europe/Berlin\n  timestamp_format: '%d.%m.%Y'\n",
        encoding="utf-8",
    )
    import_files(
        raw / "e.csv",
        raw / "c.csv",
        None,
        tmp_path / "o",
        raw / "m.yaml",
        opportunities=raw / "o.parquet",
    )
    opp = _csv(tmp_path / "o" / "opportunities.csv")
    assert opp.to_dict("list") == {
        "account_id": ["a1", "a1"],
        "opportunity_id": ["7", "8"],
        # typed instants are never parsed with the text format; local Berlin time -> UTC
        "created": ["2024-01-10T08:30:00Z", "2024-01-31T23:00:00Z"],
        "closed": ["2024-02-29T23:00:00Z", ""],
        "status": ["won", ""],
        "amount": ["1200.5", ""],
    }
