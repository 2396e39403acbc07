"""Colour-histogram matcher: the hand-crafted baseline that calibrates the benchmark's difficulty.

The hand-crafted rows of the paper's Table 1 (§4.3) build on hand-designed colour and texture
descriptors. This is the simplest, colour-only member of that family, kept strong enough not
to be a straw man:

- per frame, a joint HSV (or RGB, or grey-level) histogram in each of `n_stripes` horizontal
  stripes, with pixels weighted by a Gaussian across the width (the person is centred in the
  box, the background sits at the sides — the kernel weighting of SDALF-style descriptors);
- each stripe histogram L1-normalised, the frame histograms averaged over the tracklet;
- query-gallery distances (Bhattacharyya, L1 or chi-square), and the CMC rank-1 rate.

Shapes: T frames, H×W pixels, S stripes, D = S × bins feature size, Q queries, G gallery items.
"""

from __future__ import annotations

import cv2
import numpy as np

SPACES = ("hsv", "rgb", "grey")
METRICS = ("bhattacharyya", "l1", "chi2")
# the strongest setting the book found on the synthetic benchmark (chapter 01): the floor of
# every results table (`stsrn_lite.book.floors`) and the footage's second matcher
STRONGEST = {"space": "hsv", "bins": (16, 4, 4), "n_stripes": 6}
STRONGEST_METRIC = "chi2"


def _bin_index(frames: np.ndarray, space: str, bins: tuple[int, ...]) -> np.ndarray:
    """Joint bin index of every pixel, (T, H, W) int64."""
    T, H, W, _ = frames.shape
    stacked = frames.reshape(T * H, W, 3)  # (T*H, W, 3)
    if space == "grey":
        grey = cv2.cvtColor(stacked, cv2.COLOR_RGB2GRAY).astype(np.int64)  # (T*H, W)
        return (grey * bins[0] // 256).reshape(T, H, W)
    if space == "hsv":
        hsv = cv2.cvtColor(stacked, cv2.COLOR_RGB2HSV).astype(np.int64)  # H in 0..179
        ch = (hsv[..., 0] * bins[0] // 180, hsv[..., 1] * bins[1] // 256, hsv[..., 2] * bins[2] // 256)
    else:
        rgb = stacked.astype(np.int64)
        ch = tuple(rgb[..., i] * bins[i] // 256 for i in range(3))
    return ((ch[0] * bins[1] + ch[1]) * bins[2] + ch[2]).reshape(T, H, W)


def tracklet_histogram(
    frames: np.ndarray,
    *,
    space: str = "hsv",
    bins: tuple[int, ...] = (8, 4, 4),
    n_stripes: int = 6,
    centre_sigma: float | None = 0.3,
) -> np.ndarray:
    """Stripe colour histogram of a tracklet.

    Args:
        frames: (T, H, W, 3) uint8 RGB.
        space: "hsv", "rgb" (three bin counts) or "grey" (one bin count).
        bins: bins per channel.
        n_stripes: horizontal stripes S (1 = a global histogram).
        centre_sigma: std of the Gaussian column weight as a fraction of W; None = uniform.

    Returns:
        (D,) float64 with D = S * prod(bins); each stripe sums to 1/S, so the whole sums to 1.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or frames.shape[0] < 1:
        raise ValueError(f"frames must be (T, H, W, 3) uint8 with T >= 1, got {frames.shape} {frames.dtype}")
    if space not in SPACES:
        raise ValueError(f"unknown colour space {space!r}; expected one of {SPACES}")
    if len(bins) != (1 if space == "grey" else 3) or min(bins) < 1:
        raise ValueError(f"bins {bins!r} do not fit space {space!r}")
    T, H, W, _ = frames.shape
    if not 1 <= n_stripes <= H:
        raise ValueError(f"n_stripes must be in 1..{H}, got {n_stripes}")
    n_bins = int(np.prod(bins))
    stripe = np.arange(H) * n_stripes // H  # (H,)
    index = (np.arange(T)[:, None, None] * n_stripes + stripe[None, :, None]) * n_bins + _bin_index(
        frames, space, tuple(bins)
    )  # (T, H, W)
    if centre_sigma is None:
        weight = np.ones(W)
    else:
        weight = np.exp(-0.5 * ((np.arange(W) + 0.5 - W / 2) / (centre_sigma * W)) ** 2)
    weights = np.broadcast_to(weight, (T, H, W))
    hist = np.bincount(index.ravel(), weights.ravel(), minlength=T * n_stripes * n_bins)
    hist = hist.reshape(T, n_stripes, n_bins)  # (T, S, bins)
    hist /= hist.sum(axis=2, keepdims=True)
    return hist.mean(axis=0).ravel() / n_stripes  # (D,)


def distance_matrix(q: np.ndarray, g: np.ndarray, metric: str = "bhattacharyya") -> np.ndarray:
    """Distances between query and gallery histograms.

    Args:
        q: (Q, D) non-negative histograms; g: (G, D).
        metric: "bhattacharyya" sqrt(1 - sum_i sqrt(q_i g_i)), "l1" sum_i |q_i - g_i|, or
            "chi2" 0.5 * sum_i (q_i - g_i)^2 / (q_i + g_i) (terms with q_i + g_i = 0 are 0).

    Returns:
        distmat (Q, G) float64.
    """
    q, g = np.asarray(q, np.float64), np.asarray(g, np.float64)
    if q.ndim != 2 or g.ndim != 2 or q.shape[1] != g.shape[1]:
        raise ValueError(f"q and g must be (Q, D) and (G, D), got {q.shape} and {g.shape}")
    if metric == "bhattacharyya":
        return np.sqrt(np.clip(1.0 - np.sqrt(q) @ np.sqrt(g).T, 0.0, None))
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")
    distmat = np.empty((q.shape[0], g.shape[0]))
    step = max(1, 2**22 // max(1, g.size))  # bound the (q, G, D) block
    for i in range(0, q.shape[0], step):
        diff = q[i : i + step, None, :] - g[None, :, :]  # (q, G, D)
        if metric == "l1":
            distmat[i : i + step] = np.abs(diff).sum(axis=2)
        else:
            total = q[i : i + step, None, :] + g[None, :, :]
            terms = np.divide(diff**2, total, out=np.zeros_like(total), where=total > 0)
            distmat[i : i + step] = 0.5 * terms.sum(axis=2)
    return distmat


def rank1(distmat: np.ndarray, q_pids: np.ndarray, g_pids: np.ndarray) -> float:
    """CMC rank-1 in %: how often the nearest gallery item has the query's pid.

    Queries whose pid is absent from the gallery are left out (as in the standard CMC).
    Ties go to the lower gallery index.
    """
    distmat, q_pids, g_pids = np.asarray(distmat), np.asarray(q_pids), np.asarray(g_pids)
    if distmat.ndim != 2 or distmat.shape != (len(q_pids), len(g_pids)):
        raise ValueError(f"distmat {distmat.shape} does not match {len(q_pids)} queries x {len(g_pids)} gallery items")
    valid = np.isin(q_pids, g_pids)
    if not valid.any():
        raise ValueError("no query pid appears in the gallery")
    nearest = g_pids[np.argmin(distmat[valid], axis=1)]
    return float(100.0 * np.mean(nearest == q_pids[valid]))
