"""One registry of policy kinds: each kind's schema, fast evaluator and optional extras
(per-event rule for combinators, reference evaluator, one-pass sweep, explanation, the
thresholds a sweep can vary), registered together under its ``kind:`` name.

Built-in kinds register themselves (``policies/kinds/*.py``) through the same door as a
user's plug-in. A plug-in may register a :class:`Kind` record, or just a pydantic model with an
``evaluate(log)`` method (and optionally ``holds(log)``, to be combined with ``kind: any/all``)::

    @policies.register("first_demo")
    class FirstDemo(policies.PolicyBase):
        kind: Literal["first_demo"] = "first_demo"

        def evaluate(self, log): ...

Installed packages declare either in the entry-point group ``qualsim.policies``.

>>> import policies
>>> k = lookup("mqa_count")
>>> k.name, k.schema.__name__, k.sweep is not None, k.reference is not None
('mqa_count', 'MqaCount', True, True)
>>> lookup("mqa_cuont")
Traceback (most recent call last):
...
KeyError: "no policy kind 'mqa_cuont' (did you mean 'mqa_count'?)"
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np
import pandas as pd

from policies.kernels.frame import Frame
from policies.schema import PolicyBase
from sim.config.strict_yaml import did_you_mean
from sim.eventlog import EventLog

if TYPE_CHECKING:  # explanations build on evaluation, which looks kinds up here
    from policies.explain import Why

ENTRY_POINT_GROUP = "qualsim.policies"
P = TypeVar("P", bound=type[PolicyBase])

# Each kind's functions take a policy of that kind's own schema (hence Any for the policy).
Evaluate = Callable[[Any, EventLog, Frame | None], pd.DataFrame]
Holds = Callable[[Any, Frame], np.ndarray]
Reference = Callable[[Any, EventLog], pd.DataFrame]
Sweep = Callable[[Any, Frame, str, list[Any]], pd.DataFrame | None]
Explain = Callable[[Any, Frame, pd.DataFrame, pd.Series], "Why"]
Thresholds = Callable[[Any], Sequence[str]]


@dataclass(frozen=True)
class Kind:
    """Everything qualsim knows about one policy kind.

    - ``evaluate(policy, log, frame)``: the handoffs (the qualifications table); ``frame`` is
      a :class:`Frame` of ``log`` shared between evaluations, or None.
    - ``holds(policy, frame)``: per event, does the rule hold at its time (recycling aside)?
      Needed to combine the kind with ``kind: any`` / ``kind: all``.
    - ``reference(policy, log)``: a slow, obviously-correct evaluator the fast one must equal.
    - ``sweep(policy, frame, path, values)``: every variant's handoffs in one pass (with a
      ``value`` column), or None where it cannot; :func:`policies.sweep` then loops.
    - ``explain(policy, frame, touches, row)``: the :class:`~policies.explain.Why` of one
      handoff row, from the account's events ``touches``.
    - ``thresholds(policy)``: dotted paths of the numeric thresholds or counts a sweep can vary
      (the conformance checks sweep the first); None: the policy's top-level numbers.
    """

    name: str
    schema: type[PolicyBase]
    evaluate: Evaluate
    holds: Holds | None = None
    reference: Reference | None = None
    sweep: Sweep | None = None
    explain: Explain | None = None
    thresholds: Thresholds | None = None

    def threshold_paths(self, policy: PolicyBase) -> list[str]:
        """The fields of ``policy`` a sweep can vary: the kind's ``thresholds``, else the
        policy's top-level numbers (but ``recycle_days``)."""
        if self.thresholds is not None:
            return list(self.thresholds(policy))
        data = policy.model_dump(exclude_none=True)
        return [
            k
            for k, v in data.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and k != "recycle_days"
        ]


_KINDS: dict[str, Kind] = {}


@overload
def register(kind: Kind) -> Kind: ...
@overload
def register(kind: str) -> Callable[[P], P]: ...
def register(kind: Kind | str) -> Kind | Callable[[P], P]:
    """Register a policy kind: ``register(Kind(...))``, or as a class decorator,
    ``register("name")(Model)`` for a model that evaluates itself (``evaluate(log)``)."""
    if isinstance(kind, Kind):
        _KINDS[kind.name] = kind
        return kind

    def deco(cls: P) -> P:
        cls.KIND = kind
        _KINDS[kind] = self_evaluating(kind, cls)
        return cls

    return deco


def self_evaluating(name: str, schema: type[PolicyBase]) -> Kind:
    """The kind of a model that evaluates itself: ``evaluate(log)``, and ``holds(log)`` where
    it defines one."""
    holds = _own_holds if hasattr(schema, "holds") else None
    return Kind(name, schema, _own_evaluate, holds=holds)


def _own_evaluate(policy: Any, log: EventLog, frame: Frame | None = None) -> pd.DataFrame:
    return policy.evaluate(log)


def _own_holds(policy: Any, f: Frame) -> np.ndarray:
    return np.asarray(policy.holds(f.log), dtype=bool)


def kinds() -> dict[str, type[PolicyBase]]:
    """Every known policy kind and its schema: the built-ins, the registered plug-ins, and
    plug-ins from the ``qualsim.policies`` entry-point group (installed packages)."""
    _load_entry_points()
    return {name: k.schema for name, k in _KINDS.items()}


def lookup(name: str) -> Kind:
    """The :class:`Kind` registered as ``name`` (KeyError, with the nearest names, if none)."""
    if name not in _KINDS:
        _load_entry_points()
    if name not in _KINDS:
        raise KeyError(f"no policy kind {name!r}" + did_you_mean(name, list(_KINDS)))
    return _KINDS[name]


def kind_of(policy: PolicyBase) -> Kind:
    """The registered kind of ``policy``. A policy whose class is not its kind's schema (say a
    model never registered) evaluates itself, as a plug-in does."""
    if policy.kind not in _KINDS:
        _load_entry_points()
    k = _KINDS.get(policy.kind)
    if k is not None and isinstance(policy, k.schema):
        return k
    return self_evaluating(policy.kind, type(policy))


def _load_entry_points() -> None:
    """Register the entry points of ``qualsim.policies`` not registered yet: each loads a
    :class:`Kind` or a self-evaluating model."""
    for ep in _entry_points():
        if ep.name not in _KINDS:
            loaded = ep.load()
            if isinstance(loaded, Kind):
                _KINDS[ep.name] = replace(loaded, name=ep.name)
            else:
                _KINDS[ep.name] = self_evaluating(ep.name, loaded)


_EPS: tuple[Any, list[Any]] | None = None


def _entry_points() -> list[Any]:
    # Looked up once per process (scanning installed packages costs about a millisecond).
    global _EPS
    if _EPS is None or metadata.entry_points is not _EPS[0]:
        _EPS = (metadata.entry_points, list(metadata.entry_points(group=ENTRY_POINT_GROUP)))
    return _EPS[1]
