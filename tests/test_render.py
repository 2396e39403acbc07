"""Tests of the synthetic pedestrian renderer (stsrn_lite/synthetic/render.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from stsrn_lite.synthetic.render import (
    OCCLUDERS,
    Appearance,
    Camera,
    RenderedTracklet,
    render_junk,
    render_tracklet,
    sample_appearance,
    sample_camera,
)

VIEW_PROBS = {
    "right": (1.0, 0.0, 0.0, 0.0),
    "left": (0.0, 1.0, 0.0, 0.0),
    "towards": (0.0, 0.0, 1.0, 0.0),
    "away": (0.0, 0.0, 0.0, 1.0),
}


def clean(camera: Camera, view: str) -> Camera:
    """The camera without per-frame nuisances, always seeing `view`."""
    return dataclasses.replace(
        camera,
        view_probs=VIEW_PROBS[view],
        jitter=0.0,
        scale_jitter=0.0,
        blur_prob=0.0,
        noise_sigma=0.0,
        jpeg_quality=0,
        occlusion_prob=0.0,
    )


def identity(seed: int) -> tuple[Appearance, Camera, Camera]:
    rng = np.random.default_rng(seed)
    return sample_appearance(rng), sample_camera(rng, 0), sample_camera(rng, 1)


def render(seed: int, n_frames: int = 12, size_hw=(128, 64), **kw) -> RenderedTracklet:
    rng = np.random.default_rng(seed)
    camera = sample_camera(rng, 0)
    return render_tracklet(sample_appearance(rng), camera, n_frames, size_hw, rng=rng, **kw)


def leg_region(frames: np.ndarray) -> np.ndarray:
    """Grey levels of the lower-central part of the box, (T, h, w) float."""
    T, H, W, _ = frames.shape
    return frames[:, int(0.62 * H) : int(0.97 * H), W // 4 : 3 * W // 4].astype(np.float64).mean(axis=3)


def test_same_seed_gives_identical_bytes_and_different_seed_does_not():
    a, b, c = render(7), render(7), render(8)
    assert a.frames.tobytes() == b.frames.tobytes()
    assert np.array_equal(a.occluded, b.occluded) and a.meta == b.meta
    assert np.abs(a.frames.astype(int) - c.frames).mean() > 5


def test_bytes_do_not_depend_on_process_state():
    """A fresh interpreter (empty scene cache, as in a worker process) renders the same bytes."""
    code = (
        "import hashlib, numpy as np\n"
        "from stsrn_lite.synthetic.render import *\n"
        "rng = np.random.default_rng(7)\n"
        "camera = sample_camera(rng, 0)\n"
        "out = render_tracklet(sample_appearance(rng), camera, 12, (128, 64), rng=rng)\n"
        "print(hashlib.sha256(out.frames.tobytes()).hexdigest())\n"
    )
    render(9, 3)  # warm this process's cache
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert child.stdout.strip() == hashlib.sha256(render(7).frames.tobytes()).hexdigest()


@pytest.mark.parametrize("size_hw", [(128, 64), (256, 128)])
@pytest.mark.parametrize("n_frames", [1, 50])
def test_shapes_and_dtypes(size_hw, n_frames):
    out = render(3, n_frames, size_hw)
    assert out.frames.shape == (n_frames, *size_hw, 3) and out.frames.dtype == np.uint8
    assert out.occluded.shape == (n_frames,) and out.occluded.dtype == np.bool_
    json.dumps(out.meta)
    camera = sample_camera(np.random.default_rng(1), 2)
    junk = render_junk(camera, n_frames, size_hw, np.random.default_rng(2))
    assert junk.frames.shape == (n_frames, *size_hw, 3) and junk.frames.dtype == np.uint8
    assert not junk.occluded.any()
    json.dumps(junk.meta)


def test_person_scales_with_the_box():
    small, large = render(5, 6, (128, 64)), render(5, 6, (256, 128))
    assert large.meta["person_height_px"] == pytest.approx(2 * small.meta["person_height_px"])
    shrunk = np.stack([cv2.resize(f, (64, 128), interpolation=cv2.INTER_AREA) for f in large.frames])
    other = render(6, 6, (128, 64))
    same_diff = np.abs(shrunk.astype(int) - small.frames).mean()
    assert same_diff < 0.5 * np.abs(other.frames.astype(int) - small.frames).mean()


@pytest.mark.parametrize(
    "bad",
    [dict(n_frames=0), dict(n_frames=2.5), dict(size_hw=(16, 8)), dict(size_hw=(128,)), dict(size_hw=(128.0, 64))],
)
def test_bad_arguments_raise_value_error(bad):
    app, cam, _ = identity(0)
    args = dict(n_frames=4, size_hw=(128, 64)) | bad
    with pytest.raises(ValueError):
        render_tracklet(app, cam, args["n_frames"], args["size_hw"], rng=np.random.default_rng(0))
    with pytest.raises(ValueError):
        render_junk(cam, args["n_frames"], args["size_hw"], np.random.default_rng(0))


def test_bad_camera_index_and_rng():
    with pytest.raises(ValueError):
        sample_camera(np.random.default_rng(0), -1)
    app, cam, _ = identity(0)
    with pytest.raises(TypeError):
        render_tracklet(app, cam, 3, rng=0)


def walk(app: Appearance, camera: Camera, n_frames: int = 60) -> np.ndarray:
    return render_tracklet(app, camera, n_frames, (128, 64), rng=np.random.default_rng(11)).frames


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_legs_move_and_a_still_person_does_not(seed):
    app, _, cam = identity(seed)
    cam = clean(cam, "towards")  # no background scroll, no noise
    still = dataclasses.replace(app, stride=0.0, knee=0.0, arm_swing=0.0, bounce=0.0)
    walking_diff = np.abs(np.diff(leg_region(walk(app, cam)), axis=0)).mean()
    still_diff = np.abs(np.diff(leg_region(walk(still, cam)), axis=0)).mean()
    assert walking_diff > 0.5
    assert still_diff < 0.05


def correlation(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    x, y = x - x.mean(axis=1, keepdims=True), y - y.mean(axis=1, keepdims=True)
    return float(np.mean((x * y).sum(1) / np.sqrt((x * x).sum(1) * (y * y).sum(1) + 1e-12)))


@pytest.mark.parametrize("view", ["towards", "right"])
@pytest.mark.parametrize("seed", [0, 2])
def test_gait_is_periodic(view, seed):
    """Leg region at t and t + period correlates better than at t and t + period / 2."""
    app, cam, _ = identity(seed)
    app = dataclasses.replace(app, step_period=20.0)
    cam = dataclasses.replace(clean(cam, view), background_colours=((128, 128, 128),) * 5, crowd=0.0)
    legs = leg_region(walk(app, cam))
    assert correlation(legs[:20], legs[20:40]) > correlation(legs[:20], legs[10:30]) + 0.05
    still = leg_region(walk(dataclasses.replace(app, stride=0.0, knee=0.0, arm_swing=0.0, bounce=0.0), cam))
    assert correlation(still[:20], still[10:30]) > 0.999  # the check needs motion to pass


@pytest.mark.parametrize("size_hw", [(128, 64), (256, 128)])
def test_occlusion_flags_mark_exactly_the_changed_frames(size_hw):
    kinds = set()
    for seed in range(12):
        H, W = size_hw
        occ, free = render(seed, 24, size_hw, occlusion=True), render(seed, 24, size_hw, occlusion=False)
        assert not free.occluded.any() and free.meta["occluder"] is None
        assert occ.occluded.any(), seed
        kinds.add(occ.meta["occluder"])
        first, last = occ.meta["occluded_frames"]
        assert occ.occluded[first:last].all() and occ.occluded.sum() == last - first
        body = (slice(None), slice(int(0.1 * H), int(0.95 * H)), slice(W // 4, 3 * W // 4))
        diff = np.abs(occ.frames.astype(int) - free.frames)[body].mean(axis=(1, 2, 3))  # (T,)
        assert (diff[occ.occluded] > 2.0).all()
        assert np.array_equal(occ.frames[~occ.occluded], free.frames[~occ.occluded])
    assert kinds == set(OCCLUDERS)


def test_a_controlled_occlusion_covers_about_the_share_asked_and_changes_nothing_else():
    """`occluded_fraction` holds the occluder over that share of the frames; the frames it does not
    cover are those of the render without occlusion; 0 is that render."""
    T = 40
    for seed in range(8):
        free = render(seed, T, (128, 64), occlusion=False)
        assert np.array_equal(render(seed, T, (128, 64), occluded_fraction=0.0).frames, free.frames)
        for fraction in (0.25, 0.5):
            occ = render(seed, T, (128, 64), occluded_fraction=fraction)
            assert fraction * T - 4 <= occ.occluded.sum() <= fraction * T, (seed, fraction)
            assert np.array_equal(occ.frames[~occ.occluded], free.frames[~occ.occluded])
    with pytest.raises(ValueError, match="occluded_fraction"):
        render(0, T, (128, 64), occluded_fraction=1.5)


def test_occlusion_rate_follows_the_camera():
    app, cam, _ = identity(0)
    rates = {}
    for p in (0.0, 1.0):
        cam_p = dataclasses.replace(cam, occlusion_prob=p)
        hits = [render_tracklet(app, cam_p, 20, rng=np.random.default_rng(s)).occluded.any() for s in range(8)]
        rates[p] = np.mean(hits)
    assert rates[0.0] == 0.0 and rates[1.0] >= 0.75


def test_cameras_differ_systematically():
    """Same identity, same view: the two cameras' renders differ in mean colour, and the
    colour cast has the designed direction (even cameras warm, odd cameras cool)."""
    for seed in range(5):
        app, cam0, cam1 = identity(seed)
        means = [
            render_tracklet(app, clean(c, "towards"), 8, rng=np.random.default_rng(seed))
            .frames.reshape(-1, 3)
            .mean(axis=0)
            for c in (cam0, cam1)
        ]
        assert np.abs(means[0] - means[1]).sum() > 10
        assert cam0.channel_gains[0] / cam0.channel_gains[2] > cam1.channel_gains[0] / cam1.channel_gains[2]
        assert cam0.view_probs[0] + cam0.view_probs[1] > cam1.view_probs[0] + cam1.view_probs[1]


def test_colour_cast_is_applied_to_the_whole_frame():
    """The same scene and person through camera 0's warm cast and camera 1's cool cast."""
    app, cam0, cam1 = identity(4)
    ratios = []
    for cast in (cam0.channel_gains, cam1.channel_gains):
        camera = dataclasses.replace(clean(cam0, "towards"), channel_gains=cast, gamma=1.0, saturation=1.0)
        frames = render_tracklet(app, camera, 4, rng=np.random.default_rng(0)).frames.astype(float)
        ratios.append(frames[..., 0].mean() / frames[..., 2].mean())  # R / B
    (r0, _, b0), (r1, _, b1) = cam0.channel_gains, cam1.channel_gains
    assert ratios[0] / ratios[1] == pytest.approx((r0 / b0) / (r1 / b1), rel=0.02)
    assert ratios[0] / ratios[1] > 1.05


def test_junk_kinds_and_meta():
    cam = sample_camera(np.random.default_rng(0), 1)
    kinds = {render_junk(cam, 3, (256, 128), np.random.default_rng(s)).meta["junk_kind"] for s in range(12)}
    assert kinds == {"background", "partial", "fragment"}


def test_box_follows_the_walker_so_the_background_scrolls_in_side_views():
    app, cam, _ = identity(1)
    still = dataclasses.replace(app, stride=0.3, knee=0.0, arm_swing=0.0, bounce=0.0)
    margin = {}
    for view in ("right", "towards"):
        frames = render_tracklet(still, clean(cam, view), 10, rng=np.random.default_rng(0)).frames
        sides = np.concatenate([frames[:, :, :8], frames[:, :, -8:]], axis=2).astype(float)  # no person
        margin[view] = np.abs(np.diff(sides, axis=0)).mean()
    assert margin["right"] > 1.0 and margin["towards"] == 0.0
