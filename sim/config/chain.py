"""Reading config files (scenarios now, policies and sweeps later): ``extends`` chains, deep
merges, and validation errors that name the file, the line, the field path and what was expected.

>>> deep_merge({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"c": 3}, "l": [2]})
{'a': {'b': 1, 'c': 3}, 'l': [2]}
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError

from sim.config.files import real_path
from sim.config.strict_yaml import LineMap, did_you_mean, format_path, read_yaml_file
from sim.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
MAX_CHAIN = 16


class LocatedError(Exception):
    """Raised by a model's cross-field check to blame a field: ``(path, message)``.

    Not a ValueError on purpose: pydantic lets it through untouched, so the field path survives
    and :func:`validate_model` reports it with the file and line like any other problem. When
    two fields conflict, pass both paths as ``also``: the one the user's own file sets is blamed.
    """

    def __init__(self, loc: tuple, message: str, also: tuple[tuple, ...] = ()):
        super().__init__(message)
        self.locs = (loc, *also)
        self.message = message

    def blame(self, chain: list[ConfigFile]) -> tuple:
        """The path among the conflicting ones set by the file nearest the user."""

        def rank(loc: tuple) -> int:
            owner, _ = _owner(loc, chain)
            return chain.index(owner) if owner is not None else len(chain)

        return min(self.locs, key=rank)


@dataclass(frozen=True)
class ConfigFile:
    """One file of an ``extends`` chain, as read: its path, raw data and line map. ``named``
    is False for a file reached through a reference (``extends``, a member, a suite's policy):
    errors about it give its name, line and field path, never its values."""

    path: Path
    data: Any
    lines: LineMap
    named: bool = True


def deep_merge(
    base: Any, override: Any, replace: Callable[[tuple], bool] | None = None, _path: tuple = ()
) -> Any:
    """Merge ``override`` onto ``base``: mappings key by key, anything else replaces.

    ``replace(path)`` may name mappings that replace as a whole instead (e.g. a set of weights
    that must sum to 1: merging two of them would mix their keys).
    """
    if (
        isinstance(base, dict)
        and isinstance(override, dict)
        and not (replace is not None and _path and replace(_path))
    ):
        out = copy.deepcopy(base)
        for k, v in override.items():
            out[k] = deep_merge(base[k], v, replace, (*_path, k)) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(override)


def _annotation_at(model: type[BaseModel], path: tuple) -> Any:
    """The type annotation of the field at ``path`` in ``model`` (None if there is none)."""
    tp: Any = model
    for part in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) in (dict, list):
            tp = get_args(tp)[-1]
        else:
            return None
    return _unwrap(tp)


def _unwrap(tp: Any) -> Any:
    """Strip Optional/Annotated wrappers down to the model, dict or list type inside."""
    while get_origin(tp) is not None and get_origin(tp) not in (dict, list):
        args = [a for a in get_args(tp) if a is not type(None)]
        if not args:
            return None
        tp = args[0]
    return tp


def replaces_whole(model: type[BaseModel]) -> Callable[[tuple], bool]:
    """A ``replace`` rule for :func:`deep_merge`: mappings of plain values (weights, rates)
    replace as a whole; models and mappings of models merge key by key."""

    def rule(path: tuple) -> bool:
        tp = _annotation_at(model, path)
        if get_origin(tp) is not dict:
            return False
        value = _unwrap(get_args(tp)[-1])
        return not (isinstance(value, type) and issubclass(value, BaseModel))

    return rule


def load_config_chain(
    path: Path,
    resolve: Callable[[str, Path | None], Path],
    replace: Callable[[tuple], bool] | None = None,
    named: bool = True,
) -> tuple[dict[str, Any], list[ConfigFile]]:
    """Read ``path`` and the files it ``extends`` (transitively); return the merged data and the
    chain, child first. ``resolve(ref, relative_to)`` turns an ``extends`` value into a path
    (inside ``relative_to``'s folder tree: see :func:`sim.config.files.resolve_reference`).
    ``named`` says whether the user named ``path`` (the files it extends never are)."""
    chain: list[ConfigFile] = []
    seen: list[Path] = []
    current: Path | None = path
    while current is not None:
        key = real_path(current)
        if key in seen:
            loop = " -> ".join(str(p) for p in [*seen, key])
            line = chain[-1].lines.line_of(("extends",))
            raise ConfigError(f"{chain[-1].path}:{line}: extends: 'extends' makes a cycle: {loop}")
        if len(seen) >= MAX_CHAIN:
            raise ConfigError(f"{path}: 'extends' chain longer than {MAX_CHAIN} files")
        seen.append(key)
        data, lines = read_yaml_file(current)
        if not isinstance(data, dict):
            raise ConfigError(
                f"{current}:1: expected a mapping of fields at the top level, "
                f"got {type(data).__name__}"
            )
        chain.append(ConfigFile(current, data, lines, named=named and not chain))
        parent = data.get("extends")
        line = lines.line_of(("extends",))
        if parent is None:
            current = None
        elif not isinstance(parent, str):
            raise ConfigError(f"{current}:{line}: extends: expected a preset name or a file path")
        else:
            child = current
            try:
                current = resolve(parent, child)
                if real_path(current) not in seen and not current.is_file():
                    raise ConfigError(f"{current}: file not found")
            except ConfigError as exc:
                raise ConfigError(f"{child}:{line}: extends: {exc}") from None
    merged: dict[str, Any] = {}
    for f in reversed(chain):
        merged = deep_merge(merged, f.data, replace)
    if chain and "extends" in chain[0].data:
        merged["extends"] = chain[0].data["extends"]
    return merged, chain


def _lookup(data: Any, path: tuple) -> tuple[bool, Any]:
    """(found, value) at ``path``; mapping keys match by value or by their text (1 or "1")."""
    for part in path:
        if isinstance(data, dict):
            hit = [k for k in data if k == part or str(k) == str(part)]
            if not hit:
                return False, None
            data = data[hit[0]]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return False, None
    return True, data


def _owner(path: tuple, chain: list[ConfigFile]) -> tuple[ConfigFile | None, int]:
    """The file whose value ends up at ``path`` after the merges, and how deep it spells it.

    Walking down the path, the first file in the chain (child first) that spells a prefix owns
    it; a list or a value replaces whatever the bases had, so its owner owns everything below.
    """
    owner, depth = None, 0
    for d in range(1, len(path) + 1):
        spelled = [(f, v) for f in chain for found, v in [_lookup(f.data, path[:d])] if found]
        if not spelled:
            break
        (owner, value), depth = spelled[0], d
        if not isinstance(value, dict):
            while depth < len(path) and _lookup(owner.data, path[: depth + 1])[0]:
                depth += 1
            break
    return owner, depth


def _where(path: tuple, chain: list[ConfigFile]) -> str:
    """``file:line`` to blame for ``path`` (the child file's name when nothing spells it)."""
    owner, depth = _owner(path, chain)
    if owner is None:
        real = [f for f in chain if not str(f.path).startswith("<")]
        return str(real[0].path) if real else "<config>"
    line = owner.lines.line_of(path[:depth])
    return f"{owner.path}:{line}" if line else str(owner.path)


def _named(path: tuple, chain: list[ConfigFile]) -> bool:
    """May an error about ``path`` show its value? Not when a referenced file sets it."""
    owner, _ = _owner(path, chain)
    return owner is None or owner.named


def _allowed_keys(model: type[BaseModel], path: tuple) -> list[str]:
    """Field names of the (sub)model at ``path``, for 'did you mean' hints."""
    tp = _annotation_at(model, path)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def _describe(err: Mapping[str, Any], model: type[BaseModel], data: Any) -> tuple[tuple, str, str]:
    """(field path, message, the value it got) for one pydantic error, in our words."""
    # Tags of tagged unions (e.g. "<condition>") are not part of the user's field path.
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("<")))
    kind = err["type"]
    ctx = err.get("ctx") or {}
    got = err.get("input")
    if loc and loc[-1] == "[key]" and kind != "literal_error":
        loc = loc[:-1]
        what = {"int_parsing": "must be a whole number", "int_type": "must be a whole number"}
        limits = {
            "greater_than_equal": f"must be >= {ctx.get('ge')}",
            "less_than_equal": f"must be <= {ctx.get('le')}",
        }
        reason = what.get(kind) or limits.get(kind) or err["msg"]
        return loc, f"invalid key {loc[-1]!r}: {reason}", ""
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
        expected = str(ctx.get("expected", ""))
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ", ").split(",")]
        hint = did_you_mean(str(loc[-1]), [c for c in choices if c]) if loc else ""
        return loc, f"unknown key {loc[-1]!r}: expected one of {expected}{hint}", ""
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        hint = did_you_mean(str(loc[-1]), allowed)
        listing = f"; allowed here: {', '.join(allowed)}" if allowed and not hint else ""
        return loc, f"unknown key {loc[-1]!r}{hint}{listing}", ""
    if kind == "missing" and loc and isinstance(loc[-1], int):
        return loc, "too few items in this list", ""
    if kind == "missing":
        return loc, "required field is missing", ""
    messages = {
        "greater_than": f"must be > {ctx.get('gt')}",
        "greater_than_equal": f"must be >= {ctx.get('ge')}",
        "less_than": f"must be < {ctx.get('lt')}",
        "less_than_equal": f"must be <= {ctx.get('le')}",
        "literal_error": f"expected one of {ctx.get('expected')}",
        "float_parsing": "expected a number",
        "float_type": "expected a number",
        "int_parsing": "expected a whole number",
        "int_type": "expected a whole number",
        "int_from_float": "expected a whole number",
        "bool_parsing": "expected true or false",
        "bool_type": "expected true or false",
        "string_type": "expected a text value",
        "dict_type": "expected a mapping (key: value pairs)",
        "model_type": "expected a mapping (key: value pairs)",
        "list_type": "expected a list",
        "tuple_type": "expected a list",
        "too_short": f"too few items (at least {ctx.get('min_length', 1)})",
        "too_long": f"too many items (at most {ctx.get('max_length')})",
        "string_too_short": "must not be empty",
    }
    if kind == "literal_error" and loc:
        choices = [c.strip().strip("'") for c in str(ctx.get("expected", "")).split(",")]
        msg = messages[kind] + did_you_mean(str(got), choices)
    elif kind in messages:
        msg = messages[kind]
    else:
        return loc, err["msg"].removeprefix("Value error, "), ""
    if kind != "missing" and got is not None and not isinstance(got, dict | list):
        return loc, msg, f", got {got!r}"
    return loc, msg, ""


def validate_model(model: type[M], data: Any, chain: list[ConfigFile], what: str = "config") -> M:
    """Validate ``data`` as ``model``; on failure raise one ConfigError listing every problem as
    ``file:line: field.path: message``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(err, model, data) for err in exc.errors(include_url=False)]
    except LocatedError as exc:
        problems = [(exc.blame(chain), exc.message, "")]
    lines = [
        f"{_where(loc, chain)}: {format_path(loc, data) if loc else '(top level)'}: {msg}"
        + (got if _named(loc, chain) else "")
        for loc, msg, got in problems
    ]
    files = [f.path for f in chain if not str(f.path).startswith("<")]
    head = f"invalid {what}" + (f" {files[0]}" if files else "")
    n = len(lines)
    raise ConfigError(f"{head} ({n} problem{'s' if n > 1 else ''}):\n  " + "\n  ".join(lines))
