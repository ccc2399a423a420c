"""The sweep file: its schema, range syntax, validation and the hash its results carry.

A sweep file (YAML, validated; errors name the file, line and field path)::


    name: q3-thresholds
    scenario: enterprise               # a preset or a scenario file (in this one's folder tree)
    overrides: {accounts: {count: 2000}}
    seed: 1
    replications: 5
    design: {kind: lhs, samples: 20}   # grid (levels per range), lhs or random
    uncertain:                         # scenario parameters by dotted path
      touches.identification_rate: 0.2..0.5      # a range
      accounts.tiers.2.committee_size.mean: [6, 8, 10]   # a list of values
    policies:
      - policy: mqa_count              # a shipped name or a policy file
        grid:
          any.0.unique_contacts: 2..8  # integers 2, 3, ..., 8
          window_days: [14, 30, 60, 90]
      - policy: mql_only
        grid: {threshold: 40..120 by 10}
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, field_validator

import policies as pol
from sim.config.chain import ConfigFile, validate_model
from sim.config.files import resolve_reference
from sim.config.inline import relocate
from sim.config.strict_yaml import read_yaml_file
from sim.config.types import Strict
from sim.errors import ConfigError, QualsimError
from sim.experiment.sweep.paths import plain_reason, unknown_path
from sim.world.presets import PRESETS, load_scenario

_RANGE = re.compile(r"^\s*(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)\s*(?:by\s+(-?[\d.]+))?\s*$")


def parse_values(spec: Any, what: str) -> list:
    """A grid's values: a list, one number, or ``"lo..hi"`` / ``"lo..hi by step"`` (inclusive;
    integers when lo, hi and step are integers).

    >>> parse_values("2..5", "x"), parse_values("40..60 by 10", "x"), parse_values([1, 3], "x")
    ([2, 3, 4, 5], [40, 50, 60], [1, 3])
    >>> parse_values("0.1..0.3 by 0.1", "x")
    [0.1, 0.2, 0.3]
    """
    if isinstance(spec, list):
        if not spec:
            raise ValueError(f"{what}: an empty list of values")
        return spec
    if isinstance(spec, bool):
        raise ValueError(f"{what}: expected a list, a number or 'lo..hi [by step]', got {spec!r}")
    if isinstance(spec, int | float):
        return [spec]
    m = _RANGE.match(str(spec))
    if not m:
        raise ValueError(f"{what}: expected a list, a number or 'lo..hi [by step]', got {spec!r}")
    lo, hi, step = m.group(1), m.group(2), m.group(3) or "1"
    ints = all(re.fullmatch(r"-?\d+", x) for x in (lo, hi, step))
    if not ints and m.group(3) is None:
        raise ValueError(f"{what}: a range of decimals needs a step, e.g. '{lo}..{hi} by 0.1'")
    a, b, d = (int(x) if ints else float(x) for x in (lo, hi, step))
    if d <= 0 or b < a:
        raise ValueError(f"{what}: need lo <= hi and step > 0, got {spec!r}")
    n = int((b - a) // d + 1) if ints else int(np.floor((b - a) / d + 1e-9)) + 1
    if n > 10_000:
        raise ValueError(f"{what}: {n} values is too many (at most 10,000)")
    vals = [a + i * d for i in range(n)]
    return vals if ints else [round(v, 12) for v in vals]


class PolicyGrid(Strict):
    policy: str = Field(description="a shipped policy name or a policy file")
    grid: dict[str, Any] = Field(
        {},
        description="dotted paths of the policy's numbers → values: a list, a number or "
        "'lo..hi [by step]'",
    )

    @field_validator("grid")
    @classmethod
    def _grid(cls, v: dict[str, Any]) -> dict[str, Any]:
        _clashing_paths(list(v), "grid paths")
        return {k: parse_values(spec, k) for k, spec in v.items()}


class Design(Strict):
    kind: str = Field("grid", description="grid, lhs (Latin hypercube) or random")
    samples: Annotated[int, Field(strict=True, ge=1, le=100_000)] = Field(
        1, description="scenario samples of an lhs or random design"
    )
    levels: Annotated[int, Field(strict=True, ge=1, le=100)] = Field(
        3, description="values per uncertain range in a grid design"
    )

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in ("grid", "lhs", "random"):
            raise ValueError(f"expected grid, lhs or random, got {v!r}")
        return v


class SweepSpec(Strict):
    name: str = Field("sweep", description="the sweep's name in its results")
    scenario: str = Field(
        "enterprise", description="a preset or a scenario file in this file's folder tree"
    )
    overrides: dict[str, Any] = Field({}, description="scenario fields to change, nested")
    seed: Annotated[int, Field(strict=True, ge=0)] = Field(0, description="the root seed")
    replications: Annotated[int, Field(strict=True, ge=1, le=10_000)] = Field(
        1, description="worlds simulated per scenario sample"
    )
    design: Design = Field(Design(), description="how the scenario samples are chosen")
    uncertain: dict[str, Any] = Field(
        {},
        description="dotted scenario paths → 'lo..hi' ranges or lists of values to sample",
    )
    policies: Annotated[list[PolicyGrid], Field(min_length=1)] = Field(
        description="the policies and the grid of each"
    )
    tiers: bool = Field(True, description="also store the metrics of each tier")

    @field_validator("uncertain")
    @classmethod
    def _uncertain(cls, v: dict[str, Any]) -> dict[str, Any]:
        _clashing_paths(list(v), "uncertain paths")
        out: dict[str, Any] = {}
        for path, spec in v.items():
            m = _RANGE.match(spec) if isinstance(spec, str) else None
            if m is not None:
                if m.group(3):
                    out[path] = parse_values(spec, path)
                else:
                    whole = all(re.fullmatch(r"-?\d+", x) for x in (m.group(1), m.group(2)))
                    lo, hi = (
                        (int if whole else float)(m.group(1)),
                        (int if whole else float)(m.group(2)),
                    )
                    if not lo < hi:
                        raise ValueError(f"{path}: need lo < hi, got {spec!r}")
                    out[path] = (lo, hi)
            else:
                out[path] = parse_values(spec, path)
        return out


def load_sweep(path: str | Path) -> tuple[SweepSpec, Path]:
    """Read and validate a sweep file; the scenario and policy files are checked too."""
    path = Path(path)
    data, lines = read_yaml_file(path)
    spec = validate_model(SweepSpec, data, [ConfigFile(path, data, lines)], what="sweep")
    base = path.parent
    problems = []
    try:
        scenario = _scenario_path(spec.scenario, base)
        if scenario is not None and not scenario.exists():
            raise ConfigError(f"no preset or file {spec.scenario!r}")
    except ConfigError as exc:
        problems.append(f"{path}:{lines.line_of(('scenario',)) or '?'}: scenario: {exc}")
    names: dict[str, int] = {}
    for i, pg in enumerate(spec.policies):
        line = lines.line_of(("policies", i))
        try:
            p = _load_policy(pg.policy, base)
        except QualsimError as exc:
            problems.append(f"{path}:{line or '?'}: policies[{i}]: {exc}")
            continue
        problems += _grid_problems(p, pg, i, path, lines)
        if p.name in names:
            problems.append(
                f"{path}:{line or '?'}: policies[{i}]: policy name {p.name!r} is also "
                f"policies[{names[p.name]}]; give each policy a distinct name"
            )
        names.setdefault(p.name, i)
    if not problems:
        problems += _check_scenario(spec, base, path, lines)
    if problems:
        raise ConfigError("\n".join(problems))
    return spec, base


def _grid_problems(p: pol.PolicyBase, pg: PolicyGrid, i: int, path: Path, lines) -> list[str]:
    """Every value of every grid path of ``policies[i]`` must make a valid policy; a problem
    names the grid path's own line, and a path the policy lacks gets the paths meant."""
    problems = []
    for key, values in pg.grid.items():
        line = lines.line_of(("policies", i, "grid", key)) or lines.line_of(("policies", i))
        where = f"{path}:{line or '?'}: policies[{i}].grid.{key}"
        for v in values:
            try:
                pol.with_value(p, key, v)
            except QualsimError as exc:
                dump = p.model_dump(by_alias=True)
                who = p.name if p.name == p.kind else f"{p.name} ({p.kind})"
                unknown = unknown_path(key, dump, who, numbers=True)
                problems.append(f"{where}: {unknown or f'value {v!r}: ' + plain_reason(str(exc))}")
                break
    return problems


