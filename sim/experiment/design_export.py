"""A simulated rollout experiment written as the export of a live one, for testing its
analysis: what a team's CRM would hold after running the experiment of
:mod:`sim.experiment.design` (no ground truth).

Files (``csv`` or ``parquet``), in the folder ``out`` (replaced as a whole); times are days
from the world's day 0, as ``qualsim simulate`` writes them:

- ``accounts``: ``account_id``, ``arm`` (candidate, incumbent or holdout), ``tier``;
- ``contacts`` and ``events``: as ``qualsim simulate`` writes them, without their truth
  columns (``sim.tables.CONTACTS.visible``, ``EVENTS.visible``);
- ``handoffs``: every handoff of the experiment: ``account_id``, ``contact_id`` (-1 for an
  account handoff), ``arm``, ``time``, ``status`` (the sales status);
- ``opportunities``: one row per opportunity: ``account_id``, ``opportunity_id``, ``created``,
  ``closed`` (the account's decision; NaN while open at the horizon), ``status`` (won, lost,
  open), ``won``, ``value`` (revenue won: the amount when won, else 0), ``amount`` (the deal's
  value), ``type`` (``new_business``), ``source`` (``handoff`` or ``inbound``);
- ``experiment.json``: the seed and the world and randomisation seeds, the scenario's name, the
  day the experiment starts, the split, the stratification, the two rules and the version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

import policies as pol
from sim import __version__
from sim.experiment.design import (
    DEFAULT_SPLIT,
    experiment_seeds,
    resolve,
    simulate_experiment,
)
from sim.files import write_tables
from sim.sales.handoff import SalesResult
from sim.sales.weekly import go_live_day
from sim.tables import CONTACTS, EVENTS
from sim.world.scenario import Scenario
from sim.world.simulate import World


def write_experiment_export(
    out: str | Path,
    scenario: str | Scenario,
    candidate: str | pol.PolicyBase,
    incumbent: str | pol.PolicyBase = "mql_scored",
    split: str | Sequence[float] = DEFAULT_SPLIT,
    stratify: str | None = None,
    seed: int = 0,
    fmt: str = "csv",
    safe: bool = True,
) -> list[Path]:
    """Simulate experiment 0 of ``seed`` (the first experiment :func:`design_experiment`
    simulates with that seed) and write its export to ``out`` (see the module doc). Returns
    the files written."""
    sc, cand, inc, shares = resolve(scenario, candidate, incumbent, split, stratify)
    seeds = experiment_seeds(seed, 1)[0]
    rep, arm, result = simulate_experiment(sc, cand, inc, shares, stratify, seeds)
    w = rep.world
    accounts = w.accounts.sort_values("account_id")
    meta = {
        "seed": seed,
        "world_seed": seeds[0],
        "assignment_seed": seeds[1],
        "scenario": sc.name,
        "start_day": go_live_day(sc),
        "split": dict(zip(("candidate", "incumbent", "holdout"), shares, strict=True)),
        "stratify": stratify,
        "candidate": cand.name,
        "incumbent": inc.name,
        "qualsim_version": __version__,
    }
    o = result.outcomes
    tables = {
        "accounts": pd.DataFrame(
            {
                "account_id": accounts["account_id"].to_numpy(np.int64),
                "arm": arm[accounts["account_id"].to_numpy(np.int64)].astype(str),
                "tier": accounts["tier"].to_numpy(np.int64),
            }
        ),
        "contacts": w.contacts[CONTACTS.visible],
        "events": w.events[EVENTS.visible],
        "handoffs": pd.DataFrame(
            {
                "account_id": o["account_id"].to_numpy(np.int64),
                "contact_id": o["contact_id"].to_numpy(np.int64),
                "arm": o["policy"].to_numpy(str),
                "time": o["t_handoff"].to_numpy(np.float64),
                "status": o["status"].to_numpy(str),
            }
        ),
        "opportunities": opportunities_table(w, result),
        "experiment.json": json.dumps(meta, indent=2),
    }
    return write_tables(tables, out, fmt, safe)


def opportunities_table(world: World, result: SalesResult) -> pd.DataFrame:
    """Every opportunity of a play (handoffs' and late inbound's) as a CRM lists it (the
    ``opportunities`` file of the module doc), sorted by account and creation."""
    truth = world.truth.set_index("account_id")
    o = result.outcomes[result.outcomes["t_opportunity"].notna().to_numpy()]
    inbound = result.inbound
    acc = np.r_[o["account_id"].to_numpy(np.int64), inbound["account_id"].to_numpy(np.int64)]
    rows = pd.DataFrame(
        {
            "account_id": acc,
            "created": np.r_[
                o["t_opportunity"].to_numpy(float), inbound["t_inbound"].to_numpy(float)
            ],
            "won": np.r_[o["won"].to_numpy(bool), inbound["won"].to_numpy(bool)],
            "value": np.r_[o["value"].to_numpy(float), inbound["value"].to_numpy(float)],
            "source": ["handoff"] * len(o) + ["inbound"] * len(inbound),
        }
    )
    decision = truth["t_decision"].reindex(acc).to_numpy(np.float64)
    closed = np.where(decision < world.scenario.horizon_days, decision, np.nan)
    rows["closed"] = closed
    rows["status"] = np.where(rows["won"], "won", np.where(np.isnan(closed), "open", "lost"))
    rows["amount"] = truth["deal_value"].reindex(acc).to_numpy(np.float64)
    rows["type"] = "new_business"
    rows = rows.sort_values(["account_id", "created"], kind="stable").reset_index(drop=True)
    rows["opportunity_id"] = [
        f"O-{a}-{k}"
        for a, k in zip(rows["account_id"], rows.groupby("account_id").cumcount(), strict=True)
    ]
    return rows[
        [
            "account_id",
            "opportunity_id",
            "created",
            "closed",
            "status",
            "won",
            "value",
            "amount",
            "type",
            "source",
        ]
    ]
