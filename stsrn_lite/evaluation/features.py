"""Test-time features: one v_g per tracklet and test pass, computed once (paper §4.2, §4.3).

Paper §4.2: "we set the sampling length of each person sequence to 16 and 128 for training
and testing"; "We also adopted the same augmentation step in test phase". The original code
(test.lua; book: The original code, "Test protocols") takes the **first** min(L, n) frames of a
probe and the **last** min(L, n) frames of a gallery sequence, runs 16 passes (diagonal crop
offsets (s, s), s = 1..8, each with and without the mirror) and **sums** the plain Euclidean distances of the 16 passes.

Paper §4.3 "Efficiency": features are pre-computed, so X queries against Y gallery tracklets
take X + Y feature extractions, not X·Y. `extract_features` computes every tracklet's
features once; `pass_distances` compares them.

Shapes follow the legend of `stsrn_lite.model` (B sequences, T frames, C channels, H×W
pixels, N embedding size); P is the number of test passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from stsrn_lite.preprocess.cache import PreprocessedCache
from stsrn_lite.preprocess.crop import crop_sequences, evaluation_passes
from stsrn_lite.preprocess.transforms import PreprocessConfig, model_input

WHICH = ("first", "last", "all")


@dataclass(frozen=True)
class TestConfig:
    """How a tracklet becomes test features."""

    __test__ = False  # not a pytest test class, despite the name

    length: int = 128  # L, the test sampling length; paper §4.2 ("128 for testing")
    tta: bool = True  # 16 passes (8 diagonal crops × mirror) instead of one centre crop; paper §4.2, test.lua
    batch_sequences: int | None = (
        None  # sequences per forward chunk (speed and memory, not results); None: 1 on the CPU, 16 on CUDA
    )
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)  # cache → model input; paper §4.2

    def __post_init__(self) -> None:
        if self.length < 1:
            raise ValueError(f"length must be >= 1, got {self.length}")
        if self.batch_sequences is not None and self.batch_sequences < 1:
            raise ValueError(f"batch_sequences must be >= 1, got {self.batch_sequences}")


def select_frames(n: int, length: int, which: str) -> slice:
    """The frames of an n-frame tracklet used at test (test.lua; book: The original code, "Test protocols").

    ``"first"``: the first min(L, n) (the probe's); ``"last"``: the last min(L, n) (the
    gallery's); ``"all"``: all n, whatever L.
    """
    if n < 1:
        raise ValueError(f"a tracklet has at least one frame, got n = {n}")
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if which == "first":
        return slice(0, min(length, n))
    if which == "last":
        return slice(n - min(length, n), n)
    if which == "all":
        return slice(0, n)
    raise ValueError(f"which must be one of {WHICH}, got {which!r}")


def _padded_chunk(
    cache: PreprocessedCache, indices: Sequence[int], spans: Sequence[slice], T: int
) -> tuple[np.ndarray, np.ndarray]:
    """The chunk's uint8 RGB (B, T, 3, H, W) and int8 flow (B, T, 2, H, W), zero after each sequence."""
    rgb0, flow0 = cache.tracklet(indices[0])
    rgb = np.zeros((len(indices), T, *rgb0.shape[1:]), dtype=np.uint8)  # (B, T, 3, H, W)
    flow = np.zeros((len(indices), T, *flow0.shape[1:]), dtype=np.int8)  # (B, T, 2, H, W)
    for b, (index, span) in enumerate(zip(indices, spans)):
        t_rgb, t_flow = cache.tracklet(index)
        rgb[b, : span.stop - span.start] = t_rgb[span]
        flow[b, : span.stop - span.start] = t_flow[span]
    return rgb, flow


def extract_features(
    model: nn.Module,
    cache: PreprocessedCache,
    indices: Sequence[int],
    which: str,
    cfg: TestConfig,
    device: str | torch.device,
    *,
    progress: bool = False,
) -> torch.Tensor:
    """Features of the tracklets ``indices`` of ``cache``, one per test pass.

    Args:
        model: maps frames (B, T, C, 56, 40) float and lengths (B,) long to v_g (B, N); run in
            eval mode under `torch.inference_mode`, its train/eval mode restored afterwards.
        cache: the preprocessed dataset.
        indices: tracklet indices into ``cache`` (repeats allowed).
        which: the frames of every tracklet, see `select_frames`.
        cfg: test length, passes, chunk size and input preprocessing.
        device: where the model lives; uint8/int8 frames are moved there and turned into the
            model's input there.
        progress: show a tqdm bar (sequences).

    Returns:
        (P, len(indices), N) float32 on the CPU, in the order of ``indices``;
        P = len(evaluation_passes(cfg.tta)).

    Sequences are sorted by their number of frames and cut into chunks of
    ``cfg.batch_sequences``, each padded to its longest sequence; the model ignores the
    padding (``lengths``), so a feature does not depend on its chunk.
    """
    indices = [int(i) for i in indices]
    if not indices:
        raise ValueError("extract_features needs at least one tracklet index")
    bad = [i for i in indices if not 0 <= i < len(cache)]
    if bad:
        raise IndexError(f"tracklet indices {bad[:5]} out of range for a cache of {len(cache)}")
    device = torch.device(device)
    passes = evaluation_passes(cfg.tta)
    chunk = cfg.batch_sequences or (16 if device.type == "cuda" else 1)  # on 2 CPU cores, 1 was 2.2× faster than 16
    offsets = np.asarray(cache.offsets)
    spans = [select_frames(int(offsets[i + 1] - offsets[i]), cfg.length, which) for i in indices]
    sizes = np.array([s.stop - s.start for s in spans])
    order = np.argsort(-sizes, kind="stable")  # longest first: chunks of similar length
    features: torch.Tensor | None = None
    was_training = model.training
    model.eval()
    bar = tqdm(total=len(indices), unit="seq", disable=not progress, desc="features")
    try:
        with torch.inference_mode():
            for start in range(0, len(indices), chunk):
                positions = order[start : start + chunk]
                T = int(sizes[positions].max())
                rgb, flow = _padded_chunk(cache, [indices[p] for p in positions], [spans[p] for p in positions], T)
                x = model_input(
                    torch.from_numpy(rgb).to(device), torch.from_numpy(flow).to(device), cfg.preprocess
                )  # (B, T, 5, 64, 48)
                B = x.shape[0]
                lengths = torch.as_tensor(sizes[positions], dtype=torch.long, device=device)  # (B,)
                rows = torch.as_tensor(positions, dtype=torch.long)
                for p, (shift, flip) in enumerate(passes):
                    offset = torch.full((B,), shift, dtype=torch.long, device=device)
                    flips = torch.full((B,), flip, dtype=torch.bool, device=device)
                    v_g = model(crop_sequences(x, offset, offset, flips), lengths)  # (B, N)
                    if features is None:
                        features = torch.zeros(len(passes), len(indices), v_g.shape[1])  # (P, n, N)
                    features[p, rows] = v_g.float().cpu()
                bar.update(B)
    finally:
        bar.close()
        model.train(was_training)
    return features


def pass_distances(q: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Sum over passes of plain Euclidean distances (as test.lua): smaller is more similar.

    Args:
        q: (P, nq, N) query features; g: (P, ng, N) gallery features, the same P passes.

    Returns:
        distmat (nq, ng) float64: Σ_p ||q[p, i] − g[p, j]||₂.
    """
    if q.ndim != 3 or g.ndim != 3 or q.shape[0] != g.shape[0] or q.shape[2] != g.shape[2]:
        raise ValueError(
            f"expected (P, nq, N) and (P, ng, N) with the same P and N, got {tuple(q.shape)} and {tuple(g.shape)}"
        )
    distmat = torch.zeros(q.shape[1], g.shape[1], dtype=torch.float64)  # (nq, ng)
    for q_p, g_p in zip(q.double(), g.double()):  # (nq, N), (ng, N) of one pass
        # Differences, not |a|² + |b|² − 2ab: equal features give exactly 0, ties stay ties.
        distmat += torch.cdist(q_p, g_p, compute_mode="donot_use_mm_for_euclid_dist")  # (nq, ng)
    return distmat
