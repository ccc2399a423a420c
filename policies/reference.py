"""The reference evaluator: slow on purpose, and obviously correct.

This module is the executable form of ``policies/README.md``. It exists so that the fast
evaluators have something simple to be checked against: plain Python, one account at a time,
one event time at a time, and at every event time the window is recomputed from scratch by
scanning that account's events. There is no vectorisation, no incremental state, no caching —
if a line here is not an obvious transcription of a README sentence, that is a bug. Do not
optimise it; it is meant to be run on small logs (tests, spot checks).

Public API:

- :func:`evaluate` ``(policy, log) -> DataFrame`` — one row per handoff, columns
  :data:`COLUMNS`.
- :func:`stage_entries` ``(policy, log) -> DataFrame`` — every stage entry of a ``stages``
  policy, columns :data:`STAGE_COLUMNS`.
- :func:`title_matches` ``(title, phrase) -> bool`` — the whole-word title matching rule.

Where README.md is silent, this evaluator decides as follows (each is stated again where it
is implemented):

- A condition filter on ``seniority`` or ``roles`` never matches a contact whose attribute is
  unknown: the contacts table lacks the column (``seniority`` / ``role``), the contact is not in
  the contacts table, or the value is missing. When both filters are given a contact must pass
  both.
- A condition with ``tier`` or ``icp_fit_min`` never holds for an account whose tier / icp_fit
  is unknown (no such column, account not in the accounts table, or missing value);
  ``icp_fit_min`` is inclusive (``icp_fit >= icp_fit_min``).
- The ``tiers`` override of ``mqa_count`` applies only when the account's tier is known.
- A touch by a contact id that is not −1 but is absent from the contacts table is a known
  contact (it counts as a unique contact when no seniority/roles filter applies); it has no
  fit points and the default title weight.
- ``exclude_titles`` excludes only known contacts whose recorded title matches a phrase: a
  contact without a title (missing value, no ``title`` column, not in the contacts table) is
  not excluded, and anonymous touches are never excluded by it (they have no title; they
  still count toward ``min_activities`` where ``include_anonymous`` says so).
- ``min_touches_per_contact`` counts a contact's touches exactly as ``min_activities`` counts
  the account's: the condition's counting touches in its window (after its activities,
  seniority / roles filters and exclude_titles). It applies to ``unique_contacts`` only, so with
  ``unique_contacts: 0`` it changes nothing.
- ``mql``: the account's contacts are the contacts of the account's events.
  With ``decay: {window_days: W}`` a contact keeps its fit points after all its touches have
  left the window (it has a score "from its first touch on").
- ``weighted_titles`` accepts ``decay: {window_days: W}`` (the schema allows it) and treats it
  exactly like ``window_days: W``.
- ``stages``: the handoff *is* the entry into ``handoff_stage``, and stages only move forward,
  so it is entered — and the account handed off — at most once; ``recycle_days`` has no effect
  on a ``stages`` policy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from policies.loading import load_policy
from policies.schema import (
    Combinator,
    Condition,
    Group,
    MqaCount,
    Mql,
    PolicyBase,
    Stages,
    WeightedTitles,
)
from sim.vocab import SALES_ACTIVITIES, SYSTEM_ACTIVITIES

COLUMNS: tuple[str, ...] = ("policy", "account_id", "contact_id", "time", "rule", "score", "stage")
DTYPES: dict[str, Any] = {
    "policy": str,
    "account_id": "int64",
    "contact_id": "int64",
    "time": "float64",
    "rule": str,
    "score": "float64",
    "stage": str,
}
STAGE_COLUMNS: tuple[str, ...] = ("policy", "account_id", "stage", "time")
STAGE_DTYPES: dict[str, Any] = {
    "policy": str,
    "account_id": "int64",
    "stage": str,
    "time": "float64",
}
ANONYMOUS = -1


# --------------------------------------------------------------------------------------------
# Reading the log into plain Python values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Touch:
    """One event of one account."""

    time: float
    contact_id: int
    activity: str


def _missing(value: Any) -> bool:
    """None, NaN, pd.NA, NaT: an unknown attribute."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _touches_by_account(log) -> dict[int, list[Touch]]:
    """Every account's events, in the order of the log."""
    out: dict[int, list[Touch]] = {}
    for t, a, c, act in _event_rows(log):
        out.setdefault(a, []).append(Touch(t, c, act))
    return out


