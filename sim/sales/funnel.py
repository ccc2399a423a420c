"""The double funnel of one policy's handoffs: the lead funnel beside the account funnel.

The lead funnel counts people: inquiries (a form fill: content download, webinar, event or demo
request) → handed off as MQL → accepted (SAL) → opportunity (SQL) → won. The account funnel
counts accounts: with an inquiry → handed off → accepted → opportunity → won. Each step has its
conversion from the step before. Account-level policies hand off no person, so their lead
funnel stops at zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.sales.handoff import SalesResult
from sim.world.simulate import World

INQUIRY = ["content_download", "webinar", "event", "demo_request"]


def double_funnel(world: World, result: SalesResult) -> pd.DataFrame:
    """The lead funnel beside the account funnel for one policy's handoffs on ``world``: one row
    per (funnel, step) with its count and its conversion from the previous step."""
    o = result.outcomes
    ev = world.events
    known = ev.loc[((ev["contact_id"] >= 0) & ev["activity"].isin(INQUIRY)).to_numpy()]
    lead = o[o["contact_id"] >= 0]
    opp = o["t_opportunity"].notna()
    steps = {
        "lead": [
            ("inquiries", known["contact_id"].nunique()),
            ("handed off (MQL)", lead["contact_id"].nunique()),
            ("accepted (SAL)", lead.loc[lead["accepted"], "contact_id"].nunique()),
            ("opportunity (SQL)", lead.loc[lead["t_opportunity"].notna(), "contact_id"].nunique()),
            ("won", lead.loc[lead["won"], "contact_id"].nunique()),
        ],
        "account": [
            ("accounts with an inquiry", known["account_id"].nunique()),
            ("handed off", o["account_id"].nunique()),
            ("accepted", o.loc[o["accepted"], "account_id"].nunique()),
            ("opportunity", o.loc[opp, "account_id"].nunique()),
            ("won", o.loc[o["won"], "account_id"].nunique()),
        ],
    }
    rows = []
    for funnel, items in steps.items():
        prev = None
        for step, count in items:
            conv = count / prev if prev else np.nan
            rows.append({"funnel": funnel, "step": step, "count": int(count), "conversion": conv})
            prev = count
    return pd.DataFrame(rows)
