"""The run grid: the training runs each table and figure needs, declared once.

The table chapters iterate over `table_runs` and the grid command executes the same runs, so that
``make book PROFILE=P`` after a grid run trains nothing: every run goes through
`stsrn_lite.book.experiments.run`, which reuses a finished run and resumes an interrupted one::

    python -m stsrn_lite.grid --profile smoke [--tables 1,6] [--datasets ilids-vid] [--folds 0-2] --dry-run
    python -m stsrn_lite.grid --profile smoke --workers 2          # local processes
    python -m stsrn_lite.grid --profile full --ray auto --gpus-per-run 0.25   # tasks on a Ray cluster

``--dry-run`` lists the runs still to do with an estimate of each on this device (from a measured
training and test throughput, `stsrn_lite.book.estimate`) and the total; it generates no data, so
a run whose synthetic data is not there yet is listed unpriced. Without it the runs are
executed, at most ``--workers`` at a time (each with ``--threads`` torch threads), one progress
line per run as it ends. With ``--ray ADDRESS`` (``auto``: a running cluster; ``local``: start one
here) each run is a Ray task with the resources asked (fractional GPUs allowed); the runs land in
the same home (`STSRN_HOME`, which must be one shared folder for every node).
"""

from __future__ import annotations

import argparse
import ctypes
import math
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from stsrn_lite.book.divergence import FALLBACK
from stsrn_lite.book.paper import TABLE_6
from stsrn_lite.book.profiles import PROFILE_NAMES, Profile
from stsrn_lite.book.session import Session
from stsrn_lite.training.config import TrainConfig

# fig5 is table6's runs, chapter 04 uses table1's; "readings" is the sensitivity study (`SENSITIVITY`)
TABLES = ("table1", "table2", "table4", "table5", "table6", "readings")
MODELS = ("STSRN", "CNN-RNN")  # the rows of Tables 1, 2 and 4 that we build
TABLE_5 = (
    "BaseModel",
    "SingleResBlock",
    "DoubleResBlocks",
    "TripleResBlocks",
    "DoubleResBlocks*",
    "DoubleResBlocks (Fig. 3b)",
)
TABLE_6_ROWS = tuple(TABLE_6)
SAME_RUN = {"BaseModel": "CNN-RNN", "Double+TemRes+STSM": "STSRN"}  # identical networks: one run serves both rows
CROSS = ("cross-dataset",)  # Table 4's test
# Table 6's rows with and without the STSM, otherwise the same network: (with, without). Their runs
# on iLIDS-VID also make the occlusion study (`stsrn_lite.book.occlusion`), filed with their tests.
STSM_PAIRS = (("Double+TemRes+STSM", "Double+TemRes"), ("Base+TemRes+STSM", "Base+TemRes"))
OCCLUSION = ("occlusion",)  # a study of `stsrn_lite.book.experiments.STUDIES`
MARS_READINGS = {"astpn": "two-camera", "official": "mars-standard"}  # Table 2: reading -> its test
# The sensitivity study (`stsrn_lite.book.readings`): STSRN with one open detail of the paper read
# otherwise than by default (book: Design decisions, the part named), as (label, TrainConfig fields)
DEFAULT_READINGS = "default readings"
READINGS_PRESET = "STSRN"  # the model the readings study changes, Table 1's row
SENSITIVITY: tuple[tuple[str, dict], ...] = (
    ("block convs kernel 7, padding 4 (part 1)", {"res_kernel": 7}),
    ("normalisation by the std, the paper's words (A)", {"normalisation": "standard"}),
    ("Eq. 5 as printed, a learnt U (B)", {"temres_reading": "eq5"}),
    ("ω stored as sigmoid(a) (C)", {"omega_form": "sigmoid"}),
    ("flow as the original computes it (G)", {"flow": "original"}),
)
# Readings run on more folds than the study's (`Session.table_folds("readings")`), as label -> folds:
# those whose effect on the first fold came near the fold spread (issue "Results worth reading", §4:
# "more where the effect is close to the fold spread"). On the bench, the normalisation by the std
# moved rank-1 by -4.0 points on fold 0, against a 6.0-point standard deviation of the default over
# Table 1's three folds; the other four by 2.0 points or less.
MORE_FOLDS: dict[str, int] = {SENSITIVITY[1][0]: 2}


