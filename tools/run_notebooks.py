"""Execute the book's notebooks with papermill, replacing each one only when it ran cleanly.

    python tools/run_notebooks.py [--profile smoke|full|paper] [--data-root DIR] [--device cpu|cuda]
        [--epochs N] [--folds N] [--chapters 07,12] [--workers N|auto]
        [--preflight | --where | --kernel-env | --nbval-mode] [NOTEBOOK ...]

Each notebook runs in a scratch copy under ``_build/papermill/`` with its ``parameters`` cell
overridden by ``profile``, ``data_root`` and those of ``device``, ``epochs``, ``folds`` that are
given. A clean run is normalised so that re-running gives the same bytes (no timestamps or
durations, adjacent prints of one stream joined, the injected cell's id fixed and the cell tagged
``remove-cell``, kernel ``python3``) and then written out. A failed run leaves the notebook alone,
keeps ``_build/papermill/NAME.failed.ipynb`` and makes the exit status 1.

Where the executed notebooks go: the committed book (``notebooks/``, which nbval checks) is the
default profile's, so only a run with the default parameters writes there. Any other run (another
profile, a data root, a device, epochs or folds) writes its own book source under
``_build/<profile>/`` (its executed notebooks, the text pages and a table of contents of the
chapters it has executed), which ``make book`` then builds into ``_build/<profile>/_build/html``.
``--where`` prints that source folder (``.`` for the committed book). ``--preflight`` checks, before
anything is deleted or executed, that the profile can run here (a GPU when its device is cuda, the
real datasets that the chosen chapters read, `READS`), and exits 2 with one line saying what to do
when it cannot.
Progress bars are switched off through ``TQDM_DISABLE``; nbval runs with the same environment
(`KERNEL_ENV`, which ``--kernel-env`` prints for the Makefile), so the outputs it compares were
produced the same way.

Training gives other numbers on a CPU with other instruction sets (torch's kernels, oneDNN and MKL
take other code paths; from the first epoch on, at one thread), so a default run records the
signature of the CPU that executed the committed notebooks in ``notebooks/cpu.json``
(`cpu_signature`), and ``--nbval-mode`` tells ``make test`` how to check them: ``--nbval``, every
output compared, on a CPU with that signature; ``--nbval-lax``, every notebook executed and any
error a failure but no output compared, on another (with a line on stderr saying why).

``--workers N`` executes N notebooks at a time (``auto``: one per core), each kernel on one CPU
thread (`stsrn_lite.book.session.CPU_THREADS`), and the summaries (`SUMMARIES`) after all the others.
Notebooks that need the same run or the same data take turns on its lock
(`stsrn_lite.book.experiments.run`, `stsrn_lite.atomic.locked`), so the outputs do not depend on
how many run at once.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import papermill
import yaml

from stsrn_lite.atomic import write_atomic
from stsrn_lite.book.grid import TABLES, table_datasets
from stsrn_lite.book.profiles import PROFILE_NAMES, Profile, get_profile
from stsrn_lite.book.session import CPU_THREADS
from stsrn_lite.weights import committed

REPO = Path(__file__).resolve().parents[1]
# Chapters that show the results the others store (the introduction's verdicts, the report): they
# run after the rest, so that they show this run's results and not the previous run's (nbval
# executes in file order and compares against results that the later chapters stored).
SUMMARIES = ("00", "16")
# Chapters that train and test the most, costliest first: executed side by side, they start first,
# so that the workers end together (longest first). Their times in nbval from a fresh home, smoke
# profile, on the 2-core AMD EPYC of 2026-12-06: 914, 729, 252, 210, 193 and 178 s of the 2,700 s
# that all sixteen took; the others took under 60 s each. Left to pytest-xdist's own order (by
# number of cells), 11 and 12 ran on one worker while the other idled for ten of nbval's 28 minutes.
COSTLIEST = ("12", "11", "07", "15", "06", "08")
# What each chapter reads of the datasets, for the preflight of a profile on the real ones: dataset
# names, or tables of the grid, whose datasets depend on the profile (`table_datasets`). Chapter 15
# loads the committed STSRN weights and reads iLIDS-VID only where none are committed (it trains
# them there); the summaries read the stored results. tests/test_run_notebooks.py checks each
# chapter's code against this list.
READS = {
    "00": (),
    "01": ("ilids-vid", "prid2011", "mars"),
    "02": ("ilids-vid",),
    "03": (),
    "04": ("ilids-vid",),
    "05": ("ilids-vid",),
    "06": ("ilids-vid", "prid2011"),
    "07": ("table1",),
    "08": ("table2",),
    "09": (),
    "10": ("table4",),
    "11": ("table5",),
    "12": ("table6",),
    "13": ("ilids-vid",),
    "15": (),
    "16": (),
}
NOTEBOOKS = REPO / "notebooks"
SCRATCH = REPO / "_build" / "papermill"
KERNEL_ENV = {
    "TQDM_DISABLE": "1",
    "OMP_NUM_THREADS": str(CPU_THREADS),
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}

# The CPU that executed the committed notebooks (`cpu_signature`), which nbval checks in full only
# on a CPU with the same signature (`nbval_mode`)
CPU_STAMP = NOTEBOOKS / "cpu.json"

ISA_FLAGS = (
    "sse4_1",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "avx_vnni",
    "amx_tile",
    "amx_bf16",
)


def cpu_signature(cpuinfo: str | None = None) -> dict:
    """What of this CPU decides a CPU computation's last bits: vendor, family and model, the
    instruction sets of `ISA_FLAGS` it has, and the capability torch dispatches to.

    Training on two CPUs that differ in these gives different numbers from the first epoch on
    (one thread, same torch and data), so the committed book records the signature of the CPU
    that executed it (`CPU_STAMP`). ``cpuinfo``: the text of ``/proc/cpuinfo`` (Linux; read
    when not given; elsewhere only the processor's name and torch's capability are known).
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    import torch

    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if not key.strip():
            break  # the first processor's block is enough
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    return {
        "vendor": fields.get("vendor_id", platform.processor() or platform.machine()),
        "family": fields.get("cpu family", ""),
        "model": fields.get("model", ""),
        "isa": [flag for flag in ISA_FLAGS if flag in flags],
        "torch_capability": torch.backends.cpu.get_cpu_capability(),
    }


