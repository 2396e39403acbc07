"""MARS as ASTPN [8] ran it: a two-camera dataset (paper §4.2; book: Design decisions, "MARS: the
two-camera reduction of ASTPN").

Paper §4.2: "As for MARS, we randomly chose 2 cameras of the same person out of the ensemble
following [8]." ASTPN's README says that MARS "needs some extra codes to randomly choose two videos
for a person (cam1 and cam2)" (README.md:26, commit cac3de7), code it never released. Its training
script then reads MARS like PRID2011, one sequence per person in each of two camera folders
(reIdTrain.lua:114-117,130; prepareDataset.lua:181-199), and splits all those persons 50/50 at
random, the first half of a permutation training (reIdTrain.lua:57,133-147; datasetUtils.lua:25-46).

`reduce_two_cameras` rebuilds the reduction; `stsrn_lite.training.data` splits its identities into
folds (`stsrn_lite.data.splits.random_splits`), trains on the train half's two views and tests the
other half with the two-camera protocol (`stsrn_lite.evaluation.evaluate_two_camera` with ``views``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from stsrn_lite.data.tracklet import VideoReIDDataset

# The readings of MARS a run can use (`stsrn_lite.training.config.TrainConfig.mars_protocol`):
# "astpn", the two-camera reduction here with seeded 50/50 identity splits (the paper's Table 2);
# "official", MARS's own train/test split and its query_IDX test (mAP and CMC).
MARS_PROTOCOLS = ("astpn", "official")
STREAM = 8  # tags the reduction's random streams, apart from the splits' [seed, fold] ([8] is ASTPN)


@dataclass(frozen=True)
class TwoCameraReduction:
    """MARS reduced to two views per identity, as ASTPN's ``cam_a``/``cam_b`` folders.

    View 1 plays camera A (the probe at test time: its first min(L, n) frames), view 2 camera B (the
    gallery: its last min(L, n) frames), as ASTPN's test.lua:46-55,75-88 treat cameras 1 and 2.
    """

    seed: int  # the seed of the draw (a run's TrainConfig.split_seed)
    views: dict[int, tuple[int, int]]  # pid -> (view-1 tracklet, view-2 tracklet), indices into dataset.tracklets

    @property
    def pids(self) -> list[int]:
        """The kept identities, ascending."""
        return sorted(self.views)

    def tracklets(self, pids: Iterable[int]) -> list[int]:
        """Both views of every pid in ``pids``, in that order: view 1, view 2, view 1, ..."""
        indices = []
        for pid in pids:
            if pid not in self.views:
                raise ValueError(f"pid {pid} is not in the two-camera reduction of MARS (seed {self.seed})")
            indices.extend(self.views[pid])
        return indices


def reduce_two_cameras(dataset: VideoReIDDataset, seed: int) -> TwoCameraReduction:
    """ASTPN's MARS: two tracklets in two cameras for every identity seen by two or
    more.

    Candidates are all tracklets, MARS's train and test subsets pooled, except junk
    (pid -1) and distractors (pid 0); identities seen by one camera only are left out.
    For each kept pid, in increasing order: two distinct cameras drawn uniformly without
    replacement (the first is view 1), then one tracklet drawn uniformly among the pid's
    tracklets in each, whatever its length. A pid's draws use the stream
    ``numpy.random.default_rng([STREAM, seed, pid])``, so they do not depend on which
    other identities there are.

    Raises ``ValueError`` when no identity is seen by two cameras.
    """
    by_pid: dict[int, dict[int, list[int]]] = {}  # pid -> camid -> tracklet indices
    for index, tracklet in enumerate(dataset.tracklets):
        if tracklet.pid > 0:
            seen = by_pid.setdefault(tracklet.pid, {})
            seen.setdefault(tracklet.camid, []).append(index)
    views = {}
    for pid in sorted(by_pid):
        cameras = sorted(by_pid[pid])
        if len(cameras) < 2:
            continue
        rng = np.random.default_rng([STREAM, seed, pid])
        c1, c2 = rng.choice(len(cameras), size=2, replace=False)
        first, second = by_pid[pid][cameras[c1]], by_pid[pid][cameras[c2]]
        view_1 = first[rng.integers(len(first))]
        views[pid] = (view_1, second[rng.integers(len(second))])
    if not views:
        raise ValueError(f"{dataset.root}: no identity is seen by two cameras")
    return TwoCameraReduction(seed=seed, views=views)