def _event_rows(log) -> list[tuple[float, int, int, str]]:
    """The log's events as plain (time, account_id, contact_id, activity) tuples, in order."""
    ev = log.events
    cols = ("time", "account_id", "contact_id", "activity")
    return [
        (float(t), int(a), int(c), str(act))
        for t, a, c, act in zip(*(ev[k].tolist() for k in cols), strict=True)
    ]


def _contacts(log) -> dict[int, dict[str, Any]]:
    """contact_id -> {title, seniority, department, role}; a column the table lacks, or a
    missing value, gives None (title: "")."""
    table = log.contacts
    out: dict[int, dict[str, Any]] = {}
    for row in table.to_dict("records"):
        person: dict[str, Any] = {}
        for col in ("seniority", "department", "role"):
            value = row.get(col)
            person[col] = None if _missing(value) else str(value)
        title = row.get("title")
        person["title"] = "" if _missing(title) else str(title)
        out[int(row["contact_id"])] = person
    return out


def _accounts(log) -> dict[int, dict[str, Any]]:
    """account_id -> {tier, icp_fit}; unknown values are None."""
    out: dict[int, dict[str, Any]] = {}
    for row in log.accounts.to_dict("records"):
        tier = row.get("tier")
        fit = row.get("icp_fit")
        out[int(row["account_id"])] = {
            "tier": None if _missing(tier) else int(tier),
            "icp_fit": None if _missing(fit) else float(fit),
        }
    return out


def _event_times(touches: list[Touch]) -> list[float]:
    """The account's distinct event times (any activity, anonymous or not), in time order."""
    return sorted({x.time for x in touches})


def _visible(touches: list[Touch], t: float) -> list[Touch]:
    """What the policy sees at time t: the events at or before t (all events at t included)."""
    return [x for x in touches if x.time <= t]


def _in_window(x: Touch, t: float, window_days: float) -> bool:
    """[t - W, t], both ends included; the lower edge is the float ``t - W``."""
    lower = t - window_days
    return lower <= x.time <= t


# --------------------------------------------------------------------------------------------
# Handoffs and recycling (common to every kind)
# --------------------------------------------------------------------------------------------


def _handoffs(times: list[float], recycle_days: float | None, decide) -> list[tuple[float, Any]]:
    """Hand off at the first event time at which ``decide(t)`` is not None; after a handoff at
    t0, not again before t0 + recycle_days, then at the first event time t >= t0 +
    recycle_days at which it holds. Without recycle_days: at most once."""
    out: list[tuple[float, Any]] = []
    last: float | None = None
    for t in times:
        if last is not None:
            if recycle_days is None:
                break
            if t < last + recycle_days:
                continue
        got = decide(t)
        if got is not None:
            out.append((t, got))
            last = t
    return out


# --------------------------------------------------------------------------------------------
# Conditions and groups (mqa_count, stages)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Defaults:
    """What a condition falls back to when it does not set the key itself."""

    window_days: float | None
    activities: tuple[str, ...]
    include_anonymous: bool


