"""A team's raw CRM export, as the CRM writes it, through ``qualsim import`` with a mapping alone
and ``qualsim evaluate`` with an opportunities file: no pandas step in between. Several deals
per account of several pipelines with text stages, a segment column, a sales call among the
marketing touches, and a lead-level export without titles. Expected values are worked by hand
from the rule in docs/real-data.md (a handoff at t is true when a counted opportunity of its
account opens in [t, t + 90 days] or is open at t)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app

EVENTS = """\
Activity Date,Account Name,Email,Activity Type
2024-03-01,Acme,ann@acme.com,Request Demo
2024-03-02,Acme,bob@acme.com,Call
2024-03-04,Globex,cid@globex.com,Request Demo
2024-03-05,Initech,dee@initech.com,Request Demo
2024-03-06,Hooli,eve@hooli.com,Visit Webpage
2024-03-07,Hooli,eve@hooli.com,Call
2024-03-08,Hooli,eve@hooli.com,Call
"""
CONTACTS = """\
Email,Company,Job Title
ann@acme.com,Acme,VP Security
bob@acme.com,Acme,Engineer
cid@globex.com,Globex,CTO
dee@initech.com,Initech,Analyst
eve@hooli.com,Hooli,CISO
"""
ACCOUNTS = """\
Company,Segment
Acme,Enterprise
Globex,Mid-Market
Initech,SMB
Hooli,Enterprise
"""
# Acme: new business 19 days after its handoff (true) beside an old renewal.
# Globex: a renewal open at its handoff, its new business 181 days later (false, inside other
#   pipeline).
# Initech: only an expansion, 5 days after its handoff (false by default, true when counted).
# Hooli: new business but no handoff (missed); its calls are sales touches, worth nothing.
DEALS = """\
Opportunity ID,Company,Created,Closed,Stage,Amount,Pipeline
o1,Acme,2024-01-01,2024-02-01,Closed Won,900,Renewal
o2,Acme,2024-03-20,2024-05-01,Closed Won,1000,New Business
o3,Globex,2024-02-01,,Open,300,Renewal
o4,Globex,2024-09-01,2024-10-01,Closed Lost,700,New Business
o5,Initech,2024-03-10,2024-04-01,Closed Lost,50,Expansion
o6,Hooli,2024-04-01,2024-06-01,Closed Won,2000,New Business
"""
MAPPING = """\
events:
  columns: {timestamp: Activity Date, account_id: Account Name, contact_id: Email,
            activity: Activity Type}
  activities: {Request Demo: demo_request, Visit Webpage: web_visit, Call: call}
contacts:
  columns: {contact_id: Email, account_id: Company, title: Job Title}
accounts:
  columns: {account_id: Company, tier: Segment}
  values:
    tier: {Enterprise: 1, Mid-Market: 2, SMB: 3}
opportunities:
  columns: {opportunity_id: Opportunity ID, account_id: Company, created: Created,
            closed: Closed, status: Stage, amount: Amount, type: Pipeline}
  values:
    status: {Closed Won: won, Closed Lost: lost, Open: open}
