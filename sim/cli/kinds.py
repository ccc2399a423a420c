"""``qualsim validate`` and ``qualsim schema`` for every kind of config file: each kind's loader
and JSON Schema, imported only when that kind is asked for (validating a scenario must not pay
for the experiment machinery a suite's loader imports).

Detection is :func:`sim.config.kinds.detect`; the reference page renders the same schemas
(:mod:`sim.experiment.reference_docs`, a test checks they agree).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sim.config.kinds import check_kind, detect
from sim.errors import ConfigError


def _n(count: int, word: str, plural: str | None = None) -> str:
    """``count`` and ``word``, plural unless one: ``_n(2, "variant")`` is "2 variants"."""
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


def _scenario(path: Path) -> str:
    from sim.world.presets import load_scenario

    sc = load_scenario(path)
    return (
        f"scenario {sc.name!r} ({sc.accounts.count:,} accounts, {sc.horizon_days:g} days, "
        f"{_n(len(sc.campaigns), 'campaign')})"
    )


def _policy(path: Path) -> str:
    from policies import load_policy

    p = load_policy(path)
    return f"{p.kind} policy {p.name!r}"


def _sweep(path: Path) -> str:
    from sim.experiment.sweep.spec import load_sweep

    spec, _ = load_sweep(path)
    variants = sum(math.prod(len(v) for v in pg.grid.values()) for pg in spec.policies)
    return (
        f"sweep {spec.name!r} ({_n(len(spec.policies), 'policy', 'policies')}, "
        f"{_n(variants, 'variant')}, {spec.design.kind} design over "
        f"{_n(len(spec.uncertain), 'uncertain parameter')}, "
        f"{_n(spec.replications, 'replication')})"
    )


def _mapping(path: Path) -> str:
    from sim.real.mapping import load_mapping

    m = load_mapping(path)
    parts = ("events", "contacts", "accounts", "opportunities")
    mapped = [p for p in parts if p in m.model_fields_set]
    return f"mapping ({', '.join(mapped) or 'no file'} mapped)"


def _suite(path: Path) -> str:
    from sim.experiment.gate import load_suite

    suite, _ = load_suite(path)
    return (
        f"suite {suite.name!r} ({_n(len(suite.policies), 'policy', 'policies')} × "
        f"{_n(len(suite.scenarios), 'scenario')}, {_n(suite.replications, 'replication')}, "
        f"{_n(len(suite.metrics), 'metric')})"
    )


def _cases(path: Path) -> str:
    from policies.cases import load_cases

    policy, spec = load_cases(path)
    return (
        f"{_n(len(spec.cases), 'test case')} of {policy.kind} policy {policy.name!r} "
        "(qualsim test-policy runs them)"
    )


CHECKS = {
    "scenario": _scenario,
    "policy": _policy,
    "sweep": _sweep,
    "mapping": _mapping,
    "suite": _suite,
    "cases": _cases,
}


def validate_file(source: str | Path, kind: str | None = None) -> tuple[str, str]:
    """Validate a config file with its kind's loader: returns (kind, one-line summary).

    ``kind`` None: detected from the file's keys; a preset name is a scenario, a shipped
    policy's name a policy. Raises ConfigError (naming the file, line and field path; with the
    detected kind and how to choose another when it was detected)."""
    from sim.config import read_yaml_file

    path = Path(source)
    if kind is not None:
        return kind, CHECKS[check_kind(kind)](path)
    if not path.exists() and path.suffix not in (".yaml", ".yml"):
        named = _shipped_kind(str(source))
        return named, CHECKS[named](path)
    data, _ = read_yaml_file(path)
    kind, keys = detect(data, str(path))
    try:
        return kind, CHECKS[kind](path)
    except ConfigError as exc:
        named = ", ".join(repr(k) for k in keys)
        why = (
            f"because of its key{'s' if len(keys) > 1 else ''} {named}"
            if keys
            else "as an empty file is"
        )
        raise ConfigError(
            f"{exc}\n(read as a {kind} file {why}; choose another kind with --kind)"
        ) from None


def _shipped_kind(name: str) -> str:
    """``scenario`` for a preset's name, ``policy`` for a shipped policy's name; ConfigError
    for any other name that is no file."""
    from sim.config import did_you_mean
    from sim.world.presets import PRESETS

    if name in PRESETS:
        return "scenario"
    from policies.loading import shipped_policies  # only now: it costs pandas

    if name in shipped_policies():
        return "policy"
    raise ConfigError(
        f"{name}: no such file, preset scenario ({', '.join(PRESETS)}) or shipped policy "
        f"({', '.join(shipped_policies())})" + did_you_mean(name, [*PRESETS, *shipped_policies()])
    )


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a config kind (pydantic's, draft 2020-12); a scenario's lets a file
    that ``extends`` another give any part (:func:`sim.config.kinds.partial_schema`)."""
    check_kind(kind, "schema")
    schema = _SCHEMAS[kind]()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _scenario_schema() -> dict[str, Any]:
    from sim.config.kinds import partial_schema
    from sim.world.scenario import Scenario

    return partial_schema(Scenario.model_json_schema())


def _policy_schema() -> dict[str, Any]:
    import policies
    from sim.config.kinds import union_schema

    return union_schema(list(dict.fromkeys(policies.kinds().values())), "qualsim policy")


def _sweep_schema() -> dict[str, Any]:
    from sim.experiment.sweep.spec import SweepSpec

    return SweepSpec.model_json_schema()


def _mapping_schema() -> dict[str, Any]:
    from sim.real.mapping import Mapping

    return Mapping.model_json_schema()


def _suite_schema() -> dict[str, Any]:
    from sim.experiment.gate import Suite

    return Suite.model_json_schema()


def _cases_schema() -> dict[str, Any]:
    from policies.cases import CaseFile

    return CaseFile.model_json_schema()


_SCHEMAS = {
    "scenario": _scenario_schema,
    "policy": _policy_schema,
    "sweep": _sweep_schema,
    "mapping": _mapping_schema,
    "suite": _suite_schema,
    "cases": _cases_schema,
}
