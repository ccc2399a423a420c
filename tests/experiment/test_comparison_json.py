"""A corrupt ``comparison.json`` is a ``DataError`` naming the file (API) and exit 2 (CLI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.errors import DataError
from sim.experiment import Comparison

QUALSIM = shutil.which("qualsim") or str(Path(sys.executable).with_name("qualsim"))
needs_exe = pytest.mark.skipif(not Path(QUALSIM).exists(), reason="no 'qualsim' console script")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    sc = sim.load_scenario("smb", overrides={"accounts": {"count": 60}})
    out = tmp_path_factory.mktemp("cmp") / "c"
    sim.compare(sc, ["mql_only"], replications=2, seed=1).write(out)
    return out


def corrupt(folder: Path, tmp_path: Path, text: str | bytes) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    (copy / "comparison.json").write_bytes(data)
    return copy


def test_an_intact_folder_reads_back(folder: Path) -> None:
    assert Comparison.read(folder).policies == ["mql_only"]


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda t: t[: len(t) // 2], r"not a valid comparison\.json \(.*line"),
        (lambda t: "[1, 2]", "expected a JSON object, got list"),
        (lambda t: b'{"a": "\xff"}', "not a valid comparison.json"),
        (lambda t: json.dumps({**json.loads(t), "format": "xlsx"}), "format: expected csv or"),
        (
            lambda t: json.dumps({k: v for k, v in json.loads(t).items() if k != "seeds"}),
            "seeds: expected a list, got nothing",
        ),
        (lambda t: json.dumps({**json.loads(t), "seed": "one"}), "seed: expected a int, got str"),
        (
            lambda t: json.dumps({**json.loads(t), "scenario": {"name": 1}}),
            "scenario: not a valid scenario",
        ),
    ],
    ids=["truncated", "a list", "not utf-8", "format", "no seeds", "seed text", "scenario"],
)
def test_a_corrupt_comparison_json_names_the_file(folder, tmp_path, mangle, message) -> None:
    text = (folder / "comparison.json").read_text(encoding="utf-8")
    copy = corrupt(folder, tmp_path, mangle(text))
    with pytest.raises(DataError, match=rf"copy/comparison\.json: .*{message}"):
        Comparison.read(copy)


@needs_exe
def test_cli_report_of_a_truncated_comparison_exits_2(folder: Path, tmp_path: Path) -> None:
    text = (folder / "comparison.json").read_text(encoding="utf-8")
    copy = corrupt(folder, tmp_path, text[:40])
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [QUALSIM, "report", str(copy), "-o", str(tmp_path / "r.html")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and "not a valid comparison.json" in done.stderr
    assert not (tmp_path / "r.html").exists()
