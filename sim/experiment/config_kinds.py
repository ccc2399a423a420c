"""The kinds of config file qualsim reads, what a file is (from its keys), its validation with
that kind's own loader, and each kind's JSON Schema (for editors to complete and check YAML).

A file's kind comes from its top-level keys: each kind has keys only it uses (``kind:`` for a
policy, ``cases:`` for policy tests, ``design:``/``uncertain:``/``scenario:`` for a sweep,
``scenarios:``/``tolerance_se:`` for a regression suite, ``events:``/``timezone:`` for an import
mapping, ``extends:``/``horizon_days:`` for a scenario, ...), computed from the schemas, so a
typo in one key does not turn a sweep into a scenario with 14 unknown keys.

>>> detect({"scenario": "smb", "policies": [{"policy": "mql_only"}], "desing": {}})
('sweep', ['scenario'])
>>> detect({"extends": "enterprise", "accounts": {"count": 50}})
('scenario', ['extends'])
>>> detect({"name": "x", "kind": "mqa_count", "window_days": 30})[0]
'policy'

The file is read once to look at its keys (``sim.config`` reads: a regular file of at most
1 MiB), then by its kind's loader, which confines its references to its folder tree.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import BaseModel, Field, TypeAdapter

import policies as pol
from policies.cases import CaseFile, load_cases
from policies.loading import shipped_policies
from sim.config.strict_yaml import did_you_mean, read_yaml_file
from sim.errors import ConfigError
from sim.experiment.gate import Suite, load_suite
from sim.experiment.sweep.spec import SweepSpec, load_sweep
from sim.real.mapping import Mapping as ImportMapping
from sim.real.mapping import load_mapping
from sim.world.presets import PRESETS, load_scenario
from sim.world.scenario import Scenario

__all__ = ["KINDS", "ConfigKind", "detect", "json_schema", "validate_file"]


def _policy_models() -> list[type[BaseModel]]:
    """The schema of every registered policy kind (built-in and plug-in), each once."""
    return list(dict.fromkeys(pol.kinds().values()))


def _policy_schema() -> dict[str, Any]:
    """The union of the policy kinds, discriminated on ``kind`` where every kind allows it."""
    models = _policy_models()
    union: Any = Union[tuple(models)]  # noqa: UP007 - a union built at run time
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(Annotated[union, Field(discriminator="kind")])
        schema = adapter.json_schema()
    except Exception:  # a plug-in whose kind is not a Literal: a plain union
        schema = TypeAdapter(union).json_schema()
    return {"title": "qualsim policy", **schema}


def _scenario_schema() -> dict[str, Any]:
    """The scenario's schema: a file with ``extends`` may give any part of any section (it is
    merged key by key onto what it extends; list items replace as a whole, so they stay
    whole); a file without ``extends`` must give every required field."""
    whole = Scenario.model_json_schema()
    defs = whole.pop("$defs", {})
    partial_defs: dict[str, Any] = {}
    schema = _partial(whole, defs, partial_defs)
    schema["$defs"] = {**defs, **partial_defs}
    schema["if"] = {"required": ["extends"]}
    schema["else"] = {"required": whole.get("required", []), "properties": whole["properties"]}
    return schema


_SUBSCHEMAS = ("additionalProperties", "not", "if", "then", "else")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf")
_SCHEMA_MAPS = ("properties", "patternProperties")


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


def _fields(model: type[BaseModel]) -> frozenset[str]:
    """The top-level keys a model accepts (a field's alias where it has one: ``any``)."""
    return frozenset(f.alias or name for name, f in model.model_fields.items())


def _scenario(path: Path) -> str:
    sc = load_scenario(path)
    return (
        f"scenario {sc.name!r} ({sc.accounts.count:,} accounts, {sc.horizon_days:g} days, "
        f"{len(sc.campaigns)} campaigns)"
    )


def _policy(path: Path) -> str:
    p = pol.load_policy(path)
    return f"{p.kind} policy {p.name!r}"


def _sweep(path: Path) -> str:
    spec, _ = load_sweep(path)
    variants = sum(math.prod(len(v) for v in pg.grid.values()) for pg in spec.policies)
    return (
        f"sweep {spec.name!r} ({_n(len(spec.policies), 'policy', 'policies')}, "
        f"{_n(variants, 'variant')}, {spec.design.kind} design over "
        f"{_n(len(spec.uncertain), 'uncertain parameter')}, "
        f"{_n(spec.replications, 'replication')})"
    )


def _n(count: int, word: str, plural: str | None = None) -> str:
    """``count`` and ``word``, plural unless one: ``_n(2, "variant")`` is "2 variants"."""
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


def _mapping(path: Path) -> str:
    m = load_mapping(path)
    parts = ("events", "contacts", "accounts", "opportunities")
    mapped = [p for p in parts if p in m.model_fields_set]
    return f"mapping ({', '.join(mapped) or 'no file'} mapped)"


def _suite(path: Path) -> str:
    suite, _ = load_suite(path)
    return (
        f"suite {suite.name!r} ({_n(len(suite.policies), 'policy', 'policies')} × "
        f"{_n(len(suite.scenarios), 'scenario')}, {_n(suite.replications, 'replication')}, "
        f"{_n(len(suite.metrics), 'metric')})"
    )


def _cases(path: Path) -> str:
    policy, spec = load_cases(path)
    return (
        f"{_n(len(spec.cases), 'test case')} of {policy.kind} policy {policy.name!r} "
        "(qualsim test-policy runs them)"
    )


@dataclass(frozen=True)
class ConfigKind:
    """One kind of config file: its name, what it is in words, the keys that show it best (in
    messages; each is a key only this kind has), the top-level keys it accepts, its loader
    (validate a file, return a one-line summary) and its JSON Schema."""

    name: str
    what: str
    shows: tuple[str, ...]
    fields: Callable[[], frozenset[str]]
    check: Callable[[Path], str]
    schema: Callable[[], dict[str, Any]]


KINDS: dict[str, ConfigKind] = {
    k.name: k
    for k in (
        ConfigKind(
            "scenario",
            "a simulated market (docs/scenarios.md)",
            ("extends", "horizon_days", "journey"),
            lambda: _fields(Scenario),
            _scenario,
            _scenario_schema,
        ),
        ConfigKind(
            "policy",
            "a qualification rule (docs/policies.md)",
            ("kind",),
            lambda: frozenset().union(*map(_fields, _policy_models())),
            _policy,
            _policy_schema,
        ),
        ConfigKind(
            "sweep",
            "policy grids over uncertain scenario parameters (docs/sweeps.md)",
            ("design", "uncertain", "scenario"),
            lambda: _fields(SweepSpec),
            _sweep,
            SweepSpec.model_json_schema,
        ),
        ConfigKind(
            "mapping",
            "how a CRM export maps to qualsim's files (docs/real-data.md)",
            ("events", "contacts", "timezone"),
            lambda: _fields(ImportMapping),
            _mapping,
            ImportMapping.model_json_schema,
        ),
        ConfigKind(
            "suite",
            "a regression suite for qualsim gate (docs/report-and-gate.md)",
            ("scenarios", "tolerance_se"),
            lambda: _fields(Suite),
            _suite,
            Suite.model_json_schema,
        ),
        ConfigKind(
            "cases",
            "a policy's test cases (docs/policies.md)",
            ("policy", "cases"),
            lambda: _fields(CaseFile),
            _cases,
            CaseFile.model_json_schema,
        ),
    )
}


@cache
def _distinctive() -> dict[str, frozenset[str]]:
    """Per kind, the top-level keys no other kind accepts."""
    fields = {name: k.fields() for name, k in KINDS.items()}
    return {
        name: own.difference(*(f for other, f in fields.items() if other != name))
        for name, own in fields.items()
    }


def detect(data: Any, source: str = "<config>") -> tuple[str, list[str]]:
    """The kind of a config file's content and the keys that say so.

    An empty file is a scenario (the default kind). Otherwise: the kind whose own keys (keys
    no other kind has) the file uses most; without any, the kind whose accepted keys cover
    most of the file's. Raises ConfigError naming ``source``, the
    kinds tried and why none fits (or which ones tie)."""
    if data is None or data == {}:
        return "scenario", []  # the default kind, as run and simulate read it
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}:1: expected a mapping of fields at the top level, got "
            f"{type(data).__name__} (every qualsim config file is: {', '.join(KINDS)})"
        )
    keys = [str(k) for k in data]
    own = {name: [k for k in keys if k in d] for name, d in _distinctive().items()}
    best = _best({name: len(v) for name, v in own.items()})
    if len(best) == 1:
        return best[0], own[best[0]]
    if not best:  # no key is any kind's own: the kind that accepts most of them
        covered = {name: [k for k in keys if k in KINDS[name].fields()] for name in KINDS}
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
        shown = ", ".join(keys[:_SHOWN]) + (
            f", ... ({len(keys):,} keys)" if len(keys) > _SHOWN else ""
        )
        head = f"{source}: none of its keys ({shown}) belongs to a qualsim config file"
    tried = []
    for name in tied or KINDS:
        k = KINDS[name]
        near = [(key, _nearest(key, k.fields())) for key in keys[:_SHOWN] if key not in k.fields()]
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


