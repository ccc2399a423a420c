"""The rollout experiment designer (sim/experiment/design.py, design_stats.py): hand-worked
pieces, the tests against SciPy's plain ones, the simulated power against the analytic
two-sample power, and the whole design on tiny worlds."""

from __future__ import annotations

import dataclasses
import math
import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import policies
import sim
from sim.errors import ConfigError
from sim.experiment.design import (
    account_outcomes,
    arm_sizes,
    assign_arms,
    design_experiment,
    experiment_seeds,
    outcome_matrix,
    parse_split,
    play_experiment,
)
from sim.experiment.design_stats import (
    arm_stats,
    difference_tests,
    power_curve,
    power_interval,
    weeks_to_power,
    welch_p,
    z_test_p,
)
from sim.experiment.replicate import Replica
from sim.sales.uplift import totals

# --------------------------------------------------------------------------------------------
# The power curve against the analytic two-sample power
# --------------------------------------------------------------------------------------------


def analytic_z_power(p1: float, p2: float, n: int, alpha: float = 0.05) -> float:
    """Normal-approximation power of the pooled two-sided two-proportion z-test, n per arm:
    P(|Z| > z) where the difference has sd sqrt((p1 q1 + p2 q2) / n) and the test divides by
    the pooled sd sqrt(2 p q / n)."""
    p = (p1 + p2) / 2
    null_sd = math.sqrt(2 * p * (1 - p) / n)
    sd = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n)
    z = sps.norm.ppf(1 - alpha / 2)
    d = abs(p1 - p2)
    return sps.norm.cdf((d - z * null_sd) / sd) + sps.norm.cdf((-d - z * null_sd) / sd)


def simulated_power(draw, n: int, experiments: int, binary: bool, seed: int) -> pd.DataFrame:
    """Power through the designer's machinery (arm_stats -> difference_tests -> power_curve)
    of experiments whose per-account outcomes ``draw(rng, arm, n)`` makes directly."""
    rng = np.random.default_rng(seed)
    arm = np.repeat(np.array(["candidate", "incumbent"]), n)
    stats = []
    for e in range(experiments):
        values = np.r_[draw(rng, "candidate", n), draw(rng, "incumbent", n)][:, None]
        stats.append(arm_stats(values, arm, [52]).assign(experiment=e))
    tests = difference_tests(pd.concat(stats), "candidate", "incumbent", binary)
    return power_curve(tests).iloc[0]


@pytest.mark.parametrize(("p1", "p2"), [(0.10, 0.15), (0.20, 0.20), (0.05, 0.09)])
def test_binary_power_matches_the_analytic_power(p1, p2) -> None:
    n, experiments = 400, 2000
    rates = {"candidate": p1, "incumbent": p2}
    row = simulated_power(
        lambda rng, a, k: (rng.random(k) < rates[a]).astype(float), n, experiments, True, 7
    )
    expected = analytic_z_power(p1, p2, n)
    se = math.sqrt(expected * (1 - expected) / experiments)
    assert abs(row["power"] - expected) < 3 * se, (row["power"], expected, se)
    assert row["power_se"] == pytest.approx(
        math.sqrt(row["power"] * (1 - row["power"]) / experiments)
    )


def test_revenue_power_matches_the_analytic_power() -> None:
    """Exponential deal values (means 1000 and 1200, sd = mean), 300 accounts per arm: the
    difference of means is close to normal with sd sqrt((1000^2 + 1200^2) / 300)."""
    n, experiments = 300, 1500
    means = {"candidate": 1200.0, "incumbent": 1000.0}
    row = simulated_power(lambda rng, a, k: rng.exponential(means[a], k), n, experiments, False, 11)
    sd = math.sqrt((1000.0**2 + 1200.0**2) / n)
    z = sps.norm.ppf(0.975)
    expected = sps.norm.cdf(200.0 / sd - z) + sps.norm.cdf(-200.0 / sd - z)
    se = math.sqrt(expected * (1 - expected) / experiments)
    assert abs(row["power"] - expected) < 3 * se, (row["power"], expected, se)


# --------------------------------------------------------------------------------------------
# The tests against SciPy's
# --------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 60), st.integers(2, 60), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_z_test_is_pearsons_chi_square_without_correction(n1, n2, f1, f2) -> None:
    x1, x2 = round(f1 * n1), round(f2 * n2)
    p = z_test_p(x1 / n1, n1, x2 / n2, n2)
    if x1 + x2 in (0, n1 + n2):  # a table with an empty column: no evidence, p = 1
        assert p == 1.0
        return
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    ref = sps.chi2_contingency(table, correction=False).pvalue
    assert p == pytest.approx(ref, rel=1e-7, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30),
    st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30),
)
def test_welch_is_scipys_welch(a, b) -> None:
    a, b = np.array(a), np.array(b)
    p = welch_p(a.mean(), a.var(ddof=1), a.size, b.mean(), b.var(ddof=1), b.size)
    if a.var() < 1e-6 or b.var() < 1e-6:  # near-constant arms: SciPy's float noise
        return
    ref = sps.ttest_ind(a, b, equal_var=False).pvalue
    assert p == pytest.approx(ref, rel=1e-6, abs=1e-12)


