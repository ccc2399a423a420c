"""The notebooks in notebooks/ run from top to bottom (nbclient, a real Jupyter kernel) and are
committed without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
EXPECTED = ["01_quickstart", "02_choose_threshold", "03_real_history", "04_custom_policy"]


def test_the_four_notebooks_exist() -> None:
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: a code cell has outputs"
            assert cell.get("execution_count") is None, f"{path.name}: execution counts saved"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path) -> None:
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
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert last.outputs, f"{path.name}: the last cell printed nothing"
