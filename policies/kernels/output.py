"""The qualifications rows every evaluator returns: the output contract of
:data:`sim.tables.QUALIFICATIONS` (columns, dtypes), built in one place."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from policies.kernels.frame import Frame
from sim.tables import QUALIFICATIONS

QUALIFICATION_COLUMNS = QUALIFICATIONS.names


def empty_qualifications() -> pd.DataFrame:
    """A qualifications table with no rows (the right columns and dtypes)."""
    return QUALIFICATIONS.empty()


def rows(
    name: str,
    account: np.ndarray,
    time: np.ndarray,
    rule: Any,
    score: Any = np.nan,
    contact: np.ndarray | None = None,
    stage: str = "",
    value: np.ndarray | None = None,
) -> pd.DataFrame:
    """Qualification rows (the output contract) from per-handoff arrays (``rule``, ``score``
    may be one value for every row); with ``value``, a sweep's ``value`` column after them."""
    data = {
        "policy": name,
        "account_id": account,
        "contact_id": np.full(len(account), -1, dtype=np.int64) if contact is None else contact,
        "time": time,
        "rule": rule,
        "score": score,
        "stage": stage,
    }
    if value is not None:
        data["value"] = value
    return pd.DataFrame(data, copy=False)


def qualifications(
    policy: Any,
    f: Frame,
    at: np.ndarray,
    rule: Any,
    score: Any = np.nan,
    contact: np.ndarray | None = None,
    stage: str = "",
) -> pd.DataFrame:
    """The qualifications rows of ``policy``'s handoffs at event indices ``at`` of ``f``."""
    if at.size == 0:
        return empty_qualifications()
    return rows(policy.name, f.account[at], f.time[at], rule, score, contact, stage)


def strings(names: list[str], codes: np.ndarray) -> Any:
    """``names[codes]`` as a string column, built from a dictionary where pandas stores
    strings in Arrow (the same dtype as from an object array, without a per-row conversion)."""
    obj = np.array(names, dtype=object)
    dtype = pd.Series(obj[:1]).dtype
    if codes.size > 1000 and getattr(dtype, "storage", None) == "pyarrow":
        try:
            arr = pa.DictionaryArray.from_arrays(
                pa.array(codes.astype(np.int32)), pa.array(names, type=pa.large_string())
            ).cast(pa.large_string())
            return pd.array(arr, dtype=dtype)
        except Exception:  # pragma: no cover - any trouble: the plain conversion below
            pass
    return obj[codes] if codes.size else np.array([], dtype=object)
