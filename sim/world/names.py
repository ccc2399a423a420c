"""The names of the shipped preset scenarios, without loading them: the command line shows
them in its help, and every command imports it (:mod:`sim.world.presets` loads and validates
the scenarios, with pydantic and the scenario model)."""

PRESETS = ("enterprise", "smb")
DEFAULT_SCENARIO = "enterprise"
