"""What ``qualsim import`` did with every row of every file (:class:`ImportSummary`)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FileSummary", "ImportSummary"]


@dataclass
class FileSummary:
    """What happened to the rows of one raw file."""

    path: str
    out: str
    rows_read: int = 0
    rows_kept: int = 0
    ignored: int = 0
    filtered: dict[str, int] = field(default_factory=dict)
    duplicates_dropped: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    first_rejected: dict[str, str] = field(default_factory=dict)
    unmapped_activities: dict[str, int] = field(default_factory=dict)
    sales_touches: dict[str, int] = field(default_factory=dict)  # kept rows per sales activity
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"{self.path}: {self.rows_read:,} rows read, {self.rows_kept:,} kept -> {self.out}"
        ]
        if self.ignored:
            lines.append(f"  ignored {self.ignored:,} rows of listed system activities")
        for rule, n in self.filtered.items():
            lines.append(f"  filtered out {n:,} rows by the filter {rule}")
        if self.duplicates_dropped:
            lines.append(f"  dropped {self.duplicates_dropped:,} duplicate rows")
        for reason, n in self.rejected.items():
            lines.append(f"  rejected {n:,} rows: {reason} (first: {self.first_rejected[reason]})")
        if self.sales_touches:
            lines.append(
                "  kept "
                + ", ".join(f"{n:,} {a}" for a, n in self.sales_touches.items())
                + " (sales touches: marketing rules ignore them unless they opt in)"
            )
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


@dataclass
class ImportSummary:
    files: list[FileSummary]
    contacts_without_account: int | None = None
    accounts_without_outcomes: int | None = None
    opportunities_without_people: int | None = None

    def __str__(self) -> str:
        lines = [str(f) for f in self.files]
        if self.contacts_without_account is not None:
            lines.append(
                f"{self.contacts_without_account:,} contacts whose account is not in the "
                "accounts file"
            )
        if self.accounts_without_outcomes is not None:
            lines.append(f"{self.accounts_without_outcomes:,} accounts without an opportunity")
        if self.opportunities_without_people is not None:
            lines.append(
                f"{self.opportunities_without_people:,} opportunities of accounts with no known "
                "person in the contacts file"
            )
        return "\n".join(lines)

    def check(self) -> None:
        """Every row is accounted for."""
        for f in self.files:
            total = f.rows_kept + f.ignored + f.duplicates_dropped + sum(f.rejected.values())
            total += sum(f.filtered.values())
            assert total == f.rows_read, (f.path, total, f.rows_read)
