"""The columnar read path of ``sim.real.read_log`` against its plain references, on random
inputs: dictionary-encoded keys vs per-row ``id_keys``, keys and timestamps straight from Arrow
vs from the column converted to pandas, Arrow's timestamp parse vs pandas', the radix sort vs
numpy's stable sort, Arrow's CSV reading vs pandas', duplicates counted only within shared
(account, time) vs every row compared, and Parquet read dictionary-encoded or not.
"""

from __future__ import annotations

import string
from concurrent.futures import ThreadPoolExecutor
from unittest.mock import patch

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sim.errors import DataError
from sim.real import read_log
from sim.real import timestamps as ts
from sim.real.conversions import (
    arrow_key_table,
    arrow_keys,
    as_text,
    first_seen,
    first_seen_reference,
    id_keys,
    key_codes,
    positions_in,
    sorted_codes,
    stable_order,
    take_as,
    text_series,
)
from sim.real.events_file import (
    contact_columns,
    contact_columns_reference,
    label_positions,
    read_event_rows,
)
from sim.real.formats import _repeated, encode_halves, encode_known, read_parquet
from sim.real.read import _source
from sim.real.sources import (
    TEXT_CSV,
    TEXT_DTYPE,
    Source,
    as_pandas,
    repeated_reference,
)
from sim.real.timestamps import (
    US_PER_DAY,
    TimeFrame,
    parse_times,
    parse_times_arrow,
    parse_times_reference,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TMP = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

ids = st.sampled_from(["A1", " A1", "A1 ", "a1", "007", "7", "", "  ", "Ä", "x y"])


@st.composite
def id_columns(draw) -> pd.Series:
    kind = draw(st.sampled_from(["object", "str", "category", "int", "float"]))
    n = draw(st.integers(0, 25))
    if kind in ("int", "float"):
        vals = draw(st.lists(st.integers(-3, 10**12), min_size=n, max_size=n))
        col = pd.Series(vals, dtype=np.int64 if kind == "int" else float)
        if kind == "float" and n:
            col[draw(st.lists(st.booleans(), min_size=n, max_size=n))] = np.nan
            if draw(st.booleans()):
                col.iloc[0] = 0.5  # not a whole number: read as text
        return col
    vals = draw(st.lists(st.one_of(ids, st.none()), min_size=n, max_size=n))
    if kind == "object":
        return pd.Series(vals, dtype=object)
    col = pd.Series(vals, dtype=TEXT_DTYPE)
    return col.astype("category") if kind == "category" else col


@SETTINGS
@given(id_columns(), st.booleans())
@example(pd.Series(["B", "", None, "B"], dtype=TEXT_DTYPE).astype("category"), True)
@example(pd.Series(["  ", None, "A"], dtype=object), False)
def test_key_codes_match_the_per_row_keys(col, as_ids):
    keys = key_codes(col, ids=as_ids)
    if as_ids:
        expected, typed = id_keys(col)
        assert keys.typed_int == typed
    else:
        expected = as_text(col)
    assert list(keys.text()) == list(expected)
    assert len(set(keys.labels)) == len(keys.labels)  # distinct texts merged


@SETTINGS
@given(id_columns(), st.integers(0, 3))
@example(pd.Series([" VP ", None, "", "Ä"], dtype=TEXT_DTYPE), 0)
def test_text_series_is_the_text_as_a_series(col, start):
    """Stripped in Arrow where the column is Arrow text: the same texts as ``as_text``, in
    the same text dtype, indexed from 0 whatever the column's index."""
    col.index = range(start, start + len(col))
    got = text_series(col)
    pd.testing.assert_series_equal(got, pd.Series(as_text(col), dtype=str))


def test_key_codes_hand_worked():
    keys = key_codes(pd.Series([" A1", "A1", None, "007", "7"], dtype=object))
    assert [keys[i] for i in range(5)] == ["A1", "A1", "", "007", "7"]
    assert keys.codes[0] == keys.codes[1] and len(keys.labels) == 4
    typed = key_codes(pd.Series([7.0, np.nan, 12.0]))
    assert typed.typed_int and list(typed.text()) == ["7", "", "12"]


digits = st.text("0123456789", min_size=1, max_size=3)


@st.composite
def timestamps(draw) -> str:
    """ISO-ish text: valid and invalid dates, clocks, fractions, offsets, spaces, junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(string.printable, max_size=12))
    y = draw(st.sampled_from(["2024", "1999", "24", "2100"]))
    m = draw(st.sampled_from(["01", "02", "12", "13", "1"]))
    d = draw(st.sampled_from(["01", "28", "29", "30", "31", "00"]))
    out = f"{y}-{m}-{d}"
    if draw(st.booleans()):
        h = draw(st.sampled_from(["00", "09", "23", "24"]))
        out += draw(st.sampled_from(["T", " "])) + f"{h}:" + draw(st.sampled_from(["00", "59"]))
        if draw(st.booleans()):
            out += ":" + draw(st.sampled_from(["00", "30", "60"]))
            if draw(st.booleans()):
                out += "." + draw(st.text("0123456789", min_size=1, max_size=9))
        out += draw(st.sampled_from(["", "", "Z", "+02:00", "-0500", "+01", " +02:00", "+2:00"]))
    pad = draw(st.sampled_from(["", " ", "\t"]))
    return pad + out + draw(st.sampled_from(["", " "]))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(timestamps(), st.none()), max_size=30))
@example(["2024-01-01 10:00:00.250", "2024-01-02 10:00:00", None, "2024-02-30"])
@example(["2024-01-01T10:00:00+02:00", "2024-01-01T10:00:00 +0200", " 2024-01-01T10:00Z "])
@example(["2024-01-01T10:00:00.1234567", "2024-01-01T24:00:00", "2024-01-01"])
def test_arrow_timestamps_match_pandas(texts):
    fast = parse_times(pd.Series(texts, dtype=TEXT_DTYPE))
    ref = parse_times_reference(pd.Series(texts, dtype=object))
    np.testing.assert_array_equal(fast.values, ref.values)
    for part in ("bad", "date", "aware", "naive"):
        np.testing.assert_array_equal(getattr(fast, part), getattr(ref, part), err_msg=part)
    assert (fast.sep, fast.fraction) == (ref.sep, ref.fraction)
    assert list(fast.text) == list(ref.text)


def test_arrow_timestamps_hand_worked():
    t = parse_times(
        pd.Series(
            ["2024-03-01", " 2024-03-01T14:30:00Z", "2024-02-30 10:00:00", ""], dtype=TEXT_DTYPE
        )
    )
    assert list(t.values[:2].astype(str)) == [
        "2024-03-01T00:00:00.000000",
        "2024-03-01T14:30:00.000000",
    ]
    assert list(t.bad) == [False, False, True, True]  # no 30 February; empty
    assert list(t.date) == [True, False, False, False] and list(t.aware) == [
        False,
        True,
        False,
        False,
    ]
    assert t.text_at(1) == "2024-03-01T14:30:00Z"


@SETTINGS
@given(
    st.lists(st.integers(0, 2**40), max_size=200),
    st.integers(1, 70_000),
    st.sampled_from([np.uint16, np.int32, np.int64]),
)
def test_radix_order_is_numpys_stable_order(values, modulo, dtype):
    codes = np.asarray(values, dtype=np.int64) % modulo % min(np.iinfo(dtype).max, 2**40)
    codes = codes.astype(dtype)
    np.testing.assert_array_equal(stable_order(codes), np.argsort(codes, kind="stable"))


cells = st.sampled_from(["a", " b ", "", "x,y", 'say "hi"', "two\nlines", "007", "é"])


@SETTINGS
@given(
    st.lists(st.integers(0, 70_000), max_size=200), st.sampled_from([np.int8, np.int32, np.int64])
)
def test_codes_counted_out_match_codes_gathered_in_order(values, dtype):
    codes = np.array(values, dtype=np.int64) % (min(np.iinfo(dtype).max, 70_000) + 1)
    got = sorted_codes(codes.astype(dtype))
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, codes[np.argsort(codes, kind="stable")])


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 9), st.booleans()), max_size=60),
    st.lists(st.booleans(), min_size=10, max_size=10),
    st.integers(1, 8),
    st.sampled_from([np.int16, np.uint16, np.int32]),
)
@example([(3, True), (1, False), (1, True), (3, True), (2, True)], [False] * 10, 2, np.int16)
def test_first_seen_codes_match_the_unique_codes_of_the_kept_rows(rows, skip, block, dtype):
    codes = np.array([c for c, _ in rows], dtype=dtype)
    keep = np.array([k for _, k in rows], dtype=bool)
    skip = np.array(skip)
    with patch("sim.real.conversions.BLOCK", block):
        got = first_seen(codes, keep, skip)
    np.testing.assert_array_equal(got, first_seen_reference(codes, keep, skip))


def test_first_seen_hand_worked():
    codes = np.array([4, 1, 4, 2, 1, 3], dtype=np.int16)
    keep = np.array([True, False, True, True, True, True])
    skip = np.zeros(5, dtype=bool)
    assert first_seen(codes, keep, skip).tolist() == [4, 2, 1, 3]  # the first 1 is not kept
    skip[[2, 4]] = True
    assert first_seen(codes, keep, skip).tolist() == [1, 3]


def test_codes_counted_out_hand_worked():
    np.testing.assert_array_equal(sorted_codes(np.array([3, 0, 3, 1])), [0, 1, 3, 3])


@TMP
@given(st.integers(1, 4), st.data(), st.booleans())
def test_arrow_csv_reads_what_pandas_reads(tmp_path_factory, ncols, data, bom):
    rows = data.draw(st.lists(st.lists(cells, min_size=ncols, max_size=ncols), max_size=6))
    frame = pd.DataFrame(rows, columns=[f" c{k} " for k in range(ncols)])
    path = tmp_path_factory.mktemp("csv") / "events.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8")
    fast = Source(path, "contacts", [], []).df if rows else None
    if fast is None:
        return  # a header without rows is an error either way
    ref = pd.read_csv(path, **TEXT_CSV)
    ref.columns = [str(c).strip() for c in ref.columns]
    assert list(fast.columns) == list(ref.columns)
    for c in ref.columns:
        assert list(fast[c].astype(object)) == list(ref[c].astype(object))


EVENT_HEADER = "timestamp,account_id,contact_id,activity,channel\n"


@TMP
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["2024-01-01", "2024-01-01T10:00:00", "2024-01-01 10:00:00", "2024-01-02"]
            ),
            st.sampled_from(["c1", "c2", "c3", ""]),
            st.sampled_from(["web_visit", "webinar"]),
            st.sampled_from(["web", " web", "email"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_duplicates_match_every_row_compared(tmp_path_factory, rows):
    owner = {"c1": "A1", "c2": "A1", "c3": "A2", "": "A3"}
    lines = [f"{t},{owner[c]},{c},{a},{ch}" for t, c, a, ch in rows]
    d = tmp_path_factory.mktemp("dup")
    (d / "events.csv").write_text(EVENT_HEADER + "\n".join(lines) + "\n")
    (d / "contacts.csv").write_text("contact_id,account_id,title\nc1,A1,x\nc2,A1,y\nc3,A2,z\n")
    real = read_log(d / "events.csv", d / "contacts.csv")
    ref = pd.read_csv(d / "events.csv", **TEXT_CSV).apply(lambda c: c.str.strip())
    assert real.report.duplicate_events == int(ref.duplicated().sum())
    ev = real.log.events  # sorted by (account, time), stable
    order = np.lexsort((ev["time"].to_numpy(), ev["account_id"].to_numpy()))
    np.testing.assert_array_equal(order, np.arange(len(ev)))


def test_parquet_read_dictionary_encoded_or_not_gives_the_same_log(tmp_path):
    rng = np.random.default_rng(3)
    n = 4000
    contacts = np.array([f"C{k}" for k in range(1500)], dtype=object)  # many distinct: plain
    who = rng.integers(0, len(contacts), n)
    table = pa.table(
        {
            "timestamp": pa.array(
                np.datetime64("2024-01-01", "s") + rng.integers(0, 10**7, n).astype("m8[s]")
            ),
            "account_id": [f"A{k // 10}" for k in who],  # repeated: read dictionary-encoded
            "contact_id": contacts[who],
            "activity": rng.choice(["web_visit", "webinar", "email_open"], n),
        }
    )
    pq.write_table(table, tmp_path / "events.parquet", row_group_size=1000)
    people = pd.DataFrame(
        {"contact_id": contacts, "account_id": [f"A{k // 10}" for k in range(1500)], "title": "x"}
    )
    people.to_csv(tmp_path / "contacts.csv", index=False)
    table.to_pandas().assign(
        timestamp=lambda f: f["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    ).to_csv(tmp_path / "events.csv", index=False)
    a = read_log(tmp_path / "events.parquet", tmp_path / "contacts.csv").log.events
    b = read_log(tmp_path / "events.csv", tmp_path / "contacts.csv").log.events
    pd.testing.assert_frame_equal(a, b)
    with patch("sim.real.formats.SPLIT_ROWS", 100):  # the contact ids encoded in halves
        read, _ = read_parquet(tmp_path / "events.parquet", ("contact_id", "activity"))
        assert pa.types.is_dictionary(read.column("contact_id").type)
        c = read_log(tmp_path / "events.parquet", tmp_path / "contacts.csv").log.events
        d = read_log(tmp_path / "events.csv", tmp_path / "contacts.csv").log.events
    pd.testing.assert_frame_equal(c, a)
    pd.testing.assert_frame_equal(d, a)


def test_parquet_events_long_text_read_plain_are_encoded_right_after_the_read(tmp_path):
    """Long text columns that Parquet read as plain text come dictionary-encoded in two halves
    (each with its own dictionary), holding the same values; the repeated ones stay as Parquet
    read them, and the timestamps, short columns and other files are left as text."""
    n = 600
    table = pa.table(
        {
            " contact_id": [f"C{k}" if k % 7 else None for k in range(n)],  # distinct: plain
            "account_id": [f"A{k % 3}" for k in range(n)],  # repeated: Parquet's dictionary
            "timestamp": [f"2024-01-{1 + k % 28:02d}" for k in range(n)],
            "other": [f"x{k}" for k in range(n)],  # not an events column: not read
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path, row_group_size=200)
    known = ("contact_id", "account_id", "timestamp")
    with patch("sim.real.formats.SPLIT_ROWS", 100):
        read, found = read_parquet(path, known)
    assert found == ["contact_id", "account_id", "timestamp", "other"]
    assert read.column_names == list(known)
    contact = read.column("contact_id")
    assert pa.types.is_dictionary(contact.type) and contact.num_chunks == 2
    assert contact.to_pylist() == table.column(" contact_id").to_pylist()
    assert pa.types.is_dictionary(read.column("account_id").type)
    assert read.column("timestamp").type == pa.string()
    assert read.column("account_id").to_pylist() == table.column("account_id").to_pylist()
    with patch("sim.real.formats.SPLIT_ROWS", 601):  # shorter than that: left as text
        assert read_parquet(path, known)[0].column("contact_id").type == pa.string()
    assert not pa.types.is_dictionary(read_parquet(path, None)[0].column(" contact_id").type)


def test_csv_contact_ids_encoded_against_the_contacts_give_the_same_log_and_messages(tmp_path):
    """A long CSV contact_id column is encoded against the contacts' ids: ids written with
    spaces, blank and unknown ones give the same log, report and messages as without."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("contact_id,account_id\nc1,A1\n c2 ,A1\nc3,A2\n")
    ids = ["c1", " c1", "c2", "", "c3 ", "zz", "c2", "c1"]
    lines = [
        f"2024-01-{k + 1:02d},{'A2' if 'c3' in i else 'A1'},{i},web_visit"
        for k, i in enumerate(ids)
    ]
    events = tmp_path / "events.csv"
    events.write_text("timestamp,account_id,contact_id,activity\n" + "\n".join(lines) + "\n")
    with patch("sim.real.formats.SPLIT_ROWS", 2):
        with patch("sim.real.events_file.arrow_text", lambda values: None):  # no contacts' ids
            plain = read_log(events, contacts, skip_bad_rows=True)
            with pytest.raises(DataError) as without:
                read_log(events, contacts)
        with patch("sim.real.formats.encode_known", wraps=encode_known) as spy:
            hinted = read_log(events, contacts, skip_bad_rows=True)
            with pytest.raises(DataError) as told:
                read_log(events, contacts)
    assert spy.call_count == 4  # two halves, twice
    assert spy.call_args.kwargs["known"].to_pylist() == ["c1", "c2", "c3", ""]
    pd.testing.assert_frame_equal(hinted.log.events, plain.log.events)
    assert str(hinted.report) == str(plain.report)
    assert hinted.report.events.skipped == {"unknown_contact": 1}
    assert str(told.value) == str(without.value) and "'zz'" in str(told.value)


@TMP
@given(
    st.lists(
        st.lists(st.one_of(st.sampled_from(["A", "B", "C", "Ä", ""]), st.none()), min_size=1),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from([0.05, 0.3, 0.6, 1.0]),
    st.booleans(),
    st.integers(1, 30),
)
def test_repeated_columns_judged_by_dictionary_size_match_distinct_counts(
    tmp_path_factory, columns, share, dictionary_pages, group
):
    n = min(len(c) for c in columns)
    table = pa.table({f"c{k}": pa.array(c[:n], pa.string()) for k, c in enumerate(columns)})
    path = tmp_path_factory.mktemp("rep") / "t.parquet"
    pq.write_table(table, path, use_dictionary=dictionary_pages, row_group_size=group)
    with (
        patch("sim.real.formats._REPEATED_SHARE", share),
        patch("sim.real.sources._REPEATED_SHARE", share),
    ):
        assert _repeated(path, table.column_names) == repeated_reference(path, table.column_names)


def test_repeated_columns_hand_worked(tmp_path):
    # 20 rows in the first row group: 5% allows 1 distinct value
    table = pa.table(
        {
            "one": ["x"] * 20 + ["y", "z"],
            "two": ["x", "y"] * 11,
            "nulls": [None] * 19 + ["x"] + ["y", "z"],
        }
    )
    for pages in (True, False):
        pq.write_table(table, tmp_path / "t.parquet", use_dictionary=pages, row_group_size=20)
        assert _repeated(tmp_path / "t.parquet", ["one", "two", "nulls"]) == ["one", "nulls"]


@pytest.mark.parametrize("share", [0.5, 0.8, 1.0])
def test_repeated_counts_the_row_group_where_the_writer_fell_back_to_plain_pages(tmp_path, share):
    # 60,000 distinct 24-character ids: past the writer's 1 MiB dictionary page limit, so the
    # dictionary page holds only the first of them (fewer than 48,000, which share 0.8 allows)
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [f"{k:024d}" for k in range(60_000)]}), path)
    page = next(pq.ParquetFile(path, read_dictionary=["id"]).iter_batches(10)).column(0)
    assert 30_000 < len(page.dictionary) < 48_000
    with (
        patch("sim.real.formats._REPEATED_SHARE", share),
        patch("sim.real.sources._REPEATED_SHARE", share),
    ):
        assert _repeated(path, ["id"]) == repeated_reference(path, ["id"])
        assert repeated_reference(path, ["id"]) == ([] if share < 1 else ["id"])