def _check_scenario(spec: SweepSpec, base: Path, path: Path, lines=None) -> list[str]:
    """The scenario must load with the overrides, with every uncertain range at its ends and
    with every value of every uncertain list."""
    src = scenario_source(spec, base)
    checks: list[dict] = [{}]
    for end in (0, -1):  # every range at its ends
        checks.append({k: v[end] for k, v in spec.uncertain.items() if isinstance(v, tuple)})
    for k, v in spec.uncertain.items():  # every value of every list
        checks += [{k: x} for x in v] if isinstance(v, list) else []
    for sample in checks:
        over = json.loads(json.dumps(spec.overrides))
        try:
            for k, v in sample.items():
                _set_path(over, k, _jsonable(v))
            load_scenario(src, overrides=over or None, named=spec.scenario in PRESETS)
        except QualsimError as exc:
            return _scenario_problem(spec, src, sample, path, exc, lines)
    return []


def _scenario_problem(
    spec: SweepSpec, src: str, sample: dict, path: Path, exc: QualsimError, lines
) -> list[str]:
    """Why the scenario with these uncertain values (or the overrides) is invalid: first an
    uncertain path the scenario lacks (with the paths meant), else the scenario's reason."""
    try:
        dump = load_scenario(src, named=spec.scenario in PRESETS).model_dump(mode="json")
    except QualsimError:
        dump = None
    for key in sample:
        unknown = unknown_path(key, dump, "the scenario", numbers=False) if dump else None
        if unknown is not None:
            line = lines.line_of(("uncertain", key)) if lines is not None else None
            return [f"{path}:{line or '?'}: uncertain.{key}: {unknown}"]
    doc = {"overrides": spec.overrides}
    moved = relocate(str(exc), path, lines, ("overrides",), doc) if lines else str(exc)
    if not sample and moved != str(exc):  # the overrides' problems, at their own lines
        return [
            f"{path}: the scenario with the sweep's overrides is invalid:",
            *moved.split("\n")[1:],
        ]
    what = f"uncertain values {sample}" if sample else "overrides"
    return [f"{path}: the scenario with the sweep's {what} is invalid: {plain_reason(str(exc))}"]


