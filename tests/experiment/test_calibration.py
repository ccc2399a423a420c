"""The calibration table: figures measured as their bands define them (checked against plain
computations), the table's rows, statuses and CIs, the team's own export beside them, the
command line, and — slow — every shipped preset inside every published band it is judged on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sim
import sim.cli.base as cli
from sim.cli import app
from sim.experiment.calibration import BANDS, bands_for, calibration_table, world_figures
from sim.experiment.calibration.bands import markdown
from sim.experiment.calibration.observables import ENGAGED_MONTH_TOUCHES, MONTH_DAYS
from sim.experiment.stats import t_interval
from sim.real import export_world, read_log

SMALL = {"accounts": {"count": 300}}


@pytest.fixture(scope="module")
def world() -> sim.World:
    return sim.simulate(sim.load_scenario("enterprise", overrides={"accounts": {"count": 400}}), 9)


def test_log_figures_by_plain_counting(world: sim.World) -> None:
    f = world_figures(world)
    ev = world.events
    act = ev["activity"].astype(str)
    forms = act.isin(["content_download", "webinar", "event", "demo_request"]).sum()
    visits = (act == "web_visit").sum()
    assert f["O3"] == pytest.approx(forms / visits)
    assert f["O6"] == pytest.approx(((act == "web_visit") & ev["known"]).sum() / visits)
    known = world.contacts["t_known"].dropna()
    months = ((world.scenario.horizon_days - known) / MONTH_DAYS).sum()
    sends = world.scenario.crm.email_sends_per_month
    assert f["O2.opens"] == pytest.approx(
        ((act == "email_open") & ev["known"]).sum() / (months * sends)
    )
    targets = set(world.accounts.loc[world.accounts["is_target"], "account_id"])
    n_months = int(world.scenario.horizon_days // MONTH_DAYS)
    engaged = 0
    eng = (
        act.isin(
            [
                "web_visit",
                "pricing_visit",
                "content_download",
                "webinar",
                "event",
                "demo_request",
                "email_click",
            ]
        )
        & ev["known"]
    )
    for a in targets:
        m = (ev.loc[eng & (ev["account_id"] == a), "time"] // MONTH_DAYS).astype(int)
        counts = m[m < n_months].value_counts()
        engaged += int((counts >= ENGAGED_MONTH_TOUCHES).sum())
    assert f["O5"] == pytest.approx(engaged / (len(targets) * n_months))


def test_truth_figures_by_plain_counting(world: sim.World) -> None:
    f = world_figures(world)
    tr = world.truth
    assert f["B1.enterprise"] == pytest.approx(tr["committee_size"].mean())
    opp = tr[tr["in_market"] & (tr["decision"] != "") & tr["t_qualified"].notna()]
    assert f["W2"] == pytest.approx((opp["decision"] == "no_decision").mean())
    buys = tr[tr["decision"] == "buy"]
    months = (buys["t_decision"] - buys["journey_start"]) / MONTH_DAYS
    assert f["S1"] == pytest.approx(months.median())


def test_the_table_has_every_band_of_the_preset_with_its_interval() -> None:
    t = calibration_table("smb", replications=3, overrides=SMALL, workers=1)
    assert list(t["id"]) == [b.id for b in bands_for("smb")]
    assert set(t["status"]) <= {"in band", "out of band", "reference", "-"}
    row = t.set_index("id").loc["O3"]
    assert row["ci_low"] <= row["mean"] <= row["ci_high"] and row["n"] == 3
    judged = {b.id for b in BANDS if b.judged_for("smb")}
    assert {"C1.sql_won", "O8"}.isdisjoint(judged)  # enterprise sources: not judged for smb
    ref = t[~t["id"].isin(judged)]
    assert (ref["status"] == "reference").all()
    for r in t[t["id"].isin(judged) & (t["n"] > 0)].itertuples():
        inside = r.band_low <= r.mean <= r.band_high
        assert r.status == ("in band" if inside else "out of band")


def test_the_table_is_the_t_interval_of_each_replication() -> None:
    t = calibration_table("smb", replications=2, seed=4, overrides=SMALL)
    from sim.experiment.calibration import calibration_unit
    from sim.experiment.replicate import replication_seeds

    sc = sim.load_scenario("smb", overrides=SMALL)
    runs = [calibration_unit(sc, s) for s in replication_seeds(4, 2)]
    for r in t.itertuples():
        mean = t_interval(np.array([run[r.id] for run in runs]))[0]
        assert r.mean == pytest.approx(mean, nan_ok=True), r.id


def test_a_teams_export_sits_beside_the_simulated_figures(tmp_path: Path) -> None:
    w = sim.simulate(sim.load_scenario("smb", overrides=SMALL), seed=2)
    export_world(w, tmp_path)
    real = read_log(tmp_path / "events.csv", tmp_path / "contacts.csv", tmp_path / "accounts.csv")
    t = calibration_table("smb", replications=2, overrides=SMALL, real=real).set_index("id")
    # the export's touches are the world's: the log figures agree
    ours = world_figures(w)
    assert t.loc["O3", "export"] == pytest.approx(ours["O3"])
    assert t.loc["O6", "export"] == pytest.approx(ours["O6"])
    assert np.isnan(t.loc["B1.smb", "export"])  # an export has no buying-group truth


def test_cli_calibration_prints_the_table_and_writes_a_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.out, "_width", 220)  # no wrapped cells
    f = tmp_path / "small.yaml"
    f.write_text("extends: smb\nname: small-smb\naccounts: {count: 300}\n")
    page = tmp_path / "cal.html"
    r = CliRunner().invoke(
        app, ["calibration", str(f), "-r", "2", "-w", "1", "--report", str(page)]
    )
    assert r.exit_code == 0, r.output
    assert "figures in their published bands" in r.stdout
    assert "form fills per web visit" in r.stdout
    html = page.read_text()
    assert "<table" in html and "O3" in html


def test_cli_calibration_bad_scenario_exits_2(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["calibration", str(tmp_path / "none.yaml")])
    assert r.exit_code == 2


@pytest.mark.slow
@pytest.mark.parametrize("preset", sim.PRESETS)
def test_every_shipped_preset_lands_in_every_published_band(preset: str) -> None:
    t = calibration_table(preset, replications=5, seed=1, workers=2)
    judged = t[t["status"] != "reference"]
    out = judged[judged["status"] != "in band"]
    shown = out[["id", "band_low", "band_high", "mean", "ci_low", "ci_high"]]
    assert out.empty, f"{preset}: outside the published bands:\n{shown.to_string()}"


def test_docs_calibration_md_lists_every_band_as_the_code_has_it() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "calibration.md").read_text("utf-8")
    shown = doc.split("<!-- bands:start -->\n")[1].split("<!-- bands:end -->")[0]
    assert shown == markdown(), (
        "docs/calibration.md's band table is out of date: replace the lines between its "
        "markers with sim.experiment.calibration.bands.markdown()"
    )