def nbval_mode(stamp: Path | None = None, signature: dict | None = None) -> tuple[str, str | None]:
    """(the nbval option, why it is not the full check): ``--nbval`` on a CPU with the signature
    the committed notebooks were executed on; elsewhere ``--nbval-lax``, which executes every
    notebook and fails on any error but compares no output, since a training chapter's numbers
    differ between CPUs from the first epoch on."""
    stamp, signature = stamp or CPU_STAMP, signature or cpu_signature()
    try:
        built = json.loads(stamp.read_text())
    except (OSError, json.JSONDecodeError):
        return (
            "--nbval-lax",
            f"{stamp} is missing or not JSON: the CPU that executed the notebooks is unknown",
        )
    if built == signature:
        return "--nbval", None
    return "--nbval-lax", (
        f"the notebooks were executed on another CPU ({describe(built)}; this one: {describe(signature)}), "
        "where training gives other numbers, so nbval executes every notebook and compares no outputs"
    )


def stamp_cpu(everything: bool, stamp: Path | None = None) -> None:
    """Record this CPU's signature as the one the committed notebooks were executed on; when only
    some were executed here and the others on another CPU, say that the book now mixes the two."""
    stamp, signature = stamp or CPU_STAMP, cpu_signature()
    try:
        before = json.loads(stamp.read_text())
    except (OSError, json.JSONDecodeError):
        before = None
    if not everything and before is not None and before != signature:
        print(
            f"warning: the other notebooks were executed on another CPU ({describe(before)}); "
            "nbval on either CPU will find outputs of the other: run make book to execute them all here",
            file=sys.stderr,
        )
    write_atomic(stamp, json.dumps(signature, indent=1) + "\n")


def describe(signature: dict) -> str:
    """A CPU signature in a few words: vendor, family/model, torch's capability."""
    return (
        f"{signature.get('vendor', '?')} family {signature.get('family', '?')} model {signature.get('model', '?')}, "
        f"torch {signature.get('torch_capability', '?')}"
    )


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


DEFAULT_PROFILE = PROFILE_NAMES[0]  # the profile of the committed notebooks (smoke)
DATASETS = ("ilids-vid", "prid2011", "mars")
SHARED_SOURCES = ("book", "stsrn_lite", "_static")  # linked into a profile book: text pages, included code, CSS


def parameters_of(args: argparse.Namespace) -> dict:
    """The notebooks' parameters: profile and data root always, the overrides only when given. The
    data root is made absolute: papermill runs each notebook in its own folder."""
    data_root = str(Path(args.data_root).expanduser().resolve()) if args.data_root else None
    parameters = {"profile": args.profile, "data_root": data_root}
    parameters.update({k: getattr(args, k) for k in ("device", "epochs", "folds") if getattr(args, k) is not None})
    return parameters


def book_source(parameters: dict) -> Path:
    """The folder of the book these parameters execute: the repository for the committed
    (default) one, else ``_build/<profile>``."""
    if parameters == {"profile": DEFAULT_PROFILE, "data_root": None}:
        return REPO
    return REPO / "_build" / parameters["profile"]


