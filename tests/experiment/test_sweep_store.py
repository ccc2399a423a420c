"""The sweep store's provenance: every reader sees only whole cells of the folder's configuration.

Hand-made faults on a tiny sweep (a smb world of 50 accounts, 2 scenario samples x 2
replications, 2 variants): a cell of another configuration copied in, a truncated cell, a cell
under another unit's name, a cell outside the design, a deleted, corrupt or older
``sweep.json``. Each is checked through the API (``results``, ``run_sweep``, ``query``) and the
CLI (``sweep``, ``recommend``, ``query``: a warning naming the file and the count and the
verified rows, or exit 2 with one paragraph saying what to do).
"""

from __future__ import annotations

import errno
import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner, Result

from sim.cli import app
from sim.errors import QualsimError
from sim.experiment.recommend import recommend, summary
from sim.experiment.sweep import SweepSpec, config_hash, results, run_sweep
from sim.experiment.sweep.query import query
from sim.experiment.sweep.store import ForeignCellsWarning

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
KEY = ["sample", "replication", "policy", "variant", "tier", "metric"]
TINY = """\
name: tiny
scenario: smb
overrides: {accounts: {count: 50}}
seed: 4
replications: 2
design: {kind: lhs, samples: 2}
uncertain:
  touches.identification_rate: 0.2..0.5
policies:
  - policy: mql_only
    grid: {threshold: [60, 100]}
"""
CELLS = ["s00000-r0000.parquet", "s00000-r0001.parquet", "s00001-r0000.parquet"]
ALL_CELLS = [*CELLS, "s00001-r0001.parquet"]


def spec_of(text: str) -> SweepSpec:
    return SweepSpec.model_validate(yaml.safe_load(text))


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def plain(text: str) -> str:
    return ANSI.sub("", text)


def assert_user_error(result: Result, *fragments: str) -> None:
    """Exit 2, no traceback, one paragraph starting 'error:' on stderr naming the fragments."""
    stdout, stderr = plain(result.stdout), plain(result.stderr)
    assert result.exit_code == 2, (result.exit_code, stdout, stderr, result.exception)
    assert "Traceback" not in stdout + stderr and stdout == ""
    assert stderr.startswith("error: ") and "\n\n" not in stderr.strip(), stderr
    flat = " ".join(stderr.split())
    for fragment in fragments:
        assert fragment in flat, (fragment, flat)


