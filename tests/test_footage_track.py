"""The tracker (stsrn_lite.footage.track) on boxes moving along known paths."""

from __future__ import annotations

import numpy as np
import pytest

from stsrn_lite.footage.track import TrackerConfig, iou, track


def walk(start: tuple[float, float], step: tuple[float, float], frames: range, size=(40, 80)) -> dict:
    """{frame: box} of a box of ``size`` (w, h) moving ``step`` pixels a frame from ``start``."""
    x, y = start
    return {t: (x + step[0] * (t - frames.start), y + step[1] * (t - frames.start), *size) for t in frames}


def scene(*people: dict, frames: int) -> list[list[tuple]]:
    return [[person[t] for person in people if t in person] for t in range(frames)]


def test_iou_of_boxes():
    a = np.array([[0, 0, 10, 10], [100, 100, 5, 5]])
    b = np.array([[5, 0, 10, 10], [0, 0, 10, 10]])
    assert iou(a, b) == pytest.approx(np.array([[50 / 150, 1.0], [0.0, 0.0]]))


def test_two_people_crossing_keep_their_tracks():
    left = walk((0, 100), (6, 0), range(0, 40))
    right = walk((240, 104), (-6, 0), range(0, 40))
    tracks = track(scene(left, right, frames=40))
    assert len(tracks) == 2
    by_start = {round(t.boxes[0][0]): t for t in tracks}
    assert [b[0] for b in by_start[0].boxes] == [left[t][0] for t in range(40)]  # never swapped at the crossing
    assert [b[0] for b in by_start[240].boxes] == [right[t][0] for t in range(40)]


def test_missed_detections_within_the_gap_continue_a_track_and_a_return_starts_a_new_one():
    person = walk((0, 100), (4, 0), range(0, 60))
    seen = {t: box for t, box in person.items() if t not in (10, 11, 12) and not 30 <= t < 45}
    tracks = track(scene(seen, frames=60), TrackerConfig(max_gap=5, max_jump=2.0, min_iou=0.1))
    assert [(t.start, t.end, len(t)) for t in tracks] == [(0, 29, 27), (45, 59, 15)]


def test_jumps_split_and_short_tracks_are_dropped():
    person = walk((0, 100), (2, 0), range(0, 30))
    person.update(walk((30, 100), (2, 0), range(15, 30), size=(40, 160)))  # the box doubles in height
    blip = walk((400, 400), (0, 0), range(5, 8))  # three frames of a false detection
    tracks = track(scene(person, blip, frames=30), TrackerConfig(min_length=8, min_iou=0.1))
    assert [(t.track_id, t.start, t.end) for t in tracks] == [(0, 0, 14), (1, 15, 29)]
    assert {t.boxes[-1][3] for t in tracks} == {80.0, 160.0}


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="min_iou"):
        TrackerConfig(min_iou=0)
    with pytest.raises(ValueError, match="max_scale"):
        TrackerConfig(max_scale=0.5)


def test_appearance_keeps_two_people_apart_where_their_boxes_meet():
    left = walk((0, 100), (8, 0), range(0, 30))
    right = walk((232, 100), (-8, 0), range(0, 30))  # the same line: the boxes cover each other at frame 14-15
    colours = {0: np.array([1.0, 0.0, 0.1]), 1: np.array([0.0, 1.0, 0.1])}
    detections, features = [], []
    for t in range(30):
        order = [1, 0] if t % 2 else [0, 1]  # the detector lists them in no fixed order
        people = (left, right)
        detections.append([people[i][t] for i in order])
        features.append(np.stack([colours[i] for i in order]))
    tracks = track(detections, TrackerConfig(min_iou=0.1), features)
    assert len(tracks) == 2
    for t in tracks:
        xs = [box[0] for box in t.boxes]
        assert xs == sorted(xs) or xs == sorted(xs, reverse=True)  # each keeps its direction through the crossing
        assert len(t) == 30
