"""Shared fixtures: small scenarios that simulate in a fraction of a second."""

from __future__ import annotations

import pytest

import sim
from sim.config.chain import deep_merge
from sim.world.data_quality import CLEAN


def _small(preset: str = "enterprise", count: int = 60, overrides: dict | None = None):
    # The world as drawn: messy-data knobs off unless a test turns them on (test_messy.py)
    over = deep_merge({"accounts": {"count": count}, "data_quality": CLEAN}, overrides or {})
    return sim.load_scenario(preset, overrides=over)


@pytest.fixture(scope="session")
def small_scenario():
    """Factory: ``small_scenario(preset, count, overrides)`` — a preset with few accounts."""
    return _small


@pytest.fixture(scope="session")
def small_world() -> sim.World:
    """An enterprise world of 120 accounts (seed 11), shared by read-only tests."""
    return sim.simulate(_small(count=120), seed=11)
