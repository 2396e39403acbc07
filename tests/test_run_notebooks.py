"""tools/run_notebooks.py: a papermill run is normalised so that re-running gives the same bytes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat

TOOL = Path(__file__).resolve().parents[1] / "tools" / "run_notebooks.py"
spec = importlib.util.spec_from_file_location("run_notebooks", TOOL)
run_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_notebooks)


def executed(outputs: list, papermill_metadata: dict) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    injected = nbformat.v4.new_code_cell("profile = 'smoke'")
    injected.metadata["tags"] = ["injected-parameters"]
    injected.id = "".join(filter(str.isdigit, papermill_metadata["start_time"]))  # new every run
    cell = nbformat.v4.new_code_cell("print('a'); print('b')")
    cell.id = "printing"  # the source notebook's cells keep theirs
    cell.outputs = outputs
    cell.metadata["papermill"] = papermill_metadata
    cell.metadata["execution"] = {"iopub.execute_input": papermill_metadata["start_time"]}
    nb.cells = [injected, cell]
    nb.metadata["papermill"] = {"start_time": papermill_metadata["start_time"]}
    return nb


def test_two_runs_that_differ_only_in_timing_give_the_same_bytes():
    stream = nbformat.v4.new_output
    first = executed(
        [stream("stream", name="stdout", text="a\n"), stream("stream", name="stdout", text="b\n")],
        {"start_time": "2026-11-24T05:00:00", "duration": 1.5},
    )
    second = executed(
        [stream("stream", name="stdout", text="a\nb\n")], {"start_time": "2026-11-25T09:00:00", "duration": 2.5}
    )
    texts = [
        nbformat.writes(run_notebooks.normalise(nb, {"profile": "smoke", "data_root": None})) for nb in (first, second)
    ]
    assert texts[0] == texts[1]
    nb = nbformat.reads(texts[0], as_version=4)
    assert nb.cells[0].id == "injected-parameters" and "remove-cell" in nb.cells[0].metadata["tags"]
    assert nb.cells[1].outputs[0]["text"] == "a\nb\n" and "papermill" not in nb.metadata


def test_streams_are_joined_only_when_adjacent_and_of_one_name():
    out = nbformat.v4.new_output
    outputs = [
        out("stream", name="stdout", text="a"),
        out("stream", name="stderr", text="w"),
        out("stream", name="stdout", text="b"),
        out("display_data", data={"text/plain": "x"}),
        out("stream", name="stdout", text="c"),
        out("stream", name="stdout", text="d"),
    ]
    joined = run_notebooks.coalesce_streams(outputs)
    assert [(o.get("name"), o.get("text")) for o in joined] == [
        ("stdout", "a"),
        ("stderr", "w"),
        ("stdout", "b"),
        (None, None),
        ("stdout", "cd"),
    ]
