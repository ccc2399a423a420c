"""The robustness table as printed: one number format per metric, signed changes, no "-0.000",
labels with units and directions; and the tidy table with units for the machine formats."""

from __future__ import annotations

import pandas as pd

from sim.cli.robustness import robustness_view, with_units

COLS = ["policy", "knob", "value", "metric", "clean", "messy", "change", "ci_low", "ci_high", "n"]


def _table() -> pd.DataFrame:
    rows = [
        ("a", "dup", 0.1, "precision", 0.131, 0.13, -0.001, -0.013, 0.011, 2),
        ("a", "dup", 0.1, "recall", 0.06, 0.0752, 0.0152, 0.006, 0.0244, 2),
        ("b", "dup", 0.1, "precision", 0.995, 0.9949, -0.0001, -0.0031, 0.0029, 2),
        ("b", "dup", 0.1, "recall", 0.2, 0.2, 0.0, 0.0, 0.0, 2),
        ("a", "dup", 0.1, "weekly_load_p90", 2.0, 2.62, 0.62, 0.1, 1.14, 2),
        ("b", "dup", 0.1, "weekly_load_p90", 150.0, 151.0, 1.0, -3.0, 5.0, 2),
    ]
    return pd.DataFrame(rows, columns=COLS)


def test_each_metric_has_one_format_and_a_signed_change() -> None:
    view = robustness_view(_table())
    assert view.index.tolist() == ["a / dup", "b / dup"]
    assert list(view.columns) == [
        "Precision (share) ↑",
        "Recall (share) ↑",
        "p90 week (per week)",
    ]
    prec, rec, load = (view[c].tolist() for c in view.columns)
    # 0.131 -> 0.13 read as 0.131 -> 0.130; -0.0001 rounds to zero: 0.000, never -0.000
    assert prec == ["0.131 -> 0.130 (-0.001 ±0.012)", "0.995 -> 0.995 (0.000 ±0.003)"]
    assert rec == ["0.060 -> 0.075 (+0.015 ±0.009)", "0.200 -> 0.200 (0.000 ±0.000)"]
    # a load up to 151 a week: whole numbers for the column, 2 and 2.62 alike
    assert load == ["2 -> 3 (+1 ±1)", "150 -> 151 (+1 ±4)"]


def test_machine_formats_carry_unit_and_direction() -> None:
    out = with_units(_table())
    assert out.columns.tolist()[3:6] == ["metric", "unit", "better"]
    got = dict(zip(out["metric"], zip(out["unit"], out["better"], strict=True), strict=True))
    assert got == {
        "precision": ("share", "higher"),
        "recall": ("share", "higher"),
        "weekly_load_p90": ("per week", ""),
    }
