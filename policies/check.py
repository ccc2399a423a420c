"""The conformance checks every policy — built-in or a user's plug-in — must pass, as a suite
of named checks (in the spirit of scikit-learn's ``check_estimator``): :func:`checks` yields
each applicable check as ``(name, callable)``, :func:`check_policy` runs them all and raises
:class:`PolicyCheckError` naming the first that fails, and
:func:`policies.testing.parametrize_with_checks` makes each one a test of its own.

>>> import sim, policies
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 30}}), seed=1)
>>> log = sim.EventLog.from_world(w)
>>> p = policies.load_policy("mqa_count")
>>> check_names(p)  # doctest: +NORMALIZE_WHITESPACE
['output_contract', 'input_untouched', 'deterministic', 'empty_log', 'no_look_ahead',
 'sweep_equals_loop', 'explain_agrees', 'fast_equals_reference']
>>> check_policy(p, log)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from policies.evaluation import evaluate, sweep
from policies.explain import explain_accounts
from policies.kernels.frame import Frame
from policies.kernels.output import QUALIFICATION_COLUMNS
from policies.kernels.views import policy_view
from policies.loading import value_at, with_value
from policies.registry import kind_of
from policies.schema import PolicyBase
from sim.errors import DataError
from sim.eventlog import EventLog
from sim.tables import QUALIFICATIONS

REFERENCE_ACCOUNTS = 30  # the reference evaluator is slow: compared on the first accounts only
EXPLAINED_ACCOUNTS = 50  # handed-off accounts explained (and as many without a handoff, at most)
KEYS = ["account_id", "contact_id", "time", "rule", "stage"]  # what must agree exactly


class PolicyCheckError(AssertionError):
    """A policy broke one of the conformance rules; ``check`` names which."""

    def __init__(self, message: str, check: str = ""):
        super().__init__(message)
        self.check = check


def _fail(policy: PolicyBase, message: str) -> NoReturn:
    raise PolicyCheckError(message)


# -- the checks ---------------------------------------------------------------------------------


def output_contract(policy: PolicyBase, log: EventLog, cuts: int) -> None:
    """The qualifications columns and dtypes (``sim.tables.QUALIFICATIONS``), sorted by
    (account_id, time), handing off only accounts of the log at their own event times."""
    q = evaluate(policy, log)
    if list(q.columns) != QUALIFICATION_COLUMNS:
        _fail(policy, f"columns {list(q.columns)}, expected {QUALIFICATION_COLUMNS}")
    try:
        QUALIFICATIONS.check(q, policy.name)
    except DataError as exc:
        _fail(policy, str(exc))
    acc, t = q["account_id"].to_numpy(), q["time"].to_numpy(np.float64)
    if ((acc[1:] < acc[:-1]) | ((acc[1:] == acc[:-1]) & (t[1:] < t[:-1]))).any():
        _fail(policy, "qualifications not sorted by (account_id, time)")
    events = log.events[["account_id", "time"]].astype({"account_id": np.int64})
    pairs = q[["account_id", "time"]].astype({"account_id": np.int64, "time": np.float64})
    found = pairs.merge(events.drop_duplicates(), how="left", indicator=True)["_merge"]
    if (found != "both").any():
        a, when = pairs[(found != "both").to_numpy()].iloc[0]
        _fail(policy, f"hands off account {a:g} at day {when:g}, not one of its event times")


def input_untouched(policy: PolicyBase, log: EventLog, cuts: int) -> None:
    """The log's events, contacts and accounts are the same after an evaluation: the log given
    and the log as the policy sees it (without system events, say), which is what its kind's
    evaluator receives."""
    for given in (log, policy_view(policy, log)[0]):
        tables = {"events": given.events, "contacts": given.contacts, "accounts": given.accounts}
        before = {name: t.copy(deep=True) for name, t in tables.items()}
        evaluate(policy, given)
        for name, was in before.items():
            try:
                pd.testing.assert_frame_equal(getattr(given, name), was)
            except AssertionError:
                _fail(policy, f"modified the input log ({name})")


def deterministic(policy: PolicyBase, log: EventLog, cuts: int) -> None:
    """The same handoffs every time, and with a :class:`Frame` shared between evaluations."""
    first = evaluate(policy, log)
    frame = Frame(log)
    for again in (
        evaluate(policy, log),
        evaluate(policy, log, frame),
        evaluate(policy, log, frame),
    ):
        try:
            pd.testing.assert_frame_equal(first, again)
        except AssertionError:
            _fail(policy, "not deterministic")


def empty_log(policy: PolicyBase, log: EventLog, cuts: int) -> None:
    """An empty log: no handoffs, the qualifications columns."""
    q = evaluate(policy, EventLog(log.events.iloc[:0], log.contacts, log.accounts))
    if len(q):
        _fail(policy, "hands off on an empty log")
    if list(q.columns) != QUALIFICATION_COLUMNS:
        _fail(policy, f"columns {list(q.columns)} on an empty log")


def no_look_ahead(policy: PolicyBase, log: EventLog, cuts: int) -> None:
    """Truncating the log after t changes no handoff at or before t (``cuts`` cut points)."""
    q = evaluate(policy, log)
    times = np.unique(log.events["time"].to_numpy())
    for t in times[np.linspace(0, len(times) - 1, min(cuts, len(times))).astype(int)]:
        part = evaluate(policy, log.until(float(t))).reset_index(drop=True)
        full = q[q["time"] <= t].reset_index(drop=True)
        try:
            pd.testing.assert_frame_equal(full, part, check_dtype=False)
        except AssertionError:
            _fail(
                policy,
                f"looks ahead — truncating the log after day {t:g} changes its handoffs at or "
                "before that day",
            )


def sweep_equals_loop(policy: PolicyBase, log: EventLog, cuts: int) -> None:
    """``policies.sweep`` of the kind's first threshold equals a loop of evaluations."""
    path = kind_of(policy).threshold_paths(policy)[0]
    values = _around(value_at(policy, path))
    got = sweep(policy, log, path, values)
    loop = [evaluate(with_value(policy, path, v), log).assign(value=v) for v in values]
    try:
        pd.testing.assert_frame_equal(got, pd.concat(loop, ignore_index=True))
    except AssertionError as exc:
        _fail(policy, f"sweeping {path} over {values} differs from a loop of evaluate: {exc}")


