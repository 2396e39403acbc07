"""Display helpers for the efficiency chapter: X + Y against X·Y feature extractions (paper §4.3).

Paper §4.3 "Efficiency": "Suppose we have X examples to query and Y examples in the gallery. The
attention-based approaches need to extract features for XY times while we only need X + Y
times." STSRN's feature of a tracklet does not depend on what it is compared with, so
`stsrn_lite.evaluation.extract_features` computes every probe and gallery feature once. A
pair-wise method (attention between query and gallery) must run its network on every pair.

- `SequenceCounter` counts the sequences a model is run on (a forward hook), so that the chapter
  counts extractions instead of asserting them;
- `pairwise_distances` imitates the pair-wise cost with our model: both tracklets of every
  (probe, gallery) pair are extracted afresh for that pair;
- `query_seconds` and `pairwise_query_seconds` time one query against a gallery of Y tracklets,
  with pre-computed gallery features and pair-wise; `tiled` makes a gallery of any size from
  the features at hand (the ranking cost depends on Y only);
- `measure_timings` and `measure_query_times` gather those timings as tidy rows, which the
  chapter stores under ``results/<profile>/`` (timings differ from run to run, so the book shows
  stored ones with the machine that measured them); `query_times_by_scheme` reads them back;
- `plot_query_time` draws query time against gallery size.

Nothing here is used by the library; the notebooks import it. Shapes: P test passes, Y gallery
tracklets, N embedding size.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from stsrn_lite.evaluation.features import TestConfig, extract_features, pass_distances
from stsrn_lite.preprocess.cache import PreprocessedCache

ONCE_LABEL = "stored gallery features: 1 extraction per query"
PAIRWISE_LABEL = "pair-wise: Y pair extractions per query"


def timed(function: Callable, *args, **kwargs) -> tuple[object, float]:
    """(result, seconds) of one call of ``function``."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


class SequenceCounter:
    """Counts, while active, the forward calls of ``model`` and the sequences (rows B of the
    first input) it was run on; with P test passes a tracklet extraction is P sequences.

        with SequenceCounter(model) as counter:
            extract_features(model, ...)
        counter.sequences, counter.calls
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.sequences = 0
        self.calls = 0
        self._handle = None

    def _hook(self, module: nn.Module, inputs: tuple, output) -> None:
        self.calls += 1
        self.sequences += int(inputs[0].shape[0])  # frames (B, T, C, H, W)

    def __enter__(self) -> SequenceCounter:
        if self._handle is not None:
            raise RuntimeError("this SequenceCounter is already counting")
        self._handle = self.model.register_forward_hook(self._hook)
        return self

    def __exit__(self, *exc) -> None:
        self._handle.remove()
        self._handle = None


def pairwise_distances(
    model: nn.Module,
    cache: PreprocessedCache,
    q_indices: Sequence[int],
    g_indices: Sequence[int],
    pairs: Sequence[tuple[int, int]],
    cfg: TestConfig,
    device: str | torch.device,
) -> np.ndarray:
    """Distances of ``pairs`` computed the pair-wise way: for pair (i, j) the probe
    ``q_indices[i]`` (its first frames) and the gallery tracklet ``g_indices[j]`` (its last
    frames) are extracted for that pair alone, 2 sequences per pass and pair.

    Returns:
        (len(pairs),) float64, each the sum over passes of Euclidean distances, as `pass_distances`.
    """
    if not pairs:
        raise ValueError("pairwise_distances needs at least one (probe, gallery) pair")
    distances = np.empty(len(pairs), dtype=np.float64)
    for k, (i, j) in enumerate(pairs):
        q = extract_features(model, cache, [q_indices[i]], "first", cfg, device)  # (P, 1, N)
        g = extract_features(model, cache, [g_indices[j]], "last", cfg, device)  # (P, 1, N)
        distances[k] = float(pass_distances(q, g)[0, 0])
    return distances


def tiled(features: torch.Tensor, size: int) -> torch.Tensor:
    """A gallery of ``size`` entries from features (P, Y, N): its columns repeated in turn."""
    if features.ndim != 3 or features.shape[1] < 1:
        raise ValueError(f"expected features (P, Y, N) with Y >= 1, got {tuple(features.shape)}")
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    columns = torch.arange(size) % features.shape[1]
    return features[:, columns]  # (P, size, N)


def query_seconds(
    model: nn.Module,
    cache: PreprocessedCache,
    q_index: int,
    g_feats: torch.Tensor,
    cfg: TestConfig,
    device: str | torch.device,
    repeats: int = 3,
) -> float:
    """Best of ``repeats`` timings of one query against pre-computed gallery features g_feats
    (P, Y, N): extract the query, compute its Y distances, rank them."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        q = extract_features(model, cache, [q_index], "first", cfg, device)  # (P, 1, N)
        np.argsort(pass_distances(q, g_feats).numpy(), axis=1, kind="stable")  # (1, Y) ranking
        best = min(best, time.perf_counter() - start)
    return best


def pairwise_query_seconds(
    model: nn.Module,
    cache: PreprocessedCache,
    q_index: int,
    g_indices: Sequence[int],
    cfg: TestConfig,
    device: str | torch.device,
) -> float:
    """Seconds for one query answered pair-wise against the tracklets ``g_indices``: Y pair
    extractions (query and gallery tracklet each time), then the ranking."""
    start = time.perf_counter()
    distances = pairwise_distances(
        model, cache, [q_index], g_indices, [(0, j) for j in range(len(g_indices))], cfg, device
    )
    np.argsort(distances, kind="stable")
    return time.perf_counter() - start


