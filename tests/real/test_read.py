"""Tests for ``sim.real.read_log``: reading real exports (CSV / Parquet) into an EventLog, the
messages for bad input (file, line, value), --skip-bad-rows counts, time zones, and the outcome
truth rule and metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.errors import DataError
from sim.eventlog import VISIBLE_CONTACT_COLUMNS
from sim.real import SKIP_REASONS, OutcomeTruth, outcome_metrics, read_log, truth_from_outcomes

EVENTS = """\
timestamp,account_id,contact_id,activity,channel
2024-01-03,A2,c3,web_visit,web
2024-01-01,A1,c1,webinar,email
2024-01-02,A1,,impression,display
2024-01-02,A1,c2,web_visit,web
2024-01-02,A1,c2,content_download,web
2024-01-05,A9,,ad_click,search
"""
CONTACTS = """\
contact_id,account_id,title,seniority
c1,A1,VP Sales,vp
c2,A1,Analyst,individual
c3,A2,CISO,c_level
"""
ACCOUNTS = """\
account_id,tier,icp_fit
A2,1,0.5
A1,,0.9
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def files(tmp_path, events=EVENTS, contacts=CONTACTS, accounts=ACCOUNTS):
    return (
        write(tmp_path, "events.csv", events),
        write(tmp_path, "contacts.csv", contacts),
        write(tmp_path, "accounts.csv", accounts) if accounts is not None else None,
    )


def error(tmp_path, **kw) -> str:
    skip = kw.pop("skip_bad_rows", False)
    with pytest.raises(DataError) as exc:
        read_log(*files(tmp_path, **kw), skip_bad_rows=skip)
    return str(exc.value)


# --------------------------------------------------------------------------------------------
# Round trips


def test_round_trip_dates(tmp_path):
    real = read_log(*files(tmp_path))
    log = real.log
    # accounts: accounts.csv order, then the one only seen in events
    assert list(real.account_labels) == ["A2", "A1", "A9"]
    assert list(real.contact_labels) == ["c1", "c2", "c3"]
    assert real.time_format == "date"
    assert real.origin == pd.Timestamp("2024-01-01")
    ev = log.events
    assert list(ev.columns) == ["time", "account_id", "contact_id", "activity", "channel"]
    assert ev["account_id"].dtype == np.int64 and ev["contact_id"].dtype == np.int64
    assert list(ev["account_id"]) == [0, 1, 1, 1, 1, 2]
    assert list(ev["time"]) == [2.0, 0.0, 1.0, 1.0, 1.0, 4.0]
    assert list(real.to_timestamps(ev["time"])) == [
        "2024-01-03",
        "2024-01-01",
        "2024-01-02",
        "2024-01-02",
        "2024-01-02",
        "2024-01-05",
    ]
    assert list(real.label_accounts(ev["account_id"])) == ["A2", "A1", "A1", "A1", "A1", "A9"]
    assert list(real.label_contacts(ev["contact_id"])) == ["c3", "c1", "", "c2", "c2", ""]
    assert list(ev["activity"].cat.categories) == list(sim.vocab.ACTIVITIES)
    assert list(ev["channel"]) == ["web", "email", "display", "web", "web", "search"]
    # contacts and accounts tables
    co = log.contacts
    assert list(co["contact_id"]) == [0, 1, 2]
    assert list(co["account_id"]) == [1, 1, 0]
    assert list(co["title"]) == ["VP Sales", "Analyst", "CISO"]
    assert list(co["seniority"]) == ["vp", "individual", "c_level"]
    ac = log.accounts
    assert list(ac["account_id"]) == [0, 1, 2]
    np.testing.assert_array_equal(ac["tier"], [1.0, np.nan, np.nan])
    np.testing.assert_array_equal(ac["icp_fit"], [0.5, 0.9, np.nan])
    assert real.outcomes is None
    rep = real.report
    assert rep.anonymous_events == 2 and rep.accounts_added == 1 and rep.accounts_total == 3
    assert rep.contacts_without_account == 0 and rep.accounts_without_outcomes is None
    text = str(rep)
    assert "events.csv: 6 rows read, 6 kept (2 anonymous)" in text
    assert "3 accounts; 1 of them not in" in text


