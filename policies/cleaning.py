"""Cleaning that a policy states: the ``exclude`` filters that drop touches before its rule
counts them (``policies/README.md``, "Declared filters", has the exact semantics).

A policy lists filters under ``exclude``, one key each::

    exclude:
      - after_delivery: {seconds: 10}             # email_open / email_click by a scanner
      - burst: {touches: 5, seconds: 60}          # more than 5 touches of a contact in a minute
      - no_account: true                          # touches not linked to a known account

Every filter is causal: whether a touch at time t is removed depends only on events at or
before t. Each filter looks at the touches the policy sees without any filter (no system
events, no sales touches unless it includes them) and at the log's ``email_delivered``
events; a touch is removed when at least one filter removes it, whatever their order.

>>> Exclusion.model_validate({"burst": {"touches": 5, "seconds": 60}}).label()
'burst: more than 5 touches in 60 s'
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from policies.kernels.frame import Frame
from sim.vocab import SYSTEM_ACTIVITIES, Activity

SECONDS_PER_DAY = 86400.0
Seconds = Annotated[float, Field(strict=True, gt=0.0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AfterDelivery(_Strict):
    """Remove a touch of one of ``activities`` by a known contact that falls within
    ``seconds`` after an ``email_delivered`` of the same contact (at or after the delivery):
    what an email security scanner does when it opens and clicks every link on arrival."""

    seconds: Seconds = Field(description="how soon after the delivery a touch is removed")
    activities: list[Activity] = Field(
        ["email_open", "email_click"], description="the activities removed"
    )

    @field_validator("activities")
    @classmethod
    def _touches(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("list at least one activity (or leave the key out for the default)")
        system = [a for a in v if a in SYSTEM_ACTIVITIES]
        if system:
            raise ValueError(f"{system[0]!r} is a system event, not a touch a filter can remove")
        return v

    def label(self) -> str:
        return f"after_delivery: {', '.join(self.activities)} within {self.seconds:g} s"


class Burst(_Strict):
    """Remove a touch when more than ``touches`` touches of the same contact (anonymous
    touches: of the same account) fall in the ``seconds`` ending at it, the touch included:
    the first ``touches`` touches of a burst stay, the ones after are removed."""

    touches: Annotated[int, Field(strict=True, ge=1)] = Field(
        description="the touches a burst keeps; the ones after are removed"
    )
    seconds: Seconds = Field(description="the span of a burst, ending at each touch")

    def label(self) -> str:
        return f"burst: more than {self.touches} touches in {self.seconds:g} s"


class Exclusion(_Strict):
    """One entry of a policy's ``exclude`` list: exactly one of ``after_delivery``, ``burst``
    or ``no_account: true`` (remove touches not linked to a known account: the event's
    account, or a known contact's account in the contacts table, is -1, missing or not in the
    accounts table, or the contact has no row there)."""

    after_delivery: AfterDelivery | None = Field(
        None, description="remove opens/clicks right after an email's delivery (scanners)"
    )
    burst: Burst | None = Field(None, description="remove the touches of a burst after the first")
    no_account: Literal[True] | None = Field(
        None, description="true: remove touches not linked to a known account"
    )

    @model_validator(mode="after")
    def _one(self) -> Exclusion:
        given = [k for k in ("after_delivery", "burst", "no_account") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of after_delivery / burst / no_account in each exclude "
                f"entry, got {given or 'none'}"
            )
        return self

    def label(self) -> str:
        """A short description, as reports print it."""
        rule = self.after_delivery or self.burst
        return rule.label() if rule is not None else "no_account: not linked to a known account"


def spec(exclude: list[Exclusion]) -> tuple[str, ...]:
    """A hashable key of a list of filters (for memoising a filtered view)."""
    return tuple(e.model_dump_json(exclude_none=True) for e in exclude)


def removed(rule: Exclusion, f: Frame, seen: np.ndarray) -> np.ndarray:
    """Per event of ``f``: does ``rule`` remove it? Only events in ``seen`` (the touches the
    policy sees without filters) are candidates, and only they count toward a burst."""
    if rule.after_delivery is not None:
        return after_delivery(rule.after_delivery, f, seen)
    if rule.burst is not None:
        return burst(rule.burst, f, seen)
    return seen & no_account(f)


def no_account(f: Frame) -> np.ndarray:
    """Per event: is it not linked to a known account? Its account is -1 or not in the
    accounts table, or its contact (not anonymous) has no row in the contacts table or a row
    whose account_id is -1, missing or not in the accounts table."""
    known = f.log.accounts["account_id"].to_numpy(np.int64)
    con = f.log.contacts
    if "account_id" in con.columns:
        acc = pd.to_numeric(con["account_id"], errors="coerce").to_numpy(np.float64)
        linked = (acc >= 0) & np.isin(acc, known)
    else:
        linked = np.zeros(len(con), dtype=bool)
    contact_linked = f.per_contact(linked, False).astype(bool)
    return (f.account < 0) | (f.account_row < 0) | (f.known & ~contact_linked)


def after_delivery(rule: AfterDelivery, f: Frame, seen: np.ndarray) -> np.ndarray:
    """Touches of ``rule.activities`` by a known contact with t - d <= seconds, where d is the
    contact's latest ``email_delivered`` at or before t (the latest one is the closest)."""
    delivered = f.activity_in(SYSTEM_ACTIVITIES[:1]) & f.known
    cand = seen & f.activity_in(rule.activities) & f.known
    out = np.zeros(f.n, dtype=bool)
    if not delivered.any() or not cand.any():
        return out
    idx, contact = by_sender(f, np.flatnonzero(delivered | cand))  # by contact, then time
    is_touch = cand[idx]
    pos = np.where(is_touch, -1, np.arange(idx.size))
    last = np.maximum.accumulate(pos)  # the latest delivery so far, in this order
    last = last[tie_ends(contact, f.time[idx])]  # ... at or before the touch's time
    ok = is_touch & (last >= 0)
    d = idx[np.maximum(last, 0)]
    ok &= f.contact[d] == contact
    ok &= f.time[idx] - f.time[d] <= rule.seconds / SECONDS_PER_DAY
    out[idx[ok]] = True
    return out


