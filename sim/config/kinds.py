"""The kinds of config file qualsim reads and telling them apart from a file's top-level keys.

Each kind has keys no other kind uses (``kind:`` for a policy, ``cases:`` for policy tests,
``design:``/``uncertain:``/``scenario:`` for a sweep, ``scenarios:``/``tolerance_se:`` for a
regression suite, ``events:``/``timezone:`` for an import mapping, ``extends:``/``horizon_days:``
for a scenario, ...), so a typo in one key does not turn a sweep into a scenario with a dozen
unknown keys.

This module is light on purpose (``qualsim validate`` detects before it imports the one loader
it needs): :data:`KINDS` lists each kind's top-level keys, and a test checks them against the
pydantic models (``sim.world.Scenario``, the policy kinds, ``SweepSpec``, ``Mapping``,
``Suite``, ``CaseFile``). Plug-in policy kinds are recognised by their ``kind:`` key.

>>> detect({"scenario": "smb", "policies": [{"policy": "mql_only"}], "desing": {}})
('sweep', ['scenario'])
>>> detect({"extends": "enterprise", "accounts": {"count": 50}})
('scenario', ['extends'])
>>> detect({"name": "x", "kind": "mqa_count", "window_days": 30})[0]
'policy'
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Union

from pydantic import BaseModel, Field, PydanticUserError, TypeAdapter

from sim.config.strict_yaml import did_you_mean
from sim.errors import ConfigError

__all__ = ["KINDS", "ConfigKind", "check_kind", "detect", "partial_schema", "union_schema"]


@dataclass(frozen=True)
class ConfigKind:
    """One kind of config file: its name, what it is in words, the keys that show it best (in
    messages; each is a key only this kind has) and every top-level key it accepts."""

    name: str
    what: str
    shows: tuple[str, ...]
    keys: frozenset[str]


_POLICY_BASE = {"name", "kind", "description", "reference", "recycle_days"}
_POLICY_BASE |= {"include_sales_touches", "exclude"}
_POLICY_KINDS = {"policies", "window_days", "activities", "include_anonymous", "any", "all"}
_POLICY_KINDS |= {"not", "tiers", "threshold", "points", "fit", "decay", "stages"}
_POLICY_KINDS |= {"handoff_stage", "activity_weights", "title_weights", "default_title_weight"}
_SCENARIO = {"name", "description", "reference", "extends", "horizon_days", "accounts"}
_SCENARIO |= {"in_market", "journey", "committee", "noise", "touches", "crm", "campaigns"}
_SCENARIO |= {"sales", "rollout", "data_quality"}

KINDS: dict[str, ConfigKind] = {
    k.name: k
    for k in (
        ConfigKind(
            "scenario",
            "a simulated market (docs/scenarios.md)",
            ("extends", "horizon_days", "journey"),
            frozenset(_SCENARIO),
        ),
        ConfigKind(
            "policy",
            "a qualification rule (docs/policies.md)",
            ("kind",),
            frozenset(_POLICY_BASE | _POLICY_KINDS),
        ),
        ConfigKind(
            "sweep",
            "policy grids over uncertain scenario parameters (docs/sweeps.md)",
            ("design", "uncertain", "scenario"),
            frozenset({"name", "scenario", "overrides", "seed", "replications", "design"})
            | {"uncertain", "policies", "tiers"},
        ),
        ConfigKind(
            "mapping",
            "how a CRM export maps to qualsim's files (docs/real-data.md)",
            ("events", "contacts", "timezone"),
            frozenset({"timezone", "timestamp_format", "events", "contacts", "accounts"})
            | {"opportunities"},
        ),
        ConfigKind(
            "suite",
            "a regression suite for qualsim gate (docs/report-and-gate.md)",
            ("scenarios", "tolerance_se"),
            frozenset({"name", "seed", "replications", "tolerance_se", "metrics", "policies"})
            | {"scenarios"},
        ),
        ConfigKind(
            "cases",
            "a policy's test cases (docs/policies.md)",
            ("policy", "cases"),
            frozenset({"policy", "cases"}),
        ),
    )
}


@cache
def distinctive() -> dict[str, frozenset[str]]:
    """Per kind, the top-level keys no other kind accepts."""
    return {
        name: k.keys.difference(*(o.keys for other, o in KINDS.items() if other != name))
        for name, k in KINDS.items()
    }


def check_kind(kind: str, what: str = "kind") -> str:
    """``kind`` if it is a config kind, else ConfigError (``what``: its word in the message)."""
    if kind not in KINDS:
        raise ConfigError(
            f"unknown {what} {kind!r}: expected one of {', '.join(KINDS)}"
            + did_you_mean(kind, KINDS)
        )
    return kind


def detect(data: Any, source: str = "<config>") -> tuple[str, list[str]]:
    """The kind of a config file's content and the keys that say so.

    An empty file is a scenario (the default kind); a top-level ``kind:`` naming a policy kind
    (every policy has one, no other kind of file does) makes it a policy, whatever else it says
    (so a policy with a scenario's ``extends`` gets the policy's error). Otherwise: the kind
    whose own keys (keys no other kind has) the file uses most; without any, the kind whose
    accepted keys cover most of the file's. Raises ConfigError naming ``source``, the kinds
    tried and why none fits (or which ones tie)."""
    if data is None or data == {}:
        return "scenario", []  # the default kind, as run and simulate read it
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}:1: expected a mapping of fields at the top level, got "
            f"{type(data).__name__} (every qualsim config file is: {', '.join(KINDS)})"
        )
    keys = [str(k) for k in data]
    if isinstance(data.get("kind"), str):
        return "policy", ["kind"]
    own = {name: [k for k in keys if k in d] for name, d in distinctive().items()}
    best = _best({name: len(v) for name, v in own.items()})
    if len(best) == 1:
        return best[0], own[best[0]]
    if not best:  # no key is any kind's own: the kind that accepts most of them
        covered = {name: [k for k in keys if k in KINDS[name].keys] for name in KINDS}
        best = _best({name: len(v) for name, v in covered.items()})
        if len(best) == 1:
            return best[0], covered[best[0]]
    raise ConfigError(_undetected(source, keys, best))


def _best(scores: dict[str, int]) -> list[str]:
    """The names with the highest positive score."""
    top = max(scores.values(), default=0)
    return [name for name, s in scores.items() if s == top and top > 0]


_SHOWN = 8  # keys of the file an error names (a file may have thousands)


def _undetected(source: str, keys: list[str], tied: list[str]) -> str:
    """Why no kind fits ``keys``: the kinds tried, each with the keys that would show it."""
    if tied:
        which = f"{', '.join(tied[:-1])} or {tied[-1]}"
        head = f"{source}: cannot tell whether this is a {which} file from its keys"
    else:
        more = f", ... ({len(keys):,} keys)" if len(keys) > _SHOWN else ""
        shown = ", ".join(keys[:_SHOWN]) + more
        head = f"{source}: none of its keys ({shown}) belongs to a qualsim config file"
    tried = []
    for name in tied or KINDS:
        k = KINDS[name]
        near = [(key, _nearest(key, k.keys)) for key in keys[:_SHOWN] if key not in k.keys]
        hint = ", ".join(f"{key!r} may be {n!r}" for key, n in near if n)
        tried.append(
            f"  {name}: {k.what}; has keys such as {', '.join(k.shows)}"
            + (f" (your {hint})" if hint else "")
        )
    return "\n".join([head, "tried:", *tried, "choose one with --kind KIND"])


def _nearest(key: str, choices: frozenset[str]) -> str | None:
    """The choice closest to ``key`` if one is close (a typo), else None."""
    found = difflib.get_close_matches(key, sorted(choices), n=1, cutoff=0.6)
    return found[0] if found else None


# -- JSON Schemas -------------------------------------------------------------------------------

_SUBSCHEMAS = ("additionalProperties", "not", "if", "then", "else")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf")
_SCHEMA_MAPS = ("properties", "patternProperties")


def partial_schema(whole: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a file that may ``extends`` another: with ``extends`` it may give any
    part of any section (it is merged key by key onto what it extends; list items replace as a
    whole, so they stay whole); without it, it must give every required field of ``whole``.
    """
    whole = dict(whole)
    defs = whole.pop("$defs", {})
    partial_defs: dict[str, Any] = {}
    schema = _partial(whole, defs, partial_defs)
    schema["$defs"] = {**defs, **partial_defs}
    schema["if"] = {"required": ["extends"]}
    schema["else"] = {"required": whole.get("required", []), "properties": whole["properties"]}
    return schema