def test_round_trip_datetimes_keep_format(tmp_path):
    events = """\
timestamp,account_id,contact_id,activity
2024-03-01T10:00:00,1,7,web_visit
2024-03-02T23:59:59,1,7,webinar
2024-03-01T08:30:00,2,,ad_click
"""
    contacts = "contact_id,account_id,title\n7,1,CTO\n"
    real = read_log(*files(tmp_path, events=events, contacts=contacts, accounts=None))
    assert real.time_format == "datetime"
    assert real.origin == pd.Timestamp("2024-03-01")
    ev = real.log.events
    np.testing.assert_allclose(
        ev["time"], [10 / 24, 1 + (23 * 3600 + 59 * 60 + 59) / 86400, 8.5 / 24]
    )
    assert list(real.to_timestamps(ev["time"])) == [
        "2024-03-01T10:00:00",
        "2024-03-02T23:59:59",
        "2024-03-01T08:30:00",
    ]
    assert list(real.label_accounts(ev["account_id"])) == ["1", "1", "2"]  # CSV ids stay text
    assert real.to_timestamps([np.nan])[0] == ""


def test_space_separator_and_fractions_are_kept(tmp_path):
    events = """\
timestamp,account_id,contact_id,activity
2024-03-01 10:00:00.250,1,,web_visit
2024-03-01 11:00:00,1,,web_visit
"""
    real = read_log(*files(tmp_path, events=events, contacts="contact_id,account_id,title\nx,1,\n"))
    assert list(real.to_timestamps(real.log.events["time"])) == [
        "2024-03-01 10:00:00.250000",
        "2024-03-01 11:00:00.000000",
    ]


def test_sorting_is_stable_by_account_then_time(tmp_path):
    events = """\
timestamp,account_id,contact_id,activity
2024-01-02,B,,web_visit
2024-01-01,A,,webinar
2024-01-02,A,,email_open
2024-01-02,A,,ad_click
2024-01-01,B,,event
2024-01-02,A,,impression
"""
    real = read_log(
        *files(
            tmp_path, events=events, contacts="contact_id,account_id,title\nx,A,\n", accounts=None
        )
    )
    ev = real.log.events
    assert list(real.label_accounts(ev["account_id"])) == ["A", "A", "A", "A", "B", "B"]
    # A's three rows on 2024-01-02 keep their file order
    assert list(ev["activity"]) == [
        "webinar",
        "email_open",
        "ad_click",
        "impression",
        "event",
        "web_visit",
    ]
    assert ev["time"].is_monotonic_increasing is False
    for _, g in ev.groupby("account_id"):
        assert g["time"].is_monotonic_increasing


def test_parquet_reads_the_same_with_typed_columns(tmp_path):
    ev = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(
                ["2024-01-02 12:00", "2024-01-01 06:00", "2024-01-01 00:00"]
            ),
            "account_id": [10, 20, 10],
            "contact_id": [5.0, np.nan, 6.0],  # nulls make an integer column float
            "activity": ["webinar", "ad_click", "web_visit"],
        }
    )
    co = pd.DataFrame({"contact_id": [5, 6], "account_id": [10, 10], "title": ["CFO", "Dev"]})
    ac = pd.DataFrame({"account_id": [20, 10], "tier": [2, 1], "icp_fit": [0.1, 0.2]})
    paths = [tmp_path / "e.parquet", tmp_path / "c.pq", tmp_path / "a.parquet"]
    for df, p in zip((ev, co, ac), paths, strict=True):
        df.to_parquet(p, index=False)
    real = read_log(*paths)
    assert real.account_labels.dtype == np.int64 and list(real.account_labels) == [20, 10]
    assert real.contact_labels.dtype == np.int64 and list(real.contact_labels) == [5, 6]
    e = real.log.events
    assert list(e["account_id"]) == [0, 1, 1]
    assert list(e["contact_id"]) == [-1, 1, 0]
    np.testing.assert_allclose(e["time"], [0.25, 0.0, 1.5])
    assert real.time_format == "datetime"  # a typed timestamp column is a date-time
    labels = real.label_contacts(e["contact_id"])
    assert labels.dtype == "Int64" and labels.isna().tolist() == [True, False, False]
    assert list(real.to_timestamps(e["time"])) == [
        "2024-01-01T06:00:00",
        "2024-01-01T00:00:00",
        "2024-01-02T12:00:00",
    ]


