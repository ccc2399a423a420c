"""What every export shares: the :class:`Export` it returns, the :class:`Limitation` records
that say what a target cannot express and how the export approximates it, the limitations every
target has (recycling, declared filters, sales touches), and safe text for the readable files.

A rule part is either exported exactly (no record), ``approximated`` (the export does something
close, said how) or ``not expressible`` (the export cannot do it; said what to build instead).
Nothing is dropped without a record.

>>> md_cell("=HYPERLINK(1)|<b>")
"'=HYPERLINK(1)\\\\|&lt;b&gt;"
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from policies.schema import PolicyBase

Status = Literal["approximated", "not expressible"]
APPROXIMATED: Status = "approximated"
NOT_EXPRESSIBLE: Status = "not expressible"


@dataclass(frozen=True)
class Limitation:
    """One rule part a target cannot express as qualsim evaluates it: ``part`` (the policy's
    field, e.g. ``decay.half_life_days``), what the target ``cannot`` do, what the export does
    ``instead``, and whether that is ``approximated`` or ``not expressible``."""

    part: str
    cannot: str
    instead: str
    status: Status = APPROXIMATED

    def line(self) -> str:
        """The limitation as one line of text."""
        return f"{self.part} ({self.status}): {self.cannot}; {self.instead}"


@dataclass
class Export:
    """A policy exported to one target: the files to write (name -> text) and every
    limitation (also inside the files: the JSON's ``limitations``, the readable file's section)."""

    target: str
    policy: str
    files: dict[str, str]
    limitations: list[Limitation] = field(default_factory=list)

    @classmethod
    def of(cls, target: str, policy: str, doc: Any, readable: str, limits: list[Limitation]):
        """The export of the usual two files: ``TARGET.json`` (``doc``) and ``TARGET.md``."""
        files = {f"{target}.json": dumps(doc), f"{target}.md": readable}
        return cls(target, policy, files, limits)


def limitation_dicts(limits: list[Limitation]) -> list[dict[str, str]]:
    """The limitations as JSON objects."""
    return [asdict(x) for x in limits]


def dumps(doc: Any) -> str:
    """JSON text of an export document (finite numbers only, 2-space indent)."""
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# -- the limitations every target shares ---------------------------------------------------------


def half_life_window(half_life: float) -> int:
    """The window (whole days, at least 1) that stands for an exponential decay of half-life
    ``half_life``: its mean lifetime h / ln 2, so a steady stream of touches scores the same in
    the long run (the area under 0.5^(t/h) is h / ln 2).

    >>> half_life_window(30)
    43
    """
    return max(1, round(half_life / math.log(2)))


def decay_limits(part: str, half_life: float | None, target: str) -> list[Limitation]:
    """The limitation of a half-life decay on a target that can only count "in the last N
    days" (none without a half-life)."""
    if half_life is None:
        return []
    days = half_life_window(half_life)
    return [
        Limitation(
            part,
            f"{target} has no exponential score decay with a half-life of {half_life:g} days",
            f"points count fully for {days} days (the decay's mean lifetime, half-life / ln 2) "
            "and then not at all; a score near the threshold can cross it at other times",
        )
    ]


def common_limits(
    policy: PolicyBase, target: str, recycle_how: str, recycle: Status = APPROXIMATED
) -> list[Limitation]:
    """Limitations every target shares: recycling (``recycle_how``: the target's nearest
    setting, ``recycle``: whether that approximates it), declared filters and sales touches."""
    out = []
    if policy.recycle_days is not None:
        out.append(
            Limitation(
                "recycle_days",
                f"{target} does not re-qualify an account {policy.recycle_days:g} days after its "
                "last handoff the way qualsim does (per account, at the first event time the "
                "rule holds again)",
                recycle_how,
                recycle,
            )
        )
    for i, entry in enumerate(policy.exclude):
        name = next(iter(entry.model_dump(exclude_none=True)), "filter")
        out.append(
            Limitation(
                f"exclude.{i}.{name}",
                f"{target} cannot drop touches with qualsim's {name} filter",
                "not exported: use the target's own bot / spam filtering (email-scanner clicks, "
                "bursts) and a filter 'associated company is known'; it is not the same rule, so "
                "the target scores touches qualsim would drop",
                NOT_EXPRESSIBLE,
            )
        )
    if policy.include_sales_touches:
        out.append(
            Limitation(
                "include_sales_touches",
                f"{target} marketing scoring does not see sales activities (calls, meetings, "
                "sales emails, replies, tasks) as qualsim does",
                "sales activities are exported where the target has an activity for them and "
                "listed as not expressible otherwise",
            )
        )
    return out


def per_contact_limit(policy: PolicyBase, target: str) -> Limitation:
    """The limitation of a tool that makes each qualifying contact an MQL where qualsim hands
    the account off once."""
    again = (
        f", and again only {fmt(policy.recycle_days)} days after that handoff"
        if policy.recycle_days is not None
        else ", and never again"
    )
    return Limitation(
        "handoff per account",
        f"{target} qualifies each contact: every contact of an account that reaches the "
        f"threshold becomes an MQL, while qualsim hands the account off once{again}",
        "expect more MQLs per week than the simulated handoffs: count an account's first MQL "
        "only (a report of MQL companies, or a company property 'first MQL date') before "
        "comparing with the simulation or the sales capacity",
    )


# -- readable files --------------------------------------------------------------------------

_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_MD_SPECIAL = re.compile(r"([\\`*\[\]|])")


def md_cell(text: object) -> str:
    """``text`` safe in a markdown table cell or line: one line, HTML escaped (a browser runs no
    tag from it), markdown specials and ``|`` escaped, and a leading ``=``, ``+``, ``-``, ``@``
    (a formula when pasted into a spreadsheet) prefixed with ``'`` unless the cell is a plain
    number (``-10`` stays ``-10``: a spreadsheet reads it as the number, nothing runs).

    >>> md_cell(-10), md_cell("+2.5"), md_cell("-1+1")
    ('-10', '+2.5', "'-1+1")
    """
    one = " ".join(str(text).split())
    if _NUMBER.match(one):
        return one
    one = _MD_SPECIAL.sub(r"\\\1", html.escape(one, quote=False))
    return "'" + one if _FORMULA.match(one) else one


def md_table(header: list[str], rows: list[list[object]]) -> str:
    """A markdown table, every cell through :func:`md_cell`."""
    lines = ["| " + " | ".join(md_cell(h) for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def limits_section(limits: list[Limitation]) -> str:
    """The readable file's section on what the target cannot express."""
    head = "## What this target cannot express, and how the export approximates it\n\n"
    if not limits:
        return head + "Nothing: every part of the rule is exported exactly.\n"
    rows: list[list[object]] = [[x.part, x.status, x.cannot, x.instead] for x in limits]
    return head + md_table(["rule part", "status", "the target cannot", "instead"], rows)


# The line every readable file starts its body with.
NAMING_NOTE = (
    "Activity and field names are qualsim's (`demo_request`, `seniority`): map each to your "
    "instance's own form, page, event or property when you configure it.\n\n"
)


def criteria_section(lines: list[str]) -> str:
    """The readable file's section on account criteria the score cannot hold (none: empty)."""
    if not lines:
        return ""
    head = "## Account criteria (not expressible as points: build them beside the score)\n\n"
    return head + "".join(f"- {md_cell(x)}\n" for x in lines) + "\n"


def fmt(x: float) -> str:
    """A number as short text (no trailing ``.0``)."""
    return f"{x:g}"
