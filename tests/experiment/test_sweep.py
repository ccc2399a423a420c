"""Tests for threshold sweeps (``sim.sweep``), reading them (``sim.recommend``) and the ``sweep``,
``recommend`` and ``query`` commands.

The store: a sweep killed part-way (``limit``, a writer that dies after some units, a stray
temporary file) and resumed holds exactly the rows of an uninterrupted run; 1 or 2 local
workers and a Dask cluster store identical rows; every row carries its provenance and equals a
direct evaluation of the variant on the same world. The reading: ``recommend``, ``pareto`` and
``sensitivity`` on hand-built results whose answers are known. Bad sweep files, and bad
``recommend`` / ``query`` calls, exit 2 with one paragraph on stderr.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from typer.testing import CliRunner, Result

import policies as pol
import sim
import sim.cli.base as cli
import sim.experiment.sweep.store as store_mod
from sim.cli import app
from sim.config.chain import deep_merge
from sim.errors import ConfigError, QualsimError
from sim.eventlog import EventLog
from sim.experiment.executors import Dask
from sim.experiment.recommend import (
    pareto,
    parse_capacity_quantile,
    recommend,
    recommend_by_tier,
    sensitivity,
    summary,
)
from sim.experiment.replicate import replicate
from sim.experiment.sweep import (
    ROW_COLUMNS,
    STORED_METRICS,
    SweepSpec,
    config_hash,
    load_sweep,
    parse_values,
    results,
    run_sweep,
    run_unit,
    scenario_samples,
    unit_seeds,
    variants,
)
from sim.sales import handoff_metrics
from sim.sales.handoff import play_handoffs

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
KEY = ["sample", "replication", "policy", "variant", "tier", "metric"]

# A small sweep: 2 LHS scenario samples x 2 replications, 4 policy variants, smb world of 120.
SWEEP = {
    "name": "small",
    "scenario": "smb",
    "overrides": {"accounts": {"count": 120}},
    "seed": 7,
    "replications": 2,
    "design": {"kind": "lhs", "samples": 2},
    "uncertain": {"touches.identification_rate": "0.2..0.5"},
    "policies": [
        {"policy": "mqa_count", "grid": {"any.0.unique_contacts": "2..3"}},
        {"policy": "mql_only", "grid": {"threshold": [60, 100]}},
    ],
}
SWEEP_YAML = """\
name: small
scenario: smb
overrides: {accounts: {count: 120}}
seed: 7
replications: 2
design: {kind: lhs, samples: 2}
uncertain:
  touches.identification_rate: 0.2..0.5
policies:
  - policy: mqa_count
    grid:
      any.0.unique_contacts: 2..3
  - policy: mql_only
    grid: {threshold: [60, 100]}
"""
N_UNITS, N_VARIANTS = 4, 4


def spec_of(**changes) -> SweepSpec:
    return SweepSpec.model_validate({**SWEEP, **changes})


def plain(text: str) -> str:
    return ANSI.sub("", text)


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def assert_user_error(result: Result, fragment: str) -> None:
    """Exit 2, no traceback, one paragraph starting 'error:' on stderr naming ``fragment``."""
    stdout, stderr = plain(result.stdout), plain(result.stderr)
    assert result.exit_code == 2, (result.exit_code, stdout, stderr, result.exception)
    assert "Traceback" not in stdout + stderr
    assert stdout == "", stdout
    assert stderr.startswith("error: "), stderr
    assert "\n\n" not in stderr.strip(), "the error must be one paragraph"
    assert fragment in stderr, stderr


def sorted_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY, kind="stable").reset_index(drop=True)


def cell_files(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "cells").glob("s*-r*.parquet"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The small sweep run uninterrupted in this process (read-only for the tests)."""
    out = tmp_path_factory.mktemp("reference")
    counts = run_sweep(spec_of(), out, workers=1)
    assert counts == {"units": N_UNITS, "done_before": 0, "ran": N_UNITS, "rejected": 0}
    return out


@pytest.fixture(scope="module")
def reference_rows(reference: Path) -> pd.DataFrame:
    return sorted_rows(results(reference))


# --- the store ----------------------------------------------------------------------------------


def test_store_layout_and_row_count(reference: Path, reference_rows: pd.DataFrame) -> None:
    assert cell_files(reference) == [
        "s00000-r0000.parquet",
        "s00000-r0001.parquet",
        "s00001-r0000.parquet",
        "s00001-r0001.parquet",
    ]
    meta = json.loads((reference / "sweep.json").read_text(encoding="utf-8"))
    assert meta["config_hash"] == config_hash(spec_of())
    df = reference_rows
    assert list(df.columns[: len(ROW_COLUMNS)]) == ROW_COLUMNS
    assert set(df.columns) == {*ROW_COLUMNS, "u:touches.identification_rate"}
    tiers = sorted(sim.load_scenario("smb").accounts.tiers)
    assert sorted(df["tier"].unique()) == [-1, *tiers]
    assert set(df["metric"]) == set(STORED_METRICS)
    assert len(df) == N_UNITS * N_VARIANTS * (1 + len(tiers)) * len(STORED_METRICS)
    assert not df.duplicated(KEY).any()


def test_rows_carry_their_provenance(reference_rows: pd.DataFrame) -> None:
    spec = spec_of()
    df = reference_rows
    samples = scenario_samples(spec)
    seeds = unit_seeds(spec, len(samples))
    assert (df["config_hash"] == config_hash(spec)).all()
    assert (df["qualsim_version"] == sim.__version__).all()
    assert sim.__version__
    for (s, r), g in df.groupby(["sample", "replication"]):
        assert set(g["world_seed"]) == {int(seeds[s, r])}
        u = g["u:touches.identification_rate"]
        assert set(u) == {samples[s]["touches.identification_rate"]}
    labels = set(zip(df["policy"], df["variant"], df["params"], strict=True))
    assert labels == {
        ("mqa_count", "any.0.unique_contacts=2", json.dumps({"any.0.unique_contacts": 2})),
        ("mqa_count", "any.0.unique_contacts=3", json.dumps({"any.0.unique_contacts": 3})),
        ("mql_only", "threshold=60", json.dumps({"threshold": 60})),
        ("mql_only", "threshold=100", json.dumps({"threshold": 100})),
    }
    # the variants do differ (else the grid did nothing)
    wins = df[(df["tier"] == -1) & (df["metric"] == "handoffs_per_week")]
    assert wins.groupby("variant")["value"].sum().nunique() > 1


