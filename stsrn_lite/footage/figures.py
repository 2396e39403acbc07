"""Pictures of the footage pipeline: detections on a frame, tracks over time, tracklet strips
(the contact sheet) and ranked galleries. Each function returns a matplotlib Figure; `jpeg`
encodes one compactly, for the photographs that would make a notebook's PNGs large."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from stsrn_lite.footage.track import Box, Track

CROPS_PER_STRIP = 8  # frames shown of each tracklet, evenly spaced over it


def jpeg(figure: Figure, quality: int = 85, dpi: int = 100) -> bytes:
    """``figure`` drawn at ``dpi`` and encoded as JPEG (closed afterwards)."""
    figure.set_dpi(dpi)
    figure.canvas.draw()
    rgba = np.asarray(figure.canvas.buffer_rgba())  # (H, W, 4)
    plt.close(figure)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode the figure as JPEG")
    return data.tobytes()


def _colour(track_id: int) -> tuple[float, float, float]:
    return plt.get_cmap("tab20")(track_id % 20)[:3]


def draw_boxes(frame: np.ndarray, boxes: Sequence[Box], labels: Sequence[str] | None = None) -> np.ndarray:
    """A copy of a BGR ``frame`` with ``boxes`` drawn (and their labels above them), for a video."""
    out = frame.copy()
    for i, (x, y, w, h) in enumerate(boxes):
        colour = tuple(int(255 * c) for c in reversed(_colour(i if labels is None else int(labels[i]))))
        cv2.rectangle(out, (int(x), int(y)), (int(x + w), int(y + h)), colour, 2)
        if labels is not None:
            cv2.putText(out, str(labels[i]), (int(x), max(int(y) - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 2)
    return out


def detections_figure(frame: np.ndarray, boxes: Sequence[Box], title: str = "") -> Figure:
    """One BGR frame with its detected boxes."""
    figure, axis = plt.subplots(figsize=(7, 5.25))
    axis.imshow(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    for x, y, w, h in boxes:
        axis.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor="lime", linewidth=1.5))
    axis.set_title(title, fontsize=9)
    axis.axis("off")
    figure.tight_layout()
    return figure


def timeline_figure(tracks: Sequence[Track], title: str = "") -> Figure:
    """Each track as a bar from its first to its last frame (its detections as ticks)."""
    figure, axis = plt.subplots(figsize=(7, max(2.0, 0.22 * len(tracks) + 1)))
    for t in tracks:
        axis.plot([t.start, t.end], [t.track_id, t.track_id], color=_colour(t.track_id), linewidth=4, alpha=0.5)
        axis.plot(t.frames, [t.track_id] * len(t), "|", color=_colour(t.track_id), markersize=4)
    axis.set_xlabel("frame")
    axis.set_ylabel("track")
    axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    axis.invert_yaxis()
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    return figure


def _strip(crops: np.ndarray, count: int = CROPS_PER_STRIP) -> np.ndarray:
    """``count`` crops evenly spaced over a tracklet (T, H, W, 3), side by side: (H, count·W, 3)."""
    picks = np.linspace(0, len(crops) - 1, min(count, len(crops))).round().astype(int)
    return np.concatenate([crops[i] for i in picks], axis=1)


def contact_sheet(tracklets: Mapping[int, np.ndarray], tracks: Sequence[Track], columns: int = 2) -> Figure:
    """Every tracklet as a strip of crops, labelled with its track id and frames."""
    spans = {t.track_id: (t.start, t.end) for t in tracks}
    ids = list(tracklets)
    rows = int(np.ceil(len(ids) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(7, 1.1 * rows + 0.3), squeeze=False)
    for axis in axes.ravel():
        axis.axis("off")
    for axis, track_id in zip(axes.T.ravel(), ids):  # down the first column, then the next
        axis.imshow(_strip(tracklets[track_id]))
        start, end = spans[track_id]
        axis.set_title(f"track {track_id}: frames {start}-{end}", fontsize=7, loc="left")
    figure.tight_layout(pad=0.3)
    return figure


def ranking_figure(
    query: int,
    ranked: Sequence[tuple[int, float]],
    tracklets: Mapping[int, np.ndarray],
    *,
    top: int = 5,
    person: Mapping[int, str] | None = None,
    title: str = "",
) -> Figure:
    """A query tracklet, then its ``top`` nearest gallery tracklets (a middle crop of each, with
    its track id and distance); a green frame marks the same person where ``person`` says so."""
    shown = list(ranked[:top])
    figure, axes = plt.subplots(1, len(shown) + 1, figsize=(1.1 * (len(shown) + 1) + 0.4, 2.2))
    for axis, (track_id, distance) in zip(axes, [(query, None), *shown]):
        crops = tracklets[track_id]
        axis.imshow(crops[len(crops) // 2])
        axis.set_xticks([])
        axis.set_yticks([])
        label = f"query {track_id}" if distance is None else f"{track_id}\nd = {distance:.3g}"
        axis.set_title(label, fontsize=7)
        known = person is not None and distance is not None and person.get(query) is not None
        same = known and person.get(track_id) == person.get(query)
        for spine in axis.spines.values():
            spine.set_edgecolor("green" if same else ("black" if distance is None else "lightgrey"))
            spine.set_linewidth(3 if same or distance is None else 1)
    figure.suptitle(title, fontsize=8)
    figure.tight_layout()
    return figure
