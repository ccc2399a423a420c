"""The mapping file of ``qualsim import``: how a team's export names its columns and
activities, which rows count, how its values translate to qualsim's, its time zone and
timestamp format, and what to do with duplicate rows (see :mod:`sim.real.importer` for the
file's format and :mod:`sim.real.transforms` for what each part does to a row).

A mapping is configuration, not code: it reads no file and runs nothing; a value it does not
expect is reported by the importer with the raw file's line and that value only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from sim.config.chain import ConfigFile, validate_model
from sim.config.strict_yaml import did_you_mean, read_yaml_file
from sim.config.types import TimestampFormat
from sim.real.inputs import INPUT_COLUMNS
from sim.vocab import ACTIVITIES

__all__ = ["Bins", "FileMapping", "Mapping", "RowFilter", "load_mapping"]

_BOOL_HINT = (
    "YAML reads {v!r} as a boolean (so do yes/no/on/off, unquoted); "
    "quote the export's text, e.g. 'Yes'"
)


def _key(v: Any) -> Any:
    """An export's value as text: numbers become their text; a YAML boolean is an error (its
    text is lost: ``Yes`` and ``true`` both load as ``True``)."""
    if isinstance(v, bool):
        raise ValueError(_BOOL_HINT.format(v=v))
    if isinstance(v, int | float):
        return str(v)
    return v


def _out(v: Any) -> Any:
    """A value written to a canonical column: booleans as ``true``/``false``, numbers as text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    return v


Key = Annotated[str, BeforeValidator(_key)]
Out = Annotated[str, BeforeValidator(_out)]
Unmapped = Literal["error", "keep", "empty"]