def same(e: float, g: float) -> bool:
    return (math.isnan(e) and math.isnan(g)) or e == g


def direct_metrics(world, policy, tiers) -> dict[tuple[int, str], float]:
    """(tier, metric) -> value of ``policy`` on ``world``, evaluated on its own."""
    log = EventLog.from_world(world)
    res = play_handoffs(world, pol.evaluate(policy, log))
    out = {}
    for tier in [-1, *tiers]:
        m = handoff_metrics(world, res, None if tier == -1 else tier)
        out.update({(tier, k): m[k] for k in STORED_METRICS})
    return out


def test_rows_equal_a_direct_evaluation(reference_rows: pd.DataFrame) -> None:
    """Sample 1, replication 0: recompute every stored metric of every variant with simulate +
    evaluate + play_handoffs + handoff_metrics on the same world seed (no shared Frame, no
    policies.sweep), and the all-accounts ones with sim.compare.replicate too."""
    spec = spec_of()
    df = reference_rows
    unit = df[(df["sample"] == 1) & (df["replication"] == 0)]
    seed = int(unit["world_seed"].iloc[0])
    rate = scenario_samples(spec)[1]["touches.identification_rate"]
    over = deep_merge(SWEEP["overrides"], {"touches": {"identification_rate": rate}})
    scenario = sim.load_scenario("smb", overrides=over)
    world = sim.simulate(scenario, seed=seed)
    tiers = sorted(scenario.accounts.tiers)
    cases = [
        ("mqa_count", "any.0.unique_contacts", 2),
        ("mqa_count", "any.0.unique_contacts", 3),
        ("mql_only", "threshold", 60),
        ("mql_only", "threshold", 100),
    ]
    checked = 0
    for name, path, value in cases:
        policy = pol.with_value(pol.load_policy(name), path, value)
        expected = direct_metrics(world, policy, tiers)
        mine = unit[unit["variant"] == f"{path}={value}"]
        assert set(mine["policy"]) == {name}
        got = mine.set_index(["tier", "metric"])["value"]
        assert len(got) == len(expected)
        for key, e in expected.items():
            assert same(e, got[key]), (name, value, key, e, got[key])
            checked += 1
        rows = replicate(scenario, [policy], seed)["metrics"]
        for r in rows:
            if r["metric"] in STORED_METRICS:
                assert same(r["value"], got[(-1, r["metric"])]), (name, value, r)
    assert checked == 4 * (1 + len(tiers)) * len(STORED_METRICS)


def test_two_parameter_grid_equals_a_direct_evaluation() -> None:
    """A grid over two paths (the loop over policies.evaluate, not policies.sweep)."""
    spec = spec_of(
        uncertain={},
        replications=1,
        policies=[
            {
                "policy": "mqa_count",
                "grid": {"any.0.unique_contacts": [2, 4], "window_days": [14, 60]},
            }
        ],
    )
    seed = int(unit_seeds(spec, 1)[0, 0])
    df = run_unit(spec, None, 0, {}, 0, seed)
    world = sim.simulate(sim.load_scenario("smb", overrides=SWEEP["overrides"]), seed=seed)
    tiers = sorted(world.scenario.accounts.tiers)
    assert df["variant"].nunique() == 4
    for (uc, wd), g in df.groupby(df["params"].map(lambda t: tuple(json.loads(t).values()))):
        p = pol.with_value(
            pol.with_value(pol.load_policy("mqa_count"), "any.0.unique_contacts", uc),
            "window_days",
            wd,
        )
        expected = direct_metrics(world, p, tiers)
        got = g.set_index(["tier", "metric"])["value"]
        assert all(same(e, got[k]) for k, e in expected.items()), (uc, wd)


def test_run_unit_returns_the_stored_rows(reference_rows: pd.DataFrame) -> None:
    spec = spec_of()
    samples = scenario_samples(spec)
    seed = int(unit_seeds(spec, len(samples))[0, 1])
    df = run_unit(spec, None, 0, samples[0], 1, seed)
    stored = reference_rows[(reference_rows["sample"] == 0) & (reference_rows["replication"] == 1)]
    pd.testing.assert_frame_equal(sorted_rows(df), sorted_rows(stored), check_exact=True)


def test_kill_and_resume_gives_the_rows_of_an_uninterrupted_run(
    tmp_path: Path, reference_rows: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = spec_of()
    out = tmp_path / "B"
    assert run_sweep(spec, out, workers=1, limit=1) == {
        "units": 4,
        "done_before": 0,
        "ran": 1,
        "rejected": 0,
    }
    assert cell_files(out) == ["s00000-r0000.parquet"]

    # the next run dies after storing one more unit, in the middle of writing the second:
    # its temporary file is written, the rename never happens
    real = store_mod._write_atomic
    calls = []

    def dying(df: pd.DataFrame, path: Path) -> None:
        calls.append(path.name)
        if len(calls) == 2:
            df.iloc[:3].to_parquet(path.with_name(f".{path.name}.99999.partial"), index=False)
            raise KeyboardInterrupt("killed")
        real(df, path)

    monkeypatch.setattr(store_mod, "_write_atomic", dying)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, out, workers=1)
    monkeypatch.setattr(store_mod, "_write_atomic", real)
    assert cell_files(out) == ["s00000-r0000.parquet", "s00000-r0001.parquet"]
    # and an older crash left garbage under another temporary name
    write(out / "cells" / ".s00001-r0001.parquet.123.partial", "not parquet")

    pd.testing.assert_frame_equal(
        sorted_rows(results(out)),
        sorted_rows(reference_rows[reference_rows["sample"] == 0]),
        check_exact=True,
    )
    counts = run_sweep(spec, out, workers=1)
    assert counts == {"units": 4, "done_before": 2, "ran": 2, "rejected": 0}
    assert len(cell_files(out)) == 4
    got = results(out)
    assert not got.duplicated(KEY).any()
    pd.testing.assert_frame_equal(sorted_rows(got), reference_rows, check_exact=True)
    # a finished sweep runs nothing more
    assert run_sweep(spec, out, workers=1) == {
        "units": 4,
        "done_before": 4,
        "ran": 0,
        "rejected": 0,
    }
    pd.testing.assert_frame_equal(sorted_rows(results(out)), reference_rows, check_exact=True)


