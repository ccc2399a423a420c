"""Policy test cases written as YAML, so teams can pin their own rules in their CI
(``qualsim test-policy tests.yaml``), in the spirit of OpenFisca's YAML tests.

A file names a policy (a path inside the file's own folder tree, a shipped name, or the policy
inline) and lists cases; each case is a tiny event log and the handoffs expected from it::

    policy: rules/mqa_count.yaml      # in this file's folder tree, or a shipped name
    cases:
      - name: four people within a week qualify a tier-2 account
        accounts: [{account_id: acme, tier: 2}]
        contacts:
          - {contact_id: ann, account_id: acme, title: CISO}
        events:                       # [day, account, contact or null, activity]
          - [0, acme, ann, web_visit]
          - [2, acme, bob, webinar]
          - [3, acme, cy, content_download]
          - [5, acme, dee, demo_request]
        expect:
          - {account: acme, day: 5, rule: any.0}

Contacts that appear only in ``events`` are added with an empty title. ``expect: []`` says the
policy must not hand off. A handoff matches when account and day agree (and ``rule`` /
``contact``, where given). Every field is described in ``docs/policies.md`` ("The test-case
format") and in ``qualsim schema cases``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import Field

from policies.evaluation import evaluate
from policies.loading import load_policy, no_such_policy, resolve_policy
from policies.schema import PolicyBase, Strict
from sim.config.chain import ConfigFile, validate_model
from sim.config.inline import relocate
from sim.config.strict_yaml import LineMap, read_yaml_file
from sim.config.types import Float
from sim.errors import ConfigError
from sim.eventlog import EventLog
from sim.vocab import Activity

Id = str | int


class Expected(Strict):
    """One expected handoff."""

    account: Id = Field(description="the account handed off (its id in the case)")
    day: Float = Field(description="the day of the handoff (the time of the touch that fired)")
    rule: str | None = Field(None, description="the rule that fired, e.g. any.0 (null: any rule)")
    contact: Id | None = Field(
        None, description="the person handed off, for lead-level kinds (null: any)"
    )


class Case(Strict):
    """A tiny history and what the policy must do with it."""

    name: Annotated[str, Field(min_length=1)] = Field(description="what the case shows")
    events: list[tuple[Float, Id, Id | None, Activity]] = Field(
        description="the touches: [day, account, contact or null (anonymous), activity]"
    )
    contacts: list[dict[str, Any]] = Field(
        default_factory=list,
        description="people with their columns (contact_id, account_id, title, seniority, "
        "role, ...); people only in events get an empty title",
    )
    accounts: list[dict[str, Any]] = Field(
        default_factory=list, description="accounts with their columns (account_id, tier, ...)"
    )
    expect: list[Expected] = Field(
        description="every handoff the policy must make, and no other ([]: none)"
    )


class CaseFile(Strict):
    """A policy and its test cases."""

    policy: str | dict[str, Any] = Field(
        description="the policy: a file in this file's folder tree, a shipped name, or inline"
    )
    cases: Annotated[list[Case], Field(min_length=1)] = Field(description="the test cases")


@dataclass(frozen=True)
class Outcome:
    """The result of one case: passed, and the differences when not."""

    name: str
    passed: bool
    missing: list[str]
    unexpected: list[str]


def run_cases(path: str | Path) -> tuple[str, list[Outcome]]:
    """Run every case of a test file; returns the policy name and each case's outcome."""
    policy, spec = load_cases(path)
    return policy.name, [_run(policy, case) for case in spec.cases]


def load_cases(path: str | Path) -> tuple[PolicyBase, CaseFile]:
    """Read and validate a test file: its policy (loaded) and its cases, without running them."""
    path = Path(path)
    data, lines = read_yaml_file(path)
    spec = validate_model(CaseFile, data, [ConfigFile(path, data, lines)], what="policy tests")
    if isinstance(spec.policy, str):
        try:
            target = resolve_policy(spec.policy, path)
        except ConfigError as exc:
            line = lines.line_of(("policy",))
            raise ConfigError(f"{path}:{line}: policy: {exc}") from None
        if not target.exists():
            line = lines.line_of(("policy",))
            raise ConfigError(f"{path}:{line}: policy: {no_such_policy(spec.policy)}")
    try:
        return load_policy(spec.policy, relative_to=path), spec
    except ConfigError as exc:
        if isinstance(spec.policy, str):
            raise
        raise ConfigError(relocate(str(exc), path, lines, ("policy",), data)) from None


