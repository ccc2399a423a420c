"""``qualsim explain`` on a hand-made export: every time it prints is the export's timestamp."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from sim.cli import app

# Account acme: Ann visits on 1 March, Bob on 3 March, Bob requests a demo on 10 March;
# account zeta: one visit only.
EVENTS = """timestamp,account_id,contact_id,activity
2024-03-01T09:00:00,acme,ann,web_visit
2024-03-03T12:00:00,acme,bob,web_visit
2024-03-10T15:30:00,acme,bob,demo_request
2024-03-02T08:00:00,zeta,zoe,web_visit
"""
CONTACTS = """contact_id,account_id,title
ann,acme,VP Marketing
bob,acme,IT Manager
zoe,zeta,Analyst
"""
TWO_PEOPLE = "name: two\nkind: mqa_count\nwindow_days: 30\nany:\n  - unique_contacts: 2\n"
STAGES = """name: staged
kind: stages
handoff_stage: ready
stages:
  - name: engaged
    when: {unique_contacts: 2, window_days: 30}
  - name: ready
    when: {min_activities: 1, window_days: 30, activities: [demo_request]}
"""


def _files(tmp_path: Path, command: str, policy: str = TWO_PEOPLE) -> list[str]:
    """Write the events, contacts and policy files; the command's arguments that name them."""
    (tmp_path / "events.csv").write_text(EVENTS)
    (tmp_path / "contacts.csv").write_text(CONTACTS)
    (tmp_path / "p.yaml").write_text(policy)
    events, contacts, pol = (str(tmp_path / f) for f in ("events.csv", "contacts.csv", "p.yaml"))
    return [command, "--events", events, "--contacts", contacts, "--policy", pol]


def _run(tmp_path: Path, policy: str, account: str):
    args = _files(tmp_path, "explain", policy)
    return CliRunner().invoke(app, [*args, "--account", account], env={"COLUMNS": "200"})


def test_the_handoff_is_at_the_second_persons_timestamp(tmp_path):
    res = _run(tmp_path, TWO_PEOPLE, "acme")
    assert res.exit_code == 0, res.output
    # Bob's visit on 3 March is the second distinct person within 30 days.
    assert "two: account acme handed off at 2024-03-03T12:00:00 (rule any.0 held" in res.stdout
    assert "day " not in res.stdout.replace("days_before_handoff", "")
    # Ann's visit came 2 days and 3 hours (2.125 days) before the handoff, Bob's at it.
    assert "2024-03-01T09:00:00" in res.stdout and " 2.1 " in res.stdout


def test_stage_entries_are_timestamps_too(tmp_path):
    res = _run(tmp_path, STAGES, "acme")
    assert res.exit_code == 0, res.output
    want = (
        "staged: account acme handed off at 2024-03-10T15:30:00 "
        "(entered engaged at 2024-03-03T12:00:00, then ready at 2024-03-10T15:30:00)"
    )
    assert want in res.stdout


def test_an_account_never_handed_off_says_so(tmp_path):
    res = _run(tmp_path, TWO_PEOPLE, "zeta")
    assert res.exit_code == 0, res.output
    assert "account zeta was never handed off" in res.stdout
    # zeta has one known person (Zoe); the rule needs two within 30 days
    assert (
        "why (on this account's touches): this log has 1.0 known people per account; clause "
        "any.0 needs 2 people within 30 days (the most on one account is 1)"
    ) in res.stdout


def test_the_days_column_is_relative_to_the_handoff(tmp_path):
    res = _run(tmp_path, STAGES, "acme")
    days = pd.Timestamp("2024-03-10T15:30:00") - pd.Timestamp("2024-03-01T09:00:00")
    assert f" {days / pd.Timedelta(days=1):.1f} " in res.stdout  # 9.3: Ann's visit
    assert " 7.1 " in res.stdout  # Bob's visit: 7 days 3.5 hours before


def test_evaluate_prints_zero_handoffs_with_the_highest_score_reached(tmp_path):
    args = _files(tmp_path, "evaluate")
    args += ["--policy", "mql_only", "--out", str(tmp_path / "out")]
    res = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "two: 1 handoff\n" in res.stdout  # acme, at Bob's visit; zeta has one person
    # mql_only's best person is Bob (no seniority, so no fit points): his demo request (30
    # points) plus his visit (1 point, 7.15 days earlier, halved every 30 days: 0.848) = 30.85.
    line = next(x for x in res.stdout.splitlines() if x.startswith("mql_only:"))
    assert line.startswith("mql_only: 0 handoffs — why: the highest lead score reached is ")
    assert line.endswith("; the threshold is 100")
    assert abs(float(line.split("reached is ")[1].split(";")[0]) - 30.848) < 0.01


def test_explain_as_json_gives_the_touches_with_exact_day_offsets(tmp_path):
    args = _files(tmp_path, "explain")
    res = CliRunner().invoke(app, [*args, "--account", "acme", "--format", "json"])
    assert res.exit_code == 0, res.output
    tables = json.loads(res.stdout)  # stdout holds the one table, nothing else
    assert list(tables) == ["touches"]  # a stable name, whatever the data
    rows = tables["touches"]
    assert {r["handoff_time"] for r in rows} == {"2024-03-03T12:00:00"}
    # Ann 2 days 3 hours (2.125 days) before Bob's visit, the handoff; Bob's at 0.
    assert [(r["contact_id"], r["days_before_handoff"]) for r in rows] == [
        ("ann", 2.125),
        ("bob", 0.0),
    ]
    assert "handed off at 2024-03-03T12:00:00" in res.stderr


def test_evaluate_as_csv_prints_only_its_tables(tmp_path):
    args = _files(tmp_path, "evaluate")
    args += ["--out", str(tmp_path / "out"), "--format", "csv"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert res.stdout == ""  # no outcomes given: no table, and the notes go to stderr
    assert "two: 1 handoff" in res.stderr and f"wrote {tmp_path / 'out'}" in res.stderr