def condition_holds(
    cond: Condition,
    touches: list[Touch],
    t: float,
    account: dict[str, Any],
    contacts: dict[int, dict[str, Any]],
    defaults: _Defaults,
) -> bool:
    """Does ``cond`` hold at time t for an account with these touches?

    Scans every touch of the account. A touch counts when it is in the condition's window and
    its activity is one of the condition's activities, and it is either by a known contact who
    passes the seniority/roles filters and whose title matches no exclude_titles phrase, or
    anonymous with include_anonymous in force and no seniority/roles filter. The condition
    holds when the number of distinct known contacts with at least min_touches_per_contact
    counting touches is >= unique_contacts and the number of counting touches is >=
    min_activities.
    """
    # Which accounts the condition can hold for. Unknown tier / icp_fit: never.
    if cond.tier is not None:
        tier = account.get("tier")
        if tier is None or tier not in cond.tier:
            return False
    if cond.icp_fit_min is not None:
        icp_fit = account.get("icp_fit")
        if icp_fit is None or not icp_fit >= cond.icp_fit_min:
            return False

    window = cond.window_days if cond.window_days is not None else defaults.window_days
    if window is None:  # pragma: no cover - the schema requires a window for stages
        raise ValueError("condition without window_days")
    activities = set(cond.activities if cond.activities is not None else defaults.activities)
    include_anonymous = (
        cond.include_anonymous if cond.include_anonymous is not None else defaults.include_anonymous
    )
    filters_people = cond.seniority is not None or cond.roles is not None
    excluded_phrases = cond.exclude_titles or []

    counting_touches = 0
    touches_of: dict[int, int] = {}  # known contact -> its counting touches
    for x in _visible(touches, t):
        if not _in_window(x, t, window):
            continue
        if x.activity not in activities:
            continue
        if x.contact_id == ANONYMOUS:
            # Never a unique contact; a touch only with include_anonymous, and never when the
            # condition filters on seniority or roles.
            if include_anonymous and not filters_people:
                counting_touches += 1
            continue
        person = contacts.get(x.contact_id, {})
        # Filters: only known contacts with those values count; unknown values never match.
        if cond.seniority is not None and person.get("seniority") not in cond.seniority:
            continue
        if cond.roles is not None and person.get("role") not in cond.roles:
            continue
        # Excluded titles: such a contact's touches do not count at all. A contact without a
        # title, or not in the contacts table, has the title "" and matches no phrase.
        title = person.get("title", "")
        if any(title_matches(title, phrase) for phrase in excluded_phrases):
            continue
        counting_touches += 1
        touches_of[x.contact_id] = touches_of.get(x.contact_id, 0) + 1

    # A contact counts toward unique_contacts only with enough counting touches of its own.
    counting_contacts = [c for c, n in touches_of.items() if n >= cond.min_touches_per_contact]
    return (
        len(counting_contacts) >= cond.unique_contacts and counting_touches >= cond.min_activities
    )


def clause_holds(clause: Condition | Group, touches, t, account, contacts, defaults) -> bool:
    """A condition, or ``any`` (at least one child holds) / ``all`` (every child holds) /
    ``not`` (its one child does not hold) of conditions and nested groups."""
    if isinstance(clause, Condition):
        return condition_holds(clause, touches, t, account, contacts, defaults)
    results = [
        clause_holds(child, touches, t, account, contacts, defaults) for child in clause.children
    ]
    if clause.op == "any":
        return any(results)
    if clause.op == "all":
        return all(results)
    return not results[0]


def fired_rule(group: Group, prefix: str, touches, t, account, contacts, defaults) -> str | None:
    """The rule name if the top-level group holds at t, else None: for ``any`` the first
    top-level child that holds (``any.1``, or ``tiers.1.any.0`` with prefix ``tiers.1.``); for
    ``all`` / ``not`` the group itself (``all``, ``not``, ``tiers.1.all``)."""
    if group.op == "any":
        for name, child in group.named(prefix):
            if clause_holds(child, touches, t, account, contacts, defaults):
                return name
        return None
    if clause_holds(group, touches, t, account, contacts, defaults):
        return f"{prefix}{group.op}"
    return None


def _mqa_score(policy: MqaCount, touches: list[Touch], t: float) -> float:
    """The number of distinct known contacts with a touch of the policy's activities in the
    policy's window at t (no condition's filters or overrides apply)."""
    activities = set(policy.activities)
    people = {
        x.contact_id
        for x in _visible(touches, t)
        if x.contact_id != ANONYMOUS
        and _in_window(x, t, policy.window_days)
        and x.activity in activities
    }
    return float(len(people))


