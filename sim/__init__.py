"""qualsim: simulate B2B buying journeys and test qualification rules before rolling them out.

The package follows the pipeline (see ARCHITECTURE.md): ``sim.world`` simulates a world,
``sim.eventlog`` is what a policy may see of it, ``policies`` turns a log into handoffs,
``sim.sales`` plays them through a sales team, ``sim.experiment`` compares, sweeps and gates,
``sim.real`` reads and replays a team's own exports, ``sim.report`` and ``sim.cli`` present it.

The names below are the public API; each is imported on first use (PEP 562), so
``import sim`` costs almost nothing and a command pays only for what it uses.

>>> import sim
>>> world = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 20}}), seed=7)
>>> sorted(world.tables())
['accounts', 'campaigns', 'contacts', 'events', 'truth']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim._lazy import lazy_api
from sim.errors import ConfigError, DataError, QualsimError

if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers and editors
    from sim._version import __version__
    from sim.eventlog import EventLog
    from sim.experiment.compare import Comparison, compare
    from sim.experiment.robustness import robustness
    from sim.world.presets import DEFAULT_SCENARIO, PRESETS, load_scenario
    from sim.world.scenario import Scenario
    from sim.world.simulate import World, simulate

# The public API, grouped as the pipeline runs: name -> module that defines it.
_LAZY = {
    "__version__": "sim._version",
    # scenario and world
    "Scenario": "sim.world.scenario",
    "load_scenario": "sim.world.presets",
    "PRESETS": "sim.world.presets",
    "DEFAULT_SCENARIO": "sim.world.presets",
    "World": "sim.world.simulate",
    "simulate": "sim.world.simulate",
    # what a policy sees
    "EventLog": "sim.eventlog",
    # experiments
    "Comparison": "sim.experiment.compare",
    "compare": "sim.experiment.compare",
    "robustness": "sim.experiment.robustness",
}

__all__ = [
    "DEFAULT_SCENARIO",
    "PRESETS",
    "Comparison",
    "ConfigError",
    "DataError",
    "EventLog",
    "QualsimError",
    "Scenario",
    "World",
    "__version__",
    "compare",
    "load_scenario",
    "robustness",
    "simulate",
]


__getattr__, __dir__ = lazy_api(__name__, _LAZY, globals())
