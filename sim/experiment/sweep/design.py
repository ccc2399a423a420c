"""The experimental design of a sweep: scenario samples (grid, Latin hypercube or random), the
world seed of every (sample, replication), and every policy variant of the grids."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

import policies as pol
from sim.errors import ConfigError
from sim.experiment.sweep.spec import (
    SweepSpec,
    _jsonable,
    _load_policy,
    _set_path,
    scenario_source,
)
from sim.experiment.sweep.store import seed_table
from sim.limits import check_count
from sim.world.presets import load_scenario
from sim.world.simulate import check_world_fits

# The caps on a sweep's size (docs/sweeps.md, "Limits"), checked by counting before anything is
# expanded: scenario samples (a grid design: the product of its axes' level counts), units
# (samples x replications, each simulates one world) and policy variants (the sum over policies
# of the product of their grids' value counts; every unit plays each one).
MAX_SAMPLES = 100_000
MAX_UNITS = 1_000_000
MAX_VARIANTS = 10_000


def _grid_axes(spec: SweepSpec) -> list[list]:
    """The values of each uncertain parameter in a grid design (at most ``levels`` each)."""
    axes: list[list] = []
    for v in spec.uncertain.values():
        if isinstance(v, tuple) and isinstance(v[0], int):
            axes.append(
                sorted({int(x) for x in np.rint(np.linspace(v[0], v[1], spec.design.levels))})
            )
        elif isinstance(v, tuple):
            axes.append([float(x) for x in np.linspace(v[0], v[1], spec.design.levels)])
        else:
            axes.append(v)
    return axes


def count_samples(spec: SweepSpec) -> int:
    """How many scenario samples the design has, without making them."""
    if not spec.uncertain:
        return 1
    if spec.design.kind == "grid":
        return math.prod(len(axis) for axis in _grid_axes(spec))
    return spec.design.samples


def count_variants(spec: SweepSpec) -> int:
    """How many policy variants the sweep plays on every unit, without making them."""
    return sum(math.prod(len(v) for v in pg.grid.values()) for pg in spec.policies)


def check_size(spec: SweepSpec) -> None:
    """Refuse (``LimitError``, exit 2) a sweep above a cap, naming its size and the cap."""
    n = count_samples(spec)
    if spec.design.kind == "grid" and spec.uncertain:
        sizes = " x ".join(f"{len(a):,}" for a in _grid_axes(spec))
        check_count(
            n,
            MAX_SAMPLES,
            f"sweep: the grid design has {sizes} = {n:,} scenario samples",
            "use fewer levels or an lhs/random design with `samples:`",
        )
    check_count(
        n * spec.replications,
        MAX_UNITS,
        f"sweep: {n:,} scenario samples x {spec.replications:,} replications = "
        f"{n * spec.replications:,} units (each simulates a world)",
        "use fewer samples or replications",
    )
    sizes = ", ".join(
        f"{pg.policy} " + " x ".join(f"{len(v):,}" for v in pg.grid.values())
        for pg in spec.policies
        if pg.grid
    )
    check_count(
        count_variants(spec),
        MAX_VARIANTS,
        f"sweep: {count_variants(spec):,} policy variants ({sizes})",
        "make the policy grids coarser (e.g. '10..100 by 10')",
    )


_WORLDS_FIT: set[tuple[str, str]] = set()  # sweeps whose largest world was found to fit


def check_world(spec: SweepSpec, base: Path | None) -> None:
    """Refuse (``LimitError``) a sweep whose world (with the largest uncertain
    ``accounts.count``, if that is uncertain) cannot fit in memory; checked once per sweep and
    process."""
    key = (spec.model_dump_json(), str(base))
    if key in _WORLDS_FIT:
        return
    over: dict = json.loads(json.dumps(spec.overrides))
    counts = spec.uncertain.get("accounts.count")
    if counts is not None:
        _set_path(over, "accounts.count", _jsonable(max(counts)))
    check_world_fits(load_scenario(scenario_source(spec, base), overrides=over or None))
    _WORLDS_FIT.add(key)


def scenario_samples(spec: SweepSpec) -> list[dict[str, Any]]:
    """The scenario samples of the design: one {path: value} per sample (one empty sample when
    nothing is uncertain). ``lhs`` and ``random`` draw from ``SeedSequence(seed)``."""
    check_size(spec)
    u = spec.uncertain
    if not u:
        return [{}]
    names = list(u)
    kind = spec.design.kind
    if kind == "grid":
        axes = _grid_axes(spec)
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
    rng_seed = np.random.SeedSequence([spec.seed, 0x5EED])
    n_samples = spec.design.samples
    if kind == "lhs":
        lhs = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(rng_seed))
        unit = lhs.random(n_samples)
    else:
        unit = np.random.default_rng(rng_seed).random((n_samples, len(names)))
    samples = []
    for row in unit:
        s: dict[str, Any] = {}
        for j, name in enumerate(names):
            v = u[name]
            if isinstance(v, tuple) and isinstance(v[0], int):  # whole numbers: lo..hi
                s[name] = int(v[0] + min(int(row[j] * (v[1] - v[0] + 1)), v[1] - v[0]))
            elif isinstance(v, tuple):
                s[name] = float(v[0] + row[j] * (v[1] - v[0]))
            else:
                s[name] = v[min(int(row[j] * len(v)), len(v) - 1)]
        samples.append(s)
    return samples


def unit_seeds(spec: SweepSpec, n_samples: int) -> np.ndarray:
    """World seed of each (sample, replication): children of ``SeedSequence(seed)``."""
    check_size(spec)
    return seed_table(spec.seed, spec.replications, n_samples)


def variants(spec: SweepSpec, base: Path | None) -> list[tuple[str, str, dict, Any]]:
    """Every policy variant: (policy name, variant label, params, loaded policy). Checks the
    sweep's size and its largest world first (:func:`check_size`, :func:`check_world`)."""
    check_size(spec)
    check_world(spec, base)
    out = []
    for pg in spec.policies:
        p0 = _load_policy(pg.policy, base)
        keys = list(pg.grid)
        for combo in itertools.product(*(pg.grid[k] for k in keys)) if keys else [()]:
            p = p0
            params = {k: _jsonable(v) for k, v in zip(keys, combo, strict=True)}
            for k, v in params.items():
                p = pol.with_value(p, k, v)
            label = ",".join(f"{k}={v}" for k, v in params.items()) or "as is"
            out.append((p0.name, label, params, p))
    names = [(n, lab) for n, lab, _, _ in out]
    if len(set(names)) != len(names):
        raise ConfigError("sweep: two policies share a name; give each policy a distinct name")
    return out
