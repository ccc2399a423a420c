"""Comparing policies over replicated worlds (sim/compare.py) and the ``run`` / ``compare``
commands.

Known answers first (t intervals and the printed table worked out by hand, with Student-t
quantiles from the published tables), then the structure of a comparison on a small scenario
(replication r is the world of the r-th seed; summary and paired intervals are t intervals of
the tidy values; paired differences use the same worlds and are narrower than unpaired ones;
results do not depend on the number of workers), the errors a user can make, the command
line, and — marked slow — that the 95% intervals cover the long-run mean about 95% of the time.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner, Result

import policies
import sim
from sim import tables
from sim.cli import app
from sim.errors import ConfigError, DataError
from sim.experiment.compare import Comparison, compare
from sim.experiment.replicate import replication_seeds, run_replication
from sim.experiment.stats import t_interval
from sim.sales import handoff_metrics, month_metrics, play_handoffs
from sim.sales.metrics import METRICS

SMALL = {"accounts": {"count": 150}}  # on top of the smb preset

# Student-t quantiles t_{0.975} from the published tables (df = 1, 2, 3, 4).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776}


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def cmp() -> Comparison:
    """mql_only against mqa_count on 4 small SMB worlds (seed 1)."""
    return compare(
        "smb", ["mql_only", "mqa_count"], replications=4, seed=1, overrides=SMALL, workers=1
    )


# --------------------------------------------------------------------------------------------
# t intervals and tables by hand
# --------------------------------------------------------------------------------------------


def test_t_interval_by_hand():
    """[1, 2, 3]: mean 2, sd 1, half-width t_{0.975, 2} / sqrt(3) = 4.303 / 1.732 = 2.484."""
    mean, lo, hi, n = t_interval(np.array([1.0, 2.0, 3.0]))
    assert (mean, n) == (2.0, 3)
    assert lo == pytest.approx(2 - 4.303 / math.sqrt(3), abs=1e-3)
    assert hi == pytest.approx(2 + 4.303 / math.sqrt(3), abs=1e-3)


def test_t_interval_level_and_nan():
    """[2, 4, 6, 8, NaN] at 90%: NaN left out; mean 5, sd sqrt(20/3) = 2.582, se 1.291,
    t_{0.95, 3} = 2.353: half-width 3.038."""
    mean, lo, hi, n = t_interval(np.array([2.0, 4.0, np.nan, 6.0, 8.0]), level=0.90)
    assert (mean, n) == (5.0, 4)
    assert hi - mean == pytest.approx(3.038, abs=1e-3)
    assert mean - lo == pytest.approx(3.038, abs=1e-3)


def test_t_interval_degenerate():
    mean, lo, hi, n = t_interval(np.array([7.0]))
    assert (mean, n) == (7.0, 1) and math.isnan(lo) and math.isnan(hi)
    mean, lo, hi, n = t_interval(np.array([np.nan, np.nan]))
    assert n == 0 and math.isnan(mean) and math.isnan(lo) and math.isnan(hi)
    assert t_interval(np.array([3.0, 3.0, 3.0]))[1:3] == (3.0, 3.0)  # no spread: no width


def test_t_interval_covers_a_known_mean():
    """2000 samples of 5 normal values (mean 10): the 95% interval covers 10 in a share of
    repeats within 4 binomial standard errors of 0.95 (se = sqrt(.95 x .05 / 2000) = 0.0049)."""
    rng = np.random.default_rng(7)
    samples = rng.normal(10.0, 3.0, size=(2000, 5))
    covered = [lo <= 10.0 <= hi for _, lo, hi, _ in map(t_interval, samples)]
    se = math.sqrt(0.95 * 0.05 / 2000)
    assert abs(np.mean(covered) - 0.95) < 4 * se


def hand_comparison() -> Comparison:
    """Two policies over three replications, values chosen by hand."""
    values = {
        ("A", "handoffs"): [100.0, 110.0, 120.0],
        ("B", "handoffs"): [90.0, 100.0, 125.0],
        ("A", "precision"): [0.5, 0.5, 0.5],
        ("B", "precision"): [0.25, 0.5, np.nan],
    }
    rows = [
        {"policy": p, "replication": r, "metric": m, "value": v}
        for (p, m), vs in values.items()
        for r, v in enumerate(vs)
    ]
    sc = sim.load_scenario("smb", overrides=SMALL)
    return Comparison(pd.DataFrame(rows), sc, ["A", "B"], 0, [1, 2, 3], baseline="A")


def test_summary_paired_and_table_by_hand():
    """A handoffs [100, 110, 120]: mean 110, sd 10, half 4.303 x 10 / sqrt(3) = 24.84.
    B - A handoffs [-10, -10, 5]: mean -5, sd sqrt(75), half 4.303 x sqrt(75) / sqrt(3) =
    4.303 x 5 = 21.52. B precision [0.25, 0.5, NaN]: mean 0.375 over 2; B - A precision
    [-0.25, 0]: mean -0.125, n 2."""
    c = hand_comparison()
    s = c.summary(["handoffs", "precision"]).set_index(["policy", "metric"])
    assert s.loc[("A", "handoffs"), "mean"] == 110.0
    assert s.loc[("A", "handoffs"), "ci_high"] - 110 == pytest.approx(24.84, abs=0.01)
    assert s.loc[("B", "precision"), "mean"] == 0.375
    assert s.loc[("B", "precision"), "n"] == 2

    p = c.paired(metrics=["handoffs", "precision"]).set_index(["policy", "metric"])
    assert set(p.index.get_level_values("policy")) == {"B"}
    assert p.loc[("B", "handoffs"), "mean"] == -5.0
    assert p.loc[("B", "handoffs"), "ci_high"] + 5 == pytest.approx(21.52, abs=0.01)
    assert p.loc[("B", "precision"), "mean"] == -0.125
    assert p.loc[("B", "precision"), "n"] == 2
    # against B instead: A - B
    pa = c.paired(baseline="B", metrics=["handoffs"]).set_index(["policy", "metric"])
    assert pa.loc[("A", "handoffs"), "mean"] == 5.0

    t = c.table(["handoffs", "precision"])
    assert list(t.columns) == ["A", "B"]
    # label (unit), and the mark of the better direction (handoffs: neither is better)
    assert list(t.index) == ["Handoffs (accounts)", "Precision (share) ↑"]
    assert t.iloc[0, 0] == "110 ±25"
    assert t.iloc[1, 0] == "0.500 ±0.000"
    tp = c.table(["handoffs"], paired=True)
    assert list(tp.columns) == ["B"]
    assert tp.iloc[0, 0] == "-5.0 ±21.5"


def test_summary_and_paired_carry_each_metrics_unit_direction_and_truth():
    """The registry's metadata on every row, for the policy and for the difference alike:
    precision is a share, higher is better, judged by the active-journey truth; handoffs are
    accounts, neither direction better, no truth."""
    c = hand_comparison()
    for table in (
        c.summary(["handoffs", "precision"]),
        c.paired(metrics=["handoffs", "precision"]),
    ):
        meta = table.set_index("metric")[["unit", "better", "truth"]].drop_duplicates()
        assert meta.loc["precision"].tolist() == ["share", "higher", "active journey"]
        assert meta.loc["handoffs"].tolist() == ["accounts", "", ""]
        assert list(table.columns) == tables.SUMMARY.names


def test_row_labels_mark_lower_is_better_too():
    c = hand_comparison()
    c.tidy = pd.concat(
        [
            c.tidy,
            pd.DataFrame(
                {"policy": "A", "replication": [0, 1, 2], "metric": "queue_wait_hours"}
            ).assign(value=[1.0, 2.0, 3.0]),
        ]
    )
    assert list(c.table(["queue_wait_hours"]).index) == ["Queue wait (hours) ↓"]


def test_unknown_baseline_in_paired():
    with pytest.raises(ConfigError, match="'C' is not one of the compared policies"):
        hand_comparison().paired(baseline="C")


# --------------------------------------------------------------------------------------------
# A comparison on a small scenario
# --------------------------------------------------------------------------------------------


def test_tidy_has_one_row_per_policy_replication_and_metric(cmp):
    t = cmp.tidy
    assert list(t.columns) == ["policy", "replication", "metric", "value"]
    assert len(t) == 2 * 4 * len(METRICS)
    assert not t.duplicated(["policy", "replication", "metric"]).any()
    assert set(t["metric"]) == set(METRICS)
    assert sorted(set(t["replication"])) == [0, 1, 2, 3]
    assert cmp.policies == ["mql_only", "mqa_count"]
    assert cmp.seeds == replication_seeds(1, 4)


def test_replication_r_is_the_world_of_the_r_th_seed(cmp):
    """Replication r = one world simulated with seeds[r], every policy played on it."""
    sc = cmp.scenario  # the comparison's own scenario (the preset's messy-data defaults too)
    loaded = [policies.load_policy(p) for p in cmp.policies]
    for r in (0, 3):
        rows = pd.DataFrame(run_replication(sc, loaded, cmp.seeds[r]))
        got = cmp.tidy[cmp.tidy["replication"] == r].drop(columns="replication")
        pd.testing.assert_frame_equal(got.reset_index(drop=True), rows, check_dtype=False)
    # the same from the parts: simulate, evaluate, play, measure
    w = sim.simulate(sc, seed=cmp.seeds[2])
    log = sim.EventLog.from_world(w)
    q = policies.evaluate(loaded[1], log)
    m = handoff_metrics(w, play_handoffs(w, q))
    # ... and the month-by-month metrics from the rule's state at every touch
    f = policies.Frame(log)
    at = policies.holds(loaded[1], log, f)
    m.update(month_metrics(w, pd.DataFrame({"account_id": f.account[at], "time": f.time[at]})))
    got = cmp.tidy.query("replication == 2 and policy == 'mqa_count'").set_index("metric")
    for name, value in m.items():
        assert got.loc[name, "value"] == pytest.approx(value, nan_ok=True), name


def test_replication_seeds():
    s = replication_seeds(3, 6)
    assert len(set(s)) == 6
    assert all(isinstance(x, int) and 0 <= x < 2**63 for x in s)
    assert replication_seeds(3, 6) == s
    assert replication_seeds(3, 2) == s[:2]  # more replications extend, never reshuffle
    assert set(replication_seeds(4, 6)).isdisjoint(s)


def test_summary_is_the_t_interval_of_the_tidy_values(cmp):
    s = cmp.summary().set_index(["policy", "metric"])
    assert len(s) == 2 * len(METRICS)
    t = cmp.tidy
    for (policy, metric), r in s.iterrows():
        v = t.loc[(t["policy"] == policy) & (t["metric"] == metric), "value"].dropna().to_numpy()
        assert r["n"] == v.size
        if v.size:
            assert r["mean"] == pytest.approx(v.mean())
        if v.size > 1 and v.std() > 0:
            half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
            assert r["ci_high"] - r["mean"] == pytest.approx(half)
            assert r["mean"] - r["ci_low"] == pytest.approx(half)


def test_paired_differences_are_taken_world_by_world(cmp):
    """paired(): mqa_count minus mql_only replication by replication; the baseline is left
    out; n counts the worlds where both are defined."""
    p = cmp.paired().set_index(["policy", "metric"])
    assert set(p.index.get_level_values("policy")) == {"mqa_count"}
    wide = cmp.tidy.pivot(index=["metric", "replication"], columns="policy", values="value")
    for m in METRICS:
        d = (wide.loc[m, "mqa_count"] - wide.loc[m, "mql_only"]).dropna().to_numpy()
        r = p.loc[("mqa_count", m)]
        assert r["n"] == d.size, m
        if d.size:
            assert r["mean"] == pytest.approx(d.mean()), m
        if d.size > 1 and d.std() > 0:
            half = T975[d.size - 1] * d.std(ddof=1) / math.sqrt(d.size)
            assert r["ci_high"] - r["mean"] == pytest.approx(half, rel=1e-3), m


def welch_half_width(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the unpaired (Welch) interval for mean(b) - mean(a)."""
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return float(stats.t.ppf(0.5 + level / 2, df) * math.sqrt(va + vb))


