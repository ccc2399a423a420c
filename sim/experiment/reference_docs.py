"""``docs/reference.md``, rendered from the code: the vocabularies (:mod:`sim.vocab`), every
metric with its unit and direction (:mod:`sim.sales.metrics`) and every field of every config
file kind (from each kind's pydantic model: name, type, default, description). A test fails
when the file is out of date; regenerate it with::

    python -m sim.experiment.reference_docs docs/reference.md

>>> text = markdown()
>>> "| `window_days` |" in text and "| `horizon_days` |" in text
True
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import policies
from policies.cases import CaseFile
from sim import vocab
from sim.config.kinds import KINDS, union_schema
from sim.experiment.gate import Suite
from sim.experiment.sweep.spec import SweepSpec
from sim.files import write_text
from sim.real.mapping import Mapping
from sim.sales import metrics
from sim.world.accounts import title_catalogue
from sim.world.scenario import Scenario

__all__ = ["VOCABULARIES", "markdown", "main", "schema_of", "type_of"]

COMMAND = "python -m sim.experiment.reference_docs docs/reference.md"

# Each vocabulary: its anchor, its values, what it is, and the word for one value in a field type.
VOCABULARIES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "Marketing activities": (
        vocab.MARKETING_ACTIVITIES,
        "touches marketing sees and the simulated world draws (with a person or an account)",
        "marketing activity",
    ),
    "Sales activities": (
        vocab.SALES_ACTIVITIES,
        "sales touches as a CRM logs them; real exports have them, the simulated world does not "
        "draw them; marketing rules ignore them unless they say `include_sales_touches: true`",
        "sales activity",
    ),
    "System activities": (
        vocab.SYSTEM_ACTIVITIES,
        "what the email platform logs that is no touch by a person; no rule counts it, a "
        "policy's filters may read it",
        "system activity",
    ),
    "Activities": (
        vocab.ACTIVITIES,
        "every activity an events file may hold: the marketing, sales and system ones above",
        "activity",
    ),
    "Journey stages": (
        vocab.JOURNEY_STAGES,
        "the latent buying journey, in order; it ends in a decision",
        "journey stage",
    ),
    "Rate stages": (
        vocab.RATE_STAGES,
        "the stages touch rates are given for: `background` is a person in no active journey",
        "rate stage",
    ),
    "Roles": (vocab.ROLES, "buying-committee roles (`none` outside the committee)", "role"),
    "Seniorities": (vocab.SENIORITIES, "a contact's seniority", "seniority"),
    "Departments": (vocab.DEPARTMENTS, "a committee member's department", "department"),
    "Personas": (
        vocab.PERSONAS,
        "people outside the buying committee who still generate activity",
        "persona",
    ),
    "Decisions": (vocab.DECISIONS, "how a latent journey ends", "decision"),
    "Opportunity statuses": (vocab.OPPORTUNITY_STATUSES, "a CRM opportunity's status", "status"),
}


# What each activity and seniority is, for the reference (a test requires every value to have
# one). Form fills identify an anonymous person (sim/world/identity.py).
MEANINGS: dict[str, str] = {
    "impression": "an ad shown to someone at the account (account level: no person)",
    "ad_click": "a click on an ad, landing on the website",
    "web_visit": "a visit to the website (anonymous until the person is known)",
    "pricing_visit": "a visit to the pricing page",
    "content_download": "a gated asset downloaded through a form (a form fill: identifies the "
    "person)",
    "email_open": "a marketing email opened (only people the CRM knows get one)",
    "email_click": "a click in a marketing email",
    "webinar": "a webinar registered for or attended (a form fill)",
    "event": "a trade show or field event where the person's badge was scanned (a form fill)",
    "demo_request": "an explicit request for a demo or a sales call (a form fill)",
    "intent_signal": "third-party intent data: research on the topic by someone at the account "
    "(account level)",
    "call": "a sales call",
    "meeting": "a sales meeting",
    "sales_email": "an email a salesperson sent",
    "email_reply": "a reply to a salesperson's email",
    "task": "any other sales task the CRM logs",
    "email_delivered": "a marketing email delivered (the platform's log, not a touch by a person)",
    "c_level": "chief officers and general counsel (CISO, CIO, CTO, CFO, ...)",
    "vp": "vice presidents, heads of a function, deputy chiefs",
    "director": "directors (senior directors too) and some heads of a team (Head of SOC)",
    "manager": "managers (senior managers too) and team leads",
    "individual": "individual contributors: engineers, analysts, architects, specialists",
}
# The vocabularies whose values get a table with their meaning.
EXPLAINED = ("Marketing activities", "Sales activities", "System activities", "Seniorities")


def _anchor(title: str) -> str:
    """The GitHub anchor of a heading made of plain words."""
    return title.lower().replace(" ", "-")


def _vocabularies() -> list[str]:
    lines = ["## Vocabularies", ""]
    for title, (values, meaning, _) in VOCABULARIES.items():
        lines += [f"### {title}", "", meaning[0].upper() + meaning[1:] + ":", ""]
        if title == "Seniorities":
            lines += [_SENIORITY_NOTE, ""]
        if title in EXPLAINED:
            lines += _meanings(values, title == "Seniorities")
        else:
            lines += [", ".join(f"`{v}`" for v in values), ""]
    return lines


_SENIORITY_NOTE = (
    "A contacts file may carry it (a value outside these is kept, with a warning: no policy "
    "filtering on seniority matches it; a mapping's `values:` can translate a CRM's own "
    "words); the simulated "
    "world draws it per committee role and shows a title of that seniority from its catalogue "
    "(`sim/world/titles.yaml`). Policies filter on it (`seniority:` in a condition, `fit:` "
    "points of an `mql`), never on the title's words: those are `weighted_titles`' business."
)


def _meanings(values: tuple[str, ...], titles: bool) -> list[str]:
    """A vocabulary's values with what each is (and, for seniorities, example titles)."""
    head = "| value | meaning | example titles |" if titles else "| value | meaning |"
    lines = [head, "|---|---|---|" if titles else "|---|---|"]
    for v in values:
        cells = [f"`{v}`", MEANINGS[v]]
        if titles:
            cells.append(", ".join(example_titles(v)))
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return [*lines, ""]


