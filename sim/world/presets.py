"""Loading scenarios: the shipped presets, YAML files that ``extend`` them, dicts, overrides.

>>> sc = load_scenario("enterprise")
>>> sc.name, sc.accounts.count > 0
('enterprise', True)
>>> load_scenario("enterprise", overrides={"accounts": {"count": 50}}).accounts.count
50
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from sim.config.chain import (
    ConfigFile,
    deep_merge,
    load_config_chain,
    replaces_whole,
    validate_model,
)
from sim.config.files import resolve_reference
from sim.config.strict_yaml import LineMap, did_you_mean
from sim.errors import ConfigError
from sim.world.names import DEFAULT_SCENARIO, PRESETS
from sim.world.scenario import Scenario

__all__ = ["DEFAULT_SCENARIO", "PRESETS", "load_scenario", "preset_path"]


def preset_path(name: str) -> Path:
    """The file of a shipped preset scenario."""
    return Path(str(resources.files("sim.world") / "scenarios" / f"{name}.yaml"))


def _resolve(ref: str, relative_to: Path | None) -> Path:
    """A preset by name, a path the user gave (``relative_to`` None), or a file ``extends``
    names: inside the folder tree of the file that names it (``sim.config.files``)."""
    if ref in PRESETS:
        return preset_path(ref)
    p = Path(ref)
    if relative_to is not None:
        p = resolve_reference(ref, relative_to.parent)
    if p.suffix not in (".yaml", ".yml") and not p.exists():
        raise ConfigError(
            f"{ref}: not a preset scenario ({', '.join(PRESETS)}) nor a YAML file"
            + did_you_mean(ref, PRESETS)
        )
    return p


def load_scenario(
    source: str | Path | Scenario | dict[str, Any] = DEFAULT_SCENARIO,
    overrides: dict[str, Any] | None = None,
    *,
    named: bool = True,
) -> Scenario:
    """Load and validate a scenario: a preset name, a YAML path, a dict or a Scenario.

    ``overrides`` is merged on top (nested dicts merge, other values replace), e.g.
    ``{"accounts": {"count": 500}}``. Raises ``ConfigError`` naming the file, line, field path
    and what was expected. The file named here may be anywhere; the files it ``extends`` must
    be presets or lie in its own folder tree (no absolute paths, no ``..``). ``named=False``
    says the user did not name the file (a sweep references it): errors then give its name,
    lines and field paths but not its values.
    """
    rule = replaces_whole(Scenario)
    chain: list[ConfigFile]
    if isinstance(source, Scenario):
        if not overrides:
            return source
        data, chain = source.model_dump(mode="python"), []
    elif isinstance(source, dict):
        data, chain = dict(source), []
        if data.get("extends"):
            base, chain = load_config_chain(_resolve(str(data["extends"]), None), _resolve, rule)
            data = deep_merge(base, data, rule)
        chain.insert(0, ConfigFile(Path("<dict>"), source, LineMap(None)))
    else:
        data, chain = load_config_chain(_resolve(str(source), None), _resolve, rule, named)
    if overrides:
        data = deep_merge(data, overrides, rule)
        chain.insert(0, ConfigFile(Path("<overrides>"), overrides, LineMap(None)))
    return validate_model(Scenario, data, chain, what="scenario")
