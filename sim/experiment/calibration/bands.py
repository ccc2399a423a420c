"""The published bands a shipped scenario must land in, and how each figure is measured.

Every band cites its source by the id of ``docs/sources.md`` (O = observable rates a team can
check in its own export, B = buying groups, C = funnel conversions, W = decisions, S = cycle
length, P = the path to purchase). Where a source gives a single figure ("~70%", "31%") the band
says how wide we read it; where the simulator has no published figure to meet (N1), the band is
derived from those that exist and says so.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Band:
    """One row of the calibration table."""

    id: str
    what: str
    low: float
    high: float
    source: str
    how: str
    presets: tuple[str, ...] = ("enterprise", "smb")
    kind: str = "world"  # "world" (one simulated world), "funnel" (a policy through sales)
    percent: bool = True  # shown as a percentage
    judged: bool = True  # False: shown for reference, the model has no like-for-like figure
    reference_in: tuple[str, ...] = ()  # presets the source does not describe: shown, not judged

    def judged_for(self, preset: str | None) -> bool:
        """Is a scenario of ``preset`` (None: not a shipped preset) judged against this band?"""
        return self.judged and preset not in self.reference_in


BANDS: tuple[Band, ...] = (
    Band(
        "O1",
        "accounts in an active buying journey in a quarter",
        0.033,
        0.075,
        "B2B Institute / LinkedIn, the 95:5 rule (~5% a quarter; read as 5% ÷ 1.5 to × 1.5)",
        "mean over the full quarters of the horizon of the share of all accounts whose journey "
        "is active at some time in the quarter",
    ),
    Band(
        "O2.opens",
        "email opens per delivered email",
        0.15,
        0.30,
        "email-marketing benchmarks (~20–25%, read ±5 points)",
        "email opens by known contacts / (months known × the scenario's emails a month)",
    ),
    Band(
        "O2.clicks",
        "email clicks per delivered email",
        0.02,
        0.05,
        "email-marketing benchmarks (2–5%)",
        "email clicks by known contacts / (months known × the scenario's emails a month)",
    ),
    Band(
        "O3",
        "form fills per web visit",
        0.01,
        0.05,
        "Klipfolio and B2B conversion-rate pages (1–5%, typical 2.4%)",
        "content downloads, webinars, events and demo requests / web visits (known or not)",
    ),
    Band(
        "O4",
        "known people per target account",
        8,
        15,
        "ABM metric glossaries (8–15 in the database)",
        "contacts known to the CRM by the end of the horizon, per target account",
        presets=("enterprise",),
        percent=False,
    ),
    Band(
        "O5",
        "target accounts engaged in a month",
        0.25,
        0.40,
        "ABM metric pages (25–40%, with an engagement threshold)",
        "(target account, month) pairs with 3 or more engagement touches (web visits, pricing "
        "visits, form fills, email clicks) by known people",
        presets=("enterprise",),
    ),
    Band(
        "O6",
        "web visits tied to a known person",
        0.05,
        0.40,
        "identity-resolution vendor pages (5–40%)",
        "web visits with a known contact / all web visits of the accounts",
    ),
    Band(
        "O7",
        "demo requests that become sales-qualified",
        0.30,
        0.65,
        "Cactus Marketing MQL→SQL benchmarks for hand-raisers (30–65%)",
        "people's first demo request made while a member of an active buying journey that "
        "reaches an opportunity ('qualified') within 90 days / all such requests",
    ),
    Band(
        "N1",
        "months with engagement, people outside buying groups",
        0.02,
        0.20,
        "derived from O2 and O5 (a reader of 2–4 emails a month at 2–5% clicks engages in "
        "4–20% of months); no published figure",
        "months known to the CRM with an engagement touch / months known, people outside any "
        "buying committee",
    ),
    Band(
        "B1.enterprise",
        "buying-committee size (mean)",
        6,
        10,
        "Gartner, The New B2B Buying Journey, 2019 (6–10)",
        "mean committee size of all accounts",
        presets=("enterprise",),
        percent=False,
    ),
    Band(
        "B1.smb",
        "buying-committee size (mean)",
        1,
        3,
        "small-business committees of 1–3 (the preset's design target)",
        "mean committee size of all accounts",
        presets=("smb",),
        percent=False,
    ),
    Band(
        "B3.6",
        "committees of five to seven that buy",
        0.25,
        0.40,
        "CEB / Challenger, The Challenger Customer, 2015 (31% at six people)",
        "decided journeys of committees of 5–7 people (around six) that end in a purchase",
        presets=("enterprise",),
    ),
    Band(
        "B3.1",
        "one-person decisions that buy",
        0.70,
        0.90,
        "CEB / Challenger, The Challenger Customer, 2015 (81% alone)",
        "decided journeys of one-person committees that end in a purchase",
        presets=("smb",),
    ),
    Band(
        "W2",
        "opportunities lost to no decision",
        0.40,
        0.60,
        "Dixon & McKenna, HBR, 2022 (40–60% of deals)",
        "decided journeys that reached an opportunity ('qualified') and ended in no decision",
        presets=("enterprise",),
    ),
    Band(
        "S1",
        "months from journey start to purchase (median)",
        6,
        18,
        "Gartner 2022 (~18 months for large tech purchases); practitioner pages (enterprise 9+)",
        "median months from journey start to a purchase",
        presets=("enterprise",),
        percent=False,
    ),
    Band(
        "OL",
        "days from first form fill to purchase (median)",
        9.7,
        16.1,
        "Olist marketing funnel (12.9 days MQL→won; read ±25%)",
        "median days from the first form fill of a journey's members to its purchase (journeys "
        "that start in the horizon with a first form fill in its first third: both ends seen)",
        presets=("smb",),
        percent=False,
    ),
    Band(
        "P4",
        "point of the journey a competitor engages",
        0.60,
        0.80,
        "6sense buyer research, 2023–24 (first vendor contact at ~70% of the journey)",
        "mean share of the journey (start to purchase) elapsed when a competitor engaged",
    ),
    Band(
        "C1.inquiry_mql",
        "inquiry → MQL (people)",
        0.10,
        0.25,
        "SiriusDecisions waterfall via practitioners (10–25%)",
        "people with a form fill who are handed off by the practice MQL (mql_scored)",
        kind="funnel",
    ),
    Band(
        "C1.mql_sal",
        "MQL → SAL (people)",
        0.40,
        0.60,
        "SiriusDecisions waterfall via practitioners (40–60%)",
        "MQL people whose handoff sales accepted. Not judged: the sales model decides acceptance "
        "and qualification in the SDR's first conversation, so it has no separate SAL stage",
        kind="funnel",
        judged=False,
    ),
    Band(
        "C1.sal_sql",
        "SAL → SQL (people)",
        0.50,
        0.70,
        "SiriusDecisions waterfall via practitioners (50–70%)",
        "accepted people whose handoff became an opportunity. Not judged (see MQL → SAL)",
        kind="funnel",
        judged=False,
    ),
    Band(
        "C1.sql_won",
        "SQL → won (people)",
        0.20,
        0.30,
        "SiriusDecisions waterfall via practitioners (20–30%)",
        "people whose opportunity was won. Reference only for smb: the waterfall describes "
        "enterprise demand; a small buyer alone in its decision (B3.1: 70–90% buy) closes more "
        "of its opportunities",
        kind="funnel",
        reference_in=("smb",),
    ),
    Band(
        "C4",
        "MQL → SQL (people)",
        0.13,
        0.60,
        "practitioner pages (~13%; 13–60% by how strict the MQL is)",
        "MQL people whose handoff became an opportunity",
        kind="funnel",
    ),
    Band(
        "O8",
        "inquiry → won (people)",
        0.0,
        0.01,
        "Forrester, 'The end of MQLs' (under 1%)",
        "people with a form fill whose handoff was won. Reference only for smb: Forrester "
        "describes enterprise demand; the Olist SMB funnel closes 13% of its sign-ups",
        kind="funnel",
        reference_in=("smb",),
    ),
)

PRACTICE_MQL = "mql_scored"  # the funnel rows run this shipped policy through the sales side


def bands_for(preset: str | None) -> list[Band]:
    """The bands of a preset (every band when the scenario is not a shipped preset: a team's
    scenario is checked against all of them, as the closest reading available)."""
    return [b for b in BANDS if preset is None or preset in b.presets]


def _band_text(b: Band) -> str:
    if b.percent:
        return f"{b.low * 100:g}–{b.high * 100:g}%"
    return f"{b.low:g}–{b.high:g}"


def markdown() -> str:
    """Every band as a markdown table (docs/calibration.md shows it between its markers)."""
    lines = [
        "| id | figure | band | presets | source | how qualsim measures it |",
        "|---|---|---|---|---|---|",
    ]
    for b in BANDS:
        judged = [p for p in b.presets if b.judged_for(p)]
        shown = [p for p in b.presets if p not in judged]
        presets = ", ".join(judged) if judged else "—"
        if shown:
            presets += f" (reference: {', '.join(shown)})"
        cells = (b.id, b.what, _band_text(b), presets, b.source, b.how)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
