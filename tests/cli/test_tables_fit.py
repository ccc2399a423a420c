"""Tables that fit: at 60, 80 and 200 columns no identifier (row label, index name, column
name) is cut or folded, nothing is replaced by an ellipsis, and no line is wider than the
terminal — wide tables are split over several tables, too-narrow ones printed as records."""

from __future__ import annotations

import io
import re

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
    words = {
        w.removesuffix(":")  # records print "name: value"
        for line in lines
        for w in line.replace("│", " ").replace("┃", " ").split()
    }
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


VARIANT = st.lists(
    st.sampled_from(
        ["all.0.unique_contacts", "all.0.min_touches_per_contact", "threshold"]
    ).flatmap(lambda k: st.integers(1, 140).map(lambda v: f"{k}={v}")),
    min_size=1,
    max_size=3,
).map(",".join)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["mqa_depth", "mql_scored"]), VARIANT),
        min_size=1,
        max_size=6,
        unique=True,
    ),
    st.integers(1, 5),
    st.sampled_from(WIDTHS),
)
def test_identifiers_are_whole_and_every_part_names_its_rows(keys, n_cols, width) -> None:
    """A sweep's table indexed by policy with a variant column: a variant breaks only after a
    comma (each name=value whole on a line, or the table as records), and when the table is
    split, every part shows the variant beside the policy, so a row is never matched by
    position alone."""
    rows = pd.Index([p for p, _ in keys], name="policy")
    df = pd.DataFrame({"variant": [v for _, v in keys]}, index=rows)
    for j in range(n_cols):
        df[f"precision_of_the_rule_{j}"] = [f"{0.1 * (j + 1):.3f} ±0.012"] * len(df)
    text = render(df, width)
    assert max(len(line) for line in text.splitlines()) <= width, text
    words = set(re.split(r"[\s│┃,:]+", text))
    for _, variant in keys:
        for part in variant.split(","):
            assert part in words, (part, text)
    parts = text.count("Title (")
    if parts > 1 and rows.has_duplicates:
        assert text.count("variant") == parts, text  # the key column repeats in each part
    if "policy: " not in text:  # a table, not records: the variant is left-aligned
        for _, variant in keys:
            first = variant.split(",")[0]  # right-aligned, only the widest would start there
            assert f"│ {first}" in text, (first, text)


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
