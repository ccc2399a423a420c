"""Qualification policies as config: ``mqa_count``, ``mql``, ``weighted_titles``, ``stages``,
and ``any`` / ``all`` of them; a user's own kinds plug in through one registry.

Semantics are fixed in ``policies/README.md``; ``policies.reference`` is the slow reference
implementation that the fast evaluators are tested against.

>>> import sim, policies
>>> w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 30}}), seed=2)
>>> q = policies.evaluate(policies.load_policy("mqa_count"), sim.EventLog.from_world(w))
>>> list(q.columns)
['policy', 'account_id', 'contact_id', 'time', 'rule', 'score', 'stage']

The public API, by task:

Loading a policy
    ``load_policy`` (a YAML file, a shipped name or a dict, validated by its kind's schema),
    ``with_value`` (a validated copy with one field changed), ``PolicyBase`` (the fields every
    policy has; a plug-in's model extends it).
Evaluating it on an EventLog
    ``evaluate`` (the handoffs: the qualifications table), ``holds`` (per event, does the
    rule hold at its time, recycling aside), ``sweep`` (the handoffs of every value of one
    field, sharing the work), ``stage_entries`` (every stage entry of a
    ``stages`` policy), ``Frame`` (the per-event arrays of a log, shared between evaluations),
    ``filter_counts`` (how many touches each of a policy's declared filters removes).
Kinds and plug-ins
    ``register`` (a :class:`Kind`, or a model that evaluates itself), ``kinds`` (every known
    kind and its schema, entry points included), ``Kind`` (a kind's schema, evaluators and
    extras), ``BUILTIN`` (the built-in kinds).
Checking and explaining
    ``check_policy`` (the conformance checks, raising ``PolicyCheckError`` naming the failed
    one; one by one: :mod:`policies.check`, :mod:`policies.testing`), ``explain`` (the touches
    behind an account's handoffs), ``why_nothing`` (why a policy hands off nothing or almost
    nothing on a log, from its statistics), ``run_cases`` (a policy's YAML test cases).
"""

from __future__ import annotations

# The built-in kinds register themselves when ``policies.kinds`` is imported; ``kinds`` (the
# function, imported after it) then names the registry's listing in this namespace.
from policies.cases import run_cases
from policies.check import PolicyCheckError, check_policy
from policies.evaluation import evaluate, holds, sweep
from policies.explain import explain
from policies.kernels.frame import Frame
from policies.kernels.views import filter_counts
from policies.kinds import BUILTIN
from policies.kinds.stages import stage_entries
from policies.loading import load_policy, with_value
from policies.quiet import why_nothing
from policies.registry import Kind, kinds, register
from policies.schema import PolicyBase

# The public names, grouped as in the docstring.
__all__ = ["PolicyBase", "load_policy", "with_value"]  # loading a policy
__all__ += ["Frame", "evaluate", "filter_counts", "holds", "stage_entries", "sweep"]  # evaluating
__all__ += ["BUILTIN", "Kind", "kinds", "register"]  # kinds and plug-ins
__all__ += ["PolicyCheckError", "check_policy", "explain", "run_cases", "why_nothing"]  # checking
