"""A simulated experiment's export (sim/experiment/design_export.py) and ``qualsim experiment
design`` on a tiny scenario."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import policies
from sim.cli import app
from sim.experiment.design import experiment_seeds, simulate_experiment
from sim.experiment.design_export import write_experiment_export
from sim.sales.uplift import totals
from sim.tables import CONTACTS, EVENTS

TINY = "extends: smb\naccounts: {count: 150}\n"


@pytest.fixture(scope="module")
def exported(tmp_path_factory, small_scenario):
    sc = small_scenario("smb", 150)
    out = tmp_path_factory.mktemp("export") / "exp"
    write_experiment_export(out, sc, "mqa_count", "mql_only", "0.4,0.4,0.2", "tier", seed=3)
    cand, inc = policies.load_policy("mqa_count"), policies.load_policy("mql_only")
    seeds = experiment_seeds(3, 1)[0]
    rep, arm, result = simulate_experiment(sc, cand, inc, (0.4, 0.4, 0.2), "tier", seeds)
    return out, rep, arm, result


def test_the_export_holds_the_experiment_as_simulated(exported) -> None:
    out, _, arm, result = exported
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == [
        "accounts.csv",
        "contacts.csv",
        "events.csv",
        "experiment.json",
        "handoffs.csv",
        "opportunities.csv",
    ]
    accounts = pd.read_csv(out / "accounts.csv")
    assert list(accounts.columns) == ["account_id", "arm", "tier"]
    assert (accounts["arm"].to_numpy() == arm[accounts["account_id"]]).all()
    opp = pd.read_csv(out / "opportunities.csv")
    n_opp, wins, revenue = totals(result)
    assert len(opp) == n_opp
    assert opp["won"].sum() == wins == (opp["status"] == "won").sum()
    assert opp["value"].sum() == pytest.approx(revenue)
    assert set(opp["status"]) <= {"won", "lost", "open"}
    assert opp["opportunity_id"].is_unique
    handoffs = pd.read_csv(out / "handoffs.csv")
    assert len(handoffs) == len(result.outcomes)
    assert (handoffs["arm"].to_numpy() == arm[handoffs["account_id"]]).all()
    assert "holdout" not in set(handoffs["arm"])
    meta = json.loads((out / "experiment.json").read_text())
    assert (meta["candidate"], meta["incumbent"], meta["stratify"]) == (
        "mqa_count",
        "mql_only",
        "tier",
    )


def test_the_export_has_no_truth(exported) -> None:
    out = exported[0]
    assert list(pd.read_csv(out / "contacts.csv", nrows=1).columns) == CONTACTS.visible
    assert list(pd.read_csv(out / "events.csv", nrows=1).columns) == EVENTS.visible
    assert "in_committee" not in CONTACTS.visible


def test_an_opportunity_closes_at_its_accounts_decision(exported) -> None:
    out, rep, _, _ = exported
    opp = pd.read_csv(out / "opportunities.csv")
    decision = rep.world.truth.set_index("account_id")["t_decision"]
    closed = opp.loc[opp["status"] != "open"]
    assert np.allclose(closed["closed"], decision.reindex(closed["account_id"]))
    assert opp.loc[opp["status"] == "open", "closed"].isna().all()


def test_cli_design_prints_the_curve_and_the_weeks(tmp_path: Path) -> None:
    sc = tmp_path / "tiny.yaml"
    sc.write_text(TINY)
    args = ["--candidate", "mqa_count", "--incumbent", "mql_only", "-r", "2", "--metric"]
    args += ["revenue", "--export", str(tmp_path / "exp")]
    res = CliRunner().invoke(app, ["experiment", "design", str(sc), *args])
    assert res.exit_code == 0, res.output
    assert "candidate - incumbent: power at 5%" in res.stdout
    assert "candidate - holdout: power at 5%" in res.stdout
    # 2 experiments: the power's Wilson interval is printed, and a note says they are too few
    assert "2 experiments are too few to read a power from" in res.stdout
    assert "weeks needed for 80% power, candidate - incumbent:" in res.stdout
    assert (tmp_path / "exp" / "opportunities.csv").is_file()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--split", "0.5,0.6,0.1"], "--split"),
        (["--split", "0.5,0.6"], "(2 shares)"),
        # 150 accounts: the cuts at 0.999 and 0.9995 both round to 150
        (["--split", "0.999,0.0005,0.0005"], "the incumbent and holdout arms get 0 accounts"),
        (["--split", "0.998,0.001,0.001"], "the incumbent and holdout arms get 0 accounts"),
        (["--metric", "pipeline"], "--metric"),
        (["--stratify", "region"], "--stratify"),
        (["--incumbent", "no_such_rule"], "no_such_rule"),
    ],
)
def test_cli_design_bad_input_exits_2_with_one_paragraph(tmp_path, args, says) -> None:
    sc = tmp_path / "tiny.yaml"
    sc.write_text(TINY)
    res = CliRunner().invoke(
        app, ["experiment", "design", str(sc), "--candidate", "mqa_count", "-r", "1", *args]
    )
    assert res.exit_code == 2, res.output
    assert says in res.stderr
    assert "Traceback" not in res.output
