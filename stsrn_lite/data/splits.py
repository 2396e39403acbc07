"""Seeded identity splits for the ten-fold protocol (paper §4.2: "we randomly split each
dataset into two non-overlapping subsets with same amount of identities").

iLIDS-VID uses its official split file when present (`stsrn_lite.data.ilidsvid`); otherwise,
and for PRID2011's persons 1-200, splits are drawn here the way the CNN-RNN code does
(``partitionDataset``: a random permutation, the first half trains, the rest tests).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stsrn_lite.data.tracklet import Split


def random_splits(pids: Sequence[int], *, folds: int = 10, seed: int = 0) -> list[Split]:
    """``folds`` independent 50/50 splits of ``pids``, reproducible from ``seed``.

    Split k depends only on (seed, k), so asking for fewer folds gives a prefix of the same list.
    """
    pids = sorted(pids)
    if len(pids) < 2:
        raise ValueError(f"need at least 2 identities to split, got {len(pids)}")
    if folds < 1:
        raise ValueError(f"folds must be >= 1, got {folds}")
    n_train = len(pids) // 2
    splits = []
    for fold in range(folds):
        rng = np.random.default_rng([seed, fold])
        order = [pids[i] for i in rng.permutation(len(pids))]
        splits.append(Split(train=tuple(sorted(order[:n_train])), test=tuple(sorted(order[n_train:]))))
    return splits
