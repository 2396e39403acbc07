"""Build a book notebook with the standard head: title, Colab set-up, parameters, session.

    from tools.notebook_template import write_notebook, md, code
    write_notebook("notebooks/09_table3.ipynb", "09 · Table 3: parameter counts", "intro text",
                   [md("## ..."), code("from stsrn_lite.params import table", tags=["hide-input"])],
                   extra_parameters={"identities": 150})

The result is unexecuted; `tools/run_notebooks.py` executes it. Cell ids are derived from the
notebook name and the cell's position, so rebuilding a notebook gives the same ids.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

COLAB = '''\
# Colab set-up: install stsrn_lite from the repository and check the runtime (does nothing elsewhere).
import sys

if "google.colab" in sys.modules:
    import importlib.util
    import os
    import subprocess

    if importlib.util.find_spec("stsrn_lite") is None:
        repository = os.environ.get("STSRN_LITE_REPOSITORY")  # this project's git URL
        if not repository:
            raise RuntimeError("Set the project's git URL first: import os; "
                               "os.environ['STSRN_LITE_REPOSITORY'] = 'https://github.com/OWNER/REPO'")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"git+{repository}"], check=True)
    import torch

    if not torch.cuda.is_available():
        print("No GPU runtime: Runtime > Change runtime type > GPU. The smoke profile also runs on the CPU.")'''

PARAMETERS = '''\
profile: str = "smoke"  # smoke (synthetic, small, CPU) | full (synthetic at real sizes, GPU) | paper (real data, GPU)
data_root: str = None  # paper: the folder holding ilids-vid/, prid2011/, mars/; None: the synthetic default
device: str = None  # None: the profile's device ("cpu" for smoke, "cuda" otherwise)
folds: int = None  # None: the profile's number of folds
epochs: int = None  # None: the profile's number of epochs
seed: int = 0'''

SESSION = '''\
from stsrn_lite.notebook import setup

session = setup(profile, data_root, device, seed)
folds = folds or session.profile.folds
epochs = epochs or session.profile.epochs'''


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(text: str, tags: list[str] | None = None, figure: dict | None = None) -> nbformat.NotebookNode:
    """A code cell; ``figure={"caption": ..., "name": ...}`` makes its output a numbered figure."""
    cell = nbformat.v4.new_code_cell(text.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    if figure:
        cell.metadata["mystnb"] = {"figure": figure}
    return cell


def write_notebook(path: str | Path, title: str, intro: str, body: list, *,
                   extra_parameters: dict | None = None) -> Path:
    path = Path(path)
    parameters = PARAMETERS + "".join(f"\n{name}: {type(value).__name__} = {value!r}" for name, value in (extra_parameters or {}).items())
    cells = [md(f"# {title}\n\n{intro}"), code(COLAB, tags=["hide-cell"]),
             code(parameters, tags=["parameters", "hide-cell"]), code(SESSION, tags=["hide-cell"]), *body]
    for position, cell in enumerate(cells):
        cell.id = f"{path.stem[:2]}-{position:02d}"
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