@SETTINGS
@given(id_columns(), st.lists(st.sampled_from(["A1", "7", "x y", "007"]), max_size=6))
@example(pd.Series(["A1", "", " A1", "zz"], dtype=object), ["A1"])
def test_contact_columns_match_the_row_by_row_reference(col, people):
    keys = key_codes(col)
    contacts = pd.Index(pd.unique(np.asarray(people, dtype=object)))
    accounts = np.arange(len(contacts), dtype=np.int64) * 3 + 1
    with patch("sim.real.conversions._ARROW_LOOKUP", 0):  # Arrow's lookup, as on big files
        fast = contact_columns(keys, contacts, accounts)
    ref = contact_columns_reference(keys, contacts, accounts)
    # and straight from an Arrow column's chunks, as read_log does
    arrow = pa.chunked_array([pa.array(col, from_pandas=True)])
    straight = contact_columns(arrow_key_table(arrow), contacts, accounts)
    for name in ("codes", "anonymous", "known", "account"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(ref, name), err_msg=name)
        np.testing.assert_array_equal(getattr(straight, name), getattr(ref, name), err_msg=name)


@SETTINGS
@given(
    st.lists(st.one_of(ids, st.none()), max_size=30),
    st.integers(1, 4),
    st.sampled_from([pa.string(), pa.large_string()]),
)
@example(["A1", "B", "A1", None, "", "B"], 1, pa.string())
def test_encoding_in_halves_gives_the_keys_of_one_encoding(vals, chunks, kind):
    """Two halves, each with its own dictionary, merged by arrow_key_table: the same keys
    (text, codes per distinct text) as the column encoded at once."""
    arrow = pa.chunked_array([pa.array(vals[k::chunks], kind) for k in range(chunks)], type=kind)
    with patch("sim.real.formats.SPLIT_ROWS", 2), ThreadPoolExecutor(2) as pool:
        halves = encode_halves(arrow, pool)()
    if len(arrow) >= 2:
        assert pa.types.is_dictionary(halves.type) and len(halves) == len(arrow)
    split, whole = arrow_key_table(halves).keys(), arrow_key_table(arrow).keys()
    assert list(split.text()) == list(whole.text())
    assert split.typed_int == whole.typed_int
    assert sorted(split.labels) == sorted(whole.labels)  # one label per distinct text