@dataclass(frozen=True)
class GridRun:
    """One training run and the tests the tables ask of it (`experiments.run`'s arguments)."""

    dataset: str
    preset: str
    fold: int
    epochs: int
    eval_every: int | None  # tests during training (curves); None: only the final tests
    protocols: tuple[str, ...] = ("two-camera",)
    mars_protocol: str = TrainConfig.mars_protocol
    readings: tuple[tuple[str, object], ...] = ()
    recipe: str = "faithful"  # a name of TrainConfig's RECIPES (the profile's)
    seed: int = TrainConfig.seed  # the training's random draws
    studies: tuple[str, ...] = ()  # made after the tests, with the model (`experiments.STUDIES`)
    retry: bool = False  # a diverged run trained again with its recipe's fallback (`execute`)

    @property
    def training(self) -> tuple:
        """What identifies the training (two entries with the same one are one run)."""
        return (
            self.dataset,
            self.mars_protocol,
            self.preset,
            self.fold,
            self.recipe,
            self.seed,
            self.epochs,
            self.eval_every,
            self.readings,
        )

    @property
    def name(self) -> str:
        """The run in a progress line: dataset (MARS: its protocol), preset, readings, fold, and the
        seed and recipe where they are not the usual ones."""
        reading = f" ({self.mars_protocol})" if self.dataset == "mars" else ""
        readings = f" [{', '.join(f'{key}={value}' for key, value in self.readings)}]" if self.readings else ""
        seed = f" seed {self.seed}" if self.seed != TrainConfig.seed else ""
        recipe = f" ({self.recipe})" if self.retry else ""
        return f"{self.dataset}{reading} {self.preset}{readings} fold {self.fold}{seed}{recipe}"


@dataclass(frozen=True)
class TableRun:
    """A row of a table on one fold: its label there and the run that produces it."""

    label: str
    run: GridRun
    extra: dict = field(default_factory=dict, compare=False)  # what the chapter needs to file the row


def default_datasets(table: str, session: Session) -> tuple[str, ...]:
    """The datasets a table covers in ``session``'s profile (`table_datasets`)."""
    return table_datasets(table, session.profile)


def table_datasets(table: str, profile: Profile) -> tuple[str, ...]:
    """The datasets a table covers in ``profile`` (the ablations: `Profile.ablation_datasets`)."""
    if table == "table2":
        return ("mars",)
    if table == "readings":
        return ("ilids-vid",)
    if table in ("table5", "table6"):
        return profile.ablation_datasets
    return ("ilids-vid", "prid2011")


def table_runs(table: str, session: Session, datasets: Sequence[str] | None = None) -> list[TableRun]:
    """The runs of ``table`` (one of `TABLES`, or "fig5") for ``session``'s folds, epochs and recipe."""
    entries = _table_entries(table, session, datasets)
    recipe = session.profile.recipe
    return [replace(entry, run=replace(entry.run, recipe=recipe)) for entry in entries]


