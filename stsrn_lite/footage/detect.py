"""Finding people in frames: OpenCV's HOG people detector, checked against moving pixels.

Two detectors, both in OpenCV 4.x (`cv2.HOGDescriptor` is gone from 5.x):

- ``"hog"``: the HOG + linear-SVM people detector of Dalal and Triggs (2005) that OpenCV ships
  (`cv2.HOGDescriptor_getDefaultPeopleDetector`). Its window is 64×128 pixels with the person
  about 96 pixels tall inside, so people shorter than that are found only in an enlarged frame
  (``upscale``); its boxes have H:W = 2:1 already. Overlapping boxes are merged by greedy
  non-maximum suppression (``nms_iou``).
- ``"motion"``: the blobs of a MOG2 background model (`cv2.createBackgroundSubtractorMOG2`;
  Zivkovic 2004): each connected region of moving pixels (shadows left out) of at least
  ``min_area`` pixels is a box. Cheap and tight on a still camera, but two people walking
  together are one blob.

``"hog+motion"`` (the default) keeps the HOG boxes in which at least ``min_foreground`` of the
pixels move: a still camera's static false positives (doors, parked vans, railings) go, people
standing still for long go too. Boxes are ``(x, y, w, h)`` in pixels of the original frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from stsrn_lite.footage.track import Box, iou

METHODS = ("hog", "motion", "hog+motion")


@dataclass(frozen=True)
class DetectorConfig:
    method: str = "hog+motion"  # one of METHODS
    upscale: float = 1.5  # HOG runs on the frame enlarged this much (its window holds a ~96 px person)
    min_score: float = 0.5  # least SVM score of a HOG detection
    win_stride: int = 8  # HOG's window step, pixels
    pyramid_scale: float = 1.05  # ratio of successive scales HOG searches
    nms_iou: float = 0.3  # HOG boxes overlapping a better one by more than this are dropped
    min_foreground: float = 0.15  # "hog+motion": share of a box's pixels that must move
    min_area: int = 400  # "motion": least pixels of a blob, in the original frame
    history: int = 200  # frames the MOG2 background model remembers

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown detector method {self.method!r}; expected one of {METHODS}")
        if self.upscale <= 0 or not 0 < self.nms_iou <= 1 or not 0 <= self.min_foreground <= 1:
            raise ValueError("upscale must be > 0, nms_iou in (0, 1] and min_foreground in [0, 1]")


def non_maximum_suppression(boxes: np.ndarray, scores: np.ndarray, max_iou: float) -> list[int]:
    """Indices of the boxes (M, 4) kept by greedy NMS: best score first, dropping every box that
    overlaps a kept one by more than ``max_iou``."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    kept: list[int] = []
    for index in order:
        if not kept or iou(boxes[[index]], boxes[kept]).max() <= max_iou:
            kept.append(int(index))
    return kept


def hog_people(frame: np.ndarray, config: DetectorConfig, hog: cv2.HOGDescriptor | None = None) -> list[Box]:
    """HOG people boxes of a BGR ``frame`` (H, W, 3) uint8, after NMS, best first."""
    if hog is None:
        hog = cv2.HOGDescriptor()
        hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    image = cv2.resize(frame, None, fx=config.upscale, fy=config.upscale) if config.upscale != 1 else frame
    stride = (config.win_stride, config.win_stride)
    rects, weights = hog.detectMultiScale(image, winStride=stride, padding=(8, 8), scale=config.pyramid_scale)
    if len(rects) == 0:
        return []
    boxes = np.asarray(rects, dtype=np.float64) / config.upscale  # (M, 4) in the original frame
    scores = np.asarray(weights, dtype=np.float64).ravel()
    good = scores >= config.min_score
    boxes, scores = boxes[good], scores[good]
    return [tuple(boxes[i]) for i in non_maximum_suppression(boxes, scores, config.nms_iou)]


def foreground_blobs(mask: np.ndarray, min_area: int) -> list[Box]:
    """Bounding boxes of the connected regions of a foreground ``mask`` (H, W; 255 = moving) with
    at least ``min_area`` pixels, left to right."""
    moving = (mask == 255).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
    boxes = [tuple(float(v) for v in stats[i, :4]) for i in range(1, count) if stats[i, 4] >= min_area]
    return sorted(boxes)


def moving_share(mask: np.ndarray, box: Box) -> float:
    """Share of ``box``'s pixels that ``mask`` marks as moving (255)."""
    height, width = mask.shape
    x, y, w, h = box
    left, top = max(int(round(x)), 0), max(int(round(y)), 0)
    right, bottom = min(int(round(x + w)), width), min(int(round(y + h)), height)
    if right <= left or bottom <= top:
        return 0.0
    return float((mask[top:bottom, left:right] == 255).mean())


def detect(
    frames: Iterable[np.ndarray], config: DetectorConfig | None = None
) -> Iterator[tuple[list[Box], np.ndarray | None]]:
    """(the boxes, the motion mask) of every frame of ``frames`` (BGR uint8, in temporal order):
    the mask is MOG2's (H, W) uint8 (255 moving, 127 shadow, 0 still), None for ``"hog"``. The
    background model learns from every frame, so ``frames`` must be the video's, in order."""
    config = config or DetectorConfig()
    hog = None
    if config.method != "motion":
        hog = cv2.HOGDescriptor()
        hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    background = None
    if config.method != "hog":
        background = cv2.createBackgroundSubtractorMOG2(history=config.history, detectShadows=True)
    for frame in frames:
        mask = background.apply(frame) if background is not None else None
        if config.method == "motion":
            yield foreground_blobs(mask, config.min_area), mask
            continue
        boxes = hog_people(frame, config, hog)
        if config.method == "hog+motion":
            boxes = [box for box in boxes if moving_share(mask, box) >= config.min_foreground]
        yield boxes, mask
