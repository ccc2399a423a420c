"""The regression gate: tolerance from the replications' standard errors, rows that appear or
vanish, the baseline file, a suite run that agrees with a comparison, and the command line
(`qualsim gate`, with `qualsim bench` as a deprecated alias)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.errors import ConfigError, DataError
from sim.experiment.gate import (
    GATE_COLUMNS,
    check,
    load_suite,
    read_baseline,
    run_suite,
    suite_hash,
    write_baseline,
)

SUITE = """\
name: tiny
seed: 3
replications: 3
tolerance_se: 4
metrics: [precision, handoffs_per_week]
policies: [mqa_count, mql_only]
scenarios:
  - name: small-smb
    scenario: smb
    overrides: {accounts: {count: 120}}
"""


def rows(*values: tuple) -> pd.DataFrame:
    return pd.DataFrame(values, columns=GATE_COLUMNS)


def test_a_move_is_judged_by_the_combined_standard_error() -> None:
    base = rows(("s", "p", "precision", 0.50, 0.01, 5))
    # tolerance 4 * hypot(0.01, 0.01) = 0.0566: 0.55 is within, 0.56 is not
    assert check(rows(("s", "p", "precision", 0.55, 0.01, 5)), base, 4)["status"].tolist() == ["ok"]
    moved = check(rows(("s", "p", "precision", 0.56, 0.01, 5)), base, 4)
    assert moved["status"].tolist() == ["moved"]
    assert moved["tolerance"].iloc[0] == pytest.approx(4 * math.hypot(0.01, 0.01))
    assert moved["change"].iloc[0] == pytest.approx(0.06)


def test_zero_spread_must_match_exactly_and_nan_counts() -> None:
    base = rows(("s", "p", "wins", 3.0, 0.0, 5), ("s", "p", "recall", math.nan, math.nan, 0))
    same = rows(("s", "p", "wins", 3.0, 0.0, 5), ("s", "p", "recall", math.nan, math.nan, 0))
    assert (check(same, base, 4)["status"] == "ok").all()
    off = rows(("s", "p", "wins", 3.0 + 1e-6, 0.0, 5), ("s", "p", "recall", 0.4, 0.01, 5))
    assert check(off, base, 4)["status"].tolist() == ["moved", "moved"]


def test_rows_on_one_side_only_fail_as_new_or_missing() -> None:
    base = rows(("s", "p", "precision", 0.5, 0.01, 5), ("s", "old", "precision", 0.5, 0.01, 5))
    now = rows(("s", "p", "precision", 0.5, 0.01, 5), ("s", "new", "precision", 0.5, 0.01, 5))
    status = check(now, base, 4).set_index("policy")["status"]
    assert status.to_dict() == {"p": "ok", "new": "new", "old": "missing"}


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("gate")
    (d / "suite.yaml").write_text(SUITE)
    return d


def test_a_suite_run_is_the_mean_and_standard_error_of_the_comparison(suite_dir: Path) -> None:
    suite, base = load_suite(suite_dir / "suite.yaml")
    got = run_suite(suite, base, workers=1)
    assert list(got.columns) == GATE_COLUMNS and len(got) == 4
    cmp = sim.compare(
        "smb", ["mqa_count", "mql_only"], 3, 3, overrides={"accounts": {"count": 120}}
    )
    for r in got.itertuples():
        v = cmp.tidy.query("policy == @r.policy and metric == @r.metric")["value"].to_numpy()
        v = v[~np.isnan(v)]
        assert r.n == v.size
        assert r.mean == pytest.approx(v.mean())
        if v.size > 1:
            assert r.se == pytest.approx(v.std(ddof=1) / math.sqrt(v.size))


def test_the_baseline_file_round_trips_and_bad_files_are_clear_errors(
    suite_dir: Path, tmp_path: Path
) -> None:
    suite, base = load_suite(suite_dir / "suite.yaml")
    table = rows(("small-smb", "mqa_count", "precision", 0.5, 0.02, 3))
    path = write_baseline(table, suite, base, tmp_path / "b.json")
    back, header = read_baseline(path)
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
    assert header["suite_hash"] == suite_hash(suite, base)
    with pytest.raises(DataError, match="baseline not found"):
        read_baseline(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="not a qualsim baseline file"):
        read_baseline(tmp_path / "bad.json")


def test_bad_suites_name_the_file_and_the_field(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(SUITE.replace("[precision, handoffs_per_week]", "[precison]"))
    with pytest.raises(ConfigError, match=r"s.yaml:5: metrics: unknown metrics \['precison'\]"):
        load_suite(f)
    f.write_text(SUITE + "  - {name: small-smb, scenario: smb}\n")
    with pytest.raises(ConfigError, match="scenario names must be unique, repeated: small-smb"):
        load_suite(f)


def test_cli_gate_passes_on_its_own_baseline_and_fails_on_a_moved_one(suite_dir: Path) -> None:
    runner = CliRunner()
    suite, baseline = suite_dir / "suite.yaml", suite_dir / "baseline.json"
    made = runner.invoke(
        app, ["gate", str(suite), "--baseline-file", str(baseline), "-w", "1", "--update-baseline"]
    )
    assert made.exit_code == 0 and baseline.is_file(), made.output
    ok = runner.invoke(app, ["gate", str(suite), "--baseline-file", str(baseline), "-w", "1"])
    assert ok.exit_code == 0, ok.output
    assert "4 of 4 metrics within 4 standard errors" in ok.stdout
    data = json.loads(baseline.read_text())
    data["rows"][0]["mean"] += 1.0  # a metric far outside any tolerance
    baseline.write_text(json.dumps(data))
    bad = runner.invoke(app, ["gate", str(suite), "--baseline-file", str(baseline), "-w", "1"])
    assert bad.exit_code == 1
    assert "regression gate failed: 1 metric(s) moved" in bad.stdout


def test_cli_bench_is_a_deprecated_alias_of_gate(suite_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["bench", str(suite_dir / "suite.yaml"), "--baseline-file", "/no/such.json"]
    )
    assert result.exit_code == 2
    assert "deprecated" in result.stderr
    assert "baseline not found" in result.stderr
    assert "bench" not in CliRunner().invoke(app, ["--help"]).stdout
