"""``qualsim recommend`` on a real sweep of 3 scenario samples: the sensitivity part is one
sentence saying why it cannot tell, never a table of NaN and "-"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment import recommend as rec
from sim.experiment.sensitivity import MIN_SAMPLES
from sim.experiment.sweep import SweepSpec, results, run_sweep

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
THREE = {
    "name": "three",
    "scenario": "smb",
    "overrides": {"accounts": {"count": 120}},
    "seed": 7,
    "replications": 1,
    "design": {"kind": "lhs", "samples": 3},
    "uncertain": {"touches.identification_rate": "0.2..0.5"},
    "policies": [{"policy": "mqa_count", "grid": {"any.0.unique_contacts": "2..3"}}],
}


@pytest.fixture(scope="module")
def three_samples(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("three")
    run_sweep(SweepSpec.model_validate(THREE), out, workers=1)
    return out


def test_recommend_with_three_samples_says_why(three_samples: Path) -> None:
    result = CliRunner().invoke(app, ["recommend", str(three_samples)])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    text = ANSI.sub("", result.stdout)
    assert "nan" not in text.lower()
    # what the library says of these rows, the CLI prints as its last line
    df = results(three_samples)
    sens = rec.sensitivity(df, rec.recommend(df))
    assert len(sens) == 1 and "3 scenario samples" in sens["note"].iloc[0]
    note = rec.sensitivity_note(sens)
    assert note is not None and f"at least {MIN_SAMPLES}" in note
    assert " ".join(text.split()).endswith(" ".join(note.split()))
    if sens["spearman"].isna().all():  # best in every sample or in none: no table at all
        assert "What changes the ranking (" not in text and "spearman" not in text


@pytest.fixture(scope="module")
def one_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("one")
    spec = {**THREE, "name": "one", "design": {"kind": "lhs", "samples": 1}}
    run_sweep(SweepSpec.model_validate(spec), out, workers=1)
    return out


def test_recommend_on_one_world_warns_and_claims_no_ci(one_world: Path) -> None:
    result = CliRunner().invoke(app, ["recommend", str(one_world)])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    text = " ".join(ANSI.sub("", result.stdout).split())
    assert "mean ±95% CI over samples x replications" not in text
    assert "(mean ±95% CI over 1 world: no CI)" in text
    assert "no confidence interval" in result.stderr and "1 scenario sample" in result.stderr
    assert "no capacity given" in text


def test_recommend_json_gives_numbers_and_the_verdict(three_samples: Path) -> None:
    result = CliRunner().invoke(
        app, ["recommend", str(three_samples), "-f", "json", "--max-handoffs-per-week", "50"]
    )
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    tables = json.loads(result.stdout)
    (verdict,) = tables["verdict"]
    assert verdict["verdict"].startswith("Verdict: mqa_count ")
    row = tables["recommendation"][0]
    assert row["tier"] == "all accounts" and row["objective"] == "total_wins"
    assert isinstance(row["mean"], float) and row["ci_low"] <= row["mean"] <= row["ci_high"]
    assert row["capacity_metric"] == "weekly_load_p90" and row["capacity_load"] <= 50
    assert isinstance(row["best_in_samples"], int) and row["samples"] == 3
    front = tables["pareto"][0]
    assert isinstance(front["precision"], float) and {"policy", "variant"} <= set(front)


def test_recommend_minimises_false_handoff_hours(three_samples: Path) -> None:
    """Lower is better: the recommended variant wastes the fewest hours of the two variants
    (unique_contacts 2 or 3), read from the stored rows by a plain mean."""
    df = results(three_samples)
    rows = df[(df["tier"] == -1) & (df["metric"] == "false_handoff_hours")]
    means = rows.groupby("variant")["value"].mean()
    assert len(means) == 2 and means.min() < means.max()  # the test can tell them apart
    result = CliRunner().invoke(
        app, ["recommend", str(three_samples), "--objective", "false_handoff_hours", "-f", "json"]
    )
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    row = json.loads(result.stdout)["recommendation"][0]
    assert row["variant"] == means.idxmin() and row["mean"] == pytest.approx(means.min())


def test_recommend_refuses_an_objective_without_direction(three_samples: Path) -> None:
    result = CliRunner().invoke(app, ["recommend", str(three_samples), "--objective", "total_win"])
    assert result.exit_code == 2
    assert "did you mean 'total_wins'" in " ".join(result.stderr.split())
    result = CliRunner().invoke(
        app, ["recommend", str(three_samples), "--objective", "weekly_load_p90"]
    )
    assert result.exit_code == 2 and "with a direction" in result.stderr


def test_query_reads_floats_on_the_terminal_and_keeps_them_exact_in_json(
    three_samples: Path,
) -> None:
    sql = "SELECT 'x' AS k, 1 / 3 AS third, 239362.24874999997 AS money"
    shown = CliRunner().invoke(app, ["query", str(three_samples), sql])
    assert shown.exit_code == 0, (shown.stdout, shown.stderr)
    text = ANSI.sub("", shown.stdout)
    assert "0.33" in text and "239,362" in text and "0.3333333" not in text
    exact = CliRunner().invoke(app, ["query", str(three_samples), sql, "-f", "json"])
    (row,) = json.loads(exact.stdout)["rows"]
    # 15 significant digits (pandas wrote 10 by default: 0.3333333333)
    assert row["third"] == pytest.approx(1 / 3, rel=1e-14)
    assert row["money"] == pytest.approx(239362.24874999997, rel=1e-14)
