"""The Siamese pair schedule of the CNN-RNN (train.lua, datasetUtils.lua;
book: The original code, "Training"), for any number of cameras.

An epoch over K training identities has 2K pairs, alternating negative and positive: pair 2i is
a negative pair (the first two identities of a fresh permutation, each with a random tracklet
from any camera), pair 2i + 1 the positive pair of identity order[i] (one tracklet from each of
two different cameras: camera 0 against camera 1 for iLIDS-VID and PRID2011). Each sequence is
a random run of ``sequence_length`` consecutive frames with its own crop and mirror.

Every draw of epoch e comes from ``numpy.random.default_rng([seed, e])``, so the whole epoch is
a pure function of (seed, e): a resumed run rebuilds it and continues at the saved position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stsrn_lite.preprocess.crop import TRAIN_OFFSETS


@dataclass(frozen=True)
class EpochPlan:
    """The pairs of one epoch, as parallel arrays of length P (pairs); column 0 = sequence a, 1 = b."""

    tracklets: np.ndarray  # (P, 2) cache indices of the tracklets
    labels: np.ndarray  # (P, 2) training-identity labels 0..K-1
    starts: np.ndarray  # (P, 2) first frame of the subsequence
    lengths: np.ndarray  # (P, 2) frames used: min(sequence_length, tracklet length)
    tops: np.ndarray  # (P, 2) crop offsets (rows)
    lefts: np.ndarray  # (P, 2) crop offsets (columns)
    flips: np.ndarray  # (P, 2) bool mirrors

    def __len__(self) -> int:
        return len(self.tracklets)


class PairSchedule:
    """Pairs of training tracklets, epoch by epoch."""

    def __init__(
        self,
        tracklet_pids: np.ndarray,
        tracklet_camids: np.ndarray,
        tracklet_lengths: np.ndarray,
        train_indices: list[int],
        *,
        seed: int,
        sequence_length: int,
        skip_short: bool,
    ) -> None:
        """``tracklet_*`` describe every tracklet of the cache; ``train_indices`` those to train on."""
        self.seed, self.sequence_length, self.skip_short = seed, sequence_length, skip_short
        self.lengths = np.asarray(tracklet_lengths)
        pids = sorted({int(tracklet_pids[i]) for i in train_indices})
        if len(pids) < 2:
            raise ValueError(f"training needs at least 2 identities, got {len(pids)}")
        if skip_short and not (self.lengths[list(train_indices)] >= sequence_length).any():
            raise ValueError(
                f"no training tracklet has sequence_length={sequence_length} frames, so every pair would be "
                "dropped (skip_short=True): use a shorter sequence_length, or skip_short=False to pad"
            )
        self.pids = pids  # label k is pids[k]
        self.by_camera: list[dict[int, list[int]]] = [dict() for _ in pids]
        label_of = {pid: k for k, pid in enumerate(pids)}
        for i in sorted(train_indices):
            cameras = self.by_camera[label_of[int(tracklet_pids[i])]]
            cameras.setdefault(int(tracklet_camids[i]), []).append(int(i))

    @property
    def num_identities(self) -> int:
        return len(self.pids)

    def epoch(self, epoch: int) -> EpochPlan:
        rng = np.random.default_rng([self.seed, epoch])
        K = self.num_identities
        order = rng.permutation(K)
        chosen, labels = [], []
        for i in range(K):
            a, b = rng.permutation(K)[:2]  # negative: two different identities
            chosen.append((self._any_tracklet(rng, a), self._any_tracklet(rng, b)))
            labels.append((a, b))
            k = order[i]  # positive: identity k in two cameras
            chosen.append(self._camera_pair(rng, k))
            labels.append((k, k))
        tracklets = np.array(chosen, dtype=np.int64)  # (2K, 2)
        labels = np.array(labels, dtype=np.int64)  # (2K, 2)
        n = self.lengths[tracklets]  # (2K, 2)
        lengths = np.minimum(n, self.sequence_length)
        starts = np.floor(rng.random(n.shape) * (n - lengths + 1)).astype(np.int64)  # uniform in [0, n − len]
        low, high = TRAIN_OFFSETS
        tops = rng.integers(low, high + 1, n.shape)
        lefts = rng.integers(low, high + 1, n.shape)
        flips = rng.random(n.shape) < 0.5
        keep = np.ones(len(tracklets), dtype=bool)
        if self.skip_short:
            keep = (n >= self.sequence_length).all(axis=1)  # the original drops such pairs
        return EpochPlan(
            tracklets=tracklets[keep],
            labels=labels[keep],
            starts=starts[keep],
            lengths=lengths[keep],
            tops=tops[keep],
            lefts=lefts[keep],
            flips=flips[keep],
        )

    def _any_tracklet(self, rng: np.random.Generator, label: int) -> int:
        cameras = self.by_camera[label]
        camera = sorted(cameras)[rng.integers(len(cameras))]
        options = cameras[camera]
        return options[rng.integers(len(options))]

    def _camera_pair(self, rng: np.random.Generator, label: int) -> tuple[int, int]:
        cameras = self.by_camera[label]
        names = sorted(cameras)
        if len(names) == 1:  # seen by one camera only (possible in MARS): two of its tracklets
            options = cameras[names[0]]
            return options[rng.integers(len(options))], options[rng.integers(len(options))]
        if len(names) == 2:
            first, second = names  # camera 0 against camera 1, as the original
        else:
            first, second = (names[j] for j in rng.choice(len(names), 2, replace=False))
        a, b = cameras[first], cameras[second]
        return a[rng.integers(len(a))], b[rng.integers(len(b))]