def _around(v: Any) -> list[Any]:
    """The value, a larger and a smaller one (whole numbers stay whole and positive)."""
    if isinstance(v, int):
        return list(dict.fromkeys([v, v + 1, max(v - 1, 1)]))
    return [v, v * 2, v / 2]


def explain_agrees(policy: PolicyBase, log: EventLog, cuts: int) -> None:
    """``explain`` explains exactly the handoffs ``evaluate`` returns (for up to
    :data:`EXPLAINED_ACCOUNTS` accounts with and as many without), each by touches of the
    account inside the span of time it names, ending at the handoff."""
    q = evaluate(policy, log)
    handed = q["account_id"].drop_duplicates().to_numpy()[:EXPLAINED_ACCOUNTS]
    others = np.setdiff1d(log.events["account_id"].unique(), q["account_id"])
    accounts = [int(a) for a in np.r_[handed, others[:EXPLAINED_ACCOUNTS]]]
    for a, whys in explain_accounts(policy, log, accounts).items():
        rows = q.loc[q["account_id"] == a, KEYS].reset_index(drop=True)
        told = pd.DataFrame([w.handoff[KEYS].to_dict() for w in whys], columns=KEYS)
        try:
            pd.testing.assert_frame_equal(told, rows, check_dtype=False)
        except AssertionError:
            _fail(policy, f"explain and evaluate disagree on the handoffs of account {a}")
        for w in whys:
            lo, t = w.window
            if t != w.handoff["time"] or not w.touches["time"].between(lo, t).all():
                _fail(policy, f"explains account {a}'s handoff at day {t:g} by other touches")


