"""Test protocols of paper §4.2 and Table 4: who is a query, who is in the gallery.

Paper §4.2: "In the testing phase, the probe set and the gallery set contain data from two
different cameras for iLIDS-VID and PRID2011; and we only use the first 200 identities
appeared in both cameras for PRID2011. As for MARS, we randomly chose 2 cameras of the same
person out of the ensemble following [8]." §4.4 (Table 4): trained on iLIDS-VID, tested on
PRID2011.

- `evaluate_two_camera`: iLIDS-VID / PRID2011 (test.lua;
  book: The original code, "Test protocols"); also Table 4's cross-dataset test, on a PRID2011
  cache with `cross_dataset_pids`, and MARS as ASTPN [8] ran it (Table 2): the two views of each
  test identity of the two-camera reduction (`stsrn_lite.data.mars_astpn`), passed as ``views``.
- `evaluate_mars_standard`: the official MARS queries and gallery (book: The original code, "Test protocols"), for
  comparison with later work.

Every protocol extracts each tracklet's features once (paper §4.3: X + Y, not X·Y) with
`extract_features`, sums the Euclidean distances of the test passes (`pass_distances`) and
ranks with `stsrn_lite.evaluation.metrics`. The result is an `Evaluation`; `Evaluation.record()` is its
JSON-ready part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from stsrn_lite.data.prid2011 import protocol_pids
from stsrn_lite.data.splits import random_splits
from stsrn_lite.data.tracklet import VideoReIDDataset
from stsrn_lite.evaluation.features import TestConfig, extract_features, pass_distances
from stsrn_lite.evaluation.metrics import RULES, RankDetails, evaluate_rank_details, summary
from stsrn_lite.preprocess.cache import PreprocessedCache

MAX_RANK = 20  # the CMC is reported for ranks 1..20 (paper Tables 1-4)
CROSS_DATASET_PIDS = ("test-half", "all")


@dataclass(frozen=True, eq=False)
class Evaluation:
    """One protocol run: the ranking figures and everything they were computed from.

    Q queries, G gallery tracklets; indices are tracklet indices into the cache.
    """

    protocol: str  # "two-camera" or "mars-standard"
    rules: str  # ranking rules of `stsrn_lite.evaluation.metrics`: "torchreid" or "mars"
    config: TestConfig  # test length, passes, preprocessing
    details: RankDetails  # cmc (fractions, ranks 1..20), mAP, per-query AP and first-hit rank
    distmat: np.ndarray  # (Q, G) float64, sum over passes of Euclidean distances
    q_indices: np.ndarray  # (Q,) int64
    g_indices: np.ndarray  # (G,) int64
    q_pids: np.ndarray  # (Q,)
    g_pids: np.ndarray  # (G,)
    q_camids: np.ndarray  # (Q,)
    g_camids: np.ndarray  # (G,)

    ARRAYS = ("distmat", "q_indices", "g_indices", "q_pids", "g_pids", "q_camids", "g_camids")  # what it ranks

    @classmethod
    def ranked(cls, protocol: str, rules: str, config: TestConfig, distmat: np.ndarray, **arrays) -> Evaluation:
        """The evaluation of distances ``distmat`` (Q, G) between the tracklets ``arrays`` names
        (the rest of `ARRAYS`), ranked by ``rules``."""
        labels = {key: arrays[key] for key in ("q_pids", "g_pids", "q_camids", "g_camids")}
        details = evaluate_rank_details(distmat, max_rank=MAX_RANK, rules=rules, **labels)
        return cls(protocol=protocol, rules=rules, config=config, details=details, distmat=distmat, **arrays)

    @property
    def num_queries(self) -> int:
        """Queries the CMC and mAP average over (those with a true match in the gallery)."""
        return self.details.num_valid

    @property
    def summary(self) -> dict[str, float]:
        """{"rank1", "rank5", "rank10", "rank20", "mAP"} in percent."""
        return summary(self.details.cmc, self.details.mAP)

    def record(self) -> dict:
        """The JSON-ready part: summary, CMC in percent for ranks 1..20, counts and settings."""
        return {
            "protocol": self.protocol,
            "rules": self.rules,
            **self.summary,
            "cmc": [round(100 * float(c), 2) for c in self.details.cmc],
            "num_queries": self.num_queries,
            "num_skipped": self.details.num_skipped,
            "num_gallery": int(len(self.g_indices)),
            "length": self.config.length,
            "tta": self.config.tta,
        }


def _evaluation(
    protocol: str,
    rules: str,
    cfg: TestConfig,
    cache: PreprocessedCache,
    q_feats: torch.Tensor,
    g_feats: torch.Tensor,
    q_indices: Sequence[int],
    g_indices: Sequence[int],
) -> Evaluation:
    q_indices, g_indices = np.asarray(q_indices, dtype=np.int64), np.asarray(g_indices, dtype=np.int64)
    return Evaluation.ranked(
        protocol,
        rules,
        cfg,
        pass_distances(q_feats, g_feats).numpy(),  # (Q, G)
        q_indices=q_indices,
        g_indices=g_indices,
        q_pids=np.asarray(cache.pids)[q_indices],
        g_pids=np.asarray(cache.pids)[g_indices],
        q_camids=np.asarray(cache.camids)[q_indices],
        g_camids=np.asarray(cache.camids)[g_indices],
    )


def _check_cache(cache: PreprocessedCache, dataset: VideoReIDDataset) -> None:
    """The cache's tracklet order must be the dataset's (it is when built from it)."""
    pids = np.array([t.pid for t in dataset.tracklets])
    camids = np.array([t.camid for t in dataset.tracklets])
    if len(cache) != len(pids) or not (np.array_equal(cache.pids, pids) and np.array_equal(cache.camids, camids)):
        raise ValueError(
            f"the cache at {cache.path} does not hold {dataset.name}'s tracklets in order "
            f"({len(cache)} cached, {len(pids)} in the dataset)"
        )


# --- iLIDS-VID, PRID2011 and the cross-dataset test ----------------------------------------


def two_camera_indices(cache: PreprocessedCache, pids: Sequence[int], camid: int) -> list[int]:
    """The one tracklet of each pid in camera ``camid``, in the order of ``pids``."""
    indices = []
    for pid in pids:
        found = np.flatnonzero((np.asarray(cache.pids) == pid) & (np.asarray(cache.camids) == camid))
        if len(found) != 1:
            raise ValueError(f"pid {pid}: expected one tracklet in camera {camid}, found {len(found)}")
        indices.append(int(found[0]))
    return indices


def evaluate_two_camera(
    model: nn.Module,
    cache: PreprocessedCache,
    test_pids: Sequence[int],
    cfg: TestConfig,
    device: str | torch.device,
    *,
    views: Mapping[int, tuple[int, int]] | None = None,
    progress: bool = False,
) -> Evaluation:
    """iLIDS-VID / PRID2011 protocol (paper §4.2; the CNN-RNN's test.lua), and MARS as ASTPN ran it.

    Probe: the camera-0 tracklet of every test pid, its first min(L, n) frames. Gallery: the
    camera-1 tracklet of every test pid, its last min(L, n) frames. Closed set, one true match
    per probe, ranked with ``rules="torchreid"`` (the same-camera removal never triggers; AP =
    1 / rank, so mAP is the mean reciprocal rank).

    ``views`` ({pid: (probe tracklet, gallery tracklet)}), when given and not empty, replaces
    cameras 0 and 1 where a pid's two cameras vary: MARS reduced as ASTPN did
    (`stsrn_lite.training.data.RunData.views`).
    """
    if len(test_pids) == 0:
        raise ValueError("evaluate_two_camera needs at least one test pid")
    if not views:
        q_indices = two_camera_indices(cache, test_pids, 0)
        g_indices = two_camera_indices(cache, test_pids, 1)
    else:
        missing = [pid for pid in test_pids if pid not in views]
        if missing:
            raise ValueError(f"pids {missing[:5]} have no probe and gallery tracklet in the views given")
        q_indices = [int(views[pid][0]) for pid in test_pids]
        g_indices = [int(views[pid][1]) for pid in test_pids]
        for pid, q, g in zip(test_pids, q_indices, g_indices):
            if not cache.pids[q] == cache.pids[g] == pid or cache.camids[q] == cache.camids[g]:
                raise ValueError(f"pid {pid}: the views {q}, {g} are not two cameras' tracklets of pid {pid}")
    q_feats = extract_features(model, cache, q_indices, "first", cfg, device, progress=progress)  # (P, Q, N)
    g_feats = extract_features(model, cache, g_indices, "last", cfg, device, progress=progress)  # (P, G, N)
    return _evaluation("two-camera", "torchreid", cfg, cache, q_feats, g_feats, q_indices, g_indices)


def cross_dataset_pids(
    dataset: VideoReIDDataset,
    fold: int = 0,
    folds: int = 10,
    seed: int = 0,
    which: str = "test-half",
) -> list[int]:
    """PRID2011 identities for the cross-dataset test of Table 4 (train iLIDS-VID, test
    PRID2011).

    The paper does not say which PRID2011 identities it tests on. Its Table 4 figures
    (32.0, 58.0, 71.0, 90.0) are whole percents, as with 100 probes, so the default is:

    - ``"test-half"``: the test half of fold ``fold`` of the seeded 100/100 split of
      persons 1-200 (`stsrn_lite.data.splits.random_splits` with ``folds`` and
      ``seed``), i.e. the very identities that in-dataset PRID2011 fold ``fold`` tests
      on, so the two compare;
    - ``"all"``: all 200 persons 1-200 (none of them was seen in training either).

    Persons above 200 (single-camera) are never used.
    """
    if dataset.name != "prid2011":
        raise ValueError(f"the cross-dataset test is on PRID2011, not {dataset.name!r}")
    pids = protocol_pids(dataset)
    if which == "all":
        return pids
    if which == "test-half":
        if not 0 <= fold < folds:
            raise ValueError(f"fold must lie in [0, {folds}), got {fold}")
        return list(random_splits(pids, folds=folds, seed=seed)[fold].test)
    raise ValueError(f"which must be one of {CROSS_DATASET_PIDS}, got {which!r}")


# --- MARS -----------------------------------------------------------------------------------


def evaluate_mars_standard(
    model: nn.Module,
    cache: PreprocessedCache,
    dataset: VideoReIDDataset,
    cfg: TestConfig,
    device: str | torch.device,
    rules: str = "mars",
    *,
    progress: bool = False,
) -> Evaluation:
    """The standard MARS protocol (book: The original code, "Test protocols"): the official 1,980 queries.

    Every test tracklet's features are computed once, from its first min(L, n) frames, and the
    queries' features are taken from them (X + Y extractions, paper §4.3).

    - ``rules="mars"`` (official): the gallery is all test tracklets, queries, junk (-1) and
      distractors (0) included; junk and same-pid-same-camera entries are removed per query
      by the metric, and AP uses the official trapezoid rule.
    - ``rules="torchreid"``: the gallery is the test tracklets minus the queries and minus
      junk, as torchreid builds it; distractors stay. Queries without a cross-camera match are
      skipped (`Evaluation.num_queries`; 1,840 of 1,980 on the real MARS).

    The tracklet feature is the model's v_g summed over the test passes, not the official
    code's max-pooled, L2-normalised frame features.
    """
    if rules not in RULES:
        raise ValueError(f"rules must be one of {RULES}, got {rules!r}")
    _check_cache(cache, dataset)
    if "test" not in dataset.subsets or not dataset.query:
        raise ValueError(f"{dataset.name}: no test subset or no queries; the MARS protocols need MARS")
    test = [int(i) for i in dataset.subsets["test"]]
    column = {index: k for k, index in enumerate(test)}
    missing = [q for q in dataset.query if q not in column]
    if missing:
        raise ValueError(f"{dataset.name}: queries {missing[:5]} are not test tracklets")
    feats = extract_features(model, cache, test, "first", cfg, device, progress=progress)  # (P, n_test, N)
    q_indices = [int(q) for q in dataset.query]
    if rules == "mars":
        g_indices = test
    else:
        queries = set(q_indices)
        g_indices = [i for i in test if i not in queries and cache.pids[i] != -1]
    q_feats = feats[:, [column[i] for i in q_indices]]  # (P, Q, N)
    g_feats = feats[:, [column[i] for i in g_indices]]  # (P, G, N)
    return _evaluation("mars-standard", rules, cfg, cache, q_feats, g_feats, q_indices, g_indices)
