"""The one printer behind ``--format``: each machine format holds exactly the tables given
(hand-made frames), text cells a spreadsheet would run are quoted in CSV unless raw, no
terminal control reaches stdout, names stay unique, nothing is printed when the command
fails; and ``number`` never writes scientific notation and rounds as it says."""

from __future__ import annotations

import io
import json
import math

import pandas as pd
import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from sim.cli.base import number
from sim.cli.output import Printer
from sim.errors import QualsimError

FRAME = pd.DataFrame({"policy": ["=cmd|' /C calc'!A0", "b\x1b]0;x\x07"], "mean": [0.5, 3.25]})


def printed(capsys: pytest.CaptureFixture[str], fmt: str, safe: bool = True, **kw) -> str:
    with Printer(fmt, safe=safe) as show:
        show.table(FRAME.set_index("policy"), "Means (all)", **kw)
        show.table(FRAME, "Means (all)")  # the same title again
        show.note("a note")
    return capsys.readouterr().out


def test_json_keys_records_and_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    tables = json.loads(printed(capsys, "json"))
    assert list(tables) == ["means_all", "means_all_2"]
    assert tables["means_all"] == [
        {"policy": "=cmd|' /C calc'!A0", "mean": 0.5},
        {"policy": "b", "mean": 3.25},  # terminal control removed, the text kept
    ]


def test_csv_titles_safe_cells_and_raw(capsys: pytest.CaptureFixture[str]) -> None:
    text = printed(capsys, "csv")
    first, second = text.split("\n\n")
    assert first.splitlines()[0] == "# Means (all)"
    df = pd.read_csv(io.StringIO(first), skiprows=1)
    assert df["policy"].tolist() == ["'=cmd|' /C calc'!A0", "b"]
    assert df["mean"].tolist() == [0.5, 3.25]
    raw = pd.read_csv(io.StringIO(printed(capsys, "csv", safe=False).split("\n\n")[0]), skiprows=1)
    assert raw["policy"].tolist() == ["=cmd|' /C calc'!A0", "b"]
    assert "\x1b" not in text and "\x07" not in text and second.startswith("# Means (all)")


def test_markdown_headings(capsys: pytest.CaptureFixture[str]) -> None:
    lines = printed(capsys, "markdown").splitlines()
    assert lines[0] == "### Means (all)"
    assert lines.count("### Means (all)") == 2
    assert lines[2].startswith("| policy") and "mean" in lines[2]


def test_notes_go_to_stderr_with_a_machine_format(capsys: pytest.CaptureFixture[str]) -> None:
    with Printer("json") as show:
        show.note("a note")
        show.echo("wrote x")
    got = capsys.readouterr()
    assert json.loads(got.out) == {}
    assert "a note" in got.err and "wrote x" in got.err


def test_data_replaces_the_printed_frame(capsys: pytest.CaptureFixture[str]) -> None:
    shown = pd.DataFrame({"x": ["0.50 ±0.10"]}, index=pd.Index(["m"], name="metric"))
    with Printer("json") as show:
        show.table(shown, "T", data=pd.DataFrame({"mean": [0.5]}), name="t")
    assert json.loads(capsys.readouterr().out) == {"t": [{"mean": 0.5}]}


def test_nothing_printed_when_the_command_fails(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(QualsimError), Printer("csv") as show:
        show.table(FRAME, "T")
        raise QualsimError("bad input")
    assert capsys.readouterr().out == ""
    with pytest.raises(typer.Exit), Printer("csv") as show:  # exit 1 after the tables: kept
        show.table(FRAME, "T")
        raise typer.Exit(1)
    assert capsys.readouterr().out.startswith("# T\n")


def test_a_bad_format_names_the_choices() -> None:
    with pytest.raises(QualsimError, match="expected one of table, csv, json, markdown"):
        Printer("xlsx")
    with pytest.raises(QualsimError, match="use --out-format parquet"):
        Printer("parquet")


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_number_is_plain_and_rounds_as_it_says(v: float) -> None:
    text = number(v)
    assert "e" not in text.lower()
    back = float(text.replace(",", ""))
    a = abs(v)
    if a >= 100 or float(v).is_integer():
        assert abs(back - v) <= 0.5 + 1e-9 * a
        assert "." not in text
    elif a >= 10:
        assert abs(back - v) <= 0.05 + 1e-12
    elif a >= 0.01:
        assert abs(back - v) <= 0.005 + 1e-12
    elif a > 0:  # two significant digits
        assert math.isclose(back, v, rel_tol=0.05, abs_tol=0.0) or back == 0.0
