"""Field types shared by every config file kind (scenarios, policies, sweeps, suites, mappings).

Numbers are strict: YAML's ``yes`` or ``"3"`` is not silently taken for 1 or 3.0 (an int passes
where a float is expected). Sections are :class:`Strict`: unknown keys are errors (with a "did
you mean" hint) and values are immutable.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Float = Annotated[float, Field(strict=True)]
Int = Annotated[int, Field(strict=True)]
Probability = Annotated[float, Field(strict=True, ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(strict=True, gt=0.0)]
NonNegFloat = Annotated[float, Field(strict=True, ge=0.0)]
Count = Annotated[int, Field(strict=True, ge=0)]

SUM_TOLERANCE = 1e-6


class Strict(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def sums_to_one(weights: dict, what: str = "probabilities") -> dict:
    """``weights`` unchanged, or ValueError unless they are non-empty and sum to 1."""
    total = math.fsum(weights.values())
    if weights and abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(f"{what} must sum to 1, got {total:.6g}")
    if not weights:
        raise ValueError(f"{what}: at least one entry is required")
    return weights


def require_all(mapping: dict, names: tuple[str, ...], what: str) -> dict:
    """``mapping`` unchanged, or ValueError naming the ``names`` it lacks."""
    missing = [n for n in names if n not in mapping]
    if missing:
        raise ValueError(f"{what}; missing: {', '.join(missing)}")
    return mapping
