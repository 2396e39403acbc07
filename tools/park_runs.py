"""Park a long profile's unfinished runs in the checkout, to be committed, and bring them back on
another machine: runs longer than a working session.

A bench run of STSRN on iLIDS-VID needs more CPU time (about 3 h 15 min on one thread of our
2-core machines, `python -m stsrn_lite.grid --dry-run`) than a working session has, and a replaced
machine loses the home (``$STSRN_HOME``) where its checkpoint lives. ``park`` copies the checkpoint
of each run that the ledger has not filed with every test and study the grid asks of it
(`stsrn_lite.book.ledger`: a tested run is filed there)
and its ``run.json`` from ``<home>/runs/<profile>/<run>/`` to ``results/<profile>/parked/<run>/`` in
the checkout; the checkpoint continues the run exactly (model, optimiser, position, random states,
records: `stsrn_lite.training.checkpoint`). ``unpark`` copies them back into the home, where the
grid resumes them as it resumes any interrupted run. A parked copy is rewritten only when its run
has moved on, since every rewrite adds the checkpoint's size (about 9 MB for STSRN with its Adam
state) to the repository's history; a run filed in the ledger has its parked copy removed. A
diverged run is followed by its retry (`stsrn_lite.book.grid.execute`), which is parked like any
run once the ledger files its first attempt as diverged, so commit the ledger with the parked
copies; a retry whose first attempt is not filed as diverged is a run the grid does not ask for,
and its parked copy is removed. ``unpark`` never replaces a checkpoint that is as far along or
further.

    python tools/park_runs.py park --profile bench     # before a session ends; then
    git add results/bench/parked results/bench/runs
    python tools/park_runs.py unpark --profile bench   # on a new machine, before the grid
    python tools/park_runs.py list --profile bench

Every checkpoint is checked (its SHA-256) before it is copied either way; a damaged one is an
error naming the file (exit status 2), and nothing is copied over a good one.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from stsrn_lite.atomic import write_atomic
from stsrn_lite.book.ledger import FOLDER as LEDGER
from stsrn_lite.book.ledger import LedgerError, is_filed
from stsrn_lite.book.profiles import PROFILES
from stsrn_lite.home import Home, checkout, home
from stsrn_lite.training.checkpoint import CheckpointError, load_checkpoint
from stsrn_lite.training.loop import CHECKPOINT, RUN_RECORD


class ParkError(RuntimeError):
    """Parking that cannot be done; the message says why."""


PARKED = "parked"  # results/<profile>/parked/<run>/
LONG_PROFILES = tuple(name for name, profile in PROFILES.items() if profile.ledger)


@dataclass(frozen=True)
class Position:
    """How far a checkpoint's run is: epochs and steps done, of how many epochs."""

    epoch: int
    step: int
    epochs: int

    @classmethod
    def of(cls, path: Path) -> Position:
        state = load_checkpoint(path, remedy="remove it and train the run again")
        return cls(int(state["epoch"]), int(state["step"]), int(state["config"]["epochs"]))

    def __str__(self) -> str:
        return f"epoch {self.epoch} of {self.epochs}" + (f", step {self.step}" if self.step else "")


def runs_folder(profile: str, where: Home | None = None) -> Path:
    return (where or home()).runs / profile


def parked_folder(profile: str, repository: Path | None = None) -> Path:
    """``results/<profile>/parked/`` in the checkout (``repository``), which is what is committed."""
    repository = repository or checkout()
    if repository is None:
        raise ParkError("parking needs a checkout of stsrn-lite: the package is an installed copy")
    return repository / "results" / profile / PARKED


def ledger_folders(profile: str, repository: Path | None = None) -> list[Path]:
    """The ledgers a run of ``profile`` may be filed in: the home's and the checkout's."""
    repository = repository or checkout()
    ledgers = [home().results / profile / LEDGER]
    if repository is not None:
        ledgers.append(repository / "results" / profile / LEDGER)
    return ledgers


def asked(profile: str, repository: Path | None = None) -> dict[str, tuple]:
    """{run name: (training configuration, test configuration, protocols, studies)} of every run
    the grid declares for ``profile``, every table's tests and studies merged
    (`stsrn_lite.book.grid.grid_runs`): what the run's ledger entry must hold to be complete; and
    of each retry the grid trains in a run's place (`stsrn_lite.book.grid.execute`): the attempt
    after one that a ledger (the home's or the checkout's, ``repository``) files as diverged,
    whatever tests that entry holds yet. A retry whose first attempt is not filed, or is filed
    and did not diverge, is not among them."""
    from stsrn_lite.book.divergence import FALLBACK, diverged
    from stsrn_lite.book.experiments import final_test_config
    from stsrn_lite.book.grid import TABLES, grid_runs, spec_config, spec_folder
    from stsrn_lite.book.ledger import filed_entry
    from stsrn_lite.book.session import setup

    session, ledgers = setup(profile), ledger_folders(profile, repository)
    runs = {}
    for spec in grid_runs(session, TABLES):
        while True:
            config = spec_config(session, spec)
            test = final_test_config(session, config)
            name = spec_folder(session, spec).name
            runs[name] = (config, test, spec.protocols, spec.studies)
            entry = filed_entry(ledgers, name, config, test)
            if spec.recipe not in FALLBACK or entry is None or not diverged(entry.get("records") or []):
                break
            spec = replace(spec, recipe=FALLBACK[spec.recipe], retry=True)
    return runs


