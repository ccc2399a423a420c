"""The printed comparison marks which direction is better on every row and explains the marks
and the two truths in a legend under the tables; a terminal that cannot encode the marks gets
ASCII stand-ins instead of a crash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.cli.base import encodable
from sim.sales.metrics import legend

ARGS = ["compare", "mql_only", "mqa_count", "-r", "2", "-w", "1"]


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sc") / "tiny.yaml"
    path.write_text("extends: smb\nname: tiny\naccounts:\n  count: 80\n", encoding="utf-8")
    return path


def test_rows_carry_marks_and_a_legend_explains_them(scenario_file):
    r = CliRunner().invoke(app, [ARGS[0], str(scenario_file), *ARGS[1:]])
    assert r.exit_code == 0, r.stdout + r.stderr
    text = " ".join(r.stdout.split())  # the legend wraps at the terminal's width
    assert "Precision (share) ↑" in r.stdout
    assert "Queue wait (hours) ↓" in r.stdout
    assert "Total wins (deals) ↑" in r.stdout
    assert "Handoffs / week (per week) " in r.stdout  # neither direction: no mark
    assert "↑ higher is better, ↓ lower is better" in text
    assert "Precision: active journey truth" in text
    assert "Sales-acceptable precision, Month precision, Month base rate: sales-acceptable" in text


def test_an_ascii_terminal_gets_stand_ins_not_a_crash(scenario_file):
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "NO_COLOR": "1"}
    code = "import sys; from sim.cli import main; sys.argv[0] = 'qualsim'; main()"
    r = subprocess.run(
        [sys.executable, "-c", code, ARGS[0], str(scenario_file), *ARGS[1:]],
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr.decode("ascii", "replace")
    out = r.stdout.decode("ascii")  # nothing outside ASCII was written
    assert "Precision (share) (+)" in out and "Queue wait (hours) (-)" in out
    assert "(+) higher is better, (-) lower is better" in " ".join(out.split())
    assert "+/-" in out  # "mean ±half-width" in the heading


def test_legend_names_only_the_truths_of_the_metrics_shown():
    assert "truth" not in legend(["handoffs", "wins"])
    assert "active journey" in legend(["lead_precision"])
    assert "sales-acceptable" not in legend(["lead_precision"])


def test_encodable_keeps_what_the_encoding_has():
    assert encodable("0.4 ±0.1 ↑", "utf-8") == "0.4 ±0.1 ↑"
    assert encodable("MQL → SAL ↓ ✓", "ascii") == "MQL -> SAL (-) ?"


@given(st.text())
def test_encodable_output_always_encodes_and_keeps_ascii(text):
    """Whatever the text: the result encodes in ASCII, ASCII text is unchanged, and every
    character the encoding lacks becomes its stand-in or one '?'."""
    got = encodable(text, "ascii")
    got.encode("ascii")
    if text.isascii():
        assert got == text
    assert encodable(text, "utf-8") == text  # hypothesis text has no lone surrogates
    plain = "".join(c if c.isascii() else "?" for c in text)
    assert len(got) >= len(plain)
