"""Ranking tracklets of real footage: a trained model's features or colour histograms, computed
once per tracklet (X + Y extractions, paper §4.3), their distances, and the queries footage asks.

- `load_model`: a weights file (`stsrn_lite.weights`) or a training run's folder, checked to be
  the preset asked for, with the preprocessing it was trained with (flow mode, normalisation).
- `Matcher` features: the model's v_g with the test of the paper's protocol (L = 128, 16 passes
  or one centre crop; `stsrn_lite.evaluation.features`), or chapter 01's strongest colour
  histogram (`stsrn_lite.baselines.colour_histogram.STRONGEST`, χ²).
- `reappearance_queries`: a track that starts after others have ended is a query against them
  (the people who leave the view and come back).
- `labelled_scores`: rank-1 and mAP of the queries whose person is known to be in their gallery.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from stsrn_lite.baselines.colour_histogram import STRONGEST, STRONGEST_METRIC, distance_matrix, tracklet_histogram
from stsrn_lite.evaluation.features import TestConfig, extract_features, pass_distances
from stsrn_lite.footage.track import Track
from stsrn_lite.model.network import STSRN
from stsrn_lite.preprocess.cache import PreprocessedCache
from stsrn_lite.preprocess.transforms import PreprocessConfig
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.weights import WeightsError, export_weights, load_weights, read_weights


@dataclass
class TrainedModel:
    model: STSRN
    flow: str  # the flow mode it trained with (`TrainConfig.flow`)
    normalisation: str  # its input normalisation (`TrainConfig.normalisation`)
    provenance: dict  # what the weights file says it is


def load_model(path: str | Path, preset: str, device: str | torch.device = "cpu") -> TrainedModel:
    """The model in weights file ``path`` or in the training run folder ``path``, checked to be
    ``preset`` (`stsrn_lite.weights.load_weights`); raises `WeightsError` naming the path."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="stsrn-weights-") as tmp:
        if path.is_dir():
            try:
                path_to_load = export_weights(path, Path(tmp) / "weights.pt")
            except Exception as error:  # no checkpoint, or a damaged one
                raise WeightsError(f"{path}: not a training run with a checkpoint ({error})") from None
        else:
            path_to_load = path
        weights = read_weights(path_to_load)
        training = weights["provenance"].get("training", {})
        try:  # a run that set model fields (a reading) is loaded with them
            overrides = TrainConfig(**training).model_overrides() if training else {}
        except (TypeError, ValueError):
            overrides = {}
        try:
            model = load_weights(path_to_load, preset, device, **overrides)
        except WeightsError as error:
            raise WeightsError(str(error).replace(str(path_to_load), str(path))) from None
    return TrainedModel(
        model=model,
        flow=training.get("flow", "resized"),
        normalisation=training.get("normalisation", "mclaughlin"),
        provenance=weights["provenance"],
    )


def model_distances(
    trained: TrainedModel, cache: PreprocessedCache, tta: bool, device: str | torch.device = "cpu"
) -> np.ndarray:
    """(n, n) distances between every two tracklets of ``cache`` under the trained model: each
    tracklet's features once (its first min(L, n) frames), summed over the test passes."""
    test = TestConfig(length=128, tta=tta, preprocess=PreprocessConfig(normalisation=trained.normalisation))
    features = extract_features(trained.model, cache, range(len(cache)), "first", test, device)  # (P, n, N)
    return pass_distances(features, features).numpy()


def histogram_distances(tracklets: Sequence[np.ndarray]) -> np.ndarray:
    """(n, n) χ² distances between the colour histograms of ``tracklets`` ((T, H, W, 3) RGB each)."""
    features = np.stack([tracklet_histogram(frames, **STRONGEST) for frames in tracklets])  # (n, D)
    return distance_matrix(features, features, STRONGEST_METRIC)


def reappearance_queries(tracks: Sequence[Track], min_gap: int = 1) -> list[tuple[int, list[int]]]:
    """(query track id, gallery track ids) for every track that starts at least ``min_gap`` frames
    after some track ended: its gallery is every track that ended that long before it began."""
    queries = []
    for query in tracks:
        gallery = [t.track_id for t in tracks if t.end + min_gap <= query.start]
        if gallery:
            queries.append((query.track_id, gallery))
    return queries


def ranked(distmat: np.ndarray, ids: Sequence[int], query: int, gallery: Sequence[int]) -> list[tuple[int, float]]:
    """The gallery tracks of ``query`` from nearest to farthest, with their distances (``distmat``
    indexed in the order of ``ids``)."""
    position = {track_id: i for i, track_id in enumerate(ids)}
    row = distmat[position[query]]
    pairs = [(g, float(row[position[g]])) for g in gallery]
    return sorted(pairs, key=lambda pair: (pair[1], pair[0]))


def labelled_scores(
    distmat: np.ndarray,
    ids: Sequence[int],
    queries: Sequence[tuple[int, list[int]]],
    person: Mapping[int, str],
) -> dict:
    """Rank-1 and mAP (in %) over the ``queries`` whose person (``person``: track id → a label of
    who it is) is in their gallery, and how many such queries there were."""
    hits, precisions = [], []
    for query, gallery in queries:
        if query not in person or not any(person.get(g) == person[query] for g in gallery):
            continue
        order = [g for g, _ in ranked(distmat, ids, query, gallery)]
        matches = np.array([person.get(g) == person[query] for g in order])
        ranks = np.flatnonzero(matches) + 1  # 1-based ranks of the true matches
        hits.append(bool(matches[0]))
        precisions.append(float(np.mean(np.arange(1, len(ranks) + 1) / ranks)))  # AP
    if not hits:
        return {"queries": 0, "rank1": float("nan"), "mAP": float("nan")}
    return {"queries": len(hits), "rank1": 100 * float(np.mean(hits)), "mAP": 100 * float(np.mean(precisions))}