def measure_timings(
    model: nn.Module,
    cache: PreprocessedCache,
    q_indices: Sequence[int],
    g_indices: Sequence[int],
    pairs: Sequence[tuple[int, int]],
    cfg: TestConfig,
    device: str | torch.device,
) -> list[dict]:
    """Seconds on this machine of extracting once (all X + Y tracklets, then the distances) and of
    the pair-wise scheme (per pair, timed on ``pairs`` and scaled to all X·Y pairs).

    Returns rows {"quantity", "seconds"}; a warm-up extraction comes first and is not timed.
    """
    if not pairs:
        raise ValueError("measure_timings needs at least one (probe, gallery) pair")
    extract_features(model, cache, list(q_indices[:1]), "first", cfg, device)  # warm-up
    q_feats, t_q = timed(extract_features, model, cache, q_indices, "first", cfg, device)
    g_feats, t_g = timed(extract_features, model, cache, g_indices, "last", cfg, device)
    _, t_d = timed(pass_distances, q_feats, g_feats)
    _, t_pairs = timed(pairwise_distances, model, cache, q_indices, g_indices, pairs, cfg, device)
    per_pair = t_pairs / len(pairs)
    xy = len(q_indices) * len(g_indices)
    return [
        {"quantity": "extract once, all X + Y tracklets", "seconds": t_q + t_g + t_d},
        {"quantity": "of which the X·Y distances", "seconds": t_d},
        {"quantity": f"pair-wise, per pair (mean of {len(pairs)})", "seconds": per_pair},
        {"quantity": f"pair-wise, all X·Y = {xy} pairs (per pair × X·Y)", "seconds": per_pair * xy},
    ]


def measure_query_times(
    model: nn.Module,
    cache: PreprocessedCache,
    q_index: int,
    g_feats: torch.Tensor,
    g_indices: Sequence[int],
    cfg: TestConfig,
    device: str | torch.device,
    *,
    sizes: Sequence[int],
    large: Sequence[int] = (),
    repeats: int = 5,
) -> list[dict]:
    """Seconds of one query against galleries of Y tracklets, both schemes.

    ``sizes`` (each at most the ``len(g_indices)`` tracklets at hand, whose features g_feats are
    (P, Y, N)) are measured for both schemes; ``large`` galleries only with stored features (made
    with `tiled`), the pair-wise time extrapolated linearly from the largest measured gallery.

    Returns rows {"Y", "scheme", "seconds"} with scheme "stored", "pair-wise" or
    "pair-wise, extrapolated".
    """
    available = len(g_indices)
    if not sizes or min(sizes) < 1 or max(sizes) > available or g_feats.shape[1] != available:
        raise ValueError(
            f"sizes must lie in 1..{available} (the gallery at hand, features "
            f"{tuple(g_feats.shape)}), got {list(sizes)}"
        )
    rows = [
        {
            "Y": y,
            "scheme": "stored",
            "seconds": query_seconds(model, cache, q_index, g_feats[:, :y], cfg, device, repeats),
        }
        for y in sizes
    ]
    rows += [
        {
            "Y": y,
            "scheme": "stored",
            "seconds": query_seconds(model, cache, q_index, tiled(g_feats, y), cfg, device, repeats),
        }
        for y in large
    ]
    measured = {y: pairwise_query_seconds(model, cache, q_index, g_indices[:y], cfg, device) for y in sizes}
    rows += [{"Y": y, "scheme": "pair-wise", "seconds": t} for y, t in measured.items()]
    largest = max(sizes)
    rows += [
        {"Y": y, "scheme": "pair-wise, extrapolated", "seconds": measured[largest] / largest * y}
        for y in sorted({largest, *large})
    ]
    return rows


def query_times_by_scheme(rows: Sequence[Mapping]) -> dict[str, dict[int, float]]:
    """{scheme: {Y: seconds}} from `measure_query_times` rows, also as read back from a CSV (strings)."""
    by_scheme: dict[str, dict[int, float]] = {}
    for row in rows:
        by_scheme.setdefault(str(row["scheme"]), {})[int(row["Y"])] = float(row["seconds"])
    return by_scheme


def plot_query_time(
    once: Mapping[int, float],
    pairwise: Mapping[int, float],
    pairwise_extrapolated: Mapping[int, float] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Seconds per query against gallery size Y (log-log): pre-computed gallery features
    (``once``), pair-wise extraction as measured (``pairwise``) and, dashed, extrapolated from the
    measured time per pair (``pairwise_extrapolated``). Each maps Y to seconds."""
    curves = {
        ONCE_LABEL: (once, "o-"),
        PAIRWISE_LABEL: (pairwise, "s-"),
        "pair-wise, extrapolated": (pairwise_extrapolated or {}, "--"),
    }
    if not once or not pairwise:
        raise ValueError("plot_query_time needs measured times for both schemes")
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for label, (times, style) in curves.items():
        if not times:
            continue
        sizes = sorted(times)
        seconds = [times[y] for y in sizes]
        if min(sizes) < 1 or min(seconds) <= 0:
            raise ValueError(f"{label}: gallery sizes must be >= 1 and times > 0")
        colour = "C1" if label.startswith("pair-wise") else "C0"
        ax.plot(sizes, seconds, style, color=colour, markersize=4, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("gallery size Y")
    ax.set_ylabel("seconds per query")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig
