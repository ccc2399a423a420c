"""``mqa_count`` evaluated at its counting touches only (the fast path of monotone rules).

When every clause of a rule is a count that must reach a threshold (``any`` / ``all`` of
conditions, no ``not``), the rule can first become true only at the time of a touch that one of
its conditions counts: between two such touches the windows only lose touches, so every count
only falls. The first event time at which the rule holds is therefore the first such touch
time at which it holds, and nothing needs to be computed for the other events of the log.
Without ``recycle_days`` (each account handed off at most once) this gives exactly the handoffs
of the general evaluator; with ``not:`` or recycling the general path (:mod:`policies.mqa`) is
used. ``policies/reference.py`` is the slow reference both are tested against.

:class:`Touches` holds the candidate events: the events whose activity some condition counts,
by known contacts (and anonymous ones when some condition counts them). Window counts are
evaluated at every candidate (all candidates at the same time included), with every time
comparison on the original floats: the window of a candidate at time t is [t - W, t].

The same structure gives a whole threshold sweep in one pass (:func:`sweep_mqa`): at each
candidate the largest threshold of the swept condition for which the rule holds is a number
K; an account's handoff for threshold k is its first candidate where the running maximum of K
reaches k.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from policies.kernels.conditions import _resolve
from policies.kernels.frame import QUALIFICATION_COLUMNS, Frame, _rows, empty_qualifications
from policies.schema import Condition, Group, MqaCount
from sim.vocab import ACTIVITIES

FIELDS = ("unique_contacts", "min_activities")


# --------------------------------------------------------------------------- eligibility


def monotone(node) -> bool:
    """Only ``any`` / ``all`` of conditions (no ``not``): true only where counts are high."""
    if isinstance(node, Condition):
        return True
    return node.op != "not" and all(monotone(c) for c in node.children)


def fast_ok(policy: MqaCount) -> bool:
    """Can ``policy`` be evaluated at its counting touches only?"""
    return (
        policy.recycle_days is None
        and monotone(policy.rule)
        and all(monotone(g) for g in policy.tiers.values())
    )


def _conditions(node) -> list[Condition]:
    if isinstance(node, Condition):
        return [node]
    return [c for child in node.children for c in _conditions(child)]


def _filtered(cond: Condition) -> bool:
    return cond.seniority is not None or cond.roles is not None


# --------------------------------------------------------------------------- candidates


BLOCK = 1 << 16  # candidates per block: blocks of whole accounts, worked on in cache
EVENT_BLOCK = 1 << 20  # events per block when selecting the candidates


class Touches:
    """The candidate events of a log (a subset, in log order) and window counts at each.

    Work is done block by block (whole accounts, about :data:`BLOCK` candidates each) so that
    the temporaries of each step stay in the CPU cache."""

    def __init__(self, f: Frame, activities: tuple[str, ...], anonymous: bool):
        self.log = f.log
        codes, table = f.activity_codes
        counts = np.isin(table, [ACTIVITIES.index(a) for a in activities]) & (table >= 0)
        contact, account, time = f.raw_contact, f.raw_account, f.raw_time
        parts = []
        for s in range(0, f.n, EVENT_BLOCK):
            e = min(s + EVENT_BLOCK, f.n)
            mask = _code_mask(codes[s:e], counts)
            if not anonymous:
                mask &= contact[s:e] >= 0
            i = np.flatnonzero(mask)
            parts.append((account[s:e][i], time[s:e][i], contact[s:e][i], codes[s:e][i]))
        cols = [np.concatenate(c) for c in zip(*parts, strict=True)] if parts else None
        self.account, self.time, self.contact, self._codes = cols or (np.zeros(0, int),) * 4
        self._code_table = table  # categorical code -> index in ACTIVITIES
        self.m = m = len(self.time)
        self.idx = np.int32 if m < 2**31 - 2 else np.int64  # dtype of positions
        self._memo: dict = {}
        acc, t = self.account, self.time
        new_acct = np.r_[True, acc[1:] != acc[:-1]] if m else np.zeros(0, bool)
        self.first = np.flatnonzero(new_acct).astype(self.idx)  # each account's first
        self.last = np.r_[self.first[1:], m].astype(self.idx)  # and one past its last
        self.rank = np.cumsum(new_acct, dtype=self.idx) - 1
        new_tie = new_acct | np.r_[True, t[1:] != t[:-1]] if m else new_acct
        self.ties = not new_tie.all()  # two candidates of an account at one time?
        if self.ties:
            starts = np.flatnonzero(new_tie).astype(self.idx)
            tsizes = np.diff(np.r_[starts, m])
            self.tie_start = np.repeat(starts, tsizes)
            self.tie_end = np.repeat(starts + tsizes - 1, tsizes)
        # Blocks of whole accounts, each starting at the first account start at or after a
        # multiple of BLOCK.
        cuts = np.r_[self.first, m][np.searchsorted(self.first, np.arange(0, m, BLOCK))]
        bounds = np.unique(np.r_[cuts, m])
        self.blocks = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))

    @property
    def code(self) -> np.ndarray:
        """Each candidate's index in ``ACTIVITIES``."""
        return self._code_table[self._codes]

    def _tie_start(self, s: int, e: int) -> np.ndarray:
        """The first candidate of each one's time tie, for the block [s, e) (block positions)."""
        if self.ties:
            return self.tie_start[s:e] - s
        return np.arange(e - s, dtype=self.idx)

    def _bounds(self, s: int, e: int) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate's account start and end, for the block [s, e) (block positions)."""
        r0, r1 = int(self.rank[s]), int(self.rank[e - 1]) + 1
        r = self.rank[s:e] - r0
        return (self.first[r0:r1] - s)[r], (self.last[r0:r1] - s)[r]

    # -- per account and per contact attributes --------------------------------------------
    def account_number(self, column: str) -> np.ndarray:
        """Per account (by rank): its numeric ``column`` (NaN where unknown)."""
        key = ("account_number", column)
        if key not in self._memo:
            acc = self.log.accounts
            ids = self.account[self.first].astype(np.int64)
            if column not in acc.columns or ids.size == 0:
                vals = np.full(ids.size, np.nan)
            else:
                per = pd.to_numeric(acc[column], errors="coerce").to_numpy(np.float64)
                rows = _rows(acc["account_id"].to_numpy(np.int64), ids)
                vals = np.where(rows >= 0, per[np.maximum(rows, 0)] if per.size else np.nan, np.nan)
            self._memo[key] = vals
        return self._memo[key]

    def contact_in(self, column: str, allowed: list[str]) -> np.ndarray:
        """Per candidate: is its (known) contact's ``column`` one of ``allowed``?"""
        con = self.log.contacts
        if column not in con.columns:
            return np.zeros(self.m, dtype=bool)
        ok = con[column].astype(object).isin(allowed).to_numpy(bool)
        row = _rows(con["contact_id"].to_numpy(np.int64), self.contact.astype(np.int64))
        return (row >= 0) & (ok[np.maximum(row, 0)] if ok.size else False)

    def activity_in(self, activities) -> np.ndarray:
        """Per candidate: is its activity one of ``activities``?"""
        key = ("activity_in", tuple(sorted(activities)))
        if key not in self._memo:
            idx = [ACTIVITIES.index(a) for a in activities]
            table = np.isin(self._code_table, idx) & (self._code_table >= 0)
            self._memo[key] = table[self._codes]
        return self._memo[key]

    @property
    def known(self) -> np.ndarray:
        if "known" not in self._memo:
            self._memo["known"] = self.contact >= 0
        return self._memo["known"]

    # -- windows ----------------------------------------------------------------------------
    def lower(self, window: float) -> np.ndarray:
        """Per candidate at time t: the first candidate of its account with time >= t - W."""
        key = ("lower", float(window))
        if key not in self._memo:
            out = np.empty(self.m, dtype=self.idx)
            for s, e in self.blocks:
                out[s:e] = self._lower_block(s, e, window) + s
            self._memo[key] = out
        return self._memo[key]

    def _lower_block(self, s: int, e: int, window: float) -> np.ndarray:
        # The block's accounts side by side on one axis (account r at r * span): candidate
        # keys and lower-edge keys there. The number of keys below each edge, counted in
        # buckets of about a quarter candidate each, is almost the answer; the exact float
        # comparison s >= t - W then settles the few that the bucket or rounding got wrong.
        n = e - s
        t = self.time[s:e]
        base = t.min() - window
        span = (t.max() - t.min()) + window + 1.0
        off = (self.rank[s:e] - self.rank[s]) * span
        total = (int(self.rank[e - 1] - self.rank[s]) + 1) * span
        width = total / (4 * n)
        keys = off + (t - base)
        edge = t - window
        q = off + (edge - base)
        nb = int(total / width) + 2
        below = np.zeros(nb + 1, dtype=self.idx)
        np.cumsum(
            np.bincount(np.minimum(keys / width, nb - 1).astype(np.intp), minlength=nb),
            out=below[1:],
        )
        lo = below[np.minimum(q / width, nb - 1).astype(np.intp)]
        st, en = self._bounds(s, e)
        np.clip(lo, st, en, out=lo)
        return _settle_sparse(lo, st, en, t, edge)

    def count(self, mask: np.ndarray, window: float, distinct: bool = False) -> np.ndarray:
        """At every candidate (time t): the number of candidates selected by ``mask`` in its
        account with time in [t - W, t]; with ``distinct`` the number of distinct contacts
        among them (anonymous ones must be masked out). Memoised."""
        digest = hashlib.blake2b(np.packbits(mask).tobytes(), digest_size=16).digest()
        key = (digest, float(window), distinct)
        if key not in self._memo:
            self._memo[key] = self._count(mask, float(window), distinct)
        return self._memo[key]

    def _count(self, mask, window, distinct) -> np.ndarray:
        lo = self.lower(window)
        if not distinct:
            cum = np.zeros(self.m + 1, dtype=self.idx)
            np.cumsum(mask, out=cum[1:])
            hi = cum[self.tie_end + 1] if self.ties else cum[1:]
            return hi - cum[lo]
        out = np.empty(self.m, dtype=self.idx)
        for s, e in self.blocks:
            j = np.flatnonzero(mask[s:e]).astype(self.idx)
            n = e - s
            if j.size == 0:
                out[s:e] = 0
                continue
            ts = self._tie_start(s, e)
            # A touch stands for its contact from its time until it leaves the window (the
            # first candidate whose lower edge is past it) or the contact's next selected touch.
            # leave(j) = #{i : lo(i) <= j}: lo is sorted, so a running count of its values.
            below = np.cumsum(np.bincount(lo[s:e] - s, minlength=n), dtype=self.idx)
            nxt = _next_same(j, self.contact[s:e], self.rank[s:e])  # n: none
            leave = np.minimum(below[j], np.r_[ts, n][nxt])
            diff = np.bincount(ts[j], minlength=n + 1)
            diff -= np.bincount(leave, minlength=n + 1)
            np.cumsum(diff[:n], out=out[s:e])
        return out


