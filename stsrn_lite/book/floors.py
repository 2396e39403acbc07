"""What every table is measured against: chance and the colour-histogram matcher, on the same
test identities of the same folds as the trained models (issue "Results worth reading", §2).

- `chance_row`: the expected CMC and mAP of a random ranking of a closed gallery of n
  identities with one true match per probe: rank-k = min(k, n) / n, and, since a probe's AP is
  1 / (rank of its match), mAP = H_n / n (H_n the n-th harmonic number).
- `colour_histogram_row`: chapter 01's strongest colour-histogram matcher (striped HSV 16×4×4,
  centre-weighted, χ²) under the two-camera protocol: probes are the camera-0 tracklets of the
  fold's test identities, their first min(L, n) frames; the gallery the camera-1 ones, their last
  min(L, n) frames (`stsrn_lite.evaluation.protocols.evaluate_two_camera`'s choice). On MARS
  under ASTPN's reading (the paper's Table 2) the two cameras are those drawn for each identity
  (`RunData.views`); MARS's official protocol, with its distractors and many true matches per
  query, has no floor here.

The two return `stsrn_lite.book.tables.result_row` rows, labelled `CHANCE` and
`COLOUR_HISTOGRAM`, with the gallery size; `floor_rows` gives both for a session's fold, and
`fold_floors` both and the colour histogram's ranking (`histogram_match`, a
`stsrn_lite.book.camera_bias.Ranking`, for its camera bias), from one pass over the tracklets.

Shapes: Q queries (probes), G gallery tracklets (Q = G, query i's true match gallery item i),
T frames, H×W pixels, D histogram bins.
"""

from __future__ import annotations

import numpy as np

from stsrn_lite.baselines.colour_histogram import (
    STRONGEST,
    STRONGEST_METRIC,
    distance_matrix,
    tracklet_histogram,
)
from stsrn_lite.book.camera_bias import Ranking
from stsrn_lite.book.session import Session
from stsrn_lite.book.tables import CMC_RANKS, result_row
from stsrn_lite.evaluation.features import select_frames
from stsrn_lite.evaluation.metrics import evaluate_rank
from stsrn_lite.evaluation.protocols import two_camera_indices
from stsrn_lite.preprocess.cache import decode_frame
from stsrn_lite.training.data import RunData

CHANCE = "chance"
COLOUR_HISTOGRAM = "colour histogram"
MATCHER, METRIC = STRONGEST, STRONGEST_METRIC  # chapter 01's strongest setting
LENGTH = 128  # L, the test length of the paper's protocol


def chance_row(dataset: str, fold: int, identities: int) -> dict:
    """The expected ranks and mAP of a random ranking of ``identities`` gallery identities."""
    n = int(identities)
    if n < 1:
        raise ValueError(f"a gallery needs at least one identity, got {n}")
    cmc = [min(k, n) / n for k in range(1, len(CMC_RANKS) + 1)]
    harmonic = sum(1.0 / r for r in range(1, n + 1))
    return result_row(dataset, CHANCE, fold, cmc, harmonic / n, gallery=n)


def histogram_match(data: RunData, length: int = LENGTH) -> Ranking:
    """The colour histogram's ranking of ``data``'s test identities under the two-camera protocol,
    in the order of the fold's test pids (query i's true match is gallery item i): each probe's
    first min(L, n) frames, each gallery tracklet's last min(L, n)."""
    pids = list(data.test_pids)
    features, cameras = [], []
    for view, which in ((0, "first"), (1, "last")):
        rows, camids = [], []
        for index in _view_indices(data, pids, view):
            tracklet = data.dataset.tracklets[index]
            span = select_frames(tracklet.length, length, which)
            frames = np.stack([decode_frame(path) for path in tracklet.frames[span]])  # (T, H, W, 3)
            rows.append(tracklet_histogram(frames, **MATCHER))
            camids.append(tracklet.camid)
        features.append(np.stack(rows))  # (Q, D), then (G, D)
        cameras.append(np.asarray(camids))
    distmat = distance_matrix(features[0], features[1], METRIC)  # (Q, G)
    return Ranking(distmat, np.asarray(pids), np.asarray(pids), cameras[0], cameras[1])


def colour_histogram_row(
    data: RunData, dataset: str, fold: int, length: int = LENGTH, *, match: Ranking | None = None
) -> dict:
    """The colour-histogram matcher under the two-camera protocol on ``data``'s test identities
    (``match``: their `histogram_match`, when already made)."""
    match = match or histogram_match(data, length)
    cmc, mAP = evaluate_rank(
        match.distmat, match.q_pids, match.g_pids, np.zeros(len(match.q_pids)), np.ones(len(match.g_pids))
    )
    return result_row(dataset, COLOUR_HISTOGRAM, fold, cmc, mAP, gallery=len(match.g_pids))


def _view_indices(data: RunData, pids: list[int], view: int) -> list[int]:
    """The probe (``view`` 0) or gallery (1) tracklet of each pid: cameras 0 and 1, or MARS's two
    cameras drawn for its two-camera reduction (`RunData.views`)."""
    if data.views:
        return [int(data.views[pid][view]) for pid in pids]
    return two_camera_indices(data.cache, pids, view)


def fold_floors(session: Session, dataset: str, fold: int) -> tuple[list[dict], Ranking]:
    """`floor_rows` and the colour histogram's ranking (`histogram_match`) on fold ``fold`` of
    ``session``'s ``dataset``, from one pass over its tracklets."""
    data = session.run_data(dataset, fold)
    match = histogram_match(data)
    rows = [chance_row(dataset, fold, len(data.test_pids)), colour_histogram_row(data, dataset, fold, match=match)]
    return rows, match


def floor_rows(session: Session, dataset: str, fold: int) -> list[dict]:
    """Chance and the colour-histogram matcher on fold ``fold`` of ``session``'s ``dataset``."""
    return fold_floors(session, dataset, fold)[0]