def rows(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY, kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The tiny sweep (A) and the same with other thresholds (B), each run whole (read-only)."""
    root = tmp_path_factory.mktemp("runs")
    a, b = root / "A", root / "B"
    run_sweep(spec_of(TINY), a, workers=1)
    run_sweep(spec_of(TINY.replace("[60, 100]", "[60, 80]")), b, workers=1)
    return {"A": a, "B": b}


@pytest.fixture
def folder(tmp_path: Path, runs: dict[str, Path]) -> Path:
    """A copy of sweep A with three of its four cells (the fourth still to run)."""
    out = tmp_path / "run"
    shutil.copytree(runs["A"], out)
    (out / "cells" / ALL_CELLS[3]).unlink()
    return out


def read_quietly(out: Path) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = results(out)
    return df, [str(w.message) for w in caught if w.category is ForeignCellsWarning]


def test_a_whole_folder_reads_without_warnings(runs: dict[str, Path]) -> None:
    df, said = read_quietly(runs["A"])
    assert said == []
    assert len(df) > 0 and set(df["config_hash"]) == {config_hash(spec_of(TINY))}
    meta = json.loads((runs["A"] / "sweep.json").read_text(encoding="utf-8"))
    assert (meta["samples"], meta["replications"], meta["seed"]) == (2, 2, 4)
    assert meta["variants"] == [["mql_only", "threshold=60"], ["mql_only", "threshold=100"]]


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        ("foreign", "of another configuration (config hash"),
        ("truncated", "unreadable, truncated or not Parquet"),
        ("renamed", "its rows are not all of sample 0, replication 1"),
        ("not-parquet", "unreadable, truncated or not Parquet"),
        ("a-row-less", "incomplete (rows missing or repeated)"),
        ("a-row-twice", "incomplete (rows missing or repeated)"),
        ("older-metrics", "its metrics are not this sweep's (missing precision)"),
        ("other-variants", "its policy variants are not this sweep's"),
    ],
)
def test_a_bad_cell_is_left_out_and_run_again(
    folder: Path, runs: dict[str, Path], fault: str, why: str
) -> None:
    target = folder / "cells" / CELLS[1]
    good = rows(results(folder))
    if fault == "foreign":  # B's cell of the same unit: same sample, replication and seed
        shutil.copy(runs["B"] / "cells" / CELLS[1], target)
    elif fault == "truncated":
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif fault == "renamed":  # A's own cell of another unit under this name
        shutil.copy(folder / "cells" / CELLS[0], target)
    elif fault == "not-parquet":
        target.write_text("sample,value\n0,1\n", encoding="utf-8")
    else:
        df = pd.read_parquet(target)
        df = {
            "a-row-less": df.iloc[1:],
            "a-row-twice": pd.concat([df, df.iloc[:1]]),
            "older-metrics": df[df["metric"] != "precision"],
            "other-variants": df.assign(variant=df["variant"].replace("threshold=60", "t=6")),
        }[fault]
        df.to_parquet(target, index=False)
    df, said = read_quietly(folder)
    expected = good[~((good["sample"] == 0) & (good["replication"] == 1))].reset_index(drop=True)
    pd.testing.assert_frame_equal(rows(df), expected)
    assert len(said) == 1 and "left out 1 of 3 cell files" in said[0]
    assert f"{CELLS[1]}: {why}" in said[0], said

    # query sees the same verified rows
    with pytest.warns(ForeignCellsWarning, match=re.escape(CELLS[1])):
        n = query(folder, "SELECT count(*) AS n FROM cells")["n"].iat[0]
    assert n == len(expected)

    # resuming runs the bad unit again (and the missing one), after which all is A's
    with pytest.warns(ForeignCellsWarning):
        counts = run_sweep(spec_of(TINY), folder, workers=1)
    assert counts == {"units": 4, "done_before": 2, "ran": 2, "rejected": 1}
    pd.testing.assert_frame_equal(rows(read_quietly(folder)[0]), rows(results(runs["A"])))


def test_cli_names_the_left_out_cells_and_uses_the_rest(
    folder: Path, runs: dict[str, Path]
) -> None:
    shutil.copy(runs["B"] / "cells" / CELLS[0], folder / "cells" / CELLS[0])
    shutil.copy(runs["A"] / "cells" / CELLS[0], folder / "cells" / "s00007-r0000.parquet")
    for args in (["recommend", folder], ["query", folder, "SELECT count(*) AS n FROM cells"]):
        result = invoke(*args, "--csv") if args[0] == "query" else invoke(*args)
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        err = " ".join(plain(result.stderr).split())
        assert err.startswith("warning: ") and "left out 2 of 4 cell files" in err, err
        assert f"{CELLS[0]}: of another configuration" in err
        assert "s00007-r0000.parquet: outside the design (2 samples x 2 replications)" in err
    n_rows = len(results(runs["A"])) // 4
    assert result.stdout == f"n\n{2 * n_rows}\n"  # the two good cells
    sweep_file = folder / "tiny.yaml"
    sweep_file.write_text(TINY, encoding="utf-8")
    result = invoke("sweep", sweep_file, "--out", folder, "--workers", "1")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "2 already done, 2 run now (2 cell files left out)" in plain(result.stdout)


def test_a_deleted_sweep_json_is_refused_not_reused(folder: Path, tmp_path: Path) -> None:
    """The issue's case: sweep.json deleted, then a sweep with changed thresholds."""
    (folder / "sweep.json").unlink()
    changed = spec_of(TINY.replace("[60, 100]", "[60, 90]"))
    with pytest.raises(QualsimError, match=r"sweep\.json: missing, so the 3 cell files"):
        run_sweep(changed, folder, workers=1)
    with pytest.raises(QualsimError, match="missing"):
        results(folder)
    changed_file = tmp_path / "changed.yaml"
    changed_file.write_text(TINY.replace("[60, 100]", "[60, 90]"), encoding="utf-8")
    what = ["sweep.json: missing, so the 3 cell files", "into a new folder", "delete"]
    assert_user_error(invoke("sweep", changed_file, "--out", folder, "--workers", "1"), *what)
    assert_user_error(invoke("recommend", folder), *what)
    assert_user_error(invoke("query", folder, "SELECT 1"), *what)
    assert len(list((folder / "cells").glob("*.parquet"))) == 3  # nothing was touched


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"config_hash": ', "unreadable or not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"format": 2, "config_hash": "x", "samples": -1}', "expected whole numbers"),
        ('{"format": 2}', "no config_hash"),
    ],
)
def test_a_corrupt_sweep_json_is_a_clear_error(
    folder: Path, tmp_path: Path, text: str, fragment: str
) -> None:
    (folder / "sweep.json").write_text(text, encoding="utf-8")
    with pytest.raises(QualsimError, match=re.escape(fragment)):
        results(folder)
    with pytest.raises(QualsimError, match=re.escape(fragment)):
        run_sweep(spec_of(TINY), folder, workers=1)
    sweep_file = tmp_path / "tiny.yaml"
    sweep_file.write_text(TINY, encoding="utf-8")
    for args in (["sweep", sweep_file, "--out", folder], ["recommend", folder]):
        assert_user_error(invoke(*args), "sweep.json", fragment, "restore")
    assert_user_error(invoke("query", folder, "SELECT 1"), fragment)