def test_parquet_date_column_is_a_date(tmp_path):
    import datetime as dt

    ev = pd.DataFrame(
        {
            "timestamp": [dt.date(2024, 5, 2), dt.date(2024, 5, 1)],
            "account_id": ["a", "a"],
            "contact_id": [None, None],
            "activity": ["web_visit", "web_visit"],
        }
    )
    ev.to_parquet(tmp_path / "e.parquet", index=False)
    real = read_log(
        tmp_path / "e.parquet", write(tmp_path, "c.csv", "contact_id,account_id,title\nx,a,\n")
    )
    assert real.time_format == "date"
    assert list(real.to_timestamps(real.log.events["time"])) == ["2024-05-01", "2024-05-02"]


def test_empty_account_takes_the_contacts_account(tmp_path):
    events = "timestamp,account_id,contact_id,activity\n2024-01-01,,c3,web_visit\n"
    real = read_log(*files(tmp_path, events=events))
    assert list(real.label_accounts(real.log.events["account_id"])) == ["A2"]
    assert real.report.accounts_filled == 1


def test_identical_rows_are_kept_and_counted(tmp_path):
    events = EVENTS + "2024-01-02,A1,c2,web_visit,web\n2024-01-02,A1,c2,web_visit,web\n"
    real = read_log(*files(tmp_path, events=events))
    assert len(real.log.events) == 8
    assert real.report.duplicate_events == 2
    assert "2 identical repeats kept" in str(real.report)


def test_report_counts_contacts_without_account_and_ignored_columns(tmp_path):
    accounts = "account_id,name\nA1,Acme\n"
    real = read_log(*files(tmp_path, accounts=accounts))
    assert real.report.contacts_without_account == 1  # c3 at A2
    assert real.report.accounts_added == 2  # A2 (contacts), A9 (events)
    assert real.report.accounts.ignored_columns == ("name",)
    assert list(real.account_labels) == ["A1", "A2", "A9"]
    assert "tier" not in real.log.accounts.columns


def test_vocabulary_warnings(tmp_path):
    contacts = CONTACTS.replace("c1,A1,VP Sales,vp", "c1,A1,VP Sales,VP")
    real = read_log(*files(tmp_path, contacts=contacts))
    assert any("seniority" in w and "'VP' ×1" in w for w in real.report.warnings)


# --------------------------------------------------------------------------------------------
# Bad input: file, line and value in every message


def test_unsupported_suffix_and_missing_file(tmp_path):
    ev, co, _ = files(tmp_path)
    bad = write(tmp_path, "events.xlsx", "x")
    with pytest.raises(DataError, match=r"events\.xlsx.*'\.xlsx'.*\.csv, \.parquet or \.pq"):
        read_log(bad, co)
    with pytest.raises(DataError, match=r"nope\.csv: contacts file not found"):
        read_log(ev, tmp_path / "nope.csv")


def test_missing_columns_with_did_you_mean(tmp_path):
    events = "timestmp,account,contact_id,activity\n2024-01-01,A1,,web_visit\n"
    msg = error(tmp_path, events=events)
    assert "events.csv: missing required columns" in msg
    assert "'timestamp' (did you mean 'timestmp'?)" in msg
    assert "'account_id' (did you mean 'account'?)" in msg
    assert "columns found: timestmp, account, contact_id, activity" in msg


def test_missing_columns_still_raise_with_skip(tmp_path):
    msg = error(tmp_path, contacts="contact_id,title\nc1,CTO\n", skip_bad_rows=True)
    assert "contacts.csv: missing required column 'account_id'" in msg


