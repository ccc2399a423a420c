"""The verdict on constructed comparisons: hand-made tidy rows, so every expected figure is
worked out here by hand (Student t, t_{0.975} with 2 degrees of freedom = 4.303)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from scipy import stats
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.errors import ConfigError
from sim.experiment import recommend as rec
from sim.experiment.compare import Comparison
from sim.experiment.verdict import _weeks_over, caveat, verdict
from sim.experiment.verdict_sweep import recommendation_text
from sim.report.comparison import build_report

SMALL = {"accounts": {"count": 150}}
SCENARIO = sim.load_scenario("smb", overrides=SMALL)
T2 = 4.303  # t_{0.975}, 2 degrees of freedom (published tables)


def comparison(values: dict[tuple[str, str], list[float]], baseline="A", handoffs=None):
    """A Comparison of the policies in ``values`` ((policy, metric) -> one value a world)."""
    rows = [
        {"policy": p, "replication": r, "metric": m, "value": v}
        for (p, m), vs in values.items()
        for r, v in enumerate(vs)
    ]
    policies = list(dict.fromkeys(p for p, _ in values))
    n = max(len(vs) for vs in values.values())
    return Comparison(
        pd.DataFrame(rows),
        SCENARIO,
        policies,
        0,
        list(range(n)),
        baseline=baseline,
        handoffs=handoffs if handoffs is not None else pd.DataFrame(),
    )


def policy(name, wins, load=(5.0, 5.0, 5.0), precision=(0.9, 0.9, 0.9), per_week=(3, 3, 3)):
    """The metrics the verdict reads for one policy, one value a world."""
    return {
        (name, "total_wins"): list(wins),
        (name, "weekly_load_p90"): list(load),
        (name, "precision"): list(precision),
        (name, "handoffs_per_week"): [float(x) for x in per_week],
        (name, "recall"): [0.8] * len(wins),
        (name, "sales_hours"): [100.0] * len(wins),
        (name, "false_handoff_hours"): [10.0] * len(wins),
        (name, "weeks_over_capacity"): [0.0] * len(wins),
    }


def test_a_clear_winner():
    """B - A total wins [5, 6, 7]: mean 6, sd 1, half-width 4.303 / sqrt(3) = 2.484, so the
    CI [3.5, 8.5] excludes 0."""
    c = comparison({**policy("A", [10, 11, 12]), **policy("B", [15, 17, 19])})
    v = verdict(c, capacity=24)
    assert v.chosen == "B" and v.against == "A" and v.baseline == "A"
    assert v.diff == pytest.approx(6.0)
    assert v.ci_low == pytest.approx(6 - T2 / math.sqrt(3), abs=1e-3)
    assert v.ci_high == pytest.approx(6 + T2 / math.sqrt(3), abs=1e-3)
    assert v.distinguishable and v.n == 3
    text = v.text()
    assert text.startswith("Verdict: B has the highest mean total wins (17.0 deals)")
    assert "+6.0 deals [+3.5, +8.5]" in text
    assert "distinguishable from zero" in text and "not distinguishable" not in text
    assert "3.0 handoffs a week (5.0 in the p90 week against a capacity of 24.0)" in text
    assert 2 <= text.count(". ") + 1 <= 4  # 2-4 sentences


def test_a_tie_within_the_ci():
    """B - A [2, -1, 2]: mean 1, sd sqrt(3), half-width 4.303: the CI [-3.3, +5.3] holds 0."""
    c = comparison({**policy("A", [10, 11, 12]), **policy("B", [12, 10, 14])})
    v = verdict(c, capacity=24)
    assert v.chosen == "B"
    assert v.diff == pytest.approx(1.0)
    assert v.ci_low == pytest.approx(1 - T2, abs=1e-3)
    assert not v.distinguishable
    assert "+1.0 deals [-3.3, +5.3]" in v.text()
    assert "not distinguishable from zero" in v.text()


def test_a_winner_that_breaks_capacity_is_ruled_out():
    """C wins most but its p90 week (31) is over the capacity of 24: B is chosen, C named."""
    c = comparison(
        {
            **policy("A", [10, 11, 12]),
            **policy("B", [15, 17, 19]),
            **policy("C", [30, 31, 32], load=(30, 31, 32)),
        }
    )
    v = verdict(c, capacity=24)
    assert v.chosen == "B"
    assert v.ruled_out == {"C": "p90 week 31.0 over the capacity of 24.0"}
    assert "ruled out: C (p90 week 31.0 over the capacity of 24.0)" in v.text()


def test_capacity_defaults_to_the_scenarios_sdr_capacity():
    cap = SCENARIO.sales.capacity_per_week
    c = comparison(
        {**policy("A", [1, 1, 1], load=[cap - 1] * 3), **policy("B", [5, 5, 5], load=[cap + 1] * 3)}
    )
    v = verdict(c)
    assert v.capacity == cap and v.chosen == "A" and list(v.ruled_out) == ["B"]


def test_precision_floor_rules_out_and_nothing_feasible():
    c = comparison(
        {
            **policy("A", [10, 11, 12], precision=(0.4, 0.4, 0.4)),
            **policy("B", [15, 17, 19], load=(30, 30, 30)),
        }
    )
    v = verdict(c, capacity=24, min_precision=0.5)
    assert v.chosen is None and v.against is None
    assert v.ruled_out == {
        "A": "precision 0.40 under the floor of 0.5",
        "B": "p90 week 30.0 over the capacity of 24.0",
    }
    text = v.text()
    assert text.startswith("Verdict: no policy fits within capacity")
    assert "precision floor of 0.5" in text and "A (precision 0.40" in text


def test_a_ruled_out_baseline_is_still_the_reference_and_said_to_be_out():
    c = comparison({**policy("A", [10, 11, 12], load=(30, 30, 30)), **policy("B", [8, 9, 10])})
    v = verdict(c, capacity=24)
    assert (v.chosen, v.against, v.diff) == ("B", "A", -2.0)
    assert v.distinguishable  # -2 in every world: the CI is the point -2
    assert "Against the baseline A (itself ruled out), paired on the same 3 worlds: -2.0" in (
        v.text()
    )


def test_one_replication_claims_no_difference():
    c = comparison({**policy("A", [10]), **policy("B", [20])})
    v = verdict(c, capacity=24)
    assert v.chosen == "B" and v.n == 1 and v.diff == 10.0
    assert not v.distinguishable
    text = v.text()
    assert "+10.0 deals on one world, with no confidence interval: no difference can be " in text
    assert "distinguishable" not in text


def test_the_baseline_chosen_is_paired_against_the_best_alternative():
    """A is the baseline and best; B (9 a world) is the best other feasible policy."""
    c = comparison(
        {**policy("A", [12, 12, 12]), **policy("B", [9, 9, 9]), **policy("C", [1, 2, 3])}
    )
    v = verdict(c, capacity=24)
    assert (v.chosen, v.against) == ("A", "B")
    assert v.diff == 3.0 and v.ci_low == v.ci_high == 3.0  # no spread: the CI is a point
    assert v.distinguishable
    assert "It is the baseline; against the best feasible alternative, B" in v.text()


def test_a_lower_is_better_objective_picks_the_least():
    c = comparison({**policy("A", [10, 11, 12]), **policy("B", [15, 17, 19])})
    c.tidy.loc[(c.tidy["policy"] == "B") & (c.tidy["metric"] == "false_handoff_hours"), "value"] = 4
    v = verdict(c, objective="false_handoff_hours", capacity=24)
    assert v.chosen == "B" and v.diff == -6.0
    assert v.text().startswith("Verdict: B has the lowest mean hours on false handoffs")


@pytest.mark.parametrize("objective", ["handoffs", "no_such_metric"])
def test_an_objective_without_a_direction_is_a_config_error(objective):
    c = comparison(policy("A", [1, 2, 3]))
    with pytest.raises(ConfigError, match=f"objective '{objective}'.*total_wins"):
        verdict(c, objective=objective)


def test_without_a_weekly_load_the_mean_week_is_bounded():
    values = policy("A", [10, 11, 12], per_week=(30, 30, 30))
    del values[("A", "weekly_load_p90")]
    values.update(policy("B", [1, 1, 1], per_week=(2, 2, 2)))
    del values[("B", "weekly_load_p90")]
    v = verdict(comparison(values), capacity=24)
    assert v.load_metric == "handoffs_per_week"
    assert v.chosen == "B" and v.ruled_out == {
        "A": "handoffs a week 30.0 over the capacity of 24.0"
    }
    assert "in the average week" in v.text()


def test_a_policy_without_a_value_of_the_objective_is_ruled_out_and_said_so():
    """Month precision is empty for a lead-level rule: it cannot be chosen on it."""
    values = {**policy("A", [1, 1, 1]), **policy("B", [1, 1, 1])}
    values[("A", "month_precision")] = [math.nan] * 3
    values[("B", "month_precision")] = [0.1, 0.2, 0.3]
    v = verdict(comparison(values), objective="month_precision", capacity=24)
    assert v.chosen == "B"
    assert v.ruled_out == {"A": "no value for month precision"}


def test_only_one_policy():
    v = verdict(comparison(policy("A", [1, 2, 3])), capacity=24)
    assert v.chosen == "A" and v.against is None
    assert "nothing to pair it against" in v.text()


# --- the caveat rules, one by one and in order ---


def test_caveat_rules_in_order():
    base = {"handoffs_per_week": 3.0, "weeks_over_capacity": 0.0, "precision": 0.9}
    base |= {"recall": 0.9, "month_precision": 0.2, "month_base_rate": 0.01}
    assert caveat(base, -10.0, 24) is None
    assert caveat(base | {"handoffs_per_week": 0.3}, -10, 24) == (
        "hands off 0.30 a week: almost never fires"
    )
    assert caveat(base | {"weeks_over_capacity": 0.14}, -10, 24) == (
        "14% of its weeks exceed the capacity of 24.0: it floods at times"
    )
    early = caveat(base | {"month_precision": 0.015}, -10, 24)
    assert early is not None and "1.5% of the time against a base rate of 1.0%" in early
    assert "fires before most journeys start" in early
    assert caveat(base, -90.0, 24) == (
        "its median true handoff comes 90 days before the account is sales-ready: fires "
        "before most journeys reach intent"
    )
    assert caveat(base | {"precision": 0.3}, -10, 24) == (
        "precision 0.30: 70% of its handoffs are of accounts not in a buying journey"
    )
    assert caveat(base | {"recall": 0.52}, -10, 24) == (
        "recall 0.52: 48% of the accounts that buy never get a true handoff from it"
    )
    # the first rule wins: rare and low recall -> rare
    assert caveat(base | {"handoffs_per_week": 0.1, "recall": 0.1}, -10, 24).startswith(
        "hands off 0.10"
    )


def test_the_timing_caveat_reads_the_true_handoffs_of_the_chosen_policy():
    """B's true handoffs come 100, 80 and 70 days before sales-ready (median 80); its false
    one (-500) and A's are not counted."""
    h = pd.DataFrame(
        {
            "policy": ["B", "B", "B", "B", "A"],
            "true_handoff": [True, True, True, False, True],
            "vs_sales_ready_days": [-100.0, -80.0, -70.0, -500.0, -1.0],
        }
    )
    c = comparison({**policy("A", [1, 1, 1]), **policy("B", [5, 6, 7])}, handoffs=h)
    assert verdict(c, capacity=24).caveat == (
        "its median true handoff comes 80 days before the account is sales-ready: fires "
        "before most journeys reach intent"
    )