"""
# One demo request is enough; calls would score 10 each if the rule counted sales touches.
POLICY = """\
name: demo
kind: mql
threshold: 10
points: {demo_request: 10, web_visit: 1}
"""

runner = CliRunner()


def _files(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _ok(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    return _import(tmp_path)[0]


def _import(tmp_path: Path) -> tuple[Path, str]:
    raw = _files(
        tmp_path / "raw",
        {
            "activities.csv": EVENTS,
            "contacts.csv": CONTACTS,
            "accounts.csv": ACCOUNTS,
            "deals.csv": DEALS,
            "mapping.yaml": MAPPING,
            "demo.yaml": POLICY,
        },
    )
    out = tmp_path / "canonical"
    text = _ok(
        [
            "import",
            "--events", str(raw / "activities.csv"),
            "--contacts", str(raw / "contacts.csv"),
            "--accounts", str(raw / "accounts.csv"),
            "--opportunities", str(raw / "deals.csv"),
            "--mapping", str(raw / "mapping.yaml"),
            "--out", str(out),
        ]
    )  # fmt: skip
    return out, text


def test_the_import_report_counts_the_sales_touches_it_kept(tmp_path: Path):
    _, text = _import(tmp_path)
    # Acme's call and Hooli's two: kept (replay shows them), marked as sales touches
    assert "kept 3 call (sales touches" in text
    events = pd.read_csv(tmp_path / "canonical" / "events.csv")
    assert (events["activity"] == "call").sum() == 3


def _evaluate(canonical: Path, out: Path, *extra: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    text = _ok(
        [
            "evaluate",
            "--events", str(canonical / "events.csv"),
            "--contacts", str(canonical / "contacts.csv"),
            "--accounts", str(canonical / "accounts.csv"),
            "--opportunities", str(canonical / "opportunities.csv"),
            "--policy", str(canonical.parent / "raw" / "demo.yaml"),
            "--out", str(out),
            *extra,
        ]
    )  # fmt: skip
    metrics = pd.read_csv(out / "metrics.csv").set_index("policy")
    details = pd.read_csv(out / "outcomes.csv").set_index("policy")
    return metrics, details, text


def test_precision_and_recall_are_counted_per_opportunity(imported: Path, tmp_path: Path):
    m, d, text = _evaluate(imported, tmp_path / "default")
    row = m.loc["demo"]
    # handoffs: Acme, Globex, Initech (Hooli's web visit scores 1, its calls nothing)
    assert row["handoffs"] == 3
    assert row["true_handoffs"] == 1  # Acme's new business, 19 days later
    assert row["precision"] == pytest.approx(1 / 3)
    # counted: o2, o4, o6 (new business); found: o2
    assert (row["opportunities"], row["opportunities_found"]) == (3, 1)
    assert row["recall"] == pytest.approx(1 / 3)
    # both false handoffs fall inside other pipeline: Globex's open renewal, Initech's expansion
    assert d.loc["demo", "false_in_other_types"] == 2
    assert d.loc["demo", "false_in_other_share"] == pytest.approx(1.0)
    assert "call" in text  # the replay shows the sales touches it set aside


def test_counting_expansions_changes_the_truth_not_the_handoffs(imported: Path, tmp_path: Path):
    m, _, _ = _evaluate(
        imported,
        tmp_path / "expansion",
        "--counted-type", "new_business",
        "--counted-type", "Expansion",
    )  # fmt: skip
    row = m.loc["demo"]
    assert row["handoffs"] == 3
    assert row["true_handoffs"] == 2  # Acme and now Initech
    # counted: o2, o4, o5, o6; found: o2, o5
    assert (row["opportunities"], row["opportunities_found"]) == (4, 2)
    assert row["recall"] == pytest.approx(0.5)


def test_a_lead_level_export_without_titles_says_why_title_rules_are_quiet(tmp_path: Path):
    """A lead export: the lead id is both contact and account, no titles. The rule that
    weighs titles and the rule that needs several people hand off nothing, and evaluate says
    why from the log's own statistics."""
    raw = _files(
        tmp_path / "raw",
        {
            "leads.csv": "Lead ID,Company Size\nL1,4\nL2,40\nL3,400\n",
            "touches.csv": "Lead ID,When,What\n"
            "L1,2024-01-02,Form\nL2,2024-01-03,Form\nL1,2024-01-05,Page\nL3,2024-01-06,Demo\n",
            "m.yaml": "events:\n  columns: {timestamp: When, account_id: Lead ID, "
            "contact_id: Lead ID, activity: What}\n"
            "  activities: {Form: content_download, Page: web_visit, Demo: demo_request}\n"
            "contacts:\n  columns: {contact_id: Lead ID, account_id: Lead ID}\n",
        },
    )
    out = tmp_path / "canonical"
    text = _ok(
        [
            "import",
            "--events", str(raw / "touches.csv"),
            "--contacts", str(raw / "leads.csv"),
            "--mapping", str(raw / "m.yaml"),
            "--out", str(out),
        ]
    )  # fmt: skip
    assert "title" in text
    text = _ok(
        [
            "evaluate",
            "--events", str(out / "events.csv"),
            "--contacts", str(out / "contacts.csv"),
            "--policy", "weighted_titles",
            "--policy", "mqa_depth",
            "--out", str(tmp_path / "results"),
        ]
    )  # fmt: skip
    q = pd.read_csv(tmp_path / "results" / "qualifications.csv")
    assert set(q["policy"]) <= {"weighted_titles", "mqa_depth"}
    quiet = " ".join(text.split())
    assert "1.0 known people per account" in quiet
    assert "title" in quiet


def _replay_one(tmp_path: Path, events: str, opportunities: str, *extra: str):
    raw = _files(
        tmp_path / "one",
        {
            "events.csv": "timestamp,account_id,contact_id,activity\n" + events,
            "contacts.csv": "contact_id,account_id,title\na1,A,CTO\nb1,B,CTO\n",
            "opps.csv": "account_id,opportunity_id,created,closed,status,type\n" + opportunities,
            "demo.yaml": POLICY,
        },
    )
    args = ["evaluate", "--events", str(raw / "events.csv"), "--contacts"]
    args += [str(raw / "contacts.csv"), "--opportunities", str(raw / "opps.csv")]
    args += ["--policy", str(raw / "demo.yaml"), "--out", str(tmp_path / "r"), *extra]
    return runner.invoke(app, args)


def test_an_opportunity_opened_the_day_of_the_handoff_is_zero_days_away(tmp_path: Path):
    """Plain-date outcomes are compared by day: a handoff at 15:00 and an opportunity created
    that day is true, and 0 days ahead (not missing, not -0.625)."""
    r = _replay_one(
        tmp_path, "2024-01-05T15:00:00,A,a1,demo_request\n", "A,1,2024-01-05,,open,new_business\n"
    )
    assert r.exit_code == 0, r.output
    d = pd.read_csv(tmp_path / "r" / "outcomes.csv").set_index("policy")
    m = pd.read_csv(tmp_path / "r" / "metrics.csv").set_index("policy")
    assert m.loc["demo", "precision"] == 1.0
    assert d.loc["demo", "days_to_opportunity"] == 0.0


@pytest.mark.parametrize("empty", ["", " "])
def test_an_empty_counted_type_is_refused(tmp_path: Path, empty: str):
    r = _replay_one(
        tmp_path,
        "2024-01-05,A,a1,demo_request\n",
        "A,1,2024-02-01,,open,\n",
        "--counted-type",
        empty,
    )
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "--counted-type: an empty type" in r.output


def test_a_misspelt_counted_type_beside_a_right_one_is_named(tmp_path: Path):
    r = _replay_one(
        tmp_path,
        "2024-01-05,A,a1,demo_request\n",
        "A,1,2024-02-01,,open,new_business\nB,2,2024-02-01,,open,renewal\n",
        "--counted-type",
        "new_business",
        "--counted-type",
        "renewl",
    )
    assert r.exit_code == 0, r.output
    assert "no opportunity of the counted type(s) renewl" in " ".join(r.output.split())
