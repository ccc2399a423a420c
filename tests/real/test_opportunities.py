"""Several CRM opportunities per account: reading the opportunities file, the truth rule per
opportunity (worked by hand), the counted types, and the accounts file's single opportunity as
a special case of the same table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import DataError
from sim.real import outcome_metrics, read_log, replay, truth_from_outcomes

# "The first known web visit qualifies the account" (one person in a 30-day window).
POLICY = """\
name: first-visit
kind: mqa_count
window_days: 30
activities: [web_visit]
any:
  - unique_contacts: 1
"""
EVENTS = """\
timestamp,account_id,contact_id,activity
2024-01-05,A,a1,web_visit
2024-01-10,B,b1,web_visit
2024-01-12,C,c1,web_visit
2024-01-15,D,d1,web_visit
2024-01-20,E,e1,web_visit
"""
CONTACTS = """\
contact_id,account_id,title
a1,A,CTO
b1,B,CTO
c1,C,CTO
d1,D,CTO
e1,E,CTO
"""
# Text statuses and type names as a CRM writes them; F has an opportunity but no touches.
OPPORTUNITIES = """\
account_id,opportunity_id,created,closed,status,amount,type
A,A-nb1,2024-02-01,2024-03-01,Won,200,New Business
A,A-ren,2024-01-01,,Open,,Renewal
B,B-ren,2023-12-01,2024-03-01,Lost,50,Renewal
B,B-nb,2024-06-01,,open,,new business
C,C-exp,2024-02-15,,,,Expansion
D,D-nb1,2023-11-01,2024-01-20,won,100,NEW_BUSINESS
D,D-nb2,2024-03-01,,,,New-Business
F,F-nb,2024-02-01,,,,New Business
"""


def write(folder: Path, **texts: str) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, text in texts.items():
        out[name] = folder / f"{name}.csv"
        out[name].write_text(text, encoding="utf-8")
    return out


@pytest.fixture
def export(tmp_path: Path) -> dict[str, Path]:
    f = write(tmp_path, events=EVENTS, contacts=CONTACTS, opportunities=OPPORTUNITIES)
    f["policy"] = tmp_path / "policy.yaml"
    f["policy"].write_text(POLICY, encoding="utf-8")
    return f


def _replay(f: dict[str, Path], counted=("new_business",)):
    return replay(
        f["events"],
        f["contacts"],
        [f["policy"]],
        opportunities=f["opportunities"],
        counted=counted,
    )


def test_the_table_and_the_per_account_outcomes(export):
    real = read_log(export["events"], export["contacts"], opportunities=export["opportunities"])
    assert list(real.account_labels) == ["A", "B", "C", "D", "E", "F"]  # F: added, last
    o = real.opportunities
    assert list(o["opportunity_id"]) == [
        "A-nb1", "A-ren", "B-ren", "B-nb", "C-exp", "D-nb1", "D-nb2", "F-nb"
    ]  # fmt: skip
    nb, ren = "new_business", "renewal"
    assert list(o["type"]) == [nb, ren, ren, nb, "expansion", nb, nb, nb]
    assert list(o["status"]) == ["won", "open", "lost", "open", "open", "won", "open", "open"]
    assert list(o["account_id"]) == [0, 0, 1, 1, 2, 3, 3, 5]
    assert o["created"].iloc[0] == 27.0 and o["closed"].iloc[0] == 56.0  # origin Jan 5
    # outcomes: each account's first new_business opportunity (calibration reads these)
    out = real.outcomes.set_index(real.account_labels)
    assert out.loc["A", "opportunity_date"] == 27.0 and out.loc["A", "won"]
    assert out.loc["D", "opportunity_date"] == -65.0 and out.loc["D", "value"] == 100.0
    assert np.isnan(out.loc["C", "opportunity_date"]) and np.isnan(out.loc["E", "value"])
    assert real.outcome_time_format == "date"
    text = str(real.report)
    assert f"{export['opportunities']}: 8 rows read, 8 kept" in text
    assert "opportunities by type: new_business 5, renewal 2, expansion 1" in text


def test_precision_and_recall_per_opportunity_by_hand(export):
    r = _replay(export)
    m = r.metrics.set_index("policy").loc["first-visit"]
    # handoffs A Jan 5, B Jan 10, C Jan 12, D Jan 15, E Jan 20. True: A (A-nb1 opens Feb 1,
    # within 90 days), D (D-nb1 open on Jan 15, D-nb2 opens Mar 1). B's new business opens
    # Jun 1 (> 90 days), C has an expansion only, E nothing.
    assert (m["handoffs"], m["true_handoffs"]) == (5, 2)
    assert m["precision"] == pytest.approx(2 / 5)
    # counted: A-nb1, B-nb, D-nb1, D-nb2, F-nb; found: A-nb1, D-nb1, D-nb2
    assert (m["opportunities"], m["opportunities_found"]) == (5, 3)
    assert m["recall"] == pytest.approx(3 / 5)
    assert (m["accounts_with_opportunity"], m["recalled"]) == (4, 2)  # A, B, D, F; A, D
    d = r.details.set_index("policy").loc["first-visit"]
    # B's false handoff falls in its open renewal, C's in the expansion opening Feb 15
    assert d["false_in_other_types"] == 2
    assert d["false_in_other_share"] == pytest.approx(2 / 3)  # of B, C, E
    assert d["opportunities_missed"] == 2  # B-nb, F-nb
    # A's handoff found A-nb1 (27 days on, closed 56 days on); D's found D-nb2 first (opening
    # ahead: 46 days on, still open)
    assert d["days_to_opportunity"] == pytest.approx((27 + 46) / 2)
    assert d["days_to_close"] == pytest.approx(56.0)
    assert (d["won_accounts"], d["won_value"]) == (1, 200.0)  # A-nb1


def test_counted_types_are_configurable_and_case_insensitive(export):
    r = _replay(export, counted=("Renewal", "New Business"))
    m = r.metrics.set_index("policy").loc["first-visit"]
    # B's handoff is now true (its renewal was open); A-ren (open on Jan 5) and B-ren are found
    assert (m["true_handoffs"], m["opportunities"], m["opportunities_found"]) == (3, 7, 5)
    assert r.details.set_index("policy").loc["first-visit", "false_in_other_types"] == 1  # C


def test_evaluate_cli_takes_opportunities_and_counted_types(export, tmp_path):
    args = ["evaluate", "--events", str(export["events"]), "--contacts", str(export["contacts"])]
    args += ["--policy", str(export["policy"]), "--opportunities", str(export["opportunities"])]
    out = tmp_path / "out"
    r = CliRunner().invoke(app, [*args, "--counted-type", "renewal", "--counted-type",
                                 "new business", "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    m = pd.read_csv(out / "metrics.csv").set_index("policy").loc["first-visit"]
    assert (m["true_handoffs"], m["opportunities"], m["opportunities_found"]) == (3, 7, 5)
    d = pd.read_csv(out / "outcomes.csv").set_index("policy").loc["first-visit"]
    assert d["false_in_other_types"] == 1


def test_the_accounts_file_gives_one_new_business_opportunity_per_account(tmp_path):
    f = write(
        tmp_path,
        events="timestamp,account_id,contact_id,activity\n2024-01-01,A,a1,web_visit\n",
        contacts="contact_id,account_id,title\na1,A,CTO\n",
        accounts="account_id,opportunity_date,close_date,won,value\n"
        "A,2024-01-10,2024-02-01,true,5\n"
        "B,2024-01-10,2024-02-01,false,\n"
        "C,2024-01-10,,,\n"
        "D,2024-01-10,2024-02-01,,\n"
        "E,,,,\n",
    )
    real = read_log(f["events"], f["contacts"], f["accounts"])
    o = real.opportunities
    assert list(o["opportunity_id"]) == ["A", "B", "C", "D"]
    assert list(o["status"]) == ["won", "lost", "open", ""]  # D: closed, outcome not said
    assert set(o["type"]) == {"new_business"}
    assert list(o["created"]) == [9.0] * 4 and o["amount"].iloc[0] == 5.0


def test_outcomes_in_both_places_are_refused(tmp_path, export):
    acc = write(tmp_path / "a", accounts="account_id,opportunity_date\nA,2024-01-01\n")
    with pytest.raises(DataError, match=r"accounts.csv: the accounts file has outcome columns"):
        read_log(export["events"], export["contacts"], acc["accounts"], export["opportunities"])


def test_truth_from_outcomes_takes_the_counted_types(export):
    real = read_log(export["events"], export["contacts"], opportunities=export["opportunities"])
    c = list(real.account_labels).index("C")
    t = 0.0  # Jan 5; C's expansion opens Feb 15 (41 days on)
    assert truth_from_outcomes(real)(c, t) is False
    assert truth_from_outcomes(real, counted=["expansion"])(c, t) is True
    assert truth_from_outcomes(real, horizon_days=40, counted=["expansion"])(c, t) is False
    q = pd.DataFrame({"policy": ["p"], "account_id": [c], "time": [t]})
    m = outcome_metrics(q, real, counted=["Expansion"]).iloc[0]
    assert (m["true_handoffs"], m["opportunities"], m["opportunities_found"]) == (1, 1, 1)


def test_no_opportunity_of_the_counted_types_says_so(export, tmp_path):
    r = _replay(export, counted=("upsell",))
    assert r.metrics.iloc[0]["true_handoffs"] == 0
    note = (
        "warning: no opportunity of the counted type(s) upsell: every handoff scores false. "
        "The opportunities' types are new_business 5, renewal 2, expansion 1; name the "
        "pipeline a handoff should find with --counted-type"
    )
    assert note in str(r.real.report)
    assert "warning" not in str(_replay(export).real.report)
    args = ["evaluate", "--events", str(export["events"]), "--contacts", str(export["contacts"])]
    args += ["--policy", str(export["policy"]), "--opportunities", str(export["opportunities"])]
    out = CliRunner().invoke(app, [*args, "--counted-type", "Upsell", "--out", str(tmp_path / "o")])
    assert out.exit_code == 0 and note in " ".join(out.output.split())


def test_a_typed_parquet_opportunities_file(export, tmp_path):
    path = tmp_path / "opps.parquet"
    pd.DataFrame(
        {
            "account_id": ["A", "D", "D"],
            "opportunity_id": [1, 2, 3],
            "created": pd.to_datetime(["2024-02-01", "2023-11-01", "2024-03-01"]),
            "closed": pd.to_datetime(["2024-03-01", "2024-01-20", None]),
            "status": ["Won", "won", None],
            "amount": [200.0, 100.0, np.nan],
        }
    ).to_parquet(path)
    real = read_log(export["events"], export["contacts"], opportunities=path)
    o = real.opportunities
    assert list(o["opportunity_id"]) == ["1", "2", "3"]
    assert list(o["status"]) == ["won", "won", "open"] and set(o["type"]) == {"new_business"}
    assert list(o["closed"].isna()) == [False, False, True]
    assert real.outcome_time_format == "datetime"  # typed timestamps count as date-times
    q = pd.DataFrame({"policy": ["p", "p"], "account_id": [0, 3], "time": [0.0, 10.0]})
    m = outcome_metrics(q, real).iloc[0]  # A on Jan 5: A's opens Feb 1; D on Jan 15: open
    assert (m["true_handoffs"], m["opportunities"], m["opportunities_found"]) == (2, 3, 3)
