"""Reading config files of every kind the same way: strict YAML (duplicate keys are errors,
dates stay text), ``extends`` chains with deep merges, shared field types, and validation errors
that name the file, the line, the field path and what was expected."""

from sim.config.chain import (
    ConfigFile,
    LocatedError,
    deep_merge,
    load_config_chain,
    replaces_whole,
    validate_model,
)
from sim.config.strict_yaml import LineMap, did_you_mean, load_yaml, read_yaml_file

__all__ = [
    "ConfigFile",
    "LineMap",
    "LocatedError",
    "deep_merge",
    "did_you_mean",
    "load_config_chain",
    "load_yaml",
    "read_yaml_file",
    "replaces_whole",
    "validate_model",
]