def test_empty_file_and_header_only(tmp_path):
    assert "events.csv: the file is empty" in error(tmp_path, events="")
    msg = error(tmp_path, contacts="contact_id,account_id,title\n")
    assert "contacts.csv: the contacts file has a header but no data rows" in msg


BAD_EVENT_ROWS = [
    # (bad row, expected message part, reason)
    ("2024-13-01,A1,c1,web_visit", "unparseable timestamp '2024-13-01'", "bad_time"),
    ("01/02/2024,A1,c1,web_visit", "unparseable timestamp '01/02/2024'", "bad_time"),
    (",A1,c1,web_visit", "empty timestamp", "bad_time"),
    (
        "2024-01-01,A1,c1,web visit",
        "unknown activity 'web visit' (did you mean 'web_visit'?)",
        "unknown_activity",
    ),
    ("2024-01-01,A1,c99,web_visit", "contact_id 'c99' is not in", "unknown_contact"),
    (
        "2024-01-01,A2,c1,web_visit",
        "account_id 'A2' differs from the account of contact 'c1'",
        "account_mismatch",
    ),
    ("2024-01-01,,,web_visit", "empty account_id on an anonymous row", "missing_account"),
]


@pytest.mark.parametrize(("row", "expected", "reason"), BAD_EVENT_ROWS)
def test_bad_event_rows_name_file_line_value(tmp_path, row, expected, reason):
    events = EVENTS.replace("2024-01-02,A1,,impression,display", row + ",web")
    msg = error(tmp_path, events=events)
    assert f"events.csv, line 4: {expected}" in msg
    assert "1 bad row in all" in msg and "--skip-bad-rows" in msg
    real = read_log(*files(tmp_path, events=events), skip_bad_rows=True)
    assert real.report.skipped == {reason: 1}
    assert len(real.log.events) == 5
    assert real.report.events.first_skipped[reason].startswith("line 4:")


def test_line_numbers_count_blank_lines_and_quoted_newlines(tmp_path):
    events = (
        "timestamp,account_id,contact_id,activity,channel\n"
        '2024-01-01,A1,c1,web_visit,"two\nlines"\n'
        "\n"
        "2024-01-01,A1,c1,webinar,web\n"
        "2024-01-01,A1,c1,bogus,web\n"
    )
    assert "events.csv, line 6: unknown activity 'bogus'" in error(tmp_path, events=events)


def test_unknown_contact_hints(tmp_path):
    events = "timestamp,account_id,contact_id,activity\n2024-01-01,A1,-1,web_visit\n"
    assert "anonymous touches leave contact_id empty" in error(tmp_path, events=events)
    contacts = "contact_id,account_id,title\n12,A1,x\n"
    events = "timestamp,account_id,contact_id,activity\n2024-01-01,A1,12.0,web_visit\n"
    assert "looks like '12'" in error(tmp_path, events=events, contacts=contacts)


def test_first_bad_row_is_reported_with_totals(tmp_path):
    events = EVENTS + "2024-01-09,A1,c1,bogus,web\nnope,A1,c1,web_visit,web\n"
    msg = error(tmp_path, events=events)
    assert msg.startswith(f"{tmp_path / 'events.csv'}, line 8: unknown activity 'bogus'")
    assert "2 bad rows in all (1 with an unparseable timestamp, 1 with an unknown activity)" in msg


def test_skip_bad_rows_counts_each_kind(tmp_path):
    events = EVENTS + (
        "2024-02-30,A1,c1,web_visit,web\n"  # no such day
        "2024-01-09,A1,c1,bogus,web\n"
        "2024-01-09,A1,c1,bogus,web\n"
        "2024-01-09,A1,ghost,web_visit,web\n"
        "garbage,A1,ghost,bogus,web\n"  # counted once, under its first problem
    )
    real = read_log(*files(tmp_path, events=events), skip_bad_rows=True)
    rep = real.report
    assert rep.skipped == {"bad_time": 2, "unknown_activity": 2, "unknown_contact": 1}
    assert list(rep.skipped) == [r for r in SKIP_REASONS if r in rep.skipped]
    assert rep.events.rows_read == 11 and rep.events.rows_kept == 6
    text = str(rep)
    assert "skipped 2 rows with an unparseable timestamp (first: line 8: '2024-02-30')" in text
    assert "skipped 2 rows with an unknown activity (first: line 9: 'bogus')" in text
    assert "skipped 1 row with a contact_id not in the contacts file (first: line 11: 'ghost')" in (
        text
    )