def _run(policy: PolicyBase, case: Case) -> Outcome:
    log, accounts, people = _case_log(case)
    got = [
        (
            accounts[r.account_id],
            float(r.time),
            r.rule,
            people[r.contact_id] if r.contact_id >= 0 else None,
        )
        for r in evaluate(policy, log).itertuples()
    ]
    missing, used = [], set()
    for e in case.expect:
        hit = next((i for i, g in enumerate(got) if i not in used and _matches(e, g)), None)
        if hit is None:
            missing.append(_fmt(e.account, e.day, e.rule, e.contact))
        else:
            used.add(hit)
    unexpected = [_fmt(*g) for i, g in enumerate(got) if i not in used]
    return Outcome(case.name, not missing and not unexpected, missing, unexpected)


def _matches(e: Expected, got: tuple[Id, float, str, Id | None]) -> bool:
    """Does a handoff (account, day, rule, contact) match an expected one?"""
    account, day, rule, contact = got
    return (
        account == e.account
        and abs(day - e.day) < 1e-9
        and (e.rule is None or rule == e.rule)
        and (e.contact is None or contact == e.contact)
    )


def _case_log(case: Case) -> tuple[EventLog, list[Any], list[Any]]:
    """The case's tiny history as an EventLog with integer ids, and the case's account and
    contact ids in the order of those integers."""
    accounts = list(
        dict.fromkeys([a.get("account_id") for a in case.accounts] + [e[1] for e in case.events])
    )
    acc_code = {a: i for i, a in enumerate(accounts)}
    people = list(
        dict.fromkeys(
            [c.get("contact_id") for c in case.contacts]
            + [e[2] for e in case.events if e[2] is not None]
        )
    )
    con_code = {c: i for i, c in enumerate(people)}
    rows = sorted(
        (
            (float(t), acc_code[a], con_code[c] if c is not None else -1, act)
            for t, a, c, act in case.events
        ),
        key=lambda r: (r[1], r[0]),
    )
    events = pd.DataFrame(rows, columns=["time", "account_id", "contact_id", "activity"])
    given_acc = {a.get("account_id"): a for a in case.accounts}
    accounts_df = pd.DataFrame(
        [
            {
                **{k: v for k, v in given_acc.get(a, {}).items() if k != "account_id"},
                "account_id": acc_code[a],
            }
            for a in accounts
        ]
    )
    return EventLog(events, _contacts(case, people, acc_code), accounts_df), accounts, people


def _contacts(case: Case, people: list[Any], acc_code: dict[Any, int]) -> pd.DataFrame:
    """The contacts table: each person's given attributes, integer ids, a title ("" if none)."""
    if not people:
        return pd.DataFrame({"contact_id": [], "account_id": [], "title": []})
    given = {c.get("contact_id"): c for c in case.contacts}
    con_code = {c: i for i, c in enumerate(people)}
    return pd.DataFrame(
        [
            {
                **{
                    k: v
                    for k, v in given.get(p, {}).items()
                    if k not in ("contact_id", "account_id")
                },
                "contact_id": con_code[p],
                "account_id": acc_code.get(
                    given.get(p, {}).get("account_id"), _account_of(p, case, acc_code)
                ),
                "title": given.get(p, {}).get("title", ""),
            }
            for p in people
        ],
        columns=None,
    )


def _account_of(person, case: Case, acc_code: dict) -> int:
    for _, a, c, _ in case.events:
        if c == person:
            return acc_code[a]
    return -1


def _fmt(account, day, rule, contact) -> str:
    extra = "".join(f", {k} {v}" for k, v in (("rule", rule), ("contact", contact)) if v)
    return f"account {account} at day {day:g}{extra}"


__all__ = ["Case", "CaseFile", "LineMap", "Outcome", "run_cases"]
