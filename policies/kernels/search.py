"""Binary searches within groups, made exact: numpy searches one sorted array, so groups are
laid side by side on composite keys (``group * span + value``); those keys round, and
:func:`settle` moves each insertion point to the exact one with comparisons on the original
floats."""

from __future__ import annotations

from typing import Literal

import numpy as np

Side = Literal["left", "right"]


def grouped_searchsorted(
    group: np.ndarray, values: np.ndarray, q_group: np.ndarray, q_value: np.ndarray, side: Side
) -> np.ndarray:
    """``searchsorted`` within groups: ``values`` sorted by (group, value) with ``group`` a
    non-decreasing int array; per query the insertion index of ``q_value`` inside its group's
    block (``side`` as numpy's). Comparisons are settled on the exact floats."""
    if values.size == 0:
        return np.zeros(q_value.size, dtype=np.int64)
    starts = np.searchsorted(group, q_group, side="left")
    ends = np.searchsorted(group, q_group, side="right")
    lo_v = min(values.min(), q_value.min()) if q_value.size else values.min()
    span = max(values.max(), q_value.max() if q_value.size else values.max()) - lo_v + 1.0
    keys = group * span + (values - lo_v)
    q = np.searchsorted(keys, q_group * span + (q_value - lo_v), side=side)
    return settle(np.clip(q, starts, ends), starts, ends, values, q_value, side)


def settle(q, starts, ends, values, q_value, side: Side) -> np.ndarray:
    """Move approximate insertion points ``q`` (found on rounded composite keys) to the exact
    ones within [starts, ends]: the first index whose value is not on the left of the query
    (``<`` for side "left", ``<=`` for "right")."""

    def before(i):  # is values[i] strictly on the left side of the query?
        v = values[np.clip(i, 0, values.size - 1)]
        return v < q_value if side == "left" else v <= q_value

    while True:
        m = (q > starts) & ~before(q - 1)
        if not m.any():
            break
        q[m] -= 1
    while True:
        m = (q < ends) & before(q)
        if not m.any():
            break
        q[m] += 1
    return q