def test_all_rows_skipped_is_an_error(tmp_path):
    events = "timestamp,account_id,contact_id,activity\nx,A1,,web_visit\n"
    msg = error(tmp_path, events=events, skip_bad_rows=True)
    assert "no usable events: all rows were skipped (1 with an unparseable timestamp)" in msg


def test_duplicate_contact_id(tmp_path):
    contacts = CONTACTS + "c2,A2,Other,vp\n"
    msg = error(tmp_path, contacts=contacts, skip_bad_rows=True)
    assert "contacts.csv, line 5: duplicated contact_id 'c2' (first on line 3)" in msg


def test_duplicate_account_id(tmp_path):
    msg = error(tmp_path, accounts=ACCOUNTS + "A2,2,0.1\n", skip_bad_rows=True)
    assert "accounts.csv, line 4: duplicated account_id 'A2' (first on line 2)" in msg


def test_empty_contact_ids(tmp_path):
    msg = error(tmp_path, contacts=CONTACTS + ",A1,x,vp\n")
    assert "contacts.csv, line 5: empty contact_id" in msg
    msg = error(tmp_path, contacts=CONTACTS + "c9,,x,vp\n")
    assert "contacts.csv, line 5: empty account_id for contact 'c9'" in msg


@pytest.mark.parametrize(
    ("accounts", "expected"),
    [
        ("account_id,tier\nA1,gold\n", "line 2: tier 'gold' is not a number"),
        ("account_id,tier\nA1,1\nA2,1.5\n", "line 3: tier '1.5' is not a whole number"),
        ("account_id,icp_fit\nA1,high\n", "line 2: icp_fit 'high' is not a number"),
        ("account_id,icp_fit\nA1,0.2\nA2,1.2\n", "line 3: icp_fit '1.2' is outside [0, 1]"),
        ("account_id,icp_fit\nA1,-0.1\n", "line 2: icp_fit '-0.1' is outside [0, 1]"),
        (
            "account_id,opportunity_date,value\nA1,2024-01-01,$5k\n",
            "line 2: value '$5k' is not a number",
        ),
        (
            "account_id,opportunity_date,won\nA1,2024-01-01,maybe\n",
            "line 2: won 'maybe' is not a boolean",
        ),
        (
            "account_id,opportunity_date\nA1,soon\n",
            "line 2: unparseable opportunity_date 'soon'",
        ),
        (
            "account_id,opportunity_date,close_date\nA1,2024-02-01,2024-01-01\n",
            "line 2: close_date '2024-01-01' is before opportunity_date '2024-02-01'",
        ),
        (
            "account_id,opportunity_date,close_date\nA1,,2024-01-01\n",
            "line 2: close_date '2024-01-01' without an opportunity_date",
        ),
        ("account_id,won\nA1,true\n", "outcome column won given without 'opportunity_date'"),
    ],
)
def test_bad_account_values(tmp_path, accounts, expected):
    msg = error(tmp_path, accounts=accounts, skip_bad_rows=True)
    assert f"accounts.csv, {expected}" in msg or f"accounts.csv: {expected}" in msg


def test_won_accepts_common_booleans(tmp_path):
    accounts = (
        "account_id,opportunity_date,close_date,won,value\n"
        "A1,2024-01-01,2024-02-01,TRUE,10\n"
        "A2,2024-01-01,2024-02-01,no,\n"
        "A3,2024-01-01,,,\n"
        "A4,2024-01-01,2024-01-05,Yes,1.5\n"
        "A5,,,0,\n"
    )
    real = read_log(*files(tmp_path, accounts=accounts))
    o = real.outcomes.set_index(pd.Index(real.account_labels))
    assert o.loc[["A1", "A2", "A4", "A5"], "won"].tolist() == [True, False, True, False]
    assert pd.isna(o.loc["A3", "won"]) and pd.isna(o.loc["A9", "won"])
    np.testing.assert_array_equal(o.loc[["A1", "A4"], "value"], [10.0, 1.5])
    assert o.loc["A1", "close_date"] == 31.0
    assert real.report.accounts_without_outcomes == 2  # A5 (empty) and A9 (events only)


