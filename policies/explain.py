"""Why and when did an account qualify? The touches behind each handoff, by contact and
activity (``qualsim explain``).

For every handoff of the account it lists the touches that the rule looked at, at the moment it
held: for ``mqa_count`` and ``stages`` the counting touches in the window of the condition that
fired (each stage's entry, for ``stages``); for ``weighted_titles`` the weighted touches in the
window with their weights; for ``mql`` the scoring contact's touches with their points, decayed
to the handoff.

>>> import sim, policies
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 40}}), seed=2)
>>> log = sim.EventLog.from_world(w)
>>> p = policies.load_policy("mqa_count")
>>> q = policies.evaluate(p, log)
>>> ex = explain(p, log, int(q["account_id"].iloc[0]))
>>> bool(len(ex) == (q["account_id"] == q["account_id"].iloc[0]).sum())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from policies import evaluate, stage_entries
from policies.kernels.conditions import counting_masks
from policies.kernels.frame import Frame
from policies.kinds.mql import fit_points
from policies.kinds.titles import touch_weights
from policies.schema import Condition, Group, MqaCount, Mql, PolicyBase, Stages, WeightedTitles
from sim.eventlog import EventLog
from sim.vocab import ACTIVITIES


@dataclass(frozen=True)
class Why:
    """One handoff and the touches behind it."""

    handoff: pd.Series  # the qualifications row
    window: tuple[float, float]  # the span of time the rule looked at
    touches: pd.DataFrame  # time, contact_id, title, activity, and weight/points where relevant
    note: str

    def by_contact(self) -> pd.DataFrame:
        """Touches per contact and activity (the multi-threading at a glance)."""
        t = self.touches
        if t.empty:
            return pd.DataFrame()
        return t.assign(
            contact=t["contact_id"].astype(str) + " " + t["title"].astype(str)
        ).pivot_table(
            index="contact",
            columns="activity",
            values="time",
            aggfunc="count",
            fill_value=0,
            observed=True,
        )


def explain(policy: PolicyBase, log: EventLog, account_id: int) -> list[Why]:
    """The handoffs of ``account_id`` under ``policy`` with the touches behind each."""
    frame = Frame(log)
    q = evaluate(policy, log, frame)
    rows = q[q["account_id"] == account_id]
    ev = log.events
    mine = ev[ev["account_id"] == account_id].copy()
    idx = np.flatnonzero(ev["account_id"].to_numpy() == account_id)
    mine["title"] = frame.contact_values("title")[idx]
    mine["_i"] = idx
    return [_why(policy, frame, mine, row, log) for _, row in rows.iterrows()]


def _counting(
    mine: pd.DataFrame, frame: Frame, cond: Condition, window: float, acts, anon: bool, t: float
) -> pd.DataFrame:
    """The touches of ``mine`` that ``cond`` counts in its window ending at ``t``."""
    people, touches = counting_masks(frame, cond, window, acts, anon)
    win = cond.window_days if cond.window_days is not None else window
    idx = mine["_i"].to_numpy()
    counted = (people | touches)[idx]
    inside = ((mine["time"] >= t - win) & (mine["time"] <= t)).to_numpy()
    return mine[counted & inside]


def _fired(group: Group, rule: str, prefix: str):
    """The clause named by ``rule`` (a condition, or the whole group for all/not)."""
    for name, child in group.named(prefix):
        if name == rule:
            return child
    return group


def _flatten(node) -> list[Condition]:
    if isinstance(node, Condition):
        return [node]
    return [c for child in node.children for c in _flatten(child)]


def _why(policy, frame: Frame, mine: pd.DataFrame, row: pd.Series, log) -> Why:
    t = float(row["time"])
    cols = ["time", "contact_id", "title", "activity"]
    if isinstance(policy, MqaCount):
        tier = frame.account_number("tier")[mine["_i"].iloc[0]] if len(mine) else np.nan
        group, prefix = policy.rule, ""
        if tier in policy.tiers:
            group, prefix = policy.tiers[int(tier)], f"tiers.{int(tier)}."
        node = _fired(group, str(row["rule"]), prefix)
        conds = _flatten(node)
        parts = [
            _counting(
                mine, frame, c, policy.window_days, policy.activities, policy.include_anonymous, t
            )
            for c in conds
        ]
        touches = pd.concat(parts).drop_duplicates("_i").sort_values("time") if parts else mine[:0]
        n = touches.loc[touches["contact_id"] >= 0, "contact_id"].nunique()
        note = (
            f"rule {row['rule']} held at day {t:g}: {n} distinct contacts, "
            f"{len(touches)} counting touches in its window"
        )
        lo = t - max((c.window_days or policy.window_days) for c in conds)
        return Why(row, (lo, t), touches[cols].reset_index(drop=True), note)
    if isinstance(policy, WeightedTitles):
        w = touch_weights(policy, frame)[mine["_i"]]
        win = policy.window_days or (policy.decay.window_days if policy.decay else None)
        if win is not None:
            sel = (mine["time"] >= t - win) & (mine["time"] <= t) & (w > 0)
            touches = mine[sel].assign(weight=w[sel.to_numpy()])
            lo = t - win
        else:
            h = policy.decay.half_life_days
            sel = (mine["time"] <= t) & (w > 0)
            touches = mine[sel].assign(
                weight=w[sel.to_numpy()] * 0.5 ** ((t - mine.loc[sel, "time"]) / h)
            )
            lo = float(mine["time"].min())
        note = f"score {touches['weight'].sum():g} >= threshold {policy.threshold:g} at day {t:g}"
        return Why(row, (lo, t), touches[[*cols, "weight"]].reset_index(drop=True), note)
    if isinstance(policy, Mql):
        c = int(row["contact_id"])
        pts = np.array([policy.points.get(a, 0.0) for a in ACTIVITIES])
        touches = mine[(mine["contact_id"] == c) & (mine["time"] <= t)].copy()
        raw = pts[[ACTIVITIES.index(a) for a in touches["activity"].astype(str)]]
        d = policy.decay
        if d is not None and d.half_life_days is not None:
            raw = raw * 0.5 ** ((t - touches["time"].to_numpy()) / d.half_life_days)
        elif d is not None and d.window_days is not None:
            raw = np.where(touches["time"].to_numpy() >= t - d.window_days, raw, 0.0)
        touches["points"] = raw
        fit = fit_points(policy, frame)[touches["_i"]].max() if len(touches) else 0.0
        note = (
            f"contact {c}: fit {fit:g} + touch points {raw.sum():g} = {row['score']:g} "
            f">= threshold {policy.threshold:g} at day {t:g}"
        )
        lo = float(touches["time"].min()) if len(touches) else t
        return Why(row, (lo, t), touches[[*cols, "points"]].reset_index(drop=True), note)
    if isinstance(policy, Stages):
        entries = stage_entries(policy, log)
        entries = entries[entries["account_id"] == row["account_id"]]
        parts, notes = [], []
        for st in policy.stages:
            hit = entries[entries["stage"] == st.name]
            if hit.empty:
                break
            te = float(hit["time"].iloc[0])
            part = _counting(
                mine,
                frame,
                st.when,
                st.when.window_days,
                policy.activities,
                policy.include_anonymous,
                te,
            ).assign(stage=st.name)
            parts.append(part)
            notes.append(f"{st.name} at day {te:g}")
            if st.name == policy.handoff_stage:
                break
        touches = pd.concat(parts) if parts else mine[:0].assign(stage="")
        lo = float(touches["time"].min()) if len(touches) else t
        return Why(
            row,
            (lo, t),
            touches[[*cols, "stage"]].reset_index(drop=True),
            "entered " + ", then ".join(notes),
        )
    raise TypeError(f"explain does not know policy kind {policy.kind!r}")
