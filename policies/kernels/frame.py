"""The shared machinery of the fast evaluators: per-event arrays of an EventLog, trailing-window
sums and distinct counts evaluated at every event time, running decayed sums, and turning a
per-event "rule holds" array into handoffs (first time, recycling).

Everything is vectorised over the whole log; exactness at the window's edges is kept by doing
every time comparison on the original floats (``s >= t - W``), never on shifted keys.
``policies/reference.py`` is the slow, obviously-correct implementation these are tested
against.
"""

from __future__ import annotations

import hashlib
import re
from functools import cached_property

import numpy as np
import pandas as pd

from sim.errors import DataError
from sim.eventlog import EventLog
from sim.tables import QUALIFICATIONS
from sim.vocab import ACTIVITIES

QUALIFICATION_COLUMNS = QUALIFICATIONS.names


def empty_qualifications() -> pd.DataFrame:
    """A qualifications table with no rows (the right columns and dtypes)."""
    return QUALIFICATIONS.empty()


def qualifications(
    policy, f: Frame, at: np.ndarray, rule, score=np.nan, contact=None, stage: str = ""
) -> pd.DataFrame:
    """The qualifications rows of handoffs at event indices ``at`` (the output contract)."""
    if at.size == 0:
        return empty_qualifications()
    return pd.DataFrame(
        {
            "policy": policy.name,
            "account_id": f.account[at],
            "contact_id": np.full(at.size, -1, dtype=np.int64) if contact is None else contact,
            "time": f.time[at],
            "rule": rule,
            "score": score,
            "stage": stage,
        }
    )


