"""The timestamps a real log accepts: from 1970-01-01 up to, not including, 2100-01-01.

CRM exports write placeholder dates for "none" (``9999-12-31``, ``0001-01-01``, ``1900-01-01``);
read as real times they stretch the log over millennia (its origin moves to year 1, and every
per-week figure shrinks towards zero) without any error. An event outside the range is a bad
row: it stops the import naming the file, line and value, or with ``skip_bad_rows``
(``--skip-bad-rows``) it is dropped and counted under ``time_out_of_range`` in the report.

>>> import numpy as np
>>> out_of_range(np.array(["2024-03-01", "9999-12-31", "0001-01-01", "NaT"], "datetime64[us]"))
array([False,  True,  True, False])
"""

from __future__ import annotations

import numpy as np

from sim.errors import DataError
from sim.real.conversions import first_true
from sim.real.sources import Source
from sim.real.timestamps import Times

EARLIEST = np.datetime64("1970-01-01", "us")
END = np.datetime64("2100-01-01", "us")  # the first time no longer accepted
RANGE_TEXT = (
    "expected a time from 1970-01-01 to 2099-12-31 (CRM placeholder dates such as "
    "9999-12-31 or 0001-01-01 are not times)"
)


def out_of_range(values: np.ndarray) -> np.ndarray:
    """Per value (datetime64): True where it is a time before 1970 or from 2100 on (NaT:
    False, a missing time is reported as such)."""
    v = values.astype("datetime64[us]", copy=False)
    return (v < EARLIEST) | (v >= END)


def check_in_range(src: Source, column: str, times: Times) -> None:
    """Raise ``DataError`` naming the file, line and value of the first time of ``column``
    out of range (outcome dates: an empty cell, not a placeholder, means none)."""
    bad = out_of_range(times.values)
    if bad.any():
        i = first_true(bad)
        raise DataError(
            src.at(
                i,
                f"{column} '{times.text_at(i)}' out of range: {RANGE_TEXT}; leave the "
                "cell empty where there is no date",
            )
        )