def chapter_label(path: Path) -> str:
    """A notebook as messages name it: its chapter number, or its file name if it is no chapter."""
    return path.name[:2] if path.name[:2] in READS else path.name


def chapter_datasets(number: str, profile: Profile) -> tuple[str, ...]:
    """The datasets chapter ``number`` reads in ``profile`` (`READS`; a notebook it does not list:
    all of them), in `DATASETS`' order."""
    listed = READS.get(number, DATASETS)
    reads = {name for item in listed for name in (table_datasets(item, profile) if item in TABLES else [item])}
    if number == "15" and committed("ilids-vid", "STSRN") is None:
        reads.add("ilids-vid")
    return tuple(d for d in DATASETS if d in reads)


def preflight(parameters: dict, paths: list[Path] | None = None) -> str | None:
    """Why the book cannot execute the chapters ``paths`` (default: all) with ``parameters`` here
    (one line), or None when it can."""
    profile = get_profile(parameters["profile"])
    device = parameters.get("device") or profile.device
    make = f"make book PROFILE={profile.name}"
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            return (
                f"{make}: the {profile.name} profile runs on a GPU (device cuda) and torch sees none; "
                f"run it on a machine with a GPU (Colab: Runtime > Change runtime type > GPU), "
                f"or on this CPU with DEVICE=cpu EPOCHS=1 FOLDS=1 (a partial run, labelled as such)"
            )
    if profile.synthetic is None:
        chosen = paths if paths is not None else chapter_paths(None, [])
        needs = {chapter_label(path): chapter_datasets(path.name[:2], profile) for path in chosen}
        wanted = [d for d in DATASETS if any(d in reads for reads in needs.values())]
        root = parameters.get("data_root")
        if wanted and not root:
            folders = ", ".join(f"{d}/" for d in wanted)
            return f"{make}: the chapters asked for read the real datasets; pass DATA_ROOT=<folder with {folders}>"
        missing = [d for d in wanted if not (Path(root) / d).is_dir()]
        if missing:
            readers = [label for label, reads in needs.items() if set(reads) & set(missing)]
            return (
                f"{root}: no {', '.join(f'{d}/' for d in missing)} here, which chapter(s) {', '.join(readers)} "
                f"read; download them (stsrn-download), pass another DATA_ROOT, or leave those chapters out (CHAPTERS=)"
            )
    return None


def summaries_last(paths: list[Path]) -> list[Path]:
    """``paths`` with the chapters of `SUMMARIES` moved to the end (each group in its order)."""
    return sorted(paths, key=lambda path: path.name[:2] in SUMMARIES)


def costliest_first(paths: list[Path]) -> list[Path]:
    """``paths`` in the order to start them side by side: the chapters of `COSTLIEST` first, in its
    order, then the others in theirs, the summaries (`SUMMARIES`) last."""

    def key(path: Path) -> tuple[int, int]:
        number = path.name[:2]
        return number in SUMMARIES, COSTLIEST.index(number) if number in COSTLIEST else len(COSTLIEST)

    return sorted(paths, key=key)


