"""The same scenario and seed give the same world, byte for byte, across code changes.

The digests below are pinned on purpose: a change that moves any simulated value must change
them deliberately, in its own commit, with the reason — as for the regression baseline. They
were first computed on the code before the architecture refactor (commit f8db2ea; the refactor
left them unchanged), changed by the credible-world work (people unknown until they raise a
hand, CRM roles from titles, early stalls, the presets recalibrated to every band) and last by
messy CRM data (issue 14: the presets' duplicate contacts and email scanners change the contacts
and events only, and contacts gained the truth column duplicate_of; with every data_quality
knob off the world is the one pinned before, which ``PINNED_CLEAN`` keeps). The
digest covers every column's name and values (integers as int64, floats as float64 bytes,
booleans as bytes, text as its values), so it does not depend on how pandas names dtypes.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import sim
from sim.world.data_quality import CLEAN

PINNED = {
    ("enterprise", 300, 7): {
        "accounts": "b62682a59792da20",
        "contacts": "bfed9197c19d655e",
        "events": "9fd88bfdf26022ab",
        "truth": "e8aa4e6d5e56913e",
        "campaigns": "d76634945c200e42",
    },
    ("smb", 500, 3): {
        "accounts": "a265d38b0e87eb9c",
        "contacts": "debba6ea8e9812f0",
        "events": "b52611fbed76b222",
        "truth": "dbe659de7b8db74c",
        "campaigns": "c4e10f0404c21b3a",
    },
}

# The same worlds with every data_quality knob off: the digests pinned before issue 14.
PINNED_CLEAN = {
    key: {**pins, **old}
    for (key, pins), old in zip(
        PINNED.items(),
        [
            {"contacts": "74d65b39faf7b451", "events": "8c1833c0b836ceb6"},
            {"contacts": "97e14d797a371e7d", "events": "2781fe958d996043"},
        ],
        strict=True,
    )
}


def _column(h: hashlib._Hash, col: pd.Series) -> None:
    if pd.api.types.is_bool_dtype(col.dtype):
        h.update(b"bool" + col.to_numpy(dtype=np.uint8).tobytes())
    elif pd.api.types.is_integer_dtype(col.dtype):
        h.update(b"int" + col.to_numpy(dtype="<i8").tobytes())
    elif pd.api.types.is_float_dtype(col.dtype):
        h.update(b"float" + col.to_numpy(dtype="<f8").tobytes())
    else:
        h.update(b"text" + "\x1f".join(map(str, col.tolist())).encode())


def digest(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for c in df.columns:
        h.update(str(c).encode())
        _column(h, df[c])
    return h.hexdigest()[:16]


@pytest.mark.parametrize("key", list(PINNED), ids=lambda k: f"{k[0]}-{k[1]}-seed{k[2]}")
def test_a_seed_reproduces_the_pinned_world(key: tuple[str, int, int]) -> None:
    preset, count, seed = key
    w = sim.simulate(sim.load_scenario(preset, overrides={"accounts": {"count": count}}), seed=seed)
    assert {name: digest(t) for name, t in w.tables().items()} == PINNED[key]


@pytest.mark.parametrize("key", list(PINNED_CLEAN), ids=lambda k: f"{k[0]}-{k[1]}-seed{k[2]}")
def test_without_messy_data_a_seed_reproduces_the_world_pinned_before(key) -> None:
    preset, count, seed = key
    over = {"accounts": {"count": count}, "data_quality": CLEAN}
    w = sim.simulate(sim.load_scenario(preset, overrides=over), seed=seed)
    tables = w.tables()
    # the one new column, contacts.duplicate_of (truth), is -1 for everyone: no duplicates
    assert (tables["contacts"]["duplicate_of"] == -1).all()
    tables["contacts"] = tables["contacts"].drop(columns="duplicate_of")
    assert {name: digest(t) for name, t in tables.items()} == PINNED_CLEAN[key]


def test_the_digest_sees_a_one_bit_change() -> None:
    w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 50}}), seed=1)
    ev = w.events.copy()
    before = digest(ev)
    ev.loc[ev.index[-1], "time"] = np.nextafter(ev["time"].iloc[-1], np.inf)
    assert digest(ev) != before
