"""Calibrate says what it cannot know: parameters a history cannot identify are listed with the
reason (never printed as estimates), and the fit report names the parameter behind each poor KS
distance. Hand-made histories."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.real import calibrate, fit_report, read_log
from sim.real.calibration.report import POOR_KS, verdict

FACTOR = "journey.buy_probability.factor_per_member"


def _history(folder, n_accounts=60, n_closed=40, roles=False, sizes=None, sales=False, icp=None):
    """``n_accounts`` accounts, each with ``sizes(i)`` people (default 1) touching weekly; the
    first ``n_closed`` decided, won when i % 4 == 0 (a quarter); roles only with ``roles``;
    with ``sales`` each person also has a call and a meeting every week; ``icp(i)`` the
    account's icp_fit as written (default 0.5 for every account)."""
    folder.mkdir(exist_ok=True)
    ev = ["timestamp,account_id,contact_id,activity"]
    co = ["contact_id,account_id,title" + (",buying_role" if roles else "")]
    ac = ["account_id,tier,icp_fit,opportunity_date,close_date,won"]
    for i in range(n_accounts):
        people = [f"c{i}p{j}" for j in range((sizes or (lambda i: 1))(i))]
        co += [f"{p},a{i},Analyst" + (",decision_maker" if roles else "") for p in people]
        for week in range(12):
            day = f"2025-{1 + week // 4:02d}-{1 + 7 * (week % 4):02d}"
            ev += [f"{day},a{i},{p},web_visit" for p in people]
            ev += [f"{day},a{i},{p},{a}" for p in people for a in ("call", "meeting") if sales]
        opp, close = f"2025-02-{1 + i % 20:02d}", f"2025-03-{1 + i % 25:02d}"
        won = ("true" if i % 4 == 0 else "false") if i < n_closed else ""
        fit = (icp or (lambda i: "0.5"))(i)
        ac.append(f"a{i},{1 + i % 3},{fit},{opp},{close if i < n_closed else ''},{won}")
    for name, lines in (("events", ev), ("contacts", co), ("accounts", ac)):
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_log(folder / "events.csv", folder / "contacts.csv", folder / "accounts.csv")


def test_one_person_per_account_lists_the_per_member_factor_as_not_identifiable(tmp_path):
    cal = calibrate(_history(tmp_path / "h"), base="smb")
    assert FACTOR not in cal.estimates
    assert "40 of the 40 decided accounts have 1 known committee member" in cal.unidentified[FACTOR]
    # with one person each, p = one_person: 10 won of 40 decided (i % 4 == 0 for i < 40)
    assert cal.estimates["journey.buy_probability.one_person"].value == pytest.approx(
        0.25, abs=2e-3
    )
    fitted = cal.scenario().journey.buy_probability
    assert (
        fitted.factor_per_member
        == sim.load_scenario("smb").journey.buy_probability.factor_per_member
    )
    assert FACTOR in set(cal.unidentified_table()["parameter"])


def test_without_roles_the_committee_size_is_not_an_estimate(tmp_path):
    cal = calibrate(_history(tmp_path / "h"), base="smb")
    for k in (1, 2, 3):
        key = f"accounts.tiers.{k}.committee_size.mean"
        assert key not in cal.estimates
        assert "no buying_role column" in cal.unidentified[key]
        assert f"accounts.tiers.{k}.noise_contacts" in cal.unidentified
    text = cal.to_yaml(tmp_path / "f.yaml").read_text(encoding="utf-8")
    assert "# Not identifiable from this history (not estimates):" in text
    assert f"#   - {FACTOR}: " in text


