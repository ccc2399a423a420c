"""What calibrating produces: each :class:`Estimate` (value, standard error, sample size), the
:class:`Calibration` (estimates, the scenario overrides they make, the notes) and its YAML file,
and :class:`Fit`, what the steps of :func:`~sim.real.calibration.calibrate` fill in, in order.

>>> est = Estimate(0.42, 0.013, 1450)
>>> est.comment()
'0.42 ± 0.013 (n=1450)'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.files import write_text
from sim.world.presets import load_scenario
from sim.world.scenario import Scenario

# How much history an estimate needs.
MIN_ACCOUNTS = 30
MIN_OPPORTUNITIES = 20
MIN_CLOSED = 10


@dataclass(frozen=True)
class Estimate:
    """One estimated quantity: value, standard error (NaN when not available), sample size."""

    value: float
    se: float
    n: int
    note: str = ""

    def comment(self) -> str:
        se = "" if not np.isfinite(self.se) else f" ± {self.se:.2g}"
        note = f"; {self.note}" if self.note else ""
        return f"{self.value:.4g}{se} (n={self.n}){note}"


@dataclass(frozen=True, eq=False)
class Calibration:
    """The result of :func:`calibrate`: estimates, the scenario overrides they make, the notes.

    ``estimates`` is keyed by the dotted scenario path an estimate sets (e.g.
    ``touches.identification_rate``) or by a descriptive name (``win_rate``, ...);
    ``overrides`` is what the fitted scenario changes on top of ``base``; ``phase_rates`` holds
    the observed rates per phase and activity; ``distances`` the preset distances (see
    :func:`closest_preset`).
    """

    base: str
    estimates: dict[str, Estimate]
    overrides: dict[str, Any]
    notes: tuple[str, ...]
    phase_rates: pd.DataFrame
    distances: dict[str, float] = field(default_factory=dict)
    n_accounts: int = 0
    horizon_days: float = 0.0
    # Parameters this history cannot identify, with the reason (never printed as estimates).
    unidentified: dict[str, str] = field(default_factory=dict)

    def scenario(self) -> Scenario:
        """The fitted scenario, validated (the one :meth:`to_yaml` writes)."""
        return load_scenario(self.base, overrides={**self.overrides, "extends": self.base})

    def table(self) -> pd.DataFrame:
        """Every estimate as a row: name, value, se, n, note."""
        return pd.DataFrame(
            [(k, e.value, e.se, e.n, e.note) for k, e in self.estimates.items()],
            columns=["name", "value", "se", "n", "note"],
        )

    def unidentified_table(self) -> pd.DataFrame:
        """Every parameter the history cannot identify: parameter, reason."""
        return pd.DataFrame(list(self.unidentified.items()), columns=["parameter", "reason"])

    def to_yaml(self, path: str | Path) -> Path:
        """Write a scenario that ``extends:`` the base preset and overrides the fitted fields,
        each commented with its estimate ± standard error and sample size."""
        path = Path(path)
        lines = [
            "# Fitted by qualsim calibrate: each number is an estimate ± standard error",
            "# (n = sample size). Not identified from the history, kept from the preset:",
            *(f"#   - {n}" for n in self.notes),
            *(
                ["# Not identifiable from this history (not estimates):"]
                if self.unidentified
                else []
            ),
            *(f"#   - {k}: {why}" for k, why in self.unidentified.items()),
            f"extends: {self.base}",
        ]
        lines += _yaml_lines(self.overrides, (), self.estimates, 0)
        return write_text(path, "\n".join(lines) + "\n")  # atomic; errors name the path


@dataclass
class Fit:
    """What the steps of calibrating fill in, in the order they run (the order of the table
    and of the YAML file): estimates by name, the scenario overrides, the notes on what was not
    identified."""

    estimates: dict[str, Estimate] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unidentified: dict[str, str] = field(default_factory=dict)

    def set(self, path: str, value: Any) -> None:
        """Override the scenario field at the dotted ``path`` (digits are tier keys)."""
        _set_path(self.overrides, path, value)

    def not_identified(self, path: str, reason: str) -> None:
        """List the parameter at ``path`` as not identifiable (with why), never as an estimate."""
        self.estimates.pop(path, None)
        self.unidentified[path] = reason


def _set_path(tree: dict, path: str, value: Any) -> None:
    """Set ``tree[a][b]...[z] = value`` for the dotted path ``a.b...z``, making the levels."""
    parts = path.split(".")
    node = tree
    for p in parts[:-1]:
        key: Any = int(p) if p.isdigit() else p
        node = node.setdefault(key, {})
    node[int(parts[-1]) if parts[-1].isdigit() else parts[-1]] = value


# YAML output


def _num(v: Any) -> str:
    if isinstance(v, bool | str):
        return str(v).lower() if isinstance(v, bool) else _quote(v)
    if isinstance(v, int | np.integer):
        return str(int(v))
    return np.format_float_positional(float(v), precision=10, fractional=False, trim="-")


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_lines(node: dict, path: tuple, est: dict[str, Estimate], depth: int) -> list[str]:
    pad = "  " * depth
    out = []
    for k, v in node.items():
        p = (*path, str(k))
        key = ".".join(p)
        if isinstance(v, dict) and v:
            out.append(f"{pad}{k}:")
            out += _yaml_lines(v, p, est, depth + 1)
            continue
        if isinstance(v, dict):
            text = "{}"
        elif isinstance(v, list | tuple):
            text = "[" + ", ".join(_num(x) for x in v) + "]"
        else:
            text = _num(v)
        comment = f"  # {est[key].comment()}" if key in est else ""
        out.append(f"{pad}{k}: {text}{comment}")
    return out
