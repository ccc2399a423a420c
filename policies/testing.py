"""Pytest support for a user's own policies: every conformance check of
:mod:`policies.check` as a test of its own (like scikit-learn's ``parametrize_with_checks``).

In a test module::

    import functools, sim, policies
    from policies.testing import parametrize_with_checks

    @functools.cache
    def small_log():
        w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 60}}), seed=1)
        return sim.EventLog.from_world(w)

    @parametrize_with_checks([policies.load_policy("rules/my_mqa.yaml")], small_log)
    def test_my_policy(policy, check):
        check()

Each (policy, check) pair is one test, named ``<policy>-<check>``; a failure names the check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

import pytest

from policies.check import check_names, run_check
from policies.schema import PolicyBase
from sim.eventlog import EventLog


@dataclass(frozen=True)
class CheckCall:
    """One check of one policy, run on the log of ``log_factory`` when called."""

    name: str
    policy: PolicyBase
    log_factory: Callable[[], EventLog]
    cuts: int = 5

    def __call__(self) -> None:
        run_check(self.name, self.policy, self.log_factory(), self.cuts)

    def __repr__(self) -> str:
        return f"<check {self.name} of {self.policy.name}>"


def parametrize_with_checks(
    policies: Iterable[PolicyBase], log_factory: Callable[[], EventLog], cuts: int = 5
) -> pytest.MarkDecorator:
    """A ``pytest.mark.parametrize`` over (``policy``, ``check``): every check that applies
    to each policy. ``log_factory()`` gives the log they run on; it is called once, when the
    first check runs (not at collection)."""
    log = cache(log_factory)
    params = [
        pytest.param(p, CheckCall(name, p, log, cuts), id=f"{p.name}-{name}")
        for p in policies
        for name in check_names(p)
    ]
    return pytest.mark.parametrize(("policy", "check"), params)