# --- a plain reference on random comparisons ---


def reference(c: Comparison, cap: float, floor: float | None):
    """The verdict's decision by hand: means per policy from the tidy rows, the feasible
    ones, the first with the largest mean total wins, and the t interval of its paired
    difference against the baseline (or the runner-up)."""
    t = c.tidy
    mean = {(p, m): g["value"].mean() for (p, m), g in t.groupby(["policy", "metric"])}
    ok = [
        p
        for p in c.policies
        if mean[(p, "weekly_load_p90")] <= cap
        and (floor is None or mean[(p, "precision")] >= floor)
        and not math.isnan(mean[(p, "total_wins")])
    ]
    if not ok:
        return None, None, False
    best = max(ok, key=lambda p: (mean[(p, "total_wins")], -c.policies.index(p)))
    others = [p for p in ok if p != best]
    against = (
        c.baseline
        if best != c.baseline
        else (
            max(others, key=lambda p: (mean[(p, "total_wins")], -c.policies.index(p)))
            if others
            else None
        )
    )
    if against is None:
        return best, None, False
    w = t[t["metric"] == "total_wins"].pivot(index="replication", columns="policy", values="value")
    d = (w[best] - w[against]).dropna().to_numpy()  # worlds where both have a value
    if len(d) < 2:
        return best, against, False
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    return best, against, bool(d.mean() - half > 0 or d.mean() + half < 0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_policies=st.integers(1, 4),
    reps=st.integers(1, 4),
    data=st.data(),
    floor=st.sampled_from([None, 0.5]),
)
def test_verdict_matches_a_plain_reference(n_policies, reps, data, floor):
    noise = st.integers(0, 1).map(float) | st.just(math.nan)  # small noise: clear differences
    values = {}
    for i in range(n_policies):
        level = data.draw(st.integers(0, 20))
        wins = [level + x for x in data.draw(st.lists(noise, min_size=reps, max_size=reps))]
        load = [data.draw(st.sampled_from([10.0, 30.0]))] * reps
        prec = [data.draw(st.sampled_from([0.3, 0.9]))] * reps
        values |= policy(f"P{i}", wins, load=load, precision=prec, per_week=[3] * reps)
    c = comparison(values, baseline="P0")
    v = verdict(c, capacity=24, min_precision=floor)
    chosen, against, distinct = reference(c, 24, floor)
    assert (v.chosen, v.against, v.distinguishable) == (chosen, against, distinct)
    text = v.text()
    assert 2 <= len(re.split(r"\.\s", text.strip())) <= 4, text  # 2-4 sentences
    if not v.distinguishable:
        assert ", distinguishable from zero" not in text


