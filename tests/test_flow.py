"""Tests of the dense Lucas–Kanade flow (stsrn_lite.preprocess.flow) and preprocess_tracklet.

Stated tolerances (endpoint error, EPE, in px, median over pixels at least 6 px from the border):

- exact analytic sinusoids shifted by (0.3, -0.45): median EPE < 0.01 (measured 0.002);
- a blurred-noise image shifted by whole pixels, plain LK (iterations=1): median EPE < 0.1
  for (1, 0) and (0, 1) (measured 0.056, 0.051), < 0.2 for (-1, 1) (measured 0.137); with
  iterations=3: < 0.03 (measured 0.016 for (1, 0), 0.021 for (-1, 1));
- OpenCV's RubberWhale pair: the flow reduces the photometric error (mean |I1(x+f) - I0(x)|)
  to < 0.9 of the no-flow error at 64×48 (measured 0.81) and < 0.6 at 292×194 (0.47); the
  median endpoint difference to cv2.calcOpticalFlowPyrLK (5×5 window) on textured grid points
  is < 0.08 px at 64×48 (measured 0.05) and < 0.3 px at 292×194 (measured 0.22, for a median
  flow of 0.6 px there).
"""

from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi

from stsrn_lite.preprocess.flow import MIN_EIGENVALUE, dense_lucas_kanade, sequence_flow
from stsrn_lite.preprocess.frames import preprocess_tracklet
from stsrn_lite.preprocess.transforms import FLOW_STEP, FRAME_HW, quantise_flow, resize_frame

SAMPLES = Path(__file__).resolve().parents[1] / "data/opencv-samples"
BORDER = 6  # window/2 + derivative reach + margin
H, W = FRAME_HW
GREY = np.array([0.299, 0.587, 0.114], np.float32)


def _interior(a):
    return a[..., BORDER:-BORDER, BORDER:-BORDER]


def _median_epe(flow, u, v):
    return float(np.median(np.hypot(_interior(flow[0]) - u, _interior(flow[1]) - v)))


