"""The canonical input format: the files a team gives ``read_log`` (and ``qualsim import``
writes), their suffixes and their columns, required and optional.

The account outcome columns are those of :data:`sim.tables.ACCOUNT_OUTCOMES` (the table
``read_log`` makes of them), less the account id.

>>> INPUT_COLUMNS["contacts"]
('contact_id', 'account_id', 'title', 'seniority', 'department', 'role', 'buying_role')
>>> CRM_OUTCOME_COLUMNS
('opportunity_date', 'close_date', 'won', 'value')
"""

from __future__ import annotations

from pathlib import Path

from sim.errors import DataError
from sim.real.formats import EVENT_COLUMNS, EVENT_OPTIONAL
from sim.tables import ACCOUNT_OUTCOMES

# Job titles are optional (lead-level exports often have none): read as "" when absent.
CONTACT_COLUMNS = ("contact_id", "account_id")
CONTACT_TITLE = ("title",)
CONTACT_OPTIONAL = ("seniority", "department", "role")
# The role each contact played in the account's buying group, as sales recorded it (an outcome,
# like the opportunities: read for calibration, never shown to a policy).
CONTACT_OUTCOME_COLUMNS = ("buying_role",)
ACCOUNT_COLUMNS = ("account_id",)
# The CRM outcomes of the accounts file: one opportunity per account (not the sales side's
# per-handoff outcomes of a simulated world).
CRM_OUTCOME_COLUMNS = tuple(c for c in ACCOUNT_OUTCOMES.names if c != "account_id")
ACCOUNT_OPTIONAL = ("tier", "icp_fit", *CRM_OUTCOME_COLUMNS)
# The opportunities file: several CRM opportunities per account (sim.tables.OPPORTUNITIES).
OPPORTUNITY_COLUMNS = ("account_id", "opportunity_id", "created")
OPPORTUNITY_OPTIONAL = ("closed", "status", "amount", "type")

# Per input file: (required columns, optional columns).
INPUT_FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "events": (EVENT_COLUMNS, EVENT_OPTIONAL),
    "contacts": (CONTACT_COLUMNS, (*CONTACT_TITLE, *CONTACT_OPTIONAL, *CONTACT_OUTCOME_COLUMNS)),
    "accounts": (ACCOUNT_COLUMNS, ACCOUNT_OPTIONAL),
    "opportunities": (OPPORTUNITY_COLUMNS, OPPORTUNITY_OPTIONAL),
}
# Per input file: every column qualsim reads from it, required first.
INPUT_COLUMNS = {role: (*req, *opt) for role, (req, opt) in INPUT_FILES.items()}
# The date columns of each file.
DATE_COLUMNS = {
    "events": ("timestamp",),
    "accounts": ("opportunity_date", "close_date"),
    "opportunities": ("created", "closed"),
}


# A CSV header line longer than this is no header (a binary or zero-filled file, or one endless
# line): without a line break in it, a CSV reader would buffer the whole file as the header.
HEADER_BYTES = 1 << 20


def check_header_line(path: Path) -> None:
    """Refuse a CSV file with no line break in its first ``HEADER_BYTES``, naming it."""
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES + 1)
    if len(head) > HEADER_BYTES and b"\n" not in head and b"\r" not in head:
        raise DataError(
            f"{path}: no line break in the first {HEADER_BYTES // 2**20} MB; expected a CSV "
            "file starting with a header line"
        )
