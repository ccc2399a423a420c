"""The vectorised transforms of a mapping (sim/real/transforms.py) against row-by-row
reference implementations written from the documented rules, on random inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.real.mapping import Bins, RowFilter
from sim.real.transforms import bin_values, filter_rows, map_values

WORDS = st.sampled_from(["", " ", "Won", " Won ", "Lost", "Open", "won", "7", "x"])
NUMBERS = st.one_of(
    st.sampled_from(["", "abc", "1e3", " 200 ", "-0", "nan", "inf"]),
    st.integers(-50, 2000).map(str),
    st.floats(-50, 2000, allow_nan=False).map(repr),
)


def _ref_bin(value: str, edges: list[float], labels: list[str]) -> tuple[str, bool, bool]:
    """(label, not a number, below the first edge) for one cell, by the documented rule."""
    v = value.strip()
    if v == "":
        return "", False, False
    try:
        x = float(v)
    except ValueError:
        return "", True, False
    if math.isnan(x):
        return "", True, False
    if x < edges[0]:
        return "", False, True
    label = labels[0]
    for edge, lab in zip(edges, labels, strict=True):
        if x >= edge:  # closed on the left
            label = lab
    return label, False, False


@settings(max_examples=200, deadline=None)
@given(
    st.lists(NUMBERS, max_size=30),
    st.lists(st.integers(-10, 1500), min_size=1, max_size=5, unique=True),
)
def test_bins_match_the_row_by_row_rule(cells: list[str], raw_edges: list[int]) -> None:
    edges = sorted(float(e) for e in raw_edges)
    labels = [f"L{i}" for i in range(len(edges))]
    got, not_number, below = bin_values(
        pd.Series(cells, dtype=object), Bins(column="c", edges=edges, labels=labels)
    )
    want = [_ref_bin(c, edges, labels) for c in cells]
    assert got.tolist() == [w[0] for w in want]
    assert not_number.tolist() == [w[1] for w in want]
    assert below.tolist() == [w[2] for w in want]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(WORDS, max_size=30),
    st.dictionaries(WORDS, st.sampled_from(["won", "lost", "open"]), max_size=4),
    st.sampled_from(["error", "keep", "empty"]),
)
def test_value_maps_match_the_row_by_row_rule(
    cells: list[str], table: dict[str, str], unmapped: str
) -> None:
    got, bad = map_values(pd.Series(cells, dtype=object), table, unmapped)  # type: ignore[arg-type]
    want, want_bad = [], []
    for c in cells:
        v = c.strip()
        if v in table:
            want.append(table[v])
            want_bad.append(False)
        elif v == "":
            want.append("")
            want_bad.append(False)
        else:
            want.append("" if unmapped == "empty" else v)
            want_bad.append(unmapped == "error")
    assert got.tolist() == want
    assert bad.tolist() == want_bad


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(WORDS, WORDS), max_size=30),
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.sampled_from(["equals", "in", "not_in"]),
            st.lists(WORDS.map(str.strip), min_size=1, max_size=3),
        ),
        max_size=3,
    ),
)
def test_filters_match_the_row_by_row_rule(rows: list[tuple[str, str]], specs: list) -> None:
    df = pd.DataFrame(rows, columns=["a", "b"], dtype=object)
    filters = [
        RowFilter.model_validate({"column": c, op: vals[0] if op == "equals" else vals})
        for c, op, vals in specs
    ]
    keep, counts = filter_rows(df, filters)
    want_keep, want_counts = [], {str(f): 0 for f in filters}
    for row in rows:
        cells = dict(zip(["a", "b"], (v.strip() for v in row), strict=True))
        failed = None
        for f in filters:
            values, inside = f.allowed
            if (cells[f.column] in values) != inside:
                failed = f
                break
        want_keep.append(failed is None)
        if failed is not None:
            want_counts[str(failed)] += 1
    assert keep.tolist() == want_keep
    assert counts == want_counts
    assert int(np.sum(keep)) + sum(counts.values()) == len(rows)
