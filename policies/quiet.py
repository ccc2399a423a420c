"""Why a policy hands off nothing (or almost nothing) on a log: one line per reason, from the
log's own statistics — e.g. "this log has 1.0 known people per account; clause any.0 needs 4
people within 30 days (the most on one account is 1)", "no contact has a title: ...", "the
highest lead score reached is 35; the threshold is 100", "clause any.0 counts demo_request,
which this log never has".

:func:`why_nothing` gives the reasons; :func:`is_quiet` says when to show them: no handoff, or
handoffs on fewer than :data:`QUIET_SHARE` of the accounts with events. Every statistic is
taken on what the policy sees (without sales touches unless it includes them).

>>> import pandas as pd, sim, policies
>>> ev = pd.DataFrame({"time": [0.0, 1.0], "account_id": [0, 0], "contact_id": [0, 0],
...                    "activity": ["web_visit", "web_visit"]})
>>> con = pd.DataFrame({"contact_id": [0], "account_id": [0], "title": ["CISO"]})
>>> log = sim.EventLog(ev, con, pd.DataFrame({"account_id": [0]}))
>>> for part in why_nothing(policies.load_policy("mqa_count"), log)[0].split("; "):
...     print(part)
this log has 1.0 known people per account
clause any.0 needs 4 people within 30 days (the most on one account is 1)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from policies.kernels.conditions import condition_holds, counting_masks, resolve
from policies.kernels.frame import Frame
from policies.kernels.search import grouped_searchsorted
from policies.kernels.views import has_sales_touches, sales_touches, view_frame
from policies.kernels.windows import running_decayed, window_sum
from policies.kinds.mql import activity_points, fit_points
from policies.kinds.stages import stage_entries
from policies.kinds.titles import titles_score
from policies.registry import kind_of
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
from sim.eventlog import EventLog
from sim.vocab import ACTIVITIES

# Below this share of the accounts with events handed off, ``qualsim evaluate`` says why.
QUIET_SHARE = 0.01


def is_quiet(qualifications: pd.DataFrame, log: EventLog, frame: Frame | None = None) -> bool:
    """Does a policy with these handoffs on ``log`` hand off nothing or almost nothing (fewer
    than :data:`QUIET_SHARE` of the accounts with events)? ``frame``, a :class:`Frame` of
    ``log``, counts the accounts from the boundaries it already has (the events are sorted by
    account) instead of hashing every event's account."""
    handed = qualifications["account_id"].nunique()
    if handed == 0:
        return True
    accounts = (
        frame.first_of_account.size if frame is not None else log.events["account_id"].nunique()
    )
    return handed < QUIET_SHARE * accounts


def why_nothing(policy: PolicyBase, log: EventLog, frame: Frame | None = None) -> list[str]:
    """Reasons, one line each, why ``policy`` hands off nothing or almost nothing on ``log``
    (``frame``: a :class:`Frame` of ``log`` to share). Empty when the log's statistics show
    no obstacle."""
    f = frame if frame is not None else Frame(log)
    if f.n == 0:
        return ["this log has no events"]
    view, _ = view_frame(policy, f)
    if view.n == 0 and sales_touches(f).all():
        return [
            f"all {f.n:,} events of this log are sales touches, which {policy.name} ignores "
            "(include_sales_touches: true counts them)"
        ]
    if view.n == 0:
        return [
            f"{policy.name} sees none of the {f.n:,} events of this log (system events such as "
            "email_delivered, sales touches it ignores, touches its exclude filters remove)"
        ]
    return _reasons(policy, view)


def _reasons(policy: PolicyBase, f: Frame) -> list[str]:
    if isinstance(policy, MqaCount):
        return _mqa(policy, f)
    if isinstance(policy, Mql):
        return _mql(policy, f)
    if isinstance(policy, WeightedTitles):
        return _titles(policy, f)
    if isinstance(policy, Stages):
        return _stages(policy, f)
    if isinstance(policy, Combinator):
        return _combinator(policy, f)
    return []  # a plug-in kind: nothing known of its rule


