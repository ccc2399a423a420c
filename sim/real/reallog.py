"""The result of reading a real export: :class:`RealLog`, an EventLog with what is needed to
speak the input's language again (original ids, timestamps in the input's format)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from sim.eventlog import EventLog
from sim.real.reports import ImportReport
from sim.real.timestamps import US_PER_DAY


@dataclass(frozen=True, eq=False)
class RealLog:
    """A real export as an EventLog, with what is needed to speak the input's language again.

    ``opportunities`` is the :data:`~sim.tables.OPPORTUNITIES` table (several per account, from
    an opportunities file, or one per account from the accounts file's outcome columns); None
    without outcomes. ``outcomes`` has one row per account code (``account_id``) with
    ``opportunity_date`` and ``close_date`` (float days since ``origin``, NaN where empty),
    ``won`` (nullable boolean) and ``value`` (float): the account's first ``new_business``
    opportunity (what calibration reads); None without outcomes.
    ``time_pattern`` is the strftime pattern ``to_timestamps`` uses; ``outcome_time_format`` is
    ``"date"`` when every outcome date is a plain date (the truth rule then works by day).
    """

    log: EventLog
    origin: pd.Timestamp
    time_format: Literal["date", "datetime"]
    account_labels: np.ndarray
    contact_labels: np.ndarray
    outcomes: pd.DataFrame | None
    report: ImportReport
    time_pattern: str = "%Y-%m-%d"
    outcome_time_format: Literal["date", "datetime"] | None = None
    buying_roles: np.ndarray | None = None  # per contact code: the recorded buying role, or ""
    opportunities: pd.DataFrame | None = None  # sim.tables.OPPORTUNITIES (None: no outcomes)

    def to_timestamps(self, days) -> np.ndarray:
        """Float days since ``origin`` → timestamps as text in the input's format (object array;
        NaN → ""). Dates are the day the time falls on; date-times are rounded to the input's
        precision (whole seconds, or microseconds if the input had fractions)."""
        d = np.asarray(days, dtype=float)
        out = np.full(d.shape, "", dtype=object)
        ok = np.isfinite(d)
        if ok.any():
            us = np.round(d[ok] * US_PER_DAY).astype(np.int64)
            base = self.origin.tz_localize(None) if self.origin.tz is not None else self.origin
            ts = pd.DatetimeIndex(np.datetime64(base, "us") + us.astype("timedelta64[us]"))
            if self.time_format == "date":
                ts = ts.floor("D")
            elif ".%f" not in self.time_pattern:
                ts = ts.round("s")
            out[ok] = np.asarray(ts.strftime(self.time_pattern), dtype=object)
        return out

    def label_accounts(self, codes) -> np.ndarray:
        """Account codes → the original account ids."""
        return self.account_labels[np.asarray(codes, dtype=np.int64)]

    def label_contacts(self, codes):
        """Contact codes → the original contact ids; −1 (anonymous) → empty: "" for text ids,
        <NA> (a pandas Int64 array, written empty to CSV) for integer ids."""
        c = np.asarray(codes, dtype=np.int64)
        known = c >= 0
        if self.contact_labels.dtype.kind in "iu":
            vals = np.zeros(c.shape, dtype=np.int64)
            vals[known] = self.contact_labels[c[known]]
            return pd.arrays.IntegerArray(vals, ~known)
        out = np.full(c.shape, "", dtype=object)
        out[known] = self.contact_labels[c[known]]
        return out