def test_paired_interval_is_narrower_than_unpaired():
    """mqa_count against the same rule with 3 instead of 4 unique members: on the same worlds
    both policies see the same busy and quiet accounts, so their per-world differences vary
    far less than either policy across worlds. The paired 95% interval of the difference is
    narrower than the Welch interval of the difference of means from the same tidy table."""
    base = policies.load_policy("mqa_count")
    looser = policies.with_value(
        policies.with_value(base, "any.0.unique_contacts", 3), "name", "mqa_3"
    )
    c = compare(
        "smb", [base, looser], replications=8, seed=5, overrides={"accounts": {"count": 200}}
    )
    paired = c.paired().set_index("metric")
    wide = c.tidy.pivot(index=["metric", "replication"], columns="policy", values="value")
    for m in ["handoffs", "precision", "recall", "opportunities", "total_wins", "missed_accounts"]:
        a = wide.loc[m, "mqa_count"].to_numpy()
        b = wide.loc[m, "mqa_3"].to_numpy()
        assert not np.isnan(a).any() and not np.isnan(b).any(), m
        r = paired.loc[m]
        assert r["mean"] == pytest.approx(b.mean() - a.mean()), m
        paired_half = (r["ci_high"] - r["ci_low"]) / 2
        assert paired_half < welch_half_width(a, b), m