def filed(profile: str, run: str, repository: Path | None = None, grid: dict[str, tuple] | None = None) -> bool:
    """Whether ``run`` is filed in the home's ledger or the checkout's with everything the grid asks
    of it (``grid``: `asked`, computed when not given): a run filed before another table shared it
    lacks that table's test or study, and still needs its checkpoint to make them. A run the grid
    does not declare is filed when it has an entry."""
    ledgers = ledger_folders(profile, repository)
    wanted = (asked(profile, repository) if grid is None else grid).get(run)
    if wanted is None:
        return any((ledger / f"{run}.json").is_file() for ledger in ledgers)
    return any(is_filed(ledger, run, *wanted) for ledger in ledgers)


def _copy(source: Path, destination: Path) -> None:
    """Copy one run's checkpoint and run.json, each file all-or-nothing, the checkpoint last."""
    destination.mkdir(parents=True, exist_ok=True)
    if (source / RUN_RECORD).is_file():
        write_atomic(destination / RUN_RECORD, (source / RUN_RECORD).read_bytes())
    write_atomic(destination / CHECKPOINT, (source / CHECKPOINT).read_bytes())


def park(profile: str, repository: Path | None = None) -> list[str]:
    """Park every unfiled run of ``profile`` in the home that the grid asks for (`asked`) and that
    has moved on since it was last parked; remove the parked copies of filed runs and of runs the
    grid does not ask for (a retry whose first attempt is not filed as diverged). Returns one line
    per run touched."""
    target = parked_folder(profile, repository)
    done, grid = [], asked(profile, repository)
    runs = runs_folder(profile)
    for folder in sorted(runs.iterdir()) if runs.is_dir() else ():
        if folder.name not in grid or not (folder / CHECKPOINT).is_file():
            continue
        if filed(profile, folder.name, repository, grid):
            continue
        position = Position.of(folder / CHECKPOINT)
        parked = target / folder.name / CHECKPOINT
        if parked.is_file():
            before = Position.of(parked)
            if (before.epoch, before.step) >= (position.epoch, position.step):
                continue
        _copy(folder, target / folder.name)
        done.append(f"parked {folder.name}: {position}")
    for folder in sorted(target.iterdir()) if target.is_dir() else ():
        if folder.name not in grid:
            shutil.rmtree(folder)
            done.append(f"removed {folder.name}: a run the grid does not ask for")
        elif filed(profile, folder.name, repository, grid):
            shutil.rmtree(folder)
            done.append(f"removed {folder.name}: filed in the ledger")
    return done


def unpark(profile: str, repository: Path | None = None) -> list[str]:
    """Bring every parked run of ``profile`` back into the home unless the home's copy is as far
    along; filed runs and runs the grid does not ask for are left where they are. Returns one line
    per run brought back or left for not being asked for."""
    source = parked_folder(profile, repository)
    done, grid = [], asked(profile, repository)
    for folder in sorted(source.iterdir()) if source.is_dir() else ():
        if folder.name not in grid:
            done.append(f"left {folder.name}: a run the grid does not ask for")
            continue
        if filed(profile, folder.name, repository, grid):
            continue
        position = Position.of(folder / CHECKPOINT)
        destination = runs_folder(profile) / folder.name
        if (destination / CHECKPOINT).is_file():
            here = Position.of(destination / CHECKPOINT)
            if (here.epoch, here.step) >= (position.epoch, position.step):
                continue
        _copy(folder, destination)
        done.append(f"unparked {folder.name}: {position}")
    return done


def listing(profile: str, repository: Path | None = None) -> list[str]:
    """One line per parked run: where it is, how far the home's copy is, and whether the grid no
    longer asks for it (``park`` removes it)."""
    lines = []
    source = parked_folder(profile, repository)
    grid = asked(profile, repository) if source.is_dir() else {}
    for folder in sorted(source.iterdir()) if source.is_dir() else ():
        here = runs_folder(profile) / folder.name / CHECKPOINT
        home_copy = str(Position.of(here)) if here.is_file() else "none"
        unasked = "" if folder.name in grid else "; the grid does not ask for it"
        lines.append(f"{folder.name}: parked at {Position.of(folder / CHECKPOINT)}; in the home: {home_copy}{unasked}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("park", "unpark", "list"))
    parser.add_argument("--profile", choices=LONG_PROFILES, default="bench")
    args = parser.parse_args(argv)
    command = {"park": park, "unpark": unpark, "list": listing}[args.command]
    try:
        lines = command(args.profile)
    except (CheckpointError, LedgerError, ParkError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines) if lines else f"{args.command}: nothing to do for {args.profile}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
