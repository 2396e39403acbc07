"""How our Lucas–Kanade flow compares with other methods on a known shift (chapter 02; paper §4.2).

- `shifted_pair`: a grey frame pair with a known sub-pixel shift;
- `opencv_flows`: OpenCV's own flows on it (Farnebäck, DIS, pyramidal LK);
- `mode_flows`: each flow mode's cached flow for a pair of frames at their stored size, and
  OpenCV's flows computed there and resized the same way, all in px of the stored frame;
- `endpoint_error`: the endpoint error of a flow against the true shift.

Flow is (2, H, W) with u (horizontal, +x right) then v (vertical, +y down), in pixels, the
convention of `stsrn_lite.preprocess.flow`.
"""

from __future__ import annotations

import cv2
import numpy as np

from stsrn_lite.preprocess.flow import FLOW_MODES
from stsrn_lite.preprocess.frames import flow_field
from stsrn_lite.preprocess.transforms import FRAME_HW, resize_flow, resize_frame


def shifted_pair(
    shift: tuple[float, float], hw: tuple[int, int] = FRAME_HW, *, blur: float = 2.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two grey frames of blurred noise, the second moved by ``shift`` = (u, v) px exactly.

    The texture is periodic and band-limited (white noise blurred by a Gaussian of std ``blur``
    px, in the Fourier domain), so a phase ramp moves it by any sub-pixel amount without
    interpolation error; the frames are the centre of a canvas twice their size, so nothing wraps
    into view. ``nxt(x + u, y + v) = prev(x, y)``, the flow convention of
    `stsrn_lite.preprocess.flow`.

    Returns:
        prev, nxt: (H, W) uint8, 0..255 (rounded: OpenCV's flows take 8-bit frames).
    """
    H, W = hw
    canvas = (2 * H, 2 * W)
    spectrum = np.fft.fft2(np.random.default_rng(seed).standard_normal(canvas))  # (2H, 2W)
    ky = np.fft.fftfreq(canvas[0])[:, None]  # cycles per pixel
    kx = np.fft.fftfreq(canvas[1])[None, :]
    spectrum *= np.exp(-2 * (np.pi * blur) ** 2 * (kx**2 + ky**2))  # Gaussian blur

    def frame(dx: float, dy: float) -> np.ndarray:
        moved = np.fft.ifft2(spectrum * np.exp(-2j * np.pi * (kx * dx + ky * dy))).real  # f(x - d)
        return moved[H // 2 : H // 2 + H, W // 2 : W // 2 + W]

    prev, nxt = frame(0.0, 0.0), frame(*shift)
    low, high = prev.min(), prev.max()
    return tuple(np.clip(np.rint(20 + 215 * (f - low) / (high - low)), 0, 255).astype(np.uint8) for f in (prev, nxt))


def opencv_flows(prev: np.ndarray, nxt: np.ndarray) -> dict[str, np.ndarray]:
    """OpenCV's dense flows from ``prev`` to ``nxt`` ((H, W) uint8), each (2, H, W) float32.

    - "OpenCV pyramidal LK": ``calcOpticalFlowPyrLK`` at every pixel, 5×5 window (as ours),
      3 pyramid levels; pixels it loses get NaN;
    - "OpenCV Farnebäck": ``calcOpticalFlowFarneback``, 3 levels, 9-pixel window;
    - "OpenCV DIS": ``DISOpticalFlow`` with the MEDIUM preset at full resolution (finest scale
      0), when this OpenCV build has it.
    """
    H, W = prev.shape
    ys, xs = np.mgrid[0:H, 0:W]
    points = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32).reshape(-1, 1, 2)  # (H·W, 1, 2)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 0.01)
    moved, status, _ = cv2.calcOpticalFlowPyrLK(prev, nxt, points, None, winSize=(5, 5), maxLevel=3, criteria=criteria)
    lk = (moved - points).reshape(H, W, 2).transpose(2, 0, 1).copy()  # (2, H, W)
    lk[:, status.reshape(H, W) == 0] = np.nan
    flows = {"OpenCV pyramidal LK": lk}
    farneback = cv2.calcOpticalFlowFarneback(
        prev, nxt, None, pyr_scale=0.5, levels=3, winsize=9, iterations=3, poly_n=5, poly_sigma=1.1, flags=0
    )
    flows["OpenCV Farnebäck"] = farneback.transpose(2, 0, 1)
    if hasattr(cv2, "DISOpticalFlow_create"):
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        dis.setFinestScale(0)
        flows["OpenCV DIS"] = dis.calc(prev, nxt, None).transpose(2, 0, 1)
    return flows


def mode_flows(prev: np.ndarray, nxt: np.ndarray, *, opencv: bool = True) -> dict[str, np.ndarray]:
    """The flow of every mode of `FLOW_MODES` for a grey pair at its stored size, as the cache
    makes it before its int8 steps, and OpenCV's flows (`opencv_flows`) at the stored size,
    resized to 64×48 like the "original" mode's.

    Every flow is (2, 64, 48) float32 in px **of the stored frame**, so all estimate the same
    motion: the "resized" mode's flow, in px of the 64×48 frame, is scaled by (W/48, H/64).

    Args:
        prev, nxt: (H, W) uint8 grey frames as stored (e.g. 128×64).
    """
    H, W = prev.shape
    h, w = FRAME_HW
    small = [resize_frame(np.repeat(f[..., None], 3, axis=2))[..., 0] for f in (prev, nxt)]  # as the cache
    flows = {}
    for mode in FLOW_MODES:
        if FLOW_MODES[mode].resolution == "resized":
            flow = flow_field(np.stack(small).astype(np.float32), mode)[1]  # px of the 64×48 frame
            flows[mode] = flow * np.array([W / w, H / h], np.float32)[:, None, None]
        else:
            flows[mode] = flow_field(np.stack([prev, nxt]).astype(np.float32), mode)[1]
    if opencv:
        for name, flow in opencv_flows(prev, nxt).items():
            flows[f"{name}, resized"] = resize_flow(np.ascontiguousarray(flow[None], np.float32))[0]
    return flows


def endpoint_error(flow: np.ndarray, truth: tuple[float, float], *, border: int = 6) -> np.ndarray:
    """Endpoint error |flow - truth| in px at every pixel at least ``border`` px from the edge,
    as a flat array without the NaN of pixels a method lost."""
    flow = np.asarray(flow, np.float64)[:, border:-border, border:-border]  # (2, h, w)
    error = np.hypot(flow[0] - truth[0], flow[1] - truth[1]).ravel()
    return error[np.isfinite(error)]
