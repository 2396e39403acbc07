"""Footage → tracks → tracklets, in two passes over the frames: detection (with each box's
colour histogram, for the tracker) and tracking, then the crops (`stsrn_lite.footage.detect`,
`.track`, `.tracklets`). Frames are numbered as in the source, so a range (``start``, ``stop``)
keeps the video's frame numbers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from stsrn_lite.footage.detect import DetectorConfig, detect
from stsrn_lite.footage.track import Box, Track, TrackerConfig, track
from stsrn_lite.footage.tracklets import TrackletConfig, box_features, cut_tracklets
from stsrn_lite.footage.video import Footage, open_footage, read_frames


@dataclass(frozen=True)
class FootageConfig:
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    tracklet: TrackletConfig = field(default_factory=TrackletConfig)
    start: int = 0  # first frame used
    stop: int | None = None  # frame after the last one used; None: the end

    def __post_init__(self) -> None:
        if self.start < 0 or (self.stop is not None and self.stop <= self.start):
            raise ValueError(f"need 0 <= start < stop, got start={self.start}, stop={self.stop}")


@dataclass
class FootageTracks:
    footage: Footage
    config: FootageConfig
    detections: dict[int, list[Box]]  # frame -> its boxes
    features: dict[int, np.ndarray]  # frame -> its boxes' colour histograms (boxes, D), what `track` matched on
    tracks: list[Track]  # frames numbered as in the source
    tracklets: dict[int, np.ndarray]  # track id -> its crops (T, H, W, 3) RGB uint8


def process(path: str | Path, config: FootageConfig | None = None, *, progress: bool = False) -> FootageTracks:
    """Detect, track and cut the people of the video or folder of frames ``path``."""
    config = config or FootageConfig()
    footage = open_footage(path)
    stop = footage.frames if config.stop is None else min(config.stop, footage.frames)
    frames = read_frames(footage, config.start, stop)
    bar = tqdm(frames, total=stop - config.start, unit="frame", desc="detect", disable=not progress)
    seen, detected = itertools.tee(bar)  # each frame, beside its boxes (one frame buffered)
    boxes, features = [], []
    for frame, (frame_boxes, mask) in zip(seen, detect(detected, config.detector)):
        boxes.append(frame_boxes)
        features.append(box_features(frame, frame_boxes, config.tracklet, mask))  # (boxes, D)
    tracks = track(boxes, config.tracker, features)
    for t in tracks:  # back to the source's frame numbers
        t.frames = [config.start + f for f in t.frames]
    tracklets = cut_tracklets(read_frames(footage, config.start, stop), tracks, config.tracklet, config.start)
    detections = {config.start + i: frame_boxes for i, frame_boxes in enumerate(boxes)}
    described = {config.start + i: frame_features for i, frame_features in enumerate(features)}
    return FootageTracks(footage, config, detections, described, tracks, tracklets)
