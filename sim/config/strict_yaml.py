r"""Strict YAML reading for config files (scenarios, policies), with errors that point to a line.

Config files are written by hand, so the reader is deliberately strict, in the spirit of
OpenFisca's loader:

* **Duplicate keys are an error.** Plain PyYAML silently keeps the last one, so a pasted
  ``window_days:`` overrides the one above it and nobody notices.
* **Dates stay strings.** ``start: 2024-01-05`` gives ``"2024-01-05"``, not a
  ``datetime.date``; the schema (pydantic) decides what a field is, not the YAML resolver.
  Booleans, ints, floats and null resolve as in YAML 1.1 safe loading.
* **Only safe constructs.** ``!!python/...`` tags are rejected.
* **Errors name the file and line.** Syntax errors become one readable paragraph
  (``my.yaml:14:3: YAML syntax error: ...``), and :class:`LineMap` maps a field path — as
  pydantic reports it in ``error["loc"]`` — back to the line the user has to edit.

Typical use::

    data, lines = read_yaml_file("scenario.yaml")
    try:
        Scenario.model_validate(data)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        line = lines.line_of(err["loc"])
        raise ConfigError(f"scenario.yaml:{line}: {format_path(err['loc'], data)}: {err['msg']}")

>>> data, lines = load_yaml("window_days: 30\nstart: 2024-01-05\n", "demo.yaml")
>>> data
{'window_days': 30, 'start': '2024-01-05'}
>>> lines.line_of(("start",))
2
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sim.config.files import read_config_text
from sim.config.loader import StrictLoader
from sim.errors import ConfigError

__all__ = [
    "FieldPath",
    "LineMap",
    "did_you_mean",
    "format_path",
    "load_yaml",
    "read_yaml_file",
]

FieldPath = Sequence[str | int]
"""A path into loaded data: str mapping keys and int list indices (or int mapping keys)."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_FLOAT_TAG = "tag:yaml.org,2002:float"


class LineMap:
    r"""Maps a field path to the 1-based line of the YAML node at that path.

    Built by :func:`load_yaml` from the composed node tree. Paths are tuples of str keys and
    int list indices, as pydantic gives them in ``error["loc"]``. A mapping key matches a
    path component by value or by string form, so ``1`` and ``"1"`` both find ``1: ...``.
    For a mapping entry the line of the *key* is returned (that is where the user looks);
    for a list item, the line where the item starts. A path that does not exist (say, a
    missing required field) gives the line of its deepest existing ancestor.

    >>> _, lines = load_yaml("tiers:\n  1: {min: 10}\n  2:\n    min: 20\n", "t.yaml")
    >>> lines.line_of(("tiers", 2, "min")), lines.line_of(("tiers", "1"))
    (4, 2)
    >>> lines.line_of(("tiers", 2, "max"))  # missing: falls back to the key '2'
    3
    """

    def __init__(self, root: Node | None, key_texts: Mapping[int, tuple[Node, str]] | None = None):
        """Wrap a composed node tree.

        ``key_texts`` maps ``id(key_node)`` to ``(key_node, str(constructed key))``; without it
        keys are matched by their raw scalar text only.
        """
        self._root = root
        self._key_texts: Mapping[int, tuple[Node, str]] = key_texts or {}

    def line_of(self, path: FieldPath) -> int | None:
        """Return the 1-based line of the node at ``path`` (or its deepest existing ancestor).

        Returns ``None`` only when the document was empty.
        """
        if self._root is None:
            return None
        line = _line(self._root)
        node: Node = self._root
        for component in path:
            step = self._step(node, component)
            if step is None:
                break
            line, node = step
        return line

    def _step(self, node: Node, component: str | int) -> tuple[int, Node] | None:
        """Follow one path component: ``(line to report, child node)``, or None if absent."""
        if isinstance(node, MappingNode):
            pair = self._find_pair(node, component)
            if pair is None:
                return None
            key_node, value_node = pair
            return _line(key_node), value_node
        if isinstance(node, SequenceNode):
            index = _as_index(component)
            if index is None or index >= len(node.value):
                return None
            item = node.value[index]
            return _line(item), item
        return None

    def _find_pair(self, node: MappingNode, component: str | int) -> tuple[Node, Node] | None:
        """The last (key, value) pair matching ``component`` — last wins, as in construction."""
        text = str(component)
        exact: tuple[Node, Node] | None = None
        loose: tuple[Node, Node] | None = None
        for key_node, value_node in node.value:
            raw = key_node.value if isinstance(key_node, ScalarNode) else None
            known = self._key_texts.get(id(key_node))
            constructed = known[1] if known is not None and known[0] is key_node else None
            if isinstance(component, str) and component == raw and key_node.tag.endswith(":str"):
                exact = (key_node, value_node)
            elif text in (constructed, raw):
                if isinstance(component, int) and not key_node.tag.endswith(":str"):
                    exact = (key_node, value_node)
                else:
                    loose = (key_node, value_node)
        return exact or loose


