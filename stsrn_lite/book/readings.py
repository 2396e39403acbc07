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
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence

import pandas as pd

from stsrn_lite.book.claims import interval
from stsrn_lite.book.grid import DEFAULT_READINGS, SENSITIVITY, execute, table_runs
from stsrn_lite.book.session import Session
from stsrn_lite.book.tables import result_row

TABLE = "readings"  # results/<profile>/readings.csv, and the grid's table of these runs
NOTEBOOK = "stsrn_lite.book.readings"


def collect(session: Session) -> tuple[list[dict], list[str]]:
    """(result rows of every finished run of the study, names of the runs not finished yet). A
    finished run is tested, never trained; each row carries its reading's label and fields."""
    from stsrn_lite.book.estimate import remaining_epochs

    rows, missing = [], []
    for entry in table_runs(TABLE, session):
        spec = entry.run
        if remaining_epochs(session, spec) > 0:
            missing.append(f"{spec.name}: {entry.label}")
            continue
        outcome = execute(session, spec)
        evaluation = outcome.evaluations["two-camera"]
        rows.append(
            result_row(
                spec.dataset,
                spec.preset,
                spec.fold,
                evaluation.details.cmc,
                evaluation.details.mAP,
                reading=entry.label,
                fields=json.dumps(dict(spec.readings), sort_keys=True),
                gallery=len(evaluation.g_indices),
                recipe=outcome.recipe,
            )
        )
    return rows, missing


def effects(rows: Sequence[dict], metric: str = "rank1") -> pd.DataFrame:
    """One row per dataset and reading: the folds it shares with the default, both means, the mean
    paired difference (reading − default) with its interval, and the default's standard deviation
    over those folds (NaN with one fold)."""
    out = []
    by = {(r["dataset"], r["reading"], int(r["fold"])): float(r[metric]) for r in rows}
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        default = {fold: value for (d, label, fold), value in by.items() if d == dataset and label == DEFAULT_READINGS}
        for label, _ in SENSITIVITY:
            mine = {fold: value for (d, name, fold), value in by.items() if d == dataset and name == label}
            folds = sorted(set(default) & set(mine))
            if not folds:
                continue
            mean, low, high = interval([mine[k] - default[k] for k in folds])
            spread = statistics.stdev(default[k] for k in folds) if len(folds) > 1 else float("nan")
            out.append(
                {
                    "dataset": dataset,
                    "reading": label,
                    "folds": len(folds),
                    "default": statistics.fmean(default[k] for k in folds),
                    "this reading": statistics.fmean(mine[k] for k in folds),
                    "effect": mean,
                    "low": low,
                    "high": high,
                    "default's sd over folds": spread,
                }
            )
    return pd.DataFrame(out)


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
