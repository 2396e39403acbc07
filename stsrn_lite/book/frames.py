"""Display helpers for the book's data and preprocessing notebooks (paper §4.1-4.2).

- frames of a tracklet as rows of an image grid (`tracklet_frames`, `identity_rows`, `plot_frame_rows`);
- optical flow as colours (`flow_to_rgb`, `flow_colour_wheel`) and as arrows (`plot_flow_arrows`);
- a grey frame pair with a known sub-pixel shift (`shifted_pair`), OpenCV's own flows on it
  (`opencv_flows`) and the endpoint error against the truth (`endpoint_error`), to set our
  Lucas–Kanade beside other methods.

Nothing here is used by the library; the notebooks import it. Shapes: T frames, H×W pixels;
flow is (2, H, W) with u (horizontal, +x right) then v (vertical, +y down), in pixels, the
convention of `stsrn_lite.preprocess.flow`.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from stsrn_lite.data.tracklet import Tracklet, VideoReIDDataset
from stsrn_lite.preprocess.cache import decode_frame


def evenly_spaced(length: int, count: int) -> np.ndarray:
    """``count`` frame indices spread evenly over ``range(length)`` (fewer if the tracklet is short)."""
    if length < 1 or count < 1:
        raise ValueError(f"length and count must be >= 1, got {length} and {count}")
    return np.unique(np.linspace(0, length - 1, min(count, length)).round().astype(int))


def tracklet_frames(tracklet: Tracklet, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``count`` evenly spaced frames of ``tracklet`` (all of them if None).

    Returns:
        frames (K, H, W, 3) uint8 RGB and their indices (K,) within the tracklet.
    """
    indices = np.arange(tracklet.length) if count is None else evenly_spaced(tracklet.length, count)
    return np.stack([decode_frame(tracklet.frames[i]) for i in indices]), indices


def identity_rows(
    dataset: VideoReIDDataset, pid: int, count: int = 8, max_cameras: int | None = None
) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """Frames of ``pid`` for `plot_frame_rows`: one row per camera that saw the person (its
    first tracklet there; the first ``max_cameras`` cameras), ``count`` evenly spaced frames,
    titled by frame index."""
    rows, labels = {}, {}
    for camid, camera in enumerate(dataset.cameras):
        tracklets = [t for t in dataset.tracklets if t.pid == pid and t.camid == camid]
        if tracklets and (max_cameras is None or len(rows) < max_cameras):
            frames, indices = tracklet_frames(tracklets[0], count)
            name = f"{camera} ({tracklets[0].length} frames)"
            rows[name], labels[name] = frames, [f"frame {i}" for i in indices]
    if not rows:
        raise KeyError(f"{dataset.name}: no tracklet of pid {pid}")
    return rows, labels


def plot_frame_rows(
    rows: dict[str, Sequence[np.ndarray]],
    labels: dict[str, Sequence[str]] | None = None,
    *,
    frame_height: float = 1.3,
    cmap: str | None = None,
) -> Figure:
    """One row of images per entry of ``rows`` (label -> images), left-aligned, axes hidden.

    Args:
        rows: row label -> K images, each (H, W, 3) uint8 RGB or (H, W) grey; rows may differ in K.
        labels: row label -> K small titles over the images (e.g. frame numbers).
        frame_height: height of one row in inches.
        cmap: colour map of grey images (default "gray").
    """
    columns = max(len(images) for images in rows.values())
    first = next(iter(rows.values()))[0]
    aspect = first.shape[1] / first.shape[0]
    fig, axes = plt.subplots(
        len(rows),
        columns,
        squeeze=False,
        figsize=(columns * frame_height * aspect * 1.1 + 0.8, len(rows) * frame_height * 1.15),
    )
    for axes_row, (name, images) in zip(axes, rows.items()):
        for column, ax in enumerate(axes_row):
            ax.set_xticks([])
            ax.set_yticks([])
            if column >= len(images):
                ax.set_visible(False)
                continue
            image = images[column]
            ax.imshow(image, cmap=(cmap or "gray") if image.ndim == 2 else None)
            if labels and name in labels:
                ax.set_title(labels[name][column], fontsize=8)
        axes_row[0].set_ylabel(name, fontsize=9)
    fig.tight_layout()
    return fig


def flow_to_rgb(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Flow (2, H, W) as an (H, W, 3) uint8 image: hue = direction, saturation = magnitude.

    Still pixels are white; a flow of ``max_magnitude`` px or more is fully saturated (default:
    the largest magnitude in ``flow``). Directions follow `flow_colour_wheel`. NaN (a pixel a
    method lost) is drawn white, like zero flow.
    """
    flow = np.asarray(flow, np.float32)
    if flow.ndim != 3 or flow.shape[0] != 2:
        raise ValueError(f"flow must be (2, H, W), got shape {flow.shape}")
    flow = np.nan_to_num(flow, nan=0.0)
    magnitude, angle = cv2.cartToPolar(flow[0], flow[1], angleInDegrees=True)  # (H, W) each
    top = float(magnitude.max()) if max_magnitude is None else float(max_magnitude)
    hsv = np.empty(flow.shape[1:] + (3,), np.uint8)  # (H, W, 3), OpenCV's 8-bit HSV: hue in 0..179
    hsv[..., 0] = (angle / 2).astype(np.uint8) % 180
    hsv[..., 1] = np.clip(255 * magnitude / max(top, 1e-9), 0, 255).astype(np.uint8)
    hsv[..., 2] = 255
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def flow_colour_wheel(size: int = 61, max_magnitude: float = 1.0) -> np.ndarray:
    """The key of `flow_to_rgb`: the colour of every flow vector up to ``max_magnitude`` px,
    (size, size, 3) uint8, +x to the right and +y down as in the images; white outside the disc."""
    r = np.linspace(-max_magnitude, max_magnitude, size, dtype=np.float32)
    v, u = np.meshgrid(r, r, indexing="ij")  # (size, size): rows are y, columns x
    wheel = flow_to_rgb(np.stack([u, v]), max_magnitude)
    wheel[np.hypot(u, v) > max_magnitude] = 255
    return wheel


def plot_flow_arrows(
    ax: Axes, image: np.ndarray, flow: np.ndarray, *, step: int = 4, gain: float = 3.0, colour: str = "yellow"
) -> None:
    """Draw ``image`` and the flow (2, H, W) as arrows every ``step`` pixels, ``gain`` times
    their length (sub-pixel flows would be invisible at their true length)."""
    H, W = flow.shape[1:]
    ys, xs = np.mgrid[step // 2 : H : step, step // 2 : W : step]  # (h, w) grid of arrow tails
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
    ax.quiver(
        xs,
        ys,
        flow[0, ys, xs],
        flow[1, ys, xs],
        color=colour,
        angles="xy",
        scale_units="xy",
        scale=1.0 / gain,
        width=0.012,
        headwidth=3.5,
        headlength=4,
    )
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