def _partial(node: dict[str, Any], defs: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """``node`` with nothing required in it or in the models it reaches through mappings
    (``$ref`` to a ``<name>_partial`` copy added to ``out``); array items are left whole."""
    res: dict[str, Any] = {}
    for key, value in node.items():
        if key == "required":
            continue
        if key == "$ref":
            name = value.rsplit("/", 1)[-1]
            if f"{name}_partial" not in out:
                out[f"{name}_partial"] = {}  # taken, against cycles
                out[f"{name}_partial"] = _partial(defs[name], defs, out)
            res[key] = f"#/$defs/{name}_partial"
        elif key in _SUBSCHEMAS and isinstance(value, dict):
            res[key] = _partial(value, defs, out)
        elif key in _SCHEMA_LISTS:
            res[key] = [_partial(v, defs, out) for v in value]
        elif key in _SCHEMA_MAPS:
            res[key] = {name: _partial(v, defs, out) for name, v in value.items()}
        else:  # items, prefixItems (whole), and values: enum, const, default, description
            res[key] = value
    return res


def union_schema(models: list[type[BaseModel]], title: str) -> dict[str, Any]:
    """The JSON Schema of one of ``models``, discriminated on ``kind`` where every model allows
    it (a ``Literal``), else a plain union (a plug-in whose kind is a plain string)."""
    union: Any = Union[tuple(models)]  # noqa: UP007 - a union built at run time
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(Annotated[union, Field(discriminator="kind")])
        schema = adapter.json_schema()
    except PydanticUserError:
        schema = TypeAdapter(union).json_schema()
    return {"title": title, **schema}
