"""Messy CRM data: the ``data_quality:`` knobs applied to a world's observable tables.

:func:`messy_log` runs after the world is drawn and touches only what a CRM records: the
visible contact columns (title, seniority, department, role, account_id), extra contact rows
(duplicates) and the events. The truth table, and the committee columns of every drawn contact,
are what they were; a duplicate record carries its person's committee columns (it is the same
person, so a handoff of it is judged as one of them) and nothing visible tells it apart.
Every draw is keyed by its own stream (``dq_*``), so turning one knob on or off leaves the
others' random numbers alone, and all knobs at zero return the tables unchanged.

Representation: a contact linked to no account has ``account_id == -1`` in the contacts table,
while its touches keep the account the visit was matched to (by domain or IP). A mislinked
contact has another account's id there, and its touches are logged on that account. Scanner
deliveries are ``email_delivered`` events; the simulated log records deliveries only for the
emails a scanner hits (a real export records every one; a declared filter reads both the same
way). Events a clock skew moves out of ``[0, horizon)`` are dropped (outside the export).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.rng import Streams, poisson, poisson_split, to_unit
from sim.vocab import ACTIVITIES
from sim.world.data_quality import DataQuality
from sim.world.titles_messy import variants

SECOND = 1.0 / 86400.0
HOUR = 1.0 / 24.0
DAYS_PER_MONTH = 365.25 / 12.0
_CODE = {a: i for i, a in enumerate(ACTIVITIES)}
_CRM_INFERRED = ("seniority", "department", "role")  # the CRM infers these from the title


@dataclass
class Cols:
    """Event columns as arrays (codes for the categoricals), plus which rows are automated."""

    time: np.ndarray
    account: np.ndarray
    contact: np.ndarray
    activity: np.ndarray
    channel: np.ndarray
    campaign: np.ndarray
    bot: np.ndarray

    @classmethod
    def of(cls, ev: pd.DataFrame) -> Cols:
        return cls(
            ev["time"].to_numpy(np.float64),
            ev["account_id"].to_numpy(np.int64),
            ev["contact_id"].to_numpy(np.int64),
            ev["activity"].cat.codes.to_numpy(np.int64),
            ev["channel"].cat.codes.to_numpy(np.int64),
            ev["campaign_id"].to_numpy(np.int64),
            np.zeros(len(ev), dtype=bool),
        )

    def extend(self, *others: Cols) -> Cols:
        """These rows, then the rows of ``others`` (those with any)."""
        more = [o for o in others if o.time.size]
        if not more:
            return self
        return Cols(
            *(np.concatenate(c) for c in zip(self.parts(), *(o.parts() for o in more), strict=True))
        )

    def parts(self) -> tuple[np.ndarray, ...]:
        return (self.time, self.account, self.contact, self.activity, self.channel,
                self.campaign, self.bot)  # fmt: skip

    def take(self, idx: np.ndarray) -> Cols:
        return Cols(*(a[idx] for a in self.parts()))


def messy_log(
    dq: DataQuality,
    streams: Streams,
    contacts: pd.DataFrame,
    events: pd.DataFrame,
    horizon: float,
    email_sends_per_month: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The contacts and events as a messy CRM records them (``dq``'s knobs), with the
    contacts' committee columns and every drawn contact row's identity unchanged."""
    if dq.is_clean():
        return contacts, events
    channels = list(events["channel"].cat.categories)
    for name in ("email", "direct"):
        if name not in channels:
            channels.append(name)
    n_acc = int(contacts["account_id"].max()) + 1
    cols = Cols.of(events).extend(
        scanner_touches(dq, streams, contacts, horizon, email_sends_per_month,
                        channels.index("email")),
        crawler_touches(dq, streams, n_acc, horizon, channels.index("direct")),
    )  # fmt: skip
    titles = list(contacts["title"].cat.categories)
    contacts, cols, person = duplicate_people(dq, streams, contacts, cols)
    contacts, cols = mislink(dq, streams, contacts, cols, person)
    cols = skew_clocks(dq, streams, cols, horizon, person_of(contacts, person, cols.contact))
    contacts = messy_titles(dq, streams, contacts)
    contacts["title"] = _as_category(contacts["title"], titles)
    return contacts, to_events(_sorted(cols), channels, events)