def tie_ends(sender: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per element (sorted by sender, then time): the index of the last one with the same
    sender and time."""
    n = sender.size
    new_tie = np.r_[True, (sender[1:] != sender[:-1]) | (t[1:] != t[:-1])]
    starts = np.flatnonzero(new_tie)
    return np.repeat(np.r_[starts[1:], n] - 1, np.diff(np.r_[starts, n]))


def burst(rule: Burst, f: Frame, seen: np.ndarray) -> np.ndarray:
    """Touches with more than ``rule.touches`` (K) touches of their contact (anonymous: of
    their account) in [t - seconds, t], counted among ``seen``. With a sender's touches in
    time order and e the last one at time t, that is: the touch K places before e is the
    sender's and its time is >= t - seconds (the float ``t - S``, as the reference compares)."""
    out = np.zeros(f.n, dtype=bool)
    k = rule.touches
    idx = np.flatnonzero(seen)
    if idx.size <= k:
        return out
    idx, sender = by_sender(f, idx)
    t = f.time[idx]
    n = idx.size
    new_sender = np.r_[True, sender[1:] != sender[:-1]]
    first = np.maximum.accumulate(np.where(new_sender, np.arange(n), 0))  # the sender's first
    j = tie_ends(sender, t) - k  # K places before the sender's last touch at t
    ok = j >= first
    ok[ok] = t[j[ok]] >= t[ok] - rule.seconds / SECONDS_PER_DAY
    out[idx[ok]] = True
    return out


def by_sender(f: Frame, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the events ``idx`` sorted by sender, then time; each one's sender): the contact, or
    for an anonymous touch -1 - its account's rank. A stable sort of the log's (account, time)
    order is already in time order within a sender unless a contact has touches in several
    accounts; then the times are sorted too."""
    sender = np.where(f.contact[idx] >= 0, f.contact[idx], -1 - f.rank[idx])
    order = np.argsort(sender, kind="stable")
    idx, sender = idx[order], sender[order]
    t = f.time[idx]
    if ((sender[1:] == sender[:-1]) & (t[1:] < t[:-1])).any():
        order = np.lexsort((t, sender))
        idx, sender = idx[order], sender[order]
    return idx, sender


__all__ = ["AfterDelivery", "Burst", "Exclusion", "after_delivery", "burst", "removed", "spec"]
