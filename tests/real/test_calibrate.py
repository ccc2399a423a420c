"""``sim.real.calibration``: the round trip (simulate with known parameters → CRM export →
read_log → calibrate → the parameters come back), the fitted YAML, the fit report, and small
histories.

Tolerances. Every recovered parameter must lie within ``K = 4`` standard errors of its true value
(the estimator's own SE: binomial, Poisson/lognormal likelihood curvature, or a bootstrap over
accounts for touch rates). Under approximate normality a 4-SE miss has probability 6e-5 per
check; with ~100 checks the chance of a false failure with a new seed is below 1%, and the seeds
are fixed anyway. Known biases, added to the tolerance where they apply:

- touch rates: the exposure matrix comes from a reference world of 20,000 accounts, whose
  Monte-Carlo error the bootstrap does not see, and the fitted structure (committee sizes,
  timing) is itself estimated: 5% of the true rate is added (measured: a few %);
- the time in "qualified" + "sales_ready" is a sum of two lognormals that the estimator fits as
  one lognormal; with equal sigmas (0.6) the misfit shifts the median by well under 1%: 2% added;
- the in-market curve corrects for journeys that have not reached "qualified" by the end with a
  Monte-Carlo probability (20,000 draws, SE < 0.002 relative): negligible.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

import sim
from sim.errors import DataError
from sim.real import (
    calibrate,
    calibrate_files,
    closest_preset,
    export_world,
    fit_report,
    read_log,
)
from sim.real.calibration import CONTACT_STAGES, MIN_OPPORTUNITIES
from sim.world.data_quality import CLEAN

K = 4.0
RATE_BIAS = 0.05
DURATION_BIAS = 0.02

# Known truth: the smb preset with a different committee make-up, identification rate, timing,
# buy probability, in-market curve and touch rates (campaigns off: they would lift the rates of
# some accounts over some weeks, which the fit averages into the rates).
CONTACT_FACTORS = {"background": 1.5, "aware": 1.3, "engaged": 1.3, "qualified": 0.8}
CONTACT_FACTORS["sales_ready"] = 1.2
ACCOUNT_FACTORS = {"background": 2.0}


def _truth_overrides() -> dict:
    preset = sim.load_scenario("smb")
    base = preset.touches
    # the fit keeps the preset's ratio of the qualified and sales_ready medians: so does the truth
    st = preset.journey.stages
    ratio = st.qualified.median_days / st.sales_ready.median_days
    contact = {
        s: {a: v * f for a, v in getattr(base.contact_rates_per_week, s).items()}
        for s, f in CONTACT_FACTORS.items()
    }
    account = {
        s: {a: v * f for a, v in getattr(base.account_rates_per_week, s).items()}
        for s, f in ACCOUNT_FACTORS.items()
    }
    return {
        "accounts": {
            "count": 4000,
            "tiers": {
                1: {"committee_size": {"mean": 3.0, "min": 1, "max": 5}},
                2: {"committee_size": {"mean": 2.0, "min": 1, "max": 4}},
                3: {"committee_size": {"mean": 1.5, "min": 1, "max": 3}},
            },
        },
        "in_market": {"at_fit_0": 0.05, "at_fit_1": 0.5},
        "journey": {
            "stages": {
                "qualified": {"median_days": 6.5 * ratio, "sigma": 0.6},
                "sales_ready": {"median_days": 6.5, "sigma": 0.6},
            },
            "buy_probability": {"one_person": 0.7, "factor_per_member": 0.85, "early_stall": 0.0},
        },
        "touches": {
            "identification_rate": 0.3,
            "contact_rates_per_week": contact,
            "account_rates_per_week": account,
        },
        "campaigns": [],
        # what an export cannot show, off in the truth: everyone known, no early stalls
        "crm": {"committee_known_share": 1.0},
        "data_quality": CLEAN,  # nor messy data: duplicates would read as bigger committees
        "noise": {"personas": {p: {"known_share": 1.0} for p in preset.noise.personas}},
    }


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    sc = sim.load_scenario("smb", overrides=_truth_overrides())
    world = sim.simulate(sc, seed=21)
    folder = tmp_path_factory.mktemp("history")
    export_world(world, folder)
    real = read_log(folder / "events.csv", folder / "contacts.csv", folder / "accounts.csv")
    return sc, folder, real


@pytest.fixture(scope="module")
def fitted(history):
    _, _, real = history
    return calibrate(real, seed=0)


def _close(est, true: float, bias: float = 0.0) -> None:
    tol = K * est.se + bias * abs(true)
    assert math.isfinite(est.se), est
    assert abs(est.value - true) <= tol, f"{est.value:.4g} vs true {true:.4g} (tol {tol:.3g})"


def test_round_trip_structure(history, fitted):
    sc, _, _ = history
    e = fitted.estimates
    assert fitted.base == "smb"
    for k, tier in sc.accounts.tiers.items():
        _close(e[f"accounts.tiers.{k}.share"], tier.share)
        _close(e[f"accounts.tiers.{k}.committee_size.mean"], tier.committee_size.mean)
        _close(e[f"accounts.tiers.{k}.noise_contacts"], tier.noise_contacts)
        _close(e[f"accounts.tiers.{k}.deal_value.median"], tier.deal_value.median)
        _close(e[f"accounts.tiers.{k}.deal_value.sigma"], tier.deal_value.sigma)
        size = fitted.overrides["accounts"]["tiers"][k]["committee_size"]
        assert (size["min"], size["max"]) == (tier.committee_size.min, tier.committee_size.max)
    _close(e["accounts.icp_fit.a"], sc.accounts.icp_fit.a)
    _close(e["accounts.icp_fit.b"], sc.accounts.icp_fit.b)
    _close(e["touches.identification_rate"], 0.3)
    _close(e["committee.blocker_probability"], sc.committee.blocker_probability)
    _close(e["committee.fill.influencer"], sc.committee.fill["influencer"])


def test_round_trip_timing_and_outcomes(history, fitted):
    sc, _, _ = history
    e = fitted.estimates
    q, s = sc.journey.stages.qualified, sc.journey.stages.sales_ready
    # the lognormal that the sum of the two stages projects onto (mean and sd of its log)
    z = np.polynomial.hermite_e.hermegauss(60)
    w = z[1] / z[1].sum()
    logsum = np.logaddexp(
        math.log(q.median_days) + q.sigma * z[0][:, None],
        math.log(s.median_days) + s.sigma * z[0][None, :],
    )
    mu = float((w[:, None] * w[None, :] * logsum).sum())
    sd = math.sqrt(float((w[:, None] * w[None, :] * (logsum - mu) ** 2).sum()))
    _close(e["days_opportunity_to_close.median"], math.exp(mu), DURATION_BIAS)
    _close(e["days_opportunity_to_close.sigma"], sd, DURATION_BIAS)
    _close(e["journey.stages.qualified.median_days"], q.median_days, DURATION_BIAS)
    _close(e["journey.stages.sales_ready.median_days"], s.median_days, DURATION_BIAS)
    _close(e["journey.stages.qualified.sigma"], q.sigma, DURATION_BIAS)
    bp = sc.journey.buy_probability
    _close(e["journey.buy_probability.one_person"], bp.one_person)
    _close(e["journey.buy_probability.factor_per_member"], bp.factor_per_member)
    _close(e["in_market.at_fit_0"], sc.in_market.at_fit_0)
    _close(e["in_market.at_fit_1"], sc.in_market.at_fit_1)


def test_round_trip_touch_rates(history, fitted):
    sc, _, _ = history
    e = fitted.estimates
    checked = 0
    for level, stages in (
        ("contact_rates_per_week", CONTACT_STAGES),
        ("account_rates_per_week", ("background", "engaged", "qualified", "sales_ready")),
    ):
        for stage in stages:
            for activity, true in getattr(getattr(sc.touches, level), stage).items():
                if true * 52 * 400 < 30:  # too rare to check (under ~30 touches a year)
                    continue
                _close(e[f"touches.{level}.{stage}.{activity}"], true, RATE_BIAS)
                checked += 1
    assert checked >= 40
    for activity in ("web_visit", "email_open", "content_download"):
        _close(e[f"noise.rate_scale.{activity}"], 1.0, RATE_BIAS)


def test_fitted_yaml_loads_and_extends_the_closest_preset(history, fitted, tmp_path):
    path = fitted.to_yaml(tmp_path / "fitted.yaml")
    text = path.read_text(encoding="utf-8")
    assert "\nextends: smb\n" in text
    assert re.search(r"\n  identification_rate: 0\.\d+  # 0\.\d+ ± 0\.\d+ \(n=\d+\)", text)
    sc = sim.load_scenario(path)
    assert sc == fitted.scenario()
    assert sc.campaigns == [] and sc.accounts.count == 4000 and sc.horizon_days == 365
    # a stage's rate map is complete (maps replace whole): every fitted activity is there
    engaged = sc.touches.contact_rates_per_week.engaged
    assert {"web_visit", "email_open", "pricing_visit", "demo_request"} <= set(engaged)
    # only fitted fields are overridden: the sales team is the preset's
    assert sc.sales == sim.load_scenario("smb").sales


def test_closest_preset_by_committee_and_journey_length():
    assert closest_preset(8.0, 135.0)[0] == "enterprise"
    assert closest_preset(1.5, 10.0)[0] == "smb"
    _, dist = closest_preset(1.5, 10.0)
    assert dist["smb"] < dist["enterprise"]


def test_fit_report_fitted_beats_a_wrong_scenario(history, fitted, tmp_path):
    _, _, real = history
    path = fitted.to_yaml(tmp_path / "fitted.yaml")
    good = fit_report(real, path, seed=3).set_index("metric")
    bad = fit_report(real, "enterprise", seed=3).set_index("metric")
    assert list(good.index) == [
        "touches_per_account",
        "committee_per_account",
        "days_first_touch_to_opportunity",
        "days_opportunity_to_close",
    ]
    for metric, row in good.iterrows():
        n, m = row["n_observed"], row["n_simulated"]
        critical = 1.95 * math.sqrt((n + m) / (n * m))  # KS at alpha = 0.001
        assert row["ks"] <= critical, (metric, row["ks"], critical)
        assert row["ks"] < bad.loc[metric, "ks"]
    assert (bad["ks"] > 0.3).all()


def test_calibrate_files_writes_the_scenario_and_reports(history, tmp_path):
    _, folder, _ = history
    out = tmp_path / "out.yaml"
    cal, report = calibrate_files(
        folder / "events.csv", folder / "contacts.csv", folder / "accounts.csv", out, base="smb"
    )
    assert out.is_file() and sim.load_scenario(out).accounts.count == 4000
    assert cal.base == "smb" and len(report) == 4


# ---------------------------------------------------------------------------------------------
# Histories too small to fit


def _write(folder, n_accounts: int, n_opp: int, n_closed: int, with_outcomes: bool = True):
    """A hand-made history: every account has a decision maker and a champion who touch weekly."""
    folder.mkdir(exist_ok=True)
    ev = ["timestamp,account_id,contact_id,activity"]
    co = ["contact_id,account_id,title,role"]
    ac = ["account_id,tier,icp_fit" + (",opportunity_date,close_date,won" if with_outcomes else "")]
    for i in range(n_accounts):
        co += [f"c{i}a,a{i},CEO,decision_maker", f"c{i}b,a{i},CISO,champion", f"c{i}x,a{i},x,none"]
        for week in range(20):
            day = f"2025-{1 + week // 4:02d}-{1 + 7 * (week % 4):02d}"
            ev += [f"{day},a{i},c{i}a,email_open", f"{day},a{i},,impression"]
            ev += [f"{day},a{i},{'c' + str(i) + 'b' if week % 2 else ''},ad_click"]
        row = f"a{i},{1 + i % 3},{(i % 10) / 10 + 0.05:.2f}"
        if with_outcomes:
            opp = f"2025-02-{1 + i % 20:02d}" if i < n_opp else ""
            close = f"2025-03-{1 + i % 25:02d}" if i < n_closed else ""
            won = ("true" if i % 2 else "false") if i < n_closed else ""
            row += f",{opp},{close},{won}"
        ac.append(row)
    for name, lines in (("events", ev), ("contacts", co), ("accounts", ac)):
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_log(folder / "events.csv", folder / "contacts.csv", folder / "accounts.csv")


def test_no_opportunities_is_a_clear_error(tmp_path):
    real = _write(tmp_path / "h", 60, 0, 0)
    with pytest.raises(DataError, match=r"0 account\(s\) with an opportunity_date"):
        calibrate(real)


def test_too_few_opportunities_is_a_clear_error(tmp_path):
    real = _write(tmp_path / "h", 60, MIN_OPPORTUNITIES - 1, 0)
    with pytest.raises(DataError, match="need 20 or more"):
        calibrate(real)


def test_no_outcomes_and_too_few_accounts_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="without outcomes"):
        calibrate(_write(tmp_path / "a", 60, 0, 0, with_outcomes=False))
    with pytest.raises(DataError, match="10 accounts"):
        calibrate(_write(tmp_path / "b", 10, 10, 10))


def test_few_closed_opportunities_fall_back_to_the_preset(tmp_path):
    real = _write(tmp_path / "h", 60, 40, 5)
    cal = calibrate(real, base="smb")
    assert any("opportunity → close time" in n for n in cal.notes)
    assert any("buy probability" in n for n in cal.notes)
    sc = cal.to_yaml(tmp_path / "f.yaml")
    loaded = sim.load_scenario(sc)
    assert loaded.journey.stages == sim.load_scenario("smb").journey.stages
    assert cal.estimates["touches.identification_rate"].value == pytest.approx(0.5)


def test_cli_calibrate(history, tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    _, folder, _ = history
    out = tmp_path / "fitted.yaml"
    args = [
        "calibrate",
        "--events",
        str(folder / "events.csv"),
        "--contacts",
        str(folder / "contacts.csv"),
        "--accounts",
        str(folder / "accounts.csv"),
    ]
    r = CliRunner().invoke(app, [*args, "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "Observed vs simulated" in r.output and "touch-rate estimates" in r.output
    assert sim.load_scenario(out).name == "fitted"
    small = _write(tmp_path / "small", 60, 0, 0)
    assert small is not None
    r = CliRunner().invoke(
        app,
        [
            "calibrate",
            "--events",
            str(tmp_path / "small" / "events.csv"),
            "--contacts",
            str(tmp_path / "small" / "contacts.csv"),
            "--accounts",
            str(tmp_path / "small" / "accounts.csv"),
            "--out",
            str(tmp_path / "x.yaml"),
        ],
    )
    assert r.exit_code == 2 and "opportunity_date" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "x.yaml").exists()


def test_calibrate_reads_outcomes_from_an_opportunities_file(history, tmp_path):
    """An imported CRM export has an opportunities file, not outcome columns: the fit is the
    same as from the accounts file (each account's first new_business opportunity)."""
    _, folder, _ = history
    acc = pd.read_csv(folder / "accounts.csv", dtype=str, keep_default_na=False)
    has = acc["opportunity_date"] != ""
    won = acc["won"].str.lower().map({"true": "won", "false": "lost"}).fillna("")
    opp = pd.DataFrame(
        {
            "account_id": acc["account_id"],
            "opportunity_id": "o" + acc["account_id"],
            "created": acc["opportunity_date"],
            "closed": acc["close_date"],
            "status": won.where(acc["close_date"] != "", "open"),
            "amount": acc["value"],
            "type": "New Business",
        }
    )[has]
    opp.to_csv(tmp_path / "opps.csv", index=False)
    acc.drop(columns=["opportunity_date", "close_date", "won", "value"], errors="ignore").to_csv(
        tmp_path / "accounts.csv", index=False
    )
    files = (folder / "events.csv", folder / "contacts.csv")
    a, _ = calibrate_files(*files, folder / "accounts.csv", tmp_path / "a.yaml", base="smb")
    b, _ = calibrate_files(
        *files, tmp_path / "accounts.csv", tmp_path / "b.yaml", base="smb",
        opportunities=tmp_path / "opps.csv",
    )  # fmt: skip
    assert a.table().equals(b.table())
    assert (tmp_path / "a.yaml").read_text().split("\n", 3)[3] == (
        (tmp_path / "b.yaml").read_text().split("\n", 3)[3]
    )


def test_cli_calibrate_without_outcomes_is_exit_2(history, tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    _, folder, _ = history
    args = ["calibrate", "--events", str(folder / "events.csv")]
    r = CliRunner().invoke(app, [*args, "--contacts", str(folder / "contacts.csv")])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "--accounts with outcome columns, or --opportunities" in " ".join(r.output.split())
