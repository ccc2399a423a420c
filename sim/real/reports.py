"""What reading a real export reports: rows read, kept and skipped per file, and what was
noticed on the way (:class:`ImportReport`, ``RealLog.report``)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Why an event row may be dropped with skip_bad_rows, in the order a row is classified.
SKIP_REASONS = (
    "bad_time",
    "time_out_of_range",
    "unknown_activity",
    "unknown_contact",
    "account_mismatch",
    "missing_account",
)
REASON_TEXT = {
    "bad_time": "an unparseable timestamp",
    "time_out_of_range": "a timestamp before 1970 or after 2099",
    "unknown_activity": "an unknown activity",
    "unknown_contact": "a contact_id not in the contacts file",
    "account_mismatch": "an account_id that differs from the contact's account",
    "missing_account": "no account (anonymous, empty account_id)",
}


def plural(n: int, word: str) -> str:
    """``plural(1, "row")`` → "1 row", ``plural(1200, "row")`` → "1,200 rows"."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True, eq=False)
class FileReport:
    """What happened to one input file. ``skipped`` counts dropped rows per reason (only the
    events file drops rows); ``first_skipped`` gives the first such row per reason, e.g.
    ``"line 17: 'web visit'"``; ``ignored_columns`` are columns qualsim does not use."""

    path: str
    rows_read: int
    rows_kept: int
    skipped: dict[str, int] = field(default_factory=dict)
    first_skipped: dict[str, str] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [f"{self.path}: {plural(self.rows_read, 'row')} read, {self.rows_kept:,} kept"]
        for reason, n in self.skipped.items():
            first = self.first_skipped.get(reason, "")
            lines.append(
                f"  skipped {plural(n, 'row')} with {REASON_TEXT.get(reason, reason)}"
                + (f" (first: {first})" if first else "")
            )
        if self.ignored_columns:
            lines.append(f"  ignored columns: {', '.join(self.ignored_columns)}")
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class ImportReport:
    """Rows read / kept / skipped per file, and what was noticed on the way.

    ``contacts_without_account``: contacts whose account is not in the accounts file (None
    without one). ``accounts_added``: accounts known only from contacts or events.
    ``accounts_without_outcomes``: accounts of the log without an opportunity_date, added ones
    included (None when the accounts file has no outcome columns). ``accounts_filled``: events
    with an empty account_id that took their contact's account. ``opportunities``: the
    opportunities file, with ``opportunity_types`` counting its rows per type (most first)."""

    events: FileReport
    contacts: FileReport
    accounts: FileReport | None
    anonymous_events: int
    duplicate_events: int
    accounts_filled: int
    accounts_total: int
    accounts_added: int
    contacts_without_account: int | None
    accounts_without_outcomes: int | None
    warnings: tuple[str, ...] = ()
    opportunities: FileReport | None = None
    opportunity_types: dict[str, int] = field(default_factory=dict)  # opportunities per type

    @property
    def skipped(self) -> dict[str, int]:
        """Dropped event rows per reason."""
        return dict(self.events.skipped)

    def __str__(self) -> str:
        ev = self.events
        lines = [str(ev)]
        notes = [f"{self.anonymous_events:,} anonymous"]
        if self.duplicate_events:
            notes.append(f"{self.duplicate_events:,} identical repeats kept")
        if self.accounts_filled:
            notes.append(f"{self.accounts_filled:,} took their contact's account")
        lines[0] += f" ({', '.join(notes)})"
        lines.append(str(self.contacts))
        if self.accounts is not None:
            lines.append(str(self.accounts))
        if self.opportunities is not None:
            lines.append(str(self.opportunities))
            kinds = ", ".join(f"{k or '(empty)'} {n:,}" for k, n in self.opportunity_types.items())
            lines.append(f"  opportunities by type: {kinds}")
        parts = [plural(self.accounts_total, "account")]
        if self.accounts is not None and self.accounts_added:
            parts.append(f"{self.accounts_added:,} of them not in {self.accounts.path} (added)")
        if self.contacts_without_account:
            parts.append(
                f"{plural(self.contacts_without_account, 'contact')} whose account is not in it"
            )
        if self.accounts_without_outcomes is not None:
            parts.append(f"{self.accounts_without_outcomes:,} without an opportunity")
        lines.append("; ".join(parts))
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)
