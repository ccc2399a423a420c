"""Write a simulated world as a team's CRM / marketing-automation export would look: the CSV
(or Parquet) files ``qualsim evaluate`` reads, with real timestamps and string ids.

- ``events``: timestamp (ISO date-time), account_id (``A<n>``), contact_id (``C<n>``; empty =
  anonymous), activity, channel, campaign (name; empty for none);
- ``contacts``: the people the CRM knows by the export (not those who never raised a hand):
  contact_id, account_id, title, seniority, department, role (the CRM's persona role, often
  empty), and buying_role (the role each played in the buying group, as sales would record it;
  read only by calibration, never shown to a policy);
- ``accounts``: account_id, tier, icp_fit, and CRM outcomes: opportunity_date (when the journey
  reached "qualified"), close_date (the decision), won (the account bought), value (its deal
  value when won). Outcomes past the horizon are empty, as in a real CRM at export time.

Day 0 of the scenario becomes ``start`` (default 2025-01-06, a Monday, matching the sales
calendar). Ground truth a CRM cannot know (in_market, journey stages, committee membership)
is not written.

>>> import sim, tempfile
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 20}}), seed=1)
>>> with tempfile.TemporaryDirectory() as d:
...     paths = export_world(w, d)
...     sorted(p.name for p in paths)
['accounts.csv', 'contacts.csv', 'events.csv']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.files import write_tables
from sim.world.simulate import World


def _stamp(start: pd.Timestamp, days: np.ndarray) -> pd.Series:
    t = pd.Series(start + pd.to_timedelta(np.asarray(days, dtype=np.float64), unit="D"))
    return t.dt.round("s")


def export_tables(world: World, start: str = "2025-01-06") -> dict[str, pd.DataFrame]:
    """The three export tables (see the module doc)."""
    t0 = pd.Timestamp(start)
    ev = world.events
    campaigns = world.campaigns["name"].to_numpy(dtype=object)
    cid = ev["campaign_id"].to_numpy(np.int64)
    contact = ev["contact_id"].to_numpy(np.int64)
    events = pd.DataFrame(
        {
            "timestamp": _stamp(t0, ev["time"].to_numpy()).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "account_id": "A" + ev["account_id"].astype(str),
            "contact_id": np.where(contact >= 0, "C" + pd.Series(contact).astype(str), ""),
            "activity": ev["activity"].astype(str).to_numpy(),
            "channel": ev["channel"].astype(str).to_numpy(),
            "campaign": np.where(
                cid >= 0, campaigns[np.maximum(cid, 0)] if len(campaigns) else "", ""
            ),
        }
    )
    c = world.contacts[world.contacts["t_known"].notna().to_numpy()]
    contacts = pd.DataFrame(
        {
            "contact_id": "C" + c["contact_id"].astype(str),
            "account_id": "A" + c["account_id"].astype(str),
            "title": c["title"].astype(str),
            "seniority": c["seniority"].astype(str),
            "department": c["department"].astype(str),
            "role": c["role"].astype(str),
            "buying_role": c["buying_role"].astype(str),
        }
    )
    a = world.accounts
    tr = world.truth.set_index("account_id").reindex(a["account_id"])

    def date(col: str) -> pd.Series:
        v = tr[col].to_numpy(np.float64)
        s = _stamp(t0, np.where(np.isnan(v), 0.0, v)).dt.strftime("%Y-%m-%d")
        return s.where(~np.isnan(v), "")

    # A CRM records a close only for an opportunity: a journey that stalled before it has none.
    opportunity = tr["t_qualified"].notna().to_numpy()
    decided = (tr["decision"].to_numpy() != "") & opportunity
    won = tr["decision"].to_numpy() == "buy"
    accounts = pd.DataFrame(
        {
            "account_id": "A" + a["account_id"].astype(str),
            "tier": a["tier"].to_numpy(),
            "icp_fit": a["icp_fit"].round(4).to_numpy(),
            "opportunity_date": date("t_qualified").to_numpy(),
            "close_date": np.where(opportunity, date("t_decision").to_numpy(), ""),
            "won": np.where(decided, np.where(won, "true", "false"), ""),
            "value": np.where(won, tr["deal_value"].round(2).to_numpy(), np.nan),
        }
    )
    # an opportunity opened before day 0 is older than the export's history: keep its date
    return {"events": events, "contacts": contacts, "accounts": accounts}


def export_world(
    world: World, out: str | Path, start: str = "2025-01-06", fmt: str = "csv", safe: bool = True
) -> list[Path]:
    """Write :func:`export_tables` to ``out/<table>.csv`` (or ``.parquet``) beside what the
    folder already holds (a data folder, e.g. with the mapping file; the files appear together
    or not at all), CSV spreadsheet-safe unless not ``safe`` (:func:`sim.files.neutralise`)."""
    return write_tables(export_tables(world, start), out, fmt, safe, whole=False)