# --- a sweep's recommendation in one sentence ---


def sweep_rows(t2=(2, 4, 4, 5)) -> pd.DataFrame:
    """Two scenario samples x two worlds; variants t=1 (wins 4, 5, 6, 7), t=2 (wins ``t2``)
    and t=3 (wins 20 a world but a p90 week of 40)."""
    rows = []
    wins = {"t=1": [4, 5, 6, 7], "t=2": list(t2), "t=3": [20, 20, 20, 20]}
    load = {"t=1": 6.0, "t=2": 3.0, "t=3": 40.0}
    for variant, ws in wins.items():
        for cell, w in enumerate(ws):
            sample, replication = divmod(cell, 2)
            for metric, value in (
                ("total_wins", float(w)),
                ("weekly_load_p90", load[variant]),
                ("handoffs_per_week", load[variant] / 2),
                ("precision", 0.8),
            ):
                rows.append(
                    {
                        "sample": sample,
                        "replication": replication,
                        "policy": "mql",
                        "variant": variant,
                        "tier": -1,
                        "metric": metric,
                        "value": value,
                    }
                )
    return pd.DataFrame(rows)


def test_recommendation_text_names_the_variant_its_margin_and_cost():
    """t=1 - t=2 per world [2, 1, 2, 2]: mean 1.75, sd 0.5, half-width 3.182 x 0.5 / 2 = 0.80
    (t_{0.975}, 3 degrees of freedom); t=3 is over the capacity of 24."""
    df = sweep_rows()
    r = rec.recommend(df, 24, None, "total_wins")
    assert (r["policy"], r["variant"]) == ("mql", "t=1")
    text = recommendation_text(df, r, 24, None)
    assert text == (
        "Verdict: mql t=1 (total wins 5.5 deals) leads the best feasible alternative, mql t=2, "
        "by +1.8 deals [+1.0, +2.5] (on only 4 paired cells, 2 scenario samples x 2 "
        "replications: sweep more before relying on it). It costs 6.0 handoffs in the p90 week "
        "against a capacity of 24.0, precision 0.80."
    )
    no_cap = recommendation_text(df, rec.recommend(df, None, None, "total_wins"), None, None)
    assert "(no capacity given: pass --max-handoffs-per-week)" in no_cap
    # a sweep stores the hours on false handoffs, not all sales hours: t=1's 2, 2, 4, 4 (mean 3)
    hours = df[(df["metric"] == "precision") & (df["variant"] == "t=1")]
    hours = hours.assign(metric="false_handoff_hours", value=[2.0, 2.0, 4.0, 4.0])
    with_hours = pd.concat([df, hours], ignore_index=True)
    text = recommendation_text(with_hours, r, 24, None)
    assert text.endswith("precision 0.80 and 3.0 sales hours on false handoffs."), text
    none = rec.recommend(df, 1, None, "total_wins")
    assert recommendation_text(df, none, 1, None).startswith("Verdict: no variant meets")