def _sinusoids(dx=0.0, dy=0.0):
    """A smooth 0..255 pattern sampled exactly at (x - dx, y - dy): moved by (+dx, +dy)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    x, y = x - dx, y - dy
    img = (
        128
        + 40 * np.sin(0.31 * x + 0.17 * y + 1)
        + 30 * np.sin(-0.13 * x + 0.37 * y + 2)
        + 20 * np.sin(0.45 * x - 0.2 * y)
    )
    return img.astype(np.float32)


def _noise_texture(seed=0, pad=20):
    """Gaussian-blurred noise (sigma 2 px) on 0..255, with a margin for whole-pixel crops."""
    img = ndi.gaussian_filter(np.random.default_rng(seed).standard_normal((H + 2 * pad, W + 2 * pad)), 2.0)
    return ((img - img.min()) / np.ptp(img) * 255).astype(np.float32)


def _crop_shift(img, dx, dy, pad=20):
    """prev = a crop of img; nxt = the crop content moved by whole pixels (+dx right, +dy down)."""
    prev = img[pad : pad + H, pad : pad + W]
    nxt = img[pad - dy : pad - dy + H, pad - dx : pad - dx + W]
    return prev, nxt


# ---------------------------------------------------------------- known motion


def test_subpixel_shift_of_sinusoids():
    flow = dense_lucas_kanade(_sinusoids(), _sinusoids(0.3, -0.45))
    assert flow.shape == (2, H, W) and flow.dtype == np.float32
    assert _median_epe(flow, 0.3, -0.45) < 0.01


@pytest.mark.parametrize("dx, dy, tol", [(1, 0, 0.1), (0, 1, 0.1), (-1, 1, 0.2)])
def test_whole_pixel_shifts_plain(dx, dy, tol):
    prev, nxt = _crop_shift(_noise_texture(), dx, dy)
    assert _median_epe(dense_lucas_kanade(prev, nxt), dx, dy) < tol


@pytest.mark.parametrize("dx, dy", [(1, 0), (-1, 1)])
def test_refinement_improves_whole_pixel_shifts(dx, dy):
    prev, nxt = _crop_shift(_noise_texture(), dx, dy)
    plain = _median_epe(dense_lucas_kanade(prev, nxt, iterations=1), dx, dy)
    refined = _median_epe(dense_lucas_kanade(prev, nxt, iterations=3), dx, dy)
    assert refined < 0.03 and refined < plain


@pytest.mark.parametrize("dx, dy", [(1, 0), (-1, 0), (0, 1), (0, -1)])
def test_sign_convention(dx, dy):
    # content moving right (+x) gives u > 0; moving down (+y, row index up) gives v > 0
    prev, nxt = _crop_shift(_noise_texture(seed=1), dx, dy)
    u, v = np.median(_interior(dense_lucas_kanade(prev, nxt)), axis=(1, 2))
    assert np.sign(np.round(u, 1)) == dx and np.sign(np.round(v, 1)) == dy


def test_identical_frames_give_exactly_zero_flow():
    img = _noise_texture()[:H, :W]
    assert (dense_lucas_kanade(img, img.copy()) == 0).all()


def test_flat_and_one_dimensional_patterns_give_zero_flow():
    # Flat frames (even with a brightness change) and vertical stripes (aperture problem:
    # the smaller eigenvalue of the structure tensor is 0) fall below the noise threshold.
    flat = dense_lucas_kanade(np.full((H, W), 100, np.float32), np.full((H, W), 120, np.float32))
    x = np.arange(W, dtype=np.float32)
    stripes = np.broadcast_to(128 + 60 * np.sin(0.5 * x), (H, W))
    moved = np.broadcast_to(128 + 60 * np.sin(0.5 * (x - 0.5)), (H, W))
    assert (flat == 0).all()
    assert (dense_lucas_kanade(stripes, moved) == 0).all()
    assert MIN_EIGENVALUE > 0


def test_box_window_also_recovers_the_shift():
    flow = dense_lucas_kanade(_sinusoids(), _sinusoids(0.3, -0.45), window=7, sigma=0)
    assert _median_epe(flow, 0.3, -0.45) < 0.01


def test_bad_arguments_raise():
    img = np.zeros((H, W), np.float32)
    with pytest.raises(ValueError, match="window"):
        dense_lucas_kanade(img, img, window=4)
    with pytest.raises(ValueError, match="iterations"):
        dense_lucas_kanade(img, img, iterations=0)
    with pytest.raises(ValueError, match="shape"):
        dense_lucas_kanade(img, img[:-1])
    with pytest.raises(ValueError, match=r"\(T, H, W\)"):
        sequence_flow(img)


# ---------------------------------------------------------------- sequence_flow


def test_sequence_flow_is_pairwise_with_zero_first_frame():
    # 20 frames cross the internal chunks of pairs; every pair must match the pairwise call.
    rng = np.random.default_rng(5)
    texture = _noise_texture(pad=30)
    steps = rng.integers(-1, 2, (20, 2))
    offsets = np.cumsum(steps, axis=0) - steps[0]
    gray = np.stack([texture[30 - oy : 30 - oy + H, 30 - ox : 30 - ox + W] for ox, oy in offsets])
    flow = sequence_flow(gray)
    assert flow.shape == (20, 2, H, W) and flow.dtype == np.float32
    assert (flow[0] == 0).all()
    for t in (1, 8, 9, 10, 19):
        np.testing.assert_allclose(flow[t], dense_lucas_kanade(gray[t - 1], gray[t]), atol=1e-4)
    assert sequence_flow(gray[:1]).shape == (1, 2, H, W)


# ---------------------------------------------------------------- preprocess_tracklet


def _moving_tracklet(T, dx, dy, seed=2):
    """T RGB frames of 128×64, a smooth colour pattern moving (dx, dy) px per frame."""
    rng = np.random.default_rng(seed)
    pad = 4 + 2 * T
    big = ndi.gaussian_filter(rng.random((128 + 2 * pad, 64 + 2 * pad, 3)), (3, 3, 0))
    big = ((big - big.min()) / np.ptp(big) * 255).astype(np.uint8)
    return [big[pad - t * dy : pad - t * dy + 128, pad - t * dx : pad - t * dx + 64] for t in range(T)]


@pytest.mark.parametrize("dx, dy", [(1, 2), (-1, -2)])
def test_preprocess_tracklet_flow_follows_the_motion(dx, dy):
    # Moving (dx, dy) px per frame at 128×64 is (0.75 dx, 0.5 dy) px at 64×48.
    frames = _moving_tracklet(12, dx, dy)
    rgb, flow_q = preprocess_tracklet(frames)
    assert rgb.shape == (12, 3, H, W) and rgb.dtype == np.uint8
    assert flow_q.shape == (12, 2, H, W) and flow_q.dtype == np.int8
    assert (flow_q[0] == 0).all()
    u, v = np.median(_interior(flow_q[1:].astype(np.float32) * FLOW_STEP), axis=(2, 3)).T
    np.testing.assert_allclose(u, 0.75 * dx, atol=0.2)
    np.testing.assert_allclose(v, 0.5 * dy, atol=0.3)


def test_preprocess_tracklet_equals_its_parts():
    frames = _moving_tracklet(19, 1, 1)  # more than two blocks of work
    rgb, flow_q = preprocess_tracklet(frames)
    resized = np.stack([resize_frame(f) for f in frames])  # (T, H, W, 3)
    assert np.array_equal(rgb, resized.transpose(0, 3, 1, 2))
    expected = quantise_flow(sequence_flow(resized.astype(np.float32) @ GREY))
    assert np.abs(flow_q.astype(int) - expected).max() <= 1  # grey differs in the last float bit
    assert (flow_q != expected).mean() < 1e-3


def test_preprocess_tracklet_of_one_frame():
    rgb, flow_q = preprocess_tracklet(_moving_tracklet(1, 1, 1))
    assert rgb.shape == (1, 3, H, W) and flow_q.shape == (1, 2, H, W) and (flow_q == 0).all()


def test_preprocess_tracklet_rejects_an_empty_tracklet():
    with pytest.raises(ValueError, match="no frames"):
        preprocess_tracklet([])


# ---------------------------------------------------------------- a real pair (OpenCV's samples)


def _rubberwhale():
    paths = [SAMPLES / f"rubberwhale{i}.png" for i in (1, 2)]
    if not all(p.is_file() for p in paths):
        pytest.skip(
            f"needs {paths[0].name} and {paths[1].name} in {SAMPLES}; run "
            "`python data_scripts/fetch_opencv_samples.py --out data/opencv-samples`"
        )
    return [cv2.imread(str(p), cv2.IMREAD_COLOR)[..., ::-1] for p in paths]  # RGB uint8


def _grey_pair(hw):
    a, b = _rubberwhale()
    if hw == FRAME_HW:
        a, b = resize_frame(a), resize_frame(b)
    else:
        a, b = (cv2.resize(np.ascontiguousarray(f), hw[::-1], interpolation=cv2.INTER_AREA) for f in (a, b))
    return a.astype(np.float32) @ GREY, b.astype(np.float32) @ GREY


@pytest.mark.parametrize("hw, max_ratio", [(FRAME_HW, 0.9), ((194, 292), 0.6)])
def test_real_pair_warping_reduces_photometric_error(hw, max_ratio):
    prev, nxt = _grey_pair(hw)
    flow = dense_lucas_kanade(prev, nxt)
    ys, xs = np.mgrid[0 : hw[0], 0 : hw[1]].astype(np.float32)
    warped = cv2.remap(nxt, xs + flow[0], ys + flow[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    before = np.abs(_interior(nxt - prev)).mean()
    after = np.abs(_interior(warped - prev)).mean()
    assert after < max_ratio * before


@pytest.mark.parametrize("hw, max_median", [(FRAME_HW, 0.08), ((194, 292), 0.3)])
def test_real_pair_agrees_with_opencv_pyramidal_lk(hw, max_median):
    prev, nxt = _grey_pair(hw)
    flow = dense_lucas_kanade(prev, nxt)
    step = 2 if hw == FRAME_HW else 4
    ys, xs = (a.ravel() for a in np.mgrid[BORDER : hw[0] - BORDER : step, BORDER : hw[1] - BORDER : step])
    prev8, nxt8 = (np.clip(np.rint(g), 0, 255).astype(np.uint8) for g in (prev, nxt))
    points = np.stack([xs, ys], axis=1).astype(np.float32).reshape(-1, 1, 2)
    moved, status, _ = cv2.calcOpticalFlowPyrLK(
        prev8,
        nxt8,
        points,
        None,
        winSize=(5, 5),
        maxLevel=2,
        criteria=(cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 0.01),
    )
    theirs = (moved - points).reshape(-1, 2)
    ours = flow[:, ys, xs].T
    min_eig = cv2.cornerMinEigenVal(prev8, 5)[ys, xs]
    textured = (status.ravel() == 1) & (min_eig > np.median(min_eig)) & (np.abs(ours).sum(axis=1) > 0)
    assert textured.sum() > 100
    assert np.median(np.hypot(*(ours - theirs)[textured].T)) < max_median