class Frame:
    """Per-event arrays of a log, aligned with ``log.events`` (sorted by account, time).

    Building a frame only checks the log (known activities, sorted by (account_id, time));
    every array is computed the first time it is used (``functools.cached_property``), so an
    evaluator pays only for what its policy needs. The ``raw_*`` arrays are the log's own
    columns without a copy where their dtype allows; the others are int64 / float64.
    """

    def __init__(self, log: EventLog):
        ev = log.events
        self.log = log
        self._memo: dict = {}
        self.n = len(ev)
        self._check()

    def _check(self) -> None:
        codes, table = self.activity_codes
        if self.n and codes.size and int(codes.min()) < 0:
            raise DataError("events: missing activity values")
        bad = np.flatnonzero(table < 0)
        if bad.size:
            present = np.unique(codes[np.isin(codes, bad)])
            if present.size:
                unknown = sorted({self._activity_names[c] for c in present})
                raise DataError(f"events: unknown activities {unknown}")
        acc, t = self.raw_account, self.raw_time
        for s in range(0, self.n - 1, 1 << 20):  # in blocks, to stay in the CPU cache
            a, b = acc[s : s + (1 << 20) + 1], t[s : s + (1 << 20) + 1]
            down = np.flatnonzero(b[1:] < b[:-1])  # few: only where a new account starts
            if (a[1:] < a[:-1]).any() or (a[1:][down] == a[:-1][down]).any():
                raise DataError("events must be sorted by (account_id, time)")

    # -- the log's columns ------------------------------------------------------------------
    @cached_property
    def raw_account(self) -> np.ndarray:
        """``account_id`` as stored (any integer dtype, no copy when possible)."""
        return _integers(self.log.events["account_id"])

    @cached_property
    def raw_contact(self) -> np.ndarray:
        """``contact_id`` as stored (any integer dtype, no copy when possible)."""
        return _integers(self.log.events["contact_id"])

    @cached_property
    def raw_time(self) -> np.ndarray:
        """``time`` as float64 (no copy when it is float64 already)."""
        return self.log.events["time"].to_numpy(np.float64)

    @cached_property
    def activity_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """(a code per event, each code's index in ``ACTIVITIES`` (-1: unknown name)). The
        categorical codes of ``activity`` are used as they are; other columns are factorized."""
        col = self.log.events["activity"]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.array.codes
            names = [str(c) for c in col.cat.categories]
        else:
            codes, uniques = pd.factorize(col, sort=False)
            names = [str(u) for u in uniques]
        self._activity_names = names
        index = {a: i for i, a in enumerate(ACTIVITIES)}
        table = np.array([index.get(u, -1) for u in names] or [0], dtype=np.int64)
        return codes, table

    def activity_mask(self, activities) -> np.ndarray:
        """Per event: is its activity one of ``activities``? (Straight from the codes.)"""
        codes, table = self.activity_codes
        hit = np.isin(table, [ACTIVITIES.index(a) for a in activities]) & (table >= 0)
        return hit[codes]

    @cached_property
    def account(self) -> np.ndarray:
        return self.raw_account.astype(np.int64, copy=False)

    @cached_property
    def time(self) -> np.ndarray:
        return self.raw_time

    @cached_property
    def contact(self) -> np.ndarray:
        return self.raw_contact.astype(np.int64, copy=False)

    @cached_property
    def activity(self) -> np.ndarray:
        """Each event's index in ``ACTIVITIES``."""
        codes, table = self.activity_codes
        return table[codes] if self.n else np.zeros(0, dtype=np.int64)

    # -- account and time-tie structure -------------------------------------------------------
    @cached_property
    def _new_account(self) -> np.ndarray:
        acc = self.raw_account
        return np.r_[True, acc[1:] != acc[:-1]] if self.n else np.zeros(0, bool)

    @cached_property
    def first_of_account(self) -> np.ndarray:
        return np.flatnonzero(self._new_account)

    @cached_property
    def _account_sizes(self) -> np.ndarray:
        return np.diff(np.r_[self.first_of_account, self.n])

    @cached_property
    def acct_start(self) -> np.ndarray:
        return np.repeat(self.first_of_account, self._account_sizes)

    @cached_property
    def acct_end(self) -> np.ndarray:
        return np.repeat(self.first_of_account + self._account_sizes, self._account_sizes)

    @cached_property
    def rank(self) -> np.ndarray:
        """Each event's account rank, for composite keys."""
        return np.cumsum(self._new_account) - 1

    @cached_property
    def _ties(self) -> tuple[np.ndarray, np.ndarray]:
        t = self.time
        new_tie = self._new_account | np.r_[True, t[1:] != t[:-1]] if self.n else self._new_account
        tie_starts = np.flatnonzero(new_tie)
        tie_sizes = np.diff(np.r_[tie_starts, self.n])
        return tie_starts, tie_sizes

    @cached_property
    def tie_start(self) -> np.ndarray:
        starts, sizes = self._ties
        return np.repeat(starts, sizes)

    @cached_property
    def tie_end(self) -> np.ndarray:
        """The last index of each event's time tie."""
        starts, sizes = self._ties
        return np.repeat(starts + sizes - 1, sizes)

    # -- attributes of each event's contact and account -------------------------------------
    @cached_property
    def contact_row(self) -> np.ndarray:
        """Each event's row in ``log.contacts`` (-1: anonymous or not in the table)."""
        return _rows(self.log.contacts["contact_id"].to_numpy(np.int64), self.contact)

    @cached_property
    def account_row(self) -> np.ndarray:
        """Each event's row in ``log.accounts`` (-1: not in the table)."""
        return _rows(self.log.accounts["account_id"].to_numpy(np.int64), self.account)

    def per_contact(self, values: np.ndarray, missing) -> np.ndarray:
        """Spread a per-contact-row array over the events (``missing`` where no row)."""
        row = self.contact_row
        out = np.asarray(values)[np.maximum(row, 0)] if len(values) else np.full(self.n, missing)
        return np.where(row >= 0, out, missing)

    def contact_in(self, column: str, allowed: list[str]) -> np.ndarray:
        """Per event: is its (known) contact's ``column`` one of ``allowed``? (False when the
        contacts table has no such column.)"""
        con = self.log.contacts
        if column not in con.columns:
            return np.zeros(self.n, dtype=bool)
        ok = con[column].astype(object).isin(allowed).to_numpy(bool)
        return self.per_contact(ok, False).astype(bool)

    def contact_values(self, column: str) -> np.ndarray:
        """Per event: its contact's ``column`` (object; None when anonymous or unknown)."""
        con = self.log.contacts
        if column not in con.columns:
            return np.full(self.n, None, dtype=object)
        return self.per_contact(con[column].astype(object).to_numpy(dtype=object), None)

    def activity_in(self, activities) -> np.ndarray:
        """Per event: is its activity one of ``activities``?"""
        key = ("activity_in", tuple(sorted(activities)))
        if key not in self._memo:
            self._memo[key] = self.activity_mask(activities)
            self._memo[key].setflags(write=False)
        return self._memo[key]

    def memo(self, key, compute):
        """Memoise ``compute()`` under ``key`` on this frame (for sweeps over one log)."""
        if key not in self._memo:
            value = compute()
            for v in value if isinstance(value, tuple) else (value,):
                if isinstance(v, np.ndarray):
                    v.setflags(write=False)
            self._memo[key] = value
        return self._memo[key]

    def account_number(self, column: str) -> np.ndarray:
        """Per event: its account's numeric ``column`` (NaN where unknown)."""
        key = ("account_number", column)
        if key not in self._memo:
            self._memo[key] = self._account_number(column)
        return self._memo[key]

    def account_number_at(self, column: str, idx: np.ndarray) -> np.ndarray:
        """Like :meth:`account_number`, for the events ``idx`` only (cheap on a big log)."""
        key = ("account_number_by_rank", column)
        if key not in self._memo:
            first = self.first_of_account
            acc = self.log.accounts
            if column not in acc.columns or first.size == 0:
                vals = np.full(first.size, np.nan)
            else:
                per = pd.to_numeric(acc[column], errors="coerce").to_numpy(np.float64)
                rows = _rows(acc["account_id"].to_numpy(np.int64), self.account[first])
                vals = np.where(rows >= 0, per[np.maximum(rows, 0)] if per.size else np.nan, np.nan)
            self._memo[key] = vals
        return self._memo[key][self.rank[idx]]

    def _account_number(self, column: str) -> np.ndarray:
        acc = self.log.accounts
        if column not in acc.columns:
            return np.full(self.n, np.nan)
        vals = pd.to_numeric(acc[column], errors="coerce").to_numpy(np.float64)
        row = self.account_row
        return np.where(row >= 0, vals[np.maximum(row, 0)] if len(vals) else np.nan, np.nan)

    def title_values(
        self, entries: list[tuple[list[str], float]], default: float, anonymous: float
    ) -> np.ndarray:
        """Per event: the value of the first entry matching its contact's title."""
        con = self.log.contacts
        titles = con["title"].to_numpy(dtype=object) if "title" in con.columns else []
        per_row = first_matching(np.asarray(titles, dtype=object), entries, default)
        out = self.per_contact(per_row, default).astype(float)
        out[self.contact < 0] = anonymous
        return out

    # -- windows ----------------------------------------------------------------------------
    def _first_after(
        self, s: np.ndarray, sel_start: np.ndarray, sel_end: np.ndarray, window: float
    ) -> np.ndarray:
        """For each touch time s (with its account's index range), the first event index i of
        that account with ``time[i] - window > s`` (the first evaluation the touch has left)."""

        def lo_keys():
            lo = self.time - window
            span = (self.time.max() - self.time.min()) + window + 1.0 if self.n else 1.0
            base = self.time.min() - window if self.n else 0.0
            return lo, self.rank * span + (lo - base), span, base

        lo, keys, span, base = self.memo(("lo-keys", float(window)), lo_keys)
        probe = self.rank[sel_start] * span + (s - base)
        q = np.clip(np.searchsorted(keys, probe, side="right"), sel_start, sel_end)
        # The composite keys round; settle the boundary on the exact comparison lo > s.
        return _settle(q, sel_start, sel_end, lo, s, "right")

    def window_sum(
        self,
        mask: np.ndarray,
        window: float,
        weights: np.ndarray | None = None,
        distinct: bool = False,
    ) -> np.ndarray:
        """At every event's time t: the sum of ``weights`` (default 1) over the events selected
        by ``mask`` in the same account with time in [t - window, t]. With ``distinct`` it
        counts distinct contacts among them instead (anonymous ones must be masked out).

        Results are memoised on the frame, so evaluating many variants of a policy (a sweep)
        on one frame computes each distinct window once."""
        key = (
            hashlib.blake2b(np.packbits(mask).tobytes(), digest_size=16).digest(),
            float(window),
            None
            if weights is None
            else hashlib.blake2b(
                np.ascontiguousarray(weights, dtype=float).tobytes(), digest_size=16
            ).digest(),
            distinct,
        )
        hit = self._memo.get(key)
        if hit is None:
            hit = self._window_sum(mask, window, weights, distinct)
            hit.setflags(write=False)
            self._memo[key] = hit
        return hit

    def _window_sum(self, mask, window, weights, distinct) -> np.ndarray:
        sel = np.flatnonzero(mask)
        out = np.zeros(self.n + 1)
        if sel.size == 0:
            return out[: self.n]
        w = np.ones(sel.size) if weights is None else np.asarray(weights, float)[sel]
        a = self.tie_start[sel]
        end = self.acct_end[sel]
        b = self._first_after(self.time[sel], self.acct_start[sel], end, window)
        if distinct:
            # A touch stands for its contact until the contact's next selected touch.
            order = np.lexsort((sel, self.contact[sel], self.account[sel]))
            s_sorted = sel[order]
            same = np.r_[
                (self.account[s_sorted[1:]] == self.account[s_sorted[:-1]])
                & (self.contact[s_sorted[1:]] == self.contact[s_sorted[:-1]]),
                False,
            ]
            nxt = np.full(sel.size, -1)
            nxt[order[:-1][same[:-1]]] = s_sorted[1:][same[:-1]]
            until = np.where(nxt >= 0, self.tie_start[np.maximum(nxt, 0)], end)
            b = np.minimum(b, until)
        keep = b > a
        np.add.at(out, a[keep], w[keep])
        np.subtract.at(out, b[keep], w[keep])
        return np.cumsum(out)[: self.n]

    def decayed_sum(
        self, group: np.ndarray, mask: np.ndarray, weights: np.ndarray, half_life: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Running Σ w × 0.5^((t - s)/half_life) per group over the selected events, evaluated
        right after each selected event: (indices of the selected events, values)."""
        sel = np.flatnonzero(mask)
        if sel.size == 0:
            return sel, np.zeros(0)
        order = np.lexsort((sel, group[sel]))
        idx = sel[order]
        g = group[idx]
        first = np.r_[True, g[1:] != g[:-1]]
        start = np.flatnonzero(first)
        rank = np.arange(idx.size) - np.repeat(start, np.diff(np.r_[start, idx.size]))
        val = np.zeros(idx.size)
        w = np.asarray(weights, float)[idx]
        t = self.time[idx]
        val[first] = w[first]
        for r in range(1, int(rank.max()) + 1):
            pos = np.flatnonzero(rank == r)
            val[pos] = val[pos - 1] * 0.5 ** ((t[pos] - t[pos - 1]) / half_life) + w[pos]
        back = np.argsort(order, kind="stable")
        return sel, val[back]

    # -- from "holds" to handoffs --------------------------------------------------------
    def handoffs(self, holds: np.ndarray, recycle_days: float | None) -> np.ndarray:
        """Event indices of the handoffs: per account the first event (of its time) at which
        ``holds``, then (with recycling) the first at or after the previous + recycle_days."""
        if recycle_days is None:
            # Each account's first event where the rule holds: among the rising edges only.
            rising = holds & np.r_[True, ~holds[:-1] | (self.rank[1:] != self.rank[:-1])]
            idx = np.flatnonzero(rising)
            r = self.rank[idx]
            first = np.r_[True, r[1:] != r[:-1]] if idx.size else np.zeros(0, dtype=bool)
            return self.tie_start[idx[first]]
        allowed = np.full(self.first_of_account.size, -np.inf)
        out = []
        while True:
            idx = np.flatnonzero(holds & (self.time >= allowed[self.rank]))
            if idx.size == 0:
                break
            r = self.rank[idx]  # idx is sorted, so each account's first candidate leads
            first = np.r_[True, r[1:] != r[:-1]]
            ranks = r[first]
            chosen = self.tie_start[idx[first]]
            out.append(chosen)
            if recycle_days is None:
                break
            allowed = np.full(self.first_of_account.size, np.inf)
            allowed[ranks] = self.time[chosen] + recycle_days
        if not out:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate(out))


def _integers(col: pd.Series) -> np.ndarray:
    """An id column as a numpy integer array (no copy when it is one already)."""
    out = col.to_numpy()
    return out if out.dtype.kind in "iu" else col.to_numpy(np.int64)


def _rows(table_ids: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Position of each query id in ``table_ids`` (-1 when absent)."""
    if table_ids.size == 0:
        return np.full(query.size, -1, dtype=np.int64)
    order = np.argsort(table_ids, kind="stable")
    srt = table_ids[order]
    pos = np.minimum(np.searchsorted(srt, query), srt.size - 1)
    return np.where(srt[pos] == query, order[pos], -1)


def title_regex(phrases: list[str]) -> re.Pattern:
    """A case-insensitive pattern matching any of ``phrases`` as whole words: the phrase's
    words (runs of letters, digits and ``_``) consecutive in the title, whatever separates
    them there ("chief information security" matches "Chief Information-Security Officer")."""
    alts = [r"\W+".join(re.escape(w) for w in re.findall(r"\w+", p)) for p in phrases]
    alts = [a for a in alts if a] or [r"(?!x)x"]  # a phrase without words never matches
    return re.compile(rf"(?<!\w)(?:{'|'.join(alts)})(?!\w)", re.IGNORECASE)


def first_matching(
    titles: np.ndarray, entries: list[tuple[list[str], float]], default: float
) -> np.ndarray:
    """Per title, the value of the first entry with a phrase matching it (else ``default``)."""
    uniq, inverse = np.unique(
        np.asarray([t if isinstance(t, str) else "" for t in titles], dtype=object).astype(str),
        return_inverse=True,
    )
    values = np.full(uniq.size, float(default))
    done = np.zeros(uniq.size, dtype=bool)
    for phrases, value in entries:
        pat = title_regex(phrases)
        hit = np.array([bool(pat.search(u)) for u in uniq], dtype=bool) & ~done
        values[hit] = value
        done |= hit
    return values[inverse]


def grouped_searchsorted(
    group: np.ndarray, values: np.ndarray, q_group: np.ndarray, q_value: np.ndarray, side: str
) -> np.ndarray:
    """``searchsorted`` within groups: ``values`` sorted by (group, value) with ``group`` a
    non-decreasing int array; per query the insertion index of ``q_value`` inside its group's
    block (``side`` as numpy's). Comparisons are settled on the exact floats."""
    if values.size == 0:
        return np.zeros(q_value.size, dtype=np.int64)
    starts = np.searchsorted(group, q_group, side="left")
    ends = np.searchsorted(group, q_group, side="right")
    lo_v = min(values.min(), q_value.min()) if q_value.size else values.min()
    span = max(values.max(), q_value.max() if q_value.size else values.max()) - lo_v + 1.0
    keys = group * span + (values - lo_v)
    q = np.searchsorted(keys, q_group * span + (q_value - lo_v), side=side)
    return _settle(np.clip(q, starts, ends), starts, ends, values, q_value, side)


def _settle(q, starts, ends, values, q_value, side: str) -> np.ndarray:
    """Move approximate insertion points ``q`` (found on rounded composite keys) to the exact
    ones within [starts, ends]: the first index whose value is not on the left of the query
    (``<`` for side "left", ``<=`` for "right")."""

    def before(i):  # is values[i] strictly on the left side of the query?
        v = values[np.clip(i, 0, values.size - 1)]
        return v < q_value if side == "left" else v <= q_value

    while True:
        m = (q > starts) & ~before(q - 1)
        if not m.any():
            break
        q[m] -= 1
    while True:
        m = (q < ends) & before(q)
        if not m.any():
            break
        q[m] += 1
    return q
