"""Property: whatever happens to a sweep folder, its readers see only whole cells of the
folder's current configuration.

Four configurations of a tiny sweep (2 scenario samples x 2 replications) are run once for
real: A; B with other thresholds (other variants); C, A renamed (the same seeds and variants,
only the config hash differs); D with another seed. Hypothesis then applies random operations to
one folder: runs of any configuration, killed after a random number of units (a unit's
temporary file left behind), truncated and deleted cells, cells of another configuration copied
in, ``sweep.json`` deleted, corrupted or replaced by another configuration's. Runs replay the
stored cells of their configuration instead of simulating (an executor that returns them), so
every resume, refusal and write is the real code's. After every operation ``results`` (what
``recommend`` and the report read) and ``query`` either refuse with a ``QualsimError`` (no or a
corrupt ``sweep.json``) or return only rows of ``sweep.json``'s configuration, each unit equal
to that configuration's own rows, none repeated; a run that finishes leaves exactly its
configuration's rows.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import QualsimError
from sim.experiment.executors import Executor
from sim.experiment.recommend import summary
from sim.experiment.sweep import SweepSpec, results, run_sweep
from sim.experiment.sweep.query import query
from sim.experiment.sweep.store import unit_file

TINY = """\
name: tiny
scenario: smb
overrides: {accounts: {count: 40}}
seed: 4
replications: 2
design: {kind: lhs, samples: 2}
uncertain:
  touches.identification_rate: 0.2..0.5
policies:
  - policy: mql_only
    grid: {threshold: [60, 100]}
"""
CONFIGS = {
    "A": TINY,
    "B": TINY.replace("[60, 100]", "[60, 80]"),
    "C": TINY.replace("name: tiny", "name: renamed"),
    "D": TINY.replace("seed: 4", "seed: 5"),
}
UNITS = [(s, r) for s in range(2) for r in range(2)]
KEY = ["sample", "replication", "policy", "variant", "tier", "metric"]


class Replay(Executor):
    """Returns the stored rows of each unit (no simulation); dies after ``kill_after`` units,
    leaving the next unit's temporary file behind as a killed writer would."""

    def __init__(self, cells: dict[tuple[int, int], pd.DataFrame], out: Path, kill_after: int):
        self.cells, self.out, self.kill_after = cells, out, kill_after

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        for i, args in enumerate(tasks):
            unit = (args[2], args[4])
            if i == self.kill_after:
                path = unit_file(self.out, *unit)
                path.with_name(f".{path.name}.999999.partial").write_bytes(b"PAR1 half")
                raise KeyboardInterrupt("killed")
            yield i, self.cells[unit].copy()


def spec_of(text: str) -> SweepSpec:
    return SweepSpec.model_validate(yaml.safe_load(text))


def sorted_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY, kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, dict]:
    """Each configuration run whole, for real: its folder, hash, cells and rows per unit."""
    root = tmp_path_factory.mktemp("configs")
    out = {}
    for name, text in CONFIGS.items():
        folder = root / name
        run_sweep(spec_of(text), folder, workers=1)
        rows = results(folder)
        out[name] = {
            "folder": folder,
            "spec": spec_of(text),
            "hash": json.loads((folder / "sweep.json").read_text("utf-8"))["config_hash"],
            "units": {u: sorted_rows(g) for u, g in rows.groupby(["sample", "replication"])},
        }
    assert len({c["hash"] for c in out.values()}) == len(CONFIGS)
    return out


names = st.sampled_from(sorted(CONFIGS))
units = st.sampled_from(UNITS)
OPS = st.one_of(
    st.tuples(st.just("run"), names, st.integers(0, 4)),  # killed after n units (4: finishes)
    st.tuples(st.just("truncate"), units),
    st.tuples(st.just("delete_cell"), units),
    st.tuples(st.just("inject"), names, units),
    st.tuples(st.just("delete_meta")),
    st.tuples(st.just("corrupt_meta")),
    st.tuples(st.just("replace_meta"), names),
)


def current(out: Path, world: dict) -> str | None:
    """The configuration whose sweep.json the folder holds, if any."""
    try:
        h = json.loads((out / "sweep.json").read_text("utf-8"))["config_hash"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return next((n for n, c in world.items() if c["hash"] == h), None)


def apply(op: tuple, out: Path, world: dict) -> None:
    kind, *args = op
    cells = out / "cells"
    if kind == "run":
        name, kill_after = args
        c = world[name]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the cells it leaves out: checked below
                run_sweep(c["spec"], out, executor=Replay(c["units"], out, kill_after))
        except (QualsimError, KeyboardInterrupt):
            return
        assert current(out, world) == name
        got = sorted_rows(results(out))  # a finished run leaves exactly its rows
        pd.testing.assert_frame_equal(got, sorted_rows(pd.concat(c["units"].values())))
    elif kind in ("truncate", "delete_cell"):
        path = unit_file(out, *args[0])
        if path.exists() and kind == "truncate":
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
        elif path.exists():
            path.unlink()
    elif kind == "inject":
        name, unit = args
        cells.mkdir(parents=True, exist_ok=True)
        shutil.copy(unit_file(world[name]["folder"], *unit), unit_file(out, *unit))
    elif kind == "delete_meta":
        (out / "sweep.json").unlink(missing_ok=True)
    elif kind == "corrupt_meta":
        (out / "sweep.json").write_text('{"config_hash": "', "utf-8")
    else:
        shutil.copy(world[args[0]]["folder"] / "sweep.json", out / "sweep.json")


def check_readers(out: Path, world: dict) -> None:
    """results and query see only whole cells of the folder's configuration."""
    name = current(out, world)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            df = results(out)
        except QualsimError:
            assert name is None, "a folder with a valid sweep.json must be readable"
            return
        try:
            q = query(
                out,
                "SELECT config_hash, sample, replication, count(*) AS n FROM cells GROUP BY ALL",
            )
        except QualsimError as exc:
            assert df.empty and "no results" in str(exc)
            q = None
    if df.empty:
        return
    assert name is not None
    expected = world[name]
    assert set(df["config_hash"]) == {expected["hash"]}
    assert not df.duplicated(KEY).any()
    for unit, g in df.groupby(["sample", "replication"]):
        pd.testing.assert_frame_equal(sorted_rows(g), expected["units"][unit])
    assert q is not None and set(q["config_hash"]) == {expected["hash"]}
    assert q["n"].sum() == len(df)
    assert set(zip(q["sample"], q["replication"], strict=True)) == set(
        df.groupby(["sample", "replication"]).groups
    )
    assert (summary(df)["cells"] <= len(UNITS)).all()  # what recommend reads


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, min_size=1, max_size=10))
def test_readers_only_ever_see_the_current_configuration(world: dict, ops: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        out.mkdir()
        for op in ops:
            apply(op, out, world)
            check_readers(out, world)
