"""The report reads well, on constructed comparisons whose every figure is worked out here by
hand: numbers in their units, stages in the order a journey goes, escaped text, a caption on
every table, headings in order and a table of contents (parsed with html.parser)."""

from __future__ import annotations

import itertools
import math
import re

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import given

import sim
from sim.experiment.compare import Comparison
from sim.experiment.robustness import Robustness
from sim.report.comparison import build_report
from sim.report.html import html_table, page
from sim.report.numbers import DASH, fmt_interval, fmt_value, format_columns
from sim.report.plots import figure, png
from sim.report.progression import STAGE_ORDER, in_stage_order
from sim.report.replay import _details
from sim.report.robustness import robustness_section

SCENARIO = sim.load_scenario("smb", overrides={"accounts": {"count": 150}})
JOURNEY = ["unaware", "aware", "engaged", "qualified", "sales_ready"]  # also in conftest


def comparison(values: dict[tuple[str, str], list[float]], **tables) -> Comparison:
    """A Comparison of hand-made tidy rows ((policy, metric) -> one value a world)."""
    rows = [
        {"policy": p, "replication": r, "metric": m, "value": v}
        for (p, m), vs in values.items()
        for r, v in enumerate(vs)
    ]
    policies = list(dict.fromkeys(p for p, _ in values))
    n = max(len(vs) for vs in values.values())
    return Comparison(pd.DataFrame(rows), SCENARIO, policies, 0, list(range(n)), **tables)


def policy(name: str, **extra: list[float]) -> dict[tuple[str, str], list[float]]:
    """The metrics the verdict and the plots read, three worlds, plus ``extra``."""
    base = {
        "total_wins": [10.0, 11.0, 12.0],
        "weekly_load_p90": [5.0, 5.0, 5.0],
        "precision": [0.4, 0.5, 0.6],
        "handoffs_per_week": [3.0, 3.0, 3.0],
        "lead_time_days": [10.0, 12.0, 14.0],
    }
    return {(name, m): v for m, v in {**base, **extra}.items()}


def cells(html: str, row: str) -> list[str]:
    """The cells of the table row whose header is ``row`` (the first such row)."""
    m = re.search(rf"<th>{re.escape(row)}</th>(.*?)</tr>", html, re.S)
    assert m is not None, row
    return re.findall(r"<td>(.*?)</td>", m.group(1))


def test_numbers_are_formatted_by_unit_by_hand(outline):
    """Three worlds; t_{0.975, 2 df} = 4.303. Precision 0.4, 0.5, 0.6: mean 0.5, sd 0.1,
    half-width 4.303 x 0.1 / sqrt(3) = 0.248. Lead time 10, 12, 14 days: half-width
    4.303 x 2 / sqrt(3) = 4.97. Revenue 3,642,000 every world: no spread. B has no lead
    precision: a dash, explained in the caption."""
    c = comparison(
        {
            **policy("A", total_revenue=[3642000.0] * 3, lead_precision=[0.2, 0.2, 0.2]),
            **policy("B", total_revenue=[1e6, 2e6, 3e6]),
        }
    )
    html = build_report(c)
    assert "3642000" not in html and "3.642e" not in html
    # B: mean 2,000,000, sd 1,000,000, half-width 4.303 x 1e6 / sqrt(3) = 2,484,...
    revenue = cells(html, "Total revenue (currency) ↑")
    assert revenue[0] == "3,642,000 ±0"
    assert re.fullmatch(r"2,000,000 ±2,48\d,\d{3}", revenue[1])
    assert cells(html, "Precision (share) ↑") == ["0.500 ±0.248", "0.500 ±0.248"]
    assert cells(html, "Lead time (days) ↑") == ["12.0 ±5.0", "12.0 ±5.0"]
    assert cells(html, "Lead precision (share) ↑") == ["0.200 ±0.000", DASH]
    table = outline(html).table("Every metric per policy")
    assert "A dash (–) marks no value" in table["caption"]


def test_value_formats_worked_by_hand():
    assert fmt_value(3642000.0, "currency") == "3,642,000"
    assert fmt_value(1234.56, "days") == "1,234.6"
    assert fmt_value(-0.0004, "share") == "0.000"  # no "-0.000"
    assert fmt_value(0.123456, "share") == "0.123"
    assert fmt_value(12, "deals") == "12" and fmt_value(12.5, "deals") == "12.5"
    assert fmt_value(2825.3, "hours") == "2,825" and fmt_value(0.26, "per week") == "0.26"
    assert fmt_value(float("nan"), "days") == DASH and fmt_value(None) == DASH
    assert fmt_interval(0.5, 0.25, 0.75, "share") == "0.500 ±0.250"
    assert fmt_interval(2.0, 2.0, 2.0, "deals") == "2.0 ±0.0"  # a mean, not a count
    assert fmt_interval(7.0, 5.0, float("nan"), "days") == "7.0"  # one world: no interval
    assert fmt_interval(float("nan"), 0.0, 1.0, "share") == DASH