def test_welch_of_constant_arms() -> None:
    assert welch_p(1.0, 0.0, 5, 1.0, 0.0, 5) == 1.0
    assert welch_p(1.0, 0.0, 5, 2.0, 0.0, 5) == 0.0
    assert np.isnan(welch_p(1.0, np.nan, 1, 2.0, 1.0, 5))


# --------------------------------------------------------------------------------------------
# Hand-worked pieces
# --------------------------------------------------------------------------------------------


def test_weeks_to_power_interpolates_between_horizons() -> None:
    """0.7 at 13 weeks, 0.9 at 26: 80% halfway, at 19.5 weeks."""
    curve = pd.DataFrame(
        {
            "comparison": ["a"] * 5 + ["b"] * 5 + ["c"] * 5,
            "weeks": [4, 8, 13, 26, 52] * 3,
            "power": [0.2, 0.5, 0.7, 0.9, 1.0, 0.85, 0.9, 1, 1, 1, 0.1, 0.2, 0.3, 0.4, 0.79],
        }
    )
    got = weeks_to_power(curve).set_index("comparison")
    assert got.loc["a", "weeks"] == pytest.approx(19.5)
    assert got.loc["a", "text"] == "19.5"
    assert (got.loc["b", "weeks"], got.loc["b", "text"]) == (4.0, "4 or fewer")
    assert math.isnan(got.loc["c", "weeks"]) and got.loc["c", "text"] == "more than 52"


def test_outcome_matrix_counts_from_the_start_to_each_horizon() -> None:
    """Start at day 7; horizons of 1 and 2 weeks end at 14 and 21. Account 0: opportunity at
    10, won at 18 (500); 1: opportunity at 3 (before the start), won at 20 (900); 2: none."""
    outcomes = pd.DataFrame(
        {
            "t_opportunity": [10.0, 3.0, np.nan],
            "t_won": [18.0, 20.0, np.nan],
            "value": [500.0, 900.0, 0.0],
        }
    )
    opp = outcome_matrix(outcomes, "opportunities", 7.0, [1, 2])
    assert opp.tolist() == [[1, 1], [0, 0], [0, 0]]
    assert outcome_matrix(outcomes, "wins", 7.0, [1, 2]).tolist() == [[0, 1], [0, 1], [0, 0]]
    rev = outcome_matrix(outcomes, "revenue", 7.0, [1, 2])
    assert rev.tolist() == [[0, 500], [0, 900], [0, 0]]


def test_stratified_assignment_splits_each_tier() -> None:
    """20 accounts of tier 1 and 10 of tier 2, split 0.5 / 0.3 / 0.2: 10 / 6 / 4 and 5 / 3 / 2."""
    accounts = pd.DataFrame({"account_id": np.arange(30), "tier": [1] * 20 + [2] * 10})
    arm = assign_arms(accounts, (0.5, 0.3, 0.2), np.random.default_rng(3), "tier")
    counts = pd.crosstab(accounts["tier"], arm)
    assert counts.loc[1].to_dict() == {"candidate": 10, "holdout": 4, "incumbent": 6}
    assert counts.loc[2].to_dict() == {"candidate": 5, "holdout": 2, "incumbent": 3}
    again = assign_arms(accounts, (0.5, 0.3, 0.2), np.random.default_rng(3), "tier")
    assert (arm == again).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 200), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_every_account_gets_one_arm_near_its_share(n, tiers, seed) -> None:
    accounts = pd.DataFrame({"account_id": np.arange(n), "tier": np.arange(n) % tiers + 1})
    split = (0.45, 0.45, 0.10)
    arm = assign_arms(accounts, split, np.random.default_rng(seed), "tier")
    assert set(arm) <= {"candidate", "incumbent", "holdout"} and len(arm) == n
    for _, members in accounts.groupby("tier"):
        got = pd.Series(arm[members.index]).value_counts()
        for name, share in zip(("candidate", "incumbent", "holdout"), split, strict=True):
            assert abs(got.get(name, 0) - share * len(members)) <= 1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0.5,0.5", r"three shares.*\(2 shares\)"),
        ("0.5,0.6,0.1", "sum to 1.2"),
        ("a,b,c", "three shares"),
        ("0,0.9,0.1", "need accounts"),
        ("0.6,0.5,-0.1", "three shares"),
        ("nan,0.5,0.5", "three shares"),
    ],
)
def test_a_bad_split_says_what_is_expected(text, says) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_split(text)


