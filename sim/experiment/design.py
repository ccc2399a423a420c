"""Designing a rollout experiment: its power, by simulation, to detect the difference a
candidate rule makes against the incumbent (and against a no-handoff holdout).

One simulated experiment: simulate a world of the scenario; randomise its accounts to the arms
*candidate*, *incumbent* and *holdout* in the proportions of the split (within each tier with
``stratify="tier"``; complete randomisation: each stratum's arm sizes are its size times the
split, rounded); hand off the candidate arm's accounts by the candidate rule and the incumbent
arm's by the incumbent rule (the holdout gets no proactive handoff), all through the one SDR
team of the scenario; then, ``weeks`` after the experiment starts (the scenario's go-live, day
0 without one), count per account the outcome of ``metric``:

- ``opportunities``: the account has an opportunity created since the start (from a handoff
  or as late inbound);
- ``wins``: it has a deal won (decided) since the start;
- ``revenue``: the value of that deal (0 otherwise).

Each experiment tests candidate - incumbent and candidate - holdout at 5%
(:mod:`sim.experiment.design_stats`); the power at a horizon is the share of simulated
experiments that reject. Experiment *r* uses the *r*-th child of
``numpy.random.SeedSequence(seed)``: its first child seeds the world, its second the
randomisation, so results do not depend on the executor.

>>> import sim
>>> sc = sim.load_scenario("smb", overrides={"accounts": {"count": 120}})
>>> curve = design_experiment(sc, "mqa_count", "mql_only", replications=2, seed=1)
>>> sorted(set(curve["comparison"]))
['candidate - holdout', 'candidate - incumbent']
>>> curve["weeks"].unique().tolist()
[4, 8, 13, 26, 52]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

import policies as pol
from sim.errors import ConfigError
from sim.experiment.design_stats import (
    HORIZON_WEEKS,
    arm_stats,
    difference_tests,
    power_curve,
)
from sim.experiment.executors import Executor, executor_for
from sim.experiment.replicate import Replica
from sim.experiment.size import check_replications
from sim.sales.handoff import SalesResult
from sim.sales.weekly import go_live_day
from sim.world.presets import load_scenario
from sim.world.scenario import Scenario

ARMS = ("candidate", "incumbent", "holdout")
METRIC_KINDS = {"opportunities": True, "wins": True, "revenue": False}  # binary?
STRATA = ("tier",)
DEFAULT_SPLIT = (0.45, 0.45, 0.10)


def parse_split(split: str | Sequence[float]) -> tuple[float, float, float]:
    """The split (candidate, incumbent, holdout) from ``"0.45,0.45,0.10"`` or three numbers:
    each a share from 0 to 1 (candidate and incumbent above 0), summing to 1."""
    what = f"--split: expected three shares candidate,incumbent,holdout summing to 1, got {split!r}"
    try:
        parts = split.split(",") if isinstance(split, str) else list(split)
        shares = tuple(float(s) for s in parts)
    except (TypeError, ValueError):
        raise ConfigError(what) from None
    if len(shares) != 3:
        raise ConfigError(f"{what} ({len(shares)} shares)")
    if not all(np.isfinite(shares)) or min(shares) < 0:
        raise ConfigError(f"{what} (each a share from 0 to 1)")
    if shares[0] <= 0 or shares[1] <= 0:
        raise ConfigError(f"{what} (the candidate and incumbent arms need accounts)")
    if abs(sum(shares) - 1.0) > 1e-6:
        raise ConfigError(f"{what} (they sum to {sum(shares):g})")
    return shares[0], shares[1], shares[2]


def assign_arms(
    accounts: pd.DataFrame, split: Sequence[float], rng: np.random.Generator, stratify=None
) -> np.ndarray:
    """Each account's arm (:data:`ARMS`), in ``accounts``' order: within each stratum (all
    accounts, or each value of the column ``stratify``) a random permutation cut at the
    rounded cumulative shares of ``split``."""
    n = len(accounts)
    arm = np.empty(n, dtype=object)
    strata = np.zeros(n, np.int64) if stratify is None else accounts[stratify].to_numpy()
    bounds = np.cumsum(split)
    for s in np.unique(strata):
        members = np.flatnonzero(strata == s)
        order = rng.permutation(members)
        cuts = np.rint(bounds * members.size).astype(np.int64)
        cuts[-1] = members.size
        for name, lo, hi in zip(ARMS, np.r_[0, cuts[:-1]], cuts, strict=True):
            arm[order[lo:hi]] = name
    return arm


def play_experiment(
    rep: Replica, candidate: pol.PolicyBase, incumbent: pol.PolicyBase, arm: np.ndarray
) -> SalesResult:
    """Each arm's handoffs (the candidate rule's on the candidate arm, the incumbent's on the
    incumbent arm, none on the holdout) played together through the world's one SDR team; the
    outcomes' ``policy`` column names the arm. ``arm`` is indexed by account_id."""
    parts = []
    for name, policy in (("candidate", candidate), ("incumbent", incumbent)):
        q = rep.handoffs(policy)
        keep = arm[q["account_id"].to_numpy(np.int64)] == name
        parts.append(q[keep].assign(policy=name))
    q = pd.concat(parts, ignore_index=True).sort_values("time", kind="stable")
    return rep.play(q.reset_index(drop=True))