def load_yaml(text: str, source: str) -> tuple[Any, LineMap]:
    r"""Parse one YAML document strictly; return ``(data, line_map)``.

    ``source`` names the document in error messages (usually the file path). An empty
    document gives ``{}``. Raises :class:`~sim.errors.ConfigError` on a syntax error, a
    duplicate key, an unsafe or unknown tag, or more than one document.

    >>> data, lines = load_yaml("a: 1\nb:\n  - x\n  - 2024-01-05\n", "demo.yaml")
    >>> data
    {'a': 1, 'b': ['x', '2024-01-05']}
    >>> lines.line_of(("b", 1))
    4
    >>> load_yaml("a: 1\nb: 2\na: 3\n", "my.yaml")
    Traceback (most recent call last):
    ...
    sim.errors.ConfigError: my.yaml:3: duplicate key 'a' (first at line 1)
    """
    try:
        loader = StrictLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character, caught before parsing
        raise ConfigError(_format_reader_error(exc, text, source)) from exc
    try:
        root = loader.get_single_node()
        if root is None or _is_empty_scalar(root):
            return {}, LineMap(None)
        key_texts = _check_duplicate_keys(loader, root, source)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(_format_yaml_error(exc, source)) from exc
    except yaml.reader.ReaderError as exc:
        raise ConfigError(_format_reader_error(exc, text, source)) from exc
    except yaml.YAMLError as exc:  # not expected from PyYAML, but keep the promise
        raise ConfigError(f"{source}: YAML error: {_one_line(str(exc))}") from exc
    except RecursionError as exc:  # bounded above; kept as a last line of defence
        raise ConfigError(f"{source}: YAML error: the document nests too deeply") from exc
    finally:
        loader.dispose()
    return data, LineMap(root, key_texts)


def read_yaml_file(path: str | os.PathLike[str]) -> tuple[Any, LineMap]:
    """Read a UTF-8 YAML file and :func:`load_yaml` it (the path is the error ``source``).

    The file is read by :func:`~sim.config.files.read_config_text`: a missing file raises
    ``ConfigError("<path>: file not found")``; a directory, a device, a FIFO, a file over
    1 MiB, an unreadable file or text that is not UTF-8 raises ConfigError naming the path and
    the reason.

    >>> read_yaml_file("no/such/scenario.yaml")
    Traceback (most recent call last):
    ...
    sim.errors.ConfigError: no/such/scenario.yaml: file not found
    """
    text = read_config_text(path)
    return load_yaml(text, str(path))