def test_a_split_without_holdout_is_allowed() -> None:
    assert parse_split("0.5,0.5,0") == (0.5, 0.5, 0.0)


def test_arm_sizes_by_hand() -> None:
    assert arm_sizes((0.45, 0.45, 0.10), 300).tolist() == [135, 135, 30]
    # cuts at rint(299.7) = 300 and rint(299.85) = 300: nothing left for the other two arms
    assert arm_sizes((0.999, 0.0005, 0.0005), 300).tolist() == [300, 0, 0]
    assert arm_sizes((0.5, 0.5, 0.0), 7).tolist() == [4, 3, 0]  # rint(3.5) = 4


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_power_interval_is_scipys_wilson_interval(kn) -> None:
    k, n = kn
    low, high = power_interval([k / n], [n])
    ci = sps.binomtest(k, n).proportion_ci(0.95, "wilson")
    assert (float(low[0]), float(high[0])) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_the_power_interval_by_hand() -> None:
    """Wilson's interval of k of n: 0 of 3 reaches z^2/n / (1 + z^2/n) = 1.2805 / 2.2805 =
    0.5615 (the standard error sqrt(p (1 - p) / n) would be 0); 3 of 3 mirrors it; 50 of 100
    is 0.5 -+ 1.96 sqrt(0.25/100 + 1.96^2/40000) / (1 + 1.96^2/100) = 0.404 to 0.596."""
    low, high = power_interval([0.0, 1.0, 0.5], [3, 3, 100])
    assert low == pytest.approx([0.0, 0.4385, 0.4038], abs=1e-4)
    assert high == pytest.approx([0.5615, 1.0, 0.5962], abs=1e-4)


# --------------------------------------------------------------------------------------------
# The whole design on tiny worlds
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(small_scenario):
    return small_scenario("smb", 150)


def test_each_arm_gets_its_own_rule_and_the_holdout_none(tiny) -> None:
    rep = Replica.simulate(tiny, seed=4)
    cand, inc = policies.load_policy("mqa_count"), policies.load_policy("mql_only")
    arm = assign_arms(rep.world.accounts, (0.4, 0.4, 0.2), np.random.default_rng(1))
    res = play_experiment(rep, cand, inc, arm)
    o = res.outcomes
    assert (arm[o["account_id"]] == o["policy"]).all()
    for name, p in (("candidate", cand), ("incumbent", inc)):
        q = rep.handoffs(p)
        mine = q[arm[q["account_id"]] == name]
        got = o[o["policy"] == name].sort_values(["account_id", "t_handoff"])
        assert (
            got["t_handoff"].tolist() == mine.sort_values(["account_id", "time"])["time"].tolist()
        )
    per = account_outcomes(rep, res)
    opportunities, wins, revenue = totals(res)
    assert per["t_opportunity"].notna().sum() == opportunities
    assert per["t_won"].notna().sum() == wins
    assert per["value"].sum() == pytest.approx(revenue)


def test_design_is_reproducible_and_well_formed(tiny) -> None:
    a = design_experiment(tiny, "mqa_count", "mql_only", "0.5,0.4,0.1", "tier", "wins", 3, 5)
    b = design_experiment(tiny, "mqa_count", "mql_only", "0.5,0.4,0.1", "tier", "wins", 3, 5)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == [
        "comparison",
        "weeks",
        "experiments",
        "mean_difference",
        "power",
        "power_se",
        "difference_low",
        "difference_high",
    ]
    assert (a["difference_low"] <= a["mean_difference"] + 1e-12).all()
    assert (a["mean_difference"] <= a["difference_high"] + 1e-12).all()
    assert (a["experiments"] == 3).all()
    assert a["power"].between(0, 1).all()
    no_holdout = design_experiment(tiny, "mqa_count", "mql_only", "0.5,0.5,0", replications=1)
    assert set(no_holdout["comparison"]) == {"candidate - incumbent"}


def test_experiment_seeds_are_distinct_children() -> None:
    seeds = experiment_seeds(0, 50)
    flat = [s for pair in seeds for s in pair]
    assert len(set(flat)) == 100
    assert experiment_seeds(0, 3) == seeds[:3]


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"metric": "pipeline"}, "--metric"),
        ({"stratify": "region"}, "--stratify"),
        ({"replications": 0}, "replications"),
        ({"scenario": {"extends": "smb", "rollout": {"go_live_day": 350}}}, "shorter than 4"),
    ],
)
def test_bad_design_arguments_say_what_is_expected(tiny, kwargs, says) -> None:
    args = {"scenario": tiny, "candidate": "mqa_count", **kwargs}
    with pytest.raises(ConfigError, match=says):
        design_experiment(**args)


