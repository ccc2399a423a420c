"""Who the CRM knows: a person it does not know touches as an anonymous visitor of their account
and gets no marketing email, until a form fill identifies them (O4 in docs/sources.md: only part
of a buying group is known before they raise a hand).

The touches are drawn as if everyone were known; :func:`identify` then applies what the CRM
could see: before a person's first form fill (content download, webinar, event or demo request)
their web touches lose their contact and their email touches never happened. The form fill
itself, and everything after it, is theirs.
"""

from __future__ import annotations

import numpy as np

from sim.vocab import MARKETING_ACTIVITIES

FORM_FILLS = ("content_download", "webinar", "event", "demo_request")
EMAILS = ("email_open", "email_click")
_FORM_CODES = [MARKETING_ACTIVITIES.index(a) for a in FORM_FILLS]
_EMAIL_CODES = [MARKETING_ACTIVITIES.index(a) for a in EMAILS]


def identify(
    cols: dict[str, np.ndarray], known_from_start: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The touch columns as the CRM records them, and each contact's ``t_known``: 0 for people
    known from the start, the time of their first form fill for the others (NaN if none).

    ``cols`` are the drawn touches (contact ids index ``known_from_start``); row order is kept.
    """
    contact, time, act = cols["contact_id"], cols["time"], cols["activity"]
    person = contact >= 0
    unknown = person.copy()
    unknown[person] = ~known_from_start[contact[person]]
    form = unknown & np.isin(act, _FORM_CODES)
    first = np.full(known_from_start.size, np.inf)
    np.minimum.at(first, contact[form], time[form])
    before = unknown.copy()
    before[unknown] = time[unknown] < first[contact[unknown]]
    dropped = before & np.isin(act, _EMAIL_CODES)
    anonymous = before & ~dropped
    out = {k: v[~dropped] for k, v in cols.items()}
    out["contact_id"] = np.where(anonymous, -1, contact).astype(contact.dtype)[~dropped]
    t_known = np.where(known_from_start, 0.0, np.where(np.isfinite(first), first, np.nan))
    return out, t_known
