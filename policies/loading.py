"""Loading a policy: a YAML file, a shipped policy's name or a dict, validated by its kind's
schema (:mod:`policies.registry`), and a validated copy with one field changed (the variants of
a sweep). Errors name the file, the line, the field path and what was expected, exactly as for
scenarios.

>>> p = load_policy({"name": "mqa", "kind": "mqa_count", "window_days": 30,
...                  "any": [{"unique_contacts": 4}, {"unique_contacts": 3, "min_activities": 9}]})
>>> with_value(p, "any.1.min_activities", 12).rule.children[1].min_activities
12
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policies.registry import kinds
from policies.schema import Combinator, PolicyBase
from sim.config.chain import ConfigFile, load_config_chain, validate_model
from sim.config.files import resolve_reference
from sim.config.inline import relocate
from sim.config.strict_yaml import LineMap, did_you_mean
from sim.errors import ConfigError

SHIPPED = Path(__file__).parent / "shipped"
MAX_NESTING = 16  # combinators inside combinators: deeper is taken for a cycle


def load_policy(source: str | Path | dict[str, Any], relative_to: Path | None = None) -> PolicyBase:
    """Load and validate a policy: a YAML path, a shipped policy's name (``mqa_count``) or a
    dict. Raises ``ConfigError`` naming the file, line, field path and expectation.

    ``relative_to`` is the config file that references ``source`` (a combinator, a sweep, a
    test file): ``source`` then resolves inside that file's folder tree (no absolute paths, no
    ``..``, no symlinks leading out) or is a shipped name, and so do a dict's members. Without
    it the user named ``source``: any path is read. Either way a policy's members stay in its
    own folder tree; a policy extends no other file (its ``extends`` is refused unread)."""
    if isinstance(source, dict):
        data, chain = dict(source), [ConfigFile(Path("<dict>"), source, LineMap(None))]
        origin = relative_to
    else:
        start = resolve_policy(str(source), relative_to)
        if not start.exists():
            raise no_such_policy(str(source))
        data, chain = load_config_chain(start, _no_extends, named=relative_to is None)
        origin = chain[0].path
    known = kinds()
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in known:
        where = chain[0].path
        line = chain[0].lines.line_of(("kind",))
        hint = did_you_mean(str(kind), known) if isinstance(kind, str) else ""
        got = "missing" if kind is None else f"got {kind!r}" if chain[0].named else "unknown"
        raise ConfigError(
            f"{where}{':' + str(line) if line else ''}: kind: expected one of "
            f"{', '.join(sorted(known))} ({got}){hint}"
        )
    policy = validate_model(known[kind], data, chain, what=f"{kind} policy")
    if isinstance(policy, Combinator):
        policy._members = _members(policy, origin, chain[0])
    return policy


def no_such_policy(ref: str) -> ConfigError:
    """The error for a policy reference that names no shipped policy and no file."""
    hint = did_you_mean(ref, shipped_policies())
    return ConfigError(f"{ref}: no shipped policy or file of that name{hint}")


def _no_extends(ref: str, relative_to: Path | None) -> Path:
    """Policies have no ``extends``: refuse it before reading anything it names."""
    raise ConfigError("a policy cannot extend another file (list members with kind: any/all)")


def shipped_policies() -> dict[str, Path]:
    """The shipped policies by name (the names any policy reference may use)."""
    return {p.stem: p for p in sorted(SHIPPED.glob("*.yaml"))}


def resolve_policy(ref: str, relative_to: Path | None) -> Path:
    """A policy reference: a path the user gave (``relative_to`` None; a shipped name when no
    such file exists), or a reference from the file ``relative_to``: a shipped name or a path
    inside its folder tree."""
    if relative_to is not None:
        return resolve_reference(ref, relative_to.parent, shipped_policies())
    p = Path(ref)
    if not p.exists():
        shipped = SHIPPED / f"{ref}.yaml"
        if shipped.exists():
            return shipped
    return p


def _members(policy: Combinator, origin: Path | None, own: ConfigFile) -> list[PolicyBase]:
    """A combinator's member policies, loaded: files inside the folder tree of the file that
    holds the combinator (``origin``), shipped names, or inline policies; they need distinct
    names. Without an ``origin`` (a dict given through the API) names resolve as the user's."""
    path = own.path
    members = []
    for i, ref in enumerate(policy.policies):
        if len(_LOADING) >= MAX_NESTING:
            raise ConfigError(f"{path}: policies nest too deep (a cycle?)")
        _LOADING.append(f"{path}: policies[{i}]")
        try:
            if isinstance(ref, str) and origin is not None:
                _check_member(ref, origin, own, i)
            members.append(_member(ref, origin, own, i))
        finally:
            _LOADING.pop()
    deaf = [m.name for m in members if m.include_sales_touches and not policy.include_sales_touches]
    if deaf:
        raise ConfigError(
            f"{path}: member {deaf[0]!r} includes sales touches, but a combinator's members "
            f"see only what it sees: add include_sales_touches: true to {policy.name!r}"
        )
    filtered = [m.name for m in members if m.exclude]
    if filtered:
        raise ConfigError(
            f"{path}: member {filtered[0]!r} has exclude filters, but a combinator's members "
            f"see only what it sees: move them to {policy.name!r}"
        )
    names = [m.name for m in members]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: member policies need distinct names: {names}")
    return members