def _table_entries(table: str, session: Session, datasets: Sequence[str] | None) -> list[TableRun]:
    named = "table6" if table == "fig5" else table
    epochs, folds = session.epochs, range(session.table_folds(named))
    curve = session.eval_every
    datasets = tuple(datasets or default_datasets(named, session))
    if table == "table1":
        return [
            TableRun(name, GridRun(dataset, name, fold, epochs, curve))
            for dataset in datasets
            for name in MODELS
            for fold in folds
        ]
    if table == "table2":
        return [
            TableRun(name, GridRun("mars", name, fold, epochs, None, (protocol,), reading), {"reading": reading})
            for reading, protocol in MARS_READINGS.items()
            for name in MODELS
            for fold in (folds if reading == "astpn" else range(1))  # the official split is one fold
        ]
    if table == "table4":  # trained on iLIDS-VID, tested on PRID2011; beside it, PRID2011's own runs
        return [
            entry
            for name in MODELS
            for fold in folds
            for entry in (
                TableRun(name, GridRun("ilids-vid", name, fold, epochs, curve, CROSS), {"trained_on": "ilids-vid"}),
                TableRun(name, GridRun("prid2011", name, fold, epochs, curve), {"trained_on": "prid2011"}),
            )
        ]
    if table in ("table5", "table6", "fig5"):
        rows = TABLE_5 if table == "table5" else TABLE_6_ROWS
        studied = {name for pair in STSM_PAIRS for name in pair}
        occluded_frames = session.profile.synthetic is not None  # the study needs the generator's record
        return [
            TableRun(
                name,
                GridRun(
                    dataset,
                    SAME_RUN.get(name, name),
                    fold,
                    epochs,
                    curve,
                    studies=OCCLUSION if dataset == "ilids-vid" and name in studied and occluded_frames else (),
                ),
            )
            for dataset in datasets
            for name in rows
            for fold in folds
        ]
    if table == "readings":  # the default's run is Table 1's STSRN, on every fold a reading runs on
        more = {label: min(session.folds, count) for label, count in MORE_FOLDS.items()}
        reading_folds = {label: max(len(folds), more.get(label, 0)) for label, _ in SENSITIVITY}
        return [
            TableRun(
                label, GridRun(dataset, READINGS_PRESET, fold, epochs, curve, readings=tuple(sorted(fields.items())))
            )
            for dataset in datasets
            for fold in range(max(reading_folds.values()))
            for label, fields in ((DEFAULT_READINGS, {}), *SENSITIVITY)
            if label == DEFAULT_READINGS or fold < reading_folds[label]
        ]
    raise ValueError(f"unknown table {table!r}; expected one of {(*TABLES, 'fig5')}")