@SETTINGS
@given(
    st.lists(st.one_of(ids, st.none()), max_size=30),
    st.lists(st.one_of(ids, st.none()), max_size=8),
    st.integers(1, 4),
    st.sampled_from([pa.string(), pa.large_string()]),
)
@example(["A1", "B", None, "", "A1 "], ["A1", "A1", None], 2, pa.string())
@example(["A1", "", "A1"], ["A1", ""], 1, pa.large_string())  # every value known
def test_encoding_against_known_values_keeps_each_rows_value(vals, known, chunks, kind):
    """Encoded against the contacts' ids (some missing, some twice, a null): each row keeps its
    own value (nulls stay null), the dictionary starts with the known values, and each row's
    key is the one of the column encoded on its own."""
    arrow = pa.chunked_array([pa.array(vals[k::chunks], kind) for k in range(chunks)], type=kind)
    values = pa.array([k for k in known if k is not None], kind)
    encoded = encode_known(arrow, values)
    assert pa.types.is_dictionary(encoded.type) and len(encoded) == len(arrow)
    assert encoded.cast(kind).to_pylist() == arrow.to_pylist()
    # one dictionary for the whole column (never the known values once per chunk)
    assert len({c.dictionary.buffers()[-1].address for c in encoded.chunks}) <= 1
    for chunk in encoded.chunks:
        assert chunk.dictionary.slice(0, len(values)).to_pylist() == values.to_pylist()
        new = chunk.dictionary.slice(len(values)).to_pylist()
        assert len(set(new)) == len(new) and not set(new) & set(values.to_pylist())
    got, whole = arrow_key_table(encoded).keys(), arrow_key_table(arrow).keys()
    assert list(got.text()) == list(whole.text())
    # one label per distinct text; those of known ids no row holds as well (never looked up)
    assert len(set(got.labels)) == len(got.labels)
    assert (
        set(whole.labels)
        <= set(got.labels)
        <= set(whole.labels) | {k.strip() for k in values.to_pylist()}
    )


