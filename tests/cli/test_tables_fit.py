"""Tables that fit: at 60, 80 and 200 columns no identifier (row label, index name, column
name) is cut or folded, nothing is replaced by an ellipsis, and no line is wider than the
terminal — wide tables are split over several tables, too-narrow ones printed as records."""

from __future__ import annotations

import io

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from sim.cli.base import table

WIDTHS = (60, 80, 200)
NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=24)
CELL = st.text(alphabet="0123456789.,±-> ()abc", max_size=40)


def render(df: pd.DataFrame, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table(df, "Title", False, width=width))
    return console.export_text()


def assert_fits(df: pd.DataFrame, width: int) -> None:
    text = render(df, width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width, text
    assert "…" not in text
    words = {w for line in lines for w in line.replace("│", " ").replace("┃", " ").split()}
    for ident in [df.index.name, *df.index, *df.columns]:
        assert ident in words, (ident, text)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(NAME, min_size=1, max_size=8, unique=True),
    st.lists(NAME, min_size=1, max_size=5, unique=True),
    st.data(),
)
def test_random_tables_fit_at_every_width(cols, rows, data) -> None:
    cells = [[data.draw(CELL) for _ in cols] for _ in rows]
    df = pd.DataFrame(cells, columns=cols, index=pd.Index(rows, name="policy"))
    for width in WIDTHS:
        assert_fits(df, width)


def test_the_run_table_at_80_columns_is_split_not_cut() -> None:
    policies = ["mql_scored", "mqa_depth", "weighted_titles", "progression_stages", "mqa_count"]
    df = pd.DataFrame(
        [["1,493,641 ±298,453"] * 5, ["0.465 ±0.012"] * 5],
        columns=policies,
        index=pd.Index(["Total revenue (currency)", "Precision (share)"], name="metric"),
    )
    text = render(df, 80)
    # index 24 + 4, each column 18 + 3: two columns per table within 80, so three tables
    assert "(1/3)" in text and "(3/3)" in text and "(4/3)" not in text
    assert text.count("Total revenue (currency)") == 3  # the index repeats in each
    for p in policies:
        assert p in text
    assert render(df, 200).count("Title") == 1  # wide enough: one table


def test_too_narrow_for_any_table_prints_records() -> None:
    df = pd.DataFrame(
        {"weekly_load_p90": ["31.6 -> 33.6 (2.0 ±2.1)"]},
        index=pd.Index(["progression_stages / duplicate_contacts"], name="policy / knob"),
    )
    text = render(df, 60)
    assert "policy / knob: progression_stages / duplicate_contacts" in text
    assert "  weekly_load_p90: 31.6 -> 33.6 (2.0 ±2.1)" in text
