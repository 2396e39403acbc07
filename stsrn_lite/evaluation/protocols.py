"""Test protocols of paper §4.2 and Table 4: who is a query, who is in the gallery.

Paper §4.2: "In the testing phase, the probe set and the gallery set contain data from two
different cameras for iLIDS-VID and PRID2011; and we only use the first 200 identities
appeared in both cameras for PRID2011. As for MARS, we randomly chose 2 cameras of the same
person out of the ensemble following [8]." §4.4 (Table 4): trained on iLIDS-VID, tested on
PRID2011.

- `evaluate_two_camera`: iLIDS-VID / PRID2011 (test.lua;
  book: The original code, "Test protocols"); also Table 4's cross-dataset test, on a PRID2011
  cache with `cross_dataset_pids`.
- `evaluate_mars_paper`: MARS as the paper (after ASTPN [8]) describes it: two cameras of each
  test identity, chosen at random (`mars_paper_pairs`).
- `evaluate_mars_standard`: the official MARS queries and gallery (book: The original code, "Test protocols"), for
  comparison with later work.

Every protocol extracts each tracklet's features once (paper §4.3: X + Y, not X·Y) with
`extract_features`, sums the Euclidean distances of the test passes (`pass_distances`) and
ranks with `stsrn_lite.evaluation.metrics`. The result is an `Evaluation`; `Evaluation.record()` is its
JSON-ready part.
"""

from __future__ import annotations

from collections.abc import Sequence
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

    protocol: str  # "two-camera", "mars-paper" or "mars-standard"
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
    distmat = pass_distances(q_feats, g_feats).numpy()  # (Q, G)
    labels = dict(
        q_pids=np.asarray(cache.pids)[q_indices],
        g_pids=np.asarray(cache.pids)[g_indices],
        q_camids=np.asarray(cache.camids)[q_indices],
        g_camids=np.asarray(cache.camids)[g_indices],
    )
    details = evaluate_rank_details(distmat, max_rank=MAX_RANK, rules=rules, **labels)
    return Evaluation(
        protocol=protocol,
        rules=rules,
        config=cfg,
        details=details,
        distmat=distmat,
        q_indices=q_indices,
        g_indices=g_indices,
        **labels,
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
    progress: bool = False,
) -> Evaluation:
    """iLIDS-VID / PRID2011 protocol (paper §4.2; the CNN-RNN's test.lua).

    Probe: the camera-0 tracklet of every test pid, its first min(L, n) frames. Gallery: the
    camera-1 tracklet of every test pid, its last min(L, n) frames. Closed set, one true match
    per probe, ranked with ``rules="torchreid"`` (the same-camera removal never triggers; AP =
    1 / rank, so mAP is the mean reciprocal rank).
    """
    if len(test_pids) == 0:
        raise ValueError("evaluate_two_camera needs at least one test pid")
    q_indices = two_camera_indices(cache, test_pids, 0)
    g_indices = two_camera_indices(cache, test_pids, 1)
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


def mars_paper_pairs(
    pids: Sequence[int], camids: Sequence[int], candidates: Sequence[int], seed: int
) -> tuple[list[int], list[int]]:
    """Probe and gallery tracklets of the paper's MARS protocol (§4.2, after ASTPN [8]).

    For every identity with pid > 0 (no junk, no distractors) among the ``candidates``
    tracklets that is seen by at least two cameras, in increasing pid order: draw two distinct
    cameras uniformly without replacement, the first the probe's and the second the gallery's,
    and one tracklet uniformly within each camera. Identities seen by one camera only are left
    out. The draws of a pid use the stream ``numpy.random.default_rng([seed, pid])``, so they
    do not depend on which other identities there are.

    Args:
        pids, camids: per tracklet of the whole dataset (index = tracklet index).
        candidates: the tracklet indices to choose from (MARS: ``dataset.subsets["test"]``).

    Returns:
        (probe indices, gallery indices), one each per identity, aligned.
    """
    pids, camids = np.asarray(pids), np.asarray(camids)
    by_pid: dict[int, dict[int, list[int]]] = {}
    for index in candidates:
        pid = int(pids[index])
        if pid > 0:
            by_pid.setdefault(pid, {}).setdefault(int(camids[index]), []).append(int(index))
    q_indices, g_indices = [], []
    for pid in sorted(by_pid):
        cameras = sorted(by_pid[pid])
        if len(cameras) < 2:
            continue
        rng = np.random.default_rng([seed, pid])
        q_cam, g_cam = (cameras[c] for c in rng.choice(len(cameras), size=2, replace=False))
        q_indices.append(by_pid[pid][q_cam][rng.integers(len(by_pid[pid][q_cam]))])
        g_indices.append(by_pid[pid][g_cam][rng.integers(len(by_pid[pid][g_cam]))])
    return q_indices, g_indices


def evaluate_mars_paper(
    model: nn.Module,
    cache: PreprocessedCache,
    dataset: VideoReIDDataset,
    cfg: TestConfig,
    device: str | torch.device,
    seed: int = 0,
    *,
    progress: bool = False,
) -> Evaluation:
    """MARS as the paper evaluates it (§4.2, following ASTPN [8]; Table 2).

    Among the test tracklets, every identity seen by two or more cameras gives one probe and
    one gallery tracklet from two randomly chosen cameras (`mars_paper_pairs`, seeded by
    ``seed``). Then exactly as `evaluate_two_camera`: probes use their first min(L, n) frames,
    gallery tracklets their last min(L, n); closed set, one true match per probe, rules
    "torchreid". The numbers depend on ``seed``; they are not comparable with the standard
    MARS protocol (`evaluate_mars_standard`).
    """
    _check_cache(cache, dataset)
    if "test" not in dataset.subsets:
        raise ValueError(f"{dataset.name}: no 'test' subset; the MARS protocols need MARS")
    q_indices, g_indices = mars_paper_pairs(cache.pids, cache.camids, dataset.subsets["test"], seed)
    if not q_indices:
        raise ValueError(f"{dataset.name}: no test identity is seen by two cameras")
    q_feats = extract_features(model, cache, q_indices, "first", cfg, device, progress=progress)  # (P, Q, N)
    g_feats = extract_features(model, cache, g_indices, "last", cfg, device, progress=progress)  # (P, G, N)
    return _evaluation("mars-paper", "torchreid", cfg, cache, q_feats, g_feats, q_indices, g_indices)


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
