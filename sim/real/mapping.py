"""The mapping file of ``qualsim import``: how a team's export names its columns and
activities, its time zone and timestamp format, and what to do with duplicate rows (see
:mod:`sim.real.importer` for the file's format)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sim.config.chain import ConfigFile, validate_model
from sim.config.strict_yaml import did_you_mean, read_yaml_file
from sim.real.inputs import INPUT_COLUMNS
from sim.vocab import ACTIVITIES

__all__ = ["FileMapping", "Mapping", "load_mapping"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileMapping(_Strict):
    """How one raw file maps to a canonical one: ``columns`` (qualsim name -> the export's
    column), its own ``timestamp_format``, ``activities`` (export name -> qualsim activity),
    ``ignore_activities`` (system events, not touches) and ``duplicates`` (keep or drop)."""

    columns: dict[str, Annotated[str, Field(min_length=1)]] = {}
    timestamp_format: str | None = None  # this file's own format (default: the top-level one)
    activities: dict[str, str] = {}
    ignore_activities: list[str] = []
    duplicates: Literal["keep", "drop"] = "keep"

    @field_validator("activities")
    @classmethod
    def _vocab(cls, v: dict[str, str]) -> dict[str, str]:
        bad = {k: a for k, a in v.items() if a not in ACTIVITIES}
        if bad:
            k, a = next(iter(bad.items()))
            raise ValueError(
                f"{k!r} maps to {a!r}, not a qualsim activity{did_you_mean(a, ACTIVITIES)}; "
                f"expected one of {', '.join(ACTIVITIES)}"
            )
        return v


class Mapping(_Strict):
    """A mapping file: the ``timezone`` of naive timestamps, the default ``timestamp_format``
    (strptime; default ISO 8601) and one :class:`FileMapping` per file."""

    timezone: str | None = None
    timestamp_format: str | None = None
    events: FileMapping = FileMapping()
    contacts: FileMapping = FileMapping()
    accounts: FileMapping = FileMapping()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            pd.Timestamp("2024-01-01").tz_localize(v)
        except Exception:
            raise ValueError(
                f"unknown time zone {v!r} (expected e.g. Europe/Berlin, UTC)"
            ) from None
        return v

    @field_validator("events", "contacts", "accounts")
    @classmethod
    def _targets(cls, v: FileMapping, info) -> FileMapping:
        allowed = INPUT_COLUMNS[info.field_name]
        bad = [k for k in v.columns if k not in allowed]
        if bad:
            raise ValueError(
                f"columns: {bad[0]!r} is not a qualsim {info.field_name} column"
                f"{did_you_mean(bad[0], allowed)}; expected some of {', '.join(allowed)}"
            )
        return v


def load_mapping(path: str | Path | None) -> Mapping:
    """Read and validate a mapping file (no file: the identity mapping)."""
    if path is None:
        return Mapping()
    data, lines = read_yaml_file(path)
    return validate_model(Mapping, data or {}, [ConfigFile(Path(path), data, lines)], "mapping")
