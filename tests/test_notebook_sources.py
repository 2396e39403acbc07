"""Each chapter's text source (notebooks/NN_*.md) and its executed notebook agree, and syncing keeps
the ids of the cells it does not touch (tools/sync_notebooks.py)."""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "tools" / "sync_notebooks.py"
spec = importlib.util.spec_from_file_location("sync_notebooks", TOOL)
sync_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sync_notebooks)

SOURCES = sync_notebooks.text_sources()


def test_every_notebook_has_a_text_source():
    notebooks = sorted(p.stem for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks and notebooks == [p.stem for p in SOURCES]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_text_source_and_notebook_agree(path):
    problem = sync_notebooks.first_difference(path)
    assert problem is None, f"{problem}: edit the .md, then run `make book` (or tools/sync_notebooks.py)"


@pytest.fixture
def pair(tmp_path) -> Path:
    source = REPO / "notebooks" / "04_stsm.md"
    shutil.copy(source, tmp_path / source.name)
    shutil.copy(source.with_suffix(".ipynb"), tmp_path / source.with_suffix(".ipynb").name)
    return tmp_path / source.name


def test_an_edit_is_named_with_its_notebook_and_cell(pair):
    text = pair.read_text()
    assert "## The paper's module" in text
    pair.write_text(text.replace("## The paper's module", "## The module as the paper states it"))
    problem = sync_notebooks.first_difference(pair)
    assert problem is not None and "04_stsm.ipynb" in problem and "The module as the paper states it" in problem


def test_sync_keeps_ids_and_outputs_of_untouched_cells(pair):
    before = nbformat.read(pair.with_suffix(".ipynb"), as_version=4)
    text = pair.read_text()
    marker = "## The paper's module"
    pair.write_text(text.replace(marker, f"A new paragraph.\n\n+++\n\n{marker}", 1))
    assert sync_notebooks.main([str(pair)]) == 0
    after = nbformat.read(pair.with_suffix(".ipynb"), as_version=4)
    assert len(after.cells) == len(before.cells) + 1
    old = {cell.id: cell for cell in before.cells}
    new_ids = [cell.id for cell in after.cells if cell.id not in old]
    assert len(new_ids) == 1, "only the inserted cell gets a new id"
    for cell in after.cells:
        if cell.id in old:
            assert cell.source == old[cell.id].source
            assert cell.get("outputs") == old[cell.id].get("outputs")
    assert sync_notebooks.first_difference(pair) is None
    # syncing again changes nothing, and the new id comes from the content, not from chance
    written = pair.with_suffix(".ipynb").read_bytes()
    assert sync_notebooks.main([str(pair)]) == 0 and pair.with_suffix(".ipynb").read_bytes() == written


def test_check_mode_exits_1_and_changes_nothing(pair):
    pair.write_text(pair.read_text().replace("## The paper's module", "## Changed"))
    ipynb = pair.with_suffix(".ipynb")
    before = ipynb.read_bytes()
    assert sync_notebooks.main(["--check", str(pair)]) == 1
    assert ipynb.read_bytes() == before


def test_a_missing_source_is_refused(tmp_path, capsys):
    assert sync_notebooks.main([str(tmp_path / "99_nothing.md")]) == 2
    assert "99_nothing.md" in capsys.readouterr().err


def test_the_texts_tags_win_over_the_stored_ones(pair):
    """A tag added in the text reaches the notebook even where papermill stored ``tags: []``."""
    ipynb = pair.with_suffix(".ipynb")
    nb = nbformat.read(ipynb, as_version=4)
    hidden = [cell for cell in nb.cells if "hide-cell" in cell.metadata.get("tags", [])]
    assert hidden
    for cell in hidden:
        cell.metadata["tags"] = []
    nbformat.write(nb, ipynb)
    assert sync_notebooks.first_difference(pair) is not None
    assert sync_notebooks.main([str(pair)]) == 0
    assert sync_notebooks.first_difference(pair) is None
    # and a tag removed from the text leaves the notebook
    pair.write_text(pair.read_text().replace(":tags: [hide-cell]\n", "", 1))
    assert sync_notebooks.main([str(pair)]) == 0
    assert sync_notebooks.first_difference(pair) is None


BOOK_COLUMN = 88  # characters of code that fit the book's column at 1280 px (tools/check_book.py)
INCLUDE = re.compile(r"```\{literalinclude\} (\S+)\n:pyobject: (\S+)")


def included_objects() -> list[tuple[Path, str]]:
    """(source file, object name) of every ``literalinclude`` with ``:pyobject:`` in the book."""
    found = []
    for page in [*sorted((REPO / "notebooks").glob("*.md")), *sorted((REPO / "book").glob("*.md"))]:
        for relative, name in INCLUDE.findall(page.read_text()):
            found.append(((page.parent / relative).resolve(), name))
    return found


def test_the_book_includes_package_code():
    assert len(included_objects()) >= 5


@pytest.mark.parametrize("source,name", included_objects(), ids=lambda x: getattr(x, "name", x))
def test_included_code_fits_the_books_column(source, name):
    tree = ast.parse(source.read_text())
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == name)
    lines = source.read_text().splitlines()[node.lineno - 1 - len(node.decorator_list) : node.end_lineno]
    wide = [f"{source.name}:{node.lineno + i}" for i, line in enumerate(lines) if len(line) > BOOK_COLUMN]
    assert not wide, f"{name} is shown in the book; keep its lines within {BOOK_COLUMN} characters: {wide}"