def _evaluate_mqa(policy: MqaCount, touches, account, contacts) -> list[dict[str, Any]]:
    defaults = _Defaults(
        window_days=policy.window_days,
        activities=tuple(policy.activities),
        include_anonymous=policy.include_anonymous,
    )
    # An account whose tier has an override uses it instead (a tier must be known).
    tier = account.get("tier")
    if tier is not None and tier in policy.tiers:
        group, prefix = policy.tiers[tier], f"tiers.{tier}."
    else:
        group, prefix = policy.rule, ""

    def decide(t: float):
        return fired_rule(group, prefix, touches, t, account, contacts, defaults)

    return [
        {
            "contact_id": ANONYMOUS,
            "time": t,
            "rule": rule,
            "score": _mqa_score(policy, touches, t),
            "stage": "",
        }
        for t, rule in _handoffs(_event_times(touches), policy.recycle_days, decide)
    ]


# --------------------------------------------------------------------------------------------
# Title matching
# --------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    """Lower-cased maximal runs of word characters (letters, digits, ``_``)."""
    return re.findall(r"\w+", text.lower())


def title_matches(title: str, phrase: str) -> bool:
    """Case-insensitive whole-word match: the phrase's words appear, consecutively and in
    order, among the title's words. ``vp`` matches "Senior VP, Sales", not "VPN Administrator".
    A phrase without any word character never matches."""
    title_words = _words(title)
    phrase_words = _words(phrase)
    n = len(phrase_words)
    if n == 0:
        return False
    for start in range(len(title_words) - n + 1):
        if title_words[start : start + n] == phrase_words:
            return True
    return False


def _first_matching(entries, title: str):
    """The first entry of ``entries`` (each with ``.match``) with a phrase matching the title,
    or None."""
    for entry in entries:
        for phrase in entry.match:
            if title_matches(title, phrase):
                return entry
    return None


# --------------------------------------------------------------------------------------------
# mql
# --------------------------------------------------------------------------------------------


def mql_fit(policy: Mql, person: dict[str, Any]) -> float:
    """fit.seniority[seniority] + fit.department[department] + the points of the first
    fit.titles entry whose phrase matches the title; each 0 when absent."""
    fit = 0.0
    seniority = person.get("seniority")
    if seniority is not None:
        fit += policy.fit.seniority.get(seniority, 0.0)
    department = person.get("department")
    if department is not None:
        fit += policy.fit.department.get(department, 0.0)
    entry = _first_matching(policy.fit.titles, person.get("title", ""))
    if entry is not None:
        fit += entry.points
    return fit


def mql_score(
    policy: Mql, contact_id: int, touches: list[Touch], t: float, person: dict[str, Any]
) -> float | None:
    """The contact's score at t, or None before its first touch (any activity)."""
    own = [x for x in _visible(touches, t) if x.contact_id == contact_id]
    if not own:
        return None
    score = mql_fit(policy, person)
    for x in own:
        points = policy.points_for(x.activity)  # activities not in points score 0
        if policy.decay is None:  # points never decay
            score += points
        elif policy.decay.half_life_days is not None:
            score += points * 0.5 ** ((t - x.time) / policy.decay.half_life_days)
        elif policy.decay.window_days is not None and _in_window(x, t, policy.decay.window_days):
            score += points  # plain sum over the window
    return score


def _evaluate_mql(policy: Mql, touches, account, contacts) -> list[dict[str, Any]]:
    def decide(t: float):
        best: tuple[int, float] | None = None
        known = sorted({x.contact_id for x in touches if x.contact_id != ANONYMOUS})
        for cid in known:  # ascending ids and a strict ">" below: ties go to the lowest id
            score = mql_score(policy, cid, touches, t, contacts.get(cid, {}))
            if score is None or not score >= policy.threshold:
                continue
            if best is None or score > best[1]:
                best = (cid, score)
        return best

    return [
        {"contact_id": cid, "time": t, "rule": "threshold", "score": score, "stage": ""}
        for t, (cid, score) in _handoffs(_event_times(touches), policy.recycle_days, decide)
    ]


# --------------------------------------------------------------------------------------------
# weighted_titles
# --------------------------------------------------------------------------------------------


def title_weight(policy: WeightedTitles, title: str) -> float:
    """The weight of the first title_weights entry with a matching phrase, else the default."""
    entry = _first_matching(policy.title_weights, title)
    return policy.default_title_weight if entry is None else entry.weight


