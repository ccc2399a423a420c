"""Field types shared by every config file kind (scenarios, policies, sweeps, suites, mappings).

Numbers are strict: YAML's ``yes`` or ``"3"`` is not silently taken for 1 or 3.0 (an int passes
where a float is expected), and floats are finite: NaN and ±inf are errors (a NaN threshold never
fires, an infinite window never closes; the YAML reader refuses them too, these types refuse
them from dicts given through the API). Sections are :class:`Strict`: unknown keys are errors
(with a "did you mean" hint) and values are immutable.
"""

from __future__ import annotations

import math
import re
import time
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Float = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Int = Annotated[int, Field(strict=True)]
Probability = Annotated[float, Field(strict=True, ge=0.0, le=1.0, allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(strict=True, gt=0.0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(strict=True, ge=0.0, allow_inf_nan=False)]
Count = Annotated[int, Field(strict=True, ge=0)]

SUM_TOLERANCE = 1e-6


def strptime_format(fmt: str) -> str:
    """``fmt`` unchanged if it is a valid strptime format, else ValueError saying why.

    >>> strptime_format("%m/%d/%Y %I:%M %p")
    '%m/%d/%Y %I:%M %p'
    >>> strptime_format("%Y-%m-%d %Q")
    Traceback (most recent call last):
    ...
    ValueError: not a valid strptime format: 'Q' is a bad directive in format '%Y-%m-%d %Q'
    """
    try:
        time.strptime("", fmt)
    except ValueError as exc:
        if not str(exc).startswith("time data"):  # "time data '' does not match": a valid format
            raise ValueError(f"not a valid strptime format: {exc}") from None
    except re.error:
        raise ValueError("not a valid strptime format: a directive appears twice") from None
    return fmt


TimestampFormat = Annotated[str, AfterValidator(strptime_format)]
"""A strptime pattern (``%m/%d/%Y %I:%M %p``), checked when the config is read."""


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
