"""Frames of real footage: a video file OpenCV can decode, or a folder of image files.

`open_footage` checks the source and says how many frames it has; `read_frames` yields its
frames (BGR uint8, (H, W, 3), as OpenCV decodes them) in order, optionally a range of them.
An unreadable source raises `FootageError` with the path and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


class FootageError(ValueError):
    """A video or folder of frames that cannot be read."""


@dataclass(frozen=True)
class Footage:
    path: Path
    frames: int  # how many frames it has (a video's: as its container announces them)
    size_hw: tuple[int, int]  # (H, W) of its frames
    fps: float | None  # frames per second (a video's; None for a folder)
    images: tuple[Path, ...] = ()  # a folder's frame files, in order


def open_footage(path: str | Path) -> Footage:
    """Check ``path`` (a video file, or a folder of image files named in frame order)."""
    path = Path(path)
    if path.is_dir():
        images = tuple(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        if not images:
            raise FootageError(f"{path}: no frames ({', '.join(IMAGE_SUFFIXES)} files) in this folder")
        first = cv2.imread(str(images[0]), cv2.IMREAD_COLOR)
        if first is None:
            raise FootageError(f"{images[0]}: not an image OpenCV can decode")
        return Footage(path, len(images), first.shape[:2], None, images)
    if not path.is_file():
        raise FootageError(f"{path}: no such video file or folder of frames")
    capture = cv2.VideoCapture(str(path))
    try:
        ok, frame = capture.read() if capture.isOpened() else (False, None)
        if not ok or frame is None:
            raise FootageError(f"{path}: not a video OpenCV can decode (expected e.g. an .avi or .mp4)")
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(capture.get(cv2.CAP_PROP_FPS)) or None
    finally:
        capture.release()
    return Footage(path, count, frame.shape[:2], fps)


def read_frames(footage: Footage, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
    """Frames ``start`` ≤ t < ``stop`` of ``footage`` (BGR uint8, (H, W, 3)), in order."""
    stop = footage.frames if stop is None else min(stop, footage.frames)
    if footage.images:
        for image in footage.images[start:stop]:
            frame = cv2.imread(str(image), cv2.IMREAD_COLOR)
            if frame is None:
                raise FootageError(f"{image}: not an image OpenCV can decode")
            yield frame
        return
    capture = cv2.VideoCapture(str(footage.path))
    try:
        for t in range(stop):
            ok, frame = capture.read()
            if not ok:  # some containers announce more frames than they hold
                return
            if t >= start:
                yield frame
    finally:
        capture.release()
