"""Bring each executed notebook up to date with its text source, or say where the two disagree.

    python tools/sync_notebooks.py [--check] [NOTEBOOK ...]

A chapter is edited in ``notebooks/NN_*.md`` (MyST Markdown, jupytext ``md:myst``; pairing in
``jupytext.toml``). Its ``notebooks/NN_*.ipynb`` holds the executed outputs the book renders and
nbval checks. Syncing takes every cell's source and metadata from the text and keeps the stored
outputs and id of each cell whose source is unchanged (jupytext's own matching); a new cell gets
an id derived from its content, so inserting or removing a cell leaves every other id alone.
papermill's injected-parameters cell is kept after the ``parameters`` cell. A notebook is
rewritten only when it changes, so a synced tree stays byte-identical.

``--check`` changes nothing, prints the first differing cell of each notebook that disagrees with
its text and exits 1; `tests/test_notebook_sources.py` runs the same check.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import jupytext
import nbformat
from jupytext.combine import combine_inputs_with_outputs

from stsrn_lite.atomic import write_atomic

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
INJECTED = "injected-parameters"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
VOLATILE_METADATA = ("execution", "papermill", "jupyter", "collapsed", "scrolled", "editable", "deletable")


def text_sources() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.md"))


def serialise(nb: nbformat.NotebookNode) -> str:
    """The bytes every tool of the book writes a notebook as (`tools/run_notebooks.py` too)."""
    return nbformat.writes(nb) + "\n"


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _content_id(stem: str, cell, taken: set[str]) -> str:
    digest = hashlib.sha1(f"{stem}\0{cell.cell_type}\0{cell.source}".encode()).hexdigest()
    for start in range(0, len(digest) - 8):
        candidate = digest[start : start + 8]
        if candidate not in taken:
            return candidate
    raise RuntimeError(f"{stem}: no free cell id")  # 32 collisions in a row: not reachable in practice


def synced(text_path: Path) -> nbformat.NotebookNode:
    """The notebook that pairs ``text_path``: its text's cells with the stored outputs kept."""
    text = jupytext.read(text_path)
    ipynb = text_path.with_suffix(".ipynb")
    old = nbformat.read(ipynb, as_version=4) if ipynb.exists() else nbformat.v4.new_notebook()
    injected = [cell for cell in old.cells if INJECTED in _tags(cell)]
    old.cells = [cell for cell in old.cells if INJECTED not in _tags(cell)]
    nb = combine_inputs_with_outputs(text, old)
    for source, cell in zip(text.cells, nb.cells, strict=True):  # the text's metadata wins, removals too
        for key in [key for key in cell.metadata if key not in VOLATILE_METADATA and key not in source.metadata]:
            if cell.metadata[key] not in ([], {}):  # papermill's empty ``tags: []`` may stay
                del cell.metadata[key]
        cell.metadata.update(source.metadata)
    old_ids = {cell.get("id") for cell in old.cells}
    taken = {cell.get("id") for cell in nb.cells if cell.get("id") in old_ids}
    for cell in nb.cells:
        if cell.get("id") not in old_ids:  # a new cell: an id from its content, not a random one
            cell.id = _content_id(text_path.stem, cell, taken)
            taken.add(cell.id)
        if cell.cell_type == "code" and cell.get("id") not in old_ids:
            cell.outputs, cell.execution_count = [], None
    if injected:
        after = next((i for i, cell in enumerate(nb.cells) if "parameters" in _tags(cell)), None)
        if after is not None:
            nb.cells.insert(after + 1, injected[0])
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.setdefault("language_info", {"name": "python"})
    return nb


def _cell_metadata(cell) -> dict:
    metadata = cell.get("metadata", {}).items()
    return {key: value for key, value in metadata if key not in VOLATILE_METADATA and value not in ([], {})}


def first_difference(text_path: Path) -> str | None:
    """None when the .ipynb has exactly the text's cells; else where they first differ."""
    ipynb = text_path.with_suffix(".ipynb")
    if not ipynb.exists():
        return f"{ipynb.name} does not exist (run `make book`)"
    text = jupytext.read(text_path).cells
    stored = [c for c in nbformat.read(ipynb, as_version=4).cells if INJECTED not in _tags(c)]
    for index, (a, b) in enumerate(zip(text, stored)):
        if a.cell_type != b.cell_type or a.source != b.source or _cell_metadata(a) != _cell_metadata(b):
            first_line = (a.source.splitlines() or [""])[0][:70]
            return (
                f"{ipynb.name} disagrees with {text_path.name} at cell {index} ({a.cell_type}, starting {first_line!r})"
            )
    if len(text) != len(stored):
        return f"{ipynb.name} has {len(stored)} cells and {text_path.name} {len(text)}"
    return None


def write_if_changed(path: Path, nb: nbformat.NotebookNode) -> bool:
    text = serialise(nb)
    if path.exists() and path.read_text() == text:
        return False
    write_atomic(path, text)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="text sources; default: every notebooks/NN_*.md")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 where a pair disagrees")
    args = parser.parse_args(argv)
    paths = [path.with_suffix(".md") for path in args.notebooks] or text_sources()
    for path in paths:
        if not path.is_file():
            print(f"error: {path}: no such text notebook (expected notebooks/NN_*.md)", file=sys.stderr)
            return 2
    if args.check:
        problems = [problem for path in paths if (problem := first_difference(path))]
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path in paths:
        if write_if_changed(path.with_suffix(".ipynb"), synced(path)):
            print(f"synced {path.with_suffix('.ipynb').name} from {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
