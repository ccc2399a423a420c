"""The dotted paths a sweep file names — a policy's grid paths, the uncertain scenario
parameters — and the messages when one is wrong: the sweep file's own line and path, and the
paths the user may have meant (nested ones included), never an internal placeholder.

>>> import policies
>>> p = policies.load_policy("mqa_count")
>>> suggest_path("rules.unique_contacts", field_paths(p.model_dump(by_alias=True)))
" (did you mean 'any.0.unique_contacts' or 'any.1.unique_contacts'?)"
"""

from __future__ import annotations

import difflib
from typing import Any

from sim.config.strict_yaml import MAX_SUGGESTIONS, did_you_mean

PLACEHOLDERS = ("<dict>: ", "<overrides>: ")  # the sources of configs built in memory


def field_paths(tree: Any, prefix: str = "") -> list[str]:
    """The dotted path of every leaf of a dumped config (lists by index, ``None`` included).

    >>> field_paths({"a": 1, "b": {"c": None, "d": [{"e": 2}]}, "f": []})
    ['a', 'b.c', 'b.d.0.e', 'f']
    """
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    out: list[str] = []
    for k, v in items:
        path = f"{prefix}{k}"
        if isinstance(v, dict | list) and v:
            out += field_paths(v, path + ".")
        else:
            out.append(path)
    return out


def numeric_paths(tree: Any) -> list[str]:
    """The paths of the numbers in a dumped config (what a grid can vary).

    >>> numeric_paths({"name": "x", "window_days": 30.0, "any": [{"unique_contacts": 4}]})
    ['window_days', 'any.0.unique_contacts']
    """
    return [p for p in field_paths(tree) if _is_number(_at(tree, p))]


def suggest_path(path: str, paths: list[str]) -> str:
    """``" (did you mean ...?)"`` for a dotted ``path`` among ``paths``: a path spelled nearly
    the same (or starting with it), else the paths whose last part is nearly ``path``'s last
    part (``rules.unique_contacts`` → ``any.0.unique_contacts``); ``""`` when none is.

    >>> suggest_path("threshhold", ["threshold", "fit.seniority.vp"])
    " (did you mean 'threshold'?)"
    >>> suggest_path("zzz", ["threshold"])
    ''
    """
    found = _closest(path, paths)
    if not found:
        hint = did_you_mean(path, paths)  # a start or a part of a path
        if hint:
            return hint
        tails = {p.rsplit(".", 1)[-1] for p in paths}
        close = set(difflib.get_close_matches(path.rsplit(".", 1)[-1], tails, n=3, cutoff=0.75))
        found = [p for p in paths if p.rsplit(".", 1)[-1] in close][:MAX_SUGGESTIONS]
    if not found:
        return ""
    shown = [f"'{p}'" for p in found]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    return f" (did you mean {listed}?)"


def _closest(path: str, paths: list[str]) -> list[str]:
    """The paths spelled nearly as ``path`` (ratio >= 0.6), all of those equally closest:
    ``any.7.unique_contacts`` is as near ``any.0...`` as ``any.1...``."""
    scored = [(difflib.SequenceMatcher(None, path, p).ratio(), p) for p in paths]
    best = max((r for r, _ in scored), default=0.0)
    return [p for r, p in scored if r >= 0.6 and r == best][:MAX_SUGGESTIONS]


def unknown_path(path: str, tree: Any, what: str, numbers: bool) -> str | None:
    """The message for a ``path`` that names no field of the dumped config ``tree`` (None when
    it names one): what has no such field, the paths meant, and with ``numbers`` (a grid) the
    numbers it could vary when no path is close."""
    if _exists(tree, path):
        return None
    known = field_paths(tree)
    hint = suggest_path(path, known)
    if not hint and numbers:
        shown = numeric_paths(tree)
        hint = f"; a grid can vary {', '.join(shown)}" if shown else ""
    return f"{what} has no field {path!r}{hint}"


def plain_reason(message: str) -> str:
    """A validation message about a config built in memory, without its heading and the
    placeholder it names for a source (``<dict>: window_days: must be > 0`` → ``window_days:
    must be > 0``): the caller names the real file and line.

    >>> plain_reason("invalid mql policy (1 problem):\\n  <dict>: threshold: must be > 0, got -1")
    'threshold: must be > 0, got -1'
    """
    lines = [x.strip() for x in message.splitlines()]
    problems = [x for x in lines if x.startswith(PLACEHOLDERS)]
    if not problems:
        return message
    return "; ".join(_strip(x) for x in problems)


def _strip(line: str) -> str:
    for p in PLACEHOLDERS:
        line = line.removeprefix(p)
    return line


def _at(tree: Any, path: str) -> Any:
    node = tree
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else _key(node, part)
    return node


def _exists(tree: Any, path: str) -> bool:
    try:
        _at(tree, path)
    except (KeyError, IndexError, TypeError, ValueError):
        return False
    return True


def _key(node: Any, part: str) -> Any:
    """``node[part]``, where a mapping may be keyed by numbers (tiers: ``1``)."""
    if not isinstance(node, dict):
        raise TypeError(part)
    if part in node:
        return node[part]
    if part.lstrip("-").isdigit() and int(part) in node:
        return node[int(part)]
    raise KeyError(part)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)
