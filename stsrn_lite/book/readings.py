"""Which of our readings matter (issue "Results worth reading", §4): the change in rank-1 that each
open detail of the paper, read otherwise than by default, makes to STSRN.

The runs are the grid's ``readings`` table (`stsrn_lite.book.grid.SENSITIVITY`): STSRN on
iLIDS-VID with one reading changed at a time, beside the default's run (Table 1's STSRN), on the
same folds. They train in the background with the grid; ``collect`` tests every finished run
(the profile's final test) and writes ``results/<profile>/readings.csv``, without training::

    python -m stsrn_lite.grid --profile bench --tables readings --folds 0 --workers 2 --threads 1
    python -m stsrn_lite.book.readings --profile bench      # collect what has finished

`effects` pairs each reading with the default on the folds both finished: the mean difference in
rank-1, its interval (`stsrn_lite.book.claims.interval`) and the spread of the default over those
folds, so that a reader sees whether a reading moves the numbers by more than a fold does.

A reading's run that diverged is trained again with its recipe's fallback (`execute`,
`stsrn_lite.book.divergence`), and a recipe can move rank-1 by as much as a reading does. So where
the default's run under that fallback is filed too (same fold and seed), ``collect`` adds it and
`effects` pairs the retry with it, not with the default's own run; where it is not, the pair mixes
two recipes, and the ``recipes`` column says which folds do either.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace

import pandas as pd

from stsrn_lite.book.claims import interval
from stsrn_lite.book.divergence import FALLBACK, diverged
from stsrn_lite.book.grid import (
    DEFAULT_READINGS,
    READINGS_PRESET,
    SENSITIVITY,
    GridRun,
    current_attempt,
    execute,
    filed,
    table_runs,
)
from stsrn_lite.book.session import Session
from stsrn_lite.book.tables import result_row
from stsrn_lite.evaluation.protocols import Evaluation

TABLE = "readings"  # results/<profile>/readings.csv, and the grid's table of these runs
NOTEBOOK = "stsrn_lite.book.readings"


def collect(session: Session) -> tuple[list[dict], list[str]]:
    """(result rows of every finished run of the study, names of the runs not finished yet). A
    finished run is tested, never trained: a reading whose run diverged is finished when its retry
    (`grid.current_attempt`) has trained all its epochs and, where a fallback would follow, did not
    diverge. Each row carries its reading's label and fields, and its recipe. Where a reading's row
    is a retry under a recipe the default's row of that fold lacks, the default's run under that
    recipe is added as a row too when it is filed (never trained)."""
    from stsrn_lite.book.estimate import remaining_epochs

    rows, missing, defaults = [], [], {}
    for entry in table_runs(TABLE, session):
        spec = entry.run
        if entry.label == DEFAULT_READINGS:
            defaults[spec.fold] = spec
        attempt = current_attempt(session, spec)  # the retry, where a filed run diverged
        if remaining_epochs(session, attempt) > 0:
            missing.append(f"{spec.name}: {entry.label}")
            continue
        outcome = execute(session, attempt, retries=False)  # all its epochs trained: only tests
        if diverged(outcome.records) and attempt.recipe in FALLBACK:  # its retry is still to train
            missing.append(f"{spec.name}: {entry.label}")
            continue
        rows.append(_row(spec, entry.label, outcome.evaluations["two-camera"], outcome.recipe))
    for fold, spec in defaults.items():
        have = {row["recipe"] for row in rows if row["reading"] == DEFAULT_READINGS and row["fold"] == fold}
        wanted = {row["recipe"] for row in rows if row["reading"] != DEFAULT_READINGS and row["fold"] == fold}
        wanted.discard(None)
        for recipe in sorted(wanted - have):
            found = filed(session, replace(spec, recipe=recipe, retry=True))
            if found is not None:
                rows.append(_row(spec, DEFAULT_READINGS, found.evaluations["two-camera"], recipe))
    return rows, missing


def _row(spec: GridRun, label: str, evaluation: Evaluation, recipe: str | None) -> dict:
    return result_row(
        spec.dataset,
        spec.preset,
        spec.fold,
        evaluation.details.cmc,
        evaluation.details.mAP,
        reading=label,
        fields=json.dumps(dict(spec.readings), sort_keys=True),
        gallery=len(evaluation.g_indices),
        recipe=recipe,
    )


def effects(rows: Sequence[Mapping], metric: str = "rank1") -> pd.DataFrame:
    """One row per dataset and reading: the folds it shares with the default, both means, the mean
    paired difference (reading − default) with its interval, the default's standard deviation over
    those folds (NaN with one fold), and ``recipes``: "–" where each pair had the default's own
    recipe, else per fold "both R" (a retry paired with the default's run under R) or "R against
    S" (a pair of two recipes, where the default's run under R is not filed). A fold's first
    default row is the default's own run (`collect` adds the others after it)."""
    out = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        here = [r for r in rows if r["dataset"] == dataset]
        defaults: dict[int, dict[str, float]] = {}  # fold -> {recipe: metric}, its own run first
        for r in here:
            if r["reading"] == DEFAULT_READINGS:
                defaults.setdefault(int(r["fold"]), {}).setdefault(_recipe(r), float(r[metric]))
        for label, _ in SENSITIVITY:
            mine = {int(r["fold"]): r for r in here if r["reading"] == label}
            folds = sorted(set(defaults) & set(mine))
            if not folds:
                continue
            paired, notes = {}, []
            for k in folds:
                recipe, own = _recipe(mine[k]), next(iter(defaults[k]))
                base = defaults[k].get(recipe, defaults[k][own])
                if recipe != own:
                    pair = f"both {recipe}" if recipe in defaults[k] else f"{recipe} against {own}"
                    notes.append(f"fold {k}: {pair}")
                paired[k] = (float(mine[k][metric]), base)
            mean, low, high = interval([reading - default for reading, default in paired.values()])
            spread = statistics.stdev(default for _, default in paired.values()) if len(folds) > 1 else float("nan")
            out.append(
                {
                    "dataset": dataset,
                    "reading": label,
                    "folds": len(folds),
                    "default": statistics.fmean(default for _, default in paired.values()),
                    "this reading": statistics.fmean(reading for reading, _ in paired.values()),
                    "effect": mean,
                    "low": low,
                    "high": high,
                    "default's sd over folds": spread,
                    "recipes": "; ".join(notes) or "–",
                }
            )
    return pd.DataFrame(out)


def fold_spread(table1: Sequence[Mapping], dataset: str, metric: str = "rank1") -> tuple[float, int]:
    """(standard deviation, number of folds) of the default's ``metric`` on ``dataset`` over every
    fold of Table 1's rows (its STSRN, the study's default): the yardstick for an effect measured
    on fewer folds than Table 1 has. NaN with fewer than two folds."""
    values = [float(r[metric]) for r in table1 if r["dataset"] == dataset and r["preset"] == READINGS_PRESET]
    return (statistics.stdev(values) if len(values) > 1 else float("nan")), len(values)


def _recipe(row: Mapping) -> str:
    return str(row.get("recipe") or "")


def main(argv: list[str] | None = None) -> int:
    from stsrn_lite.book.experiments import save_results
    from stsrn_lite.book.profiles import PROFILE_NAMES
    from stsrn_lite.book.session import setup

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=PROFILE_NAMES, default="bench")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: the profile's")
    args = parser.parse_args(argv)
    try:
        session = setup(args.profile, args.data_root, args.device)
    except (RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    rows, missing = collect(session)
    for name in missing:
        print(f"not finished: {name}", file=sys.stderr)
    if not rows:
        print(f"error: no run of the {TABLE} study has finished in the {args.profile} profile", file=sys.stderr)
        return 2
    folds = len({int(row["fold"]) for row in rows})
    command = f"python -m {NOTEBOOK} --profile {args.profile}"
    print(save_results(session, TABLE, rows, notebook=NOTEBOOK, command=command, folds=folds))
    print(effects(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