def grid_runs(
    session: Session,
    tables: Iterable[str] = TABLES,
    datasets: Sequence[str] | None = None,
    folds: Sequence[int] | None = None,
) -> list[GridRun]:
    """Every run of ``tables`` once, in table order, with the tests and studies of every table of
    the grid that shares it, chosen or not: a Table 1 run on iLIDS-VID is also tested on PRID2011
    as Table 4 asks, and makes the occlusion study as Table 6's STSRN, so that a table added later
    never needs a finished run again (a run's folder can be gone by then, and the ledger keeps no
    model). ``datasets`` and ``folds`` keep only those. Within a table the runs come fold by fold
    (every run of fold 0, then of fold 1, ...): a grid stopped early leaves whole folds, and a
    table's paired differences need both runs of a fold."""
    tests: dict[tuple, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # training -> (protocols, studies)
    for table in (*TABLES, *tables):
        for entry in table_runs(table, session):
            protocols, studies = tests.get(entry.run.training, ((), ()))
            tests[entry.run.training] = (
                tuple(dict.fromkeys((*protocols, *entry.run.protocols))),
                tuple(dict.fromkeys((*studies, *entry.run.studies))),
            )
    merged: dict[tuple, GridRun] = {}
    for table in tables:
        for entry in sorted(table_runs(table, session), key=lambda entry: entry.run.fold):  # stable
            spec = entry.run
            if (datasets and spec.dataset not in datasets) or (folds is not None and spec.fold not in folds):
                continue
            protocols, studies = tests[spec.training]
            merged.setdefault(spec.training, replace(spec, protocols=protocols, studies=studies))
    return list(merged.values())


def execute(session: Session, spec: GridRun, progress: bool = False, *, retries: bool = True):
    """Train (or reuse) and test one run: `experiments.run` with the spec's arguments. A run that
    diverged is trained again with its recipe's fallback, while there is one and ``retries``
    (`stsrn_lite.book.divergence`); the outcome is the first attempt that did not diverge (or the
    last one), and its ``diverged`` are the attempts before it (their tests included)."""
    from stsrn_lite.book.divergence import diverged

    attempts = []
    while True:
        outcome = _execute_once(session, spec, progress)
        if not retries or not diverged(outcome.records) or spec.recipe not in FALLBACK:
            return replace(outcome, diverged=tuple(attempts))
        attempts.append(outcome)
        spec = replace(spec, recipe=FALLBACK[spec.recipe], retry=True)


def execute_all(session: Session, specs: Sequence[GridRun], progress: bool = False) -> list:
    """`execute` each of ``specs``; their outcomes, in the order given. A run that another process
    is training now (its folder's lock held: another chapter executed side by side, as ``make
    book`` and nbval do) is put off while there are others to do, so that two chapters sharing a
    run do not leave a core idle waiting for each other; when every run left is held elsewhere,
    the first is waited for (and then reused, not trained again)."""
    from stsrn_lite.atomic import busy
    from stsrn_lite.book.experiments import run_folder

    def folder(spec: GridRun) -> Path:  # where `_execute_once` trains it
        readings = dict(spec.readings) or None
        where = (spec.dataset, spec.preset, spec.fold, spec.mars_protocol, readings)
        return run_folder(session, *where, recipe=spec.recipe, seed=spec.seed)

    outcomes: dict[int, object] = {}
    left = list(range(len(specs)))
    while left:
        index = next((i for i in left if not busy(folder(specs[i]))), left[0])
        outcomes[index] = execute(session, specs[index], progress)
        left.remove(index)
    return [outcomes[i] for i in range(len(specs))]


def _execute_once(session: Session, spec: GridRun, progress: bool):
    from stsrn_lite.book.experiments import run

    return run(
        session,
        spec.dataset,
        spec.preset,
        spec.fold,
        epochs=spec.epochs,
        eval_every=spec.eval_every,
        protocols=spec.protocols,
        studies=spec.studies,
        mars_protocol=spec.mars_protocol,
        readings=dict(spec.readings) or None,
        recipe=spec.recipe,
        seed=spec.seed,
        progress=progress,
    )


def current_attempt(session: Session, spec: GridRun) -> GridRun:
    """The attempt at ``spec`` that is still to do or that the tables use: ``spec`` itself unless
    it is filed (`stsrn_lite.book.ledger`) and diverged, then its fallback recipe's, by the same
    rule as `execute`. What the grid estimates (it executes ``spec``, whose `execute` comes to the
    same attempt), so that a diverged run is not counted as done."""
    from stsrn_lite.book.divergence import diverged

    while spec.recipe in FALLBACK:
        found = filed(session, spec)
        if found is None or not diverged(found.records):
            return spec
        spec = replace(spec, recipe=FALLBACK[spec.recipe], retry=True)
    return spec


def filed(session: Session, spec: GridRun):
    """The run ``spec`` as the first of ``session``'s ledgers files it, tested with every protocol
    and study the spec asks for (`stsrn_lite.book.ledger.FiledRun`); None where none does. Never
    trains or tests: how a table reads a run it only compares with, such as the default's run under
    another recipe (`stsrn_lite.book.readings`)."""
    from stsrn_lite.book.experiments import final_test_config, ledger_folders
    from stsrn_lite.book.ledger import read_run

    config = spec_config(session, spec)
    test = final_test_config(session, config)
    name = spec_folder(session, spec).name
    for folder in ledger_folders(session):
        found = read_run(folder, name, config, test, spec.protocols, spec.studies)
        if found is not None:
            return found
    return None


def _data_of(spec: GridRun) -> tuple[str, ...]:
    """The datasets pricing ``spec`` reads: its own, and PRID2011 for a cross-dataset test."""
    return (spec.dataset, *(("prid2011",) if "cross-dataset" in spec.protocols and spec.dataset != "prid2011" else ()))


def spec_folder(session: Session, spec: GridRun) -> Path:
    """The folder `execute` keeps the run ``spec`` in (`experiments.run_folder`); its name is the
    run's name in the ledger."""
    from stsrn_lite.book.experiments import run_folder

    return run_folder(
        session,
        spec.dataset,
        spec.preset,
        spec.fold,
        spec.mars_protocol,
        dict(spec.readings),
        recipe=spec.recipe,
        seed=spec.seed,
    )


def spec_config(session: Session, spec: GridRun) -> TrainConfig:
    """The training configuration `execute` gives the run ``spec``."""
    from stsrn_lite.book.experiments import train_config

    return train_config(
        session,
        spec.dataset,
        spec.preset,
        spec.fold,
        epochs=spec.epochs,
        recipe=spec.recipe,
        seed=spec.seed,
        eval_every=spec.eval_every,
        mars_protocol=spec.mars_protocol,
        readings=dict(spec.readings) or None,
    )


def plan(
    session: Session,
    tables: Iterable[str] = TABLES,
    datasets: Sequence[str] | None = None,
    folds: Sequence[int] | None = None,
    *,
    threads: int | None = None,
    workers: int = 1,
    shortest_first: bool = False,
    generate: bool = True,
) -> tuple[list[tuple[GridRun, int, float | None]], str]:
    """The runs of ``tables`` still to train or test here (`stsrn_lite.book.estimate.work_left`),
    each with its epochs left and estimated seconds (`stsrn_lite.book.estimate`), and those lines
    as text, total included; what the command and
    the chapters print before long work starts. They come in table order, or ``shortest_first``
    (a session that may end before the grid does finishes, and files, the most runs). Pricing a run
    reads its data; without ``generate`` (a dry run) a run whose synthetic data is not generated
    yet is listed unpriced (None) instead of generating it, which can take long."""
    import torch

    from stsrn_lite.book.estimate import estimate_seconds, work_left

    threads = threads or torch.get_num_threads()
    specs = grid_runs(session, tables, datasets, folds)
    attempts = {spec: current_attempt(session, spec) for spec in specs}  # a diverged run: its fallback
    todo = [(spec, left.epochs) for spec in specs if (left := work_left(session, attempts[spec]))]
    missing = {spec: [d for d in _data_of(spec) if not generate and not session.ready(d)] for spec, _ in todo}
    rows = [
        (spec, left, None if missing[spec] else estimate_seconds(session, attempts[spec], left, threads))
        for spec, left in todo
    ]
    if shortest_first:
        rows.sort(key=lambda row: math.inf if row[2] is None else row[2])
    lines = [f"{session.label}: {len(specs)} runs, {len(rows)} still to train or test; {threads} thread(s) per run"]
    lines += [
        f"  {attempts[spec].name}: {f'{left} of {spec.epochs} epochs' if left else 'trained, its tests'}, "
        + (f"about {s / 60:.1f} min" if s is not None else f"not priced: no {', '.join(missing[spec])} data here yet")
        for spec, left, s in rows
    ]
    total = sum(s for _, _, s in rows if s is not None)
    unpriced = sum(s is None for _, _, s in rows)
    lines.append(
        f"total: about {total / 60:.1f} min here ({total / 60 / workers:.1f} min with {workers} at a time)"
        + (f", and {unpriced} run(s) not priced (their data is generated on the first run)" if unpriced else "")
    )
    return rows, "\n".join(lines)


class GridStopped(RuntimeError):
    """A worker was asked for a run after the grid that queued it had stopped."""


_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_GRID: int | None = None  # in a pool worker: the process id of the grid that started it (`_join_grid`)
ORPHAN_GRACE = 120.0  # seconds a worker outlives its grid: time to stop its run at a checkpoint
_STOPPED = False  # in a pool worker: one of its runs was stopped on request (Ctrl-C, SIGTERM)


def _join_grid(grid: int) -> None:
    """Pool initializer: remember the grid's process, and have Linux send this worker SIGTERM when
    that process ends. A stopped or killed grid then stops the run in progress at a checkpoint
    (`stsrn_lite.training.loop` stops on SIGTERM), and `_work` refuses the runs still queued, instead
    of the workers going on alone from one run to the next. A worker whose grid is gone ends
    `ORPHAN_GRACE` seconds later, whatever it is doing (a test in progress is taken again by the
    next grid: a run trained but not tested is still to do)."""
    import threading

    global _GRID
    _GRID = grid
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # `_work` still refuses new runs once the grid is gone
    threading.Thread(target=_end_after_grid, args=(grid, ORPHAN_GRACE), name="grid-watch", daemon=True).start()


def _end_after_grid(grid: int, grace: float) -> None:
    """End this worker ``grace`` seconds after its grid's process has gone."""
    while os.getppid() == grid:
        time.sleep(1.0)
    time.sleep(grace)
    os._exit(1)


def _work(parameters: dict, spec: GridRun, threads: int) -> tuple[GridRun, float, dict, tuple[str, ...]]:
    """One run in a worker (a process of the pool, or a Ray task): its own session, ``threads`` threads."""
    global _STOPPED
    if _GRID is not None and os.getppid() != _GRID:
        raise GridStopped(f"not started, the grid (process {_GRID}) has stopped")
    if _STOPPED:
        raise GridStopped("not started, this worker's last run was stopped on request")
    import torch

    from stsrn_lite.book.session import setup
    from stsrn_lite.training.loop import TrainingInterrupted

    session = setup(**parameters)
    torch.set_num_threads(threads)
    started = time.perf_counter()
    try:
        outcome = execute(session, spec)
    except TrainingInterrupted:
        _STOPPED = _GRID is not None  # a pool worker takes no more runs; a Ray task is one run anyway
        raise
    summaries = {p: e.summary for p, e in outcome.evaluations.items()}
    return spec, time.perf_counter() - started, summaries, outcome.diverged_recipes


def parse_folds(text: str | None) -> list[int] | None:
    """ "0-2,5" → [0, 1, 2, 5]; None stays None."""
    if not text:
        return None
    folds = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        folds += list(range(int(low), int(high or low) + 1))
    return folds


def main(argv: list[str] | None = None) -> int:
    from stsrn_lite.book.session import setup

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=PROFILE_NAMES, default=PROFILE_NAMES[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: the profile's")
    parser.add_argument("--epochs", type=int, default=None, help="default: the profile's (fewer: a partial session)")
    parser.add_argument("--folds", default=None, help="which folds, e.g. 0-2 or 0,3 (default: the profile's)")
    parser.add_argument("--tables", default=None, help="e.g. 1,6,readings (default: all)")
    parser.add_argument("--datasets", default=None, help="e.g. ilids-vid,prid2011 (default: each table's)")
    parser.add_argument("--dry-run", action="store_true", help="list the runs still to do and their estimated time")
    parser.add_argument("--shortest-first", action="store_true", help="the runs with the least time left first")
    parser.add_argument("--workers", type=int, default=1, help="runs at a time (local processes)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per run (default: cores / workers)")
    parser.add_argument("--ray", default=None, help="run on Ray: an address, 'auto' or 'local'")
    parser.add_argument("--cpus-per-run", type=float, default=1.0)
    parser.add_argument("--gpus-per-run", type=float, default=0.0)
    args = parser.parse_args(argv)
    if args.workers < 1 or (args.threads is not None and args.threads < 1):
        print("error: --workers and --threads must be 1 or more", file=sys.stderr)
        return 2
    folds = parse_folds(args.folds)
    named = args.tables.split(",") if args.tables else TABLES
    tables = [t if t in TABLES or t.startswith("table") else f"table{t}" for t in named]
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        print(f"error: no table {', '.join(unknown)} in the grid; it has {', '.join(TABLES)}", file=sys.stderr)
        return 2
    # --folds picks folds of the profile's protocol: the session keeps the profile's count
    parameters = {"profile": args.profile, "data_root": args.data_root, "device": args.device, "epochs": args.epochs}
    try:
        session = setup(**parameters)
    except (RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if folds and max(folds) >= session.folds:
        print(f"error: --folds {args.folds}: the {args.profile} profile has {session.folds} fold(s)", file=sys.stderr)
        return 2
    datasets = [d.strip() for d in args.datasets.split(",")] if args.datasets else None
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.workers)
    rows, text = plan(
        session,
        tables,
        datasets,
        folds,
        threads=threads,
        workers=args.workers,
        shortest_first=args.shortest_first,
        generate=not args.dry_run,  # a dry run leaves the data as it is
    )
    print(text, flush=True)
    if args.dry_run or not rows:
        return 0
    parameters = {**parameters, "epochs": session.epochs, "device": session.device}
    specs_todo = [spec for spec, _, _ in rows]
    if args.ray is not None:
        return _run_on_ray(args, parameters, specs_todo, threads)
    failures = 0
    # spawned workers: this process has started torch's threads (the estimate), and a fork of it can hang
    # workers die with the grid: `_join_grid`
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.workers, mp_context=spawn, initializer=_join_grid, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(_work, parameters, spec, threads): spec for spec in specs_todo}
        try:
            for future in as_completed(futures):
                failures += _report(futures[future], future)
        except KeyboardInterrupt:  # the workers had the signal too: their runs stop at a checkpoint
            pool.shutdown(wait=True, cancel_futures=True)
            print("stopped: the runs in progress stopped at a checkpoint; run again to resume", flush=True)
            return 130
    return 1 if failures else 0


def _report(spec: GridRun, future) -> int:
    """One progress line for a finished run; 1 when it failed."""
    try:
        _, seconds, summaries, diverged_recipes = future.result() if hasattr(future, "result") else future
    except Exception as error:  # a run's failure is reported, the others go on
        print(f"FAILED {spec.name}: {' '.join(str(error).splitlines())}", flush=True)
        return 1
    ranks = ", ".join(f"{p} rank-1 {s['rank1']:.1f}" for p, s in summaries.items())
    if diverged_recipes:  # which attempt the ranks are of
        ranks += f" ({', '.join(diverged_recipes)} diverged; these ranks are {FALLBACK[diverged_recipes[-1]]}'s)"
    print(f"done   {spec.name} ({seconds / 60:.1f} min): {ranks}", flush=True)
    return 0


def _run_on_ray(args: argparse.Namespace, parameters: dict, specs: list[GridRun], threads: int) -> int:
    """Each run a Ray task with ``--cpus-per-run``/``--gpus-per-run``; progress lines as they end."""
    try:
        import ray
    except ImportError:
        print("error: --ray needs Ray: pip install 'ray>=2.9'", file=sys.stderr)
        return 2
    if args.ray == "local":
        ray.init(num_cpus=max(1, args.workers) * int(max(args.cpus_per_run, 1)), include_dashboard=False)
    else:
        ray.init(address=args.ray)
    home = os.environ.get("STSRN_HOME")
    task = ray.remote(num_cpus=args.cpus_per_run, num_gpus=args.gpus_per_run)(_ray_work)
    pending = {task.remote(parameters, spec, threads, home): spec for spec in specs}
    failures = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        spec = pending.pop(ready[0])
        try:
            result = ray.get(ready[0])
        except Exception as error:  # a run's failure is reported, the others go on
            print(f"FAILED {spec.name}: {' '.join(str(error).splitlines())[:500]}", flush=True)
            failures += 1
            continue
        failures += _report(spec, result)
    ray.shutdown()
    return 1 if failures else 0


def _ray_work(parameters: dict, spec: GridRun, threads: int, home: str | None):
    """`_work` in a Ray worker, with the driver's home (a worker does not inherit its environment)."""
    if home:
        os.environ["STSRN_HOME"] = home
    return _work(parameters, spec, threads)


if __name__ == "__main__":
    raise SystemExit(main())
