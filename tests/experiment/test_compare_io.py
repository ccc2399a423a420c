"""A comparison folder's summaries carry each metric's unit, better direction and truth
(sim/experiment/compare_io.py): written, read back, and filled from the registry when a folder
was written before those columns existed."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sim import tables
from sim.errors import DataError
from sim.experiment.compare import Comparison, compare
from sim.experiment.compare_io import read_summary, with_metric_meta

META = ["unit", "better", "truth"]


@pytest.fixture(scope="module")
def cmp() -> Comparison:
    return compare(
        "smb",
        ["mql_only", "mqa_count"],
        replications=2,
        seed=3,
        overrides={"accounts": {"count": 100}},
    )


@pytest.fixture(scope="module")
def folders(cmp, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cmp")
    for fmt in ("csv", "parquet"):
        cmp.write(root / fmt, fmt=fmt)
    return {fmt: root / fmt for fmt in ("csv", "parquet")}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("name", ["summary", "paired"])
def test_written_summaries_carry_the_metadata_and_read_back(cmp, folders, fmt, name):
    back = read_summary(folders[fmt], name)
    made = cmp.summary() if name == "summary" else cmp.paired()
    assert list(back.columns) == tables.SUMMARY.names
    # an empty direction or truth reads back as empty text, not NaN
    pd.testing.assert_frame_equal(
        back[["policy", "metric", *META]], made[["policy", "metric", *META]]
    )
    row = back[back["metric"] == "acceptable_precision"].iloc[0]
    assert row[META].tolist() == ["share", "higher", "sales-acceptable"]
    row = back[back["metric"] == "total_revenue"].iloc[0]
    assert row[META].tolist() == ["currency", "higher", ""]
    row = back[back["metric"] == "handoffs_per_week"].iloc[0]
    assert row[META].tolist() == ["per week", "", ""]


def test_csv_file_has_the_columns_a_spreadsheet_user_reads(folders):
    raw = pd.read_csv(folders["csv"] / "summary.csv", keep_default_na=False)
    assert list(raw.columns) == tables.SUMMARY.names
    assert set(raw.loc[raw["metric"] == "queue_wait_hours", "better"]) == {"lower"}


def test_a_folder_written_without_the_columns_still_reads(cmp, folders, tmp_path):
    """An older folder: summary.csv and paired.csv without unit/better/truth. read_summary
    fills them from the registry; Comparison.read computes its summaries again, with them."""
    old = tmp_path / "old"
    shutil.copytree(folders["csv"], old)
    for name in ("summary", "paired"):
        df = pd.read_csv(old / f"{name}.csv")
        df.drop(columns=META).to_csv(old / f"{name}.csv", index=False)
    for name in ("summary", "paired"):
        back = read_summary(old, name)
        assert list(back.columns) == tables.SUMMARY.names
        assert back.loc[back["metric"] == "precision", "truth"].tolist()[0] == "active journey"
        assert back.loc[back["metric"] == "recall", "better"].tolist()[0] == "higher"
    again = Comparison.read(old)
    pd.testing.assert_frame_equal(again.summary(), cmp.summary(), check_dtype=False)


def test_a_summary_without_its_numbers_is_a_clear_error(folders, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(folders["csv"], broken)
    df = pd.read_csv(broken / "summary.csv")
    df.drop(columns="mean").to_csv(broken / "summary.csv", index=False)
    with pytest.raises(DataError, match=r"summary\.csv: the summary table lacks column\(s\) mean"):
        read_summary(broken)
    (broken / "paired.csv").unlink()
    with pytest.raises(DataError, match=r"paired\.csv: missing"):
        read_summary(broken, "paired")
    with pytest.raises(DataError, match="not a comparison folder"):
        read_summary(tmp_path)


def test_with_metric_meta_keeps_given_values_and_fills_the_rest():
    rows = pd.DataFrame(
        {
            "policy": ["a", "a", "a"],
            "metric": ["precision", "wins", "not_a_metric"],
            "better": ["lower", None, None],  # a value given is kept, a missing one filled
        }
    )
    out = with_metric_meta(rows)
    assert list(out.columns[:5]) == ["policy", "metric", *META]
    assert out["better"].tolist() == ["lower", "higher", ""]
    assert out["unit"].tolist() == ["share", "deals", ""]
    assert out["truth"].tolist() == ["active journey", "", ""]


def test_the_verdicts_limits_are_stored_and_read_back(cmp, folders, tmp_path):
    """comparison.json keeps the limits compare judged by (none: an empty object, as an
    older folder without the field reads); a corrupt entry is a DataError naming it."""
    assert Comparison.read(folders["csv"]).meta["limits"] == {}
    limits = {"objective": "queue_wait_hours", "max_handoffs_per_week": 20.0}
    given = dataclasses.replace(cmp, meta={**cmp.meta, "limits": limits})
    given.write(tmp_path / "given")
    assert Comparison.read(tmp_path / "given").meta["limits"] == limits
    meta_path = tmp_path / "given" / "comparison.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    for bad, match in (
        ({"max_handoffs_per_week": "many"}, r"limits\.max_handoffs_per_week: expected a float"),
        ({"objektive": "total_wins"}, r"limits\.objektive: unknown"),
        ([20], "limits: expected a JSON object"),
    ):
        meta_path.write_text(json.dumps({**meta, "limits": bad}), encoding="utf-8")
        with pytest.raises(DataError, match=match):
            Comparison.read(tmp_path / "given")
