"""Pieces shared by the score-based kinds (``mql``, ``weighted_titles``): whole-word title
matching, and the memo key of a scoring rule (what its scores depend on)."""

from __future__ import annotations

import json
import re

import numpy as np
from pydantic import BaseModel


def title_regex(phrases: list[str]) -> re.Pattern:
    """A case-insensitive pattern matching any of ``phrases`` as whole words: the phrase's
    words (runs of letters, digits and ``_``) consecutive in the title, whatever separates
    them there ("chief information security" matches "Chief Information-Security Officer")."""
    alts = [r"\W+".join(re.escape(w) for w in re.findall(r"\w+", p)) for p in phrases]
    alts = [a for a in alts if a] or [r"(?!x)x"]  # a phrase without words never matches
    return re.compile(rf"(?<!\w)(?:{'|'.join(alts)})(?!\w)", re.IGNORECASE)


def first_matching(
    titles: np.ndarray, entries: list[tuple[list[str], float]], default: float
) -> np.ndarray:
    """Per title, the value of the first entry with a phrase matching it (else ``default``)."""
    uniq, inverse = np.unique(
        np.asarray([t if isinstance(t, str) else "" for t in titles], dtype=object).astype(str),
        return_inverse=True,
    )
    values = np.full(uniq.size, float(default))
    done = np.zeros(uniq.size, dtype=bool)
    for phrases, value in entries:
        pat = title_regex(phrases)
        hit = np.array([bool(pat.search(u)) for u in uniq], dtype=bool) & ~done
        values[hit] = value
        done |= hit
    return values[inverse]


def score_key(policy: BaseModel) -> str:
    """What a policy's scores depend on: everything but its name, threshold and recycling
    (a threshold sweep shares one score computation, memoised on the Frame)."""
    data = policy.model_dump(mode="json", exclude={"name", "threshold", "recycle_days"})
    return json.dumps(data, sort_keys=True, default=str)
