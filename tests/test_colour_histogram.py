"""Tests of the colour-histogram baseline (stsrn_lite/baselines/colour_histogram.py)."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from stsrn_lite.baselines.colour_histogram import distance_matrix, rank1, tracklet_histogram


def solid(rgb, rng: np.random.Generator, T: int = 3, H: int = 32, W: int = 16) -> np.ndarray:
    """A tracklet of one colour with a little noise, (T, H, W, 3) uint8."""
    frames = np.asarray(rgb, float) + rng.normal(0, 3, (T, H, W, 3))
    return np.clip(frames, 0, 255).astype(np.uint8)


def distinct_colours(n: int) -> list[tuple[int, int, int]]:
    return [tuple(int(255 * c) for c in colorsys.hsv_to_rgb(i / n, 0.8, 0.8)) for i in range(n)]


def test_histogram_of_a_two_colour_frame_hand_computed():
    frames = np.zeros((2, 8, 4, 3), np.uint8)
    frames[:, :4] = (255, 0, 0)  # red: HSV (0, 255, 255) -> bins (0, 3, 3) -> 0*16 + 3*4 + 3 = 15
    frames[:, 4:] = (0, 0, 255)  # blue: H = 120 of 180 -> hue bin 120*8//180 = 5 -> 5*16 + 15 = 95
    hist = tracklet_histogram(frames, n_stripes=2, centre_sigma=None)
    expected = np.zeros(2 * 128)
    expected[15], expected[128 + 95] = 0.5, 0.5
    np.testing.assert_allclose(hist, expected)


@pytest.mark.parametrize("space,bins", [("hsv", (8, 4, 4)), ("rgb", (4, 4, 4)), ("grey", (16,))])
def test_histogram_is_normalised(space, bins):
    frames = np.random.default_rng(0).integers(0, 256, (5, 16, 8, 3), dtype=np.uint8)
    hist = tracklet_histogram(frames, space=space, bins=bins, n_stripes=4)
    assert hist.shape == (4 * int(np.prod(bins)),)
    assert hist.sum() == pytest.approx(1.0) and (hist >= 0).all()


def test_distance_matrix_hand_computed():
    q = np.array([[0.5, 0.5, 0.0, 0.0]])
    g = np.array([[0.25, 0.25, 0.5, 0.0], [0.5, 0.5, 0.0, 0.0]])
    np.testing.assert_allclose(distance_matrix(q, g, "l1"), [[1.0, 0.0]])
    # chi2: 0.5 * (2 * 0.25^2 / 0.75 + 0.5^2 / 0.5) = 1/3
    np.testing.assert_allclose(distance_matrix(q, g, "chi2"), [[1 / 3, 0.0]])
    # Bhattacharyya coefficient 2 * sqrt(0.125) = 0.7071
    np.testing.assert_allclose(distance_matrix(q, g, "bhattacharyya"), [[np.sqrt(1 - np.sqrt(0.5)), 0.0]], atol=1e-7)


def test_distance_matrix_chunks_agree_with_broadcasting():
    rng = np.random.default_rng(0)
    q, g = rng.random((70, 300)), rng.random((50, 300))
    np.testing.assert_allclose(distance_matrix(q, g, "l1"), np.abs(q[:, None] - g[None]).sum(2))


def test_rank1_hand_computed():
    distmat = np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0.4]])
    assert rank1(distmat, np.array([1, 2, 3]), np.array([1, 2])) == 100.0  # pid 3 has no match
    assert rank1(distmat, np.array([2, 1, 3]), np.array([1, 2])) == 0.0
    assert rank1(distmat[:2], np.array([1, 1]), np.array([1, 2])) == 50.0


def test_rank1_on_distinct_solid_colours_and_after_shuffling():
    rng = np.random.default_rng(0)
    colours = distinct_colours(8)
    pids = np.arange(8)
    q = np.stack([tracklet_histogram(solid(c, rng)) for c in colours])
    g = np.stack([tracklet_histogram(solid(c, rng)) for c in colours])
    assert rank1(distance_matrix(q, g), pids, pids) == 100.0
    shuffled = np.roll(pids, 3)  # gallery item i now wears pid i+3's colour
    g_shuffled = np.stack([tracklet_histogram(solid(colours[j], rng)) for j in shuffled])
    assert rank1(distance_matrix(q, g_shuffled), pids, pids) == 0.0


def test_stripes_separate_what_a_global_histogram_confuses():
    """Red-over-blue and blue-over-red have the same global histogram but not the same stripes."""
    top_red = np.zeros((2, 16, 8, 3), np.uint8)
    top_red[:, :8], top_red[:, 8:] = (200, 30, 30), (30, 30, 200)
    top_blue = top_red[:, ::-1].copy()
    for n_stripes, far in ((1, False), (2, True)):
        d = distance_matrix(
            tracklet_histogram(top_red, n_stripes=n_stripes)[None],
            tracklet_histogram(top_blue, n_stripes=n_stripes)[None],
        )
        assert (d[0, 0] > 0.5) == far


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 8, 3), np.uint8), np.zeros((1, 8, 4, 3), np.float32), np.zeros((0, 8, 4, 3), np.uint8)]
)
def test_bad_frames_raise(bad):
    with pytest.raises(ValueError):
        tracklet_histogram(bad)


def test_bad_options_raise():
    frames = np.zeros((1, 8, 4, 3), np.uint8)
    with pytest.raises(ValueError):
        tracklet_histogram(frames, space="lab")
    with pytest.raises(ValueError):
        tracklet_histogram(frames, space="grey", bins=(8, 4, 4))
    with pytest.raises(ValueError):
        tracklet_histogram(frames, n_stripes=9)
    with pytest.raises(ValueError):
        distance_matrix(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError):
        distance_matrix(np.ones((2, 3)), np.ones((2, 3)), "cosine")
    with pytest.raises(ValueError):
        rank1(np.zeros((2, 2)), np.array([1, 2, 3]), np.array([1, 2]))