# -- the log's statistics ------------------------------------------------------------------
def people_per_account(f: Frame) -> float:
    """Known people (distinct contacts with a touch) per account with events."""
    known = f.known
    if not known.any():
        return 0.0
    pair = f.rank[known] * (int(f.contact[known].max()) + 1) + f.contact[known]
    return pd.unique(pair).size / max(f.first_of_account.size, 1)


def _names(acts: Sequence[str], most: int = 4) -> str:
    acts = list(acts)
    head = ", ".join(acts[:most])
    return head + (f" and {len(acts) - most} more" if len(acts) > most else "")


def _absent(acts: Sequence[str], f: Frame) -> bool:
    return not f.has_activity(acts)


def _accounts_where(f: Frame, mask: np.ndarray) -> int:
    return int(np.unique(f.rank[mask]).size)


# -- conditions (mqa_count, stages) --------------------------------------------------------
def condition_reasons(
    name: str, cond: Condition, f: Frame, window: float | None, acts: Sequence[str], anon: bool
) -> list[str]:
    """Why the condition ``name`` never holds on ``f`` (or holds on few accounts)."""
    win, counted, anon = resolve(cond, window, acts, anon)
    held = condition_holds(f, cond, window, acts, anon)
    if held.any():
        n, total = _accounts_where(f, held), f.first_of_account.size
        return [f"clause {name} holds on {n:,} of {total:,} accounts with events"]
    if _absent(counted, f):
        return [f"clause {name} counts {_names(counted)}, which this log never has"]
    out = _filter_reasons(name, cond, f)
    people, touches = counting_masks(f, cond, window, acts, anon)
    if cond.unique_contacts > 0:
        k = cond.min_touches_per_contact
        most = int(window_sum(f, people, win, distinct=True, per_contact=k).max())
        if most < cond.unique_contacts:
            each = f" with {k}+ touches each" if k > 1 else ""
            out.append(
                f"this log has {people_per_account(f):.1f} known people per account; clause "
                f"{name} needs {cond.unique_contacts} people{each} within {win:g} days (the "
                f"most on one account is {most})"
            )
    if cond.min_activities > 0:
        most = int(window_sum(f, touches, win).max())
        if most < cond.min_activities:
            out.append(
                f"clause {name} needs {cond.min_activities} touches within {win:g} days; the "
                f"most on one account is {most}"
            )
    return out or [f"clause {name} never holds on this log"]


def _filter_reasons(name: str, cond: Condition, f: Frame) -> list[str]:
    """Filters of the condition that nobody / no account in the log passes."""
    out = []
    con, acc = f.log.contacts, f.log.accounts
    for column, allowed in (("seniority", cond.seniority), ("role", cond.roles)):
        if allowed is not None and not f.contact_in(column, allowed).any():
            has = column in con.columns and con[column].notna().any()
            what = "no contact of this log has one" if has else f"no contact has a {column}"
            out.append(f"clause {name} counts only {column} {_names(allowed)}: {what}")
    for column, ok in (
        ("tier", lambda v: np.isin(v, cond.tier or [])),
        ("icp_fit", lambda v: v >= (cond.icp_fit_min or 0.0)),
    ):
        asked = cond.tier if column == "tier" else cond.icp_fit_min
        if asked is not None and not ok(f.account_number(column)).any():
            has = column in acc.columns and acc[column].notna().any()
            what = "no account with events has it" if has else f"no account has a {column}"
            out.append(f"clause {name} asks {column} {asked}: {what}")
    excluded = f.title_in(cond.exclude_titles)[f.known] if cond.exclude_titles else []
    if len(excluded) and np.all(excluded):
        out.append(f"clause {name} excludes the titles of every known person")
    return out


def group_reasons(
    group: Group, f: Frame, window: float | None, acts: Sequence[str], anon: bool, prefix: str
) -> list[str]:
    """Reasons of the clauses of ``group`` (named ``{prefix}any.0`` ...)."""
    out: list[str] = []
    for name, child in group.named(prefix):
        if isinstance(child, Condition):
            out += condition_reasons(name, child, f, window, acts, anon)
        elif child.op == "not":
            out.append(f"clause {name} is a 'not': it holds only where its clause does not")
        else:
            out += group_reasons(child, f, window, acts, anon, f"{name}.")
    return out