def weighted_score(policy: WeightedTitles, touches: list[Touch], t: float, contacts) -> float:
    """Σ activity weight × title weight over the window's touches (or over all touches at or
    before t, each × 0.5^((t − s)/h), with a half-life)."""
    window: float | None = policy.window_days
    half_life: float | None = None
    if window is None:
        assert policy.decay is not None
        window, half_life = policy.decay.window_days, policy.decay.half_life_days
    score = 0.0
    for x in _visible(touches, t):
        if half_life is None:  # a plain sum over the window
            assert window is not None  # the schema gives a window or a half-life
            if not _in_window(x, t, window):
                continue
        activity_weight = policy.weight_for(x.activity)  # unlisted: 0
        if x.contact_id == ANONYMOUS:
            if not policy.include_anonymous:
                continue
            weight = policy.default_title_weight
        else:
            weight = title_weight(policy, contacts.get(x.contact_id, {}).get("title", ""))
        value = activity_weight * weight
        if half_life is not None:
            value *= 0.5 ** ((t - x.time) / half_life)
        score += value
    return score


def _evaluate_weighted(policy: WeightedTitles, touches, account, contacts):
    def decide(t: float):
        score = weighted_score(policy, touches, t, contacts)
        return score if score >= policy.threshold else None

    return [
        {"contact_id": ANONYMOUS, "time": t, "rule": "threshold", "score": score, "stage": ""}
        for t, score in _handoffs(_event_times(touches), policy.recycle_days, decide)
    ]


# --------------------------------------------------------------------------------------------
# stages
# --------------------------------------------------------------------------------------------


def _stage_defaults(policy: Stages) -> _Defaults:
    return _Defaults(
        window_days=None,  # every stage condition has its own
        activities=tuple(policy.activities),
        include_anonymous=policy.include_anonymous,
    )


def _entries_for_account(policy: Stages, touches, account, contacts) -> list[tuple[str, float]]:
    """(stage, time) of every entry: stage 0 at the first event time at which its condition
    holds; stage k at the first event time at or after the entry into stage k − 1 at which its
    condition holds. Several stages may be entered at one event time."""
    defaults = _stage_defaults(policy)
    entries: list[tuple[str, float]] = []
    k = 0
    for t in _event_times(touches):
        while k < len(policy.stages) and condition_holds(
            policy.stages[k].when, touches, t, account, contacts, defaults
        ):
            entries.append((policy.stages[k].name, t))
            k += 1
    return entries


def _evaluate_stages(policy: Stages, touches, account, contacts) -> list[dict[str, Any]]:
    """The handoff is the entry into handoff_stage (entered at most once: stages only move
    forward, so recycle_days changes nothing here)."""
    for stage, t in _entries_for_account(policy, touches, account, contacts):
        if stage == policy.handoff_stage:
            return [
                {
                    "contact_id": ANONYMOUS,
                    "time": t,
                    "rule": stage,
                    "score": math.nan,
                    "stage": stage,
                }
            ]
    return []


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _decider(policy: PolicyBase, touches, account, contacts):
    """``holds(t)``: does ``policy``'s rule hold at time t for this account (recycling aside)?"""
    if isinstance(policy, MqaCount):
        defaults = _Defaults(policy.window_days, tuple(policy.activities), policy.include_anonymous)
        tier = account.get("tier")
        if tier is not None and tier in policy.tiers:
            group, prefix = policy.tiers[tier], f"tiers.{tier}."
        else:
            group, prefix = policy.rule, ""
        return lambda t: (
            fired_rule(group, prefix, touches, t, account, contacts, defaults) is not None
        )
    if isinstance(policy, Mql):

        def mql_holds(t: float) -> bool:
            known = {x.contact_id for x in touches if x.contact_id != ANONYMOUS}
            for cid in known:
                score = mql_score(policy, cid, touches, t, contacts.get(cid, {}))
                if score is not None and score >= policy.threshold:
                    return True
            return False

        return mql_holds
    if isinstance(policy, WeightedTitles):
        return lambda t: weighted_score(policy, touches, t, contacts) >= policy.threshold
    if isinstance(policy, Stages):
        entered = [
            t
            for stage, t in _entries_for_account(policy, touches, account, contacts)
            if stage == policy.handoff_stage
        ]
        return lambda t: bool(entered) and t >= entered[0]
    if isinstance(policy, Combinator):
        parts = [_decider(m, touches, account, contacts) for m in policy.members]
        if policy.kind == "any":
            return lambda t: any(d(t) for d in parts)
        return lambda t: all(d(t) for d in parts)
    raise TypeError(f"the reference evaluator cannot combine policy kind {policy.kind!r}")