@given(
    mean=st.floats(-1e9, 1e9, allow_nan=False),
    half=st.floats(0, 1e9, allow_nan=False),
    unit=st.sampled_from(["currency", "share", "days", "hours", "deals", "per week", ""]),
)
def test_an_interval_reads_back_as_its_numbers_rounded(mean, half, unit):
    """The text parses back to the mean and half-width, each within half a unit of its last
    shown decimal, and never in scientific notation."""
    text = fmt_interval(mean, mean - half, mean + half, unit)
    assert "e" not in text and "±" in text
    shown_mean, shown_half = text.split(" ±")
    for shown, value in ((shown_mean, mean), (shown_half, half)):
        places = len(shown.partition(".")[2])
        back = float(shown.replace(",", ""))
        # a rounding step of the last decimal, with room for the float's own error
        assert abs(back - value) <= 0.5 * 10.0**-places * (1 + 1e-9) + 1e-9 * abs(value)


def test_format_columns_by_unit_and_counts_whole():
    df = pd.DataFrame(
        {"won_value": [3642000.0, 12.4], "handoffs": [3, 10], "days": [1.25, math.nan]}
    )
    out = format_columns(df, {"won_value": "currency", "handoffs": "handoffs", "days": "days"})
    assert out.to_dict("list") == {
        "won_value": ["3,642,000", "12"],
        "handoffs": ["3", "10"],
        "days": ["1.2", DASH],
    }
    nullable = pd.DataFrame({"n": pd.array([3, None], dtype="Int64")})
    assert format_columns(nullable, {"n": "accounts"})["n"].tolist() == ["3", DASH]


def test_replay_outcomes_are_formatted_by_unit():
    details = pd.DataFrame(
        {
            "policy": ["ours"],
            "handoffs": [1200],
            "precision": [0.51234],
            "days_to_opportunity": [math.nan],
            "won_value": [3642000.0],
        }
    )
    t = _details(details)
    assert list(t.columns) == ["handoffs", "precision", "days to opportunity", "won value"]
    assert t.loc["ours"].tolist() == ["1,200", "0.512", DASH, "3,642,000"]


def test_stages_follow_the_journey_not_the_alphabet(outline):
    """Campaign and progression rows given in alphabetical order come out in journey order."""
    alphabetical = sorted(JOURNEY)
    assert alphabetical != JOURNEY
    campaigns = pd.DataFrame(
        [
            {"campaign": c, "group": g, "stage": s, "replication": r, "rate": 0.5}
            for c in ("webinar", "abm")
            for g in ("exposed", "unexposed")
            for s in alphabetical
            for r in range(2)
        ]
    )
    pairs = list(zip(JOURNEY, [*JOURNEY[1:], "decision"], strict=True))
    progression = pd.DataFrame(
        [
            {"stage": a, "next_stage": b, "replication": r, "rate": 0.5, "median_days": 9.0}
            for a, b in sorted(pairs)
            for r in range(2)
        ]
    )
    c = comparison(policy("A"), campaigns=campaigns, progression=progression)
    parsed = outline(build_report(c))
    rows = parsed.table("by campaign exposure")["rows"]
    # row headers: the campaign (first row of its group only), then its stages
    assert rows == ["webinar", *JOURNEY, "abm", *JOURNEY]
    rates = parsed.table("median days")["rows"]
    assert rates == [f"{a} → {b}" for a, b in pairs]


def test_stage_order_is_the_vocabulary_with_outcomes_after():
    assert STAGE_ORDER[:5] == JOURNEY
    assert STAGE_ORDER.index("customer") > STAGE_ORDER.index("sales_ready")
    df = pd.DataFrame({"stage": ["customer", "zzz", "sales_ready", "unaware"], "x": [1, 2, 3, 4]})
    assert in_stage_order(df)["stage"].tolist() == ["unaware", "sales_ready", "customer", "zzz"]


EVIL = "<script>alert('x')</script>"


