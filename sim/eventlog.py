"""The EventLog: what a policy may see of a world — touches, contacts, accounts, never the truth.

A simulated world (:meth:`EventLog.from_world`) and a team's real export (``sim.real``) become
the same EventLog; the table contract is in :mod:`sim.tables`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from sim.tables import CONTACTS

VISIBLE_CONTACT_COLUMNS = tuple(CONTACTS.visible)  # what a CRM knows of a person


class Observable(Protocol):
    """Anything with the three observable tables (a simulated ``World`` has them)."""

    @property
    def events(self) -> pd.DataFrame: ...

    @property
    def contacts(self) -> pd.DataFrame: ...

    @property
    def accounts(self) -> pd.DataFrame: ...


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
    def from_world(cls, world: Observable) -> EventLog:
        """The observable part of a simulated world. Truth stays behind, and so do the contact
        columns a CRM would not know (in_committee, buying_role, persona, t_joined, t_known)
        and the people the CRM never learned of within the horizon."""
        contacts = world.contacts
        if "t_known" in contacts.columns:
            contacts = contacts[contacts["t_known"].notna().to_numpy()]
        return cls(world.events, contacts[list(VISIBLE_CONTACT_COLUMNS)], world.accounts)

    def until(self, t: float) -> EventLog:
        """The log as it stood at time ``t``: only events at or before ``t``."""
        return EventLog(self.events[self.events["time"] <= t], self.contacts, self.accounts)
