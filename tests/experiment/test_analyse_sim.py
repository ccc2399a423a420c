"""The analysis of a live experiment against the simulation: a simulated experiment's export
(write_experiment_export) analysed gives exactly what the simulation measured for that
experiment; the analysis never looks past its horizon (truncating the export at week W gives
the same as ``weeks=W``); and the per-account outcomes equal a plain loop on random exports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment.analyse import account_values, analyse_experiment
from sim.experiment.analyse_read import ExperimentData
from sim.experiment.design import (
    METRIC_KINDS,
    design_experiment,
    experiment_seeds,
    horizons,
    one_experiment,
    resolve,
)
from sim.experiment.design_export import write_experiment_export
from sim.experiment.design_stats import difference_tests

# a rule that hands off at a contact's first touch, against a 45% holdout: many accounts are
# reached before their competitor, so the candidate wins far more than the holdout
EAGER = (
    "name: eager\nkind: mql\nthreshold: 1\n"
    "points: {web_visit: 1, content_download: 1, webinar: 1, pricing_visit: 1, demo_request: 1}\n"
)
SPLIT = "0.45,0.1,0.45"
SEED = 0


@pytest.fixture(scope="module")
def experiment(tmp_path_factory, small_scenario):
    folder = tmp_path_factory.mktemp("live")
    (folder / "eager.yaml").write_text(EAGER)
    sc = small_scenario("smb", 800, {"in_market": {"at_fit_0": 0.6, "at_fit_1": 0.9}})
    write_experiment_export(
        folder / "exp", sc, str(folder / "eager.yaml"), "mql_only", SPLIT, seed=SEED
    )
    return folder, sc


def simulated(sc, folder: Path, metric: str) -> pd.DataFrame:
    """What the designer measured in its experiment 0: per comparison and horizon."""
    sc, cand, inc, shares = resolve(sc, str(folder / "eager.yaml"), "mql_only", SPLIT, None)
    stats = one_experiment(sc, cand, inc, shares, None, metric, experiment_seeds(SEED, 1)[0])
    stats = stats.assign(experiment=0)
    pairs = [("candidate", "incumbent"), ("candidate", "holdout")]
    binary = METRIC_KINDS[metric]
    return pd.concat([difference_tests(stats, a, b, binary) for a, b in pairs])


@pytest.mark.parametrize("metric", ["opportunities", "wins", "revenue"])
def test_the_export_gives_what_the_simulation_measured(experiment, metric: str) -> None:
    folder, sc = experiment
    exp = folder / "exp"
    sim = simulated(sc, folder, metric).set_index(["comparison", "weeks"])
    for weeks in horizons(sc):
        live = analyse_experiment(
            exp / "accounts.csv", exp / "opportunities.csv", metric=metric, weeks=weeks
        )
        got = live.comparisons.set_index("comparison")
        for comparison in ("candidate - incumbent", "candidate - holdout"):
            want = sim.loc[(comparison, weeks)]
            assert got.loc[comparison, "difference"] == want["difference"]
            assert got.loc[comparison, "p_value"] == pytest.approx(want["p_value"], rel=1e-12)
            # one rule: the test rejects and the 95% CI excludes 0; else borderline or not
            row = got.loc[comparison]
            excludes = row["ci_low"] > 0 or row["ci_high"] < 0
            assert row["distinguishable"] == (want["reject"] and excludes)
            assert row["borderline"] == (want["reject"] != excludes)
    if metric == "wins":  # the known effect: the eager rule wins accounts the holdout loses
        at_52 = sim.loc[("candidate - holdout", 52)]
        assert at_52["difference"] > 0.04
        assert at_52["p_value"] < 0.05


def truncate(opportunities: pd.DataFrame, end: float) -> pd.DataFrame:
    """The opportunities as the CRM held them at ``end``: none created later, a decision
    after it still open."""
    o = opportunities[opportunities["created"] < end].copy()
    later = ~(o["closed"] < end)
    o.loc[later, "closed"] = np.nan
    o.loc[later, "status"] = "open"
    o.loc[later, "won"] = False
    o.loc[later, "value"] = 0.0
    return o


@pytest.mark.parametrize("metric", ["opportunities", "wins", "revenue"])
def test_no_look_ahead(experiment, tmp_path: Path, metric: str) -> None:
    folder, _ = experiment
    exp = folder / "exp"
    full = pd.read_csv(exp / "opportunities.csv")
    for weeks in (4, 13, 30):
        truncate(full, 7.0 * weeks).to_csv(tmp_path / "cut.csv", index=False)
        cut = analyse_experiment(exp / "accounts.csv", tmp_path / "cut.csv", metric=metric)
        at = analyse_experiment(
            exp / "accounts.csv", exp / "opportunities.csv", metric=metric, weeks=weeks
        )
        pd.testing.assert_frame_equal(cut.arms, at.arms)
        pd.testing.assert_frame_equal(cut.comparisons, at.comparisons)


def reference_values(data: ExperimentData, metric: str, start: float, end: float) -> list:
    """Per account, by a plain loop over its opportunities."""
    out = []
    for a in range(len(data.accounts)):
        value = 0.0
        for row in data.opportunities.itertuples():
            if row.account != a:
                continue
            if metric == "opportunities":
                if start <= row.created < end:
                    value = 1.0
            elif row.won and start <= row.closed < end:  # NaN compares False
                value = 1.0 if metric == "wins" else value + row.value
        out.append(value)
    return out


@st.composite
def exports(draw):
    n = draw(st.integers(1, 6))
    arms = draw(
        st.lists(st.sampled_from(["candidate", "incumbent", "holdout"]), min_size=n, max_size=n)
    )
    rows = []
    for _ in range(draw(st.integers(0, 10))):
        created = draw(st.floats(0, 100, allow_nan=False))
        closed = draw(st.one_of(st.just(np.nan), st.floats(created, 150, allow_nan=False)))
        won = not np.isnan(closed) and draw(st.booleans())
        value = draw(st.floats(0, 1e4, allow_nan=False)) if won else 0.0
        rows.append((draw(st.integers(0, n - 1)), created, closed, won, value))
    opps = pd.DataFrame(rows, columns=["account", "created", "closed", "won", "value"])
    opps = opps.astype({"account": np.int64, "created": float, "closed": float, "won": bool})
    accounts = pd.DataFrame({"account_id": [str(i) for i in range(n)], "arm": arms})
    return ExperimentData(accounts, opps.assign(where=""), True, 0, 0)


@settings(max_examples=60, deadline=None)
@given(
    exports(),
    st.sampled_from(["opportunities", "wins", "revenue"]),
    st.floats(0, 60, allow_nan=False),
    st.one_of(st.just(np.inf), st.floats(0, 150, allow_nan=False)),
)
def test_account_values_equal_a_plain_loop(data, metric, start, end) -> None:
    got = account_values(data, metric, start, end)
    assert got == pytest.approx(reference_values(data, metric, start, end), rel=1e-9, abs=1e-9)
    # and nothing at or after the end matters: drop it, same values
    o = data.opportunities
    kept = o[o["created"] < end].copy()
    after = ~(kept["closed"] < end)
    kept.loc[after, ["closed", "won", "value"]] = [np.nan, False, 0.0]
    cut = ExperimentData(data.accounts, kept, True, 0, 0)
    assert account_values(cut, metric, start, end) == pytest.approx(got, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_the_plan_the_command_prints_is_read_back(tmp_path: Path, fmt: str) -> None:
    """experiment design --format json|csv, then experiment analyse --design on its export:
    the analysis reads the plan's central 95% as the design computed it."""
    (tmp_path / "tiny.yaml").write_text("extends: smb\naccounts: {count: 150}\n")
    design = ["experiment", "design", tmp_path / "tiny.yaml", "--candidate", "mqa_count"]
    design += ["--incumbent", "mql_only", "-r", "2", "--metric", "wins", "--format", fmt]
    result = CliRunner().invoke(app, [str(a) for a in [*design, "--export", tmp_path / "exp"]])
    assert result.exit_code == 0, result.output
    (tmp_path / f"plan.{fmt}").write_text(result.stdout)
    exp = tmp_path / "exp"
    analyse = ["experiment", "analyse", "--accounts", exp / "accounts.csv", "--opportunities"]
    analyse += [exp / "opportunities.csv", "--metric", "wins", "--weeks", "13"]
    analyse += ["--design", tmp_path / f"plan.{fmt}", "--format", "json"]
    result = CliRunner().invoke(app, [str(a) for a in analyse])
    assert result.exit_code == 0, result.output
    got = pd.DataFrame(json.loads(result.stdout)["differences"]).set_index("comparison")
    want = design_experiment(
        tmp_path / "tiny.yaml", "mqa_count", "mql_only", metric="wins", replications=2
    )
    want = want[want["weeks"] == 13].set_index("comparison")
    for c in ("candidate - incumbent", "candidate - holdout"):
        assert got.loc[c, "design_weeks"] == 13
        for col in ("difference_low", "difference_high", "power"):
            assert got.loc[c, col] == pytest.approx(want.loc[c, col], abs=1e-9)
        inside = (
            want.loc[c, "difference_low"]
            <= got.loc[c, "difference"]
            <= want.loc[c, "difference_high"]
        )
        assert isinstance(inside, bool | np.bool_)
        assert got.loc[c, "in_line"] is None  # 2 experiments: too few to judge by
    assert "simulated 2 experiments: too few" in result.stderr + result.stdout
    assert pd.isna(got.loc["incumbent - holdout", "power"])


def test_a_parquet_export_reads_the_same(experiment, tmp_path: Path) -> None:
    folder, sc = experiment
    write_experiment_export(
        tmp_path / "pq", sc, str(folder / "eager.yaml"), "mql_only", SPLIT, seed=SEED, fmt="parquet"
    )
    exp = folder / "exp"
    for metric in ("opportunities", "wins", "revenue"):
        csv = analyse_experiment(exp / "accounts.csv", exp / "opportunities.csv", metric=metric)
        pq = analyse_experiment(
            tmp_path / "pq" / "accounts.parquet",
            tmp_path / "pq" / "opportunities.parquet",
            metric=metric,
        )
        pd.testing.assert_frame_equal(pq.comparisons, csv.comparisons)