# --------------------------------------------------------------------------------------------
# Plain references and no look-ahead
# --------------------------------------------------------------------------------------------


def plain_outcome(row: dict, metric: str, start: float, weeks: int) -> float:
    """One account's outcome at one horizon, written out."""
    end = start + 7 * weeks
    if metric == "opportunities":
        t = row["t_opportunity"]
        return 1.0 if t == t and start <= t < end else 0.0
    t = row["t_won"]
    if not (t == t and start <= t < end):
        return 0.0
    return 1.0 if metric == "wins" else row["value"]


times = st.one_of(st.just(math.nan), st.floats(-30.0, 400.0))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(times, times, st.floats(0.0, 1e5)), min_size=1, max_size=20),
    st.sampled_from(["opportunities", "wins", "revenue"]),
    st.floats(0.0, 40.0),
)
def test_outcome_matrix_is_the_plain_count(rows, metric, start) -> None:
    outcomes = pd.DataFrame(rows, columns=["t_opportunity", "t_won", "value"])
    weeks = [4, 8, 13, 26, 52]
    got = outcome_matrix(outcomes, metric, start, weeks)
    for i, row in enumerate(outcomes.to_dict("records")):
        assert got[i].tolist() == [plain_outcome(row, metric, start, w) for w in weeks]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.floats(-1e4, 1e4)), min_size=1, max_size=30))
def test_arm_stats_are_the_plain_mean_and_variance(rows) -> None:
    arm = np.array([a for a, _ in rows])
    values = np.array([v for _, v in rows])
    got = arm_stats(values[:, None], arm, [9]).set_index("arm")
    for name in sorted(set(arm.tolist())):
        mine = [v for a, v in rows if a == name]
        assert got.loc[name, "n"] == len(mine)
        assert got.loc[name, "mean"] == pytest.approx(statistics.fmean(mine), abs=1e-9)
        if len(mine) > 1:
            ref = statistics.variance(mine)
            assert got.loc[name, "var"] == pytest.approx(ref, rel=1e-9, abs=1e-6)
        else:
            assert math.isnan(got.loc[name, "var"])


def truncated(rep: Replica, cut: float) -> Replica:
    """The world of ``rep`` with the touches after ``cut`` removed (its truth unchanged)."""
    world = dataclasses.replace(
        rep.world, events=rep.world.events[rep.world.events["time"] <= cut].reset_index(drop=True)
    )
    log = sim.EventLog.from_world(world)
    return Replica(world, log, policies.Frame(log))


@pytest.mark.parametrize("weeks", [8, 26])
def test_an_outcome_at_a_horizon_uses_no_touch_after_it(small_scenario, weeks) -> None:
    """Every arm's outcomes up to ``weeks`` are the same when the world's touches after that
    horizon are removed: the experiment's reading at a horizon does not look ahead. (This
    world has 3 opportunities by week 8; 13, a win, by week 26.)"""
    rep = Replica.simulate(small_scenario("smb", 400), seed=8)
    cand, inc = policies.load_policy("mqa_count"), policies.load_policy("mql_scored")
    arm = assign_arms(rep.world.accounts, (0.45, 0.45, 0.10), np.random.default_rng(2))
    cut = 7.0 * weeks
    short = truncated(rep, cut)
    for metric in ("opportunities", "wins", "revenue"):
        full_m = outcome_matrix(
            account_outcomes(rep, play_experiment(rep, cand, inc, arm)), metric, 0.0, [weeks]
        )
        short_m = outcome_matrix(
            account_outcomes(short, play_experiment(short, cand, inc, arm)), metric, 0.0, [weeks]
        )
        np.testing.assert_array_equal(full_m, short_m)


@pytest.mark.slow
def test_an_a_a_experiment_rejects_at_about_the_level(small_scenario) -> None:
    """The same rule on both arms: every rejection is a false positive, so the power at a
    horizon is the test's size, 5% (a little less where counts are small: the z-test is then
    conservative). 150 experiments: Monte-Carlo s.e. 0.018; the bounds are 3 s.e. around 5%."""
    sc = small_scenario("smb", 600)
    curve = design_experiment(sc, "mql_only", "mql_only", "0.5,0.5,0", None, "opportunities", 150)
    at_52 = curve[curve["weeks"] == 52].iloc[0]
    assert 0.0 <= at_52["power"] <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 150)
    assert abs(at_52["mean_difference"]) < 0.01