def _evaluate_combinator(policy: Combinator, touches, account, contacts):
    """Members side by side: the first event time at which any (all) of their rules hold."""
    deciders = [(m.name, _decider(m, touches, account, contacts)) for m in policy.members]

    def decide(t: float):
        held = [name for name, d in deciders if d(t)]
        if policy.kind == "any":
            return held[0] if held else None
        return "all" if len(held) == len(deciders) else None

    return [
        {"contact_id": ANONYMOUS, "time": t, "rule": rule, "score": math.nan, "stage": ""}
        for t, rule in _handoffs(_event_times(touches), policy.recycle_days, decide)
    ]


_KINDS: tuple[tuple[type[PolicyBase], Callable[..., list[dict[str, Any]]]], ...] = (
    (Combinator, _evaluate_combinator),
    (MqaCount, _evaluate_mqa),
    (Mql, _evaluate_mql),
    (WeightedTitles, _evaluate_weighted),
    (Stages, _evaluate_stages),
)


def _seen(policy: PolicyBase, log):
    """The log the policy sees: never the system events, without the sales touches unless it
    includes them (its members, in a combinator, see the same), and without the touches its
    declared filters remove."""
    keep = seen_touches(policy, log)
    removed = removed_touches(policy, log)
    for rule_removed in removed:
        keep = [k and not r for k, r in zip(keep, rule_removed, strict=True)]
    rows = [i for i, k in enumerate(keep) if k]
    return type(log)(log.events.iloc[rows], log.contacts, log.accounts)


def seen_touches(policy: PolicyBase, log) -> list[bool]:
    """Per event: is it a touch the policy sees before its filters? Not a system event, and not
    a sales touch unless the policy includes them."""
    out = []
    for a in log.events["activity"].astype(str):
        sales_ok = policy.include_sales_touches or a not in SALES_ACTIVITIES
        out.append(a not in SYSTEM_ACTIVITIES and sales_ok)
    return out


@dataclass(frozen=True)
class _Event:
    time: float
    account_id: int
    contact_id: int
    activity: str


def removed_touches(policy: PolicyBase, log) -> list[list[bool]]:
    """Per filter of ``policy.exclude``, per event: does that filter remove it? Each filter
    looks at the touches of :func:`seen_touches` (not at what the other filters remove)."""
    events = [_Event(*row) for row in _event_rows(log)]
    touch = seen_touches(policy, log)
    known_accounts = {int(a) for a in log.accounts["account_id"].tolist()}
    linked = {
        c: a is not None and a != ANONYMOUS and a in known_accounts
        for c, a in _contact_accounts(log).items()
    }
    out = []
    for rule in policy.exclude:
        out.append(
            [
                touch[i] and _removes(rule, x, events, touch, known_accounts, linked)
                for i, x in enumerate(events)
            ]
        )
    return out


def _contact_accounts(log) -> dict[int, Any]:
    """Each contact's account_id in the contacts table (None when missing)."""
    con = log.contacts
    if "account_id" not in con.columns:
        return {}
    out: dict[int, Any] = {}
    for c, a in zip(con["contact_id"].tolist(), con["account_id"].tolist(), strict=True):
        out[int(c)] = None if _missing(a) else int(a)
    return out


