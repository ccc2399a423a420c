"""``qualsim experiment analyse`` on a hand-made export of eight accounts: the per-arm counts,
differences, CIs and p-values worked out by hand, the same from day numbers and from the
canonical file with ISO dates, and every bad input a clear error."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import ConfigError, DataError
from sim.experiment.analyse import analyse_experiment, compare_arms, unlike_plan, verdict
from sim.experiment.design_read import read_design

# go-live day 10, 4 weeks: the window is [10, 38)
ACCOUNTS = """account_id,arm,tier
1,candidate,1
2,candidate,2
3,Candidate,2
4,candidate,3
5,incumbent,1
6,incumbent,3
7,holdout,2
8,holdout,3
"""
# 1: opportunity in the window, won in it (100). 2: opened before the start, won in the window
# (50). 3: opened in the window, won after it (70). 5: opened and lost in the window. 6:
# opened at the end (not in it). 99: not an account of the experiment.
OPPORTUNITIES = """account_id,opportunity_id,created,closed,status,won,value,amount,type,source
1,O1,12,30,won,True,100,100,new_business,handoff
2,O2,5,20,won,True,50,50,new_business,inbound
3,O3,20,40,won,True,70,70,new_business,handoff
5,O5,15,25,lost,False,0,900,new_business,handoff
6,O6,38,,open,False,0,300,new_business,handoff
99,O9,15,,open,False,0,10,new_business,inbound
"""
# the same as qualsim import writes it: day d is 2025-01-01 + d days
ISO = """account_id,opportunity_id,created,closed,status,amount
1,O1,2025-01-13,2025-01-31,won,100
2,O2,2025-01-06,2025-01-21,won,50
3,O3,2025-01-21,2025-02-10,won,70
5,O5,2025-01-16,2025-01-26,lost,900
6,O6,2025-02-08,,open,300
99,O9,2025-01-16,,open,10
"""
EVENTS = """time,account_id,contact_id,activity
11,1,1,web_visit
12,1,1,webinar
50,1,1,web_visit
20,7,2,web_visit
"""
Z = 1.959963984540054


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS)
    (tmp_path / "opportunities.csv").write_text(OPPORTUNITIES)
    (tmp_path / "iso.csv").write_text(ISO)
    (tmp_path / "events.csv").write_text(EVENTS)
    return tmp_path


def run(folder: Path, opportunities: str = "opportunities.csv", **kw):
    return analyse_experiment(folder / "accounts.csv", folder / opportunities, **kw)


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval by its textbook formula."""
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def test_opportunities_by_hand(export: Path) -> None:
    a = run(export, start=10, weeks=4)
    arms = a.arms.set_index("arm")
    # candidate: accounts 1 and 3 opened in the window (2 opened before it); incumbent: 5
    assert arms["accounts"].to_dict() == {"candidate": 4, "incumbent": 2, "holdout": 2}
    assert arms["with_opportunity"].to_dict() == {"candidate": 2, "incumbent": 1, "holdout": 0}
    c = a.comparisons.set_index("comparison")
    assert c["difference"].to_dict() == pytest.approx(
        {"candidate - incumbent": 0.0, "candidate - holdout": 0.5, "incumbent - holdout": 0.5}
    )
    # candidate - holdout: pooled share 2/6, se = sqrt(1/3 * 2/3 * (1/4 + 1/2)) = sqrt(1/6)
    z = 0.5 / math.sqrt(1 / 6)
    assert c.loc["candidate - holdout", "p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert c.loc["candidate - holdout", "p_value"] == pytest.approx(0.2207, abs=1e-4)
    # Newcombe: 0.5 - hypot(0.5 - l1, u2 - 0), 0.5 + hypot(u1 - 0.5, 0 - l2)
    (l1, u1), (l2, u2) = wilson(2, 4), wilson(0, 2)
    assert (l1, u1) == pytest.approx((0.15003, 0.84997), abs=1e-5)
    assert c.loc["candidate - holdout", "ci_low"] == pytest.approx(0.5 - math.hypot(0.5 - l1, u2))
    assert c.loc["candidate - holdout", "ci_high"] == pytest.approx(0.5 + math.hypot(u1 - 0.5, l2))
    assert c.loc["candidate - holdout", "ci_low"] == pytest.approx(-0.2449, abs=1e-4)
    assert not c["distinguishable"].any()
    assert a.notes == [
        f"1 opportunity of 1 account missing from {export / 'accounts.csv'} was left out"
    ]
    assert a.verdicts()[1].startswith(
        "candidate - holdout: +500.0 opportunities per 1,000 accounts (95% CI -244.9 to "
        "+850.0, p = 0.221): not distinguishable from zero at 5%."
    )


def test_wins_and_revenue_by_hand(export: Path) -> None:
    wins = run(export, start=10, weeks=4, metric="wins")
    # won in the window: accounts 1 and 2 (3 is won after it; 5 lost)
    assert wins.arms.set_index("arm")["with_win"].to_dict() == {
        "candidate": 2,
        "incumbent": 0,
        "holdout": 0,
    }
    c = wins.comparisons.set_index("comparison")
    assert c.loc["incumbent - holdout", "p_value"] == 1.0  # both 0: nothing to test
    lo, hi = wilson(0, 2)
    assert lo == pytest.approx(0.0, abs=1e-12)
    assert c.loc["incumbent - holdout", ["ci_low", "ci_high"]].tolist() == pytest.approx([-hi, hi])
    revenue = run(export, start=10, weeks=4, metric="revenue")
    c = revenue.comparisons.set_index("comparison")
    # candidate 100, 50, 0, 0: mean 37.5, variance 6875 / 3; holdouts 0, 0: se^2 = 6875 / 12
    # and Welch's df = 3; t(0.975, 3) = 3.182446
    se = math.sqrt(6875 / 12)
    assert c.loc["candidate - holdout", "difference"] == pytest.approx(37.5)
    assert c.loc["candidate - holdout", "ci_low"] == pytest.approx(37.5 - 3.182446 * se, abs=1e-4)
    assert c.loc["candidate - holdout", "ci_high"] == pytest.approx(37.5 + 3.182446 * se)
    # two-sided p of t = 37.5 / se with 3 df, from the closed form of Student's t with 3 df
    t = 37.5 / se
    x = t / math.sqrt(3)
    p = 1 - 2 / math.pi * (math.atan(x) + x / (1 + x * x))
    assert c.loc["candidate - holdout", "p_value"] == pytest.approx(p)


def test_all_data_counts_what_came_later(export: Path) -> None:
    later = run(export, start=10, metric="wins")
    assert later.arms.set_index("arm")["with_win"]["candidate"] == 3  # 3's win on day 40 counts
    assert later.weeks == pytest.approx(30 / 7)  # day 40 is the last time


def test_iso_dates_give_the_same(export: Path) -> None:
    for metric in ("opportunities", "wins", "revenue"):
        days = run(export, start=10, weeks=4, metric=metric)
        iso = run(export, "iso.csv", start="2025-01-11", weeks=4, metric=metric)
        assert iso.arms.equals(days.arms)
        assert iso.comparisons.equals(days.comparisons)


def test_only_the_counted_types(export: Path) -> None:
    header, *rows = ISO.splitlines()
    typed = "\n".join([f"{header},type", *(f"{r},New Business" for r in rows)]) + "\n"
    (export / "typed.csv").write_text(typed + "4,O4,2025-01-16,2025-01-20,won,500,Renewal\n")
    same = run(export, "typed.csv", start="2025-01-11", weeks=4)
    assert same.arms.equals(run(export, "iso.csv", start="2025-01-11", weeks=4).arms)
    assert same.notes[-1] == (
        "1 opportunity of other types than new_business was left out (--counted-type)"
    )
    both = run(
        export, "typed.csv", start="2025-01-11", weeks=4, counted=["new_business", "Renewal"]
    )
    assert both.arms.set_index("arm")["with_opportunity"]["candidate"] == 3  # and account 4
    with pytest.raises(ConfigError, match="--counted-type"):
        run(export, counted=[" "])


def test_too_few_accounts_to_test(export: Path) -> None:
    (export / "accounts.csv").write_text("account_id,arm\n1,candidate\n2,candidate\n7,holdout\n")
    a = run(export, start=10, weeks=4, metric="revenue")
    row = a.comparisons.iloc[0]
    assert row["difference"] == pytest.approx(75.0)  # (100 + 50) / 2 against 0
    assert np.isnan(row["p_value"]) and np.isnan(row["ci_low"]) and not row["distinguishable"]
    assert a.verdicts() == [
        "candidate - holdout: +75.0 revenue per account: not tested (an arm has fewer than "
        "two accounts)."
    ]


def test_touches_per_arm(export: Path) -> None:
    a = run(export, start=10, weeks=4, events=export / "events.csv")
    # candidate: two touches in the window (the third is on day 50) over 4 accounts
    touches = a.arms.set_index("arm")["touches_per_account"].to_dict()
    assert touches == {"candidate": 0.5, "incumbent": 0.0, "holdout": 0.5}


@pytest.mark.parametrize(
    ("accounts", "message"),
    [
        (
            ACCOUNTS.replace("4,candidate", "4,control"),
            "accounts.csv, line 5: column 'arm': 'control'",
        ),
        (
            ACCOUNTS + "2,holdout,1\n",
            "accounts.csv, line 10: duplicated account_id '2' (first on line 3)",
        ),
        ("account_id,tier\n1,2\n", "missing required column 'arm'"),
    ],
)
def test_bad_accounts(export: Path, accounts: str, message: str) -> None:
    (export / "accounts.csv").write_text(accounts)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(export)


def test_bad_opportunities_and_options(export: Path) -> None:
    (export / "bad.csv").write_text(OPPORTUNITIES.replace("3,O3,20,40", "3,O3,20,x"))
    with pytest.raises(DataError, match=r"bad.csv, line 4: closed 'x' is not a number"):
        run(export, "bad.csv")
    (export / "bad.csv").write_text(OPPORTUNITIES.replace("3,O3,20,40", "3,O3,20,19"))
    with pytest.raises(DataError, match=r"bad.csv, line 4: closed 19 is before created 20"):
        run(export, "bad.csv")
    (export / "bad.csv").write_text(
        OPPORTUNITIES.replace("1,O1,12,30,won,True,100,100", "1,O1,12,30,won,True,,")
    )
    run(export, "bad.csv", metric="wins")  # wins do not need the value
    with pytest.raises(DataError, match=r"bad.csv, line 2: a won opportunity without its revenue"):
        run(export, "bad.csv", metric="revenue")
    (export / "bad.csv").write_text(OPPORTUNITIES.replace("3,O3,20,40", "3,O3,2x,40"))
    with pytest.raises(DataError, match=r"bad.csv, line 4: created '2x' is not a day number"):
        run(export, "bad.csv")
    (export / "bad.csv").write_text(
        OPPORTUNITIES.replace("1,O1,12,30,won,True", "1,O1,12,30,won,maybe")
    )
    with pytest.raises(DataError, match=r"bad.csv, line 2: won 'maybe' is not a boolean"):
        run(export, "bad.csv")
    (export / "bad.csv").write_text(
        OPPORTUNITIES.replace("5,O5,15,25,lost,False", "5,O5,15,25,lost,True")
    )
    with pytest.raises(DataError, match=r"bad.csv, line 5: status 'lost' and won 'True' disagree"):
        run(export, "bad.csv")
    with pytest.raises(ConfigError, match="expected an ISO date"):
        run(export, "iso.csv", start="10")
    with pytest.raises(ConfigError, match="expected a day number"):
        run(export, start="2025-01-11")
    with pytest.raises(ConfigError, match="--metric"):
        run(export, metric="pipeline")
    with pytest.raises(ConfigError, match="--weeks"):
        run(export, weeks=0)


def plan(metric: str, low: float, high: float) -> dict:
    rows = [
        {
            "comparison": "candidate - holdout",
            "weeks": w,
            "experiments": 100,
            "mean_difference": (low + high) / 2,
            "power": 0.4,
            "power_se": 0.05,
            "difference_low": low,
            "difference_high": high,
        }
        for w in (4, 8, 13, 26, 52)
    ]
    # the export's arms hold 4, 2 and 2 of 8 accounts
    design = {"metric": metric, "candidate": "x", "split": "0.5,0.25,0.25"}
    return {"design": [design], "power": rows}


def test_against_the_design(export: Path) -> None:
    (export / "plan.json").write_text(json.dumps(plan("opportunities", 0.1, 0.6)))
    a = run(export, start=10, weeks=4, design=export / "plan.json")
    c = a.comparisons.set_index("comparison")
    assert c.loc["candidate - holdout", "design_weeks"] == 4
    assert c.loc["candidate - holdout", "in_line"] is True  # 0.5 is inside 0.1 to 0.6
    assert c.loc["candidate - incumbent", "in_line"] is None  # the design has no such row
    assert "in line with the simulation's prediction" in a.verdicts()[1]
    assert "60% of simulated experiments were not distinguishable either" in a.verdicts()[1]
    assert not any("rough estimate" in n for n in a.notes)  # 100 experiments
    few = plan("opportunities", 0.1, 0.6)
    for row in few["power"]:
        row["experiments"] = 3
    (export / "plan.json").write_text(json.dumps(few))
    a = run(export, start=10, weeks=4, design=export / "plan.json")
    assert "simulated 3 experiments: too few" in a.notes[-1]
    assert a.comparisons.set_index("comparison").loc["candidate - holdout", "in_line"] is None
    assert "cannot tell (see the notes)" in a.verdicts()[1]
    (export / "plan.json").write_text(json.dumps(plan("opportunities", 0.1, 0.6)))
    a = run(export, start=10, weeks=5, design=export / "plan.json")  # the plan has no 5 weeks
    assert a.comparisons.set_index("comparison").loc["candidate - holdout", "in_line"] is None
    assert any("simulated 4, 8, 13, 26, 52 weeks, not the --weeks 5 analysed" in n for n in a.notes)
    # the export's last date is day 40: 4.3 weeks after the go-live on day 10, far from 8
    a = run(export, start=10, weeks=8, design=export / "plan.json")
    assert a.comparisons.set_index("comparison").loc["candidate - holdout", "in_line"] is None
    assert a.notes[1:] == [
        "--weeks 8: the export's last date is 4.3 weeks after the go-live; later weeks hold "
        "no data, so the outcomes are those of fewer weeks"
    ]
    (export / "plan.json").write_text(json.dumps(plan("opportunities", 0.6, 0.9)))
    a = run(export, start=10, weeks=4, design=export / "plan.json")
    assert a.comparisons.set_index("comparison").loc["candidate - holdout", "in_line"] is False
    tiered = plan("opportunities", 0.1, 0.6)
    tiered["design"][0]["stratify"] = "tier"
    (export / "plan.json").write_text(json.dumps(tiered))
    untiered = "\n".join(line.rsplit(",", 1)[0] for line in ACCOUNTS.splitlines()) + "\n"
    (export / "untiered.csv").write_text(untiered)
    a = analyse_experiment(
        export / "untiered.csv", export / "opportunities.csv", start=10, weeks=4,
        design=export / "plan.json",
    )  # fmt: skip
    assert a.comparisons.set_index("comparison").loc["candidate - holdout", "in_line"] is None
    assert any("the plan stratified by tier" in n for n in a.notes)
    off = plan("opportunities", 0.1, 0.6)
    off["design"][0]["split"] = "0.45,0.45,0.10"
    assert unlike_plan(read_design_json(off, export), "p", ARMS_300, 26.0, True) == [
        "the arms hold 0.83, 0.08, 0.08 of the 300 accounts (candidate, incumbent, holdout), "
        "the plan in p split them 0.45, 0.45, 0.10: its prediction does not apply"
    ]
    even = ARMS_300.assign(accounts=[135, 135, 30])  # exactly the split: like for like
    assert unlike_plan(read_design_json(off, export), "p", even, 26.0, True) == []
    (export / "plan.json").write_text(json.dumps(plan("wins", 0.1, 0.6)))
    with pytest.raises(ConfigError, match=r"design\.metric is 'wins'"):
        run(export, design=export / "plan.json")
    broken = plan("opportunities", 0.1, 0.6)
    broken["power"][2]["power"] = "high"
    (export / "plan.json").write_text(json.dumps(broken))
    with pytest.raises(ConfigError, match=r"plan.json: power\[2\].power: expected a number"):
        run(export, design=export / "plan.json")
    with pytest.raises(ConfigError, match=r"nope.json: no such file; expected the plan") as e:
        run(export, design=export / "nope.json")
    assert "Errno" not in str(e.value)
    (export / "plan.json").write_text("{}")
    with pytest.raises(ConfigError, match="no table 'design'"):
        run(export, design=export / "plan.json")


ARMS_300 = pd.DataFrame({"arm": ["candidate", "incumbent", "holdout"], "accounts": [250, 25, 25]})


def read_design_json(obj: dict, folder: Path):
    (folder / "plan2.json").write_text(json.dumps(obj))
    return read_design(folder / "plan2.json", "opportunities")


def test_distinguishable_only_when_the_test_and_the_ci_agree() -> None:
    """45 against 45 accounts, 4 against 0 wins: the pooled z-test gives p = 0.041 (pooled
    share 4/90, se = sqrt(4/90 * 86/90 * 2/45) = 0.0434, z = (4/45) / 0.0434 = 2.05), but
    Newcombe's CI reaches below 0 (the holdout's Wilson upper bound is 0.0787): borderline,
    not distinguishable."""
    values = np.r_[np.ones(4), np.zeros(41), np.zeros(45)]
    arm = np.array(["candidate"] * 45 + ["holdout"] * 45)
    c = compare_arms(values, arm, binary=True).iloc[0]
    assert c["p_value"] == pytest.approx(0.0408, abs=5e-4)
    assert c["ci_low"] < 0 < c["ci_high"]
    assert (c["distinguishable"], c["borderline"]) == (False, True)
    text = verdict(c.to_dict(), "wins")
    assert "borderline" in text and "not called distinguishable" in text
    values = np.r_[np.ones(10), np.zeros(35), np.zeros(45)]  # 10 against 0: both agree
    c = compare_arms(values, arm, binary=True).iloc[0]
    assert c["ci_low"] > 0 and c["p_value"] < 0.01
    assert (c["distinguishable"], c["borderline"]) == (True, False)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 80), st.integers(2, 80), st.data())