def test_resume_in_steps_reports_progress(tmp_path: Path, reference_rows: pd.DataFrame) -> None:
    spec = spec_of()
    for step in range(4):
        seen: list[tuple[int, int]] = []
        counts = run_sweep(
            spec, tmp_path, workers=1, limit=1, progress=lambda d, t, seen=seen: seen.append((d, t))
        )
        assert counts == {"units": 4, "done_before": step, "ran": 1, "rejected": 0}
        assert seen[-1] == (step + 1, 4), seen
        assert all(t == 4 and step <= d <= step + 1 for d, t in seen), seen
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    pd.testing.assert_frame_equal(sorted_rows(results(tmp_path)), reference_rows)


def test_two_local_workers_give_identical_rows(
    tmp_path: Path, reference_rows: pd.DataFrame
) -> None:
    counts = run_sweep(spec_of(), tmp_path, workers=2)
    assert counts == {"units": 4, "done_before": 0, "ran": 4, "rejected": 0}
    pd.testing.assert_frame_equal(sorted_rows(results(tmp_path)), reference_rows, check_exact=True)


@pytest.fixture
def dask_client():
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_dask_cluster_gives_identical_rows(
    tmp_path: Path, reference_rows: pd.DataFrame, dask_client
) -> None:
    counts = run_sweep(spec_of(), tmp_path, executor=Dask(client=dask_client))
    assert counts == {"units": 4, "done_before": 0, "ran": 4, "rejected": 0}
    pd.testing.assert_frame_equal(sorted_rows(results(tmp_path)), reference_rows, check_exact=True)


def test_a_folder_of_another_sweep_is_refused(tmp_path: Path) -> None:
    run_sweep(spec_of(), tmp_path, workers=1, limit=1)
    before = cell_files(tmp_path)
    with pytest.raises(QualsimError, match="different sweep"):
        run_sweep(spec_of(seed=8), tmp_path, workers=1)
    assert cell_files(tmp_path) == before


def test_results_of_an_empty_folder(tmp_path: Path) -> None:
    df = results(tmp_path)
    assert df.empty and list(df.columns) == ROW_COLUMNS


def test_unknown_executor(tmp_path: Path) -> None:
    with pytest.raises(QualsimError, match="executor"):
        run_sweep(spec_of(), tmp_path, executor="spark")


def test_tiers_false_stores_all_accounts_only(tmp_path: Path) -> None:
    spec = spec_of(tiers=False, replications=1, design={"kind": "lhs", "samples": 1})
    run_sweep(spec, tmp_path, workers=1)
    df = results(tmp_path)
    assert set(df["tier"]) == {-1}
    assert len(df) == N_VARIANTS * len(STORED_METRICS)


# --- values, samples, seeds, variants -----------------------------------------------------------


def test_parse_values_examples() -> None:
    assert parse_values("2..5", "x") == [2, 3, 4, 5]
    assert parse_values("40..60 by 10", "x") == [40, 50, 60]
    assert parse_values("40..65 by 10", "x") == [40, 50, 60]
    assert parse_values(" -3 .. -1 ", "x") == [-3, -2, -1]
    assert parse_values("4..4", "x") == [4]
    assert parse_values([1, 3], "x") == [1, 3]
    assert parse_values(7, "x") == [7]
    assert parse_values(0.25, "x") == [0.25]
    assert parse_values("0.1..0.3 by 0.1", "x") == [0.1, 0.2, 0.3]
    assert parse_values("0..1 by 0.25", "x") == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert all(type(v) is int for v in parse_values("1..9 by 2", "x"))


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("2..", "expected a list, a number or 'lo..hi [by step]'"),
        ("a..b", "expected a list, a number or 'lo..hi [by step]'"),
        ("5..2", "need lo <= hi and step > 0"),
        ("2..8 by 0", "need lo <= hi and step > 0"),
        ("2..8 by -1", "need lo <= hi and step > 0"),
        ("0.5..2.5", "a range of decimals needs a step"),
        ([], "an empty list"),
        (True, "expected a list"),
        ("0..10000", "too many"),
    ],
)
def test_parse_values_rejects(spec, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)) as info:
        parse_values(spec, "window_days")
    assert str(info.value).startswith("window_days: ")


@settings(max_examples=200, deadline=None)
@given(
    lo=st.integers(-1000, 1000),
    span=st.integers(0, 3000),
    step=st.integers(1, 400),
    with_by=st.booleans(),
)
def test_parse_values_integer_ranges(lo: int, span: int, step: int, with_by: bool) -> None:
    hi = lo + span
    text = f"{lo}..{hi} by {step}" if with_by or step != 1 else f"{lo}..{hi}"
    vals = parse_values(text, "x")
    assert len(vals) == (hi - lo) // step + 1
    assert vals[0] == lo
    assert all(type(v) is int and lo <= v <= hi for v in vals)
    assert all(b - a == step for a, b in itertools.pairwise(vals))
    assert vals[-1] + step > hi


@settings(max_examples=200, deadline=None)
@given(a=st.integers(-50, 50), span=st.integers(0, 100), c=st.integers(1, 30))
def test_parse_values_decimal_ranges(a: int, span: int, c: int) -> None:
    lo, hi, step = a / 10, (a + span) / 10, c / 10
    vals = parse_values(f"{lo:.1f}..{hi:.1f} by {step:.1f}", "x")
    assert len(vals) == span // c + 1
    for i, v in enumerate(vals):
        assert v == pytest.approx((a + i * c) / 10, abs=1e-9)
        assert lo - 1e-12 <= v <= hi + 1e-12


