"""One registry for a policy kind: the built-ins register through the same door as a plug-in,
and evaluate, sweep, combinators, explain and the checks all reach a kind through it."""

from __future__ import annotations

import dataclasses
from importlib import metadata
from typing import Literal

import numpy as np
import pandas as pd
import pytest

import policies
import sim
from policies import Kind, PolicyBase, register, registry
from policies.kernels.output import qualifications
from policies.registry import kind_of, lookup
from sim.errors import QualsimError

BUILT_IN = ["mqa_count", "mql", "weighted_titles", "stages", "any", "all"]


@pytest.fixture(scope="module")
def log() -> sim.EventLog:
    w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 60}}), seed=4)
    return sim.EventLog.from_world(w)


def test_every_built_in_kind_is_a_registered_record_with_its_extras():
    assert list(policies.BUILTIN) == BUILT_IN
    for name in BUILT_IN:
        k = lookup(name)
        assert k.name == name and policies.kinds()[name] is k.schema is policies.BUILTIN[name]
        assert k.holds is not None and k.reference is not None  # combinable, checkable
    assert lookup("mqa_count").sweep is not None  # the one-pass threshold sweep
    assert all(lookup(n).explain is not None for n in BUILT_IN[:4])


def test_thresholds_name_the_fields_a_sweep_can_vary():
    paths = lookup("mqa_count").threshold_paths(policies.load_policy("mqa_count"))
    assert paths == [
        "any.0.unique_contacts",
        "any.1.unique_contacts",
        "any.1.min_activities",
        "tiers.1.any.0.unique_contacts",
    ]
    stages = policies.load_policy("progression_stages")
    assert kind_of(stages).threshold_paths(stages) == [
        "stages.0.when.unique_contacts",
        "stages.1.when.unique_contacts",
        "stages.2.when.min_activities",
    ]
    assert lookup("mql").threshold_paths(policies.load_policy("mql_only")) == ["threshold"]


def test_evaluate_and_sweep_reach_a_built_in_kind_only_through_the_registry(monkeypatch, log):
    calls = []
    real = lookup("mql")

    def spy(policy, log, frame=None):
        calls.append(policy.name)
        return real.evaluate(policy, log, frame)

    monkeypatch.setitem(registry._KINDS, "mql", dataclasses.replace(real, evaluate=spy))
    p = policies.load_policy("mql_only")
    policies.evaluate(p, log)
    policies.sweep(p, log, "threshold", [50.0, 90.0])
    # A combinator evaluates its members through their kinds too.
    policies.evaluate(policies.load_policy("mql_or_mqa"), log)
    assert calls == ["mql_only"] * 4


class Demos(PolicyBase):
    """Hand an account off at its n-th demo request, as a Kind record with every extra."""

    kind: Literal["reg_demos"] = "reg_demos"
    nth: int = 1


def _nth_demo(policy: Demos, f: policies.Frame) -> np.ndarray:
    """Per event: has the account requested ``nth`` demos by then?"""
    demo = f.activity_in(["demo_request"]).astype(np.int64)
    seen = np.cumsum(demo) - np.r_[0, np.cumsum(demo)][f.first_of_account][f.rank]
    return seen[f.tie_end] >= policy.nth


def _evaluate_demos(policy: Demos, log: sim.EventLog, frame=None) -> pd.DataFrame:
    f = frame if frame is not None else policies.Frame(log)
    holds = _nth_demo(policy, f)
    first = holds & ~np.r_[False, holds[:-1] & (f.rank[1:] == f.rank[:-1])]
    at = f.tie_start[np.flatnonzero(first)]
    return qualifications(policy, f, at, "demo")


DEMOS = register(
    Kind(
        "reg_demos",
        Demos,
        _evaluate_demos,
        holds=_nth_demo,
        thresholds=lambda policy: ["nth"],
    )
)