def test_rows_whose_ids_are_all_known_share_one_dictionary_with_no_copy():
    known = pa.array(["c1", "c2", "c3", ""])
    col = pa.chunked_array([pa.array(["c2", "", "c1"]), pa.array(["c3", None, "c2"])])
    encoded = encode_known(col, known)
    assert {c.dictionary.buffers()[1].address for c in encoded.chunks} == {
        known.buffers()[1].address
    }
    assert [i for c in encoded.chunks for i in c.indices.to_pylist()] == [1, 3, 0, 2, None, 1]


def test_ids_unknown_in_many_chunks_are_hashed_once_into_one_dictionary():
    """A CSV column comes in many blocks: an unknown or spaced id in each must not copy the
    contacts' ids into a dictionary per block."""
    known = pa.array([f"c{k}" for k in range(1000)] + [""])
    blocks = [pa.array(["c1", f" c{b}", "zz", None, "", f"c{b}"]) for b in range(50)]
    encoded = encode_known(pa.chunked_array(blocks), known)
    assert encoded.num_chunks == 1
    extra = encoded.chunks[0].dictionary.slice(len(known)).to_pylist()
    assert sorted(extra) == sorted(["zz", *(f" c{b}" for b in range(50))])
    assert encoded.cast(pa.string()).to_pylist() == pa.chunked_array(blocks).to_pylist()