def _sorted(cols: Cols) -> Cols:
    """``cols`` sorted by (account, time), ties in row order: what ``np.lexsort`` gives (the
    slow reference, and the path when the drawn rows moved), computed by merging the few added
    (automated) rows, which follow the drawn ones, into the drawn rows when those are sorted."""
    n, acc, time = int((~cols.bot).sum()), cols.account, cols.time
    head = np.diff(acc[:n])
    if not ((head > 0) | ((head == 0) & (np.diff(time[:n]) >= 0))).all():
        return cols.take(np.lexsort((time, acc)))
    if n == acc.size:
        return cols
    tail = n + np.lexsort((time[n:], acc[n:]))
    slots = _after(acc[:n], time[:n], acc[tail], time[tail]) + np.arange(tail.size)
    order = np.empty(acc.size, dtype=np.int64)
    order[slots] = tail
    rest = np.ones(acc.size, dtype=bool)
    rest[slots] = False
    order[rest] = np.arange(n)
    return cols.take(order)


def _after(acc: np.ndarray, time: np.ndarray, a: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per (a, t): how many rows of the sorted (acc, time) are <= it (a binary search in each
    account's block, vectorised over the queries)."""
    lo = np.searchsorted(acc, a, "left")
    hi = np.searchsorted(acc, a, "right")
    while (active := lo < hi).any():
        mid = (lo + hi) // 2
        right = active & (time[np.minimum(mid, max(acc.size - 1, 0))] <= t)
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)
    return lo


def to_events(cols: Cols, channels: list[str], like: pd.DataFrame) -> pd.DataFrame:
    """An events table (the dtypes of ``like``) from columns."""
    return pd.DataFrame(
        {
            "time": cols.time,
            "account_id": cols.account.astype(like["account_id"].dtype),
            "contact_id": cols.contact.astype(like["contact_id"].dtype),
            "activity": pd.Categorical.from_codes(cols.activity, categories=list(ACTIVITIES)),
            "channel": pd.Categorical.from_codes(cols.channel, categories=channels),
            "campaign_id": cols.campaign.astype(like["campaign_id"].dtype),
            "known": cols.contact >= 0,
        }
    )


def _poisson_counts(u_of, lam: np.ndarray) -> np.ndarray:
    """Poisson(lam) counts per row, with rates split into parts (``u_of(rows, parts)``)."""
    row, part, rate = poisson_split(lam)
    return np.bincount(row, weights=poisson(u_of(row, part), rate), minlength=lam.size).astype(
        np.int64
    )


def scanner_touches(
    dq: DataQuality, streams: Streams, contacts: pd.DataFrame, horizon: float,
    email_sends_per_month: float, email_channel: int,
) -> Cols:  # fmt: skip
    """Per marketing email to a known contact of a scanned account: its delivery, then an open
    and ``scanner_clicks`` clicks, all within ``scanner_seconds`` of it."""
    n_acc = int(contacts["account_id"].max()) + 1
    scanned = streams.uniform("dq_scanner", np.arange(n_acc)) < dq.scanner_accounts
    t_known = contacts["t_known"].to_numpy(np.float64)
    acc = contacts["account_id"].to_numpy(np.int64)
    who = np.flatnonzero(scanned[acc] & np.isfinite(t_known) & (t_known < horizon))
    cid = contacts["contact_id"].to_numpy(np.int64)[who]
    span = horizon - t_known[who]
    key = streams.key("dq_scan_n", cid)
    n = _poisson_counts(lambda r, p: to_unit(Streams.words(key[r], p)), span * email_sends_per_month
                        / DAYS_PER_MONTH)  # fmt: skip
    owner = np.repeat(np.arange(cid.size), n)
    k = np.arange(owner.size) - np.repeat(np.cumsum(n) - n, n)
    t0 = t_known[who][owner] + streams.uniform("dq_scan_t", cid[owner], k) * span[owner]
    per = 2 + dq.scanner_clicks  # delivery, open, clicks
    s = dq.scanner_seconds
    j = np.arange(per)
    u = streams.uniform("dq_scan_delay", cid[owner][:, None], k[:, None] * per + j[None, :])
    delay = np.where(j == 0, 0.0, np.where(j == 1, 0.5 * s * u, (0.5 + 0.5 * u) * s))
    acts = np.array([_CODE["email_delivered"], _CODE["email_open"]]
                    + [_CODE["email_click"]] * dq.scanner_clicks)  # fmt: skip
    m = owner.size * per
    return Cols(
        (t0[:, None] + np.maximum(delay, 0.0) * SECOND).ravel(),
        np.repeat(acc[who][owner], per),
        np.repeat(cid[owner], per),
        np.tile(acts, owner.size),
        np.full(m, email_channel),
        np.full(m, -1),
        np.ones(m, dtype=bool),
    )


def crawler_touches(
    dq: DataQuality, streams: Streams, n_acc: int, horizon: float, channel: int
) -> Cols:
    """Bursts of anonymous web visits: ``crawler_bursts_per_week`` per account a week, each
    ``crawler_burst_visits`` visits within ``crawler_burst_seconds``."""
    accounts = np.arange(n_acc)
    key = streams.key("dq_crawl_n", accounts)
    lam = np.full(n_acc, dq.crawler_bursts_per_week * horizon / 7.0)
    n = _poisson_counts(lambda r, p: to_unit(Streams.words(key[r], p)), lam)
    owner = np.repeat(accounts, n)
    k = np.arange(owner.size) - np.repeat(np.cumsum(n) - n, n)
    length = dq.crawler_burst_seconds * SECOND
    start = streams.uniform("dq_crawl_t", owner, k) * max(horizon - length, 0.0)
    v = dq.crawler_burst_visits
    j = np.arange(v)
    u = np.sort(streams.uniform("dq_crawl_v", owner[:, None], k[:, None] * v + j), axis=1)
    m = owner.size * v
    return Cols(
        (start[:, None] + u * length).ravel(),
        np.repeat(owner, v),
        np.full(m, -1),
        np.full(m, _CODE["web_visit"]),
        np.full(m, channel),
        np.full(m, -1),
        np.ones(m, dtype=bool),
    )


def duplicate_people(
    dq: DataQuality, streams: Streams, contacts: pd.DataFrame, cols: Cols
) -> tuple[pd.DataFrame, Cols, np.ndarray]:
    """A second record for ``duplicate_contacts`` of the people (numbered after the last
    contact, a variant of the title, the person's other columns), and ``duplicate_touch_share``
    of their own touches (not the automated ones) logged on it. Also returns, per contact
    row, the id of the person it records."""
    cid = contacts["contact_id"].to_numpy(np.int64)
    dup = streams.uniform("dq_duplicate", cid) < dq.duplicate_contacts
    if not dup.any():
        return contacts, cols, cid
    extra = contacts[dup].copy()
    new_id = cid.max() + 1 + np.arange(int(dup.sum()))
    extra["contact_id"] = new_id
    extra["duplicate_of"] = cid[dup]
    title = _variant_titles(extra["title"], streams.uniform("dq_dup_title", cid[dup]))
    to_new = pd.Series(new_id, index=cid[dup])
    person = np.flatnonzero((cols.contact >= 0) & ~cols.bot)
    person = person[np.isin(cols.contact[person], cid[dup])]
    order = person[np.argsort(cols.contact[person], kind="stable")]
    c = cols.contact[order]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    rank = np.arange(c.size) - np.repeat(starts, np.diff(np.r_[starts, c.size]))
    moved = streams.uniform("dq_dup_touch", c, rank) < dq.duplicate_touch_share
    contact = cols.contact.copy()
    contact[order[moved]] = to_new.reindex(c[moved]).to_numpy(np.int64)
    cols = Cols(cols.time, cols.account, contact, cols.activity, cols.channel, cols.campaign,
                cols.bot)  # fmt: skip
    out = pd.concat([contacts, extra], ignore_index=True)
    out["title"] = np.r_[contacts["title"].astype(object).to_numpy(), title]
    return out, cols, np.r_[cid, cid[dup]]


def mislink(
    dq: DataQuality, streams: Streams, contacts: pd.DataFrame, cols: Cols, person: np.ndarray
) -> tuple[pd.DataFrame, Cols]:
    """``wrong_account`` of the people linked to another account (their touches follow),
    ``no_account`` of them to none (-1; their touches keep their account). A duplicate record
    is linked like its person (it is drawn with the person's key)."""
    cid = contacts["contact_id"].to_numpy(np.int64)
    acc = contacts["account_id"].to_numpy(np.int64)
    n_acc = int(acc.max()) + 1
    u = streams.uniform("dq_link", person)
    wrong = (u < dq.wrong_account) & (n_acc > 1)
    none = (u >= dq.wrong_account) & (u < dq.wrong_account + dq.no_account)
    shift = 1 + np.floor(streams.uniform("dq_link_to", person) * (n_acc - 1)).astype(np.int64)
    new_acc = np.where(wrong, (acc + shift) % max(n_acc, 1), np.where(none, -1, acc))
    if not (wrong | none).any():
        return contacts, cols
    contacts = contacts.copy()
    contacts["account_id"] = new_acc
    row = pd.Series(np.arange(cid.size), index=cid)
    ev = np.flatnonzero(cols.contact >= 0)
    r = row.reindex(cols.contact[ev]).to_numpy(np.int64)
    account = cols.account.copy()
    account[ev[wrong[r]]] = new_acc[r[wrong[r]]]
    return contacts, Cols(cols.time, account, cols.contact, cols.activity, cols.channel,
                          cols.campaign, cols.bot)  # fmt: skip


def person_of(contacts: pd.DataFrame, person: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """Per event contact id: the person it records (-1 stays -1)."""
    out = np.full(contact.size, -1, dtype=np.int64)
    known = contact >= 0
    ids = pd.Series(person, index=contacts["contact_id"].to_numpy(np.int64))
    out[known] = ids.reindex(contact[known]).to_numpy(np.int64)
    return out


def skew_clocks(
    dq: DataQuality, streams: Streams, cols: Cols, horizon: float, person: np.ndarray
) -> Cols:
    """Touches of ``clock_skew`` of the people (and of the accounts, for anonymous touches)
    logged 1..``clock_skew_hours`` hours early or late; those leaving [0, horizon) dropped."""
    if dq.clock_skew == 0:
        return cols
    known = person >= 0
    src = np.where(known, person, cols.account)
    stream = np.where(known, 1, 0)
    skewed = streams.uniform("dq_skew", src * 2 + stream) < dq.clock_skew
    u = streams.uniform("dq_skew_by", src * 2 + stream)
    hours = 1 + np.floor(u * 2 * dq.clock_skew_hours).astype(np.int64)
    offset = np.where(hours > dq.clock_skew_hours, dq.clock_skew_hours - hours, hours)
    time = cols.time + np.where(skewed, offset * HOUR, 0.0)
    keep = np.flatnonzero((time >= 0) & (time < horizon))
    shifted = Cols(time, *cols.parts()[1:])
    return shifted.take(keep)


def messy_titles(dq: DataQuality, streams: Streams, contacts: pd.DataFrame) -> pd.DataFrame:
    """``blank_titles`` of the contacts without a title (and so without the columns the CRM
    infers from it), ``title_variants`` of the rest with their title typed another way."""
    if dq.blank_titles == 0 and dq.title_variants == 0:
        return contacts
    cid = contacts["contact_id"].to_numpy(np.int64)
    blank = streams.uniform("dq_blank", cid) < dq.blank_titles
    variant = ~blank & (streams.uniform("dq_variant", cid) < dq.title_variants)
    contacts = contacts.copy()
    title = np.array(contacts["title"].astype(object).to_numpy(), dtype=object)
    title[variant] = _variant_titles(
        pd.Series(title[variant]), streams.uniform("dq_variant_which", cid[variant])
    )
    title[blank] = None
    contacts["title"] = title
    for col in _CRM_INFERRED:
        if col in contacts.columns:
            values = contacts[col].copy()
            values[blank] = None
            contacts[col] = values
    return contacts


def _variant_titles(titles: pd.Series, u: np.ndarray) -> np.ndarray:
    """A variant of each title (the ``floor(u * 4)``-th of :func:`variants`); blanks stay."""
    which = np.floor(np.asarray(u) * 4).astype(np.int64)
    vals = titles.astype(object).to_numpy()
    return np.array(
        [
            v if v is None or v != v else variants(str(v))[w]
            for v, w in zip(vals, which, strict=True)
        ],
        dtype=object,
    )


def _as_category(values: pd.Series, categories: list[str]) -> pd.Categorical:
    """``values`` as a categorical with ``categories`` first, then any new values, sorted."""
    new = sorted({v for v in values.dropna().astype(str)} - set(categories))
    return pd.Categorical(values.astype(object), categories=[*categories, *new])
