"""``stages``: ordered account stages with entry conditions, only moving forward; the handoff
is the entry into ``handoff_stage`` (semantics: policies/README.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from policies import reference
from policies.explain import COLUMNS, Why, counted_touches
from policies.kernels.conditions import condition_holds
from policies.kernels.frame import Frame
from policies.kernels.output import empty_qualifications, qualifications
from policies.kernels.views import policy_view
from policies.registry import Kind, register
from policies.schema import Stages
from sim.eventlog import EventLog
from sim.tables import STAGE_ENTRIES


def stage_entry_indices(policy: Stages, f: Frame) -> list[np.ndarray]:
    """Per stage, per account (by rank): the event index where the account entered it (-1:
    never). Stage k is entered at the first event at or after the entry into k - 1 (at the
    start of that event's time tie) where k's condition holds."""
    n_acc = f.first_of_account.size
    prev = f.first_of_account.copy()  # search from the account's first event
    reached = np.ones(n_acc, dtype=bool)
    out = []
    for stage in policy.stages:
        holds = condition_holds(
            f,
            stage.when,
            stage.when.window_days,
            list(policy.activities),
            policy.include_anonymous,
        )
        true_idx = np.flatnonzero(holds)
        pos = np.searchsorted(true_idx, prev)
        if true_idx.size:
            cand = np.where(pos < true_idx.size, true_idx[np.minimum(pos, true_idx.size - 1)], -1)
        else:
            cand = np.full(prev.size, -1)
        end = np.r_[f.first_of_account[1:], f.n]
        ok = reached & (cand >= 0) & (cand < end)
        entry = np.where(ok, f.tie_start[np.maximum(cand, 0)], -1)
        out.append(entry)
        reached = ok
        prev = np.where(ok, entry, prev)
    return out


def stage_entries(policy: Stages, log: EventLog, frame: Frame | None = None) -> pd.DataFrame:
    """Every stage entry: policy, account_id, stage, time (sorted by account, time, stage).
    Sales touches are left out unless the policy includes them."""
    _, f = policy_view(policy, log, frame)
    rows = []
    if f.n:
        for k, (stage, entry) in enumerate(
            zip(policy.stages, stage_entry_indices(policy, f), strict=True)
        ):
            hit = entry[entry >= 0]
            rows.append(
                pd.DataFrame(
                    {
                        "policy": policy.name,
                        "account_id": f.account[hit],
                        "stage": stage.name,
                        "time": f.time[hit],
                        "_k": k,
                    }
                )
            )
    if not rows:
        return STAGE_ENTRIES.empty()
    df = pd.concat(rows, ignore_index=True).sort_values(["account_id", "time", "_k"], kind="stable")
    return df.drop(columns="_k").reset_index(drop=True)


def stages_holds(policy: Stages, f: Frame) -> np.ndarray:
    """Per event: has the account entered ``handoff_stage`` at or before its time?"""
    k = [s.name for s in policy.stages].index(policy.handoff_stage)
    entry = stage_entry_indices(policy, f)[k]  # per account rank, -1: never
    e = entry[f.rank]
    return (e >= 0) & (np.arange(f.n) >= e)


def evaluate_stages(policy: Stages, log: EventLog, frame: Frame | None = None) -> pd.DataFrame:
    """The handoffs of a ``stages`` policy: its accounts' entries into ``handoff_stage``."""
    f = frame if frame is not None else Frame(log)
    if f.n == 0:
        return empty_qualifications()
    k = [s.name for s in policy.stages].index(policy.handoff_stage)
    entry = stage_entry_indices(policy, f)[k]
    at = np.sort(entry[entry >= 0])
    return qualifications(policy, f, at, policy.handoff_stage, stage=policy.handoff_stage)


def explain_stages(policy: Stages, f: Frame, mine: pd.DataFrame, row: pd.Series) -> Why:
    """Each stage's entry up to the handoff stage, with the counting touches of its condition
    in its window."""
    t = float(row["time"])
    entries = stage_entries(policy, f.log, f)
    entries = entries[entries["account_id"] == row["account_id"]]
    parts, steps = [], []
    for st in policy.stages:
        hit = entries[entries["stage"] == st.name]
        if hit.empty:
            break
        te = float(hit["time"].iloc[0])
        args = (st.when.window_days, list(policy.activities), policy.include_anonymous, te)
        parts.append(counted_touches(mine, f, st.when, *args).assign(stage=st.name))
        steps.append((st.name, te))
        if st.name == policy.handoff_stage:
            break
    touches = pd.concat(parts) if parts else mine[:0].assign(stage="")
    lo = float(touches["time"].min()) if len(touches) else t
    touches = touches[[*COLUMNS, "stage"]].reset_index(drop=True)
    return Why(row, (lo, t), touches, "entered", tuple(steps))


def thresholds(policy: Stages) -> list[str]:
    """The counts of every stage's condition, e.g. ``stages.1.when.unique_contacts``."""
    return [
        f"stages.{i}.when.{field}"
        for i, st in enumerate(policy.stages)
        for field in st.when.count_fields()
    ]


KIND = register(
    Kind(
        "stages",
        Stages,
        evaluate_stages,
        holds=stages_holds,
        reference=reference.evaluate,
        explain=explain_stages,
        thresholds=thresholds,
    )
)