def test_a_policy_name_with_markup_is_escaped_everywhere(outline):
    # the baseline's name is in a heading, so in the table of contents too
    c = comparison({**policy("A"), **policy(EVIL)}, baseline=EVIL)
    html = build_report(c)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert (3, f"Difference from {EVIL}, paired on the same worlds") in outline(html).headings


@pytest.fixture(scope="module")
def small_page() -> str:
    return build_report(comparison({**policy("A"), **policy("B")}, baseline=None))


def test_headings_go_down_one_level_at_a_time(outline, small_page):
    levels = [level for level, _ in outline(small_page).headings]
    assert levels[0] == 1 and levels.count(1) == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, levels


def test_the_table_of_contents_links_every_section(outline, small_page):
    parsed = outline(small_page)
    sections = [text for level, text in parsed.headings if level in (2, 3)]
    sections.remove("Contents")
    assert len(parsed.links) == len(sections) >= 3
    assert all(link.startswith("#") and link[1:] in parsed.ids for link in parsed.links)


def test_a_short_page_has_no_table_of_contents():
    text = page("t", ["<h1>t</h1>", "<h2>one</h2><p>x</p>", "<h2>two</h2>"])
    assert "Contents" not in text and text.count('<span id="') == 2


def test_every_table_has_a_caption_and_every_plot_an_alt_text(outline, small_page):
    parsed = outline(small_page)
    assert parsed.tables and all(t["caption"] for t in parsed.tables)
    with pytest.raises(ValueError, match="caption"):
        html_table(pd.DataFrame({"a": [1]}), " ")
    fig, _ = figure()
    with pytest.raises(ValueError, match="alt text"):
        png(fig, "")
    assert 'alt="a &quot;quoted&quot; plot"' in png(fig, 'a "quoted" plot')


def test_the_verdict_leads_and_follows_the_reports_limits(outline):
    """B wins more (17 against 11 deals) with a p90 week of 15: inside the smb capacity of 36,
    over a limit of 10 handoffs a week, which leaves A."""
    c = comparison(
        {
            **policy("A"),
            **policy("B", total_wins=[15.0, 17.0, 19.0], weekly_load_p90=[15.0] * 3),
        }
    )
    html = build_report(c)
    headings = [text for _, text in outline(html).headings]
    assert headings[:3] == ["qualsim report: smb", "Verdict", "Contents"]
    assert '<p class="verdict"><strong>B</strong> has the highest mean total wins' in html
    html = build_report(c, limits={"max_handoffs_per_week": 10.0})
    assert '<p class="verdict"><strong>A</strong> has the highest mean total wins' in html
    assert "ruled out: B (p90 week 15.0 over the capacity of 10.0)" in html
    # a limit on another week than the p90 one is the sweep's alone
    html = build_report(c, limits={"max_handoffs_per_week": 10.0, "capacity_quantile": None})
    assert '<p class="verdict"><strong>B</strong> has the highest mean total wins' in html


def test_one_replication_claims_no_interval():
    one = {(p, m): v[:1] for (p, m), v in {**policy("A"), **policy("B")}.items()}
    c = comparison({**one, ("B", "precision"): [0.6]})
    html = build_report(c)
    assert "no confidence interval can be computed" in html and "Student t" not in html
    assert cells(html, "Precision (share) ↑") == ["0.400", "0.600"]
    assert cells(html, "Lead time (days) ↑") == ["10.0", "10.0"]


def test_robustness_cells_are_in_each_metrics_unit(outline):
    """Clean 3,642,000 → messy 3,000,000: a change of -642,000 with a CI of -700,000 to
    -584,000 (half-width 58,000); precision 0.5 → 0.45, change -0.05 ±0.01."""
    rows = [
        ("total_revenue", 3642000.0, 3000000.0, -642000.0, -700000.0, -584000.0),
        ("precision", 0.5, 0.45, -0.05, -0.06, -0.04),
    ]
    table = pd.DataFrame(
        [
            {"policy": "A", "knob": "duplicate_contacts", "value": 0.1, "metric": m, "clean": c,
             "messy": x, "change": d, "ci_low": lo, "ci_high": hi, "n": 3}
            for m, c, x, d, lo, hi in rows
        ]
    )  # fmt: skip
    html = robustness_section(Robustness(table, comparison(policy("A"))))
    assert cells(html, "A / duplicate_contacts") == [
        "3,642,000 → 3,000,000 (-642,000 ±58,000)",
        "0.500 → 0.450 (-0.050 ±0.010)",
    ]
    assert outline(html).tables[0]["caption"].startswith("Each policy's change")
    assert "Total revenue (currency) ↑" in html and "Precision (share) ↑" in html
