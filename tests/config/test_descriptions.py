"""Every field of every config kind says what it is: ``qualsim schema KIND`` (what an editor
shows while completing YAML) and docs/reference.md describe every field. The built-in policy
kinds only (``schema_of``): plug-ins other tests register are their authors' business."""

from __future__ import annotations

from typing import Any

import pytest

from sim.cli.kinds import json_schema
from sim.config.kinds import KINDS
from sim.experiment.reference_docs import schema_of


def _fields(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(model, field, its schema) for the top level and every model under $defs."""
    models = {"(top level)": schema, **schema.get("$defs", {})}
    return [
        (name, field, prop)
        for name, model in models.items()
        for field, prop in model.get("properties", {}).items()
    ]


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_field_of_every_kind_has_a_description(kind: str) -> None:
    fields = _fields(schema_of(kind))
    assert len(fields) >= 4, f"{kind}: the schema lists too few fields to be the real one"
    bare = [f"{model}.{field}" for model, field, prop in fields if not prop.get("description")]
    assert not bare, f"{kind}: fields without a description: {', '.join(bare)}"


def test_a_description_is_words_not_a_placeholder() -> None:
    for kind in KINDS:
        for model, field, prop in _fields(schema_of(kind)):
            text = prop.get("description", "").strip()
            assert len(text.split()) >= 2, f"{kind} {model}.{field}: {text!r}"


def test_the_check_catches_a_field_without_one() -> None:
    schema = {
        "properties": {"a": {"description": "the a"}},
        "$defs": {"M": {"properties": {"b": {}}}},
    }
    assert [f for _, f, p in _fields(schema) if not p.get("description")] == ["b"]


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "policy"])
def test_qualsim_schema_gives_the_same_descriptions(kind: str) -> None:
    cli = {(m, f): p.get("description") for m, f, p in _fields(json_schema(kind))}
    models = {(m, f): p.get("description") for m, f, p in _fields(schema_of(kind))}
    shared = cli.keys() & models.keys()
    assert len(shared) >= 4 and all(cli[k] == models[k] for k in shared)