def scenario_source(spec: SweepSpec, base: Path | None) -> str:
    """The sweep's scenario: a preset name, or its file inside the sweep file's folder tree
    (ConfigError for an absolute path, ``..`` or a symlink leading out). Without a ``base`` (a
    spec built through the API) the scenario is the caller's own choice, taken as it is."""
    found = _scenario_path(spec.scenario, base) if base is not None else None
    return spec.scenario if found is None else str(found)


def _scenario_path(ref: str, base: Path) -> Path | None:
    """None for a preset, else the scenario file inside ``base`` (see SECURITY.md)."""
    return None if ref in PRESETS else resolve_reference(ref, base)


def _load_policy(ref: str, base: Path | None) -> pol.PolicyBase:
    """A sweep's policy: a shipped name or a file inside the sweep file's folder tree."""
    if base is None:
        return pol.load_policy(ref)
    return pol.load_policy(ref, relative_to=base / "sweep.yaml")  # any file name in ``base``


def config_hash(spec: SweepSpec, base: Path | None = None) -> str:
    """A short hash of what a sweep's cells depend on: the sweep file's content, the scenario it
    resolves to and every policy it loads (so editing a policy or scenario file is noticed).
    Not the package version, which each row records."""
    parts: dict[str, Any] = {"spec": spec.model_dump(mode="json")}
    try:
        src = scenario_source(spec, base)
        parts["scenario"] = load_scenario(src).model_dump(mode="json")
        parts["policies"] = [
            _load_policy(pg.policy, base).model_dump(mode="json", by_alias=True)
            for pg in spec.policies
        ]
    except QualsimError:
        pass  # load_sweep reports these; the hash then covers the spec alone
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _set_path(tree: dict, path: str, value) -> None:
    """Set ``tree[a][b]... = value`` for the dotted ``path`` ``a.b...``, making sections on the
    way; a path through a value (``accounts.count.x`` where ``accounts.count`` is a number) is
    a :class:`ConfigError`."""
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = tree
    for i, p in enumerate(parts[:-1]):
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            where = ".".join(map(str, parts[: i + 1]))
            raise ConfigError(
                f"{path}: {where} is a value ({node!r}), not a section, so it has no field "
                f"{parts[i + 1]!r}"
            )
    node[parts[-1]] = value


def _clashing_paths(paths: list[str], what: str) -> None:
    """Refuse two dotted paths of which one is inside the other (``accounts.count`` and
    ``accounts.count.x``): both cannot be set."""
    for a in paths:
        for b in paths:
            if b.startswith(a + "."):
                raise ValueError(f"{what}: {a!r} and {b!r} clash: {b!r} is inside {a!r}")


def _jsonable(v):
    return v.item() if isinstance(v, np.generic) else v