# --------------------------------------------------------------------------------------------
# Time zones


def test_offsets_are_converted_to_utc(tmp_path):
    events = """\
timestamp,account_id,contact_id,activity
2024-03-01T02:00:00+02:00,1,,web_visit
2024-03-01T12:00:00Z,1,,web_visit
2024-03-01T20:00:00-0500,1,,web_visit
"""
    real = read_log(
        *files(
            tmp_path, events=events, contacts="contact_id,account_id,title\nx,1,\n", accounts=None
        )
    )
    assert real.origin == pd.Timestamp("2024-03-01", tz="UTC")
    ev = real.log.events
    np.testing.assert_allclose(ev["time"], [0.0, 0.5, 1 + 1 / 24])
    assert list(real.to_timestamps(ev["time"])) == [
        "2024-03-01T00:00:00Z",
        "2024-03-01T12:00:00Z",
        "2024-03-02T01:00:00Z",
    ]


def test_mixing_offsets_and_local_times_is_an_error(tmp_path):
    events = """\
timestamp,account_id,contact_id,activity
2024-03-01T02:00:00+02:00,1,,web_visit
2024-03-01,1,,web_visit
2024-03-01T12:00:00,1,,web_visit
"""
    msg = error(
        tmp_path,
        events=events,
        contacts="contact_id,account_id,title\nx,1,\n",
        accounts=None,
        skip_bad_rows=True,
    )
    assert "mix date-times with and without a UTC offset" in msg
    assert (
        "line 2 has '2024-03-01T02:00:00+02:00'" in msg
        and "line 4 has '2024-03-01T12:00:00'" in msg
    )


def test_outcome_dates_must_follow_the_events_convention(tmp_path):
    events = "timestamp,account_id,contact_id,activity\n2024-03-01T02:00:00Z,A1,,web_visit\n"
    accounts = "account_id,opportunity_date\nA1,2024-03-05T10:00:00\n"
    msg = error(tmp_path, events=events, accounts=accounts)
    assert (
        "accounts.csv, line 2: opportunity_date '2024-03-05T10:00:00' is a date-time without" in msg
    )
    # plain dates go with either convention
    accounts = "account_id,opportunity_date\nA1,2024-03-05\n"
    real = read_log(*files(tmp_path, events=events, accounts=accounts))
    assert real.outcomes["opportunity_date"].iloc[0] == 4.0


# --------------------------------------------------------------------------------------------
# The truth rule and metrics


def truth(opened, closed, by_day=False):
    return OutcomeTruth(np.array(opened, float), np.array(closed, float), 90.0, by_day)


def test_truth_rule_edges():
    t = 10.0
    cases = [
        # (opened, closed, true?)
        (10.0, np.nan, True),  # opened exactly at t
        (100.0, np.nan, True),  # opened exactly at t + 90
        (100.001, np.nan, False),  # just after the horizon
        (9.0, np.nan, True),  # opened before t, never closed: open at t
        (9.0, 10.5, True),  # closed after t
        (9.0, 10.0, False),  # closed exactly at t: no longer open ("closed after t" is strict)
        (9.0, 9.5, False),  # closed before t
        (10.0, 10.0, True),  # opened (and closed) at t: opened in [t, t + 90]
        (np.nan, np.nan, False),  # no opportunity
    ]
    tr = truth([c[0] for c in cases], [c[1] for c in cases])
    got = tr(np.arange(len(cases)), np.full(len(cases), t))
    assert got.tolist() == [c[2] for c in cases]
    assert tr(0, 10.0) is True
    assert tr.has_opportunity.tolist() == [True] * 8 + [False]
    with pytest.raises(ValueError, match="out of range"):
        tr(99, 1.0)


