"""Diverged runs, and the rule that trains one again with the next seed.

A training run can blow up: on the bench, the fast recipe's iLIDS-VID STSRN of fold 2 (seed 1)
went from a loss of 11.0 to 142.9 at its fourth epoch, at the top of its warm-up, and never came
back (its last epoch: 29.2; every other filed run ended near 1.3), so its test measured an
untrained network (rank-1 0.7 %). Such a run says something about the recipe, not about the
architecture a table compares. The book therefore follows one rule, written before the runs it
applies to and reported wherever it acted:

- a run has *diverged* when its training loss rose above `BLOW_UP` times its first epoch's and
  its last epoch's is still above its first epoch's: a blow-up it did not recover from;
- a diverged run is trained again with the next seed (``seed + 1``: other draws of pairs,
  crops and initial weights; everything else the same), at most `RETRIES` times; the tables use
  the first attempt that did not diverge, and the diverged ones stay filed and are listed.

A run without records (recovered from its weights, `stsrn_lite.book.ledger.recover`) cannot be
judged and counts as not diverged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

BLOW_UP = 3.0  # a training loss above this many times the first epoch's is a blow-up
RETRIES = 2  # seeds tried after a diverged run, one after the other


def losses(records: Sequence[Mapping]) -> list[float]:
    """The training loss of each epoch of ``records`` that has one."""
    return [float(record["loss"]) for record in records if record.get("loss") not in (None, "")]


def diverged(records: Sequence[Mapping]) -> bool:
    """Whether the run of ``records`` (one per epoch) blew up and did not recover (module docstring)."""
    found = losses(records)
    if len(found) < 2:
        return False
    first = found[0]
    return max(found) > BLOW_UP * first and found[-1] > first


def next_seed_name(name: str, seed: int) -> str:
    """The ledger name of the attempt after run ``name`` (trained with ``seed``): the same name
    with ``-seed=<seed + 1>`` where `stsrn_lite.book.experiments.run_folder` puts a seed, after
    the recipe and before any reading (``-key=value``)."""
    stem, fold = name.rsplit("-fold", 1)
    stem = re.sub(r"-seed=\d+", "", stem, count=1)
    cut = re.search(r"-[a-z_]+=", stem)
    at = cut.start() if cut else len(stem)
    return f"{stem[:at]}-seed={seed + 1}{stem[at:]}-fold{fold}"


def filed_diverged(entries: Sequence[Mapping]) -> list[dict]:
    """One row per diverged run among ledger ``entries`` (`stsrn_lite.book.ledger.entries`): its
    name and seed, the first epoch whose loss passed `BLOW_UP` times the first epoch's, the
    losses, its rank-1, and the rank-1 of the next seed's attempt where that is filed too."""
    by_name = {str(entry["run"]): entry for entry in entries}
    rows = []
    for entry in entries:
        found = losses(entry.get("records") or [])
        if not diverged(entry.get("records") or []):
            continue
        peak = max(found)
        blow_up = next(epoch for epoch, loss in enumerate(found, 1) if loss > BLOW_UP * found[0])
        retry = by_name.get(next_seed_name(str(entry["run"]), int(entry["training"]["seed"])))
        rows.append(
            {
                "run": entry["run"],
                "seed": int(entry["training"]["seed"]),
                "blow-up at epoch": blow_up,
                "loss: first → peak → last": f"{found[0]:.1f} → {peak:.1f} → {found[-1]:.1f}",
                "rank-1 (two-camera)": entry["protocols"].get("two-camera", {}).get("rank1"),
                "next seed's rank-1": retry["protocols"]["two-camera"]["rank1"] if retry else "not filed yet",
            }
        )
    return rows
