"""One tracklet's decoded frames -> the two cached arrays: resized RGB and quantised flow (paper §4.2).

This is the work the cache does once per frame; `transforms.model_input` turns its output
into the model's five channels at load time.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from stsrn_lite.preprocess.flow import ITERATIONS, MIN_EIGENVALUE, SIGMA, WINDOW, sequence_flow
from stsrn_lite.preprocess.transforms import FRAME_HW, quantise_flow, resize_frame

_BLOCK = 8  # frames per block of work (fits flow._MAX_PAIRS pairs)


def preprocess_tracklet(
    frames_rgb: Sequence[np.ndarray] | np.ndarray,
    *,
    window: int = WINDOW,
    sigma: float = SIGMA,
    min_eigenvalue: float = MIN_EIGENVALUE,
    iterations: int = ITERATIONS,
) -> tuple[np.ndarray, np.ndarray]:
    """Resize every frame, then compute and quantise the Lucas–Kanade flow between neighbours.

    Steps (the original's versions: prepareDataset.lua and computeOpticalFlow.m):

    1. `resize_frame` to 64×48 (area averaging when shrinking, as Torch7's image.scale).
    2. grey = Y = 0.299 R + 0.587 G + 0.114 B of the resized uint8 frame, on the 0..255 scale
       of the original's ``double(rgb2gray(frame))`` (which MATLAB rounds to integers; we keep
       the fraction).
    3. `sequence_flow` on the 64×48 grey frames: the first frame gets zero flow.
    4. `quantise_flow`: int8 steps of ``FLOW_STEP`` px, saturating at ``FLOW_CLIP``.

    Unlike the original, the flow is computed at the model's 64×48 resolution, not at the
    frame's original size, so it is in pixels of the 64×48 frame (for 128×64 frames, 0.75 of
    the original's horizontal and 0.5 of its vertical pixels). The "standard" per-frame,
    per-channel normalisation removes that unit; "mclaughlin" keeps its square root.

    Args:
        frames_rgb: T frames, each (H, W, 3) uint8 RGB at its original size (sizes may differ);
            a list or a (T, H, W, 3) array.
        window, sigma, min_eigenvalue, iterations: Lucas–Kanade options, see
            `stsrn_lite.preprocess.flow.dense_lucas_kanade`.

    Returns:
        rgb: (T, 3, 64, 48) uint8, the resized frames, channels first.
        flow: (T, 2, 64, 48) int8, (u, v) from frame t-1 to frame t in ``FLOW_STEP`` units.
    """
    T = len(frames_rgb)
    if T == 0:
        raise ValueError("preprocess_tracklet got no frames")
    h, w = FRAME_HW
    rgb = np.empty((T, 3, h, w), np.uint8)  # (T, 3, H, W)
    flow_q = np.empty((T, 2, h, w), np.int8)  # (T, 2, H, W)
    # Blocks of _BLOCK frames keep every temporary small (see flow._MAX_PAIRS).
    grey = np.empty((_BLOCK + 1, h, w), np.float32)  # (1 + frames of the block, H, W)
    resized = np.empty((_BLOCK, h, w, 3), np.uint8)  # (frames of the block, H, W, 3)
    for start in range(0, T, _BLOCK):
        n = min(_BLOCK, T - start)
        for i in range(n):
            resized[i] = resize_frame(frames_rgb[start + i])
            # OpenCV's float RGB2GRAY is 0.299 R + 0.587 G + 0.114 B, unrounded.
            cv2.cvtColor(resized[i].astype(np.float32), cv2.COLOR_RGB2GRAY, dst=grey[1 + i])
        # grey[0] holds the previous block's last frame; the tracklet's first frame has none.
        sequence = grey[: 1 + n] if start > 0 else grey[1 : 1 + n]
        flow = sequence_flow(
            sequence, window=window, sigma=sigma, min_eigenvalue=min_eigenvalue, iterations=iterations
        )  # (len(sequence), 2, H, W) float32, px
        flow_q[start : start + n] = quantise_flow(flow[-n:])  # (n, 2, H, W)
        rgb[start : start + n] = resized[:n].transpose(0, 3, 1, 2)
        grey[0] = grey[n]
    return rgb, flow_q
