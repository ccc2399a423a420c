"""Replaying a real history: the volume, timing and wins metrics worked out by hand, what cannot
be measured, and the HTML replay report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.real import NOT_MEASURABLE, replay
from sim.report import build_replay_report

# "The first known web visit qualifies the account" (one person in a 30-day window).
POLICY = """\
name: first-visit
kind: mqa_count
window_days: 30
activities: [web_visit]
any:
  - unique_contacts: 1
"""


@pytest.fixture
def history(tmp_path: Path) -> Path:
    (tmp_path / "events.csv").write_text(
        "timestamp,account_id,contact_id,activity\n"
        "2024-01-05,A,a1,web_visit\n"  # A handed off on Jan 5; opportunity opens Jan 20
        "2024-01-10,C,c1,web_visit\n"  # C handed off on Jan 10; its opportunity is open then
        "2024-01-12,B,b1,web_visit\n"  # B handed off on Jan 12; never an opportunity
        "2024-01-26,B,,impression\n",  # the log spans Jan 5 .. Jan 26: 21 days = 3 weeks
        encoding="utf-8",
    )
    (tmp_path / "contacts.csv").write_text(
        "contact_id,account_id,title\na1,A,CTO\nb1,B,Analyst\nc1,C,CISO\n", encoding="utf-8"
    )
    (tmp_path / "accounts.csv").write_text(
        "account_id,opportunity_date,close_date,won,value\n"
        "A,2024-01-20,2024-03-01,true,100\n"
        "B,,,,\n"
        "C,2023-12-01,2024-02-01,false,50\n"
        "D,2024-02-01,,,\n",  # an opportunity, never touched: missed by every policy
        encoding="utf-8",
    )
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    return tmp_path


def test_replay_metrics_by_hand(history: Path) -> None:
    r = replay(
        history / "events.csv",
        history / "contacts.csv",
        [history / "policy.yaml"],
        history / "accounts.csv",
    )
    d = r.details.set_index("policy").loc["first-visit"]
    assert d["handoffs"] == 3
    assert d["handoffs_per_week"] == pytest.approx(3 / 3)  # 3 handoffs over 3 weeks
    assert d["precision"] == pytest.approx(2 / 3)  # A (opens within 90 d) and C (open) are true
    assert d["recall"] == pytest.approx(2 / 3)  # A and C of A, C, D
    assert d["days_to_opportunity"] == pytest.approx(15.0)  # only A's opened after its handoff
    assert d["days_to_close"] == pytest.approx(
        (56 + 22) / 2
    )  # A: Jan 5 -> Mar 1; C: Jan 10 -> Feb 1
    assert d["won_accounts"] == 1 and d["won_value"] == pytest.approx(100.0)
    assert d["opportunities_missed"] == 1  # D
    assert sorted(r.handoff_days["true"].tolist()) == [False, True, True]


def test_won_value_is_unknown_without_amounts(history: Path) -> None:
    """The same history without the value column: A's win is still counted, its value is
    unknown (NaN, shown '-'), not 0."""
    path = history / "accounts.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n", encoding="utf-8")
    r = replay(history / "events.csv", history / "contacts.csv", [history / "policy.yaml"], path)
    d = r.details.set_index("policy").loc["first-visit"]
    assert d["won_accounts"] == 1 and math.isnan(d["won_value"])


def test_evaluate_does_not_repeat_the_outcome_columns(history: Path) -> None:
    """handoffs, precision and recall are in the outcome table: the details table on the
    terminal leaves them out (json keeps every column)."""
    args = ["evaluate", "--events", str(history / "events.csv"), "--contacts"]
    args += [str(history / "contacts.csv"), "--accounts", str(history / "accounts.csv")]
    args += ["--policy", str(history / "policy.yaml"), "--out", str(history / "out")]
    res = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    details = res.stdout.split("Volume, timing and wins")[1]
    header = next(line for line in details.splitlines() if "policy" in line)
    assert "handoffs_per_week" in header and "won_value" in header
    assert not {"handoffs", "precision", "recall"} & set(header.replace("┃", " ").split())
    res = CliRunner().invoke(app, [*args, "--format", "json"])
    assert {"handoffs", "precision", "recall"} <= set(json.loads(res.stdout)["details"][0])


def test_replay_report_marks_what_real_data_cannot_measure(history: Path, tmp_path: Path) -> None:
    r = replay(
        history / "events.csv",
        history / "contacts.csv",
        [history / "policy.yaml"],
        history / "accounts.csv",
    )
    page = build_replay_report(r, "our last year")
    assert page.startswith("<!DOCTYPE html>")
    for heading in (
        "Handoffs against CRM outcomes",
        "Handoff timing against the opportunity",
        "Volume",
        "What a real history cannot measure",
    ):
        assert heading in page
    for item in NOT_MEASURABLE:
        assert item in page
    assert "data:image/png;base64," in page and "http" not in page


def test_cli_evaluate_report(history: Path, tmp_path: Path) -> None:
    out = tmp_path / "replay.html"
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--events",
            str(history / "events.csv"),
            "--contacts",
            str(history / "contacts.csv"),
            "--accounts",
            str(history / "accounts.csv"),
            "--policy",
            str(history / "policy.yaml"),
            "--out",
            str(tmp_path / "res"),
            "--report",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "Not measurable on a real history" in result.output
    assert (tmp_path / "res" / "outcomes.csv").is_file()
    assert "What a real history cannot measure" in out.read_text(encoding="utf-8")
