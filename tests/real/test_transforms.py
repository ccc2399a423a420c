"""The vectorised transforms of a mapping (sim/real/transforms.py) against row-by-row
reference implementations written from the documented rules, on random inputs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.real.importer as imp
from sim.real.import_times import strptime
from sim.real.mapping import Bins, Mapping, RowFilter
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


FORMATS = ["%m/%d/%Y %I:%M:%S %p", "%d.%m.%Y %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S"]


@st.composite
def stamps(draw) -> tuple[str, list[str | None]]:
    """A format and cells: its own output, unpadded or lower-case variants, impossible dates
    (30 February, 31 April, second 60) and junk."""
    fmt = draw(st.sampled_from(FORMATS))
    cells: list[str | None] = []
    for _ in range(draw(st.integers(0, 12))):
        y, mo = draw(st.integers(1990, 2030)), draw(st.integers(1, 12))
        d, h = draw(st.integers(1, 31)), draw(st.integers(0, 23))
        mi, sec = draw(st.integers(0, 59)), draw(st.integers(0, 61))
        text = (
            fmt.replace("%Y", f"{y:04d}")
            .replace("%m", f"{mo:02d}")
            .replace("%d", f"{d:02d}")
            .replace("%I", f"{(h % 12) or 12:02d}")
            .replace("%H", f"{h:02d}")
            .replace("%M", f"{mi:02d}")
            .replace("%S", f"{sec:02d}")
            .replace("%p", "AM" if h < 12 else "PM")
        )
        kind = draw(st.sampled_from(["as is", "unpadded", "lower", "junk", "none", "spaces"]))
        if kind == "unpadded":
            text = text.replace("/0", "/").replace(".0", ".").lstrip("0")
        elif kind == "lower":
            text = text.lower()
        elif kind == "junk":
            text = text + draw(st.sampled_from(["x", " Z", "0", ""]))
        elif kind == "spaces":
            text = text.replace(" ", "  ")
        cells.append(None if kind == "none" else text)
    return fmt, cells


@settings(max_examples=300, deadline=None)
@given(stamps())
def test_fast_strptime_agrees_with_pandas(case: tuple[str, list[str | None]]) -> None:
    fmt, cells = case
    s = pd.Series(cells, dtype=object)
    want = pd.to_datetime(s, format=fmt, errors="coerce").to_numpy(dtype="datetime64[ns]")
    got = strptime(s, fmt).to_numpy(dtype="datetime64[ns]")
    np.testing.assert_array_equal(got, want)


def test_strptime_refuses_the_30th_of_february() -> None:
    s = pd.Series(["02/28/2024 10:00:00 AM", "02/30/2024 10:00:00 AM", "4/1/2024 1:05:00 pm"])
    got = strptime(s, "%m/%d/%Y %I:%M:%S %p").tolist()
    assert got[0] == pd.Timestamp("2024-02-28 10:00") and got[2] == pd.Timestamp("2024-04-01 13:05")
    assert pd.isna(got[1])  # C's strptime would give 1 March


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xy")), max_size=40),
    st.integers(1, 7),
)
def test_duplicates_across_chunks_match_pandas(rows: list[tuple[str, str]], size: int) -> None:
    """Row hashes kept across chunks drop exactly what one drop_duplicates over the file
    drops (the first occurrence kept)."""
    df = pd.DataFrame(rows, columns=["a", "b"], dtype=object)
    conv = imp._Converter(Path("x.csv"), "events", Path("o.csv"), Mapping(), False)
    kept = []
    for start in range(0, len(df), size):
        chunk = df.iloc[start : start + size].reset_index(drop=True)
        kept.extend(conv._drop_duplicates(chunk, np.ones(len(chunk), dtype=bool)).tolist())
    assert kept == (~df.duplicated()).tolist()
    assert conv.summary.duplicates_dropped == int(df.duplicated().sum())
