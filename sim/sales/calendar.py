"""The SDR team's time: a work calendar (office hours on workdays) and a priority queue.

Day 0 of a scenario is a Monday at 00:00; times are float days.
"""

from __future__ import annotations

import bisect
import math

import simpy


class _InsortQueue(simpy.resources.resource.SortedQueue):
    """SimPy's priority queue, kept sorted by binary insertion instead of a full sort per
    request (same order: a new request goes after the equal keys, as a stable sort puts it)."""

    def append(self, item) -> None:
        if self.maxlen is not None and len(self) >= self.maxlen:
            raise RuntimeError("Cannot append event. Queue is full.")
        bisect.insort_right(self, item, key=lambda e: e.key)


class SDRTeam(simpy.PriorityResource):
    """The SDRs: a ``simpy.PriorityResource`` (lower priority values first, then first come,
    first served) with an insertion-sorted queue, fast when hundreds of handoffs wait."""

    PutQueue = _InsortQueue


class WorkCalendar:
    """Working time: ``clock(t)`` is the working hours elapsed from day 0 to day ``t``;
    ``start_at(h)`` the first moment the clock reads ``h`` (the start of a work period when ``h``
    falls on a boundary), ``end_at(h)`` the earliest such moment (the end of the previous one).

    >>> cal = WorkCalendar(5, (9.0, 17.0))
    >>> cal.clock(0.5), cal.clock(1.0), cal.clock(7.0)   # Monday noon, Monday done, one week
    (3.0, 8.0, 40.0)
    >>> cal.start_at(8.0) * 24, cal.end_at(8.0) * 24     # Tuesday 9:00; Monday 17:00
    (33.0, 17.0)
    >>> cal.start_at(cal.clock(4.9)) == 7 + 9 / 24       # Friday night -> Monday 9:00
    True
    """

    def __init__(self, workdays_per_week: int, working_hours: tuple[float, float]):
        self.wd = int(workdays_per_week)
        self.h0, self.h1 = float(working_hours[0]), float(working_hours[1])
        self.length = self.h1 - self.h0

    def clock(self, t: float) -> float:
        day = math.floor(t)
        week, dow = divmod(day, 7)
        done = week * self.wd + min(dow, self.wd)
        today = 0.0
        if dow < self.wd:
            today = min(max((t - day) * 24.0 - self.h0, 0.0), self.length)
        return done * self.length + today

    def _day(self, k: int) -> int:
        week, i = divmod(k, self.wd)
        return week * 7 + i

    def _split(self, h: float) -> tuple[int, float]:
        """(whole work periods, hours into the next) of a clock reading; a reading within
        rounding error (1e-12 relative) of a period boundary is that boundary: ``clock`` and
        these invert each other only up to rounding, and a boundary must not turn into the end
        of the day before (an SDR freed on Friday at 17:00 starts again on Monday)."""
        q = h / self.length
        k = round(q)
        if abs(q - k) <= 1e-12 * max(1.0, abs(q)):
            return k, 0.0
        k = math.floor(q)
        return k, h - k * self.length

    def start_at(self, h: float) -> float:
        k, rem = self._split(h)
        return self._day(k) + (self.h0 + rem) / 24.0

    def end_at(self, h: float) -> float:
        k, rem = self._split(h)
        if rem == 0.0 and k > 0:
            return self._day(k - 1) + self.h1 / 24.0
        return self._day(k) + (self.h0 + rem) / 24.0
