"""Tidy training records: one row per (dataset, preset, fold, epoch), written as CSV.

``pandas.read_csv(out / "records.csv")`` gives a DataFrame with the columns of `COLUMNS`; ranks
and mAP are empty on epochs without an evaluation. The file is rewritten atomically from the
run's records after every epoch, so it always matches the run's last completed epoch.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from stsrn_lite.atomic import write_atomic

COLUMNS = (
    "dataset",
    "preset",
    "fold",
    "epoch",
    "mode",
    "seed",
    "pairs",
    "loss",
    "verification",
    "identification",
    "rank1",
    "rank5",
    "rank10",
    "rank20",
    "mAP",
    "omega_mean",
    "omega_min",
    "omega_max",
    "epoch_seconds",
    "wall_seconds",
    "device",
    "data",
    "code_version",
)


def write_records(rows: list[dict], path: str | Path) -> None:
    path = Path(path)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="raise", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: row.get(key, "") for key in COLUMNS})
    write_atomic(path, buffer.getvalue())


def read_records(path: str | Path) -> list[dict]:
    """The rows of a records file, values as strings (pandas users: ``pd.read_csv(path)``)."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
