"""Tracks → tracklets: person-shaped crops in the datasets' frame size, then the model's
preprocessing.

Each box of a track becomes a crop of H:W = 2:1 (the shape of iLIDS-VID's and PRID2011's
frames): ``scale`` times the box's height, centred on the box (HOG's 64×128 window holds a
person about 96 pixels tall, so its boxes are loose), padded by repeating the border where it
leaves the frame, and resized to ``frame_hw`` (128×64, the datasets' frame size). The crops
then go through exactly the preprocessing the model was trained with
(`stsrn_lite.preprocess.frames.preprocess_tracklet`: the 64×48 resize, Lucas–Kanade flow,
quantisation; the YUV conversion and normalisation happen at input time,
`stsrn_lite.preprocess.transforms.model_input`), into an in-memory `PreprocessedCache` whose
"pids" are the track ids, so that `stsrn_lite.evaluation.features.extract_features` takes it as
it takes a dataset's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from stsrn_lite.footage.track import Box, Track
from stsrn_lite.preprocess.cache import PreprocessedCache
from stsrn_lite.preprocess.flow import DEFAULT_FLOW
from stsrn_lite.preprocess.frames import preprocess_tracklet


@dataclass(frozen=True)
class TrackletConfig:
    frame_hw: tuple[int, int] = (128, 64)  # crop size: the frames of iLIDS-VID and PRID2011
    scale: float = 0.85  # crop height as a share of the box's (HOG's boxes hold a person ~0.75 as tall)

    def __post_init__(self) -> None:
        height, width = self.frame_hw
        if height < 1 or width < 1 or self.scale <= 0:
            raise ValueError(f"frame_hw must be positive and scale > 0, got {self.frame_hw}, {self.scale}")


def person_box(box: Box, config: TrackletConfig) -> Box:
    """The 2:1 (H:W, as ``frame_hw``) crop box around ``box``: ``scale`` × its height, centred."""
    x, y, w, h = box
    height = h * config.scale
    width = height * config.frame_hw[1] / config.frame_hw[0]
    return (x + w / 2 - width / 2, y + h / 2 - height / 2, width, height)


def _crop(image: np.ndarray, box: Box, config: TrackletConfig) -> np.ndarray:
    """The person crop of ``box`` from ``image`` (H, W[, C]), resized to ``frame_hw``."""
    x, y, w, h = person_box(box, config)
    left, top = int(np.floor(x)), int(np.floor(y))
    right, bottom = int(np.ceil(x + w)), int(np.ceil(y + h))
    height, width = image.shape[:2]
    pad = max(0, -left, -top, right - width, bottom - height)
    if pad:  # the crop leaves the frame: repeat the border
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = image[top + pad : bottom + pad, left + pad : right + pad]  # (h', w'[, C])
    out_h, out_w = config.frame_hw
    return cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_AREA if h > out_h else cv2.INTER_LINEAR)


def cut(frame: np.ndarray, box: Box, config: TrackletConfig) -> np.ndarray:
    """The person crop of ``box`` from a BGR ``frame`` (H, W, 3), as RGB (frame_hw, 3) uint8."""
    return cv2.cvtColor(_crop(frame, box, config), cv2.COLOR_BGR2RGB)


# a coarse colour histogram of each detection, for the tracker's association (not for ranking):
# hue × saturation × value bins in each of a few horizontal stripes, of the moving pixels only
# where a motion mask is given (the background inside a loose box would otherwise dominate)
APPEARANCE_BINS = (8, 4, 4)
APPEARANCE_STRIPES = 3
MIN_MOVING = 0.1  # share of a crop's pixels that must move for the mask to be used


def box_features(
    frame: np.ndarray, boxes: Sequence[Box], config: TrackletConfig, mask: np.ndarray | None = None
) -> np.ndarray:
    """The appearance of each box of a BGR ``frame`` (and its motion ``mask``, 255 = moving):
    per-stripe HSV histograms of its person crop, (len(boxes), stripes · bins) float, each stripe
    summing to 1 (or 0 when empty)."""
    size = APPEARANCE_STRIPES * int(np.prod(APPEARANCE_BINS))
    rows = []
    for box in boxes:
        hsv = cv2.cvtColor(_crop(frame, box, config), cv2.COLOR_BGR2HSV)  # (H, W, 3)
        moving = None if mask is None else (_crop(mask, box, config) > 127).astype(np.uint8)  # (H, W)
        if moving is not None and moving.mean() < MIN_MOVING:
            moving = None
        row = []
        for stripe in np.array_split(np.arange(hsv.shape[0]), APPEARANCE_STRIPES):
            rows_of = slice(stripe[0], stripe[-1] + 1)
            part_mask = None if moving is None else np.ascontiguousarray(moving[rows_of])
            part = np.ascontiguousarray(hsv[rows_of])
            hist = cv2.calcHist([part], [0, 1, 2], part_mask, list(APPEARANCE_BINS), [0, 180, 0, 256, 0, 256]).ravel()
            row.append(hist / hist.sum() if hist.sum() > 0 else hist)
        rows.append(np.concatenate(row))
    return np.asarray(rows, dtype=np.float64).reshape(len(boxes), size)


def cut_tracklets(
    frames: Iterable[np.ndarray], tracks: Sequence[Track], config: TrackletConfig, start: int = 0
) -> dict[int, np.ndarray]:
    """{track id: its crops (T, H, W, 3) RGB uint8} from one pass over ``frames`` (BGR, in order;
    the first is frame ``start`` of the tracks' numbering)."""
    wanted: dict[int, list[tuple[int, Box]]] = {}
    for t in tracks:
        for frame, box in zip(t.frames, t.boxes):
            wanted.setdefault(frame, []).append((t.track_id, box))
    crops: dict[int, list[np.ndarray]] = {t.track_id: [] for t in tracks}
    last = max(wanted, default=-1)
    for frame_index, frame in enumerate(frames, start=start):
        for track_id, box in wanted.get(frame_index, ()):
            crops[track_id].append(cut(frame, box, config))
        if frame_index >= last:
            break
    missing = [t.track_id for t in tracks if len(crops[t.track_id]) != len(t)]
    if missing:
        raise ValueError(f"tracks {missing[:5]} have frames beyond the frames given")
    return {track_id: np.stack(images) for track_id, images in crops.items()}


def tracklet_cache(tracklets: dict[int, np.ndarray], flow: str = DEFAULT_FLOW) -> PreprocessedCache:
    """The preprocessed tracklets (`preprocess_tracklet`, the training's flow mode ``flow``) as an
    in-memory cache: tracklet i is the i-th of ``tracklets``, its pid the track id, camid 0."""
    if not tracklets:
        raise ValueError("no tracklets to preprocess")
    rgb, flows, offsets = [], [], [0]
    for crops in tracklets.values():
        r, f = preprocess_tracklet(crops, flow)  # (T, 3, 64, 48) uint8, (T, 2, 64, 48) int8
        rgb.append(r)
        flows.append(f)
        offsets.append(offsets[-1] + len(r))
    return PreprocessedCache(
        path=Path("<footage>"),
        rgb=np.concatenate(rgb),
        flow=np.concatenate(flows),
        offsets=np.asarray(offsets, dtype=np.int64),
        pids=np.asarray(list(tracklets), dtype=np.int64),
        camids=np.zeros(len(tracklets), dtype=np.int64),
        manifest={"flow": flow, "source": "footage"},
    )
