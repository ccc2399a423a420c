"""Lazy package APIs (PEP 562): a package lists its public names and the module defining each;
a name is imported on first use, so importing the package costs almost nothing."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_api(
    package: str, names: dict[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``names`` maps each public name to the
    module that defines it; a resolved name is stored in ``namespace`` (the package's globals),
    so later lookups are plain attribute reads."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *names})

    return __getattr__, __dir__
