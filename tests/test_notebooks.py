"""The stored notebooks: no error outputs, small files, the standard head, a papermill parameters
cell, kernel python3, every notebook in the book's table of contents, no model code defined inline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_BYTES = 2_000_000  # figures are PNGs at modest dpi
PARAMETERS = ("profile", "data_root", "device", "folds", "epochs", "seed")
HEAD_LINES = 24  # Colab set-up (clone, install), the six parameters, the session (a chapter's own parameters add)


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_error_outputs_and_executed(path):
    for index, cell in enumerate(cells(path)):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("execution_count") is not None, f"{path.name} cell {index} was never executed"
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{path.name} cell {index} stores an error: {output.get('ename')}"
            assert output.get("name") != "stderr" or "Warning" not in output.get("text", ""), (
                f"{path.name} cell {index} stores a warning on stderr"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_size_limit(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes (limit {MAX_BYTES:,})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_standard_head(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown" and "".join(first["source"]).startswith("# "), "needs a # Title first"
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "google.colab" in "".join(code_cells[0]["source"]), "the first code cell sets up Colab"
    tagged = [c for c in code_cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    source = "".join(tagged[0]["source"])
    for name in PARAMETERS:
        assert re.search(rf"^{name}\b", source, re.M), f"parameter {name!r} missing"
    position = code_cells.index(tagged[0])
    after = [c for c in code_cells[position + 1 :] if "injected-parameters" not in c["metadata"].get("tags", [])]
    session = "".join(after[0]["source"])
    assert "session = setup(" in session, "the cell after the parameters starts the session"
    head = [code_cells[0], tagged[0], after[0]]
    lines = sum(len("".join(c["source"]).splitlines()) for c in head)
    assert lines <= HEAD_LINES + len(source.splitlines()) - len(PARAMETERS), f"the head is {lines} lines long"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_model_or_data_code_in_notebooks(path):
    for cell in cells(path):
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            assert not re.search(r"^class \w+\(.*(nn\.Module|Dataset)", source, re.M), f"{path.name} defines a model"


def test_every_notebook_is_in_the_toc():
    toc = (REPO / "_toc.yml").read_text()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in toc, f"{path.name} is not in _toc.yml"