def example_titles(seniority: str, n: int = 4) -> list[str]:
    """The first title of each department of the simulated world's catalogue for a seniority
    (up to ``n``).

    >>> example_titles("c_level", 2)
    ['Chief Information Security Officer', 'Chief Information Officer']
    """
    departments = title_catalogue()["departments"].values()
    return [d[seniority][0] for d in departments if d.get(seniority)][:n]


def _enum(values: list[Any]) -> str:
    """A set of allowed values: a vocabulary's name (linked) where it is one, else the values."""
    for title, (words, _, one) in VOCABULARIES.items():
        if set(values) == set(words):
            return f"[{one}](#{_anchor(title)})"
    shown = ", ".join(f"`{v}`" for v in values[:8])
    return "one of " + shown + (", …" if len(values) > 8 else "")


_BOUNDS = (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"))


def _bounds(s: dict[str, Any]) -> str:
    """A number's bounds in words: " ≥ 1, ≤ 1,000,000"."""
    bounds = [f"{sign} {_number(s[key])}" for key, sign in _BOUNDS if key in s]
    return f" {', '.join(bounds)}" if bounds else ""


def _number(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"


def type_of(s: dict[str, Any], kind: str) -> str:
    """A JSON Schema, in words for a table cell (models link to their section of ``kind``).

    >>> type_of({"type": "integer", "minimum": 1, "maximum": 9}, "scenario")
    'whole number ≥ 1, ≤ 9'
    >>> type_of({"anyOf": [{"$ref": "#/$defs/Decay"}, {"type": "null"}]}, "policy")
    '[Decay](#policy-decay) or null'
    """
    if "$ref" in s:
        name = s["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{kind}-{name.lower()})"
    for key in ("anyOf", "oneOf"):
        if key in s:
            return " or ".join(type_of(sub, kind) for sub in s[key])
    if "const" in s:
        return f"`{s['const']}`"
    if "enum" in s:
        return _enum(s["enum"])
    t = s.get("type")
    if t == "array":
        if "prefixItems" in s:
            return "[" + ", ".join(type_of(sub, kind) for sub in s["prefixItems"]) + "]"
        return "list of " + type_of(s.get("items", {}), kind)
    if t == "object":
        if not isinstance(s.get("additionalProperties"), dict):
            return "mapping"
        keys = s.get("propertyNames")
        head = f"map {type_of(keys, kind)} → " if keys else "map text → "
        return head + type_of(s["additionalProperties"], kind)
    words = {"number": "number", "integer": "whole number", "string": "text", "boolean": "bool"}
    words["null"] = "null"
    return (words.get(t, "any value") if isinstance(t, str) else "any value") + _bounds(s)


def _default(prop: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" not in prop:
        return "—"
    text = json.dumps(prop["default"], ensure_ascii=False)
    return f"`{text}`" if len(text) <= 40 else f"`{text[:37]}…`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _model(name: str, s: dict[str, Any], kind: str, level: str) -> list[str]:
    """One model's section: its description and a table of its fields."""
    lines = [f'<a id="{kind}-{name.lower()}"></a>', "", f"{level} `{name}`", ""]
    if s.get("description"):
        lines += [_cell(s["description"]), ""]
    props = s.get("properties", {})
    if not props:
        return [*lines, f"{type_of(s, kind)}.", ""]
    lines += ["| field | type | default | description |", "|---|---|---|---|"]
    required = set(s.get("required", []))
    for field, prop in props.items():
        cells = (
            f"`{field}`",
            type_of(prop, kind),
            _default(prop, field in required),
            prop.get("description", ""),
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return [*lines, ""]


def schema_of(kind: str) -> dict[str, Any]:
    """The JSON Schema of a config kind as its models say it (``qualsim schema`` gives the
    same, but lets a scenario that ``extends`` another give any part, and adds the policy kinds
    of installed plug-ins)."""
    if kind == "policy":  # the built-in kinds (not the plug-ins this process registered)
        builtin = [m for m in policies.kinds().values() if m.__module__.startswith("policies.")]
        return union_schema(list(dict.fromkeys(builtin)), "qualsim policy")
    models: dict[str, type[BaseModel]] = {"scenario": Scenario, "sweep": SweepSpec}
    models |= {"mapping": Mapping, "suite": Suite, "cases": CaseFile}
    return models[kind].model_json_schema()


def _config_kind(kind: str) -> list[str]:
    """A config kind's section: its top-level fields, then every model they use."""
    schema = schema_of(kind)
    defs = schema.get("$defs", {})
    lines = [f"### {kind} files", "", KINDS[kind].what[0].upper() + KINDS[kind].what[1:] + "."]
    lines += [f"`qualsim schema {kind}` prints its JSON Schema.", ""]
    if "properties" in schema:
        lines += _model(kind, schema, kind, "####")
    else:  # the policy kinds: a union, discriminated on kind
        roots = [sub["$ref"].rsplit("/", 1)[-1] for sub in schema.get("oneOf", [])]
        kinds = schema.get("discriminator", {}).get("mapping", {})
        lines += ["One of, by `kind`:", ""]
        lines += [f"- `{k}`: {type_of({'$ref': ref}, kind)}" for k, ref in kinds.items()]
        lines += [""]
        defs = {n: defs[n] for n in roots} | {n: d for n, d in defs.items() if n not in roots}
    for name, sub in defs.items():
        lines += _model(name, sub, kind, "####")
    return lines


def markdown() -> str:
    """The whole of ``docs/reference.md``."""
    lines = [
        "# Reference",
        "",
        f"<!-- generated from the code; do not edit by hand. Regenerate: {COMMAND} -->",
        "",
        "The vocabularies, metrics and config fields exactly as the code has them. How to use "
        "them: [scenarios](scenarios.md), [policies](policies.md), [sweeps](sweeps.md), "
        "[real data](real-data.md), [the gate](report-and-gate.md), [the CLI](cli.md).",
        "",
        *_vocabularies(),
        "## Metrics",
        "",
        "Every metric a comparison reports; *better* is the direction that is better "
        "(— where it depends), *truth* the truth a precision judges handoffs by.",
        "",
        metrics.markdown(),
        "## Config files",
        "",
    ]
    for kind in KINDS:
        lines += _config_kind(kind)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> None:
    """Write :func:`markdown` to the path given (default ``docs/reference.md``)."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "docs/reference.md")
    write_text(path, markdown())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
