"""``simulate(scenario, seed)``: scenario -> world -> journeys -> touches, as one call.

>>> import sim
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 30}}), seed=3)
>>> list(w.events.columns)
['time', 'account_id', 'contact_id', 'activity', 'channel', 'campaign_id', 'known']
>>> bool(w.events.equals(sim.simulate(w.scenario, seed=3).events))
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim import __version__
from sim.files import write_tables
from sim.limits import check_fits
from sim.rng import Streams
from sim.tables import ACCOUNTS, CONTACTS
from sim.vocab import ACTIVITIES
from sim.world.accounts import draw_accounts, draw_contacts
from sim.world.identity import identify
from sim.world.journeys import JourneyRecord, join_times, walk_journeys
from sim.world.messy import messy_log
from sim.world.presets import load_scenario
from sim.world.scenario import Scenario
from sim.world.segments import Segments, build_segments
from sim.world.touches import channel_names, draw_touches

TABLES = ("accounts", "contacts", "events", "truth", "campaigns")

# The peak memory of simulating a world, measured with ``ru_maxrss`` around ``simulate`` on both
# presets at 20,000 and 40,000 accounts: about 7.2 KB per account plus 62 bytes per event, with
# about 45 events per contact over a 730-day horizon (enterprise: 14.5 contacts and 638 events
# per account, 47 KB per account at the peak, of which 14 KB stay in the finished tables; smb:
# 2.2 contacts and 89 events, 12.7 KB). :func:`world_memory` estimates from these.
PEAK_BYTES_PER_ACCOUNT = 7_200
PEAK_BYTES_PER_EVENT = 62
EVENTS_PER_CONTACT = 45


def world_memory(sc: Scenario) -> int:
    """Estimated peak bytes of simulating ``sc`` (from its accounts, contacts and horizon)."""
    tiers = sc.accounts.tiers.values()
    contacts = sum(t.share * (t.committee_size.mean + t.noise_contacts) for t in tiers)
    events = EVENTS_PER_CONTACT * contacts * max(1.0, sc.horizon_days / 730)
    return int(sc.accounts.count * (PEAK_BYTES_PER_ACCOUNT + PEAK_BYTES_PER_EVENT * events))


def check_world_fits(sc: Scenario, worlds: int = 1) -> None:
    """Refuse (``sim.limits.LimitError``) ``worlds`` worlds of ``sc`` at once that cannot fit in
    the memory this process may use, before drawing anything."""
    check_fits(
        world_memory(sc) * worlds,
        f"{sc.name}: {worlds:,} world{'s' if worlds > 1 else ''} of "
        f"{sc.accounts.count:,} accounts at once"
        if worlds > 1
        else f"{sc.name}: a world of {sc.accounts.count:,} accounts",
        "lower accounts.count, or run it where more memory is available",
    )


@dataclass(frozen=True)
class World:
    """A simulated world: the observable tables, the ground truth, and how it was made."""

    scenario: Scenario
    seed: int
    accounts: pd.DataFrame
    contacts: pd.DataFrame
    events: pd.DataFrame
    truth: pd.DataFrame
    campaigns: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The five tables by name."""
        return {name: getattr(self, name) for name in TABLES}

    def write(self, out: str | Path, fmt: str = "parquet", safe: bool = True) -> list[Path]:
        """Write every table to ``out/<table>.parquet`` (or ``.csv``, spreadsheet-safe unless
        not ``safe``: see :func:`sim.files.write_tables`) plus ``scenario.json`` (the resolved
        scenario, seed and package version), replacing the folder ``out`` as a whole. Returns
        the files written."""
        meta = {
            "seed": self.seed,
            "qualsim_version": __version__,
            "scenario": self.scenario.model_dump(mode="json"),
        }
        tables = {**self.tables(), "scenario.json": json.dumps(meta, indent=2)}
        return write_tables(tables, out, fmt, safe)


@dataclass(frozen=True)
class Latent:
    """A world before its touches are drawn: accounts and contacts with their hidden working
    columns, the truth, the journeys' full record and every emitter's segments (each contact's
    ``t_joined`` filled in)."""

    accounts: pd.DataFrame
    contacts: pd.DataFrame
    truth: pd.DataFrame
    record: JourneyRecord
    segments: Segments
    streams: Streams


def latent_world(sc: Scenario, seed: int) -> Latent:
    """The first steps of :func:`simulate`: accounts, committees, journeys and segments.
    Refuses a world too large for the memory available (:func:`check_world_fits`)."""
    check_world_fits(sc)
    streams = Streams(seed)
    accounts = draw_accounts(sc, streams)
    contacts = draw_contacts(sc, streams, accounts)
    truth, rec = walk_journeys(sc, streams, accounts)
    t_join = join_times(sc, streams, accounts, contacts, rec)
    segments, t_joined = build_segments(sc, streams, accounts, contacts, rec, t_join)
    contacts["t_joined"] = t_joined
    return Latent(accounts, contacts, truth, rec, segments, streams)


def simulate(scenario: Scenario | str | Path | dict = "enterprise", seed: int = 0) -> World:
    """Simulate a world from a scenario (or a preset name / YAML path / dict) and a seed.

    The same scenario and seed give identical tables; an account's rows depend only on the seed
    and its index (accounts can be added, campaigns edited, without reshuffling the others).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    latent = latent_world(sc, seed)
    accounts, contacts, truth = latent.accounts, latent.contacts, latent.truth
    drawn = draw_touches(sc, latent.streams, latent.segments)
    cols, t_known = identify(drawn, contacts["t_known"].to_numpy() == 0.0)
    contacts["t_known"] = t_known
    contacts["duplicate_of"] = np.int64(-1)  # a person's own record (messy data adds others)
    channels = channel_names(sc)
    events = pd.DataFrame(
        {
            "time": cols["time"],
            "account_id": cols["account_id"],
            "contact_id": cols["contact_id"],
            "activity": pd.Categorical.from_codes(cols["activity"], categories=list(ACTIVITIES)),
            "channel": pd.Categorical.from_codes(cols["channel"], categories=channels),
            "campaign_id": cols["campaign_id"],
            "known": cols["contact_id"] >= 0,
        },
        copy=False,
    )
    campaigns = pd.DataFrame(
        {
            "campaign_id": np.arange(len(sc.campaigns), dtype=np.int64),
            "name": [c.name for c in sc.campaigns],
            "channel": [c.channel for c in sc.campaigns],
            "start_day": [c.start_day for c in sc.campaigns],
            "end_day": [c.end_day for c in sc.campaigns],
            "lift": [c.lift for c in sc.campaigns],
            "progression_speedup": [c.progression_speedup for c in sc.campaigns],
        }
    )
    # What a messy CRM records of it (sc.data_quality; the truth stays as drawn).
    seen, events = messy_log(
        sc.data_quality,
        latent.streams,
        contacts[CONTACTS.names].copy(),
        events,
        sc.horizon_days,
        sc.crm.email_sends_per_month,
    )
    return World(
        scenario=sc,
        seed=int(seed),
        accounts=accounts[ACCOUNTS.names].copy(),
        contacts=seen,
        events=events,
        truth=truth,
        campaigns=campaigns,
    )
