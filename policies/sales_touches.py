"""Where a policy names sales touches (``sim.vocab.SALES_ACTIVITIES``): a policy that does not
include them may not name them (:class:`policies.schema.PolicyBase` checks it).

>>> sales_named({"points": {"meeting": 5, "webinar": 2}, "any": [{"activities": ["call"]}]})
[(('points', 'meeting'), 'meeting'), (('any', 0, 'activities', 0), 'call')]
"""

from __future__ import annotations

from typing import Any

from sim.vocab import SALES_ACTIVITIES

# Where a policy names activities: lists under these keys, dicts keyed by activity under those.
_ACTIVITY_LISTS, _ACTIVITY_KEYED = ("activities",), ("points", "activity_weights")


def sales_named(
    data: Any, among: tuple[str, ...] = SALES_ACTIVITIES, loc: tuple = ()
) -> list[tuple[tuple, str]]:
    """Every (field path, sales activity) named in a policy's data: in an ``activities`` list
    or as a key of ``points`` / ``activity_weights``, at any depth (conditions, stages).
    ``among``: the activities looked for (``sim.vocab.SYSTEM_ACTIVITIES``: system events)."""
    out: list[tuple[tuple, str]] = []
    if isinstance(data, dict):
        for k, v in data.items():
            if k in _ACTIVITY_LISTS and isinstance(v, list):
                out += [((*loc, k, i), a) for i, a in enumerate(v) if a in among]
            elif k in _ACTIVITY_KEYED and isinstance(v, dict):
                out += [((*loc, k, a), a) for a in v if a in among]
            else:
                out += sales_named(v, among, (*loc, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += sales_named(v, among, (*loc, i))
    return out
