"""The experimental design of a sweep: scenario samples (grid, Latin hypercube or random), the
world seed of every (sample, replication), and every policy variant of the grids."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

import policies as pol
from sim.errors import ConfigError
from sim.experiment.sweep.spec import SweepSpec, _jsonable, _load_policy


def scenario_samples(spec: SweepSpec) -> list[dict[str, Any]]:
    """The scenario samples of the design: one {path: value} per sample (one empty sample when
    nothing is uncertain). ``lhs`` and ``random`` draw from ``SeedSequence(seed)``."""
    u = spec.uncertain
    if not u:
        return [{}]
    names = list(u)
    kind = spec.design.kind
    if kind == "grid":
        axes: list[list] = []
        for n in names:
            v = u[n]
            if isinstance(v, tuple) and isinstance(v[0], int):
                axes.append(
                    sorted({int(x) for x in np.rint(np.linspace(v[0], v[1], spec.design.levels))})
                )
            elif isinstance(v, tuple):
                axes.append([float(x) for x in np.linspace(v[0], v[1], spec.design.levels)])
            else:
                axes.append(v)
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
    return seed_table(spec.seed, spec.replications, n_samples)


def seed_table(seed: int, replications: int, n_samples: int) -> np.ndarray:
    """:func:`unit_seeds` from the root seed and the design's shape (what ``sweep.json``
    records, so a reader checks each cell's world seed without the sweep file)."""
    root = np.random.SeedSequence(seed)
    seeds = np.empty((n_samples, replications), dtype=np.int64)
    for s, child in enumerate(root.spawn(n_samples)):
        for r, grand in enumerate(child.spawn(replications)):
            seeds[s, r] = int(grand.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    return seeds


def variants(spec: SweepSpec, base: Path | None) -> list[tuple[str, str, dict, Any]]:
    """Every policy variant: (policy name, variant label, params, loaded policy)."""

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
