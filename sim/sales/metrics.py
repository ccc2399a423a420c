"""The metrics of a policy on one world: name, label, unit, which direction is better, what each
is, and which truth a precision uses (``docs/comparison.md`` explains them). They are computed by
:mod:`sim.sales.measure`.

A handoff of account *a* at *t* is judged by two truths: **active journey** (*a* is in an
active buying journey then: ``in_market`` and ``journey_start <= t < t_decision``) and
**sales-acceptable** (in addition, the journey has reached "qualified", and the person handed
over, for a lead-level policy, is on the committee: what sales would accept).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """A metric: its name, label, unit, which direction is better ("higher", "lower", or ""
    where it depends), what it is, and — for precisions — which truth it judges handoffs by."""

    name: str
    label: str
    unit: str
    better: str
    doc: str
    truth: str = ""


# The two truths a handoff is judged by (DESIGN: "What the metrics mean").
ACTIVE = "active journey"  # the account is in an active buying journey at the handoff
ACCEPTABLE = "sales-acceptable"  # ... at 'qualified' or later, the person on the committee
#: what each truth asks of a handoff, in a few words (the legend of printed tables)
TRUTHS = {
    ACTIVE: "the account is in an active buying journey",
    ACCEPTABLE: "also at 'qualified' or later, and a lead on the buying committee",
}


def _weekly_load_metrics() -> list[Metric]:
    """The week-by-week load (:mod:`sim.sales.weekly`): queue-joining handoffs (not duplicate
    or recycling) per whole week from go-live, a last partial week left out."""
    what = "queue-joining handoffs (not duplicate or recycling) in"
    return [
        Metric("weekly_load_p50", "Median week", "per week", "", f"{what} the median whole week"),
        Metric(
            "weekly_load_p90",
            "p90 week",
            "per week",
            "",
            f"{what} the 90th-percentile whole week (linear interpolation): the load SDRs must "
            "absorb one week in ten",
        ),
        Metric("weekly_load_max", "Busiest week", "per week", "", f"{what} the busiest whole week"),
        Metric(
            "weeks_over_capacity",
            "Weeks over capacity",
            "share",
            "lower",
            f"whole weeks whose {what.removesuffix(' in')} exceed capacity_per_week / whole weeks",
        ),
    ]


def _deal_split_metrics() -> list[Metric]:
    """Deals won, split by who brought them in: the policy's handoffs (``wins``, ``revenue``,
    above), the account itself after no handoff opportunity (late inbound: a demo request in
    its journey, :mod:`sim.sales.handoff`), and both together. An account wins at most one
    deal, one way or the other, so the totals are the sums."""
    late = "the account brought in itself (a late demo request) without a handoff opportunity"
    return [
        Metric("inbound_wins", "Late inbound wins", "deals", "", f"deals won that {late}"),
        Metric(
            "inbound_revenue",
            "Late inbound revenue",
            "currency",
            "",
            f"value of the deals won that {late}",
        ),
        Metric(
            "total_wins",
            "Total wins",
            "deals",
            "higher",
            "every deal won: wins from handoffs + late inbound wins",
        ),
        Metric(
            "total_revenue",
            "Total revenue",
            "currency",
            "higher",
            "every deal's value: revenue from handoffs + late inbound revenue",
        ),
    ]


def _uplift_metrics() -> list[Metric]:
    """What handoffs cause (:mod:`sim.sales.uplift`): the policy's totals (handoffs and late
    inbound) minus those of the same world with no handoff, on the same random streams."""
    what = "(from handoffs and late inbound) minus those of the same world with no handoff"
    return [
        Metric(
            "opportunities_caused",
            "Opportunities caused",
            "opportunities",
            "higher",
            f"opportunities {what} (common random numbers): pipeline the handoffs created",
        ),
        Metric("wins_caused", "Wins caused", "deals", "higher", f"wins {what}"),
        Metric("revenue_caused", "Revenue caused", "currency", "higher", f"revenue won {what}"),
    ]


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("handoffs", "Handoffs", "accounts", "", "handoffs the policy made"),
        Metric("handoffs_per_week", "Handoffs / week", "per week", "", "handoffs per week"),
        Metric(
            "capacity_per_week", "SDR capacity / week", "per week", "", "handoffs SDRs can work"
        ),
        *_weekly_load_metrics(),
        Metric(
            "precision",
            "Precision",
            "share",
            "higher",
            "handoffs of accounts in an active buying journey / handoffs",
            ACTIVE,
        ),
        Metric(
            "acceptable_precision",
            "Sales-acceptable precision",
            "share",
            "higher",
            "handoffs of accounts at 'qualified' or later (and, for a lead, of a committee member) "
            "/ handoffs",
            ACCEPTABLE,
        ),
        Metric(
            "lead_precision",
            "Lead precision",
            "share",
            "higher",
            "lead-level handoffs whose person is in the committee of an active account / all",
            ACTIVE,
        ),
        Metric("mql_people", "MQL people", "people", "", "people handed off (lead-level policies)"),
        Metric(
            "mql_to_sal",
            "MQL → SAL (people)",
            "share",
            "higher",
            "MQL people whose handoff sales accepted / MQL people",
        ),
        Metric(
            "mql_to_sql",
            "MQL → SQL (people)",
            "share",
            "higher",
            "MQL people whose handoff became an opportunity / MQL people",
        ),
        Metric(
            "mqa_months",
            "Qualified account-months",
            "per month",
            "",
            "accounts a month in which the rule holds at some touch (the MQA status as vendors "
            "report it)",
        ),
        Metric(
            "month_precision",
            "Month precision",
            "share",
            "higher",
            "qualified account-months whose account reaches an opportunity ('qualified') within "
            "90 days / qualified account-months",
            ACCEPTABLE,
        ),
        Metric(
            "month_base_rate",
            "Month base rate",
            "share",
            "",
            "account-months whose account reaches an opportunity within 90 days / all "
            "account-months (what month precision is compared with)",
            ACCEPTABLE,
        ),
        Metric(
            "recall",
            "Recall",
            "share",
            "higher",
            "accounts deciding within the horizon (journey visible in it) that got a true "
            "handoff / all such",
        ),
        Metric(
            "lead_time_days",
            "Lead time",
            "days",
            "higher",
            "mean t_decision - t over true handoffs of accounts that decided in the horizon",
        ),
        Metric(
            "timing_vs_intent_days",
            "Timing vs intent",
            "days",
            "",
            "mean t - t_sales_ready over true handoffs (negative: before purchase intent)",
        ),
        Metric(
            "time_to_qualify_days",
            "Time to qualify",
            "days",
            "lower",
            "mean t - max(journey_start, 0) over true handoffs",
        ),
        Metric(
            "buying_group_coverage",
            "Buying-group coverage",
            "share",
            "higher",
            "mean share of the committee seen (a known touch) by the time of a true handoff",
        ),
        Metric(
            "queue_wait_hours",
            "Queue wait",
            "hours",
            "lower",
            "mean handoff -> first SDR work, over worked handoffs (expired ones are counted in "
            "never_followed_up)",
        ),
        Metric(
            "sla_breach_rate",
            "SLA breaches",
            "share",
            "lower",
            "worked handoffs first worked later than sales.sla_hours / worked handoffs",
        ),
        Metric(
            "never_followed_up",
            "Never followed up",
            "handoffs",
            "lower",
            "handoffs that waited longer than sales.max_wait_days",
        ),
        Metric(
            "acceptance_rate", "Acceptance rate", "share", "higher", "accepted / worked handoffs"
        ),
        Metric(
            "opportunities",
            "Opportunities",
            "opportunities",
            "higher",
            "opportunities from handoffs",
        ),
        Metric(
            "wins",
            "Wins from handoffs",
            "deals",
            "higher",
            "deals won from opportunities that the policy's handoffs opened",
        ),
        Metric("win_rate", "Win rate", "share", "higher", "wins / opportunities"),
        Metric(
            "revenue",
            "Revenue from handoffs",
            "currency",
            "higher",
            "value of the deals won from handoffs (`wins`)",
        ),
        Metric(
            "false_handoff_hours",
            "Hours on false handoffs",
            "hours",
            "lower",
            "SDR hours spent on handoffs that were not true",
        ),
        Metric("sales_hours", "Sales hours", "hours", "", "all hours spent on handoffs"),
        Metric(
            "lost_to_competitor",
            "Lost to competitor first",
            "deals",
            "lower",
            "buying opportunities lost where a competitor engaged before sales did",
        ),
        Metric(
            "missed_accounts",
            "In-market never handed off",
            "accounts",
            "lower",
            "accounts in an active journey in the horizon that got no true handoff",
        ),
        *_deal_split_metrics(),
        *_uplift_metrics(),
        Metric(
            "backlog_recovery_weeks",
            "Weeks to absorb the go-live backlog",
            "weeks",
            "lower",
            "whole weeks after go-live until a week's handoffs joining the SDR queue first fit "
            "the SDR capacity (NaN without a go-live; the weeks left when they never do)",
        ),
    ]
}

# The month-by-month metrics: from the rule's state at every touch, not from its handoffs.
MONTH_METRICS = ("mqa_months", "month_precision", "month_base_rate")

# The rows `qualsim run` and `compare` print by default.
HEADLINE = [
    "handoffs_per_week",
    "weekly_load_p90",  # the week SDRs must absorb, not the average
    "weeks_over_capacity",
    "precision",
    "acceptable_precision",
    "recall",
    "lead_time_days",
    "queue_wait_hours",
    "opportunities",  # the pipeline the handoffs touched ...
    "opportunities_caused",  # ... and the part of it they caused
    "false_handoff_hours",
    "wins",  # from handoffs, beside the revenue they brought ...
    "revenue",
    "total_wins",  # ... and every deal won, late inbound ones too
    "total_revenue",
    "wins_caused",  # ... and what the handoffs caused: the totals minus no handoff at all
    "revenue_caused",
    "mql_to_sql",  # per lead: lead-level policies only
    "month_precision",  # MQA status month by month: account-level policies only
    "month_base_rate",
]


#: the mark a printed row label carries for the direction that is better (none: it depends)
MARKS = {"higher": "↑", "lower": "↓"}


def row_label(name: str) -> str:
    """A metric as a table row: its label, unit (unless the label already names it) and the
    mark of its better direction.

    >>> row_label("precision"), row_label("queue_wait_hours"), row_label("handoffs")
    ('Precision (share) ↑', 'Queue wait (hours) ↓', 'Handoffs (accounts)')
    >>> row_label("opportunities_caused")  # not "Opportunities caused (opportunities)"
    'Opportunities caused ↑'
    """
    m = METRICS[name]
    mark = MARKS.get(m.better, "")
    unit = "" if m.unit.lower() in m.label.lower() else f" ({m.unit})"
    return f"{m.label}{unit}" + (f" {mark}" if mark else "")


def legend(names: list[str]) -> str:
    """The line under a table of the metrics ``names``: what its marks mean, and the truth
    each precision among them judges handoffs by (only what the table shows).

    >>> for sentence in legend(["precision", "lead_precision", "handoffs"]).split(". "):
    ...     print(sentence)
    ↑ higher is better, ↓ lower is better, unmarked: neither (volume, load, context)
    Precision, Lead precision: active journey truth (the account is in an active buying journey).
    """
    shown = [METRICS[n] for n in names]
    marks = [f"{mark} {better} is better" for better, mark in MARKS.items()]
    parts = [", ".join([*marks, "unmarked: neither (volume, load, context)"]) + "."]
    for truth, meaning in TRUTHS.items():
        which = [m.label for m in shown if m.truth == truth]
        if which:
            parts.append(f"{', '.join(which)}: {truth} truth ({meaning}).")
    return " ".join(parts)


def markdown() -> str:
    """Every metric as a markdown table (docs/comparison.md shows it between its markers)."""
    lines = [
        "| metric | label | unit | better | what it is | truth |",
        "|---|---|---|---|---|---|",
    ]
    for m in METRICS.values():
        cells = (f"`{m.name}`", m.label, m.unit, m.better or "—", m.doc, m.truth or "—")
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