def test_recommendation_text_says_nothing_of_few_cells_from_ten_on():
    """The same margins on 5 scenario samples x 2 worlds (10 cells): t=1 - t=2 per world
    [2, 1, 2, 2, 2, 1, 2, 2, 2, 1], no caveat; on 9 cells (the tenth dropped), the caveat."""
    df = sweep_rows()
    more = [df.assign(sample=df["sample"] + 2 * k) for k in range(3)]
    big = pd.concat(more, ignore_index=True)
    big = big[big["sample"] < 5]
    r = rec.recommend(big, 24, None, "total_wins")
    assert "paired cells" not in recommendation_text(big, r, 24, None)
    nine = big[~((big["sample"] == 4) & (big["replication"] == 1))]
    r9 = rec.recommend(nine, 24, None, "total_wins")
    text = recommendation_text(nine, r9, 24, None)
    assert "(on only 9 paired cells, 5 scenario samples x 2 replications:" in text


def test_recommendation_text_says_a_tie():
    """t=1 - t=2 per world [-1, 1, -1, 1]: mean 0, sd 1.155, half-width 3.182 x 1.155 / 2 =
    1.84: tied."""
    df = sweep_rows(t2=(5, 4, 7, 6))
    r = rec.recommend(df, 24, None, "total_wins")
    text = recommendation_text(df, r, 24, None)
    assert "by 0.0 deals [-1.8, +1.8], not distinguishable from zero (tied)" in text


