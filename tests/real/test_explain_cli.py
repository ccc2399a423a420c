"""``qualsim explain`` on a hand-made export: every time it prints is the export's timestamp."""

from __future__ import annotations

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


def _run(tmp_path: Path, policy: str, account: str):
    (tmp_path / "events.csv").write_text(EVENTS)
    (tmp_path / "contacts.csv").write_text(CONTACTS)
    (tmp_path / "p.yaml").write_text(policy)
    args = ["explain", "--events", str(tmp_path / "events.csv")]
    args += ["--contacts", str(tmp_path / "contacts.csv"), "--policy", str(tmp_path / "p.yaml")]
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


def test_the_days_column_is_relative_to_the_handoff(tmp_path):
    res = _run(tmp_path, STAGES, "acme")
    days = pd.Timestamp("2024-03-10T15:30:00") - pd.Timestamp("2024-03-01T09:00:00")
    assert f" {days / pd.Timedelta(days=1):.1f} " in res.stdout  # 9.3: Ann's visit
    assert " 7.1 " in res.stdout  # Bob's visit: 7 days 3.5 hours before