def test_same_seed_same_results_whatever_the_workers():
    kw = {"replications": 3, "seed": 9, "overrides": SMALL}
    one = compare("smb", ["mqa_count", "mql_only"], workers=1, **kw)
    again = compare("smb", ["mqa_count", "mql_only"], workers=1, **kw)
    two = compare("smb", ["mqa_count", "mql_only"], workers=2, **kw)
    pd.testing.assert_frame_equal(one.tidy, again.tidy)
    pd.testing.assert_frame_equal(one.tidy, two.tidy)
    other = compare("smb", ["mqa_count", "mql_only"], workers=1, **{**kw, "seed": 10})
    assert not other.tidy["value"].equals(one.tidy["value"])


def test_progress_is_called_once_per_replication():
    seen = []
    compare("smb", ["mqa_count"], replications=3, seed=2, overrides=SMALL, progress=seen.append)
    assert sorted(seen) == [0, 1, 2]


def test_write_csv_and_parquet(cmp, tmp_path):
    written = cmp.write(tmp_path / "csv")
    names = {p.name for p in written}
    assert {"tidy.csv", "summary.csv", "paired.csv"} <= names
    assert all(p.exists() for p in written)
    assert not list((tmp_path / "csv").glob("*.partial"))
    tidy = pd.read_csv(tmp_path / "csv" / "tidy.csv")
    assert len(tidy) == len(cmp.tidy)
    np.testing.assert_allclose(tidy["value"], cmp.tidy["value"])
    summary = pd.read_csv(tmp_path / "csv" / "summary.csv")
    np.testing.assert_allclose(summary["mean"], cmp.summary()["mean"])
    paired = pd.read_csv(tmp_path / "csv" / "paired.csv")
    np.testing.assert_allclose(paired["mean"], cmp.paired()["mean"])

    cmp.write(tmp_path / "pq", fmt="parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "pq" / "tidy.parquet"), cmp.tidy)


def test_weekly_table_is_written_and_read_back(cmp, tmp_path):
    assert len(cmp.weekly) and set(cmp.weekly["policy"]) == set(cmp.policies)
    for fmt in ("csv", "parquet"):
        cmp.write(tmp_path / fmt, fmt=fmt)
        back = Comparison.read(tmp_path / fmt)
        pd.testing.assert_frame_equal(back.weekly, cmp.weekly, check_dtype=False)
    # a folder written before the weekly table: read as an empty one, with its columns
    (tmp_path / "csv" / "weekly.csv").unlink()
    old = Comparison.read(tmp_path / "csv")
    assert old.weekly.empty and list(old.weekly.columns) == tables.WEEKLY.names
    # a broken one names the file and the missing column
    cmp.weekly.drop(columns="queued").to_csv(tmp_path / "csv" / "weekly.csv", index=False)
    with pytest.raises(DataError, match=r"weekly\.csv: the weekly table lacks column\(s\) queued"):
        Comparison.read(tmp_path / "csv")


def test_write_one_policy_has_no_paired_table(tmp_path):
    c = compare("smb", ["mqa_count"], replications=2, seed=1, overrides=SMALL)
    names = {p.name for p in c.write(tmp_path)}
    assert {"tidy.csv", "summary.csv"} <= names
    assert "paired.csv" not in names


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("replications", [0, -1, 2.5, "3"])
def test_bad_replications(replications):
    with pytest.raises(ConfigError, match="replications"):
        compare("smb", ["mqa_count"], replications=replications, overrides=SMALL)


def test_duplicate_policy_names():
    with pytest.raises(ConfigError, match=r"unique.*mqa_count"):
        compare("smb", ["mqa_count", "mql_only", "mqa_count"], replications=1, overrides=SMALL)


def test_unknown_baseline():
    with pytest.raises(ConfigError, match="baseline 'mql' is not one of the compared policies"):
        compare("smb", ["mqa_count", "mql_only"], replications=1, baseline="mql", overrides=SMALL)
    with pytest.raises(ConfigError, match=r"\(did you mean 'mqa_count'\?\)"):
        compare("smb", ["mqa_count", "mql_only"], replications=1, baseline="mqa_cnt")


def test_unknown_policy_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml"):
        compare("smb", [tmp_path / "nope.yaml"], replications=1, overrides=SMALL)


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


@pytest.fixture
def scenario_file(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text("extends: smb\nname: tiny\naccounts:\n  count: 120\n", encoding="utf-8")
    return path


def test_cli_compare_writes_tables(scenario_file, tmp_path):
    out = tmp_path / "out"
    r = invoke(
        "compare", scenario_file, "mql_only", "mqa_count", "-r", "2", "-w", "1", "--out", out
    )
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "Difference from mql_only, paired on the same worlds" in r.stdout
    for name in ("tidy", "summary", "paired"):
        assert (out / f"{name}.csv").exists()
        assert f"wrote {out / f'{name}.csv'}" in r.stdout
    tidy = pd.read_csv(out / "tidy.csv")
    assert sorted(tidy["replication"].unique()) == [0, 1]
    assert set(tidy["policy"]) == {"mql_only", "mqa_count"}
    paired = pd.read_csv(out / "paired.csv")
    assert set(paired["policy"]) == {"mqa_count"}


def test_cli_run_with_replications(scenario_file, tmp_path):
    out = tmp_path / "run"
    r = invoke(
        "run", scenario_file, "-p", "mqa_count", "-p", "mql_only", "-r", "2", "-w", "1",
        "--out-format", "parquet", "--out", out,
    )  # fmt: skip
    assert r.exit_code == 0, r.stdout + r.stderr
    # the table shows the p90 week and the share of weeks over capacity beside the mean
    assert "p90 week (per week)" in r.stdout and "Weeks over capacity" in r.stdout
    assert "Scenario SDR capacity" in " ".join(r.stdout.split())  # the note may wrap
    tidy = pd.read_parquet(out / "tidy.parquet")
    assert len(tidy) == 2 * 2 * len(METRICS)
    assert (out / "weekly.parquet").exists()
    assert (out / "summary.parquet").exists() and (out / "paired.parquet").exists()
    # the baseline defaults to mql_only when it is compared
    assert set(pd.read_parquet(out / "paired.parquet")["policy"]) == {"mqa_count"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-b", "nope"], "baseline 'nope' is not one of the compared policies"),
        (["mqa_count"], "policy names must be unique"),
        (["-r", "0"], "--replications"),
        (["missing_policy.yaml"], "missing_policy.yaml"),
        (["--out-format", "xml"], "--out-format: expected csv or parquet, got 'xml'"),
    ],
    ids=["unknown-baseline", "duplicate-names", "zero-replications", "no-policy-file", "format"],
)
def test_cli_bad_input_exits_2(scenario_file, args, fragment):
    r = invoke("compare", scenario_file, "mql_only", "mqa_count", "-r", "1", "-w", "1", *args)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert fragment in r.stderr


def test_cli_unknown_scenario_exits_2():
    r = invoke("compare", "no_such_preset", "mqa_count", "-r", "1", "-w", "1")
    assert r.exit_code == 2
    assert "no_such_preset" in r.stderr


# --------------------------------------------------------------------------------------------
# Honest intervals (slow)
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_intervals_cover_the_long_run_mean():
    """600 replications of a cheap scenario (one policy), cut into 200 experiments of 3
    replications each; each experiment's 95% interval (Comparison.summary) should cover the
    long-run mean in ~95% of experiments. The long-run mean is the mean of all 600 (its own
    error, sd / sqrt(600), is ~2% of an interval's half-width, t_{.975,2} x sd / sqrt(3)).
    Allowed: 3 binomial standard errors of the coverage share, sqrt(.95 x .05 / 200) =
    0.0154. A z interval (1.96 instead of 4.30) would cover only ~80%."""
    over = {
        "accounts": {"count": 100},
        "horizon_days": 120,
        "journey": {"start_window_days": [-30, 100]},
    }
    k, n = 200, 3
    big = compare("smb", ["mqa_count"], replications=k * n, seed=11, overrides=over, workers=2)
    metrics = ["handoffs", "sales_hours"]
    long_run = big.tidy.groupby("metric")["value"].mean()
    hits = {m: 0 for m in metrics}
    for i in range(k):
        part = big.tidy[big.tidy["replication"] // n == i]
        c = Comparison(part, big.scenario, big.policies, big.seed, big.seeds[i * n : (i + 1) * n])
        s = c.summary(metrics).set_index("metric")
        for m in metrics:
            assert s.loc[m, "n"] == n
            hits[m] += s.loc[m, "ci_low"] <= long_run[m] <= s.loc[m, "ci_high"]
    se = math.sqrt(0.95 * 0.05 / k)
    for m in metrics:
        assert abs(hits[m] / k - 0.95) < 3 * se, (m, hits[m] / k)