def _mqa(policy: MqaCount, f: Frame) -> list[str]:
    args = (f, policy.window_days, policy.activities, policy.include_anonymous)
    out = group_reasons(policy.rule, *args, "")
    tiers = set(f.account_number("tier")[f.first_of_account].tolist())
    for tier, group in policy.tiers.items():
        if tier in tiers:  # an override no account with events has changes nothing
            out += group_reasons(group, *args, f"tiers.{tier}.")
    return _firm_first(out)


def _firm_first(reasons: list[str]) -> list[str]:
    """The reasons that rule a clause out before those that only count where it holds."""
    return sorted(reasons, key=lambda r: " holds on " in r)


# -- scores (mql, weighted_titles) ---------------------------------------------------------
def _mql(policy: Mql, f: Frame) -> list[str]:
    if not f.known.any():
        return [f"every touch of this log is anonymous: {policy.name} scores people"]
    scored = [a for a in ACTIVITIES if policy.points_for(a) > 0]
    if scored and _absent(scored, f):
        return [f"{policy.name} scores {_names(scored)}, none of which this log has"]
    at, score = lead_scores_at_touches(policy, f)
    top = float(score.max())
    if top < policy.threshold:
        unfit = [
            f"no contact has a {column}: the {column} fit points never apply"
            for column, table in (
                ("title", policy.fit.titles),
                ("seniority", policy.fit.seniority),
                ("department", policy.fit.department),
            )
            if table and not _has_values(f.log.contacts, column)
        ]
        return [
            f"the highest lead score reached is {top:.4g}; the threshold is {policy.threshold:g}",
            *unfit,
        ]
    return [_reach(f, at[score >= policy.threshold], "a person's lead score", policy.threshold)]


def _has_values(contacts: pd.DataFrame, column: str) -> bool:
    """Does some contact have a non-empty ``column``?"""
    if column not in contacts.columns:
        return False
    return bool((contacts[column].fillna("").astype(str).str.strip() != "").any())


def _reach(f: Frame, events: np.ndarray, what: str, threshold: float) -> str:
    n, total = int(np.unique(f.rank[events]).size), f.first_of_account.size
    return f"{what} reaches {threshold:g} on {n:,} of {total:,} accounts with events"


def highest_lead_score(policy: Mql, f: Frame) -> float:
    """The highest score a known person reaches at one of their own touch times (the fit
    points plus the touches' points, decayed or in the window, as the policy says; -inf
    without known people)."""
    _, score = lead_scores_at_touches(policy, f)
    return float(score.max()) if score.size else -np.inf


def lead_scores_at_touches(policy: Mql, f: Frame) -> tuple[np.ndarray, np.ndarray]:
    """(event index, the person's score) at each known person's last touch of each time."""
    known = np.flatnonzero(f.known)
    order = known[np.lexsort((known, f.time[known], f.contact[known]))]  # (contact, time)
    c, t = f.contact[order], f.time[order]
    if c.size == 0:
        return order, np.zeros(0)
    p = activity_points(policy)[f.activity[order]]
    new = np.r_[True, c[1:] != c[:-1]]
    last = np.r_[(c[1:] != c[:-1]) | (t[1:] != t[:-1]), True]  # a person's last at a time
    decay = policy.decay
    if decay is not None and decay.half_life_days is not None:
        run = decayed_at_touches(new, t, p, decay.half_life_days)
    else:
        csum = np.r_[0.0, np.cumsum(p)]
        rank = np.cumsum(new) - 1
        lo = np.flatnonzero(new)[rank]  # no decay: from the person's first touch
        if decay is not None and decay.window_days is not None:
            lo = grouped_searchsorted(rank, t, rank, t - decay.window_days, "left")
        run = csum[1:] - csum[lo]
    return order[last], (run + fit_points(policy, f)[order])[last]