def _member(ref: str | dict, origin: Path | None, own: ConfigFile, i: int) -> PolicyBase:
    """A member policy; an inline one's problems name the combinator's file and line."""
    try:
        return load_policy(ref, relative_to=origin)
    except ConfigError as exc:
        if isinstance(ref, str) or str(own.path).startswith("<"):
            raise
        msg = relocate(str(exc), own.path, own.lines, ("policies", i), own.data)
        raise ConfigError(msg) from None


def _check_member(ref: str, origin: Path, own: ConfigFile, i: int) -> None:
    """Refuse, with the combinator's file, line and ``policies[i]``, a member reference that
    leaves the combinator's folder tree or names no file."""
    line = own.lines.line_of(("policies", i))
    where = f"{own.path}:{line}" if line else str(own.path)
    try:
        target = resolve_policy(ref, origin)
    except ConfigError as exc:
        raise ConfigError(f"{where}: policies[{i}]: {exc}") from None
    if not target.exists():
        raise ConfigError(f"{where}: policies[{i}]: {no_such_policy(ref)}")


_LOADING: list[str] = []  # the members being loaded, innermost last


def with_value(policy: PolicyBase, path: str, value: Any) -> PolicyBase:
    """A copy of ``policy`` with the field at a dotted ``path`` set (``any.0.unique_contacts``,
    ``window_days``, ``tiers.1.any.0.min_activities``), validated like a file."""
    data = policy.model_dump(by_alias=True, exclude_none=True)
    node, key = _field(policy, data, path)
    node[key] = value
    return load_policy(data)


def value_at(policy: PolicyBase, path: str) -> Any:
    """The value of the field at a dotted ``path`` (as in :func:`with_value`)."""
    node, key = _field(policy, policy.model_dump(by_alias=True, exclude_none=True), path)
    if isinstance(node, dict) and key not in node:
        raise ConfigError(f"{policy.name}: no field {path!r}")
    return node[key]


def _field(policy: PolicyBase, data: dict[str, Any], path: str) -> tuple[Any, Any]:
    """(the list or dict holding the field at ``path`` in a policy's dump, its key there)."""
    node: Any = data
    parts = path.split(".")
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, list | dict) or (isinstance(node, list) and not part.isdigit()):
            raise ConfigError(f"{policy.name}: no field {'.'.join(parts[: i + 1])!r} to sweep")
        key: Any = (
            int(part)
            if isinstance(node, list)
            or (isinstance(node, dict) and part.isdigit() and int(part) in node)
            else part
        )
        if (isinstance(node, list) and not 0 <= key < len(node)) or (
            isinstance(node, dict) and key not in node
        ):
            raise ConfigError(f"{policy.name}: no field {'.'.join(parts[: i + 1])!r} to sweep")
        node = node[key]
    last = parts[-1]
    if not isinstance(node, list | dict) or (isinstance(node, list) and not last.isdigit()):
        raise ConfigError(f"{policy.name}: no field {path!r} to sweep")
    return node, int(last) if isinstance(node, list) else last
