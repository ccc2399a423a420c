"""Reading config files of every kind the same way: only small regular files, strict YAML
(duplicate keys are errors, dates stay text, numbers finite, nesting bounded), references that
stay inside the referencing file's folder tree, ``extends`` chains with deep merges, shared field
types, and validation errors that name the file, the line, the field path and what was
expected (see SECURITY.md)."""

from sim.config.chain import (
    ConfigFile,
    LocatedError,
    deep_merge,
    load_config_chain,
    replaces_whole,
    validate_model,
)
from sim.config.files import (
    MAX_CONFIG_BYTES,
    read_config_bytes,
    read_config_text,
    resolve_reference,
)
from sim.config.strict_yaml import LineMap, did_you_mean, load_yaml, read_yaml_file

__all__ = [
    "MAX_CONFIG_BYTES",
    "ConfigFile",
    "LineMap",
    "LocatedError",
    "deep_merge",
    "did_you_mean",
    "load_config_chain",
    "load_yaml",
    "read_config_bytes",
    "read_config_text",
    "read_yaml_file",
    "resolve_reference",
    "replaces_whole",
    "validate_model",
]
