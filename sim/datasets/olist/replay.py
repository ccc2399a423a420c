"""Replaying simple MQL policies on the Olist log of each acquisition channel, exactly as
``qualsim evaluate`` does."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.datasets.olist.load import ACTIVITY, FolderOrFrame, cohort, mqls_of, write_olist
from sim.errors import DataError
from sim.real.replays import replay
from sim.tables import REPLAY_METRICS

# "Every MQL is handed off": a lead score that one form fill already takes to the threshold.
EVERY_MQL = {
    "name": "every_mql",
    "kind": "mql",
    "description": "Hand off every lead at its first form fill (one point reaches the bar).",
    "threshold": 1,
    "points": {ACTIVITY: 1},
}
# The channel's counts, then the replay metrics (sim.tables.REPLAY_METRICS) of each policy.
REPLAY_COLUMNS = (
    "origin",
    "policy",
    "mqls",
    "won",
    "won_within_horizon",
    "conversion_within_horizon",
    *(c for c in REPLAY_METRICS.names if c != "policy"),
)


def replay_by_origin(
    folder: FolderOrFrame = None,
    policies: Sequence[str | Path | dict] = (EVERY_MQL, "mql_only"),
    since: str | None = "2018-01-01",
    until: str | None = None,
    horizon_days: float = 90.0,
) -> pd.DataFrame:
    """Replay ``policies`` on the Olist log of each origin (and ``"all"``, first) exactly as
    ``qualsim evaluate`` does (:func:`sim.real.replay` on the written CSV files), with the
    metrics of :func:`sim.real.outcome_metrics` per origin and policy, next to the channel's
    ``mqls``, ``won`` (any time) and ``won_within_horizon`` (won at or after the MQL and at most
    ``horizon_days`` later; ``conversion_within_horizon`` = that / mqls).

    With one touch per lead a policy hands a lead off at its MQL or never. A policy that hands
    off every MQL therefore has precision = the channel's conversion within the horizon and
    recall = won_within_horizon / won; a stricter MQL policy can only pick a subset of leads on
    the same single touch (``mql_only`` never reaches 100 points on one form fill). Policies
    are shipped names, YAML paths or dicts (default: :data:`EVERY_MQL` and ``mql_only``).
    """
    m = cohort(mqls_of(folder), since, until)
    if m.empty:
        raise DataError(f"no Olist MQL with a first_contact_date in [{since}, {until})")
    days = m["days_to_won"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        in_h = (days >= 0) & (days <= horizon_days)
    counts = m["origin"].value_counts()
    origins = ["all", *sorted(counts.index, key=lambda o: (-counts[o], o))]
    rows = []
    with tempfile.TemporaryDirectory(prefix="olist-replay-") as tmp:
        pol_files: list[str | Path] = []
        for i, p in enumerate(policies):
            if isinstance(p, dict):
                path = Path(tmp) / f"policy_{i}.yaml"
                path.write_text(yaml.safe_dump(p, sort_keys=False), encoding="utf-8")
                pol_files.append(path)
            else:
                pol_files.append(p)
        for origin in origins:
            sel = np.ones(len(m), bool) if origin == "all" else (m["origin"] == origin).to_numpy()
            paths = write_olist(Path(tmp) / "log", m[sel])
            r = replay(paths[0], paths[1], pol_files, paths[2], horizon_days=horizon_days)
            assert r.metrics is not None
            n, won, won_h = int(sel.sum()), int((~np.isnan(days[sel])).sum()), int(in_h[sel].sum())
            for rec in r.metrics.to_dict("records"):
                rows.append(
                    {
                        "origin": origin,
                        "mqls": n,
                        "won": won,
                        "won_within_horizon": won_h,
                        "conversion_within_horizon": won_h / n,
                        **rec,
                    }
                )
    return pd.DataFrame(rows, columns=list(REPLAY_COLUMNS))
