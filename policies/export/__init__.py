"""Export a policy to the tools teams configure: HubSpot lead scoring (API JSON), Mautic point
actions and triggers (API JSON), a Marketo-style scoring program (spec and readable page) and
ABM account-stage criteria (spec and readable page).

Each target gets a machine-readable JSON file with its ``reference`` (the published format it
follows) and a ``limitations`` list, and a readable markdown file with a section on what the
target cannot express and how the export approximates it (:mod:`policies.export.common`).
Nothing of a rule is dropped without a record there. A combinator (``kind: any`` / ``all``)
exports each member and says how they combine.

>>> from policies import load_policy
>>> e = export_policy(load_policy("mql_scored"), "hubspot")
>>> sorted(e.files), [x.part for x in e.limitations]
(['hubspot.json', 'hubspot.md'], ['criteria', 'recycle_days', 'handoff per account'])
"""

from __future__ import annotations

import json
from collections.abc import Callable

from policies.export import abm, hubspot, marketo, mautic
from policies.export.abm import read_abm
from policies.export.common import (
    NOT_EXPRESSIBLE,
    Export,
    Limitation,
    common_limits,
    dumps,
    limitation_dicts,
    limits_section,
    md_cell,
)
from policies.export.hubspot import read_hubspot
from policies.export.marketo import read_marketo
from policies.export.mautic import read_mautic
from policies.schema import Combinator, PolicyBase
from sim.errors import ConfigError

TARGETS: dict[str, Callable[[PolicyBase], Export]] = {
    "hubspot": hubspot.build,
    "mautic": mautic.build,
    "marketo": marketo.build,
    "abm": abm.build,
}


def export_policy(policy: PolicyBase, target: str) -> Export:
    """``policy`` exported to ``target`` (one of :data:`TARGETS`): its files and limitations.
    A kind the target cannot take at all is a ``ConfigError`` naming the policy."""
    if target not in TARGETS:
        raise ConfigError(f"--to {target}: expected one of {', '.join(TARGETS)}")
    if isinstance(policy, Combinator):
        return _combined(policy, target)
    try:
        return TARGETS[target](policy)
    except ValueError as exc:
        raise ConfigError(f"{policy.name}: {exc}") from None


def _combined(policy: Combinator, target: str) -> Export:
    """Each member exported; the files hold them all and say how they combine."""
    parts = [export_policy(m, target) for m in policy.members]
    how = "either" if policy.kind == "any" else "every one"
    limit = Limitation(
        f"kind: {policy.kind}",
        f"{target} has no single rule for '{how} of several rules qualifies'",
        f"each member is exported on its own; hand off when {how} of their handoffs "
        "happens (a list or workflow on the members' MQL statuses, joined by "
        f"{'OR' if policy.kind == 'any' else 'AND'})",
    )
    own = common_limits(
        policy,
        target,
        "each member's handoff re-qualifies by the member's own setting",
        NOT_EXPRESSIBLE,
    )
    limits = [limit, *own] + [
        Limitation(f"{m.name}: {x.part}", x.cannot, x.instead, x.status)
        for m, p in zip(policy.members, parts, strict=True)
        for x in p.limitations
    ]
    json_name = f"{target}.json"
    doc = {
        "target": target,
        "policy": policy.name,
        "combine": policy.kind,
        "members": [json.loads(p.files[json_name]) for p in parts],
        "limitations": limitation_dicts(limits),
    }
    md = f"# {md_cell(policy.name)}: {policy.kind} of {len(parts)} rules\n\n"
    md += "".join(("\n" + p.files[f"{target}.md"]).replace("\n# ", "\n## ") for p in parts)
    return Export.of(target, policy.name, doc, md + limits_section(limits), limits)


__all__ = [
    "NOT_EXPRESSIBLE",
    "TARGETS",
    "Export",
    "Limitation",
    "export_policy",
    "read_abm",
    "read_hubspot",
    "read_marketo",
    "read_mautic",
]