def test_encoding_in_halves_against_the_contacts_gives_the_keys_of_one_encoding():
    col = pa.chunked_array([pa.array(["c2", "", "x", " c1", None, "c2", "c1", "x"])])
    with patch("sim.real.formats.SPLIT_ROWS", 2), ThreadPoolExecutor(2) as pool:
        halves = encode_halves(col, pool, pa.array(["c1", "c2", None]))()
        assert encode_halves(col, pool, pa.array([], pa.string()))().equals(
            encode_halves(col, pool)()
        )  # nothing known: encoded as without
    assert all(c.dictionary.to_pylist()[:3] == ["c1", "c2", ""] for c in halves.chunks)
    got, whole = arrow_key_table(halves).keys(), arrow_key_table(col).keys()
    assert list(got.text()) == list(whole.text())


def test_encoding_in_halves_leaves_other_columns_alone():
    ints = pa.chunked_array([pa.array([1, None, 3] * 3)])
    with patch("sim.real.formats.SPLIT_ROWS", 2), ThreadPoolExecutor(2) as pool:
        assert encode_halves(ints, pool)() is ints  # integer ids keep their own rule
        short = pa.chunked_array([pa.array(["a"])])
        assert encode_halves(short, pool)() is short


def test_checked_rows_let_go_of_what_only_the_messages_read(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("timestamp,account_id,contact_id,activity\n2024-01-01,A1,c1,web_visit\n")
    rows = read_event_rows(_source(path, "events"), pd.Index(["c1"]), np.array(["A1"], object))
    assert rows.contact_keys[0] == "c1" and rows.contact_account_at(0) == "A1"
    done = rows.checked()
    assert done.contact_table is None and done.contact_account is None
    assert done.anonymous is None and done.filled is None  # counted by kept_rows
    np.testing.assert_array_equal(done.contact_codes, rows.contact_codes)
    assert done.account_at(0) == "A1"
    with pytest.raises(RuntimeError, match="let go once the rows are checked"):
        done.contact_account_at(0)
    with pytest.raises(RuntimeError, match="let go once the rows are checked"):
        _ = done.contact_keys


def test_anonymous_and_filled_rows_are_counted_among_the_kept_rows_only(tmp_path):
    (tmp_path / "contacts.csv").write_text("contact_id,account_id\nc1,A1\n")
    (tmp_path / "events.csv").write_text(
        "timestamp,account_id,contact_id,activity\n"
        "2024-01-01,A1,,web_visit\n"  # anonymous
        "not a time,A1,,web_visit\n"  # anonymous, skipped
        "2024-01-02,,c1,web_visit\n"  # filled from its contact
        "2024-01-03,,c1,no_such_activity\n"  # filled, skipped
        "2024-01-04,A1,c1,web_visit\n"
    )
    report = read_log(tmp_path / "events.csv", tmp_path / "contacts.csv", skip_bad_rows=True).report
    assert report.events.skipped == {"bad_time": 1, "unknown_activity": 1}
    assert (report.anonymous_events, report.accounts_filled) == (1, 1)


def test_contact_columns_hand_worked():
    keys = key_codes(pd.Series(["c2", "", " c1", "c9", "c2"], dtype=object))
    got = contact_columns(keys, pd.Index(["c1", "c2"]), np.array([5, 8]))
    assert got.codes.tolist() == [1, -1, 0, -1, 1]
    assert got.anonymous.tolist() == [False, True, False, False, False]
    assert got.known.tolist() == [True, False, True, False, True]
    assert got.account.tolist() == [8, 0, 5, 0, 8]


def _pandas_column(col: pa.ChunkedArray) -> pd.Series:
    """The column as the files' pandas frames held it: the reference's input."""
    return as_pandas(pa.table({"v": col}))["v"]


@st.composite
def arrow_columns(draw) -> pa.ChunkedArray:
    """Text or integer columns in chunks: plain, dictionary-encoded with one dictionary
    shared by several chunks (as Parquet hands a row group over), or a dictionary per chunk
    (with values the others lack, unused ones, and nulls)."""
    kind = draw(st.sampled_from(["text", "int", "large"]))
    value = ids if kind != "int" else st.integers(-3, 10**12)
    vtype = {"text": pa.string(), "int": pa.int64(), "large": pa.large_string()}[kind]
    parts = draw(st.lists(st.lists(st.one_of(value, st.none()), max_size=8), max_size=4))
    how = draw(st.sampled_from(["plain", "shared", "own"]))
    if how == "plain":
        return pa.chunked_array([pa.array(p, vtype) for p in parts], vtype)
    if how == "own":
        chunks = [pa.array(p, vtype).dictionary_encode() for p in parts]
        return pa.chunked_array(chunks, pa.dictionary(pa.int32(), vtype))
    # one dictionary (with an unused value) shared by every chunk
    words = list(dict.fromkeys(v for p in parts for v in p if v is not None))
    words += [draw(value)]
    words = list(dict.fromkeys(words))
    dictionary = pa.array(words, vtype)
    chunks = [
        pa.DictionaryArray.from_arrays(
            pa.array([None if v is None else words.index(v) for v in p], pa.int32()), dictionary
        )
        for p in parts
    ]
    return pa.chunked_array(chunks, pa.dictionary(pa.int32(), vtype))


@SETTINGS
@given(arrow_columns(), st.booleans())
def test_keys_from_arrow_match_keys_of_the_pandas_column(col, as_ids):
    fast = arrow_keys(col, ids=as_ids)
    ref = key_codes(_pandas_column(col), ids=as_ids)
    assert list(fast.text()) == list(ref.text())
    assert list(fast.labels) == list(ref.labels)  # the same labels in the same order
    np.testing.assert_array_equal(fast.codes, ref.codes)
    assert fast.typed_int == ref.typed_int


def test_keys_from_arrow_hand_worked():
    shared = pa.array(["b", " a", "a"])
    idx = [pa.array([0, 1, None, 2], pa.int32()), pa.array([2, 0], pa.int32())]
    col = pa.chunked_array([pa.DictionaryArray.from_arrays(i, shared) for i in idx])
    keys = arrow_keys(col)
    assert list(keys.text()) == ["b", "a", "", "a", "a", "b"]  # " a" and "a" are one key
    assert list(keys.labels) == ["b", "a", ""] and keys.codes.dtype == np.int8
    typed = arrow_keys(pa.chunked_array([pa.array([7, None, 12])]))
    assert typed.typed_int and list(typed.text()) == ["7", "", "12"]
    # two row groups' dictionaries, shared by their chunks, unified into one set of keys
    first, second = pa.array(["x", "y"]), pa.array(["z", "y"])
    chunks = [
        pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), first),
        pa.DictionaryArray.from_arrays(pa.array([1, None], pa.int32()), first),
        pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), second),
    ]
    keys = arrow_keys(pa.chunked_array(chunks))
    assert list(keys.text()) == ["x", "y", "y", "", "z", "y"]
    assert list(keys.labels) == ["x", "y", "z", ""]