def test_an_older_sweep_json_is_updated_by_the_same_sweep(folder: Path, tmp_path: Path) -> None:
    meta = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    old = {"config_hash": meta["config_hash"], "spec": meta["spec"]}
    (folder / "sweep.json").write_text(json.dumps(old), encoding="utf-8")
    assert_user_error(invoke("recommend", folder), "older qualsim", "run the same sweep file")
    counts = run_sweep(spec_of(TINY), folder, workers=1)
    assert counts == {"units": 4, "done_before": 3, "ran": 1, "rejected": 0}
    assert json.loads((folder / "sweep.json").read_text(encoding="utf-8")) == meta
    # an older sweep.json of another configuration is still another sweep
    (folder / "sweep.json").write_text(json.dumps({**old, "config_hash": "f00"}), "utf-8")
    with pytest.raises(QualsimError, match="older qualsim"):
        run_sweep(spec_of(TINY), folder, workers=1)


def test_query_cannot_touch_the_machine(runs: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "copied.csv"
    attacks = [
        (f"COPY (SELECT * FROM cells) TO '{target}'", "file system operations are disabled"),
        ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
        ("SELECT * FROM read_text('/etc/hostname')", "file system operations are disabled"),
        (f"ATTACH '{tmp_path / 'x.db'}' AS x", "file system operations are disabled"),
        ("SET enable_external_access = true", "configuration has been locked"),
        ("LOAD httpfs", "disabled"),
    ]
    for sql, fragment in attacks:
        with pytest.raises(QualsimError, match=re.escape(fragment)):
            query(runs["A"], sql)
        assert_user_error(invoke("query", runs["A"], sql), "query: ", fragment)
    assert not target.exists() and not (tmp_path / "x.db").exists()
    # what it may do: the cells, DuckDB's functions, temporary tables in memory
    got = query(runs["A"], "CREATE TEMP TABLE t AS SELECT 1 AS x; SELECT count(*) AS n FROM cells")
    assert got["n"].iat[0] == len(results(runs["A"]))


@pytest.mark.parametrize("name", ["run[1]", "run*", "run?", "it's {a,b}"])
def test_query_a_folder_whose_name_has_glob_characters(
    runs: dict[str, Path], tmp_path: Path, name: str
) -> None:
    shutil.copytree(runs["A"], tmp_path / name)
    shutil.copytree(runs["B"], tmp_path / "run1")  # what the name would match as a glob
    result = invoke("query", tmp_path / name, "SELECT DISTINCT variant FROM cells", "--csv")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert sorted(result.stdout.splitlines()) == ["threshold=100", "threshold=60", "variant"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            "uncertain:\n  touches.identification_rate: 0.2..0.5\n  accounts.count: [40, 50]\n"
            "  accounts.count.x: [1, 2]\n",
            "'accounts.count' and 'accounts.count.x' clash",
        ),
        (
            "uncertain:\n  accounts.count.x: [1, 2]\n",
            "no field 'accounts.count.x' (did you mean 'accounts.count'?)",
        ),
    ],
)
def test_clashing_paths_are_clear_errors(tmp_path: Path, change: str, fragment: str) -> None:
    text = re.sub(r"uncertain:\n  touches.identification_rate: 0.2..0.5\n", change, TINY)
    path = tmp_path / "clash.yaml"
    path.write_text(text, encoding="utf-8")
    assert_user_error(invoke("sweep", path, "--out", tmp_path / "o"), "clash.yaml", fragment)
    assert not (tmp_path / "o").exists()