def chapter_paths(chapters: str | None, notebooks: list[Path]) -> list[Path]:
    """The notebooks to execute: those named, else the chapters listed ("07,12"), else all; the
    summaries (`SUMMARIES`) after the chapters whose results they read."""
    every = summaries_last(sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
    if notebooks:
        return summaries_last(notebooks)
    if not chapters:
        return every
    wanted = [c.strip().zfill(2) for c in chapters.split(",") if c.strip()]
    chosen = [p for p in every if p.name[:2] in wanted]
    unknown = sorted(set(wanted) - {p.name[:2] for p in chosen})
    if unknown:
        last = every[-1].name[:2]
        raise ValueError(f"{NOTEBOOKS}: no chapter {', '.join(unknown)} (the chapters are 00-{last})")
    return chosen


def write_book_source(source: Path) -> None:
    """Make ``source`` a book: the configuration, links to the shared text, and a table of contents
    of the chapters executed there so far (the committed book's order, the others left out)."""
    source.mkdir(parents=True, exist_ok=True)
    for name in SHARED_SOURCES:
        link = source / name
        if not link.is_symlink():
            link.symlink_to(os.path.relpath(REPO / name, source))
    profile = source.name
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    config["title"] = f"{config['title']} ({profile} profile)"
    write_atomic(source / "_config.yml", yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    present = {f"notebooks/{p.stem}" for p in (source / "notebooks").glob("*.ipynb")}

    def keep(file: str) -> bool:
        return not file.startswith("notebooks/") or file in present

    for part in toc["parts"]:
        part["chapters"] = [c for c in part["chapters"] if keep(c["file"])]
    toc["parts"] = [part for part in toc["parts"] if part["chapters"]]
    if not keep(toc["root"]):  # the introduction not executed: the first page leads
        toc["root"] = toc["parts"][0]["chapters"].pop(0)["file"]
    write_atomic(source / "_toc.yml", yaml.safe_dump(toc, sort_keys=False, allow_unicode=True))


def run_one(path: Path, parameters: dict, into: Path | None = None) -> tuple[bool, float, str]:
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
    target = (into or path.parent) / path.name
    if not target.exists() or target.read_text() != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, text)
    scratch.unlink()
    return True, time.perf_counter() - started, ""


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def workers(text: str) -> int:
    """``auto`` (one per core this process may use) or a count; 0 and 1 both mean one at a time."""
    if text == "auto":
        return len(os.sched_getaffinity(0))
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of notebooks or auto, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return max(value, 1)


def run_all(paths: list[Path], parameters: dict, into: Path | None, at_once: int) -> list[str]:
    """Execute ``paths`` ``at_once`` at a time, the summaries (`SUMMARIES`) after the rest; print
    one line per notebook as it ends and return the names of those that failed."""
    failures = []

    def report(path: Path, ok: bool, seconds: float, message: str) -> None:
        print(f"{'ok    ' if ok else 'FAILED'} {path.name} ({seconds:.0f} s){'' if ok else ': ' + message}", flush=True)
        if not ok:
            failures.append(path.name)

    chapters = [p for p in paths if p.name[:2] not in SUMMARIES]
    summaries = [p for p in paths if p.name[:2] in SUMMARIES]
    if at_once <= 1:
        for path in paths:
            report(path, *run_one(path.resolve(), parameters, into))
        return failures
    # spawned, not forked: each worker starts clean and its kernels inherit KERNEL_ENV
    with ProcessPoolExecutor(at_once, mp_context=multiprocessing.get_context("spawn")) as pool:
        for group in (chapters, summaries):
            running = {pool.submit(run_one, path.resolve(), parameters, into): path for path in costliest_first(group)}
            for done in as_completed(running):
                report(running[done], *done.result())
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb, in order")
    parser.add_argument("--profile", choices=PROFILE_NAMES, default="smoke")
    parser.add_argument(
        "--data-root", default=None, help="the paper profile's folder with ilids-vid/, prid2011/, mars/"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: the profile's")
    parser.add_argument("--epochs", type=positive, default=None, help="default: the profile's")
    parser.add_argument("--folds", type=positive, default=None, help="default: the profile's")
    parser.add_argument("--chapters", default=None, help="chapter numbers to execute, e.g. 07,12 (default: all)")
    parser.add_argument(
        "--workers", type=workers, default=1, help="notebooks executed at a time, or auto: one per core (default: 1)"
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--preflight", action="store_true", help="only check that the profile can run here")
    what.add_argument("--where", action="store_true", help="only print the folder of the book these options build")
    what.add_argument("--kernel-env", action="store_true", help="only print the kernels' environment (for nbval)")
    what.add_argument(
        "--nbval-mode", action="store_true", help="only print nbval's option on this CPU (--nbval or --nbval-lax)"
    )
    what.add_argument(
        "--nbval-order",
        action="store_true",
        help="only print the notebooks in the order for nbval side by side (costliest first, summaries last)",
    )
    args = parser.parse_args(argv)
    if args.kernel_env:
        print(" ".join(f"{key}={value}" for key, value in KERNEL_ENV.items()))
        return 0
    if args.nbval_mode:
        option, why = nbval_mode()
        if why:
            print(f"nbval: {why}", file=sys.stderr)
        print(option)
        return 0
    if args.nbval_order:
        every = chapter_paths(None, args.notebooks)
        print(" ".join(str(path.resolve().relative_to(REPO)) for path in costliest_first(every)))
        return 0
    parameters = parameters_of(args)
    source = book_source(parameters)
    if args.where:
        print(source.relative_to(REPO) if source != REPO else ".")
        return 0
    try:
        paths = chapter_paths(args.chapters, args.notebooks)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    problem = preflight(parameters, paths)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.preflight:
        return 0
    into = None if source == REPO else source / "notebooks"
    os.environ.update(KERNEL_ENV)  # the kernels inherit it
    failures = run_all(paths, parameters, into, args.workers)
    if into is None and len(failures) < len(paths):
        stamp_cpu(everything={p.resolve() for p in paths} >= {p.resolve() for p in chapter_paths(None, [])})
    if into is not None:
        write_book_source(source)
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