def validate_file(source: str | Path, kind: str | None = None) -> tuple[str, str]:
    """Validate a config file with its kind's loader: returns (kind, one-line summary).

    ``kind`` None: detected from the file's keys (:func:`detect`); a preset name is a
    scenario, a shipped policy's name a policy. Raises ConfigError (naming the file, line and
    field path; with the detected kind and how to choose another when it was detected)."""
    if kind is not None:
        _known(kind, "kind")
    path = Path(source)
    if kind is None:
        if not path.exists() and path.suffix not in (".yaml", ".yml"):
            named = _shipped_kind(str(source))
            return named, KINDS[named].check(path)
        data, _ = read_yaml_file(path)
        kind, keys = detect(data, str(path))
        try:
            return kind, KINDS[kind].check(path)
        except ConfigError as exc:
            why = f"because of its keys {', '.join(keys)}" if keys else "as an empty file is"
            raise ConfigError(
                f"{exc}\n(read as a {kind} file {why}; choose another kind with --kind)"
            ) from None
    return kind, KINDS[kind].check(path)


def _shipped_kind(name: str) -> str:
    """``scenario`` for a preset's name, ``policy`` for a shipped policy's name; ConfigError
    for any other name that is no file."""
    if name in PRESETS:
        return "scenario"
    if name in shipped_policies():
        return "policy"
    names = [*PRESETS, *shipped_policies()]
    raise ConfigError(
        f"{name}: no such file, preset scenario ({', '.join(PRESETS)}) or shipped policy "
        f"({', '.join(shipped_policies())})" + did_you_mean(name, names)
    )


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a config kind (pydantic's, draft 2020-12).

    >>> json_schema("suite")["required"]
    ['policies', 'scenarios']
    """
    _known(kind, "schema")
    schema = KINDS[kind].schema()
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    return schema


def _known(kind: str, what: str) -> None:
    """ConfigError unless ``kind`` is a config kind (``what``: the word for it in the message)."""
    if kind not in KINDS:
        raise ConfigError(
            f"unknown {what} {kind!r}: expected one of {', '.join(KINDS)}"
            + did_you_mean(kind, KINDS)
        )
