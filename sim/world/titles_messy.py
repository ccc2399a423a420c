"""Job titles as people and CRMs really type them: abbreviations, expansions, case and
punctuation (``data_quality.title_variants`` and the titles of duplicate records).

>>> variants("Vice President, Engineering")[::3]
['VP, Eng', 'Vice President Engineering']
>>> variants("Director of IT")[0], variants("VP Security")[0], variants("CISO")[1]
('Dir. IT', 'Vice President Security', 'ciso')
"""

from __future__ import annotations

import re
from functools import lru_cache

# Whole-word replacements, longest first: the spelled-out form and its common abbreviation.
_ABBREVIATIONS = (
    ("Chief Information Security Officer", "CISO"),
    ("Information Technology", "IT"),
    ("Information Security", "InfoSec"),
    ("Vice President", "VP"),
    ("Senior", "Sr."),
    ("Director", "Dir."),
    ("Engineering", "Eng"),
    ("Engineer", "Eng."),
    ("Manager", "Mgr"),
    ("Operations", "Ops"),
    ("Management", "Mgmt"),
)


def _abbreviate(title: str) -> str:
    out = title
    for long, short in _ABBREVIATIONS:
        out = re.sub(rf"\b{re.escape(long)}\b", short, out)
    return re.sub(r"\s+of\s+", " ", out)


def _expand(title: str) -> str:
    out = title
    for long, short in _ABBREVIATIONS:
        if short == "IT":  # "IT" is also a department name: expanding it is rarely done
            continue
        out = re.sub(rf"(?<![\w.]){re.escape(short)}(?![\w])", long, out)
    return out


def _plain(title: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[,.()]", " ", title)).strip()


@lru_cache(maxsize=4096)
def _variants(title: str) -> tuple[str, ...]:
    short = _abbreviate(title)
    first = short if short != title else _expand(title)
    out = [first, title.lower(), title.upper(), _plain(title)]
    return tuple(v if v != title else title.lower() + "." for v in out)


def variants(title: str) -> list[str]:
    """Four ways of typing ``title``, each different from it: abbreviated (or, when nothing
    abbreviates, expanded), lower case, upper case, without punctuation (or, when it has
    none, in lower case without it). (Cached: titles come from a catalogue.)"""
    return list(_variants(title))
