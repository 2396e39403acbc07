"""Execute the book's notebooks with papermill, replacing each one only when it ran cleanly.

    python tools/run_notebooks.py [--profile smoke|full|paper] [--data-root DIR] [NOTEBOOK ...]

Each notebook runs in a scratch copy under ``_build/papermill/`` with its ``parameters`` cell
overridden by ``profile`` and ``data_root``. A clean run is normalised so that re-running gives
the same bytes (no timestamps or durations, adjacent prints of one stream joined, the injected
cell's id fixed and the cell tagged ``remove-cell``, kernel ``python3``) and then written over
the notebook. A failed run leaves the notebook alone, keeps ``_build/papermill/NAME.failed.ipynb``
and makes the exit status 1.
Progress bars are switched off through ``TQDM_DISABLE``; nbval runs with the same environment
(`KERNEL_ENV`), so the outputs it compares were produced the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
import papermill

from stsrn_lite.atomic import write_atomic
from stsrn_lite.book.profiles import PROFILE_NAMES

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SCRATCH = REPO / "_build" / "papermill"
KERNEL_ENV = {
    "TQDM_DISABLE": "1",
    "OMP_NUM_THREADS": "2",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}


def coalesce_streams(outputs: list) -> list:
    """Join adjacent outputs of one stream: how prints are split into messages depends on timing."""
    joined = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = "".join(previous["text"]) + "".join(output["text"])
        else:
            joined.append(output)
    return joined


def normalise(nb: nbformat.NotebookNode, parameters: dict) -> nbformat.NotebookNode:
    """Drop what changes from run to run; keep the parameters under metadata.reproduction."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["reproduction"] = {"parameters": parameters}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            cell.id = "injected-parameters"
            cell.source = cell.source.rstrip("\n")  # as ruff format writes a cell
            if "remove-cell" not in tags:
                cell.metadata["tags"] = [*tags, "remove-cell"]
    return nb


def run_one(path: Path, parameters: dict) -> tuple[bool, float, str]:
    SCRATCH.mkdir(parents=True, exist_ok=True)
    scratch = SCRATCH / path.name
    failed = SCRATCH / f"{path.stem}.failed.ipynb"
    failed.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(path),
            str(scratch),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(path.parent),
            progress_bar=False,
            record_timing=False,
            log_output=False,
            execution_timeout=3600,
        )
    except Exception as error:  # papermill raises PapermillExecutionError and friends
        if scratch.exists():
            scratch.rename(failed)
        return False, time.perf_counter() - started, f"{type(error).__name__}: {str(error).strip()[:2000]}"
    nb = normalise(nbformat.read(scratch, as_version=4), parameters)
    text = nbformat.writes(nb) + "\n"
    if not path.exists() or path.read_text() != text:
        write_atomic(path, text)
    scratch.unlink()
    return True, time.perf_counter() - started, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb, in order")
    parser.add_argument("--profile", choices=PROFILE_NAMES, default="smoke")
    parser.add_argument(
        "--data-root", default=None, help="the paper profile's folder with ilids-vid/, prid2011/, mars/"
    )
    args = parser.parse_args(argv)
    os.environ.update(KERNEL_ENV)  # the kernels inherit it
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    parameters = {"profile": args.profile, "data_root": args.data_root}
    failures = []
    for path in paths:
        ok, seconds, message = run_one(path.resolve(), parameters)
        print(f"{'ok    ' if ok else 'FAILED'} {path.name} ({seconds:.0f} s){'' if ok else ': ' + message}", flush=True)
        if not ok:
            failures.append(path.name)
    if failures:
        print(
            f"{len(failures)} notebook(s) failed and were left as they were: {', '.join(failures)}; "
            f"see {SCRATCH.relative_to(REPO)}/*.failed.ipynb",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
