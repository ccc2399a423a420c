"""The conformance suite: every shipped policy passes every check (one test per check, through
``parametrize_with_checks``), and a deliberately broken plug-in fails the check that names
its fault."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from typing import Literal

import pandas as pd
import pytest

import policies
import sim
from policies import PolicyBase, PolicyCheckError, loading, register, registry
from policies.check import CHECKS, check_names, checks, run_check
from policies.kernels.output import QUALIFICATION_COLUMNS
from policies.registry import lookup
from policies.testing import parametrize_with_checks

# Every shipped policy file, so that a new one is checked as soon as it is added.
SHIPPED = sorted(p.stem for p in loading.SHIPPED.glob("*.yaml"))
ALL = [c.name for c in CHECKS]
RUNS = itertools.count()


@functools.cache
def small_log() -> sim.EventLog:
    w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 80}}), seed=9)
    return sim.EventLog.from_world(w)


@parametrize_with_checks([policies.load_policy(n) for n in SHIPPED], small_log, cuts=8)
def test_shipped_policies_pass_every_check(policy, check):
    check()


def test_every_shipped_policy_is_checked():
    assert {"mql_only", "mqa_count", "mql_scored", "mqa_depth", "mql_or_mqa"} <= set(SHIPPED)


def test_built_in_kinds_get_every_check_that_their_extras_allow():
    assert check_names(policies.load_policy("mqa_count")) == ALL
    assert check_names(policies.load_policy("progression_stages")) == ALL
    # A combinator declares no threshold and has no explanation: those two do not apply.
    combo = check_names(policies.load_policy("mql_or_mqa"))
    assert combo == [n for n in ALL if n not in ("sweep_equals_loop", "explain_agrees")]


# -- plug-ins, good and broken ------------------------------------------------------------------


class Breadth(PolicyBase):
    """A well-behaved plug-in wrapping a built-in: the shipped MQA with its own breadth."""

    kind: Literal["check_breadth"] = "check_breadth"
    people: int = 4

    def evaluate(self, log: sim.EventLog) -> pd.DataFrame:
        mqa = policies.load_policy("mqa_count")
        mqa = policies.with_value(mqa, "any.0.unique_contacts", self.people)
        return policies.evaluate(mqa, log).assign(policy=self.name)


class PeeksAhead(Breadth):
    """Hands off every account its rule will ever qualify, already at its first event."""

    kind: Literal["check_peeks"] = "check_peeks"

    def evaluate(self, log):
        q = super().evaluate(log)
        first = log.events.groupby("account_id")["time"].min()
        return q.assign(time=first.reindex(q["account_id"]).to_numpy())


class MutatesLog(Breadth):
    """Writes a helper column into the log it was given."""

    kind: Literal["check_mutates"] = "check_mutates"

    def evaluate(self, log):
        log.events["is_demo"] = log.events["activity"].astype(str) == "demo_request"
        return super().evaluate(log)


class WrongColumns(Breadth):
    """Forgets the ``stage`` column."""

    kind: Literal["check_columns"] = "check_columns"

    def evaluate(self, log):
        return super().evaluate(log).drop(columns="stage")


class Unsorted(Breadth):
    """Returns its handoffs latest first."""

    kind: Literal["check_unsorted"] = "check_unsorted"

    def evaluate(self, log):
        return super().evaluate(log).iloc[::-1]


class OffTheLog(Breadth):
    """Hands off half a day after the rule holds: not an event time."""

    kind: Literal["check_off_log"] = "check_off_log"

    def evaluate(self, log):
        q = super().evaluate(log)
        return q.assign(time=q["time"] + 0.5)


class Restless(Breadth):
    """Its scores change from one run to the next."""

    kind: Literal["check_restless"] = "check_restless"

    def evaluate(self, log):
        q = super().evaluate(log)
        return q.assign(score=q["score"] + next(RUNS))


class HandsOffNothing(Breadth):
    """Hands off account 0 at day 0 whatever the log says, even an empty one."""

    kind: Literal["check_phantom"] = "check_phantom"

    def evaluate(self, log):
        row = {**dict.fromkeys(QUALIFICATION_COLUMNS, ""), "account_id": 0, "time": 0.0}
        return pd.DataFrame([{**row, "contact_id": -1, "score": 1.0}])[QUALIFICATION_COLUMNS]


for cls in (Breadth, PeeksAhead, MutatesLog, WrongColumns, Unsorted, OffTheLog, Restless):
    register(cls.model_fields["kind"].default)(cls)
register("check_phantom")(HandsOffNothing)


def _policy(kind: str) -> PolicyBase:
    return policies.load_policy({"name": kind.removeprefix("check_"), "kind": kind})


def _fails(policy: PolicyBase, check: str, match: str) -> None:
    with pytest.raises(PolicyCheckError, match=match) as err:
        policies.check_policy(policy, small_log(), cuts=20)
    assert err.value.check == check
    assert str(err.value).startswith(f"{policy.name}: {check}: ")


def test_a_well_behaved_plugin_passes_and_its_number_is_swept():
    p = _policy("check_breadth")
    assert check_names(p) == ALL[:6]  # no explanation, no reference; people is swept
    policies.check_policy(p, small_log())


@pytest.mark.parametrize(
    ("kind", "check", "match"),
    [
        ("check_peeks", "no_look_ahead", "looks ahead"),
        ("check_mutates", "input_untouched", r"modified the input log \(events\)"),
        ("check_columns", "output_contract", "columns"),
        ("check_unsorted", "output_contract", "not sorted"),
        ("check_off_log", "output_contract", "not one of its event times"),
        ("check_restless", "deterministic", "not deterministic"),
        ("check_phantom", "output_contract", "hands off account 0"),
    ],
)
def test_a_broken_plugin_fails_the_check_that_names_its_fault(kind, check, match):
    _fails(_policy(kind), check, match)


def test_the_empty_log_check_on_its_own():
    with pytest.raises(PolicyCheckError, match="hands off on an empty log"):
        run_check("empty_log", _policy("check_phantom"), small_log())


def test_checks_yields_named_callables_and_each_runs_alone():
    p = _policy("check_mutates")
    named = dict(checks(p, small_log()))
    assert list(named) == ALL[:6]
    named["output_contract"]()  # passes: its output is fine
    with pytest.raises(PolicyCheckError, match="input_untouched"):
        named["input_untouched"]()


# -- a kind's extras, broken -------------------------------------------------------------------


@pytest.fixture
def patched(monkeypatch):
    """Replace one of a registered kind's functions for the duration of a test."""

    def patch(name: str, **changes) -> None:
        monkeypatch.setitem(registry._KINDS, name, dataclasses.replace(lookup(name), **changes))

    return patch


def test_a_wrong_one_pass_sweep_fails_sweep_equals_loop(patched):
    real = lookup("mqa_count").sweep

    def off_by_one(policy, f, path, values):
        out = real(policy, f, path, values)
        return None if out is None else out.assign(value=out["value"] + 1)

    patched("mqa_count", sweep=off_by_one)
    _fails(policies.load_policy("mqa_count"), "sweep_equals_loop", "differs from a loop")


def test_an_explanation_of_other_handoffs_fails_explain_agrees(patched):
    real = lookup("weighted_titles").explain

    def shifted(policy, f, touches, row):
        moved = row.copy()
        moved["time"] = row["time"] + 1
        return real(policy, f, touches, moved)

    patched("weighted_titles", explain=shifted)
    _fails(policies.load_policy("weighted_titles"), "explain_agrees", "disagree")


def test_a_fast_evaluator_that_drifts_from_the_reference_fails_fast_equals_reference(patched):
    real = lookup("mql").evaluate

    def generous(policy, log, frame=None):
        q = real(policy, log, frame)
        return q.assign(score=q["score"] * 1.01)

    patched("mql", evaluate=generous)
    _fails(policies.load_policy("mql_only"), "fast_equals_reference", "differs from the reference")
