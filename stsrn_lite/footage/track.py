"""Tracking by detection: people's boxes, frame after frame, joined into tracks.

The step between a detector and a re-identification model that every "run it on my own video"
answer names (issue "Re-identify people in real footage"): each frame's detections are assigned
to the live tracks by the Hungarian algorithm (`scipy.optimize.linear_sum_assignment`) on the
cost 1 − IoU against each track's last box, plus, when the detections come with appearance
features, ``appearance`` times the Bhattacharyya distance between a detection's colour histogram
and the track's running mean of them (so that two people crossing keep their tracks). A pair is
no match when its IoU is below ``min_iou``, its appearance distance above ``max_appearance``, or
the box jumps: its centre moved more than ``max_jump`` box heights per frame since the track's
last box, or its height changed by more than ``max_scale`` times (two people, or a detector's
mistake). A detection left over starts a track; a track without a match for more than
``max_gap`` frames ends. Tracks shorter than ``min_length`` detections are dropped at the end.

Boxes are ``(x, y, w, h)`` in pixels, x and y the top-left corner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

Box = tuple[float, float, float, float]  # (x, y, w, h) in pixels, top-left corner


@dataclass(frozen=True)
class TrackerConfig:
    """The tracker's rules. ``min_iou`` and ``max_appearance`` were chosen on ``vtest.avi`` against
    the people labelled by eye (`stsrn_lite.footage.labels.track_purity`; chapter 15): the loosest
    rules under which the labels witness no identity switch (looser ones join a couple walking
    together into one track), at the cost of more, shorter tracks."""

    min_iou: float = 0.4  # least IoU of a detection with a track's last box to continue it
    max_gap: int = 5  # frames a track may go unmatched (missed detections) before it ends
    min_length: int = 8  # detections of a kept track (a tracklet of fewer frames is dropped)
    max_jump: float = 0.5  # largest move of the box centre, in box heights per frame since the last box
    max_scale: float = 1.5  # largest ratio of two consecutive box heights of one track
    appearance: float = 1.0  # weight of the appearance distance in the cost (0: boxes only)
    max_appearance: float = 0.35  # largest Bhattacharyya distance of a detection to its track's appearance
    memory: float = 0.8  # a track's appearance: m · itself + (1 − m) · each new detection's

    def __post_init__(self) -> None:
        if not 0 < self.min_iou <= 1:
            raise ValueError(f"min_iou must lie in (0, 1], got {self.min_iou}")
        if self.max_gap < 0 or self.min_length < 1:
            raise ValueError(f"max_gap must be >= 0 and min_length >= 1, got {self.max_gap}, {self.min_length}")
        if self.max_jump <= 0 or self.max_scale < 1:
            raise ValueError(f"max_jump must be > 0 and max_scale >= 1, got {self.max_jump}, {self.max_scale}")


@dataclass
class Track:
    """One person's boxes over the frames where they were detected (frames increase)."""

    track_id: int
    frames: list[int] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    appearance: np.ndarray | None = field(default=None, repr=False)  # running mean of its detections' features

    @property
    def start(self) -> int:
        return self.frames[0]

    @property
    def end(self) -> int:
        return self.frames[-1]

    def __len__(self) -> int:
        return len(self.frames)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` (M, 4) with every box of ``b`` (K, 4), (x, y, w, h) each: (M, K)."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 4), np.asarray(b, dtype=np.float64).reshape(-1, 4)
    left = np.maximum(a[:, None, 0], b[None, :, 0])
    top = np.maximum(a[:, None, 1], b[None, :, 1])
    right = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
    bottom = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)  # (M, K)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _plausible(last: Box, box: Box, frames_apart: int, config: TrackerConfig) -> bool:
    """Whether ``box`` can be the same person as ``last``, ``frames_apart`` frames later."""
    (x0, y0, w0, h0), (x1, y1, w1, h1) = last, box
    move = np.hypot((x1 + w1 / 2) - (x0 + w0 / 2), (y1 + h1 / 2) - (y0 + h0 / 2))
    scale = max(h0, h1) / max(min(h0, h1), 1e-9)
    return move <= config.max_jump * max(h0, h1) * frames_apart and scale <= config.max_scale


def bhattacharyya(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bhattacharyya distances sqrt(1 − Σ sqrt(p q)) between the rows of ``a`` (M, D) and ``b``
    (K, D), each row normalised to sum 1: (M, K) in [0, 1]."""
    a = a / np.maximum(a.sum(1, keepdims=True), 1e-12)
    b = b / np.maximum(b.sum(1, keepdims=True), 1e-12)
    return np.sqrt(np.clip(1.0 - np.sqrt(a) @ np.sqrt(b).T, 0.0, None))


NO_MATCH = 1e6  # the cost of a pair that may not be matched


def _costs(live: list[Track], boxes: list[Box], features: np.ndarray | None, frame: int, config: TrackerConfig):
    """(cost (tracks, boxes), allowed (tracks, boxes) bool) of continuing each track with each box."""
    overlap = iou(np.array([t.boxes[-1] for t in live]), np.array(boxes))  # (tracks, boxes)
    allowed = overlap >= config.min_iou
    for r, current in enumerate(live):
        for c, box in enumerate(boxes):
            allowed[r, c] &= _plausible(current.boxes[-1], box, frame - current.end, config)
    cost = 1.0 - overlap
    if features is not None and config.appearance > 0:
        memory = np.stack([t.appearance for t in live])  # (tracks, D)
        distance = bhattacharyya(memory, features)  # (tracks, boxes)
        allowed &= distance <= config.max_appearance
        cost = cost + config.appearance * distance
    return np.where(allowed, cost, NO_MATCH), allowed


def track(
    detections: Sequence[Sequence[Box]],
    config: TrackerConfig | None = None,
    features: Sequence[np.ndarray] | None = None,
) -> list[Track]:
    """Tracks from ``detections[t]``, the boxes found in frame t (frames 0, 1, …), numbered from
    0 in order of their first frame; only tracks of ``config.min_length`` or more detections.
    ``features[t]`` (len(detections[t]), D), if given, describes each box's appearance (a colour
    histogram, `stsrn_lite.footage.tracklets.box_features`)."""
    config = config or TrackerConfig()
    live: list[Track] = []
    finished: list[Track] = []
    next_id = 0
    for frame, boxes in enumerate(detections):
        boxes = [tuple(float(v) for v in box) for box in boxes]
        described = None if features is None else np.asarray(features[frame], dtype=np.float64)  # (boxes, D)
        if described is not None and len(described) != len(boxes):
            raise ValueError(f"frame {frame}: {len(boxes)} boxes but {len(described)} feature rows")
        # tracks unmatched for more than max_gap frames end before this frame's assignment
        finished += [t for t in live if frame - t.end > config.max_gap + 1]
        live = [t for t in live if frame - t.end <= config.max_gap + 1]
        matched_boxes: set[int] = set()
        if live and boxes:
            cost, allowed = _costs(live, boxes, described, frame, config)
            for r, c in zip(*linear_sum_assignment(cost)):
                if not allowed[r, c]:
                    continue  # no match: the box starts a track of its own below
                current = live[r]
                current.frames.append(frame)
                current.boxes.append(boxes[c])
                if described is not None:
                    current.appearance = config.memory * current.appearance + (1 - config.memory) * described[c]
                matched_boxes.add(c)
        for c, box in enumerate(boxes):
            if c not in matched_boxes:
                live.append(Track(next_id, [frame], [box], None if described is None else described[c].copy()))
                next_id += 1
    finished += live
    kept = sorted((t for t in finished if len(t) >= config.min_length), key=lambda t: (t.start, t.track_id))
    for number, kept_track in enumerate(kept):  # ids without the gaps left by dropped tracks
        kept_track.track_id = number
    return kept
