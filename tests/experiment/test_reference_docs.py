"""docs/reference.md is rendered from the code (vocabularies, metrics, config fields), is up to
date, and shows every value, metric and field the code has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim import vocab
from sim.config.kinds import KINDS
from sim.experiment import reference_docs
from sim.experiment.reference_docs import COMMAND, markdown, type_of
from sim.sales.metrics import METRICS

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference.md"


@pytest.fixture(scope="module")
def text() -> str:
    return markdown()


def test_docs_reference_md_is_up_to_date(text: str) -> None:
    assert DOC.read_text(encoding="utf-8") == text, (
        f"docs/reference.md is out of date: regenerate it with\n  {COMMAND}"
    )


def test_main_writes_the_file(tmp_path: Path, text: str) -> None:
    reference_docs.main([str(tmp_path / "ref.md")])
    assert (tmp_path / "ref.md").read_text(encoding="utf-8") == text


def section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    rest = text.split(heading + "\n", 1)[1]
    ends = [i for i in range(len(rest)) if rest.startswith("\n#", i)]
    for i in ends:
        hashes = rest[i + 1 :].split(" ")[0]
        if len(hashes) <= len(level):
            return rest[:i]
    return rest


@pytest.mark.parametrize(
    ("heading", "values"),
    [
        ("### Marketing activities", vocab.MARKETING_ACTIVITIES),
        ("### Sales activities", vocab.SALES_ACTIVITIES),
        ("### System activities", vocab.SYSTEM_ACTIVITIES),
        ("### Seniorities", vocab.SENIORITIES),
        ("### Roles", vocab.ROLES),
        ("### Departments", vocab.DEPARTMENTS),
        ("### Personas", vocab.PERSONAS),
        ("### Journey stages", vocab.JOURNEY_STAGES),
    ],
)
def test_every_vocabulary_value_is_listed_in_order(text: str, heading: str, values) -> None:
    lines = section(text, heading).strip().splitlines()
    if heading.removeprefix("### ") in reference_docs.EXPLAINED:  # a table: value | meaning
        rows = [x for x in lines if x.startswith("| `")]
        assert [r.split(" | ")[0].removeprefix("| ") for r in rows] == [f"`{v}`" for v in values]
        assert all(len(r.split(" | ")[1].strip()) > 10 for r in rows), "a meaning is missing"
    else:
        assert lines[-1] == ", ".join(f"`{v}`" for v in values)


def test_every_activity_and_seniority_has_a_meaning() -> None:
    explained = [reference_docs.VOCABULARIES[t][0] for t in reference_docs.EXPLAINED]
    values = {v for vs in explained for v in vs}
    assert set(vocab.ACTIVITIES) | set(vocab.SENIORITIES) <= values
    assert values <= set(reference_docs.MEANINGS), values - set(reference_docs.MEANINGS)


def test_seniorities_show_titles_of_the_simulated_world(text: str) -> None:
    # Hand-checked against sim/world/titles.yaml: the security department comes first.
    rows = section(text, "### Seniorities")
    assert "| `c_level` | " in rows and "Chief Information Security Officer" in rows
    assert "| `individual` | " in rows and "Security Analyst" in rows


def test_every_metric_has_a_row_with_its_unit_and_direction(text: str) -> None:
    rows = {line.split(" | ")[0]: line for line in section(text, "## Metrics").splitlines()}
    for m in METRICS.values():
        row = rows[f"| `{m.name}`"]
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[2] == m.unit and cells[3] == (m.better or "—"), m.name


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_top_level_field_of_each_kind_has_a_row(text: str, kind: str) -> None:
    shown = section(text, f"### {kind} files")
    for field in KINDS[kind].keys:
        assert f"| `{field}` |" in shown, (kind, field)


def test_a_required_field_says_so_and_a_default_is_shown(text: str) -> None:
    mqa = section(text, "#### `MqaCount`")
    assert "| `window_days` | number > 0 | required |" in mqa
    assert "| `include_anonymous` | bool | `false` |" in mqa


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ({"type": "string"}, "text"),
        ({"type": "number", "exclusiveMinimum": 0}, "number > 0"),
        (
            {"type": "array", "items": {"enum": list(vocab.SENIORITIES)}},
            "list of [seniority](#seniorities)",
        ),
        ({"enum": ["keep", "drop"], "type": "string"}, "one of `keep`, `drop`"),
        (
            {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
            "map text → number ≥ 0",
        ),
        (
            {"type": "array", "prefixItems": [{"type": "number"}, {"type": "null"}]},
            "[number, null]",
        ),
        ({"type": "integer", "minimum": 1, "maximum": 1_000_000}, "whole number ≥ 1, ≤ 1,000,000"),
    ],
)
def test_types_in_words(schema: dict, words: str) -> None:
    assert type_of(schema, "scenario") == words


def test_every_link_to_a_model_has_its_anchor(text: str) -> None:
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', text))
    links = set(re.findall(r"\]\(#((?:scenario|policy|sweep|mapping|suite|cases)-[^)]+)\)", text))
    assert links and links <= anchors, links - anchors
