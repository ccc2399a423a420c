"""Threshold sweeps under scenario uncertainty, with a resumable Parquet results store.

A sweep file (YAML, validated; errors name the file, line and field path)::

    name: q3-thresholds
    scenario: enterprise               # a preset or a scenario file (relative to this one)
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

**Cells.** A *unit* of work is one (scenario sample, replication): it simulates one world and
plays every policy variant on it (common random numbers: variants differ only by their rule).
Each unit writes one Parquet file ``cells/s{sample}-r{replication}.parquet`` atomically (a
temporary name, then a rename), with one row per (variant, tier, metric) and its provenance:
the sweep's config hash, the world seed and the package version. A sweep started again skips
the units whose file exists (for the same config hash), so a killed sweep resumes, losing at
most the units in flight, and never duplicates a row. ``results(out)`` loads them all.

**Executors.** Units run in local processes (default: one per core) or on a Dask cluster;
their seeds come from ``SeedSequence(seed)`` (samples and replications), so results do not
depend on the executor or the number of workers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from sim.config.chain import ConfigFile, validate_model
from sim.config.strict_yaml import read_yaml_file
from sim.config.types import Strict
from sim.errors import ConfigError, QualsimError
from sim.tables import SWEEP_CELLS

STORED_METRICS = [
    "handoffs_per_week",
    "precision",
    "recall",
    "lead_time_days",
    "queue_wait_hours",
    "acceptance_rate",
    "opportunities",
    "wins",
    "revenue",
    "false_handoff_hours",
    "total_wins",
    "total_revenue",
]
ROW_COLUMNS = SWEEP_CELLS.names
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
    n = (b - a) // d + 1 if ints else int(np.floor((b - a) / d + 1e-9)) + 1
    if n > 10_000:
        raise ValueError(f"{what}: {n} values is too many (at most 10,000)")
    vals = [a + i * d for i in range(n)]
    return vals if ints else [round(v, 12) for v in vals]


class PolicyGrid(Strict):
    policy: str = Field(description="a shipped policy name or a policy file")
    grid: dict[str, Any] = {}

    @field_validator("grid")
    @classmethod
    def _grid(cls, v: dict[str, Any]) -> dict[str, Any]:
        return {k: parse_values(spec, k) for k, spec in v.items()}


class Design(Strict):
    kind: str = "grid"
    samples: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 1
    levels: Annotated[int, Field(strict=True, ge=1, le=100)] = 3

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in ("grid", "lhs", "random"):
            raise ValueError(f"expected grid, lhs or random, got {v!r}")
        return v


class SweepSpec(Strict):
    name: str = "sweep"
    scenario: str = "enterprise"
    overrides: dict[str, Any] = {}
    seed: Annotated[int, Field(strict=True, ge=0)] = 0
    replications: Annotated[int, Field(strict=True, ge=1, le=10_000)] = 1
    design: Design = Design()
    uncertain: dict[str, Any] = {}
    policies: Annotated[list[PolicyGrid], Field(min_length=1)]
    tiers: bool = Field(True, description="also store the metrics of each tier")

    @field_validator("uncertain")
    @classmethod
    def _uncertain(cls, v: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for path, spec in v.items():
            if isinstance(spec, str) and _RANGE.match(spec):
                m = _RANGE.match(spec)
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
    from sim.world.presets import PRESETS

    if spec.scenario not in PRESETS and not (base / spec.scenario).exists():
        problems.append(f"{path}: scenario: no preset or file {spec.scenario!r}")
    import policies as pol

    names = {}
    for i, pg in enumerate(spec.policies):
        line = lines.line_of(("policies", i))
        try:
            p = _load_policy(pg.policy, base)
            for key, values in pg.grid.items():
                for v in values:
                    pol.with_value(p, key, v)
        except QualsimError as exc:
            problems.append(f"{path}:{line or '?'}: policies[{i}]: {exc}")
            continue
        if p.name in names:
            problems.append(
                f"{path}:{line or '?'}: policies[{i}]: policy name {p.name!r} is also "
                f"policies[{names[p.name]}]; give each policy a distinct name"
            )
        names.setdefault(p.name, i)
    if not problems:
        problems += _check_scenario(spec, base, path)
    if problems:
        raise ConfigError("\n".join(problems))
    return spec, base


def _check_scenario(spec: SweepSpec, base: Path, path: Path) -> list[str]:
    """The scenario must load with the overrides, with every uncertain range at its ends and
    with every value of every uncertain list."""
    from sim.world.presets import PRESETS, load_scenario

    src = spec.scenario if spec.scenario in PRESETS else str(base / spec.scenario)
    checks: list[dict] = [{}]
    for end in (0, -1):  # every range at its ends
        checks.append({k: v[end] for k, v in spec.uncertain.items() if isinstance(v, tuple)})
    for k, v in spec.uncertain.items():  # every value of every list
        checks += [{k: x} for x in v] if isinstance(v, list) else []
    for sample in checks:
        over = json.loads(json.dumps(spec.overrides))
        for k, v in sample.items():
            _set_path(over, k, _jsonable(v))
        try:
            load_scenario(src, overrides=over or None)
        except QualsimError as exc:
            what = f"uncertain values {sample}" if sample else "overrides"
            return [f"{path}: the scenario with the sweep's {what} is invalid: {exc}"]
    return []


def _load_policy(ref: str, base: Path | None):
    import policies as pol

    if base is not None and (base / ref).exists():
        return pol.load_policy(base / ref)
    return pol.load_policy(ref)


def config_hash(spec: SweepSpec, base: Path | None = None) -> str:
    """A short hash of what a sweep's cells depend on: the sweep file's content, the scenario it
    resolves to and every policy it loads (so editing a policy or scenario file is noticed).
    Not the package version, which each row records."""
    from sim.world.presets import PRESETS, load_scenario

    parts: dict[str, Any] = {"spec": spec.model_dump(mode="json")}
    try:
        src = spec.scenario if spec.scenario in PRESETS else str((base or Path()) / spec.scenario)
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
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = tree
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def scenario_samples(spec: SweepSpec) -> list[dict[str, Any]]:
    """The scenario samples of the design: one {path: value} per sample (one empty sample when
    nothing is uncertain). ``lhs`` and ``random`` draw from ``SeedSequence(seed)``."""
    u = spec.uncertain
    if not u:
        return [{}]
    names = list(u)
    kind = spec.design.kind
    if kind == "grid":
        axes = []
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
    n = spec.design.samples
    if kind == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(rng_seed)).random(n)
    else:
        unit = np.random.default_rng(rng_seed).random((n, len(names)))
    samples = []
    for row in unit:
        s = {}
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


def _jsonable(v):
    return v.item() if isinstance(v, np.generic) else v


def unit_seeds(spec: SweepSpec, n_samples: int) -> np.ndarray:
    """World seed of each (sample, replication): children of ``SeedSequence(seed)``."""
    root = np.random.SeedSequence(spec.seed)
    seeds = np.empty((n_samples, spec.replications), dtype=np.int64)
    for s, child in enumerate(root.spawn(n_samples)):
        for r, grand in enumerate(child.spawn(spec.replications)):
            seeds[s, r] = int(grand.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    return seeds


def variants(spec: SweepSpec, base: Path | None) -> list[tuple[str, str, dict, Any]]:
    """Every policy variant: (policy name, variant label, params, loaded policy)."""
    import policies as pol

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


def run_unit(
    spec: SweepSpec, base: Path | None, sample: int, sample_values: dict, rep: int, seed: int
) -> pd.DataFrame:
    """One (sample, replication): simulate, play every variant, return its rows."""
    import policies as pol
    from sim import __version__
    from sim.eventlog import EventLog
    from sim.sales.handoff import play_handoffs
    from sim.sales.metrics import handoff_metrics
    from sim.world.presets import PRESETS, load_scenario
    from sim.world.simulate import simulate

    over: dict = json.loads(json.dumps(spec.overrides))
    for path, value in sample_values.items():
        _set_path(over, path, _jsonable(value))
    src = spec.scenario if spec.scenario in PRESETS else str((base or Path()) / spec.scenario)
    sc = load_scenario(src, overrides=over or None)
    world = simulate(sc, seed=int(seed))
    log = EventLog.from_world(world)
    frame = pol.Frame(log)
    tiers = sorted(sc.accounts.tiers) if spec.tiers else []
    h = config_hash(spec, base)
    rows = []
    for name, label, params, handoffs in _evaluate_variants(spec, base, log, frame):
        res = play_handoffs(world, handoffs)
        for tier in [None, *tiers]:
            m = handoff_metrics(world, res, tier, coverage=False)
            for metric in STORED_METRICS:
                rows.append(
                    (
                        sample,
                        rep,
                        name,
                        label,
                        json.dumps(params),
                        -1 if tier is None else tier,
                        metric,
                        m[metric],
                        int(seed),
                        h,
                        __version__,
                    )
                )
    df = pd.DataFrame(rows, columns=ROW_COLUMNS)
    for path, value in sample_values.items():
        df[f"u:{path}"] = float(value) if isinstance(value, int | float) else str(value)
    return df


def _evaluate_variants(spec: SweepSpec, base: Path | None, log, frame):
    """(policy name, label, params, handoffs) of every variant. A grid over one path uses
    ``policies.sweep`` (one pass over the log where the policy kind allows it); others loop
    ``policies.evaluate`` over a shared Frame."""
    import policies as pol

    all_variants = variants(spec, base)
    i = 0
    for pg in spec.policies:
        n = int(np.prod([len(v) for v in pg.grid.values()])) if pg.grid else 1
        chunk = all_variants[i : i + n]
        i += n
        if len(pg.grid) == 1:
            ((path, values),) = pg.grid.items()
            p0 = _load_policy(pg.policy, base)
            swept = pol.sweep(p0, log, path, values)
            by_value = dict(iter(swept.groupby("value", sort=False)))
            for (name, label, params, _), v in zip(chunk, values, strict=True):
                q = by_value.get(v)
                q = swept.iloc[:0] if q is None else q
                yield name, label, params, q.drop(columns="value").reset_index(drop=True)
        else:
            for name, label, params, p in chunk:
                yield name, label, params, pol.evaluate(p, log, frame)


def _unit_file(out: Path, sample: int, rep: int) -> Path:
    return out / "cells" / f"s{sample:05d}-r{rep:04d}.parquet"


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    base: Path | None = None,
    workers: int = 0,
    executor: str = "local",
    scheduler: str | None = None,
    client=None,
    progress: Callable[[int, int], None] | None = None,
    limit: int | None = None,
) -> dict[str, int]:
    """Run (or resume) a sweep into ``out``. Returns counts: units total, done before, run now.

    ``executor``: "local" (processes; ``workers`` 0 = one per core, 1 = in this process) or
    "dask" (``scheduler`` address, or a ``dask.distributed.Client`` as ``client``). ``limit``
    runs at most that many missing units (for tests of resuming).
    """
    out = Path(out)
    variants(spec, base)  # fail early on bad policies, before anything is written
    h = config_hash(spec, base)
    (out / "cells").mkdir(parents=True, exist_ok=True)
    meta = out / "sweep.json"
    if meta.exists():
        old = json.loads(meta.read_text(encoding="utf-8"))
        if old.get("config_hash") != h:
            raise QualsimError(
                f"{out}: holds results of a different sweep (config hash {old.get('config_hash')}"
                f", this one {h}); use another --out folder"
            )
    else:
        from sim.files import write_text

        write_text(
            meta, json.dumps({"config_hash": h, "spec": spec.model_dump(mode="json")}, indent=2)
        )
    samples = scenario_samples(spec)
    seeds = unit_seeds(spec, len(samples))
    units = [(s, r) for s in range(len(samples)) for r in range(spec.replications)]
    todo = [(s, r) for s, r in units if not _unit_file(out, s, r).exists()]
    done_before = len(units) - len(todo)
    if limit is not None:
        todo = todo[:limit]
    if progress:
        progress(done_before, len(units))
    args = [(spec, base, s, samples[s], r, int(seeds[s, r])) for s, r in todo]
    finished = 0

    def store(i: int, df: pd.DataFrame) -> None:
        nonlocal finished
        s, r = todo[i]
        _write_atomic(df, _unit_file(out, s, r))
        finished += 1
        if progress:
            progress(done_before + finished, len(units))

    if executor == "dask":
        _run_dask(args, store, scheduler, client)
    elif executor == "local":
        n = workers or os.cpu_count() or 1
        if n == 1 or len(args) <= 1:
            for i, a in enumerate(args):
                store(i, run_unit(*a))
        else:
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(min(n, len(args))) as ex:
                futs = {ex.submit(run_unit, *a): i for i, a in enumerate(args)}
                for f in as_completed(futs):
                    store(futs[f], f.result())
    else:
        raise QualsimError(f"--executor: expected local or dask, got {executor!r}")
    return {"units": len(units), "done_before": done_before, "ran": finished}


def _run_dask(args, store, scheduler, client) -> None:
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise QualsimError(
            "--executor dask needs dask.distributed: pip install 'qualsim[dask]'"
        ) from None
    own = client is None
    if own:
        if not scheduler:
            raise QualsimError("--executor dask needs --scheduler tcp://host:port")
        client = Client(scheduler)
    try:
        futs = [client.submit(run_unit, *a, pure=False) for a in args]
        index = {f.key: i for i, f in enumerate(futs)}
        for f in as_completed(futs):
            store(index[f.key], f.result())
    finally:
        if own:
            client.close()


def results(out: str | Path) -> pd.DataFrame:
    """Every stored row of a sweep folder (empty with the right columns if none yet)."""
    files = sorted((Path(out) / "cells").glob("s*-r*.parquet"))
    if not files:
        return pd.DataFrame(columns=ROW_COLUMNS)
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