@st.composite
def typed_times(draw) -> pa.ChunkedArray:
    unit = draw(st.sampled_from(["s", "ms", "us", "ns"]))
    tz = draw(st.sampled_from([None, "UTC", "Europe/Paris"]))
    big = 10**12 if unit != "ns" else 10**15
    parts = draw(
        st.lists(st.lists(st.one_of(st.none(), st.integers(-big, big)), max_size=6), max_size=3)
    )
    if draw(st.booleans()) and unit == "s":
        parts.append([10**13])  # beyond datetime64[us] in seconds: pandas' path
    typ = pa.timestamp(unit, tz)
    col = pa.chunked_array([pa.array(p, pa.int64()).cast(typ) for p in parts], typ)
    if draw(st.booleans()) and len(col) > 2:
        col = col.slice(1)  # a chunk with an offset
    return col


@SETTINGS
@given(st.one_of(typed_times(), st.lists(st.one_of(timestamps(), st.none()), max_size=20)))
@example(pa.chunked_array([pa.array([0, None, 1500], pa.timestamp("ms", "UTC"))]))
def test_times_from_arrow_match_times_of_the_pandas_column(col):
    if isinstance(col, list):
        col = pa.chunked_array([pa.array(col, pa.string())])
    try:
        ref = parse_times(_pandas_column(col))
        ref_text = ref.text
    except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError, NotImplementedError):
        return  # pandas cannot hold or write it: nothing to compare
    fast = parse_times_arrow(col)
    np.testing.assert_array_equal(fast.values, ref.values)
    for part in ("bad", "date", "aware", "naive"):
        np.testing.assert_array_equal(getattr(fast, part), getattr(ref, part), err_msg=part)
    assert (fast.sep, fast.fraction) == (ref.sep, ref.fraction)
    rows = np.arange(len(col))[::-1]
    assert list(fast.text_of(rows)) == list(ref_text[rows])  # before the whole text is made
    assert list(fast.text) == list(ref_text)
    assert list(fast.text_of(rows)) == list(ref_text[rows])
    # a typed column is not kept for the messages: its values give it back
    assert not (isinstance(fast.raw, pa.ChunkedArray) and pa.types.is_timestamp(fast.raw.type))