def decayed_at_touches(new: np.ndarray, t: np.ndarray, p: np.ndarray, half_life: float):
    """Per touch, in (person, time) order with ``new`` marking each person's first: the
    person's Σ p × 0.5^((t - s)/half_life) over their touches so far, in O(n): each person's
    sum is taken relative to their first touch (a cumulative sum of p × 2^((s - first)/h));
    people whose touches span over 900 half-lives (2^900 nears the float limit) go through
    :func:`~policies.kernels.windows.running_decayed`."""
    rank = np.cumsum(new) - 1
    x = (t - t[np.flatnonzero(new)][rank]) / half_life
    wide = (pd.Series(x).groupby(rank).transform("max") > 900).to_numpy()
    scale = np.exp2(np.where(wide, 0.0, x))
    run = pd.Series(p * scale).groupby(rank).cumsum().to_numpy() / scale
    if wide.any():
        run[wide] = running_decayed(new[wide], t[wide], p[wide], half_life)
    return run


def _titles(policy: WeightedTitles, f: Frame) -> list[str]:
    out = []
    weighted = [a for a in ACTIVITIES if policy.weight_for(a) > 0]
    if _absent(weighted, f):
        return [f"{policy.name} weighs {_names(weighted)}, none of which this log has"]
    if not _has_values(f.log.contacts, "title"):
        if policy.default_title_weight == 0:
            return [f"no contact has a title: {policy.name} has nothing to weigh"]
        out.append(f"no contact has a title: {policy.name} weighs every person the same")
    score = titles_score(policy, f)
    top = float(score.max())
    if top < policy.threshold:
        out.append(
            f"the highest account score reached is {top:.4g}; the threshold is {policy.threshold:g}"
        )
    else:
        hit = np.flatnonzero(score >= policy.threshold)
        out.append(_reach(f, hit, "the account score", policy.threshold))
    return out


# -- stages and combinators ----------------------------------------------------------------
def _stages(policy: Stages, f: Frame) -> list[str]:
    entries = stage_entries(policy, f.log, f)
    reached = entries.groupby("stage")["account_id"].nunique()
    args = (f, None, policy.activities, policy.include_anonymous)
    counts = []
    for i, st in enumerate(policy.stages):
        n = int(reached.get(st.name, 0))
        counts.append(f"{st.name} {n:,}")
        if n == 0:
            why = condition_reasons(f"stages.{i}.when", st.when, *args)
            head = f"no account enters stage {st.name!r}"
            if i and " holds on " in why[0]:
                return [f"{head}: {why[0]}, never after entering {policy.stages[i - 1].name!r}"]
            return [f"{head}: {w}" for w in why]
        if st.name == policy.handoff_stage:
            break
    return [f"accounts entering each stage: {', '.join(counts)}"]


def _combinator(policy: Combinator, f: Frame) -> list[str]:
    out = []
    alone = []
    for m in policy.members:  # members see what the combinator sees
        q = kind_of(m).evaluate(m, f.log, f)
        alone.append(len(q))
        out += [f"{m.name}: {r}" for r in _reasons(m, f) if len(q) == 0 or policy.kind == "any"]
    if policy.kind == "all" and all(alone):
        out.append("each member hands off on its own, but they never hold at the same time")
    return out


def quiet_reasons(
    pols: Sequence[PolicyBase], quals: Sequence[pd.DataFrame], log: EventLog, frame: Frame
) -> dict[str, list[str]]:
    """For each policy that hands off nothing or almost nothing on ``log`` (``quals``: each
    policy's qualifications): its reasons."""
    return {
        p.name: why_nothing(p, log, frame)
        for p, q in zip(pols, quals, strict=True)
        if is_quiet(q, log, frame)
    }


def sales_touch_counts(log: EventLog, frame: Frame | None = None) -> dict[str, int]:
    """How many sales touches of each activity ``log`` has (only those it has)."""
    f = frame if frame is not None else Frame(log)
    if not has_sales_touches(f):
        return {}
    codes, table = f.activity_codes  # counted per code: no per-event activity index
    per_code = np.bincount(codes[sales_touches(f)], minlength=len(table))
    hit = per_code > 0
    n = np.zeros(len(ACTIVITIES), dtype=np.int64)
    np.add.at(n, table[hit], per_code[hit])
    return {ACTIVITIES[i]: int(n[i]) for i in np.flatnonzero(n)}
