"""The metric registry as users read it: docs/comparison.md shows it, every precision says which
truth it judges by, and the headline rows are registered metrics."""

from __future__ import annotations

from pathlib import Path

from sim.sales.metrics import ACCEPTABLE, ACTIVE, HEADLINE, METRICS, MONTH_METRICS, markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "comparison.md"


def test_docs_comparison_md_lists_every_metric_as_the_code_has_it() -> None:
    text = DOC.read_text(encoding="utf-8")
    shown = text.split("<!-- metrics:start -->\n")[1].split("<!-- metrics:end -->")[0]
    assert shown == markdown(), (
        "docs/comparison.md's metric table is out of date: replace the lines between its "
        "markers with sim.sales.metrics.markdown()"
    )


def test_every_precision_names_its_truth_and_only_precisions_do() -> None:
    for m in METRICS.values():
        if "precision" in m.name:
            assert m.truth in (ACTIVE, ACCEPTABLE), m.name
        elif m.name not in MONTH_METRICS:  # the base rate is judged as the month precision
            assert m.truth == "", m.name
    assert METRICS["precision"].truth == ACTIVE
    assert METRICS["acceptable_precision"].truth == ACCEPTABLE


def test_the_headline_rows_are_registered_metrics() -> None:
    assert set(HEADLINE) <= set(METRICS)
    assert len(set(HEADLINE)) == len(HEADLINE)
