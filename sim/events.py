"""The World a simulation produces, and reading/writing its tables (Parquet or CSV).

Column by column (DESIGN.md "Data contracts"; times are float days since the scenario start):

``accounts`` — what a team knows about its accounts:
    account_id, name, tier (1 = most strategic), industry, employees, icp_fit (0..1), is_target.
``contacts`` — people at those accounts (text columns are pandas categoricals):
    contact_id, account_id, title, seniority (c_level, vp, director, manager, individual),
    department, role (decision_maker, champion, influencer, user, procurement, blocker, or
    ``none`` outside the buying committee), in_committee, t_joined (when the member joined the
    account's buying journey; NaN for people who did not within the horizon: members of
    accounts not in market, and people outside the committee; before joining a member touches
    at background rates), persona (for people outside the committee: junior_staff, student,
    job_seeker, competitor, existing_user, partner; empty for committee members).
    ``in_committee``, ``t_joined`` and ``persona`` are ground truth: :class:`EventLog` leaves
    them out of what a policy sees.
``events`` — touches, sorted by (account_id, time); activity and channel are categoricals,
ids are int32 (campaign_id int16) to keep large logs small:
    time, account_id, contact_id (-1 when anonymous), activity, channel, campaign_id (-1 for
    none; an index into ``campaigns``), known (the touch is tied to a contact).
``truth`` — the ground truth, one row per account, never shown to a policy:
    account_id, in_market, active_in_window (in market and not decided before day 0: a journey
    the observation window can see), journey_start, t_aware, t_engaged, t_qualified, t_sales_ready,
    t_decision (NaN where not reached within the horizon), decision ("buy", "no_decision", or ""
    when not reached), t_competitor (NaN if no competitor engaged before the decision),
    deal_value, committee_size.
``campaigns`` — campaign_id, name, channel, start_day, end_day, lift, progression_speedup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import QualsimError
from .scenario import Scenario

TABLES = ("accounts", "contacts", "events", "truth", "campaigns")


def write_tables(tables: dict, out: str | Path, fmt: str = "csv") -> list[Path]:
    """Write each DataFrame (or text) of ``tables`` to ``out/<name>.<fmt>`` (text: ``<name>``
    as given, e.g. ``"report.json"``), each atomically (a temporary name, then a rename: a
    reader never sees half a file). Creates ``out``; a folder that cannot be made is a
    ``QualsimError``. Returns the paths written."""
    if fmt not in ("parquet", "csv"):
        raise QualsimError(f"unknown output format {fmt!r}: expected parquet or csv")
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise QualsimError(f"{out}: cannot create output folder ({exc.strerror})") from None
    written = []
    for name, value in tables.items():
        path = out / (name if isinstance(value, str) else f"{name}.{fmt}")
        tmp = path.with_name(path.name + ".partial")
        if isinstance(value, str):
            tmp.write_text(value, encoding="utf-8")
        elif fmt == "parquet":
            value.to_parquet(tmp, index=False)
        else:
            value.to_csv(tmp, index=False)
        tmp.replace(path)
        written.append(path)
    return written


VISIBLE_CONTACT_COLUMNS = ("contact_id", "account_id", "title", "seniority", "department", "role")


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`write_tables`); returns the path."""
    path = Path(path)
    return write_tables({path.name: text}, path.parent)[0]


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

    def write(self, out: str | Path, fmt: str = "parquet") -> list[Path]:
        """Write every table to ``out/<table>.parquet`` (or ``.csv``) plus ``scenario.json``
        (the resolved scenario, seed and package version). Returns the files written."""
        from . import __version__

        meta = {
            "seed": self.seed,
            "qualsim_version": __version__,
            "scenario": self.scenario.model_dump(mode="json"),
        }
        tables = {**self.tables(), "scenario.json": json.dumps(meta, indent=2)}
        return write_tables(tables, out, fmt)


@dataclass(frozen=True)
class EventLog:
    """What a policy may see: the touches and the contacts' and accounts' attributes — never the
    ground truth. A simulated world and a team's real export become the same EventLog.

    ``events`` is sorted by (account_id, time) with at least time, account_id, contact_id (-1 =
    anonymous) and activity; ``contacts`` has contact_id, account_id, title and optionally
    seniority, department, role; ``accounts`` has account_id and optionally tier, icp_fit.

    >>> import sim
    >>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 10}}), seed=1)
    >>> log = EventLog.from_world(w)
    >>> bool((log.until(30.0).events["time"] <= 30.0).all())
    True
    """

    events: pd.DataFrame
    contacts: pd.DataFrame
    accounts: pd.DataFrame

    @classmethod
    def from_world(cls, world: World) -> EventLog:
        """The observable part of a simulated world. Truth stays behind, and so do the contact
        columns a CRM would not know (in_committee, persona, t_joined); roles stay, as a team
        that maps its buying groups would record them."""
        contacts = world.contacts[list(VISIBLE_CONTACT_COLUMNS)]
        return cls(world.events, contacts, world.accounts)

    def until(self, t: float) -> EventLog:
        """The log as it stood at time ``t``: only events at or before ``t``."""
        return EventLog(self.events[self.events["time"] <= t], self.contacts, self.accounts)
