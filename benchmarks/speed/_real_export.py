"""A seeded synthetic CRM export at real sizes for ``bench_real.py``: string ids, an activity mix
like a marketing-automation export's, anonymous touches, and the contacts and accounts files.

Written directly with numpy/pyarrow (simulating 10 million touches would take minutes): every
account has ``contacts_per_account`` known people; each event picks its account uniformly, a
time uniformly over ``days`` (sorted by time, as exports are), an activity from ``MIX`` and,
unless anonymous (``ANONYMOUS`` of the rows), one of its account's contacts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sim.vocab import SENIORITIES

# Activity shares of the generated touches (a marketing-automation export's rough mix).
MIX = {
    "web_visit": 0.30,
    "email_open": 0.20,
    "impression": 0.10,
    "intent_signal": 0.08,
    "email_click": 0.08,
    "content_download": 0.06,
    "ad_click": 0.06,
    "pricing_visit": 0.05,
    "webinar": 0.03,
    "event": 0.02,
    "demo_request": 0.02,
}
CHANNELS = np.array(["web", "email", "paid", "events"], dtype=object)
ANONYMOUS = 0.25
START = np.datetime64("2025-01-06T00:00:00", "s")


def export_tables(
    accounts: int, contacts_per_account: int, events: int, seed: int, days: float = 365.0
) -> dict[str, pa.Table]:
    """The events, contacts and accounts tables (timestamps typed, ids as text)."""
    rng = np.random.default_rng(seed)
    n_contacts = accounts * contacts_per_account
    account_ids = np.char.add("A", np.arange(accounts).astype(str)).astype(object)
    contact_ids = np.char.add("C", np.arange(n_contacts).astype(str)).astype(object)
    acc = rng.integers(0, accounts, events)
    who = acc * contacts_per_account + rng.integers(0, contacts_per_account, events)
    anonymous = rng.random(events) < ANONYMOUS
    secs = np.sort(rng.integers(0, int(days * 86_400), events))
    names = list(MIX)
    act = rng.choice(len(names), events, p=np.array(list(MIX.values())) / sum(MIX.values()))
    campaign = rng.integers(0, 40, events)
    ev = pa.table(
        {
            "timestamp": pa.array(START + secs.astype("timedelta64[s]"), pa.timestamp("s")),
            "account_id": pa.DictionaryArray.from_arrays(acc, account_ids).dictionary_decode(),
            "contact_id": pa.DictionaryArray.from_arrays(pa.array(who, mask=anonymous), contact_ids)
            .dictionary_decode()
            .fill_null(""),
            "activity": pa.DictionaryArray.from_arrays(act, names).dictionary_decode(),
            "channel": pa.DictionaryArray.from_arrays(
                rng.integers(0, len(CHANNELS), events), CHANNELS
            ).dictionary_decode(),
            "campaign": pa.DictionaryArray.from_arrays(
                campaign, [f"Campaign {k}" for k in range(40)]
            ).dictionary_decode(),
        }
    )
    co = pa.table(
        {
            "contact_id": contact_ids,
            "account_id": np.repeat(account_ids, contacts_per_account),
            "title": np.where(rng.random(n_contacts) < 0.3, "VP Security", "Security Engineer"),
            "seniority": np.asarray(SENIORITIES, dtype=object)[
                rng.integers(0, len(SENIORITIES), n_contacts)
            ],
        }
    )
    ac = pa.table(
        {
            "account_id": account_ids,
            "tier": rng.integers(1, 4, accounts),
            "icp_fit": np.round(rng.random(accounts), 3),
        }
    )
    return {"events": ev, "contacts": co, "accounts": ac}


def write_export(
    folder: Path,
    accounts: int,
    contacts_per_account: int,
    events: int,
    seed: int,
    fmt: str,
) -> dict[str, Path]:
    """Write the tables as ``fmt`` ("parquet" or "csv"; CSV timestamps as
    ``YYYY-MM-DD HH:MM:SS``) under ``folder``: role → path."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = export_tables(accounts, contacts_per_account, events, seed)
    paths = {}
    for role, t in tables.items():
        path = folder / f"{role}.{fmt}"
        if fmt == "parquet":
            pq.write_table(t, path)
        else:
            if role == "events":
                text = pa.compute.strftime(t["timestamp"], "%Y-%m-%d %H:%M:%S")
                t = t.set_column(0, "timestamp", text)
            pacsv.write_csv(t, path, pacsv.WriteOptions(quoting_style="needed"))
        paths[role] = path
    return paths
