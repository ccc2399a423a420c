"""Every field of every config kind says what it is: ``qualsim schema KIND`` (what an editor
shows while completing YAML) and docs/reference.md describe every field."""

from __future__ import annotations

from typing import Any

import pytest

from sim.cli.kinds import json_schema
from sim.config.kinds import KINDS


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
    fields = _fields(json_schema(kind))
    assert len(fields) >= 4, f"{kind}: the schema lists too few fields to be the real one"
    bare = [f"{model}.{field}" for model, field, prop in fields if not prop.get("description")]
    assert not bare, f"{kind}: fields without a description: {', '.join(bare)}"


def test_a_description_is_words_not_a_placeholder() -> None:
    for kind in KINDS:
        for model, field, prop in _fields(json_schema(kind)):
            text = prop.get("description", "").strip()
            assert len(text.split()) >= 2, f"{kind} {model}.{field}: {text!r}"


def test_the_check_catches_a_field_without_one() -> None:
    schema = {
        "properties": {"a": {"description": "the a"}},
        "$defs": {"M": {"properties": {"b": {}}}},
    }
    assert [f for _, f, p in _fields(schema) if not p.get("description")] == ["b"]
