"""The notebooks in notebooks/ run from top to bottom (nbclient, a real Jupyter kernel) and are
committed without outputs. 03_real_history reads the Olist data through QUALSIM_OLIST: it runs
with the data when it is next to the repository (or QUALSIM_OLIST names it), and without."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = [
    "01_quickstart",
    "02_choose_threshold",
    "03_real_history",
    "04_custom_policy",
    "rollout_experiment",
]
# The Olist data is never in the repository (CC BY-NC-SA 4.0): $QUALSIM_OLIST, or next to it.
OLIST = os.environ.get("QUALSIM_OLIST") or ROOT.parent / "shared" / "data" / "olist"


def test_the_notebooks_exist() -> None:
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: a code cell has outputs"
            assert cell.get("execution_count") is None, f"{path.name}: execution counts saved"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_olist = Path(OLIST).is_dir()
    if with_olist:
        monkeypatch.setenv("QUALSIM_OLIST", str(OLIST))
    outputs = run_notebook(path)
    if with_olist and path.stem == "03_real_history":
        assert "MQL -> won" in outputs[0], "the Olist part did not run"


def test_real_history_runs_without_the_olist_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUALSIM_OLIST", raising=False)
    outputs = run_notebook(ROOT / "notebooks" / "03_real_history.ipynb")
    assert "QUALSIM_OLIST is not set" in outputs[0]


def run_notebook(path: Path) -> list[str]:
    """Execute the notebook; the text each code cell printed or showed."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat is installed with '.[test]'")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is installed with '.[test]'")
    pytest.importorskip("ipykernel", reason="ipykernel is installed with '.[test]'")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    # the last cell of each notebook shows something
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[-1].outputs, f"{path.name}: the last cell printed nothing"
    return [
        "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in c.outputs)
        for c in code
    ]
