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

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["convert_times", "strptime"]

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
    try:
        parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        back = pc.strftime(parsed, format=fmt)
    except (pa.ArrowException, ValueError):
        return pd.Series(_reference(s, fmt), index=s.index)
    same = pc.fill_null(pc.equal(back, text), False).to_numpy(zero_copy_only=False)
    out = parsed.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
    redo = ~same & s.notna().to_numpy()
    if redo.any():
        out[redo] = _reference(s[redo], fmt)
    return pd.Series(out, index=s.index)


def _iso(parsed: pd.Series) -> pd.Series:
    """ISO text to the second: UTC with a ``Z`` for aware times, ``YYYY-MM-DD HH:MM:SS`` for
    naive ones; "" for NaT."""
    aware = getattr(parsed.dtype, "tz", None) is not None
    naive = parsed.dt.tz_convert("UTC").dt.tz_localize(None) if aware else parsed
    text = np.datetime_as_string(naive.to_numpy(dtype="datetime64[ns]").astype("datetime64[s]"))
    out = pd.Series(text, index=parsed.index, dtype=object)
    out = out + "Z" if aware else out.str.replace("T", " ", regex=False)
    return out.where(parsed.notna().to_numpy(), "")


def convert_times(
    col: pd.Series, timezone: str | None, fmt: str | None
) -> tuple[pd.Series, np.ndarray]:
    """Text timestamps → ISO text (UTC with a Z when a time zone is set or given); bad rows.
    Plain ISO dates (2024-03-01: no clock) stay dates, never shifted by a time zone."""
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
    if getattr(parsed.dtype, "tz", None) is None and timezone:
        # the repeated hour when clocks go back is taken as its first occurrence (DST); a
        # time in the skipped hour when they go forward is moved forward to valid time
        first = np.ones(len(parsed), dtype=bool)
        parsed = parsed.dt.tz_localize(timezone, ambiguous=first, nonexistent="shift_forward")
    bad = parsed.isna().to_numpy() & ~empty & ~plain
    return _iso(parsed).where(~plain, s), bad