def test_recommendation_text_minimises_a_lower_is_better_objective():
    """The wins of sweep_rows read as hours on false handoffs: t=1 4, 5, 6, 7 (mean 5.5), t=2
    2, 4, 4, 5 (mean 3.75); t=3 over the capacity. Lower is better: t=2, by t=2 - t=1 per world
    [-2, -1, -2, -2] (the first test's margin, negated); its sales hours 10 a world."""
    df = sweep_rows()
    df["metric"] = df["metric"].replace({"total_wins": "false_handoff_hours"})
    hours = df[df["metric"] == "false_handoff_hours"].assign(metric="sales_hours", value=10.0)
    df = pd.concat([df, hours], ignore_index=True)
    r = rec.recommend(df, 24, None, "false_handoff_hours")
    assert (r["variant"], r["mean"]) == ("t=2", 3.75)
    text = recommendation_text(df, r, 24, None)
    assert text.startswith(
        "Verdict: mql t=2 (hours on false handoffs 3.8 hours) differs (lower is better) from the "
        "best feasible alternative, mql t=1, by -1.8 hours [-2.5, -1.0] (on only 4 paired cells"
    ), text
    assert text.endswith("precision 0.80 and 10.0 sales hours, 3.8 of them on false handoffs.")


def test_recommendation_text_says_how_many_variants_tie():
    """t=2 given t=1's wins: both 5.5 a world; t=1 (listed first) is chosen, tied with 1."""
    df = sweep_rows(t2=(4, 5, 6, 7))
    r = rec.recommend(df, 24, None, "total_wins")
    assert (r["variant"], r["tied_with"], r["best_in_samples"]) == ("t=1", 1, 2)
    text = recommendation_text(df, r, 24, None)
    assert "It is tied on the mean with 1 other variant; ties go to the variant listed" in text