def test_with_roles_and_several_sizes_both_are_estimates(tmp_path):
    # sizes 1, 2, 3, 4 in turn (tiers 1, 2, 3 in turn): 30 of 40 decided accounts are not of
    # the most common size
    real = _history(
        tmp_path / "h", roles=True, sizes=lambda i: 1 + i % 4, icp=lambda i: f"{i % 10 / 10:.1f}"
    )
    cal = calibrate(real, base="smb")
    assert FACTOR in cal.estimates and FACTOR not in cal.unidentified
    assert "in_market.at_fit_1" in cal.estimates and "committee.fill.influencer" not in str(
        cal.unidentified
    )
    assert "accounts.tiers.1.committee_size.mean" in cal.estimates
    assert not any(k.startswith("accounts.tiers.") for k in cal.unidentified)


def test_the_verdict_names_the_parameter_behind_a_poor_distance():
    assert verdict("touches_per_account", POOR_KS) == "good"  # at the limit: not above it
    assert verdict("days_opportunity_to_close", 0.45) == (
        "poor: the qualified and sales_ready durations (journey.stages.qualified/sales_ready)"
    )
    blind = {"accounts.tiers.2.committee_size.mean": "no roles"}
    assert verdict("committee_per_account", 0.3, blind).endswith(
        "not identifiable from this history"
    )
    assert verdict("days_opportunity_to_close", 0.3, blind).startswith("poor: the qualified")
    assert not verdict("days_opportunity_to_close", 0.3, blind).endswith("history")


def test_fit_report_has_a_verdict_per_distribution(tmp_path):
    real = _history(tmp_path / "h")
    cal = calibrate(real, base="smb")
    rep = fit_report(real, cal.scenario(), unidentified=cal.unidentified)
    for ks, v in zip(rep["ks"], rep["verdict"], strict=True):
        assert v == ("good" if ks <= POOR_KS else v) and (ks <= POOR_KS or v.startswith("poor: "))


def test_cli_calibrate_prints_what_it_cannot_identify(tmp_path):
    _history(tmp_path / "h")
    f = tmp_path / "h"
    args = ["calibrate", "--events", str(f / "events.csv"), "--contacts", str(f / "contacts.csv")]
    args += ["--accounts", str(f / "accounts.csv"), "--out", str(tmp_path / "fitted.yaml")]
    res = CliRunner().invoke(app, [*args, "--base", "smb"], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "Not identifiable from this history" in res.output
    assert "factor_per_member" in res.output.split("Not identifiable")[1]
    assert "verdict" in res.output


def test_sales_touches_change_no_estimate_and_no_distance(tmp_path):
    """The world draws no sales touches: a history is fitted and compared without them."""
    plain = _history(tmp_path / "plain", roles=True, sizes=lambda i: 1 + i % 4)
    noisy = _history(tmp_path / "noisy", roles=True, sizes=lambda i: 1 + i % 4, sales=True)
    assert len(noisy.log.events) == 3 * len(plain.log.events)
    a, b = calibrate(plain, base="smb"), calibrate(noisy, base="smb")
    assert a.table().equals(b.table()) and a.overrides == b.overrides
    pd.testing.assert_frame_equal(fit_report(plain, a.scenario()), fit_report(noisy, b.scenario()))


def test_an_in_market_curve_without_spread_in_fit_is_not_an_estimate(tmp_path):
    same = calibrate(_history(tmp_path / "same"), base="smb")  # every icp_fit is 0.5
    none = calibrate(_history(tmp_path / "none", icp=lambda i: ""), base="smb")
    for cal, why in ((same, "icp_fit hardly varies"), (none, "fewer than 30 accounts with an")):
        for k in ("in_market.at_fit_0", "in_market.at_fit_1"):
            assert k not in cal.estimates and why in cal.unidentified[k]
        curve = cal.scenario().in_market
        assert curve.at_fit_0 == curve.at_fit_1  # flat, as the reason says


def test_without_roles_the_committee_make_up_is_not_identifiable(tmp_path):
    cal = calibrate(_history(tmp_path / "h"), base="smb")
    for k in ("committee.fill", "committee.blocker_probability", "committee.procurement_min_size"):
        assert "no buying_role column" in cal.unidentified[k]
    assert cal.scenario().committee == sim.load_scenario("smb").committee
