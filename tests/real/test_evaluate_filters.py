"""``qualsim evaluate`` on an export with email deliveries: how many touches each declared
filter of a policy removed, printed and written (filters.csv, the HTML report)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from sim.cli import app

EVENTS = """timestamp,account_id,contact_id,activity
2024-03-01T09:00:00,acme,ann,email_delivered
2024-03-01T09:00:02,acme,ann,email_open
2024-03-01T09:00:03,acme,ann,email_click
2024-03-01T10:00:00,acme,ann,email_click
2024-03-01T09:00:00,acme,bob,email_delivered
2024-03-01T09:30:00,acme,bob,email_click
2024-03-02T08:00:00,globex,cyd,web_visit
2024-03-02T08:00:01,globex,cyd,web_visit
2024-03-02T08:00:02,globex,cyd,web_visit
2024-03-02T08:00:03,globex,cyd,web_visit
"""
CONTACTS = """contact_id,account_id,title
ann,acme,CISO
bob,acme,IT Director
cyd,globex,Engineer
"""
POLICY = """name: cleaned
kind: mqa_count
window_days: 30
activities: [email_open, email_click, web_visit]
any:
  - min_activities: 1
exclude:
  - after_delivery: {seconds: 10}
  - burst: {touches: 2, seconds: 60}
"""


def _files(folder: Path) -> list[str]:
    (folder / "events.csv").write_text(EVENTS)
    (folder / "contacts.csv").write_text(CONTACTS)
    (folder / "cleaned.yaml").write_text(POLICY)
    return ["--events", str(folder / "events.csv"), "--contacts", str(folder / "contacts.csv")]


def test_evaluate_reports_the_touches_each_filter_removed(tmp_path):
    out, report = tmp_path / "res", tmp_path / "report.html"
    args = [*_files(tmp_path), "--policy", str(tmp_path / "cleaned.yaml"), "--out", str(out)]
    res = CliRunner().invoke(app, ["evaluate", *args, "--report", str(report)])
    assert res.exit_code == 0, res.output
    # ann's open and click 2 and 3 s after her delivery; cyd's 3rd and 4th visit in 3 s
    assert (
        "cleaned: exclude.0 (after_delivery: email_open, email_click within 10 s) removed 2 "
        "touches" in res.output
    )
    assert "cleaned: exclude.1 (burst: more than 2 touches in 60 s) removed 2 touches" in res.output
    assert "cleaned: exclude (all filters) removed 4 touches" in res.output
    counts = pd.read_csv(out / "filters.csv")
    assert counts["removed"].tolist() == [2, 2, 4]
    assert "Touches removed by the policies" in report.read_text()
    # acme's handoff is bob's click at 09:30, not the scanner's open at 09:00:02; globex's is
    # cyd's first visit (the first two of a burst stay)
    q = pd.read_csv(out / "qualifications.csv")
    assert q.set_index("account_id")["time"].str[:16].to_dict() == {
        "acme": "2024-03-01T09:30",
        "globex": "2024-03-02T08:00",
    }


def test_evaluate_without_filters_writes_no_counts(tmp_path):
    out = tmp_path / "res"
    res = CliRunner().invoke(
        app, ["evaluate", *_files(tmp_path), "--policy", "mqa_count", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "removed" not in res.output
    assert not (out / "filters.csv").exists()