def test_truth_edges_survive_float_days(tmp_path):
    # handoff at 2024-01-01 07:13:00; opportunity opened exactly 90 days later at the same time
    events = "timestamp,account_id,contact_id,activity\n2024-01-01T07:13:00,A1,,web_visit\n"
    accounts = (
        "account_id,opportunity_date,close_date\n"
        "A1,2024-03-31T07:13:00,\n"
        "A2,2023-12-01T00:00:00,2024-01-01T07:13:00\n"
    )
    real = read_log(*files(tmp_path, events=events, accounts=accounts))
    t = real.log.events["time"].iloc[0]
    tr = truth_from_outcomes(real)
    assert tr.by_day is False
    assert tr([0, 1], [t, t]).tolist() == [True, False]
    assert tr(0, t - 1e-3) is False  # a minute and a half earlier, t + 90 misses it
    assert truth_from_outcomes(real, horizon_days=89)(0, t) is False


def test_truth_by_day_with_dated_outcomes(tmp_path):
    events = "timestamp,account_id,contact_id,activity\n2024-01-01T14:00:00,A1,,web_visit\n"
    accounts = (
        "account_id,opportunity_date,close_date\n"
        "A1,2024-01-01,2024-01-01\n"  # opened and closed the day of the 14:00 handoff
        "A2,2024-03-31,\n"  # 90 days after the handoff's day
        "A3,2023-12-01,2024-01-01\n"  # closed the day of the handoff: not open at it
    )
    real = read_log(*files(tmp_path, events=events, accounts=accounts))
    assert real.outcome_time_format == "date"
    tr = truth_from_outcomes(real)
    assert tr.by_day
    t = real.log.events["time"].iloc[0]
    assert t == pytest.approx(14 / 24)
    assert tr([0, 1, 2], [t, t, t]).tolist() == [True, True, False]


def test_no_outcomes_is_an_error(tmp_path):
    real = read_log(*files(tmp_path))
    with pytest.raises(DataError, match=r"accounts\.csv: no outcomes"):
        truth_from_outcomes(real)


def test_metrics_hand_worked(tmp_path):
    events = "timestamp,account_id,contact_id,activity\n" + "".join(
        f"2024-01-01,{a},,web_visit\n" for a in ("A", "B", "C", "D")
    )
    accounts = (
        "account_id,opportunity_date,close_date\n"
        "A,2024-02-01,\n"  # day 31
        "B,2024-01-01,2024-01-21\n"  # day 0..20
        "C,,\n"
        "D,2024-12-01,\n"  # day 335
    )
    real = read_log(*files(tmp_path, events=events, accounts=accounts))
    q = pd.DataFrame(
        {
            "policy": ["p1", "p1", "p1", "p1", "p2"],
            "account_id": [0, 0, 1, 2, 1],  # A, A, B, C, B
            "time": [0.0, 200.0, 5.0, 3.0, 20.0],
        }
    )
    # p1: A@0 true (opens day 31), A@200 true (opened before t, never closed: open),
    # B@5 true (open from day 0 to 20), C@3 false (no opportunity) → 3 / 4; recalled A, B of
    # A, B, D. p2: B@20 false (closed exactly at t).
    # p2: B@20 false (closed exactly at t)
    m = outcome_metrics(q, real, policies=["p1", "p2", "p3"]).set_index("policy")
    assert m.loc["p1", "handoffs"] == 4 and m.loc["p1", "true_handoffs"] == 3
    assert m.loc["p1", "precision"] == 0.75
    assert m.loc["p1", "accounts_with_opportunity"] == 3
    assert m.loc["p1", "recalled"] == 2 and m.loc["p1", "recall"] == pytest.approx(2 / 3)
    assert m.loc["p2", "handoffs"] == 1 and m.loc["p2", "true_handoffs"] == 0
    assert m.loc["p2", "recall"] == 0.0
    assert m.loc["p3", "handoffs"] == 0 and np.isnan(m.loc["p3", "precision"])
    # a shorter horizon loses A@0 (opens on day 31)
    m30 = outcome_metrics(q, real, horizon_days=30).set_index("policy")
    assert m30.loc["p1", "true_handoffs"] == 2 and list(m30.index) == ["p1", "p2"]


