"""The simulated world: a scenario, its accounts and buying committees, their latent journeys
(SimPy) and every touch they leave, with the ground truth kept apart.

- :func:`load_scenario` (presets, YAML files, dicts, overrides) and :class:`Scenario`;
- :func:`simulate` → :class:`World` (accounts, contacts, events, truth, campaigns);
- :func:`summarize`, and the account progression of a world (:func:`stage_distribution`,
  :func:`progression`, :func:`campaign_influence`).

Names are imported on first use (the command line reads the preset names without loading the
simulator).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim._lazy import lazy_api

if TYPE_CHECKING:
    from sim.world.presets import DEFAULT_SCENARIO, PRESETS, load_scenario, preset_path
    from sim.world.progression import (
        ACCOUNT_STAGES,
        campaign_influence,
        progression,
        stage_distribution,
    )
    from sim.world.scenario import Scenario
    from sim.world.simulate import TABLES, World, simulate
    from sim.world.summary import summarize

_LAZY = {
    # scenarios
    "DEFAULT_SCENARIO": "sim.world.presets",
    "PRESETS": "sim.world.presets",
    "Scenario": "sim.world.scenario",
    "load_scenario": "sim.world.presets",
    "preset_path": "sim.world.presets",
    # simulating
    "TABLES": "sim.world.simulate",
    "World": "sim.world.simulate",
    "simulate": "sim.world.simulate",
    # looking at a world
    "ACCOUNT_STAGES": "sim.world.progression",
    "campaign_influence": "sim.world.progression",
    "progression": "sim.world.progression",
    "stage_distribution": "sim.world.progression",
    "summarize": "sim.world.summary",
}
__all__ = list(_LAZY)
__getattr__, __dir__ = lazy_api(__name__, _LAZY, globals())