def account_outcomes(rep: Replica, result: SalesResult) -> pd.DataFrame:
    """Per account (indexed by account_id 0..n-1): ``t_opportunity`` (its first opportunity,
    from a handoff or late inbound; NaN if none), ``t_won`` (the decision of a deal won; NaN if
    none) and ``value`` (of that deal, else 0)."""
    n = len(rep.world.accounts)
    o, inbound = result.outcomes, result.inbound
    acc = np.r_[o["account_id"].to_numpy(np.int64), inbound["account_id"].to_numpy(np.int64)]
    t_opp = np.r_[o["t_opportunity"].to_numpy(np.float64), inbound["t_inbound"].to_numpy(float)]
    won = np.r_[o["won"].to_numpy(bool), inbound["won"].to_numpy(bool)]
    value = np.r_[o["value"].to_numpy(np.float64), inbound["value"].to_numpy(np.float64)]
    rows = pd.DataFrame({"account_id": acc, "t_opportunity": t_opp, "won": won, "value": value})
    per = rows.groupby("account_id").agg(
        t_opportunity=("t_opportunity", "min"), won=("won", "any"), value=("value", "sum")
    )
    out = per.reindex(np.arange(n))
    decision = rep.world.truth.set_index("account_id")["t_decision"].reindex(np.arange(n))
    won_any = out["won"].fillna(False).to_numpy(bool)
    return pd.DataFrame(
        {
            "t_opportunity": out["t_opportunity"].to_numpy(np.float64),
            "t_won": np.where(won_any, decision.to_numpy(np.float64), np.nan),
            "value": np.where(won_any, out["value"].fillna(0.0).to_numpy(np.float64), 0.0),
        }
    )


def outcome_matrix(
    outcomes: pd.DataFrame, metric: str, start: float, weeks: Sequence[int]
) -> np.ndarray:
    """Per account (rows) and horizon (columns): the outcome of ``metric`` counted from
    ``start`` to ``start + 7 * weeks`` (an opportunity created, a deal won, its value)."""
    cut = start + 7.0 * np.asarray(weeks, dtype=np.float64)[None, :]
    if metric == "opportunities":
        t = outcomes["t_opportunity"].to_numpy(np.float64)[:, None]
        return ((t >= start) & (t < cut)).astype(np.float64)
    t = outcomes["t_won"].to_numpy(np.float64)[:, None]
    within = (t >= start) & (t < cut)
    if metric == "wins":
        return within.astype(np.float64)
    return np.where(within, outcomes["value"].to_numpy(np.float64)[:, None], 0.0)


def horizons(sc: Scenario) -> list[int]:
    """The horizons of :data:`HORIZON_WEEKS` that fit between the go-live and the scenario's
    horizon."""
    span = sc.horizon_days - go_live_day(sc)
    return [w for w in HORIZON_WEEKS if 7.0 * w <= span]


def simulate_experiment(
    sc: Scenario,
    candidate: pol.PolicyBase,
    incumbent: pol.PolicyBase,
    split: Sequence[float],
    stratify: str | None,
    seeds: tuple[int, int],
) -> tuple[Replica, np.ndarray, SalesResult]:
    """Simulate the world of ``seeds[0]``, randomise its accounts with ``seeds[1]`` and play
    the arms: the world (as a :class:`Replica`), each account's arm (by account_id) and the
    sales result of every arm's handoffs."""
    rep = Replica.simulate(sc, seeds[0])
    accounts = rep.world.accounts.sort_values("account_id")
    arm = assign_arms(accounts, split, np.random.default_rng(seeds[1]), stratify)
    return rep, arm, play_experiment(rep, candidate, incumbent, arm)


def one_experiment(
    sc: Scenario,
    candidate: pol.PolicyBase,
    incumbent: pol.PolicyBase,
    split: Sequence[float],
    stratify: str | None,
    metric: str,
    seeds: tuple[int, int],
) -> pd.DataFrame:
    """One simulated experiment: per horizon and arm, the accounts, the mean outcome and its
    variance (:func:`sim.experiment.design_stats.arm_stats`)."""
    rep, arm, result = simulate_experiment(sc, candidate, incumbent, split, stratify, seeds)
    outcomes = account_outcomes(rep, result)
    weeks = horizons(sc)
    values = outcome_matrix(outcomes, metric, go_live_day(sc), weeks)
    return arm_stats(values, arm.astype(str), weeks)


