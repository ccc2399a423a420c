"""Timestamps of a raw export, as ``qualsim import`` converts them: parsed with the mapping's
strptime format (or ISO 8601), localised to its time zone, written as ISO text.

:func:`strptime` has the semantics of ``pandas.to_datetime(format=..., errors="coerce")`` (the
reference, which a property test compares it with) at Arrow's speed: Arrow's C parser reads
every row, and a row whose parsed time does not print back, with the same format, to its own
text is parsed by pandas instead. That covers what the C parser reads differently: unpadded
numbers (``1/5/2024``), lower-case ``am``, and dates it rolls over (30 February becomes
1 March in C; pandas refuses it).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["convert_times", "out_of_range_text", "strptime"]

# Directives of the date part and the time part of a format parsed in parts.
_DATE_DIRECTIVES = set("YmdybB")
_TIME_DIRECTIVES = set("HIMSp")
# Directives Arrow's parser does not read as pandas does (or at all): always pandas.
_PANDAS_ONLY = ("%f", "%z", "%Z", "%:z", "%j", "%U", "%W", "%c", "%x", "%X", "%%")


def _reference(s: pd.Series, fmt: str) -> np.ndarray:
    return pd.to_datetime(s, format=fmt, errors="coerce").to_numpy(dtype="datetime64[ns]")


def strptime(s: pd.Series, fmt: str) -> pd.Series:
    """Naive times (datetime64[ns], NaT where a value does not parse or is missing) of text
    ``s`` in strptime format ``fmt``."""
    if any(d in fmt for d in _PANDAS_ONLY):
        return pd.Series(_reference(s, fmt), index=s.index)
    text = pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    parts = _date_and_time(fmt)
    if parts is None:
        return pd.Series(_checked(text, fmt), index=s.index)
    out = _by_parts(text, *parts)
    redo = np.isnat(out) & s.notna().to_numpy()
    if redo.any():
        out[redo] = _reference(s[redo], fmt)
    return pd.Series(out, index=s.index)


def _checked(text: pa.Array, fmt: str) -> np.ndarray:
    """Arrow's parse where it prints back to the text; pandas for the other rows."""
    try:
        parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        back = pc.strftime(parsed, format=fmt)
    except (pa.ArrowException, ValueError):
        return _reference(pd.Series(text.to_numpy(zero_copy_only=False), dtype=object), fmt)
    same = pc.fill_null(pc.equal(back, text), False).to_numpy(zero_copy_only=False)
    out = parsed.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
    redo = ~same & text.is_valid().to_numpy(zero_copy_only=False)
    if redo.any():
        rows = pd.Series(text.filter(pa.array(redo)).to_numpy(zero_copy_only=False), dtype=object)
        out[redo] = _reference(rows, fmt)
    return out


def _date_and_time(fmt: str) -> tuple[str, str] | None:
    """(date format, time format) when ``fmt`` is date directives, one space, then time
    directives (``%m/%d/%Y %I:%M %p``); else None."""
    head, space, tail = fmt.partition(" ")
    head_d, tail_d = set(re.findall(r"%(.)", head)), set(re.findall(r"%(.)", tail))
    if not space or not head_d or not tail_d or tail != tail.strip():
        return None
    if head_d <= _DATE_DIRECTIVES and tail_d <= _TIME_DIRECTIVES:
        return head, tail
    return None


