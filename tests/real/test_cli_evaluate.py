"""``qualsim evaluate``: a real-looking export in, qualifications and metrics out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import policies
import sim
from sim.cli import app

ORIGIN = pd.Timestamp("2024-01-01")


def _export(world: sim.World, folder: Path) -> dict[str, Path]:
    """Write a world as a team's CSV export (timestamps, empty contact for anonymous)."""
    ev = world.events
    stamp = (ORIGIN + pd.to_timedelta(ev["time"], unit="D")).dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    contact = ev["contact_id"].astype(object).where(ev["contact_id"] >= 0, "")
    pd.DataFrame(
        {
            "timestamp": stamp,
            "account_id": ev["account_id"],
            "contact_id": contact,
            "activity": ev["activity"],
        }
    ).to_csv(folder / "events.csv", index=False)
    cols = ["contact_id", "account_id", "title", "seniority", "department", "role"]
    world.contacts[cols].to_csv(folder / "contacts.csv", index=False)
    t = world.truth
    acc = world.accounts[["account_id", "tier", "icp_fit"]].copy()
    acc["opportunity_date"] = (ORIGIN + pd.to_timedelta(t["t_qualified"], unit="D")).dt.strftime(
        "%Y-%m-%d"
    )
    acc.to_csv(folder / "accounts.csv", index=False)
    return {
        "events": folder / "events.csv",
        "contacts": folder / "contacts.csv",
        "accounts": folder / "accounts.csv",
    }


def _cli(command: str, files: dict[str, Path], *extra: str, accounts: bool = False):
    """Run ``qualsim <command> --events .. --contacts .. [--accounts ..] <extra>``."""
    args = [command, "--events", str(files["events"]), "--contacts", str(files["contacts"])]
    if accounts:
        args += ["--accounts", str(files["accounts"])]
    return CliRunner().invoke(app, [*args, *extra])


@pytest.fixture(scope="module")
def world() -> sim.World:
    return sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 80}}), seed=6)


def test_evaluate_writes_the_same_handoffs_as_the_python_api(tmp_path, world):
    files = _export(world, tmp_path)
    out = tmp_path / "res"
    res = _cli(
        "evaluate",
        files,
        "--policy",
        "mqa_count",
        "--policy",
        "progression_stages",
        "--out",
        str(out),
        accounts=True,
    )
    assert res.exit_code == 0, res.output
    q = pd.read_csv(out / "qualifications.csv", keep_default_na=False)
    log = sim.EventLog.from_world(world)
    for name in ("mqa_count", "progression_stages"):
        direct = policies.evaluate(policies.load_policy(name), log)
        mine = q[q["policy"] == name]
        assert mine["account_id"].tolist() == direct["account_id"].tolist()
        back = (pd.to_datetime(mine["time"]) - ORIGIN) / pd.Timedelta(days=1)
        np.testing.assert_allclose(back.to_numpy(), direct["time"].to_numpy(), atol=1e-5)
    assert (out / "stages.csv").exists()
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics["policy"]) == {"mqa_count", "progression_stages"}
    assert metrics["precision"].between(0, 1).all()


def test_evaluate_bad_policy_exits_2_naming_the_file(tmp_path, world):
    files = _export(world, tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nkind: mqa_count\nwindow_days: -3\nany:\n  - unique_contacts: 2\n")
    res = _cli("evaluate", files, "--policy", str(bad))
    assert res.exit_code == 2
    assert f"{bad}:3: window_days: must be > 0" in res.stderr
    assert "Traceback" not in res.output


def test_evaluate_unknown_activity_names_file_and_line(tmp_path, world):
    files = _export(world, tmp_path)
    text = files["events"].read_text().splitlines()
    text[3] = text[3].rsplit(",", 1)[0] + ",webvisit"
    files["events"].write_text("\n".join(text) + "\n")
    res = _cli("evaluate", files, "--policy", "mqa_count", "--out", str(tmp_path / "r"))
    assert res.exit_code == 2
    assert "events.csv" in res.stderr and "line 4" in res.stderr and "webvisit" in res.stderr


def test_explain_prints_the_touches_behind_a_handoff(tmp_path, world):
    files = _export(world, tmp_path)
    q = policies.evaluate(policies.load_policy("mqa_count"), sim.EventLog.from_world(world))
    account = str(int(q["account_id"].iloc[0]))
    res = _cli("explain", files, "--policy", "mqa_count", "--account", account, accounts=True)
    assert res.exit_code == 0, res.output
    assert f"account {account} handed off at" in res.stdout
    assert "Touches the rule looked at" in res.stdout
    res = _cli("explain", files, "--policy", "mqa_count", "--account", "nope")
    assert res.exit_code == 2
    assert "no account 'nope'" in res.stderr
