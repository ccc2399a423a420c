"""Robustness to messy data: the table's shape, and its clean and messy columns are exactly what
plain comparisons of the clean scenario and of the scenario with one knob on give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.errors import ConfigError
from sim.experiment.robustness import COLUMNS, robustness, with_knobs
from sim.world.data_quality import CLEAN

SMALL = {"accounts": {"count": 120}}
POLICIES = ["mql_only", "mqa_count"]
METRICS = ["precision", "recall", "handoffs_per_week", "no_such_metric"]


@pytest.fixture(scope="module")
def result():
    return robustness("smb", POLICIES, replications=2, seed=4, values={"blank_titles": 0.4},
                      metrics=METRICS, overrides=SMALL)  # fmt: skip


def test_the_table_is_policy_by_knob_by_metric(result) -> None:
    t = result.table
    assert list(t.columns) == COLUMNS
    # the smb preset's non-zero knobs, then the one asked for, in the model's order
    assert list(dict.fromkeys(t["knob"])) == ["blank_titles", "duplicate_contacts",
                                              "scanner_accounts"]  # fmt: skip
    assert len(t) == 2 * 3 * 3  # a metric the comparison lacks is skipped
    assert set(t["metric"]) == {"precision", "recall", "handoffs_per_week"}
    assert (t["n"] == 2).all()
    known = t.dropna(subset=["clean", "messy"])
    np.testing.assert_allclose(known["change"], known["messy"] - known["clean"], atol=1e-12)


def test_clean_is_a_plain_comparison_with_every_knob_off(result) -> None:
    over = {**SMALL, "data_quality": CLEAN}
    plain = sim.compare("smb", POLICIES, replications=2, seed=4, overrides=over).summary()
    got = result.table[result.table["knob"] == "blank_titles"].set_index(["policy", "metric"])
    want = plain.set_index(["policy", "metric"])["mean"].reindex(got.index)
    np.testing.assert_array_equal(got["clean"].to_numpy(), want.to_numpy())


def test_messy_is_a_plain_comparison_with_only_that_knob_on(result) -> None:
    over = {**SMALL, "data_quality": {**CLEAN, "duplicate_contacts": 0.1}}
    plain = sim.compare("smb", POLICIES, replications=2, seed=4, overrides=over).summary()
    t = result.table
    got = t[t["knob"] == "duplicate_contacts"].set_index(["policy", "metric"])
    want = plain.set_index(["policy", "metric"])["mean"].reindex(got.index)
    np.testing.assert_array_equal(got["messy"].to_numpy(), want.to_numpy())


def test_a_knob_at_zero_changes_nothing() -> None:
    r = robustness("smb", ["mql_only"], replications=1, seed=2, values={"clock_skew": 0.0},
                   metrics=["handoffs"], overrides={**SMALL, "data_quality": CLEAN})  # fmt: skip
    assert list(r.table["knob"]) == ["clock_skew"] and (r.table["change"] == 0).all()


def test_unknown_knobs_and_bad_values_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"blank_title\b.*expected one of"):
        robustness("smb", ["mql_only"], values={"blank_title": 0.1}, overrides=SMALL)
    sc = sim.load_scenario("smb", overrides=SMALL)
    with pytest.raises(ConfigError, match="blank_titles"):
        with_knobs(sc, {"blank_titles": 2.0})


def test_cli_prints_the_table_and_writes_it(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("extends: smb\naccounts: {count: 100}\n")
    csv, html = tmp_path / "r.csv", tmp_path / "r.html"
    args = ["robustness", str(scenario), "-p", "mql_only", "-p", "mqa_count", "-r", "2", "-w",
            "1", "-k", "title_variants=0.5", "-m", "precision", "-m", "recall", "--out", str(csv),
            "--report", str(html)]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "title_variants" in r.output and "clean -> messy" in r.output
    assert csv.is_file() and "title_variants" in csv.read_text()
    page = html.read_text()
    assert "Robustness to messy CRM data" in page and "data:image/png" in page
    assert "mqa_count / title_variants" in page


@pytest.mark.parametrize("bad", ["blank_titles", "blank_titles=lots", "nope=0.1"])
def test_cli_bad_knob_exits_2(bad: str) -> None:
    r = CliRunner().invoke(app, ["robustness", "smb", "-r", "1", "-k", bad])
    assert r.exit_code == 2
    assert "Traceback" not in r.output


def test_run_robustness_prints_the_table_and_puts_it_in_the_report(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("extends: smb\naccounts: {count: 100}\n")
    html = tmp_path / "run.html"
    args = ["run", str(scenario), "-p", "mqa_count", "-r", "2", "-w", "1", "--robustness",
            "--report", str(html)]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    # the smb preset's non-zero knobs are tried, each against the clean world
    assert "Robustness to messy CRM data" in r.output
    assert "policy / knob" in r.output and "mqa_count /" in r.output
    page = html.read_text()
    assert "mqa_count / duplicate_contacts" in page
    assert "<h2>Robustness to messy CRM data</h2>" in page
    assert "mqa_count / scanner_accounts" in page
    plain = tmp_path / "plain.html"
    r = CliRunner().invoke(app, [*args[:-3], "--report", str(plain)])
    assert r.exit_code == 0 and "Robustness to messy CRM data" not in plain.read_text()


def test_the_csv_is_spreadsheet_safe_unless_raw(result, tmp_path: Path) -> None:
    evil = result.table.assign(policy="=HYPERLINK(1)")
    r = type(result)(evil, result.clean, result.messy, result.level)
    safe = pd.read_csv(r.write(tmp_path / "safe.csv"))
    assert set(safe["policy"]) == {"'=HYPERLINK(1)"}
    assert safe["change"].equals(evil["change"].reset_index(drop=True))  # numbers untouched
    raw = pd.read_csv(r.write(tmp_path / "raw.csv", safe=False))
    assert set(raw["policy"]) == {"=HYPERLINK(1)"}