def test_the_verdict_never_contradicts_the_ci(n1: int, n2: int, data) -> None:
    """On random arms: distinguishable exactly when p < 5% and the CI excludes 0; borderline
    exactly when only one of the two holds."""
    k1, k2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    values = np.r_[np.ones(k1), np.zeros(n1 - k1), np.ones(k2), np.zeros(n2 - k2)]
    arm = np.array(["candidate"] * n1 + ["holdout"] * n2)
    c = compare_arms(values, arm, binary=True).iloc[0]
    excludes = c["ci_low"] > 0 or c["ci_high"] < 0
    assert c["distinguishable"] == (c["p_value"] < 0.05 and excludes)
    assert c["borderline"] == ((c["p_value"] < 0.05) != excludes)
    said = verdict(c.to_dict(), "wins")
    assert ("from zero at 5%" in said) and (("borderline" in said) == c["borderline"])


def test_one_arm_only_is_an_error(export: Path) -> None:
    (export / "one.csv").write_text("account_id,arm\n1,candidate\n2,candidate\n")
    with pytest.raises(DataError, match=r"one.csv: only the arm candidate has accounts"):
        analyse_experiment(export / "one.csv", export / "opportunities.csv")
    (export / "plan.json").write_text(json.dumps(plan("opportunities", 0.1, 0.6)))
    args = ["experiment", "analyse", "--accounts", export / "one.csv", "--opportunities"]
    args += [export / "opportunities.csv", "--design", export / "plan.json"]
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 2
    assert "only the arm candidate has accounts" in result.output


def test_the_command(export: Path) -> None:
    args = ["experiment", "analyse", "--accounts", export / "accounts.csv"]
    args += ["--opportunities", export / "opportunities.csv", "--go-live", "10", "--weeks", "4"]
    result = CliRunner().invoke(app, [str(a) for a in [*args, "--format", "json"]])
    assert result.exit_code == 0, result.output
    tables = json.loads(result.stdout)
    assert [r["with_opportunity"] for r in tables["arms"]] == [2, 1, 0]
    assert all(isinstance(r["with_opportunity"], int) for r in tables["arms"])  # counts, not 2.0
    assert [r["comparison"] for r in tables["differences"]][1] == "candidate - holdout"
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0
    assert "not distinguishable from zero at 5%" in result.stdout
    # the terminal: means per 1,000 accounts (2 of 4: 500.0), p to 3 decimals (0.221)
    assert "500.0" in result.stdout and "0.221" in result.stdout
    (export / "accounts.csv").write_text(ACCOUNTS.replace("4,candidate", "4,control"))
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 2
    assert "'control' is not an arm" in result.output
