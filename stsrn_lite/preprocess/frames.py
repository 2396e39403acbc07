"""One tracklet's decoded frames -> the two cached arrays: resized RGB and quantised flow (paper §4.2).

This is the work the cache does once per frame; `transforms.model_input` turns its output
into the model's five channels at load time. How the flow is made is a `FlowConfig`
(`stsrn_lite.preprocess.flow.FLOW_MODES`: "resized", ours, or "original", as the original
code computed it).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from stsrn_lite.preprocess.flow import DEFAULT_FLOW, FlowConfig, flow_config, sequence_flow
from stsrn_lite.preprocess.transforms import FRAME_HW, quantise_flow, resize_flow, resize_frame, round_like_png

_BLOCK = 8  # frames per block of work (fits flow._MAX_PAIRS pairs)


def _grey(rgb: np.ndarray, hw: tuple[int, int], integer: bool, out: np.ndarray) -> None:
    """Y = 0.299 R + 0.587 G + 0.114 B of ``rgb`` (H, W, 3) uint8 into ``out`` (h, w) float32.

    A frame of another size than ``hw`` is first area-resized to it. ``integer`` rounds to
    whole grey levels, as MATLAB's rgb2gray of a uint8 frame; else the fraction is kept.
    """
    if rgb.shape[:2] != hw:
        rgb = cv2.resize(np.ascontiguousarray(rgb), hw[::-1], interpolation=cv2.INTER_AREA)
    if integer:
        out[:] = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)  # rounded uint8
    else:
        cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2GRAY, dst=out)  # unrounded float


def _to_frame(flow: np.ndarray, cfg: FlowConfig) -> np.ndarray:
    """Steps 4a-b of `preprocess_tracklet`: (T, 2, H', W') px -> (T, 2, 64, 48) px."""
    if cfg.png:
        flow = round_like_png(flow)  # whole px in [-127, 128], as the flow PNG
    return resize_flow(flow) if cfg.resolution == "source" else flow


def flow_field(grey: np.ndarray, flow: str | FlowConfig = DEFAULT_FLOW) -> np.ndarray:
    """The flow `preprocess_tracklet` caches, before its int8 quantisation (steps 3-4).

    Args:
        grey: (T, H', W') grey frames, 0..255: 64×48 for ``resolution="resized"``, the frames
            as stored for "source".
        flow: a mode of `stsrn_lite.preprocess.flow.FLOW_MODES` or a `FlowConfig`.

    Returns:
        (T, 2, 64, 48) float32, px of the frames the flow was computed on; zero for t = 0.
    """
    cfg = flow_config(flow)
    grey = np.asarray(grey)
    if cfg.resolution == "resized" and grey.shape[1:] != FRAME_HW:
        raise ValueError(f"flow resolution 'resized' takes 64×48 grey frames, got shape {grey.shape}")
    return _to_frame(sequence_flow(grey, **cfg.lucas_kanade()), cfg)


def preprocess_tracklet(
    frames_rgb: Sequence[np.ndarray] | np.ndarray, flow: str | FlowConfig = DEFAULT_FLOW
) -> tuple[np.ndarray, np.ndarray]:
    """Resize every frame, then compute and quantise the Lucas–Kanade flow between neighbours.

    Steps (the original's versions: prepareDataset.lua and computeOpticalFlow.m):

    1. `resize_frame` to 64×48 (area averaging when shrinking, as Torch7's image.scale).
    2. grey = Y = 0.299 R + 0.587 G + 0.114 B on the 0..255 scale of the original's
       ``double(rgb2gray(frame))``: of the resized frame (``flow.resolution == "resized"``)
       or of the frame as stored ("source"; a frame whose size differs from the tracklet's
       first is area-resized to it), rounded to whole levels when ``flow.integer_grey``.
    3. `sequence_flow` on the grey frames, with ``flow``'s Lucas–Kanade options; the first
       frame gets zero flow.
    4. a. ``flow.png``: `round_like_png`, whole px in [-127, 128], as the original's 8-bit PNG;
       b. "source": `resize_flow` to 64×48, values left in px of the stored frame, as the
       original.
    5. `quantise_flow`: int8 steps of ``FLOW_STEP`` px, saturating at ``FLOW_CLIP``.

    With "resized" the flow is in pixels of the 64×48 frame (for 128×64 frames, 0.75 of the
    source's horizontal and 0.5 of its vertical pixels); with "source", in pixels of the
    stored frame. The "standard" per-frame, per-channel normalisation removes that unit;
    "mclaughlin" keeps its square root.

    Args:
        frames_rgb: T frames, each (H, W, 3) uint8 RGB at its original size (sizes may differ);
            a list or a (T, H, W, 3) array.
        flow: a mode of `stsrn_lite.preprocess.flow.FLOW_MODES` or a `FlowConfig`.

    Returns:
        rgb: (T, 3, 64, 48) uint8, the resized frames, channels first.
        flow: (T, 2, 64, 48) int8, (u, v) from frame t-1 to frame t in ``FLOW_STEP`` units.
    """
    cfg = flow_config(flow)
    T = len(frames_rgb)
    if T == 0:
        raise ValueError("preprocess_tracklet got no frames")
    h, w = FRAME_HW
    source = cfg.resolution == "source"
    grey_hw = tuple(np.shape(frames_rgb[0])[:2]) if source else FRAME_HW
    rgb = np.empty((T, 3, h, w), np.uint8)  # (T, 3, H, W)
    flow_q = np.empty((T, 2, h, w), np.int8)  # (T, 2, H, W)
    # Blocks of _BLOCK frames keep every temporary small (see flow._MAX_PAIRS).
    grey = np.empty((_BLOCK + 1, *grey_hw), np.float32)  # (1 + frames of the block, H', W')
    resized = np.empty((_BLOCK, h, w, 3), np.uint8)  # (frames of the block, H, W, 3)
    for start in range(0, T, _BLOCK):
        n = min(_BLOCK, T - start)
        for i in range(n):
            resized[i] = resize_frame(frames_rgb[start + i])
            _grey(frames_rgb[start + i] if source else resized[i], grey_hw, cfg.integer_grey, grey[1 + i])
        # grey[0] holds the previous block's last frame; the tracklet's first frame has none.
        sequence = grey[: 1 + n] if start > 0 else grey[1 : 1 + n]
        block = sequence_flow(sequence, **cfg.lucas_kanade())[-n:]  # (n, 2, H', W') float32, px
        flow_q[start : start + n] = quantise_flow(_to_frame(block, cfg))  # (n, 2, H, W)
        rgb[start : start + n] = resized[:n].transpose(0, 3, 1, 2)
        grey[0] = grey[n]
    return rgb, flow_q
