"""The YAML loader behind :func:`sim.config.strict_yaml.load_yaml`: PyYAML's safe loader with
dates kept as text, nesting bounded to :data:`MAX_DEPTH` levels, integers to
:data:`MAX_INT_DIGITS` digits, and floats finite (``.inf``, ``.nan`` and ``1e999`` are errors:
a non-finite threshold or window silently disables a rule)."""

from __future__ import annotations

import math

import yaml
from yaml.nodes import Node, ScalarNode

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "StrictLoader"]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
MAX_DEPTH = 64
"""Deepest nesting of lists and mappings a config file may have (the presets use 6)."""
MAX_INT_DIGITS = 30
"""Longest integer a config file may spell (Python refuses to parse over 4,300 digits)."""


class StrictLoader(yaml.SafeLoader):
    """SafeLoader without implicit timestamp resolution (dates stay strings), with a bounded
    nesting depth (PyYAML composes recursively: 100,000 ``[`` would exhaust the stack)."""

    yaml_implicit_resolvers = {  # mirrors PyYAML's class attribute
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        """Compose one node, refusing nesting deeper than :data:`MAX_DEPTH`."""
        if self._depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(
                None, None, f"lists and mappings nest deeper than {MAX_DEPTH} levels", mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_int(loader: yaml.SafeLoader, node: ScalarNode) -> int:
    """An int, refusing more than :data:`MAX_INT_DIGITS` digits."""
    if len(node.value) > MAX_INT_DIGITS:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"a whole number of {len(node.value):,} characters is too long "
            f"(at most {MAX_INT_DIGITS})",
            node.start_mark,
        )
    return int(loader.construct_yaml_int(node))


def _construct_float(loader: yaml.SafeLoader, node: ScalarNode) -> float:
    """A finite float: ``.inf``, ``-.inf``, ``.nan`` and ``1e999`` are errors in config."""
    value = float(loader.construct_yaml_float(node))
    if not math.isfinite(value):
        raise yaml.constructor.ConstructorError(
            None,
            None,
            "numbers in config must be finite, not infinite or NaN "
            "(write a finite number, or leave the key out where that means 'no limit')",
            node.start_mark,
        )
    return value


# An explicit ``!!timestamp`` tag is kept as its text too: no date objects ever come out.
StrictLoader.add_constructor(_TIMESTAMP_TAG, yaml.SafeLoader.construct_yaml_str)
StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
