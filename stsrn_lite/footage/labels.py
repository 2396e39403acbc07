"""Who is who in footage, written by eye once and kept apart from any tracker's numbering.

A labels file is a CSV with columns ``person, frame, x, y``: a point on that person (a pixel of
the source frame) in that frame, one or more per person. `label_tracks` gives a track the person
whose point falls inside the track's box in that frame; a track that would get two people gets
none. So the labels stay valid when the detector or the tracker changes, and a track that covers
no labelled point is simply unlabelled.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stsrn_lite.footage.track import Track
from stsrn_lite.footage.video import FootageError

COLUMNS = ("person", "frame", "x", "y")


@dataclass(frozen=True)
class Point:
    person: str
    frame: int
    x: float
    y: float


def read_points(path: str | Path) -> list[Point]:
    """The points of labels file ``path``; a file without those columns raises `FootageError`."""
    path = Path(path)
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not set(COLUMNS) <= set(reader.fieldnames):
                raise ValueError(f"columns {reader.fieldnames}")
            return [Point(r["person"].strip(), int(r["frame"]), float(r["x"]), float(r["y"])) for r in reader]
    except (OSError, ValueError, TypeError) as error:
        raise FootageError(f"{path}: expected a CSV with columns {', '.join(COLUMNS)} ({error})") from None


def label_tracks(tracks: Sequence[Track], points: Sequence[Point]) -> dict[int, str]:
    """{track id: person} for every track whose box holds a point of exactly one person."""
    at: dict[int, list[Point]] = {}
    for point in points:
        at.setdefault(point.frame, []).append(point)
    labels = {}
    for t in tracks:
        people = set()
        for frame, (x, y, w, h) in zip(t.frames, t.boxes):
            people |= {p.person for p in at.get(frame, ()) if x <= p.x <= x + w and y <= p.y <= y + h}
        if len(people) == 1:
            labels[t.track_id] = people.pop()
    return labels