def test_times_from_arrow_hand_worked():
    col = pa.chunked_array([pa.array([1_500, None], pa.timestamp("ms", "Europe/Paris"))])
    t = parse_times_arrow(col)
    assert t.values[0] == np.datetime64("1970-01-01T00:00:01.500", "us")  # UTC, as stored
    assert list(t.bad) == [False, True] and list(t.aware) == [True, False] and t.fraction
    assert t.text_at(0) == "1970-01-01 01:00:01.500+01:00"  # as pandas writes milliseconds


@SETTINGS
@given(st.lists(st.integers(0, 2**31 - 1), max_size=50), st.integers(1, 4), st.data())
def test_take_as_a_block_at_a_time_matches_a_whole_gather(values, block, data):
    codes = np.array(values, dtype=np.int32)
    rows = np.array(
        data.draw(st.lists(st.integers(0, max(len(values) - 1, 0)), max_size=30))
        if len(values)
        else [],
        dtype=np.int64,
    )
    with patch("sim.real.conversions.BLOCK", block):
        got = take_as(codes, rows, np.int64)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, codes[rows].astype(np.int64))


@SETTINGS
@given(
    st.lists(st.one_of(st.none(), st.integers(-(10**15), 10**15)), max_size=40),
    st.integers(1, 5),
)
@example([0, 1, None, 86_400_000_000], 1)
def test_days_and_fractions_a_block_at_a_time_match_whole_columns(micros, chunk):
    values = np.array(
        [np.datetime64("NaT") if m is None else np.datetime64(m, "us") for m in micros],
        dtype="datetime64[us]",
    )
    valid = ~np.isnat(values)
    origin = np.datetime64("2024-01-01", "us")
    frame = TimeFrame(pd.Timestamp(origin), origin, "datetime", "%Y")
    # the whole-column forms these replace
    ref = (values.view(np.int64) - origin.astype(np.int64)) / US_PER_DAY
    ref[~valid] = np.nan
    ref_fraction = bool(np.any(values[valid].astype(np.int64) % 1_000_000))
    with patch.object(ts, "CHUNK", chunk):
        np.testing.assert_array_equal(frame.days(values), ref)
        assert ts._has_fraction(values, valid) == ref_fraction


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.one_of(st.none(), st.integers(0, 10**12))), max_size=40
    ),
    st.integers(1, 5),
    st.booleans(),
)
@example([(1, 3), (0, 3), (1, 1)], 1, False)
def test_days_gathered_a_block_at_a_time_and_the_event_order_match_the_whole_columns(
    pairs, chunk, in_time_order
):
    from sim.real.read import _by_account_then_time

    if in_time_order:
        pairs = sorted(pairs, key=lambda p: -1 if p[1] is None else p[1])
    account = np.array([a for a, _ in pairs], dtype=np.int32)
    values = np.array(
        [np.datetime64("NaT") if m is None else np.datetime64(m, "us") for _, m in pairs],
        dtype="datetime64[us]",
    )
    origin = np.datetime64("2024-01-01", "us")
    frame = TimeFrame(pd.Timestamp(origin), origin, "datetime", "%Y")
    time = frame.days(values)
    # the reference: days first, then a stable sort by days and one by account
    if len(time) > 1 and not bool(np.all(time[1:] >= time[:-1])):
        by_time = np.argsort(time, kind="stable")
        ref = by_time[np.argsort(account[by_time], kind="stable")]
    else:
        ref = np.argsort(account, kind="stable")
    with patch.object(ts, "CHUNK", chunk):
        order = _by_account_then_time(account, values, frame)
        np.testing.assert_array_equal(order, ref)
        np.testing.assert_array_equal(frame.days_at(values, order), time[ref])