def fast_equals_reference(policy: PolicyBase, log: EventLog, cuts: int) -> None:
    """The fast evaluator equals the kind's reference evaluator (on the log's first
    :data:`REFERENCE_ACCOUNTS` accounts: the reference is slow)."""
    ids = np.unique(log.events["account_id"].to_numpy())[:REFERENCE_ACCOUNTS]
    small = EventLog(log.events[log.events["account_id"].isin(ids)], log.contacts, log.accounts)
    reference = kind_of(policy).reference
    assert reference is not None
    fast, ref = evaluate(policy, small), reference(policy, small)
    try:
        pd.testing.assert_frame_equal(
            fast[KEYS].reset_index(drop=True), ref[KEYS].reset_index(drop=True), check_dtype=False
        )
        np.testing.assert_allclose(fast["score"].to_numpy(float), ref["score"].to_numpy(float))
    except AssertionError as exc:
        _fail(policy, f"the fast evaluator differs from the reference: {exc}")


def _has_reference(policy: PolicyBase) -> bool:
    """A reference evaluator for the policy's kind and every member's (combinators)."""
    members = getattr(policy, "members", ())
    return kind_of(policy).reference is not None and all(_has_reference(m) for m in members)


# -- the suite ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """A named check, and which policies it applies to."""

    name: str
    run: Callable[[PolicyBase, EventLog, int], None]
    applies: Callable[[PolicyBase], bool] = lambda policy: True


CHECKS = (
    Check("output_contract", output_contract),
    Check("input_untouched", input_untouched),
    Check("deterministic", deterministic),
    Check("empty_log", empty_log),
    Check("no_look_ahead", no_look_ahead),
    Check("sweep_equals_loop", sweep_equals_loop, lambda p: bool(kind_of(p).threshold_paths(p))),
    Check("explain_agrees", explain_agrees, lambda p: kind_of(p).explain is not None),
    Check("fast_equals_reference", fast_equals_reference, _has_reference),
)


def check_names(policy: PolicyBase) -> list[str]:
    """The names of the checks that apply to ``policy`` (those of its kind's extras, if it
    registers them: sweep thresholds, explain, reference)."""
    return [c.name for c in CHECKS if c.applies(policy)]


def checks(
    policy: PolicyBase, log: EventLog, cuts: int = 5
) -> Iterator[tuple[str, Callable[[], None]]]:
    """Each check that applies to ``policy``, as ``(name, run)``: ``run()`` raises
    :class:`PolicyCheckError` naming the check when the policy fails it on ``log``."""
    for c in CHECKS:
        if c.applies(policy):
            yield c.name, partial(run_check, c.name, policy, log, cuts)


def run_check(name: str, policy: PolicyBase, log: EventLog, cuts: int = 5) -> None:
    """Run the check ``name`` on a copy of ``log``; any failure (or error) becomes a
    :class:`PolicyCheckError` whose message starts with the policy and the check."""
    check = next(c for c in CHECKS if c.name == name)
    own = EventLog(*(t.copy(deep=True) for t in (log.events, log.contacts, log.accounts)))
    try:
        check.run(policy, own, cuts)  # on its own copy: checks never see each other's harm
    except PolicyCheckError as exc:
        raise PolicyCheckError(f"{policy.name}: {name}: {exc}", check=name) from None
    except Exception as exc:
        message = f"{policy.name}: {name}: {type(exc).__name__}: {exc}"
        raise PolicyCheckError(message, check=name) from exc


def check_policy(policy: PolicyBase, log: EventLog, cuts: int = 5) -> None:
    """Raise :class:`PolicyCheckError` (naming the check) unless ``policy`` passes every
    check that applies to it on ``log``: the output contract, input log untouched,
    deterministic, empty log handled, no look-ahead (``cuts`` cut points), a sweep equals a
    loop of evaluate, explain agrees with evaluate, the fast evaluator equals the reference."""
    for _, run in checks(policy, log, cuts):
        run()
