"""What a person saw in footage, written down once: who is who, and where the people are.

A labels file is a CSV with columns ``person, frame, x, y``: a point on that person (a pixel of
the source frame) in that frame, one or more per person. `label_tracks` gives a track the person
whose point falls inside the track's box in that frame; a track that would get two people gets
none. So the labels stay valid when the detector or the tracker changes, and a track that covers
no labelled point is simply unlabelled.

A people file (columns ``frame, x, y, w, h``) boxes every person visible in a few frames, by eye;
`detection_recall` says how many of them a detector found.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from stsrn_lite.footage.track import Box, Track
from stsrn_lite.footage.video import FootageError

COLUMNS = ("person", "frame", "x", "y")
# what a person saw in OpenCV's vtest.avi (vtest/README.md says how they were made)
VTEST_PEOPLE = Path(__file__).with_name("vtest") / "people.csv"
VTEST_LABELS = Path(__file__).with_name("vtest") / "labels.csv"


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


def _inside(point: Point, box: Box) -> bool:
    x, y, w, h = box
    return x <= point.x <= x + w and y <= point.y <= y + h


def people_in_tracks(tracks: Sequence[Track], points: Sequence[Point]) -> dict[int, set[str]]:
    """{track id: the people whose points its boxes hold} for every track of ``tracks``."""
    at: dict[int, list[Point]] = {}
    for point in points:
        at.setdefault(point.frame, []).append(point)
    held = {}
    for t in tracks:
        people: set[str] = set()
        for frame, box in zip(t.frames, t.boxes):
            people |= {p.person for p in at.get(frame, ()) if _inside(p, box)}
        held[t.track_id] = people
    return held


def label_tracks(tracks: Sequence[Track], points: Sequence[Point]) -> dict[int, str]:
    """{track id: person} for every track whose box holds a point of exactly one person."""
    return {i: next(iter(people)) for i, people in people_in_tracks(tracks, points).items() if len(people) == 1}


def track_purity(tracks: Sequence[Track], points: Sequence[Point]) -> dict:
    """How well ``tracks`` keep the labelled people apart: of the tracks, how many hold the points
    of one person (``labelled``) and of two or more (``mixed``: an identity switch, or two people
    in one box); of the points, the share that some track's box holds (``points covered``, %);
    and how many of the people appear in one track at least (``people found``). Points are sparse,
    so ``mixed`` counts only the switches they witness: a lower bound."""
    held = people_in_tracks(tracks, points)
    boxes_at: dict[int, list[Box]] = {}
    for t in tracks:
        for frame, box in zip(t.frames, t.boxes):
            boxes_at.setdefault(frame, []).append(box)
    covered = sum(any(_inside(p, box) for box in boxes_at.get(p.frame, ())) for p in points)
    return {
        "tracks": len(tracks),
        "labelled": sum(len(people) == 1 for people in held.values()),
        "mixed": sum(len(people) > 1 for people in held.values()),
        "points covered": 100 * covered / max(len(points), 1),
        "people found": len({next(iter(people)) for people in held.values() if len(people) == 1}),
        "people": len({p.person for p in points}),
    }


def read_people(path: str | Path) -> list[tuple[int, Box]]:
    """(frame, box) of every person boxed by eye in ``path`` (a CSV with columns frame, x, y, w, h)."""
    path = Path(path)
    try:
        with open(path, newline="") as handle:
            return [
                (int(r["frame"]), (float(r["x"]), float(r["y"]), float(r["w"]), float(r["h"])))
                for r in csv.DictReader(handle)
            ]
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise FootageError(f"{path}: expected a CSV with columns frame, x, y, w, h ({error})") from None


def detection_recall(
    people: Sequence[tuple[int, Box]], detections: Mapping[int, Sequence[Box]], max_height_ratio: float = 2.0
) -> dict:
    """How many of ``people`` (frame, box drawn by eye) the ``detections`` of those frames find.
    A detection finds a person when the person's box centre lies inside it and it is 0.7 to
    ``max_height_ratio`` times as tall (HOG's boxes are loose); each finds at most one person, the
    nearest by centre. Returns the counts, recall and the detections that found nobody."""
    found, used = 0, set()
    for frame, (x, y, w, h) in people:
        centre = (x + w / 2, y + h / 2)
        candidates = []
        for index, (dx, dy, dw, dh) in enumerate(detections.get(frame, ())):
            inside = dx <= centre[0] <= dx + dw and dy <= centre[1] <= dy + dh
            if inside and 0.7 * h <= dh <= max_height_ratio * h and (frame, index) not in used:
                candidates.append((abs(dx + dw / 2 - centre[0]) + abs(dy + dh / 2 - centre[1]), index))
        if candidates:
            used.add((frame, min(candidates)[1]))
            found += 1
    frames = {frame for frame, _ in people}
    total = sum(len(detections.get(frame, ())) for frame in frames)
    return {
        "frames": len(frames),
        "people": len(people),
        "found": found,
        "recall": 100 * found / max(len(people), 1),
        "detections": total,
        "on nobody": total - len(used),
    }