def experiment_seeds(seed: int, replications: int) -> list[tuple[int, int]]:
    """Per experiment: (world seed, randomisation seed), from the children of
    ``SeedSequence(seed)``."""
    out = []
    for child in np.random.SeedSequence(seed).spawn(replications):
        world, assign = child.spawn(2)
        out.append(
            (
                int(world.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)),
                int(assign.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)),
            )
        )
    return out


def arm_sizes(split: Sequence[float], n: int) -> np.ndarray:
    """The arms' sizes of ``n`` accounts randomised completely by ``split`` (the cuts of
    :func:`assign_arms`)."""
    cuts = np.rint(np.cumsum(split) * n).astype(np.int64)
    cuts[-1] = n
    return np.diff(np.r_[0, cuts])


def check_arm_sizes(shares: Sequence[float], n: int, split, name: str) -> None:
    """A ``ConfigError`` naming the arms that the split leaves without an account of ``n``
    (an arm of share 0, the holdout, may be empty)."""
    sizes = arm_sizes(shares, n)
    empty = [a for a, k, s in zip(ARMS, sizes, shares, strict=True) if k == 0 and s > 0]
    if empty:
        raise ConfigError(
            f"--split {split if isinstance(split, str) else ','.join(map(str, split))}: on the "
            f"{n:,} accounts of scenario {name} the {' and '.join(empty)} "
            f"arm{'s get' if len(empty) > 1 else ' gets'} 0 accounts; give every arm a share of "
            f"at least {1 / n:.2g} (one account), or a holdout of 0"
        )


def resolve(
    scenario: str | Scenario,
    candidate: str | pol.PolicyBase,
    incumbent: str | pol.PolicyBase,
    split: str | Sequence[float],
    stratify: str | None,
) -> tuple[Scenario, pol.PolicyBase, pol.PolicyBase, tuple[float, float, float]]:
    """The scenario, the two rules and the split of an experiment, checked (``ConfigError``
    naming the option and what is expected)."""
    shares = parse_split(split)
    if stratify is not None and stratify not in STRATA:
        raise ConfigError(f"--stratify: expected one of {', '.join(STRATA)}, got {stratify!r}")
    sc = load_scenario(scenario)
    if not horizons(sc):
        raise ConfigError(
            f"scenario {sc.name}: horizon_days ({sc.horizon_days:g}) leaves "
            f"{sc.horizon_days - go_live_day(sc):g} days after the go-live (day "
            f"{go_live_day(sc):g}): shorter than {HORIZON_WEEKS[0]} weeks, the first horizon"
        )
    check_arm_sizes(shares, sc.accounts.count, split, sc.name)
    cand = candidate if isinstance(candidate, pol.PolicyBase) else pol.load_policy(candidate)
    inc = incumbent if isinstance(incumbent, pol.PolicyBase) else pol.load_policy(incumbent)
    return sc, cand, inc, shares


def design_experiment(
    scenario: str | Scenario,
    candidate: str | pol.PolicyBase,
    incumbent: str | pol.PolicyBase = "mql_scored",
    split: str | Sequence[float] = DEFAULT_SPLIT,
    stratify: str | None = None,
    metric: str = "opportunities",
    replications: int = 100,
    seed: int = 0,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """The power curve of a rollout experiment (see the module doc): per comparison
    (``candidate - incumbent``, ``candidate - holdout`` when the holdout has accounts) and
    horizon (weeks): ``experiments``, ``mean_difference`` (per account), ``power`` and its
    Monte-Carlo standard error ``power_se``. :func:`sim.experiment.design_stats.weeks_to_power`
    reads the weeks needed for 80% power from it."""
    if metric not in METRIC_KINDS:
        raise ConfigError(f"--metric: expected one of {', '.join(METRIC_KINDS)}, got {metric!r}")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ConfigError(f"replications: expected an integer >= 1, got {replications!r}")
    sc, cand, inc, shares = resolve(scenario, candidate, incumbent, split, stratify)
    run_on = executor_for(1, executor)
    check_replications(sc, replications, run_on, "designing an experiment on", 4096)
    tasks = [
        (sc, cand, inc, shares, stratify, metric, s) for s in experiment_seeds(seed, replications)
    ]
    stats: list[pd.DataFrame] = [pd.DataFrame()] * replications
    with run_on as ex:
        for r, res in ex.map(one_experiment, tasks):
            stats[r] = res.assign(experiment=r)
            if progress:
                progress(r)
    every = pd.concat(stats, ignore_index=True)
    binary = METRIC_KINDS[metric]
    pairs = [("candidate", "incumbent")] + ([("candidate", "holdout")] if shares[2] > 0 else [])
    tests = pd.concat([difference_tests(every, a, b, binary) for a, b in pairs], ignore_index=True)
    return power_curve(tests)