def _removes(rule, x: _Event, events, touch, known_accounts, linked) -> bool:
    """Does the filter ``rule`` remove the touch ``x``? (``policies/README.md``.)"""
    if rule.after_delivery is not None:
        seconds = rule.after_delivery.seconds / 86400.0
        if x.contact_id == ANONYMOUS or x.activity not in rule.after_delivery.activities:
            return False
        return any(
            d.activity == "email_delivered"
            and d.contact_id == x.contact_id
            and d.time <= x.time
            and x.time - d.time <= seconds
            for d in events
        )
    if rule.burst is not None:
        seconds = rule.burst.seconds / 86400.0
        in_burst = [
            y
            for y, is_touch in zip(events, touch, strict=True)
            if is_touch and _same_sender(x, y) and x.time - seconds <= y.time <= x.time
        ]
        return len(in_burst) > rule.burst.touches
    if x.account_id == ANONYMOUS or x.account_id not in known_accounts:
        return True  # no_account: the touch's own account is unknown ...
    return x.contact_id != ANONYMOUS and not linked.get(x.contact_id, False)  # ... or its contact's


def _same_sender(x: _Event, y: _Event) -> bool:
    """The same contact, or, for anonymous touches, anonymous touches of the same account."""
    if x.contact_id != ANONYMOUS:
        return y.contact_id == x.contact_id
    return y.contact_id == ANONYMOUS and y.account_id == x.account_id


def _policy(policy: PolicyBase | dict | str | Path) -> PolicyBase:
    return policy if isinstance(policy, PolicyBase) else load_policy(policy)


def evaluate(policy: PolicyBase | dict | str | Path, log) -> pd.DataFrame:
    """Every handoff of ``policy`` on ``log`` (an ``sim.EventLog``), the slow reference way.

    One row per handoff, sorted by (account_id, time), columns :data:`COLUMNS`: ``policy``
    (its name), ``account_id``, ``contact_id`` (the qualifying contact for ``mql``, −1
    otherwise), ``time``, ``rule``, ``score`` (NaN for ``stages``), ``stage`` ("" except for
    ``stages``). ``policy`` may also be anything :func:`policies.load_policy` takes.
    """
    policy = _policy(policy)
    log = _seen(policy, log)
    runs = [run for cls, run in _KINDS if isinstance(policy, cls)]
    if not runs:
        raise TypeError(f"the reference evaluator does not know policy kind {policy.kind!r}")
    run = runs[0]
    contacts = _contacts(log)
    accounts = _accounts(log)
    rows: list[dict[str, Any]] = []
    for account_id, touches in sorted(_touches_by_account(log).items()):
        account = accounts.get(account_id, {"tier": None, "icp_fit": None})
        for row in run(policy, touches, account, contacts):
            rows.append({"policy": policy.name, "account_id": account_id, **row})
    return _frame(rows, COLUMNS, DTYPES, ["account_id", "time"])


def stage_entries(policy: Stages | dict | str | Path, log) -> pd.DataFrame:
    """Every stage entry of a ``stages`` policy: columns :data:`STAGE_COLUMNS`, sorted by
    (account_id, time), then stage order."""
    stages = _policy(policy)
    if not isinstance(stages, Stages):
        raise TypeError(f"stage_entries needs a stages policy, got kind {stages.kind!r}")
    log = _seen(stages, log)
    contacts = _contacts(log)
    accounts = _accounts(log)
    rows: list[dict[str, Any]] = []
    for account_id, touches in sorted(_touches_by_account(log).items()):
        account = accounts.get(account_id, {"tier": None, "icp_fit": None})
        for stage, t in _entries_for_account(stages, touches, account, contacts):
            rows.append(
                {"policy": stages.name, "account_id": account_id, "stage": stage, "time": t}
            )
    # Rows are generated in stage order within an account, so a stable sort keeps it.
    return _frame(rows, STAGE_COLUMNS, STAGE_DTYPES, ["account_id", "time"])


def _frame(rows, columns, dtypes, by) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(columns)).astype(dtypes)
    return df.sort_values(by, kind="stable").reset_index(drop=True)


__all__ = ["COLUMNS", "STAGE_COLUMNS", "evaluate", "removed_touches", "seen_touches"]
__all__ += ["stage_entries", "title_matches"]
