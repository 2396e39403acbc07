"""Footage end to end (stsrn_lite.footage): a synthetic video of moving boxes with known tracks,
the tracklet cutting, the re-identification queries and scores, and the command's bad inputs."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest
import torch

from stsrn_lite.evaluation.features import TestConfig, extract_features
from stsrn_lite.footage import cli
from stsrn_lite.footage.detect import DetectorConfig, detect, foreground_blobs, moving_share, non_maximum_suppression
from stsrn_lite.footage.labels import (
    VTEST_LABELS,
    VTEST_PEOPLE,
    Point,
    detection_recall,
    label_tracks,
    read_people,
    read_points,
    track_purity,
)
from stsrn_lite.footage.pipeline import FootageConfig, process
from stsrn_lite.footage.reid import labelled_scores, reappearance_queries
from stsrn_lite.footage.track import Track, TrackerConfig
from stsrn_lite.footage.tracklets import (
    TrackletConfig,
    box_features,
    cut,
    cut_tracklets,
    person_box,
    tracklet_cache,
)
from stsrn_lite.footage.video import FootageError, open_footage, read_frames
from stsrn_lite.model import STSRN, preset
from stsrn_lite.weights import export_weights

HW = (120, 160)  # the synthetic video's frame size
# (first frame, last frame, start x, y, dx per frame, colour BGR, width, height) of each moving box
# (the first 20 frames are empty: the background model learns the still scene)
PEOPLE = (
    (20, 46, 5, 20, 3, (0, 0, 255), 14, 40),
    (27, 56, 120, 66, -3, (255, 0, 0), 14, 40),
    (62, 76, 20, 30, 2, (0, 200, 0), 14, 40),
)
FRAMES = 77


def render(t: int) -> np.ndarray:
    """Frame ``t`` (BGR): a still grey background and the boxes of PEOPLE alive at t, each its
    colour with a fixed stripe texture that moves with it (so that its inside moves too)."""
    frame = np.full((*HW, 3), 70, np.uint8)
    for first, last, x, y, dx, colour, w, h in PEOPLE:
        if first <= t <= last:
            left = x + dx * (t - first)
            texture = np.where((np.arange(w) // 2 % 2)[None, :, None], 1.0, 0.6)  # (1, w, 1) vertical stripes
            frame[y : y + h, left : left + w] = (np.asarray(colour) * texture).astype(np.uint8)
    return frame


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    folder = tmp_path_factory.mktemp("footage")
    path = folder / "boxes.avi"
    # HuffYUV is lossless: the video holds the folder's frames exactly
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"HFYU"), 10.0, (HW[1], HW[0]))
    frames = folder / "frames"
    frames.mkdir()
    for t in range(FRAMES):
        writer.write(render(t))
        cv2.imwrite(str(frames / f"{t:04d}.png"), render(t))
    writer.release()
    return path, frames


MOTION = FootageConfig(
    DetectorConfig(method="motion", min_area=200), TrackerConfig(min_length=5), TrackletConfig(scale=1.0)
)


@pytest.mark.parametrize("which", ["video", "folder"])
def test_the_moving_boxes_are_tracked_as_the_people_they_are(video, which):
    path = video[0] if which == "video" else video[1]
    result = process(path, MOTION)
    assert result.footage.frames == FRAMES
    spans = [(t.start, t.end) for t in result.tracks]
    # each person is one track from (about) their first to their last frame; the background model
    # needs a frame to learn, so a track may start a frame late
    assert len(spans) == len(PEOPLE)
    for (start, end), (first, last, *_) in zip(spans, PEOPLE):
        assert first <= start <= first + 1 and end == last
    for t, (first, _, x, _y, dx, *_, h) in zip(result.tracks, PEOPLE):
        lefts = np.array([box[0] for box in t.boxes])
        heights = np.array([box[3] for box in t.boxes])
        expected = x + dx * (np.array(t.frames) - first)
        # the blobs follow the box (a crossing may disturb a frame or two)
        assert np.median(np.abs(lefts - expected)) <= 1 and np.median(heights) == pytest.approx(h, abs=2)
    crops = result.tracklets[0]
    assert crops.shape == (len(result.tracks[0]), 128, 64, 3)
    red = crops[:, 40:88, 24:40].reshape(-1, 3).mean(0)  # the middle of every crop: the red box (RGB)
    assert red[0] > 150 and red[2] < 60


def test_detection_helpers():
    boxes = np.array([[0, 0, 10, 20], [1, 0, 10, 20], [50, 50, 10, 20]], dtype=float)
    assert non_maximum_suppression(boxes, np.array([0.5, 0.9, 0.1]), 0.3) == [1, 2]
    mask = np.zeros((40, 40), np.uint8)
    mask[5:25, 5:15] = 255
    mask[30:32, 30:32] = 255  # 4 pixels: below min_area
    assert foreground_blobs(mask, min_area=10) == [(5.0, 5.0, 10.0, 20.0)]
    assert moving_share(mask, (5, 5, 10, 20)) == 1.0 and moving_share(mask, (5, 5, 20, 20)) == 0.5
    assert moving_share(mask, (100, 100, 5, 5)) == 0.0
    frame = np.full((200, 100, 3), 255, np.uint8)
    assert list(detect([frame], DetectorConfig(method="hog"))) == [([], None)]  # a white frame has no people
    with pytest.raises(ValueError, match="unknown detector method"):
        DetectorConfig(method="yolo")


def test_crops_are_person_shaped_padded_at_the_border_and_preprocessed():
    config = TrackletConfig(scale=0.5)
    assert person_box((10, 20, 64, 128), config) == (26.0, 52.0, 32.0, 64.0)  # H:W 2:1, centred
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[:, :, 2] = 200  # red in BGR
    crop = cut(frame, (-30, -30, 40, 80), TrackletConfig())  # mostly outside the frame
    assert crop.shape == (128, 64, 3) and (crop[..., 0] == 200).all()  # the border repeated, RGB out
    tracks = [Track(0, [1, 2], [(0, 0, 40, 80)] * 2), Track(1, [2], [(50, 10, 20, 40)])]
    frames = [np.full((100, 100, 3), t * 10, np.uint8) for t in range(4)]
    tracklets = cut_tracklets(iter(frames), tracks, TrackletConfig())
    assert {k: v.shape[0] for k, v in tracklets.items()} == {0: 2, 1: 1}
    assert tracklets[0][0, 0, 0, 0] == 10 and tracklets[0][1, 0, 0, 0] == 20  # frames 1 and 2
    with pytest.raises(ValueError, match="beyond the frames given"):
        cut_tracklets(iter(frames[:2]), tracks, TrackletConfig())
    cache = tracklet_cache(tracklets)
    assert list(cache.offsets) == [0, 2, 3] and list(cache.pids) == [0, 1] and cache.rgb.shape == (3, 3, 64, 48)
    model = STSRN(preset("STSRN")).eval()
    features = extract_features(model, cache, [0, 1], "first", TestConfig(tta=False), "cpu")
    assert features.shape == (1, 2, 128) and torch.isfinite(features).all()


def test_a_boxs_appearance_is_its_moving_pixels_where_a_mask_is_given():
    frame = np.full((100, 100, 3), 128, np.uint8)  # grey
    frame[20:80, 40:60] = (0, 0, 255)  # a red person (BGR) in a loose box
    mask = np.zeros((100, 100), np.uint8)
    mask[20:80, 40:60] = 255
    box = (20, 10, 60, 80)
    loose, moving = (
        box_features(frame, [box], TrackletConfig(scale=1.0)),
        box_features(frame, [box], TrackletConfig(scale=1.0), mask),
    )
    assert loose.shape == moving.shape == (1, 3 * 128)
    assert np.allclose(moving.reshape(3, 128).sum(1), 1.0)  # each stripe sums to 1
    red = np.asarray([0, 3, 3])  # hue bin 0, the top saturation and value bins
    red_bin = (red[0] * 4 + red[1]) * 4 + red[2]
    assert moving.reshape(3, 128)[1, red_bin] == pytest.approx(1.0)  # the middle stripe: only red
    assert loose.reshape(3, 128)[1, red_bin] == pytest.approx(0.5)  # without the mask, half is grey
    assert box_features(frame, [], TrackletConfig()).shape == (0, 3 * 128)


def test_reappearance_queries_and_scores():
    tracks = [Track(0, [0, 5]), Track(1, [3, 9]), Track(2, [10, 20]), Track(3, [12, 30])]
    assert reappearance_queries(tracks) == [(2, [0, 1]), (3, [0, 1])]
    assert reappearance_queries(tracks, min_gap=3) == [(2, [0]), (3, [0, 1])]
    ids = [0, 1, 2, 3]
    distmat = np.array([[0, 5, 1, 4], [5, 0, 2, 3], [1, 2, 0, 9], [4, 3, 9, 0]], dtype=float)
    person = {0: "a", 1: "b", 2: "a", 3: "a"}  # 2 and 3 are a: 2 finds 0 first, 3 finds 1 first
    scores = labelled_scores(distmat, ids, [(2, [0, 1]), (3, [0, 1])], person)
    assert scores == {"queries": 2, "rank1": 50.0, "mAP": 75.0}
    assert labelled_scores(distmat, ids, [(2, [1])], person)["queries"] == 0


def test_labels_are_points_on_people_that_tracks_pick_up(tmp_path):
    tracks = [Track(0, [1, 2], [(0, 0, 10, 20)] * 2), Track(1, [5], [(0, 0, 10, 20)]), Track(2, [9], [(50, 50, 5, 5)])]
    points = [Point("ann", 2, 5, 5), Point("bob", 5, 3, 3), Point("ann", 5, 8, 8), Point("cy", 9, 0, 0)]
    assert label_tracks(tracks, points) == {0: "ann"}  # track 1 holds two people, track 2 none
    purity = track_purity(tracks, points)
    assert (purity["tracks"], purity["labelled"], purity["mixed"]) == (3, 1, 1)
    assert (purity["people found"], purity["people"]) == (1, 3)
    assert purity["points covered"] == 75.0  # cy's point lies outside track 2's box
    path = tmp_path / "labels.csv"
    path.write_text("person,frame,x,y\nann,2,5.5,5\n")
    assert read_points(path) == [Point("ann", 2, 5.5, 5.0)]
    path.write_text("track,person\n0,ann\n")
    with pytest.raises(FootageError, match="expected a CSV with columns person, frame, x, y"):
        read_points(path)


def test_detection_recall_counts_the_people_boxed_by_eye_that_detections_find(tmp_path):
    people = [(1, (10, 10, 20, 40)), (1, (100, 10, 20, 40)), (2, (10, 10, 20, 40))]
    detections = {
        1: [(0, 0, 40, 60), (200, 200, 20, 40)],  # finds the first; the second is on nobody
        2: [(0, 0, 40, 200)],  # far too tall for the person: not a find
    }
    result = detection_recall(people, detections)
    assert (result["people"], result["found"], result["detections"], result["on nobody"]) == (3, 1, 3, 2)
    assert result["recall"] == pytest.approx(100 / 3) and result["frames"] == 2
    path = tmp_path / "people.csv"
    path.write_text("frame,x,y,w,h,note\n5,1,2,3,4,far\n")
    assert read_people(path) == [(5, (1.0, 2.0, 3.0, 4.0))]


def test_the_people_and_labels_written_by_eye_for_vtest_are_there():
    people, points = read_people(VTEST_PEOPLE), read_points(VTEST_LABELS)
    assert {frame for frame, _ in people} == {150, 400, 500, 650} and len(people) == 21
    assert len({p.person for p in points}) == 7 and all(0 <= p.frame < 795 for p in points)
    assert all(0 <= p.x < 768 and 0 <= p.y < 576 for p in points)


@pytest.fixture(scope="module")
def weights(tiny_run, tmp_path_factory):
    """A weights file of a barely trained STSRN (one epoch on six synthetic identities)."""
    return export_weights(tiny_run[0], tmp_path_factory.mktemp("weights") / "stsrn.pt")


def test_the_command_writes_tracks_rankings_and_scores(video, weights, tmp_path):
    labels = tmp_path / "people.csv"
    # a point on each box, by the frame (the green box is labelled "red": the same person come back)
    labels.write_text("person,frame,x,y\nred,30,42,40\nblue,40,88,86\nred,70,43,50\n")
    out = tmp_path / "out"
    argv = [str(video[0]), "--checkpoint", str(weights), "--out", str(out), "--detector", "motion"]
    code = cli.main([*argv, "--no-tta", "--labels", str(labels), "--no-progress"])
    assert code == 0
    assert {p.name for p in out.iterdir()} >= {"tracks.csv", "contact_sheet.png", "rankings.csv", "summary.json"}
    with open(out / "tracks.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["track"] for r in rows} == {"0", "1", "2"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tracks"] == 3 and summary["queries"] == 1  # the green box comes after the other two
    for matcher in ("model", "colour histogram"):  # one query (2), whose person (red, track 0) is in its gallery
        assert summary["scores"][matcher]["queries"] == 1
        assert summary["scores"][matcher]["rank1"] in (0.0, 100.0)
    assert (summary["purity"]["labelled"], summary["purity"]["mixed"], summary["purity"]["people"]) == (3, 0, 2)
    capture = cv2.VideoCapture(str(out / "annotated.mp4"))
    assert capture.isOpened() and int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES
    capture.release()


def test_the_command_ranks_another_footages_tracks_with_gallery(video, weights, tmp_path):
    # the folder holds the video's frames exactly: each track's own copy must come first
    out = tmp_path / "out"
    argv = [str(video[0]), "--checkpoint", str(weights), "--out", str(out), "--detector", "motion", "--no-tta"]
    assert cli.main([*argv, "--gallery", str(video[1]), "--no-progress", "--no-video"]) == 0
    with open(out / "rankings.csv") as handle:
        rows = list(csv.DictReader(handle))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tracks"] == 3 and summary["queries"] == 3  # every track, against the other footage's three
    for matcher in ("model", "colour histogram"):
        first = {r["query"]: r["gallery"] for r in rows if r["matcher"] == matcher and r["rank"] == "1"}
        assert first == {str(q): str(cli.GALLERY_OFFSET + q) for q in range(3)}


def test_bad_inputs_end_in_one_line_and_leave_nothing(video, weights, tmp_path, capsys):
    junk = tmp_path / "junk.avi"
    junk.write_text("not a video")
    out = tmp_path / "out"
    assert cli.main([str(junk), "--checkpoint", str(weights), "--out", str(out)]) == 2
    expected = f"error: {junk}: not a video OpenCV can decode (expected e.g. an .avi or .mp4)"
    assert capsys.readouterr().err.strip() == expected
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["junk.avi"]
    assert cli.main([str(video[0]), "--checkpoint", str(weights), "--out", str(out), "--preset", "CNN-RNN"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: {weights}: these are weights of 'STSRN'") and error.endswith("'CNN-RNN'")
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert cli.main([str(video[0]), "--checkpoint", str(weights), "--out", str(out)]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err
    with pytest.raises(FootageError, match="no frames"):
        open_footage(tmp_path / "out")
    assert len(list(read_frames(open_footage(video[1]), FRAMES - 2))) == 2  # the folder's last two frames
    assert len(list(read_frames(open_footage(video[0]), 0, 2))) == 2