def _settle_sparse(lo, st, en, t, edge) -> np.ndarray:
    """Move each ``lo`` (within [st, en]) to the first index whose ``t`` is >= ``edge``, step
    by step, working only on the entries still moving (exact float comparisons)."""
    last = t.size - 1
    act = np.flatnonzero((lo < en) & (t[np.minimum(lo, last)] < edge))
    while act.size:  # too low: t[lo] < edge
        lo[act] += 1
        nxt = lo[act]
        act = act[(nxt < en[act]) & (t[np.minimum(nxt, last)] < edge[act])]
    act = np.flatnonzero((lo > st) & (t[np.maximum(lo - 1, 0)] >= edge))
    while act.size:  # too high: t[lo - 1] >= edge
        lo[act] -= 1
        nxt = lo[act]
        act = act[(nxt > st[act]) & (t[np.maximum(nxt - 1, 0)] >= edge[act])]
    return lo


def _code_mask(codes: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """``allowed[codes]`` (codes >= 0), by comparisons when the allowed codes form a few runs
    (cheaper than a table lookup on small integer codes)."""
    hit = np.flatnonzero(allowed)
    runs = np.split(hit, np.flatnonzero(np.diff(hit) != 1) + 1) if hit.size else []
    if len(runs) > 4:
        return allowed[codes]
    out = np.zeros(codes.shape, dtype=bool)
    for run in runs:
        lo, hi = int(run[0]), int(run[-1])
        out |= (codes == lo) if lo == hi else ((codes >= lo) & (codes <= hi))
    return out


def _next_same(j: np.ndarray, contact: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """For each selected candidate ``j`` (sorted positions in a block of ``len(contact)``): the
    next selected one of the same account and contact (``len(contact)``: none)."""
    n = len(contact)
    c = contact[j].astype(np.int64)
    r = rank[j]
    seg = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    local = c - np.repeat(np.minimum.reduceat(c, seg), np.diff(np.r_[seg, j.size]))
    if local.max() < 1 << 16:  # a contact's number within its account: a radix sort
        order = np.argsort(local.astype(np.uint16), kind="stable")
        key = ((r.astype(np.int64) << 16) | local)[order]
        same = np.flatnonzero(key[1:] == key[:-1])
    else:
        order = np.lexsort((local, r))
        rs, ls = r[order], local[order]
        same = np.flatnonzero((rs[1:] == rs[:-1]) & (ls[1:] == ls[:-1]))
    nxt = np.full(j.size, n, dtype=j.dtype)
    nxt[order[same]] = j[order[same + 1]]
    return nxt


def touches_for(policy: MqaCount, f: Frame) -> Touches:
    """The candidates of ``policy`` (every condition's counting touches and the touches of its
    score), memoised on the frame."""
    args = (policy.window_days, list(policy.activities), policy.include_anonymous)
    acts, anon = set(policy.activities), False
    for group in [policy.rule, *policy.tiers.values()]:
        for cond in _conditions(group):
            _, a, an = _resolve(cond, *args)
            acts |= set(a)
            anon |= bool(an) and not _filtered(cond)
    key = ("touches", tuple(sorted(acts)), anon)
    return f.memo(key, lambda: Touches(f, tuple(sorted(acts)), anon))


# --------------------------------------------------------------------------- conditions


class Rule:
    """A monotone ``mqa_count`` rule evaluated at the candidates."""

    def __init__(self, policy: MqaCount, tt: Touches):
        self.policy = policy
        self.tt = tt
        self.args = (policy.window_days, list(policy.activities), policy.include_anonymous)

    def counts(self, cond: Condition, need: str = ""):
        """(unique contacts, counting touches, account passes the filters (None: all))
        per candidate; a count is None where the condition does not ask for it (and it is not
        the ``need`` field)."""
        tt = self.tt
        window, acts, anon = _resolve(cond, *self.args)
        counting = tt.activity_in(acts)
        known = tt.known
        who = known.copy()
        if cond.seniority is not None:
            who &= tt.contact_in("seniority", cond.seniority)
        if cond.roles is not None:
            who &= tt.contact_in("role", cond.roles)
        touches = counting & (who | (~known if anon and not _filtered(cond) else False))
        unique = total = None
        if cond.unique_contacts or need == "unique_contacts":
            unique = tt.count(counting & who, window, distinct=True)
        if cond.min_activities or need == "min_activities":
            total = tt.count(touches, window)
        if cond.tier is None and cond.icp_fit_min is None:
            return unique, total, None
        ok = np.ones(tt.first.size, dtype=bool)
        if cond.tier is not None:
            ok &= np.isin(tt.account_number("tier"), cond.tier)
        if cond.icp_fit_min is not None:
            ok &= tt.account_number("icp_fit") >= cond.icp_fit_min
        return unique, total, ok[tt.rank]

    def holds(self, node) -> np.ndarray:
        if isinstance(node, Condition):
            unique, total, ok = self.counts(node)
            if ok is None:
                ok = np.ones(self.tt.m, dtype=bool)
            if unique is not None:
                ok &= unique >= node.unique_contacts
            if total is not None:
                ok &= total >= node.min_activities
            return ok
        parts = [self.holds(c) for c in node.children]
        out = parts[0].copy()
        for p in parts[1:]:
            if node.op == "any":
                out |= p
            else:
                out &= p
        return out

    def score(self) -> np.ndarray:
        """Distinct known counting contacts in the policy's window, at every candidate."""
        tt = self.tt
        people = tt.activity_in(self.policy.activities) & tt.known
        return tt.count(people, self.policy.window_days, distinct=True)

    def groups(self):
        """(tier or None, group, rule-name prefix, accounts (by rank) using it)."""
        policy, tt = self.policy, self.tt
        n_acc = tt.first.size
        if not policy.tiers:
            return [(None, policy.rule, "", np.ones(n_acc, dtype=bool))]
        tier = tt.account_number("tier")
        overridden = np.isin(tier, list(policy.tiers))
        out = [(None, policy.rule, "", ~overridden)]
        out += [(t, g, f"tiers.{t}.", tier == t) for t, g in policy.tiers.items()]
        return out


def evaluate_fast(policy: MqaCount, f: Frame) -> pd.DataFrame:
    """The handoffs of a monotone ``mqa_count`` policy without recycling (see the module)."""
    tt = touches_for(policy, f)
    if tt.m == 0:
        return empty_qualifications()
    rule = Rule(policy, tt)
    groups = rule.groups()
    holds = np.zeros(tt.m, dtype=bool)
    named = {}
    for t, group, _prefix, use in groups:
        if not use.any():
            continue
        named[t] = [(n, rule.holds(c)) for n, c in group.named()]
        parts = np.array([h for _, h in named[t]])
        h = parts.any(axis=0) if group.op == "any" else parts.all(axis=0)
        holds |= h if use.all() else h & use[tt.rank]
    pos = np.flatnonzero(holds)
    r = tt.rank[pos]
    at = pos[np.r_[True, r[1:] != r[:-1]]] if pos.size else pos
    if at.size == 0:
        return empty_qualifications()
    names = []
    codes = np.zeros(at.size, dtype=np.int64)
    for t, group, prefix, use in groups:
        sel = use[tt.rank[at]]
        if not sel.any():
            continue
        base = len(names)
        if group.op == "any":
            stack = np.array([h[at[sel]] for _, h in named[t]])
            codes[sel] = base + stack.argmax(axis=0)
            names += [f"{prefix}{n}" for n, _ in named[t]]
        else:
            codes[sel] = base
            names.append(f"{prefix}{group.op}")
    return frame_rows(policy.name, tt, at, names, codes, rule.score()[at])


def frame_rows(name, tt: Touches, at, names, codes, score, value=None) -> pd.DataFrame:
    """Qualification rows (the output contract) for handoffs at candidates ``at``; the rule of
    row i is ``names[codes[i]]``."""
    data = {
        "policy": name,
        "account_id": tt.account[at].astype(np.int64),
        "contact_id": np.full(at.size, -1, dtype=np.int64),
        "time": tt.time[at],
        "rule": _strings(names, codes),
        "score": np.asarray(score, dtype=np.float64),
        "stage": "",
    }
    assert list(data) == QUALIFICATION_COLUMNS
    if value is not None:
        data["value"] = value
    return pd.DataFrame(data, copy=False)


def _strings(names: list[str], codes: np.ndarray):
    """``names[codes]`` as a string column, built from a dictionary where pandas stores
    strings in Arrow (the same dtype as from an object array, without a per-row conversion)."""
    obj = np.array(names, dtype=object)
    dtype = pd.Series(obj[:1]).dtype
    if codes.size > 1000 and getattr(dtype, "storage", None) == "pyarrow":
        try:
            import pyarrow as pa

            arr = pa.DictionaryArray.from_arrays(
                pa.array(codes.astype(np.int32)), pa.array(names, type=pa.large_string())
            ).cast(pa.large_string())
            return pd.array(arr, dtype=dtype)
        except Exception:  # pragma: no cover - any trouble: the plain conversion below
            pass
    return obj[codes] if codes.size else np.array([], dtype=object)


# --------------------------------------------------------------------------- sweeps


def sweep_target(policy, path: str):
    """Where a sweep of ``path`` can be done in one pass: (tier or None, child indices down to
    the condition, field); None when it cannot (not a count threshold of a monotone
    ``mqa_count`` without recycling)."""
    if not isinstance(policy, MqaCount) or not fast_ok(policy):
        return None
    parts = path.split(".")
    if len(parts) < 3 or parts[-1] not in FIELDS:
        return None
    tier, node, rest = None, policy.rule, parts[:-1]
    if parts[0] == "tiers":
        if not parts[1].isdigit() or int(parts[1]) not in policy.tiers:
            return None
        tier, rest = int(parts[1]), parts[2:-1]
        node = policy.tiers[tier]
    if not rest or len(rest) % 2:
        return None
    idx = []
    for op, i in zip(rest[::2], rest[1::2], strict=True):
        if not isinstance(node, Group) or node.op != op or not i.isdigit():
            return None
        if int(i) >= len(node.children):
            return None
        idx.append(int(i))
        node = node.children[int(i)]
    if not isinstance(node, Condition):
        return None
    return tier, idx, parts[-1]


def _k(rule: Rule, node, idx: list[int] | None, field: str, big: int) -> np.ndarray:
    """Per candidate: the largest value of the swept threshold (the condition at child indices
    ``idx`` below ``node``, its ``field``; None: not below) for which ``node`` holds: -1 for no
    value, ``big`` for every value. Monotone rules make this one number."""
    if isinstance(node, Condition):
        if idx is None:
            return np.where(rule.holds(node), big, -1)
        unique, total, ok = rule.counts(node, need=field)
        other = np.ones(rule.tt.m, dtype=bool) if ok is None else ok
        if field == "unique_contacts":
            x = unique
            if node.min_activities:
                other &= total >= node.min_activities
        else:
            x = total
            if node.unique_contacts:
                other &= unique >= node.unique_contacts
        return np.where(other, x, -1)
    parts = [
        _k(rule, c, idx[1:] if idx and idx[0] == i else None, field, big)
        for i, c in enumerate(node.children)
    ]
    out = parts[0].copy()
    for p in parts[1:]:
        np.maximum(out, p, out=out) if node.op == "any" else np.minimum(out, p, out=out)
    return out


def sweep_fast(policy: MqaCount, f: Frame, target, values: list[int]) -> pd.DataFrame:
    """``sweep`` in one pass (see the module); ``target`` from :func:`sweep_target`."""
    tier_swept, idx, field = target
    vals = np.asarray(values, dtype=np.int64)
    tt = touches_for(policy, f)
    if tt.m == 0:
        return _sweep_frame(policy.name, tt, *([np.zeros(0, np.int64)] * 3), [], [], vals)
    rule = Rule(policy, tt)
    big = int(vals.max()) + 1
    k = np.full(tt.m, -1, dtype=np.int64)
    tops = []  # (group, prefix, accounts using it, top-level children's K)
    for t, group, prefix, use in rule.groups():
        if not use.any():
            continue
        path = idx if t == tier_swept else None
        kids = [
            _k(rule, c, path[1:] if path is not None and path[0] == i else None, field, big)
            for i, c in enumerate(group.children)
        ]
        kg = kids[0].copy()
        for p in kids[1:]:
            np.maximum(kg, p, out=kg) if group.op == "any" else np.minimum(kg, p, out=kg)
        if use.all():
            k = kg
        else:
            sel = use[tt.rank]
            k[sel] = kg[sel]
        tops.append((group, prefix, use, kids))
    np.minimum(k, big, out=k)  # counts above every value are as good as "always"
    # The running maximum M of K per account: where it rises from p to M it is the handoff of
    # every value v with p < v <= M.
    stride = big + 2
    run = np.maximum.accumulate(tt.rank.astype(np.int64) * stride + (k + 1))
    rises = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])
    high = run[rises] % stride - 1
    acc_new = np.r_[True, tt.rank[rises[1:]] != tt.rank[rises[:-1]]]
    low = np.where(acc_new, -1, np.r_[-1, high[:-1]])
    uniq, inv = np.unique(vals, return_inverse=True)
    first_v = np.searchsorted(uniq, low, side="right")
    n_v = np.searchsorted(uniq, high, side="right") - first_v
    np.maximum(n_v, 0, out=n_v)
    rise = np.repeat(np.arange(rises.size), n_v)
    cum = np.cumsum(n_v)
    vi = np.repeat(first_v - (cum - n_v), n_v) + np.arange(rise.size)
    # Value-major order (then by account, as generated): a stable sort on the value index.
    order = np.argsort(vi.astype(np.uint16) if uniq.size < 1 << 16 else vi, kind="stable")
    at, vi = rises[rise[order]], vi[order]
    per = np.bincount(vi, minlength=uniq.size)
    if not np.array_equal(inv, np.arange(uniq.size)):  # unsorted or repeated values
        starts = np.cumsum(per) - per
        pick = np.concatenate([np.arange(starts[u], starts[u] + per[u]) for u in inv])
        at, vi = at[pick], vi[pick]
    kk = uniq[vi]
    names, codes = [], np.zeros(at.size, dtype=np.int64)
    ranks = tt.rank[at] if len(tops) > 1 else None
    for group, prefix, use, kids in tops:
        sel = slice(None) if ranks is None else use[ranks]
        if group.op == "any":
            found = np.zeros(at.size if ranks is None else int(sel.sum()), dtype=bool)
            code = np.zeros(found.size, dtype=np.int64)
            a_sel, k_sel = at[sel], kk[sel]
            for i, c in enumerate(kids):
                h = c[a_sel] >= k_sel
                code[h & ~found] = i
                found |= h
            codes[sel] = len(names) + code
            names += [f"{prefix}{n}" for n, _ in group.named()]
        else:
            codes[sel] = len(names)
            names.append(f"{prefix}{group.op}")
    score = rule.score()[at]
    return _sweep_frame(policy.name, tt, at, codes, score, names, per[inv], vals)


def _sweep_frame(name, tt, at, codes, score, names, counts, vals) -> pd.DataFrame:
    if at.size == 0:
        out = empty_qualifications()
        return out.assign(value=np.zeros(0, dtype=np.int64))
    return frame_rows(name, tt, at, names, codes, score, value=np.repeat(vals, counts))