# --- the command line ---


def test_qualsim_run_prints_the_verdict_before_the_first_table(tmp_path: Path):
    path = tmp_path / "small.yaml"
    path.write_text("extends: smb\naccounts: {count: 150}\n", encoding="utf-8")
    args = ["run", str(path), "-r", "2", "-p", "mql_only", "-p", "mqa_count", "--workers", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Verdict:" in text
    assert text.index("Verdict:") < text.index("Policies on the same simulated worlds")


def test_the_report_opens_with_the_verdict():
    cmp = sim.compare("smb", ["mql_only", "mqa_count"], replications=2, overrides=SMALL)
    page = build_report(cmp)
    first_h2 = page.index("<h2>")
    assert page[first_h2:].startswith("<h2>Verdict</h2>")
    section = page[first_h2 : page.index("<h2>", first_h2 + 1)]
    assert section.count("<p") == 1 and "highest mean total wins" in section


# --- review 16: the verdict under the week the capacity bounds, and its wording ---


def test_the_capacity_bounds_the_chosen_week():
    """A's p90 week is 5 but its mean week 30, its busiest 40; B's are 2, 2 and 3. Under a
    capacity of 24, A (more wins) fits on the p90 week only."""
    a = policy("A", [10, 11, 12], per_week=(30, 30, 30))
    a[("A", "weekly_load_max")] = [40.0] * 3
    b = policy("B", [1, 1, 1], load=(2, 2, 2), per_week=(2, 2, 2))
    b[("B", "weekly_load_max")] = [3.0] * 3
    c = comparison({**a, **b})
    assert verdict(c, capacity=24).chosen == "A"
    mean = verdict(c, capacity=24, capacity_quantile=None)
    assert mean.chosen == "B"
    assert mean.ruled_out == {"A": "handoffs a week 30.0 over the capacity of 24.0"}
    busiest = verdict(c, capacity=24, capacity_quantile=1.0)
    assert busiest.chosen == "B"
    assert busiest.ruled_out == {"A": "busiest week 40.0 over the capacity of 24.0"}
    assert "(3.0 in the busiest week against a capacity of 24.0)" in busiest.text()


def test_the_only_policy_within_the_limits_is_not_called_the_only_one_compared():
    c = comparison({**policy("A", [1, 2, 3]), **policy("B", [9, 9, 9], load=(50, 50, 50))})
    text = verdict(c, capacity=24).text()
    assert "It is the only policy within the limits, so there is nothing to pair" in text
    assert "only policy compared" not in text


def test_an_objective_typo_gets_a_did_you_mean():
    with pytest.raises(ConfigError, match="did you mean 'total_wins'"):
        verdict(comparison(policy("A", [1, 2, 3])), objective="total_win")


def test_the_report_judges_by_the_stored_limits_unless_given_others():
    """A has more wins but more false-handoff hours (10 against B's 4) and a p90 week of 5
    (B: 2)."""
    c = comparison({**policy("A", [10, 11, 12]), **policy("B", [1, 1, 1], load=(2, 2, 2))})
    c.tidy.loc[(c.tidy["policy"] == "B") & (c.tidy["metric"] == "false_handoff_hours"), "value"] = 4
    c.meta["limits"] = {"objective": "false_handoff_hours"}
    verdict_of = re.compile(r'<p class="verdict">(.*?)</p>')
    text = verdict_of.search(build_report(c)).group(1)
    assert text.startswith("<strong>B</strong> has the lowest mean hours on false handoffs")
    text = verdict_of.search(build_report(c, limits={"objective": "total_wins"})).group(1)
    assert text.startswith("<strong>A</strong> has the highest mean total wins")
    # a stored capacity under A's p90 week of 5 rules it out, in the header too
    c.meta["limits"] = {"max_handoffs_per_week": 4.0}
    page = build_report(c)
    assert verdict_of.search(page).group(1).startswith("<strong>B</strong>")
    assert "the verdict's capacity 4 handoffs in the p90 week" in page
    # --capacity-quantile mean bounds the mean week (3 a week for both: both fit)
    page = build_report(c, limits={"capacity_quantile": None})
    assert verdict_of.search(page).group(1).startswith("<strong>A</strong>")
    assert "the verdict's capacity 4 handoffs in the average week" in page


def weekly_rows(policy_name: str, queued: dict[int, list[int]]) -> list[dict]:
    """Whole weeks (7 days) of queue-joining handoffs, replication -> one count a week, with
    the scenario's capacity (as the simulation writes it)."""
    cap = SCENARIO.sales.capacity_per_week
    return [
        {"replication": r, "policy": policy_name, "week": k, "start_day": 7.0 * k, "days": 7.0,
         "handoffs": q, "queued": q, "worked": q, "expired": 0, "capacity": cap}
        for r, qs in queued.items()
        for k, q in enumerate(qs)
    ]  # fmt: skip


def test_the_flood_caveat_counts_the_weeks_over_the_verdicts_capacity():
    """B's weeks: world 0 [12, 5], world 1 [3, 4]. Against the verdict's capacity of 10 half
    the weeks of world 0 are over, none of world 1: 25% on average, over the 5% rule (against
    the scenario's 36, none: the stored weeks_over_capacity is 0)."""
    c = comparison({**policy("A", [1, 1]), **policy("B", [2, 2])})
    assert SCENARIO.sales.capacity_per_week > 12
    c.weekly = pd.DataFrame(weekly_rows("B", {0: [12, 5], 1: [3, 4]}))
    v = verdict(c, capacity=10)
    assert v.chosen == "B" and v.cost["weeks_over_capacity"] == pytest.approx(0.25)
    assert "Caveat: 25% of its weeks exceed the capacity of 10.0: it floods at times." in v.text()
    assert verdict(c).cost["weeks_over_capacity"] == 0.0


def test_weeks_over_the_scenarios_capacity_agree_with_the_stored_metric():
    """Recounted from the weekly table against the scenario's capacity, the share is the
    simulation's own weeks_over_capacity; against a capacity no week reaches, it is 0."""
    slow_sdrs = {**SMALL, "sales": {"hours_per_handoff": 400}}  # 0.09 a week: some weeks over
    c = sim.compare("smb", ["mql_only", "mqa_count"], replications=2, overrides=slow_sdrs)
    stored = c.summary(["weeks_over_capacity"]).set_index("policy")["mean"]
    cap = c.scenario.sales.capacity_per_week
    assert (stored > 0).all()
    for p in c.policies:
        assert _weeks_over(c, p, cap, math.nan) == pytest.approx(stored[p])
        assert _weeks_over(c, p, 1e9, math.nan) == 0.0


def test_the_report_of_one_world_says_so_and_keeps_the_capacity_out_of_the_metrics():
    one = {"load": (5.0,), "precision": (0.9,), "per_week": (3,)}
    c = comparison({**policy("A", [10], **one), **policy("B", [1], **one)})
    c.tidy = pd.concat(
        [c.tidy, pd.DataFrame({"policy": ["A", "B"], "replication": [0, 0],
                               "metric": ["capacity_per_week"] * 2, "value": [36.0, 36.0]})]
    )  # fmt: skip
    page = build_report(c)
    assert "2 policies × 1 replication on the same simulated worlds" in page
    assert "Every metric per policy, the value in the one world" in page
    assert "mean over the replications" not in page
    assert "SDR capacity / week" not in page
    assert "unmarked: neither (volume, load, context)" in page
