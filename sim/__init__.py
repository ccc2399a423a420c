"""qualsim: simulate B2B buying journeys and test qualification rules before rolling them out.

>>> import sim
>>> world = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 20}}), seed=7)
>>> sorted(world.tables())
['accounts', 'campaigns', 'contacts', 'events', 'truth']
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qualsim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

from .compare import Comparison, compare
from .errors import ConfigError, DataError, QualsimError
from .events import EventLog, World
from .scenario import DEFAULT_SCENARIO, PRESETS, Scenario, load_scenario
from .simulate import simulate

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
    "simulate",
]