def test_a_kind_record_loads_from_yaml_evaluates_combines_and_passes_the_checks(tmp_path, log):
    f = tmp_path / "demos.yaml"
    f.write_text("name: two-demos\nkind: reg_demos\nnth: 2\n")
    p = policies.load_policy(f)
    assert kind_of(p) is DEMOS
    q = policies.evaluate(p, log)
    assert len(q) > 0 and (q["rule"] == "demo").all()
    # Combined with a built-in through its per-event rule.
    combo = policies.load_policy(
        {"name": "c", "kind": "all", "policies": [{"name": "d", "kind": "reg_demos"}, "mqa_count"]}
    )
    assert len(policies.evaluate(combo, log)) <= len(
        policies.evaluate(policies.load_policy("mqa_count"), log)
    )
    assert policies.check.check_names(p) == [
        "output_contract",
        "input_untouched",
        "deterministic",
        "empty_log",
        "no_look_ahead",
        "sweep_equals_loop",
    ]
    policies.check_policy(p, log)


def test_a_kind_sweep_is_used_and_none_falls_back_to_the_loop(monkeypatch, log):
    p = policies.load_policy({"name": "d", "kind": "reg_demos"})
    loop = policies.sweep(p, log, "nth", [1, 2])
    marker = loop.iloc[:1].assign(rule="one pass")
    for one_pass, expected in ((lambda *a: marker, marker), (lambda *a: None, loop)):
        swept = dataclasses.replace(DEMOS, sweep=one_pass)
        monkeypatch.setitem(registry._KINDS, "reg_demos", swept)
        pd.testing.assert_frame_equal(policies.sweep(p, log, "nth", [1, 2]), expected)


class NoHolds(PolicyBase):
    """A plug-in that evaluates itself but cannot say whether its rule holds at every event."""

    kind: Literal["reg_no_holds"] = "reg_no_holds"

    def evaluate(self, log):
        return policies.evaluate(policies.load_policy("mqa_count"), log).assign(policy=self.name)


def test_a_plugin_without_holds_cannot_be_combined_per_event(log):
    register("reg_no_holds")(NoHolds)
    assert lookup("reg_no_holds").holds is None
    p = policies.load_policy(
        {"name": "c", "kind": "all", "policies": [{"name": "n", "kind": "reg_no_holds"}]}
    )
    with pytest.raises(QualsimError, match="cannot be combined: it defines no holds"):
        policies.evaluate(p, log)
    # kind: any without recycling needs only each member's first handoffs.
    anyof = policies.load_policy({**p.model_dump(), "kind": "any"})
    assert len(policies.evaluate(anyof, log)) > 0


def test_an_entry_point_may_load_a_kind_record(monkeypatch, log):
    class EP:
        name = "reg_demos_ep"
        group = "qualsim.policies"

        def load(self):
            return dataclasses.replace(DEMOS, schema=DemosFromPackage)

    real = metadata.entry_points

    def fake(**kw):
        return [EP()] if kw.get("group") == "qualsim.policies" else real(**kw)

    monkeypatch.setattr(metadata, "entry_points", fake)
    assert "reg_demos_ep" in policies.kinds()
    assert lookup("reg_demos_ep").name == "reg_demos_ep"
    p = policies.load_policy({"name": "ep", "kind": "reg_demos_ep"})
    assert len(policies.evaluate(p, log)) > 0


class DemosFromPackage(Demos):
    kind: Literal["reg_demos_ep"] = "reg_demos_ep"


def test_unknown_names_suggest_the_nearest():
    with pytest.raises(KeyError, match="did you mean 'weighted_titles'"):
        lookup("weighted_title")


def test_an_unregistered_model_evaluates_itself(log):
    class Loose(NoHolds):
        kind: Literal["reg_loose"] = "reg_loose"

    p = Loose(name="loose")
    assert kind_of(p).schema is Loose
    assert (policies.evaluate(p, log)["policy"] == "loose").all()


def test_explain_without_an_explanation_for_the_kind(log):
    p = policies.load_policy({"name": "d", "kind": "reg_demos"})
    q = policies.evaluate(p, log)
    never = sorted(set(log.events["account_id"]) - set(q["account_id"]))
    assert policies.explain(p, log, int(never[0])) == []
    with pytest.raises(TypeError, match="explain does not know policy kind 'reg_demos'"):
        policies.explain(p, log, int(q["account_id"].iloc[0]))


def test_the_public_api_is_one_page():
    for name in policies.__all__:
        assert hasattr(policies, name)
        assert f"``{name}``" in policies.__doc__, f"{name} is not in the table of contents"