def _parse_distinct(part: pa.Array, fmt: str) -> np.ndarray:
    """Parse each distinct value once, then spread the results."""
    coded = pc.dictionary_encode(part)
    parsed = _checked(coded.dictionary, fmt)
    idx = coded.indices.to_numpy(zero_copy_only=False)
    if coded.indices.null_count:
        idx = pc.fill_null(coded.indices, -1).to_numpy(zero_copy_only=False)
    out = np.full(len(idx), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = idx >= 0
    out[ok] = parsed[idx[ok]] if len(parsed) else out[ok]
    return out


def _by_parts(text: pa.Array, date_fmt: str, time_fmt: str) -> np.ndarray:
    """A date-time column parsed as its distinct dates and distinct times of day: a year of
    events has a few hundred dates and at most 86,400 times (NaT where either part fails; the
    caller gives those rows to pandas whole)."""
    parts = pc.extract_regex(text, r"^(?P<d>\S+)\s+(?P<t>\S.*)$")
    dates = _parse_distinct(pc.struct_field(parts, "d"), date_fmt)
    times = _parse_distinct(pc.struct_field(parts, "t"), time_fmt)
    return dates + (times - np.datetime64("1900-01-01", "ns"))


def _iso(parsed: pd.Series) -> pd.Series:
    """ISO text to the second: UTC with a ``Z`` for aware times, ``YYYY-MM-DD HH:MM:SS`` for
    naive ones; "" for NaT."""
    aware = getattr(parsed.dtype, "tz", None) is not None
    naive = parsed.dt.tz_convert("UTC").dt.tz_localize(None) if aware else parsed
    seconds = naive.to_numpy(dtype="datetime64[ns]").astype("datetime64[s]")
    text = pa.array(np.datetime_as_string(seconds, timezone="UTC" if aware else "naive"))
    if not aware:
        text = pc.replace_substring(text, "T", " ", max_replacements=1)
    text = pc.if_else(pa.array(np.isnat(seconds)), "", text)
    return pd.Series(text.to_numpy(zero_copy_only=False), index=parsed.index, dtype=object)


def _localized(parsed: pd.Series, timezone: str | None) -> pd.Series:
    """Naive times taken as local time in ``timezone`` (aware ones, or no zone: as they are).
    The repeated hour when clocks go back is taken as its first occurrence (DST); a time in
    the skipped hour when they go forward is moved forward to valid time."""
    if getattr(parsed.dtype, "tz", None) is not None or not timezone:
        return parsed
    first = np.ones(len(parsed), dtype=bool)
    return parsed.dt.tz_localize(timezone, ambiguous=first, nonexistent="shift_forward")


# ISO text whose year is before 1970 or from 2100 on (sim.real.time_range: the accepted range).
_FAR_YEAR = r"^\s*(?:0\d\d\d|1[0-8]\d\d|19[0-6]\d|2[1-9]\d\d|[3-9]\d\d\d)-"


def out_of_range_text(text: pd.Series) -> np.ndarray:
    """Per ISO text timestamp (as :func:`convert_times` gives): True where its year is outside
    1970..2099, the range ``read_log`` accepts (CRM placeholders such as ``9999-12-31``).

    >>> out_of_range_text(pd.Series(["2024-03-01", "9999-12-31 00:00:00", "0001-01-01", ""]))
    array([False,  True,  True, False])
    """
    arr = pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    far = pc.match_substring_regex(arr, _FAR_YEAR)
    return pc.fill_null(far, False).to_numpy(zero_copy_only=False)


def convert_times(
    col: pd.Series, timezone: str | None, fmt: str | None
) -> tuple[pd.Series, np.ndarray]:
    """Text timestamps → ISO text (UTC with a Z when a time zone is set or given); bad rows.
    Plain ISO dates (2024-03-01: no clock) stay dates, never shifted by a time zone; a typed
    timestamp column (Parquet) is taken as it is, never parsed."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return _iso(_localized(col, timezone)), np.zeros(len(col), dtype=bool)
    s = col.astype(str).str.strip()
    empty = (s == "").to_numpy()
    if fmt is None and timezone is None:
        return s, np.zeros(len(s), dtype=bool)  # read_log parses (and reports) ISO text
    plain = s.str.fullmatch(r"\d{4}-\d{2}-\d{2}").to_numpy(dtype=bool)
    if plain.all():
        return s, np.zeros(len(s), dtype=bool)
    todo = s.where(~empty & ~plain)
    if fmt is None:
        parsed = pd.to_datetime(todo, format="ISO8601", errors="coerce", utc=False)
    else:
        parsed = strptime(todo, fmt)
    parsed = _localized(parsed, timezone)
    bad = parsed.isna().to_numpy() & ~empty & ~plain
    return _iso(parsed).where(~plain, s), bad