MAX_SUGGESTIONS = 4  # names a "did you mean" offers at most


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest of ``choices``, or ``""`` if none is close.

    Close means spelled nearly the same (:func:`difflib.get_close_matches`), or else, for a
    name of 3 or more characters, the start or a part of a choice (case ignored): a short name
    for a longer one, e.g. ``mqa`` for ``mqa_count``. Several such choices are all offered (up
    to :data:`MAX_SUGGESTIONS`).

    >>> did_you_mean("windw_days", ["window_days", "lift"])
    " (did you mean 'window_days'?)"
    >>> did_you_mean("zzz", ["window_days", "lift"])
    ''
    >>> did_you_mean("mqa", ["mqa_count", "mqa_depth", "mql_only"])
    " (did you mean 'mqa_count' or 'mqa_depth'?)"
    >>> did_you_mean("Titles", ["mqa_count", "weighted_titles"])
    " (did you mean 'weighted_titles'?)"
    """
    options = list(dict.fromkeys(choices))
    matches = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if not matches and len(name) >= 3:
        low = name.lower()
        starts = [c for c in options if c.lower().startswith(low)]
        matches = starts or [c for c in options if low in c.lower()]
    if not matches:
        return ""
    shown = [f"'{m}'" for m in matches[:MAX_SUGGESTIONS]]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    return f" (did you mean {listed}?)"


def format_path(path: FieldPath, data: object = None) -> str:
    """Render a field path for messages: ``journeys.stages.engaged`` or ``campaigns[2].lift``.

    An int is a list index (shown ``[2]``) or a mapping key (shown ``.1``, e.g. tier 1). With
    ``data`` (the loaded document) the path is walked to tell which; without it, or past the
    end of ``data``, ints are shown as list indices. The empty path gives ``""``.

    >>> format_path(("journeys", "stages", "engaged", "median_days"))
    'journeys.stages.engaged.median_days'
    >>> format_path(("campaigns", 2, "lift"))
    'campaigns[2].lift'
    >>> format_path(("tiers", 1, "min"), {"tiers": {1: {"min": 10}}})
    'tiers.1.min'
    """
    parts: list[str] = []
    current: object = data
    known = data is not None
    for component in path:
        if known and isinstance(current, Mapping):
            bracket = False
            current, known = _mapping_get(current, component)
        elif known and isinstance(current, list | tuple) and _as_index(component) is not None:
            bracket = True
            index = _as_index(component)
            known = index is not None and index < len(current)
            current = current[index] if known and index is not None else None
        else:
            known = False
            bracket = isinstance(component, int) and not isinstance(component, bool)
        if bracket:
            parts.append(f"[{component}]")
        else:
            parts.append(f".{component}" if parts else str(component))
    return "".join(parts)


# --- helpers ---------------------------------------------------------------------------------


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _as_index(component: str | int) -> int | None:
    """``component`` as a list index, or None if it cannot be one."""
    if isinstance(component, bool):
        return None
    if isinstance(component, int):
        return component if component >= 0 else None
    if isinstance(component, str) and component.isdigit() and component.isascii():
        return int(component)
    return None


def _mapping_get(mapping: Mapping[Any, Any], component: str | int) -> tuple[object, bool]:
    """Look ``component`` up by value, then by string form; ``(value, found)``."""
    try:
        if component in mapping:
            return mapping[component], True
    except TypeError:
        pass
    text = str(component)
    for key, value in mapping.items():
        if str(key) == text:
            return value, True
    return None, False


def _check_duplicate_keys(
    loader: StrictLoader, root: Node, source: str
) -> dict[int, tuple[Node, str]]:
    """Raise ConfigError on a duplicate mapping key or a non-finite number; return the string
    form of every key.

    Runs on the node tree before construction, because constructing merges (``<<``) rewrites
    mappings in place. Keys compare by constructed value, i.e. as they would collide in the
    resulting dict (so ``1`` and ``0x1`` are duplicates, ``1`` and ``"1"`` are not). A
    non-finite number (``.inf``, ``.nan``, ``1e999``) is reported with its field path.
    """
    key_texts: dict[int, tuple[Node, str]] = {}
    seen_nodes: set[int] = set()
    stack: list[tuple[Node, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:  # aliases share nodes; a node may even contain itself
            continue
        seen_nodes.add(id(node))
        if isinstance(node, ScalarNode):
            _check_finite(loader, node, path, source)
        elif isinstance(node, SequenceNode):
            stack.extend((item, (*path, i)) for i, item in reversed(list(enumerate(node.value))))
        elif isinstance(node, MappingNode):
            first_seen: dict[Any, Node] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                    stack += [(value_node, path), (key_node, path)]  # construction rejects it
                    continue
                key = loader.construct_object(key_node)
                stack.append((value_node, (*path, key)))
                key_texts[id(key_node)] = (key_node, str(key))
                try:
                    first = first_seen.setdefault(key, key_node)
                except TypeError:  # unhashable: construction reports it
                    continue
                if first is not key_node:
                    raise ConfigError(
                        f"{source}:{_line(key_node)}: duplicate key {key!r} "
                        f"(first at line {_line(first)})"
                    )
    return key_texts


def _check_finite(loader: StrictLoader, node: ScalarNode, path: tuple, source: str) -> None:
    """Raise ConfigError, with the line and field path, for a non-finite float scalar."""
    if node.tag != _FLOAT_TAG:
        return
    if not math.isfinite(float(yaml.SafeLoader.construct_yaml_float(loader, node))):
        where = format_path(path) or "(top level)"
        raise ConfigError(
            f"{source}:{_line(node)}: {where}: must be a finite number, got {node.value} "
            "(infinite and NaN numbers are not allowed in config)"
        )


def _is_empty_scalar(node: Node) -> bool:
    """True for the implicit null of a document holding only ``---`` (not an explicit ``~``)."""
    return (
        isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null" and node.value == ""
    )


def _format_reader_error(exc: yaml.reader.ReaderError, text: str, source: str) -> str:
    """``source:line:col: YAML syntax error: unacceptable character #x0007: ...``."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    return (
        f"{source}:{line}:{column}: YAML syntax error: unacceptable character "
        f"#x{exc.character:04x}: {exc.reason}"
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _format_yaml_error(exc: yaml.MarkedYAMLError, source: str) -> str:
    """``source:line:col: YAML syntax error: problem (context)`` as one paragraph."""
    mark = exc.problem_mark or exc.context_mark
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
    syntax = not isinstance(exc, yaml.constructor.ConstructorError)
    kind = "YAML syntax error" if syntax else "YAML error"
    problem = _one_line(exc.problem or "")
    context = _one_line(exc.context or "")
    if isinstance(exc, yaml.composer.ComposerError) and "single document" in context:
        problem, context = "found a second document; a config file must hold exactly one", ""
    if (
        context
        and exc.context_mark is not None
        and (mark is None or exc.context_mark.line != mark.line)
    ):
        context = f"{context} at line {exc.context_mark.line + 1}"
    if not problem:
        problem, context = context or "invalid YAML", ""
    return f"{where}: {kind}: {problem}" + (f" ({context})" if context else "")