def test_clashing_grid_paths_are_clear_errors(tmp_path: Path) -> None:
    for grid, fragment in [
        ("{threshold: [60], threshold.x: [1]}", "'threshold' and 'threshold.x' clash"),
        ("{threshold.x: [1]}", "has no field 'threshold.x' (did you mean 'threshold'?)"),
    ]:
        path = tmp_path / "clash.yaml"
        path.write_text(TINY.replace("{threshold: [60, 100]}", grid), encoding="utf-8")
        assert_user_error(invoke("sweep", path, "--out", tmp_path / "o"), "clash.yaml", fragment)
    # a list item by a name that is not an index
    path.write_text(
        TINY.replace(
            "mql_only\n    grid: {threshold: [60, 100]}",
            "mqa_count\n    grid: {any.x.unique_contacts: [2]}",
        ),
        encoding="utf-8",
    )
    assert_user_error(
        invoke("sweep", path, "--out", tmp_path / "o"),
        "no field 'any.x.unique_contacts' (did you mean 'any.0.unique_contacts'",
    )


# --- the same faults through the real `qualsim` executable ----------------------------------

QUALSIM = shutil.which("qualsim") or shutil.which("qualsim", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(QUALSIM is None, reason="the 'qualsim' console script is not installed")
@pytest.mark.parametrize(
    "fault",
    ["deleted-sweep-json", "corrupt-sweep-json", "copy-to", "read-csv", "attach", "clash"],
)
def test_the_executable_exits_2_with_one_paragraph(
    folder: Path, tmp_path: Path, fault: str
) -> None:
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text(TINY, encoding="utf-8")
    argv = ["query", str(folder), "SELECT 1"]
    fragment = "file system operations are disabled"
    if fault == "deleted-sweep-json":
        (folder / "sweep.json").unlink()
        argv, fragment = ["sweep", str(sweep_file), "--out", str(folder)], "missing"
    elif fault == "corrupt-sweep-json":
        (folder / "sweep.json").write_text("{", encoding="utf-8")
        argv, fragment = ["recommend", str(folder)], "unreadable or not JSON"
    elif fault == "copy-to":
        argv[2] = f"COPY (SELECT * FROM cells) TO '{tmp_path / 'leak.csv'}'"
    elif fault == "read-csv":
        argv[2] = "SELECT * FROM read_csv('/etc/passwd')"
    elif fault == "attach":
        argv[2] = f"ATTACH '{tmp_path / 'x.db'}'"
    else:
        sweep_file.write_text(TINY.replace("0.2..0.5\n", "0.2..0.5\n  touches: [1]\n"), "utf-8")
        argv = ["sweep", str(sweep_file), "--out", str(tmp_path / "o")]
        fragment = "'touches' and 'touches.identification_rate' clash"
    done = subprocess.run([QUALSIM, *argv], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr and done.stdout == ""
    assert done.stderr.startswith("error: ") and "\n\n" not in done.stderr.strip()
    assert fragment in " ".join(done.stderr.split()), done.stderr
    assert not (tmp_path / "leak.csv").exists() and not (tmp_path / "x.db").exists()
    assert not (tmp_path / "o").exists()


def test_text_from_a_cell_is_printed_safely(folder: Path, runs: dict[str, Path]) -> None:
    """A forged cell's config hash (escape sequences, a long string) is shown escaped and short."""
    target = folder / "cells" / CELLS[0]
    df = pd.read_parquet(target)
    df["config_hash"] = "\x1b[2J\x1b]0;owned\x07" + "x" * 500
    df.to_parquet(target, index=False)
    name = "s\x1b[31m-r.parquet"
    shutil.copy(runs["A"] / "cells" / CELLS[1], folder / "cells" / name)
    result = invoke("recommend", folder)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "of another configuration (config hash \\x1b[2J\\x1b]0;owned\\x07xxx" in result.stderr
    assert "x" * 40 not in result.stderr
    assert "s\\x1b[31m-r.parquet: not a cell file name" in " ".join(result.stderr.split())


def test_a_full_disk_is_a_clear_error_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self, path, *args, **kwargs):
        Path(path).write_bytes(b"PAR1")  # what had been written when the disk filled up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    out = tmp_path / "run"
    with pytest.raises(
        QualsimError, match=re.escape("cannot write the cell (No space left on device)")
    ):
        run_sweep(spec_of(TINY), out, workers=1)
    assert list((out / "cells").iterdir()) == []
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text(TINY, encoding="utf-8")
    result = invoke("sweep", sweep_file, "--out", out, "--workers", "1")
    assert_user_error(result, "s00000-r0000.parquet: cannot write the cell (No space left")
    assert list((out / "cells").iterdir()) == []


@pytest.mark.parametrize("where", ["a-file", "inside-a-file", "sweep-json-is-a-folder"])
def test_out_that_cannot_be_a_results_folder(tmp_path: Path, where: str) -> None:
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text(TINY, encoding="utf-8")
    (tmp_path / "f").write_text("x", encoding="utf-8")
    out, fragment = {
        "a-file": (tmp_path / "f", "cannot create the results folder (Not a directory)"),
        "inside-a-file": (tmp_path / "f" / "o", "cannot create the results folder"),
        "sweep-json-is-a-folder": (tmp_path / "d", "sweep.json: not a file"),
    }[where]
    if where == "sweep-json-is-a-folder":
        (out / "sweep.json").mkdir(parents=True)
    with pytest.raises(QualsimError, match=re.escape(fragment)):
        run_sweep(spec_of(TINY), out, workers=1)
    assert_user_error(invoke("sweep", sweep_file, "--out", out, "--workers", "1"), fragment)


def test_recommend_refuses_rows_of_several_configurations(runs: dict[str, Path]) -> None:
    """Rows concatenated by hand from two folders would silently mix."""
    mixed = pd.concat([results(runs["A"]), results(runs["B"])], ignore_index=True)
    for read in (recommend, summary):
        with pytest.raises(QualsimError, match="the rows mix 2 sweep configurations"):
            read(mixed)
    assert recommend(results(runs["A"]))["variant"] in ("threshold=60", "threshold=100")


def test_query_csv_is_spreadsheet_safe_unless_raw(runs: dict[str, Path]) -> None:
    sql = "SELECT '=HYPERLINK(1)' AS v, -1.5 AS x, '\x1b[31mred' AS t FROM cells LIMIT 1"
    safe = invoke("query", runs["A"], sql, "--csv")
    assert safe.exit_code == 0, safe.stderr
    assert safe.stdout.splitlines() == ["v,x,t", "'=HYPERLINK(1),-1.5,red"]
    raw = invoke("query", runs["A"], sql, "--csv", "--raw-csv")
    assert raw.stdout.splitlines() == ["v,x,t", "=HYPERLINK(1),-1.5,red"]