# --------------------------------------------------------------------------------------------
# A simulated world written as CSV reads back to the same events


def test_round_trip_from_a_simulated_world(tmp_path):
    w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 30}}), seed=1)
    start = pd.Timestamp("2024-01-01")
    we = w.events
    ev = pd.DataFrame(
        {
            "timestamp": (start + pd.to_timedelta(we["time"], unit="D")).dt.strftime(
                "%Y-%m-%dT%H:%M:%S.%f"
            ),
            "account_id": we["account_id"],
            "contact_id": we["contact_id"].astype(str).where(we["contact_id"] >= 0, ""),
            "activity": we["activity"].astype(str),
            "channel": we["channel"].astype(str),
        }
    )
    ev.to_csv(tmp_path / "events.csv", index=False)
    contacts = w.contacts[list(VISIBLE_CONTACT_COLUMNS)]
    contacts.to_csv(tmp_path / "contacts.csv", index=False)
    w.accounts.to_csv(tmp_path / "accounts.csv", index=False)

    real = read_log(tmp_path / "events.csv", tmp_path / "contacts.csv", tmp_path / "accounts.csv")
    got = real.log.events
    assert len(got) == len(we)
    offset = (real.origin - start) / pd.Timedelta(days=1)
    np.testing.assert_allclose(got["time"] + offset, we["time"], rtol=0, atol=1e-6)
    assert (got["activity"].astype(str).to_numpy() == we["activity"].astype(str).to_numpy()).all()
    accounts = real.label_accounts(got["account_id"]).astype(int)
    np.testing.assert_array_equal(accounts, we["account_id"])
    contact_labels = real.label_contacts(got["contact_id"])
    contacts_back = np.array([int(c) if c else -1 for c in contact_labels])
    np.testing.assert_array_equal(contacts_back, we["contact_id"])
    assert real.report.events.rows_kept == len(we)
    assert real.report.accounts_added == 0
    assert real.report.accounts.ignored_columns == ("name", "industry", "employees", "is_target")
    # the contacts table maps back too
    co = real.log.contacts
    np.testing.assert_array_equal(
        real.label_contacts(co["contact_id"]).astype(int), w.contacts["contact_id"]
    )
    np.testing.assert_array_equal(
        real.label_accounts(co["account_id"]).astype(int), w.contacts["account_id"]
    )
    np.testing.assert_allclose(real.log.accounts["icp_fit"], w.accounts["icp_fit"])


def test_outcome_dates_must_agree_among_themselves(tmp_path):
    accounts = (
        "account_id,opportunity_date,close_date\n"
        "A1,2024-01-01,2024-02-01T10:00:00\n"
        "A2,2024-01-05T00:00:00Z,\n"
    )
    msg = error(tmp_path, accounts=accounts)
    assert "accounts.csv: outcome dates mix date-times with and without a UTC offset" in msg
    assert "opportunity_date on line 3 is '2024-01-05T00:00:00Z'" in msg
    assert "close_date on line 2 is '2024-02-01T10:00:00'" in msg


def test_parquet_messages_name_the_row(tmp_path):
    ev = pd.DataFrame(
        {
            "timestamp": ["2024-01-01", "2024-01-02"],
            "account_id": ["A1", "A1"],
            "contact_id": ["c1", "c1"],
            "activity": ["web_visit", "pricing"],
        }
    )
    ev.to_parquet(tmp_path / "events.parquet", index=False)
    _, co, _ = files(tmp_path)
    with pytest.raises(DataError, match=r"events\.parquet, row 2: unknown activity 'pricing'"):
        read_log(tmp_path / "events.parquet", co)


def test_byte_order_mark_and_padded_values(tmp_path):
    events = "\ufefftimestamp , account_id,contact_id,activity\n 2024-01-01 , A1 , c1 , webinar \n"
    real = read_log(*files(tmp_path, events=events))
    ev = real.log.events
    assert list(ev["activity"]) == ["webinar"]
    assert real.label_accounts(ev["account_id"])[0] == "A1"