def test_parquet_events_read_only_the_known_columns_and_refuse_one_given_twice(tmp_path):
    events = pa.table(
        {
            " timestamp ": pa.array([np.datetime64("2024-01-02T10:00:00", "ms")]),
            "account_id": ["A1"],
            "contact_id": ["c1"],
            "activity": ["web_visit"],
            "note": ["not read"],
        }
    )
    pq.write_table(events, tmp_path / "events.parquet")
    (tmp_path / "contacts.csv").write_text("contact_id,account_id\nc1,A1\n")
    real = read_log(tmp_path / "events.parquet", tmp_path / "contacts.csv")
    assert real.report.events.ignored_columns == ("note",)
    assert real.report.events.rows_read == 1 and real.log.events["time"].tolist() == [10 / 24]
    twice = events.append_column("timestamp", pa.array([np.datetime64("2024-01-03", "ms")]))
    pq.write_table(twice, tmp_path / "twice.parquet")
    with pytest.raises(
        DataError, match=r"twice\.parquet: column 'timestamp' appears more than once"
    ):
        read_log(tmp_path / "twice.parquet", tmp_path / "contacts.csv")


# Text as files hold it (UTF-8: no lone surrogates)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=3)


@SETTINGS
@given(
    st.lists(st.one_of(ids, texts), unique=True, max_size=12),
    st.lists(st.one_of(ids, texts), max_size=30),
    st.sampled_from([object, "str"]),
)
@example(["A1", "7", ""], ["A1", "a1", "", "7"], "str")
def test_positions_in_match_get_indexer(keys, labels, dtype):
    index = pd.Index(np.asarray(keys, dtype=object), dtype=dtype)
    labels = np.asarray(labels, dtype=object)
    with patch("sim.real.conversions._ARROW_LOOKUP", 0):
        got = positions_in(index, labels)
    assert got.dtype == np.int32 and got.flags.writeable
    np.testing.assert_array_equal(got, index.get_indexer(labels))


@SETTINGS
@given(
    st.lists(st.one_of(ids, texts).filter(bool), unique=True, max_size=12),
    st.lists(st.one_of(ids, texts), max_size=12),
    st.booleans(),
)
@example(["A1", "7"], ["", "a1", "A1"], True)
def test_label_positions_match_get_indexer(keys, more, led):
    """Labels led by the contacts' keys (never "": the reader refuses an empty id) in order
    (as encoded against them) or not."""
    index = pd.Index(np.asarray(keys, dtype=object))
    labels = np.asarray((keys if led else []) + more, dtype=object)
    got = label_positions(index, labels)
    assert got.dtype == np.int32 and got.flags.writeable
    np.testing.assert_array_equal(got, index.get_indexer(labels))


def test_positions_in_falls_back_for_numbers():
    index = pd.Index([7, 12])
    with patch("sim.real.conversions._ARROW_LOOKUP", 0):
        got = positions_in(index, np.array([12, 3, 7], dtype=object))
    assert got.tolist() == [1, -1, 0]