def test_parse_values_huge_step_stays_within_bounds() -> None:
    vals = parse_values("0..19999999999 by 10000000000", "x")
    assert vals == [0, 10_000_000_000]


@pytest.mark.parametrize("kind", ["lhs", "random", "grid"])
def test_whole_number_ranges_give_whole_numbers(kind: str) -> None:
    spec = spec_of(design={"kind": kind, "samples": 100, "levels": 4}, uncertain={"a.n": "3..9"})
    v = [s["a.n"] for s in scenario_samples(spec)]
    assert all(isinstance(x, int) and 3 <= x <= 9 for x in v)
    if kind == "grid":
        assert v == [3, 5, 7, 9]
    else:  # 100 draws over 7 values: P(a value never shows) <= 7 * (6/7)**100 ~ 1e-6
        assert set(v) == set(range(3, 10))


def test_grid_design_is_the_cross_product() -> None:
    spec = spec_of(
        design={"kind": "grid", "levels": 3},
        uncertain={"a.b": "0.2..0.4", "c.d": [6, 8]},
    )
    samples = scenario_samples(spec)
    assert len(samples) == 6
    got = sorted((round(s["a.b"], 12), s["c.d"]) for s in samples)
    assert got == sorted((a, c) for a in (0.2, 0.3, 0.4) for c in (6, 8))


def test_no_uncertainty_is_one_empty_sample() -> None:
    assert scenario_samples(spec_of(uncertain={})) == [{}]
    assert scenario_samples(spec_of(uncertain={}, design={"kind": "lhs", "samples": 5})) == [{}]


