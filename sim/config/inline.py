"""Errors of a config written inside another file (a policy inline in a test file or in a
combinator's ``policies``): validated on its own, its problems name a placeholder source
(``<dict>``) and a path inside it; :func:`relocate` names the real file, the line and the full
field path instead.

>>> from sim.config.strict_yaml import load_yaml
>>> text = "policy:\\n  name: x\\n  window_dayz: 30\\n"
>>> data, lines = load_yaml(text, "cases.yaml")
>>> msg = "invalid policy (1 problem):\\n  <dict>: window_dayz: unknown key 'window_dayz'"
>>> print(relocate(msg, "cases.yaml", lines, ("policy",), data))
invalid policy (1 problem):
  cases.yaml:3: policy.window_dayz: unknown key 'window_dayz'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sim.config.strict_yaml import FieldPath, LineMap, format_path

# One problem line of sim.config.chain.validate_model about a config with no file of its own.
_PROBLEM = re.compile(r"^\s*<(?:dict|config|overrides)>(?::\d+)?: (?P<path>[^:]*): (?P<msg>.*)$")
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def relocate(
    message: str, file: str | Path, lines: LineMap, prefix: FieldPath, data: Any = None
) -> str:
    """``message`` with each problem of the inline config moved to ``file``, at the line of its
    field (``prefix`` is where the inline config sits in ``file``; ``data`` the whole loaded
    document, to tell list indices from numeric keys). Other lines are kept as they are."""
    out = []
    for text in message.splitlines():
        m = _PROBLEM.match(text)
        if m is None:
            out.append(text)
            continue
        full = (*prefix, *parse_path(m["path"]))
        line = lines.line_of(full)
        where = f"{file}:{line}" if line else str(file)
        out.append(f"  {where}: {format_path(full, data)}: {m['msg']}")
    return "\n".join(out)


def parse_path(text: str) -> tuple[str | int, ...]:
    """A field path as :func:`~sim.config.strict_yaml.format_path` writes it, back as a tuple
    (``(top level)``: the empty path).

    >>> parse_path("any[0].unique_contacts"), parse_path("tiers.1.any[0]")
    (('any', 0, 'unique_contacts'), ('tiers', 1, 'any', 0))
    >>> parse_path("(top level)")
    ()
    """
    if text == "(top level)":
        return ()
    parts: list[str | int] = []
    for name, index in _PART.findall(text):
        if index:
            parts.append(int(index))
        else:
            parts.append(int(name) if name.isdigit() else name)
    return tuple(parts)