def _text_keys(v: Any) -> Any:
    if isinstance(v, dict):
        return {_key(k): t for k, t in v.items()}
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RowFilter(_Strict):
    """Keep only the rows whose export ``column`` (its raw name, before renaming; values
    compared as text stripped of surrounding spaces) ``equals`` a value, is ``in`` a list or
    is ``not_in`` one: exactly one of the three."""

    column: Annotated[str, Field(min_length=1)] = Field(
        description="the export's column (its raw name)"
    )
    equals: Key | None = Field(None, description="keep rows with this value")
    in_: list[Key] | None = Field(None, alias="in", description="keep rows with one of these")
    not_in: list[Key] | None = Field(None, description="keep rows with none of these")

    @model_validator(mode="after")
    def _one_test(self) -> RowFilter:
        given = [k for k in ("equals", "in_", "not_in") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a filter needs exactly one of equals, in, not_in (got {len(given)})")
        return self

    @property
    def allowed(self) -> tuple[list[str], bool]:
        """(values, True: keep rows with one of them; False: keep rows with none of them)."""
        if self.equals is not None:
            return [self.equals], True
        if self.in_ is not None:
            return list(self.in_), True
        return list(self.not_in or []), False

    def __str__(self) -> str:
        values, keep = self.allowed
        if self.equals is not None:
            return f"{self.column} = {self.equals!r}"
        return f"{self.column} {'in' if keep else 'not in'} {values}"


class Bins(_Strict):
    """A numeric export ``column`` cut into labelled ranges. ``edges`` are the ranges' lower
    bounds, increasing: ``labels[i]`` is written for ``edges[i] <= x < edges[i+1]`` (closed on
    the left, open on the right), the last label for ``x >= edges[-1]``. A value below
    ``edges[0]`` or not a number is an error naming the raw file, line and value; an empty
    cell stays empty (unknown)."""

    column: Annotated[str, Field(min_length=1)] = Field(description="the export's numeric column")
    edges: Annotated[list[float], Field(min_length=1)] = Field(
        description="each range's lower bound, increasing"
    )
    labels: Annotated[list[Out], Field(min_length=1)] = Field(
        description="the value written for each range (one per edge)"
    )

    @model_validator(mode="after")
    def _shape(self) -> Bins:
        if not all(math.isfinite(e) for e in self.edges):
            raise ValueError(f"edges must be finite numbers, got {self.edges}")
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError(f"edges must increase strictly, got {self.edges}")
        if len(self.labels) != len(self.edges):
            raise ValueError(
                f"one label per edge (each edge is the lower bound of its label's range): "
                f"{len(self.edges)} edges, {len(self.labels)} labels"
            )
        return self


def _time_zone(v: str | None) -> str | None:
    if v is None:
        return v
    try:
        pd.Timestamp("2024-01-01").tz_localize(v)
    except Exception:
        raise ValueError(f"unknown time zone {v!r} (expected e.g. Europe/Berlin, UTC)") from None
    return v


TimeZone = Annotated[str | None, AfterValidator(_time_zone)]


class FileMapping(_Strict):
    """How one raw file maps to a canonical one.

    ``columns`` (qualsim name -> the export's column; one export column may feed several
    names), ``constants`` (qualsim name -> a value for every row), ``bins`` (qualsim name ->
    :class:`Bins`), ``values`` (qualsim name -> {export value -> qualsim value}) with
    ``unmapped_values`` (``error``, the default, ``keep`` or ``empty``; one for the file or one
    per column), ``filters`` (:class:`RowFilter`, all must hold), ``timestamp_format`` and
    ``timezone`` (this file's own; default: the mapping's),
    ``activities`` (export name -> qualsim activity), ``ignore_activities`` (system events, not
    touches) and ``duplicates`` (keep or drop)."""

    columns: dict[str, Annotated[str, Field(min_length=1)]] = Field(
        {}, description="qualsim column → the export's column"
    )
    constants: dict[str, Out] = Field({}, description="qualsim column → a value for every row")
    bins: dict[str, Bins] = Field({}, description="qualsim column → ranges of a numeric column")
    values: dict[str, Annotated[dict[Key, Out], BeforeValidator(_text_keys)]] = Field(
        {}, description="qualsim column → {export value → qualsim value}"
    )
    unmapped_values: Unmapped | dict[str, Unmapped] = Field(
        "error",
        description="a value its map lacks: error, keep or empty (for the file, or per column)",
    )
    filters: list[RowFilter] = Field([], description="rows kept: every filter must hold")
    timestamp_format: TimestampFormat | None = Field(
        None, description="this file's strptime format (default: the mapping's)"
    )
    timezone: TimeZone = Field(None, description="this file's time zone (default: the mapping's)")
    activities: dict[str, str] = Field({}, description="export activity → qualsim activity")
    ignore_activities: list[str] = Field(
        [], description="export activities that are no touch (system events): dropped, counted"
    )
    duplicates: Literal["keep", "drop"] = Field(
        "keep", description="drop: remove a row identical to an earlier one"
    )

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

    @model_validator(mode="after")
    def _one_source_each(self) -> FileMapping:
        sources: dict[str, dict[str, Any]] = {
            "columns": self.columns,
            "constants": self.constants,
            "bins": self.bins,
        }
        seen: dict[str, str] = {}
        for part, fields in sources.items():
            for name in fields:
                if name in seen:
                    raise ValueError(f"{name!r} is given by both {seen[name]} and {part}: keep one")
                seen[name] = part
        for name in self.values:
            if name in self.constants or name in self.bins:
                part = "constants" if name in self.constants else "bins"
                raise ValueError(
                    f"values: {name!r} comes from {part}, which already give qualsim values"
                )
            if name == "activity":
                raise ValueError("values: map activity names under activities, not values")
        if isinstance(self.unmapped_values, dict):
            extra = [c for c in self.unmapped_values if c not in self.values]
            if extra:
                raise ValueError(
                    f"unmapped_values: {extra[0]!r} has no value map under values"
                    f"{did_you_mean(extra[0], list(self.values))}"
                )
        return self

    def unmapped(self, name: str) -> Unmapped:
        """What happens to a value of column ``name`` that its value map does not list."""
        if isinstance(self.unmapped_values, dict):
            return self.unmapped_values.get(name, "error")
        return self.unmapped_values

    def targets(self) -> dict[str, list[str]]:
        """The qualsim names each part of the mapping sets (for checking them)."""
        return {
            "columns": list(self.columns),
            "constants": list(self.constants),
            "bins": list(self.bins),
            "values": list(self.values),
        }


class Mapping(_Strict):
    """A mapping file: the ``timezone`` of naive timestamps, the default ``timestamp_format``
    (strptime; default ISO 8601) and one :class:`FileMapping` per file."""

    timezone: TimeZone = Field(None, description="the time zone of timestamps without one")
    timestamp_format: TimestampFormat | None = Field(
        None, description="strptime format of timestamps (default: ISO 8601)"
    )
    events: FileMapping = Field(FileMapping(), description="the touch/activity export")
    contacts: FileMapping = Field(FileMapping(), description="the contacts export")
    accounts: FileMapping = Field(FileMapping(), description="the accounts export")
    opportunities: FileMapping = Field(FileMapping(), description="the opportunities export")

    @field_validator("events", "contacts", "accounts", "opportunities")
    @classmethod
    def _targets(cls, v: FileMapping, info) -> FileMapping:
        allowed = INPUT_COLUMNS[info.field_name]
        for part, names in v.targets().items():
            bad = [k for k in names if k not in allowed]
            if bad:
                raise ValueError(
                    f"{part}: {bad[0]!r} is not a qualsim {info.field_name} column"
                    f"{did_you_mean(bad[0], allowed)}; expected some of {', '.join(allowed)}"
                )
        return v


def load_mapping(path: str | Path | None) -> Mapping:
    """Read and validate a mapping file (no file: the identity mapping)."""
    if path is None:
        return Mapping()
    data, lines = read_yaml_file(path)
    return validate_model(Mapping, data or {}, [ConfigFile(Path(path), data, lines)], "mapping")