@pytest.mark.parametrize("n", [1, 6, 13])
def test_lhs_stratifies_every_range(n: int) -> None:
    spec = spec_of(
        seed=3,
        design={"kind": "lhs", "samples": n},
        uncertain={"x.y": "0.2..0.5", "z.w": "-4.0..10.0", "k.m": [1, 2, 3]},
    )
    samples = scenario_samples(spec)
    assert len(samples) == n
    for name, (lo, hi) in {"x.y": (0.2, 0.5), "z.w": (-4.0, 10.0)}.items():
        v = np.array([s[name] for s in samples])
        assert ((v >= lo) & (v <= hi)).all()
        bins = np.minimum(np.floor((v - lo) / (hi - lo) * n).astype(int), n - 1)
        assert sorted(bins) == list(range(n)), (name, v)
    assert all(s["k.m"] in (1, 2, 3) for s in samples)
    if n % 3 == 0:  # each stratum maps to one value, so each value is drawn equally often
        counts = pd.Series([s["k.m"] for s in samples]).value_counts()
        assert counts.to_dict() == {1: n // 3, 2: n // 3, 3: n // 3}


@pytest.mark.parametrize("kind", ["lhs", "random"])
def test_sampled_designs_are_seeded(kind: str) -> None:
    unc = {"x.y": "0.2..0.5", "k.m": ["a", "b"]}
    one = scenario_samples(spec_of(seed=5, design={"kind": kind, "samples": 40}, uncertain=unc))
    two = scenario_samples(spec_of(seed=5, design={"kind": kind, "samples": 40}, uncertain=unc))
    other = scenario_samples(spec_of(seed=6, design={"kind": kind, "samples": 40}, uncertain=unc))
    assert one == two
    assert one != other
    assert len(one) == 40
    assert all(0.2 <= s["x.y"] <= 0.5 and s["k.m"] in ("a", "b") for s in one)
    assert {s["k.m"] for s in one} == {"a", "b"}
    assert len({s["x.y"] for s in one}) == 40


def test_unit_seeds_are_distinct_and_deterministic() -> None:
    spec = spec_of(replications=5)
    seeds = unit_seeds(spec, 7)
    assert seeds.shape == (7, 5)
    assert len(set(seeds.ravel().tolist())) == 35
    assert (seeds >= 0).all()
    np.testing.assert_array_equal(seeds, unit_seeds(spec_of(replications=5), 7))
    assert not set(unit_seeds(spec_of(replications=5, seed=8), 7).ravel()) & set(seeds.ravel())


def test_variants_are_the_grid_product() -> None:
    spec = spec_of(
        policies=[
            {"policy": "mqa_count", "grid": {"any.0.unique_contacts": "2..4", "window_days": [14]}},
            {"policy": "mql_only"},
        ]
    )
    got = variants(spec, None)
    assert [(n, lab) for n, lab, _, _ in got] == [
        ("mqa_count", "any.0.unique_contacts=2,window_days=14"),
        ("mqa_count", "any.0.unique_contacts=3,window_days=14"),
        ("mqa_count", "any.0.unique_contacts=4,window_days=14"),
        ("mql_only", "as is"),
    ]
    for _, _, params, p in got[:3]:
        assert p.any_[0].unique_contacts == params["any.0.unique_contacts"]
        assert p.window_days == 14
    assert got[3][2] == {} and got[3][3] == pol.load_policy("mql_only")


def test_variants_with_the_same_name_are_refused() -> None:
    spec = spec_of(policies=[{"policy": "mqa_count"}, {"policy": "mqa_count"}])
    with pytest.raises(ConfigError, match="share a name"):
        variants(spec, None)


def test_config_hash_follows_the_content() -> None:
    assert config_hash(spec_of()) == config_hash(spec_of())
    assert config_hash(spec_of()) != config_hash(spec_of(replications=3))
    assert config_hash(spec_of()) != config_hash(
        spec_of(policies=[{"policy": "mql_only", "grid": {"threshold": [60, 101]}}])
    )


# --- bad sweep files ----------------------------------------------------------------------------

HEAD = "name: t\nscenario: smb\n"
ONE = "policies:\n  - policy: mqa_count\n"
BAD = [
    ("unknown-key", HEAD + "replicatons: 2\n" + ONE, "{f}:3: replicatons: unknown key"),
    (
        "unknown-nested-key",
        HEAD + "design: {kind: lhs, sample: 3}\n" + ONE,
        "{f}:3: design.sample: unknown key 'sample'",
    ),
    (
        "range-open",
        HEAD + "policies:\n  - policy: mqa_count\n    grid: {window_days: '2..'}\n",
        "{f}:5: policies[0].grid: window_days: expected a list, a number or 'lo..hi [by step]'",
    ),
    (
        "range-letters",
        HEAD + "policies:\n  - policy: mqa_count\n    grid: {window_days: 'a..b'}\n",
        "{f}:5: policies[0].grid: window_days: expected a list",
    ),
    (
        "range-reversed",
        HEAD + "policies:\n  - policy: mqa_count\n    grid: {window_days: '5..2'}\n",
        "{f}:5: policies[0].grid: window_days: need lo <= hi",
    ),
    (
        "range-decimal-no-step",
        HEAD + "policies:\n  - policy: mql_only\n    grid: {threshold: '0.5..2.5'}\n",
        "{f}:5: policies[0].grid: threshold: a range of decimals needs a step",
    ),
    ("empty-policies", HEAD + "policies: []\n", "{f}:3: policies: too few items"),
    ("no-policies", HEAD, "{f}: policies: required field is missing"),
    (
        "unknown-policy",
        HEAD + "seed: 1\npolicies:\n  - policy: mqa_cuont\n",
        "{f}:5: policies[0]: mqa_cuont",
    ),
    (
        "missing-policy-file",
        HEAD + "policies:\n  - policy: mine/nothere.yaml\n",
        "{f}:4: policies[0]: mine/nothere.yaml",
    ),
    (
        "grid-path-not-in-policy",
        HEAD + ONE + "  - policy: mql_only\n    grid: {any.7.unique_contacts: [2]}\n",
        "{f}:6: policies[1].grid.any.7.unique_contacts: mql_only (mql) has no field "
        "'any.7.unique_contacts'; a grid can vary threshold, ",
    ),
    (
        "grid-index-out-of-range",
        HEAD + "policies:\n  - policy: mqa_count\n    grid: {any.7.unique_contacts: [2]}\n",
        "{f}:5: policies[0].grid.any.7.unique_contacts: mqa_count has no field "
        "'any.7.unique_contacts' (did you mean 'any.0.unique_contacts' or "
        "'any.1.unique_contacts'?)",
    ),
    ("design-kind", HEAD + "design: {kind: sobol}\n" + ONE, "{f}:3: design.kind: expected grid"),
    (
        "uncertain-reversed",
        HEAD + "uncertain:\n  touches.identification_rate: 0.5..0.2\n" + ONE,
        "{f}:3: uncertain: touches.identification_rate: need lo < hi",
    ),
    ("unknown-scenario", "scenario: nothere.yaml\n" + ONE, "scenario: no preset or file"),
]


@pytest.mark.parametrize(("text", "fragment"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_sweep_file_raises(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(QualsimError) as info:
        load_sweep(path)
    assert fragment.format(f=path) in str(info.value)


@pytest.mark.parametrize(("text", "fragment"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_sweep_file_exits_2(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    result = invoke("sweep", path, "--out", tmp_path / "out", "--workers", "1")
    assert_user_error(result, fragment.format(f=path))
    assert not (tmp_path / "out").exists()


def test_misspelt_uncertain_path_is_caught_when_loading(tmp_path: Path) -> None:
    path = write(
        tmp_path / "u.yaml", HEAD + "uncertain:\n  touches.identification_rat: 0.2..0.5\n" + ONE
    )
    with pytest.raises(QualsimError, match=r"did you mean 'touches\.identification_rate'") as info:
        load_sweep(path)
    assert str(path) in str(info.value)
    result = invoke("sweep", path, "--out", tmp_path / "out", "--workers", "1")
    assert_user_error(result, "touches.identification_rat")
    assert not (tmp_path / "out").exists()


def test_uncertain_range_outside_the_scenario_bounds(tmp_path: Path) -> None:
    path = write(
        tmp_path / "u.yaml", HEAD + "uncertain:\n  touches.identification_rate: 0.5..1.5\n" + ONE
    )
    with pytest.raises(QualsimError, match="identification_rate") as info:
        load_sweep(path)
    assert str(path) in str(info.value)


def test_every_value_of_an_uncertain_list_is_checked_when_loading(tmp_path: Path) -> None:
    path = write(
        tmp_path / "u.yaml",
        HEAD + "uncertain:\n  touches.identification_rate: [0.2, 7, 0.3]\n" + ONE,
    )
    with pytest.raises(QualsimError, match="identification_rate"):
        load_sweep(path)


def test_every_grid_value_is_checked_when_loading(tmp_path: Path) -> None:
    path = write(
        tmp_path / "g.yaml",
        HEAD + "policies:\n  - policy: mqa_count\n    grid: {window_days: [30, -5]}\n",
    )
    with pytest.raises(QualsimError, match="window_days"):
        load_sweep(path)


def test_policy_file_relative_to_the_sweep(tmp_path: Path) -> None:
    write(
        tmp_path / "pol" / "mine.yaml",
        "name: mine\nkind: mql\nthreshold: 80\npoints: {demo_request: 30}\n",
    )
    path = write(
        tmp_path / "s.yaml",
        "scenario: smb\noverrides: {accounts: {count: 60}}\n"
        "policies:\n  - policy: pol/mine.yaml\n    grid: {threshold: 50..70 by 20}\n",
    )
    spec, base = load_sweep(path)
    assert base == tmp_path
    assert [(n, lab) for n, lab, _, _ in variants(spec, base)] == [
        ("mine", "threshold=50"),
        ("mine", "threshold=70"),
    ]
    assert run_sweep(spec, tmp_path / "out", base, workers=1)["ran"] == 1
    assert set(results(tmp_path / "out")["variant"]) == {"threshold=50", "threshold=70"}


# --- the commands -------------------------------------------------------------------------------


def test_cli_sweep_recommend_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.out, "_width", 220)  # no truncated cells in the tables
    path = write(tmp_path / "s.yaml", SWEEP_YAML)
    out = tmp_path / "run"
    result = invoke("sweep", path, "--out", out, "--workers", "1")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    text = plain(result.stdout)
    assert "small: 4 worlds" in text and "0 already done, 4 run now" in text
    assert len(cell_files(out)) == 4

    result = invoke("sweep", path, "--out", out, "--workers", "1")
    assert result.exit_code == 0
    assert "4 already done, 0 run now" in plain(result.stdout)

    df = results(out)
    allacc = df[df["tier"] == -1].pivot_table(
        index=["policy", "variant"], columns="metric", values="value", aggfunc="mean"
    )
    cap = float(allacc["weekly_load_p90"].median())  # the limit bounds the p90 week
    ok = allacc[allacc["weekly_load_p90"] <= cap]
    best = ok["total_wins"].idxmax()
    result = invoke("recommend", out, "--max-handoffs-per-week", cap, "--min-precision", 0)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    text = plain(result.stdout)
    assert "Recommendation" in text and "Pareto frontier" in text and "p90 week (all)" in text
    first = next(line for line in text.splitlines() if "all accounts" in line)
    assert best[0] in first and best[1] in first, (best, first)
    for tier in sorted(t for t in df["tier"].unique() if t != -1):
        assert f"tier {tier}" in text

    result = invoke("query", out, "SELECT count(*) AS n FROM cells", "--csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"n\n{len(df)}\n"
    result = invoke("query", out, "SELECT count(*) FROM cells")
    assert result.exit_code == 0, result.stderr
    assert str(len(df)) in plain(result.stdout)
    result = invoke(
        "query", out, "SELECT policy, count(DISTINCT variant) AS v FROM cells GROUP BY 1", "--csv"
    )
    assert sorted(result.stdout.splitlines()[1:]) == ["mqa_count,2", "mql_only,2"]


def test_cli_recommend_when_nothing_is_feasible(reference: Path) -> None:
    result = invoke("recommend", reference, "--max-handoffs-per-week", 0, "--min-precision", 1)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "no variant meets the limits" in plain(result.stdout)


def test_cli_sweep_into_a_folder_of_another_sweep(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_sweep(spec_of(), out, workers=1, limit=1)
    path = write(tmp_path / "s.yaml", SWEEP_YAML.replace("seed: 7", "seed: 9"))
    result = invoke("sweep", path, "--out", out, "--workers", "1")
    assert_user_error(result, "holds results of a different sweep")
    assert cell_files(out) == ["s00000-r0000.parquet"]
    # the same sweep resumes there
    result = invoke("sweep", write(tmp_path / "t.yaml", SWEEP_YAML), "--out", out, "--workers", "1")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "1 already done, 3 run now" in plain(result.stdout)


def test_cli_recommend_without_cells(tmp_path: Path) -> None:
    assert_user_error(invoke("recommend", tmp_path), "not a sweep results folder")
    (tmp_path / "cells").mkdir()
    assert_user_error(invoke("recommend", tmp_path), "no results yet")


def test_cli_recommend_capacity_quantile(reference: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.out, "_width", 220)
    result = invoke("recommend", reference, "--max-handoffs-per-week", 1000)
    assert result.exit_code == 0 and "p90 week (all)" in plain(result.stdout)
    result = invoke(
        "recommend", reference, "--max-handoffs-per-week", 1000, "--capacity-quantile", "1"
    )
    assert result.exit_code == 0 and "Busiest week (all)" in plain(result.stdout)
    result = invoke(
        "recommend", reference, "--max-handoffs-per-week", 1000, "--capacity-quantile", "mean"
    )
    text = plain(result.stdout)
    assert result.exit_code == 0 and "p90 week" not in text and "busiest week" not in text
    assert_user_error(
        invoke("recommend", reference, "--capacity-quantile", "0.8"), "--capacity-quantile"
    )


def test_cli_recommend_unknown_objective(reference: Path) -> None:
    assert_user_error(invoke("recommend", reference, "--objective", "glory"), "'glory'")


def test_cli_query_errors(tmp_path: Path, reference: Path) -> None:
    assert_user_error(invoke("query", tmp_path, "SELECT 1"), "no results")
    result = invoke("query", reference, "SELEC count(*) FROM cells")
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    stderr = plain(result.stderr)
    assert stderr.startswith("error: query: ") and "SELEC" in stderr
    assert "Traceback" not in result.output and result.stdout == ""
    result = invoke("query", reference, "SELECT nope FROM cells")
    assert result.exit_code == 2 and "nope" in plain(result.stderr)


# --- recommend, pareto, sensitivity on hand-built results ---------------------------------------

SAMPLES, REPS = 4, 2
PARAM = [0.5, 0.7, 0.9, 0.1]  # the sample where D beats C has the lowest value
DEFAULTS = dict.fromkeys(STORED_METRICS, 1.0)
# the weekly load defaults to the mean handoffs per week of the same cell (a steady rule)
STEADY = ("weekly_load_p50", "weekly_load_p90", "weekly_load_max")
# variant -> tier -> metric -> value, or a function (sample, replication) -> value
C_WINS = {(0, 0): 6, (0, 1): 7, (1, 0): 7, (1, 1): 8, (2, 0): 6, (2, 1): 8, (3, 0): 3, (3, 1): 4}
DESIGN = {
    # highest objective everywhere, but 50 handoffs a week (all accounts) > capacity 20
    ("p", "A"): {
        -1: {"handoffs_per_week": 50, "precision": 0.6, "total_wins": 10},
        1: {"handoffs_per_week": 1, "precision": 0.9, "total_wins": 20},
        2: {"handoffs_per_week": 1, "precision": 0.9, "total_wins": 20},
    },
    # second highest, but precision 0.1 < 0.3 (all accounts and tier 1; fine in tier 2)
    ("p", "B"): {
        -1: {"handoffs_per_week": 10, "precision": 0.1, "total_wins": 9},
        1: {"handoffs_per_week": 5, "precision": 0.1, "total_wins": 15},
        2: {"handoffs_per_week": 5, "precision": 0.9, "total_wins": 7},
    },
    # feasible, best on average, best in samples 0-2
    ("q", "C"): {
        -1: {"handoffs_per_week": 10, "precision": 0.5, "total_wins": C_WINS.get},
        1: {"handoffs_per_week": 5, "precision": 0.5, "total_wins": 2},
        2: {"handoffs_per_week": 5, "precision": 0.5, "total_wins": 3},
    },
    # feasible, worse on average, best in sample 3; best in tier 1
    ("q", "D"): {
        -1: {
            "handoffs_per_week": 12,
            "precision": 0.4,
            "total_wins": lambda sr: 6 if sr[0] == 3 else 5,
        },
        1: {"handoffs_per_week": 6, "precision": 0.5, "total_wins": 4},
        2: {"handoffs_per_week": 6, "precision": 0.5, "total_wins": 2},
    },
}


def hand_results() -> pd.DataFrame:
    rows = []
    for (policy, variant), tiers in DESIGN.items():
        for s in range(SAMPLES):
            for r in range(REPS):
                for tier, given_metrics in tiers.items():
                    for metric in STORED_METRICS:
                        default = DEFAULTS[metric]
                        if metric in STEADY:
                            default = given_metrics.get("handoffs_per_week", default)
                        v = given_metrics.get(metric, default)
                        v = v((s, r)) if callable(v) else v
                        rows.append(
                            (
                                s,
                                r,
                                policy,
                                variant,
                                "{}",
                                tier,
                                metric,
                                float(v),
                                1000 + 10 * s + r,
                                "h",
                                "0",
                            )
                        )
    df = pd.DataFrame(rows, columns=ROW_COLUMNS)
    df["u:param"] = df["sample"].map(dict(enumerate(PARAM)))
    df["u:constant"] = 3.0
    return df


def test_recommend_picks_the_feasible_best() -> None:
    df = hand_results()
    r = recommend(df, max_handoffs_per_week=20, min_precision=0.3)
    assert (r["policy"], r["variant"]) == ("q", "C")
    assert r["feasible"] == 2 and r["tier"] == -1 and r["objective"] == "total_wins"
    wins = np.array(list(C_WINS.values()), dtype=float)
    n = wins.size
    half = stats.t.ppf(0.975, n - 1) * wins.std(ddof=1) / math.sqrt(n)
    assert r["mean"] == pytest.approx(49 / 8)
    assert r["ci_low"] == pytest.approx(49 / 8 - half)
    assert r["ci_high"] == pytest.approx(49 / 8 + half)
    assert r["precision"] == pytest.approx(0.5) and r["handoffs_per_week"] == pytest.approx(10)
    assert (r["best_in_samples"], r["samples"]) == (3, 4)
    per = r["per_sample"].set_index("sample")["variant"].to_dict()
    assert per == {0: "C", 1: "C", 2: "C", 3: "D"}


def test_recommend_constraints_one_at_a_time() -> None:
    df = hand_results()
    assert recommend(df)["variant"] == "A"  # no limits: the highest objective
    assert recommend(df, max_handoffs_per_week=20)["variant"] == "B"
    assert recommend(df, min_precision=0.3)["variant"] == "A"
    assert recommend(df, max_handoffs_per_week=11, min_precision=0.3)["feasible"] == 1
    # a volume has no better direction: refused, never maximised
    with pytest.raises(QualsimError, match="expected a metric with a direction"):
        recommend(df, objective="handoffs_per_week", max_handoffs_per_week=20, min_precision=0.3)


def test_recommend_per_tier() -> None:
    df = hand_results()
    kw = {"max_handoffs_per_week": 20, "min_precision": 0.3}
    # tier 1: A's own handoffs are few, but capacity counts all accounts; B fails precision
    r1 = recommend(df, tier=1, **kw)
    assert (r1["tier"], r1["variant"], r1["mean"]) == (1, "D", 4)
    assert r1["handoffs_per_week"] == pytest.approx(6)
    # tier 2: B's precision there is 0.9, so B is feasible and has the most tier-2 wins
    r2 = recommend(df, tier=2, **kw)
    assert (r2["variant"], r2["mean"], r2["feasible"]) == ("B", 7, 3)
    assert (r2["best_in_samples"], r2["samples"]) == (4, 4)


def test_recommend_without_feasible_variant() -> None:
    r = recommend(hand_results(), max_handoffs_per_week=5, min_precision=0.3)
    assert r["variant"] is None and r["feasible"] == 0
    r = recommend(hand_results(), min_precision=0.95)
    assert r["variant"] is None


def with_flood(df: pd.DataFrame) -> pd.DataFrame:
    """hand_results plus a variant (q, E) with the most wins whose mean, 8 a week of all
    accounts, fits a capacity of 20 but whose p90 week, 45, does not (a go-live flood)."""
    e = df[(df["policy"] == "q") & (df["variant"] == "C")].copy()
    e["variant"] = "E"
    values = {"handoffs_per_week": 8.0, "weekly_load_p90": 45.0, "total_wins": 30.0}
    for metric, v in values.items():
        e.loc[e["metric"] == metric, "value"] = v
    return pd.concat([df, e], ignore_index=True)


def test_recommend_bounds_the_p90_week_not_the_mean() -> None:
    df = with_flood(hand_results())
    r = recommend(df, max_handoffs_per_week=20, min_precision=0.3)
    assert (r["policy"], r["variant"]) == ("q", "C")  # E is rejected: its p90 week is 45 > 20
    assert r["capacity_metric"] == "weekly_load_p90" and r["capacity_load"] == pytest.approx(10)
    # bounding the mean, as before, accepts the flood
    r = recommend(df, max_handoffs_per_week=20, min_precision=0.3, capacity_quantile=None)
    assert r["variant"] == "E" and r["capacity_metric"] == "handoffs_per_week"
    # the median week of E is its mean here (8), so a p50 limit accepts it too
    r = recommend(df, max_handoffs_per_week=20, min_precision=0.3, capacity_quantile=0.5)
    assert r["variant"] == "E"
    table, overall = recommend_by_tier(df, 20, 0.3)
    assert overall["variant"] == "C" and table.loc["all accounts", "capacity_load"] == 10.0


def test_recommend_on_a_store_without_the_weekly_load() -> None:
    old = hand_results()
    old = old[~old["metric"].isin([*STEADY, "weeks_over_capacity"])]
    with pytest.raises(QualsimError, match="weekly_load_p90 in none of their cells") as e:
        recommend(old, max_handoffs_per_week=20)
    assert "--capacity-quantile mean" in str(e.value)
    # without a capacity limit, or bounding the mean, the old store still answers
    assert recommend(old)["variant"] == "A"
    assert recommend(old, max_handoffs_per_week=20, capacity_quantile=None)["variant"] == "B"
    # a store resumed by a newer qualsim: some cells have it, some not
    half = pd.concat([old, hand_results()[lambda d: d["sample"] == 0]], ignore_index=True)
    half = half.drop_duplicates(["sample", "replication", "policy", "variant", "tier", "metric"])
    with pytest.raises(QualsimError, match="only 8 of 32"):
        recommend(half, max_handoffs_per_week=20)


def test_capacity_quantile_values() -> None:
    assert [parse_capacity_quantile(t) for t in ("0.5", "0.9", "1", "MEAN")] == [
        0.5,
        0.9,
        1.0,
        None,
    ]
    for bad in ("0.95", "p90", ""):
        with pytest.raises(QualsimError, match=r"expected 0\.5, 0\.9, 1"):
            parse_capacity_quantile(bad)
    with pytest.raises(QualsimError, match=r"expected 0\.5, 0\.9, 1"):
        recommend(hand_results(), max_handoffs_per_week=20, capacity_quantile=0.75)


def test_recommend_bad_input() -> None:
    with pytest.raises(QualsimError, match="no results"):
        recommend(pd.DataFrame(columns=ROW_COLUMNS))
    with pytest.raises(QualsimError, match="'glory' is not a stored metric"):
        recommend(hand_results(), objective="glory")


def test_summary_means_and_intervals() -> None:
    s = summary(hand_results()).set_index(["policy", "variant"])
    for key in DESIGN:
        assert s.loc[key, "cells"] == SAMPLES * REPS
    assert s.loc[("q", "C"), "total_wins"] == pytest.approx(49 / 8)
    assert s.loc[("q", "D"), "total_wins"] == pytest.approx(42 / 8)
    assert s.loc[("p", "A"), "total_wins"] == 10
    # a constant metric has a zero-width interval
    assert s.loc[("p", "A"), "precision_low"] == pytest.approx(0.6)
    assert s.loc[("p", "A"), "precision_high"] == pytest.approx(0.6)
    t1 = summary(hand_results(), tier=1).set_index(["policy", "variant"])
    assert t1.loc[("p", "A"), "total_wins"] == 20
    assert t1.loc[("p", "B"), "precision"] == pytest.approx(0.1)


# With policies p {A, B} and q {C, D}, a pivot over the cross product of the levels would give 8
# rows, 4 of them all-NaN phantom variants such as (p, C): summary must give the 4 real ones.


def test_summary_has_one_row_per_variant() -> None:
    s = summary(hand_results())
    assert sorted(zip(s["policy"], s["variant"], strict=True)) == sorted(DESIGN)


def test_recommend_without_limits_counts_real_variants() -> None:
    assert recommend(hand_results())["feasible"] == len(DESIGN)


def test_sensitivity_finds_the_deciding_parameter() -> None:
    df = hand_results()
    r = recommend(df, max_handoffs_per_week=20, min_precision=0.3)
    sens = sensitivity(df, r)
    assert list(sens["parameter"]) == ["param", "constant"]
    row = sens.iloc[0]
    expected = stats.spearmanr(PARAM, [1, 1, 1, 0])
    assert row["spearman"] > 0
    assert row["spearman"] == pytest.approx(expected.statistic)
    assert row["p_value"] == pytest.approx(expected.pvalue)
    # median 0.6: samples 3 and 0 below (best in one of two), samples 1 and 2 above (both)
    assert row["best_low"] == pytest.approx(0.5) and row["best_high"] == pytest.approx(1.0)
    assert math.isnan(sens.iloc[1]["spearman"])


def test_sensitivity_without_parameters_or_samples() -> None:
    df = hand_results().drop(columns=["u:param", "u:constant"])
    r = recommend(df, max_handoffs_per_week=20, min_precision=0.3)
    assert sensitivity(df, r).empty
    assert sensitivity(hand_results(), {"variant": None}).empty


PARETO_ROWS = pd.DataFrame(
    [
        ("r0", 0.5, 10.0, 5.0, 3.0),  # kept
        ("r1", 0.4, 9.0, 6.0, 2.0),  # dominated by r0 on everything
        ("r2", 0.9, 1.0, 20.0, 1.0),  # kept: best precision
        ("r3", 0.5, 10.0, 6.0, 3.0),  # dominated by r0: equal, but more handoffs a week
        ("r4", 0.3, 30.0, 2.0, 0.0),  # kept: best lead time
        ("r5", np.nan, 10.0, 5.0, 3.0),  # dominated by r0: NaN precision counts as worst
        ("r6", 0.2, 10.0, 1.0, np.nan),  # kept: fewest handoffs a week
    ],
    columns=["variant", "precision", "lead_time_days", "handoffs_per_week", "wins"],
).assign(policy="p")


def test_pareto_keeps_the_non_dominated() -> None:
    front = pareto(PARETO_ROWS)
    assert list(front["variant"]) == ["r0", "r2", "r4", "r6"]
    two = pareto(PARETO_ROWS, {"precision": "max", "wins": "max"})
    assert list(two["variant"]) == ["r0", "r2", "r3"]  # r0 and r3 tie: neither dominates
    low = pareto(PARETO_ROWS, {"handoffs_per_week": "min"})
    assert list(low["variant"]) == ["r6"]
