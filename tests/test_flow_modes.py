"""Tests of the flow modes (stsrn_lite.preprocess.flow.FlowConfig, FLOW_MODES): MATLAB's eigenvalue
rule with the normal flow, LK on the stored frames then area-resized, the 8-bit PNG's whole
pixels, and the mode as part of the cache's key and of a run's config.

Stated tolerances (endpoint error, EPE, in px of the stored 128×64 frame, median over the 64×48
field at least 6 px from its border): a shift of (0.6, -0.4) px of band-limited noise is recovered
to < 0.05 by "original-float" (measured 0.025); OpenCV's DIS flow computed at 128×64 and resized the
same way differs from it by < 0.05 (measured 0.027). The normal flow of a moving 1-D sinusoid
is its motion along the gradient to < 0.01 px everywhere inside (measured at most 0.002).
"""

import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi
from conftest import make_ilids

from stsrn_lite.book.flow_check import endpoint_error, mode_flows, shifted_pair
from stsrn_lite.book.profiles import PROFILES
from stsrn_lite.data.ilidsvid import read_ilidsvid
from stsrn_lite.preprocess.cache import StaleCacheError, default_cache_dir, open_cache, prepare, settings
from stsrn_lite.preprocess.flow import (
    DEFAULT_FLOW,
    FLOW_MODES,
    MATLAB_NOISE_THRESHOLD,
    FlowConfig,
    dense_lucas_kanade,
    flow_config,
)
from stsrn_lite.preprocess.frames import flow_field, preprocess_tracklet
from stsrn_lite.preprocess.transforms import FLOW_STEP, FRAME_HW, round_like_png
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import load_run_data

SOURCE_HW = (128, 64)  # iLIDS-VID's and PRID2011's frames (and the synthetic benchmark's)
BORDER = 6


def _interior(a):
    return a[..., BORDER:-BORDER, BORDER:-BORDER]


def _stripes(direction, shift, hw=(64, 48)):
    """A 1-D sinusoid varying along unit vector ``direction``, moved by ``shift`` = (dx, dy) px."""
    y, x = np.mgrid[0 : hw[0], 0 : hw[1]].astype(np.float64)

    def frame(dx: float, dy: float) -> np.ndarray:
        return (128 + 60 * np.sin(0.5 * ((x - dx) * direction[0] + (y - dy) * direction[1]))).astype(np.float32)

    return frame(0.0, 0.0), frame(*shift)


MATLAB_RULE = {"min_eigenvalue": MATLAB_NOISE_THRESHOLD, "normal_flow": True}


# ---------------------------------------------------------------- the configuration


def test_modes_and_their_readings():
    assert DEFAULT_FLOW == "resized" and FLOW_MODES[DEFAULT_FLOW] == FlowConfig()
    original = flow_config("original")
    assert (original.resolution, original.min_eigenvalue, original.normal_flow) == ("source", 0.0039, True)
    assert original.integer_grey and original.png
    assert flow_config("original-float") == FlowConfig(**{**original.__dict__, "png": False})
    assert flow_config(original) is original


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: flow_config("matlab"), "unknown flow mode"),
        (lambda: FlowConfig(resolution="full"), "resolution"),
        (lambda: FlowConfig(png=1), "png"),
        (lambda: FlowConfig(normal_flow="yes"), "normal_flow"),
        (lambda: FlowConfig(min_eigenvalue=-1.0), "min_eigenvalue"),
        (lambda: TrainConfig(dataset="ilids-vid", flow="matlab"), "flow"),
        (lambda: default_cache_dir("ilids-vid", "R", "matlab"), "unknown flow mode"),
        (lambda: preprocess_tracklet([np.zeros((8, 4, 3), np.uint8)], "matlab"), "unknown flow mode"),
    ],
)
def test_unknown_values_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_profiles_and_run_config_carry_the_mode():
    assert TrainConfig(dataset="ilids-vid").flow == DEFAULT_FLOW
    assert PROFILES["paper"].flow == "original"
    assert PROFILES["smoke"].flow == PROFILES["full"].flow == "resized"  # their stored results' mode


def test_a_chapter_loads_the_cache_its_profiles_runs_use(tmp_path, monkeypatch):
    """`Session.run_data`: the paper profile's chapters read the `original` cache its runs train on,
    not one of the default mode built for nothing (all of MARS, for chapter 08)."""
    import stsrn_lite.training.data as training_data
    from stsrn_lite.book.session import setup

    asked = []
    monkeypatch.setattr(training_data, "load_run_data", lambda *args, **options: asked.append((args, options)))
    (tmp_path / "mars").mkdir()
    setup("paper", str(tmp_path), device="cpu").run_data("mars", 2, mars_protocol="official")
    setup("paper", str(tmp_path), device="cpu").run_data("mars")
    (args, paper), (_, default) = asked
    assert args == ("mars", tmp_path / "mars") and paper["flow"] == "original"
    assert (paper["fold"], paper["folds"], paper["mars_protocol"]) == (2, 10, "official")
    assert (default["fold"], default["mars_protocol"]) == (0, TrainConfig.mars_protocol)
    assert paper["seed"] == default["seed"] == TrainConfig.split_seed


# ---------------------------------------------------------------- MATLAB's eigenvalue rule


@pytest.mark.parametrize(
    "direction, shift, expected",
    [
        ((1.0, 0.0), (0.4, 0.3), (0.4, 0.0)),  # vertical stripes: only the horizontal part is seen
        ((0.0, 1.0), (0.4, 0.3), (0.0, 0.3)),
        ((0.5**0.5, 0.5**0.5), (0.5, 0.0), (0.25, 0.25)),  # diagonal: the projection on the gradient
    ],
)
def test_normal_flow_on_a_one_dimensional_texture(direction, shift, expected):
    prev, nxt = _stripes(direction, shift)
    normal = dense_lucas_kanade(prev, nxt, **MATLAB_RULE)
    np.testing.assert_allclose(np.median(_interior(normal), axis=(1, 2)), expected, atol=0.01)
    assert np.abs(_interior(normal) - np.array(expected)[:, None, None]).max() < 0.01
    # Without the normal flow, the aperture problem leaves zero (λ_min = 0 < τ; near the border
    # the replicated edge breaks the diagonal pattern's symmetry).
    assert (_interior(dense_lucas_kanade(prev, nxt, min_eigenvalue=MATLAB_NOISE_THRESHOLD)) == 0).all()


def test_flat_regions_get_zero_flow_and_textured_ones_the_full_solution():
    rng = np.random.default_rng(0)
    texture = ndi.gaussian_filter(rng.standard_normal((64, 88)), 2.0) * 400 + 128
    prev, nxt = texture[:, 20:68].copy(), texture[:, 19:67].copy()  # moved 1 px right
    prev[:, :20] = nxt[:, :20] = 90.0  # a flat wall on the left
    flow = dense_lucas_kanade(prev, nxt, **MATLAB_RULE)
    assert (flow[:, :, :14] == 0).all()  # the window reaches no texture
    assert (np.abs(flow[0, BORDER:-BORDER, 30:-BORDER] - 1.0) < 0.25).mean() > 0.9
    # Where both eigenvalues pass, the normal flow changes nothing.
    full_only = dense_lucas_kanade(prev, nxt, min_eigenvalue=MATLAB_NOISE_THRESHOLD)
    both = np.abs(full_only).sum(axis=0) > 0
    assert both.mean() > 0.5
    np.testing.assert_array_equal(flow[:, both], full_only[:, both])


def test_matlab_threshold_zeroes_fewer_windows_than_ours():
    prev, nxt = shifted_pair((0.5, 0.25), SOURCE_HW, blur=6.0)  # weak texture
    ours = dense_lucas_kanade(prev, nxt)
    matlab = dense_lucas_kanade(prev, nxt, **MATLAB_RULE)
    assert (matlab == 0).all(axis=0).mean() < (ours == 0).all(axis=0).mean()


# ---------------------------------------------------------------- LK on the stored frames, then resized


def test_known_translation_at_source_resolution_is_kept_in_source_pixels():
    shift = (0.6, -0.4)  # px of the 128×64 frame
    prev, nxt = shifted_pair(shift, SOURCE_HW)
    flows = mode_flows(prev, nxt)
    assert all(f.shape == (2, *FRAME_HW) and f.dtype == np.float32 for f in flows.values())
    assert np.median(endpoint_error(flows["original-float"], shift)) < 0.05
    difference = _interior(flows["OpenCV DIS, resized"] - flows["original-float"])  # (2, h, w)
    assert np.median(np.hypot(*difference)) < 0.05
    # The source pixels are not rescaled: the 64×48 frame would see (0.75·0.6, 0.5·(-0.4)).
    direct = flow_field(np.stack([prev, nxt]).astype(np.float32), "original-float")[1]
    np.testing.assert_allclose(np.median(_interior(direct), axis=(1, 2)), shift, atol=0.03)


def test_png_rounding_as_the_flow_images():
    flow = np.array([0.4, 0.5, -0.5, -0.6, 1.49, 128.4, 200.0, -126.6, -200.0], np.float32)
    expected = [0, 1, 0, -1, 1, 128, 128, -127, -127]  # level = round(f + 127) in [0, 255], minus 127
    np.testing.assert_array_equal(round_like_png(flow), expected)
    with pytest.raises(ValueError, match="NaN"):
        round_like_png(np.array([np.nan]))


def test_original_mode_holds_whole_pixels_averaged_by_the_resize():
    prev, nxt = shifted_pair((1.2, -0.8), SOURCE_HW)
    flow = flow_field(np.stack([prev, nxt]).astype(np.float32), "original")[1]  # (2, 64, 48)
    # 128×64 -> 64×48 averages 2 rows and 4/3 columns: whole numbers become multiples of 1/8.
    np.testing.assert_array_equal(flow * 8, np.round(flow * 8))
    np.testing.assert_allclose(np.median(_interior(flow), axis=(1, 2)), (1.0, -1.0))
    tiny = flow_field(np.stack(shifted_pair((0.3, -0.2), SOURCE_HW)).astype(np.float32), "original")[1]
    assert (_interior(tiny) == 0).mean() > 0.95  # below half a pixel the PNG holds no motion


def _moving_tracklet(T, dx, dy, seed=2, hw=SOURCE_HW):
    """T RGB frames of ``hw``, a smooth colour pattern moving (dx, dy) px per frame."""
    rng = np.random.default_rng(seed)
    pad = 4 + 2 * T
    big = ndi.gaussian_filter(rng.random((hw[0] + 2 * pad, hw[1] + 2 * pad, 3)), (3, 3, 0))
    big = ((big - big.min()) / np.ptp(big) * 255).astype(np.uint8)
    return [big[pad - t * dy : pad - t * dy + hw[0], pad - t * dx : pad - t * dx + hw[1]] for t in range(T)]


@pytest.mark.parametrize("mode, scale", [("resized", (0.75, 0.5)), ("original", (1.0, 1.0))])
def test_preprocess_tracklet_units_per_mode(mode, scale):
    frames = _moving_tracklet(10, 1, -1)
    rgb, flow_q = preprocess_tracklet(frames, mode)
    assert rgb.shape == (10, 3, *FRAME_HW) and flow_q.shape == (10, 2, *FRAME_HW) and flow_q.dtype == np.int8
    assert (flow_q[0] == 0).all()
    u, v = np.median(_interior(flow_q[1:].astype(np.float32) * FLOW_STEP), axis=(2, 3)).T
    np.testing.assert_allclose(u, scale[0], atol=0.15)
    np.testing.assert_allclose(v, -scale[1], atol=0.15)


def test_preprocess_tracklet_original_equals_its_parts():
    frames = _moving_tracklet(19, 1, 1)  # more than two blocks of work
    _, flow_q = preprocess_tracklet(frames, "original")
    grey = np.stack([cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames])  # rounded
    expected = np.clip(np.rint(flow_field(grey.astype(np.float32), "original") / FLOW_STEP), -127, 127)
    np.testing.assert_array_equal(flow_q, expected.astype(np.int8))


def test_source_frames_of_another_size_are_resized_to_the_first():
    frames = _moving_tracklet(4, 1, 0)
    frames[2] = cv2.resize(np.ascontiguousarray(frames[2]), (60, 120), interpolation=cv2.INTER_AREA)
    rgb, flow_q = preprocess_tracklet(frames, "original")
    assert rgb.shape == (4, 3, *FRAME_HW) and flow_q.shape == (4, 2, *FRAME_HW)


def test_flow_field_refuses_a_resized_mode_on_large_frames():
    with pytest.raises(ValueError, match="64×48"):
        flow_field(np.zeros((2, *SOURCE_HW), np.float32), "resized")


# ---------------------------------------------------------------- the mode keys the cache and reaches a run


def test_the_cache_key_differs_between_modes(tmp_path):
    assert settings("resized") != settings("original") != settings("original-float")
    assert settings() == settings(DEFAULT_FLOW)
    root = make_ilids(tmp_path / "ilids", pids=(1, 2), length=4)
    dataset = read_ilidsvid(root)
    path = tmp_path / "cache"
    cache, built = prepare(dataset, path, flow="original", progress=False)
    assert built and cache.manifest["settings"]["flow"]["resolution"] == "source"
    assert not prepare(dataset, path, flow="original", progress=False)[1]
    with pytest.raises(StaleCacheError, match="other preprocessing settings"):
        open_cache(cache.path, dataset)  # the default mode is another key
    resized, built = prepare(dataset, path, flow="resized", progress=False)
    assert built and resized.path != cache.path  # each mode has its own cache in the folder
    assert not prepare(dataset, path, flow="original", progress=False)[1]  # both kept
    dirs = {mode: default_cache_dir("ilids-vid", root, mode) for mode in FLOW_MODES}
    assert len(set(dirs.values())) == len(FLOW_MODES)


@pytest.mark.filterwarnings("ignore::stsrn_lite.training.data.SeededSplitWarning")  # the toy tree has no split file
def test_a_run_prepares_the_cache_of_its_mode(tmp_path):
    root = make_ilids(tmp_path / "ilids", pids=(1, 2, 3, 4), length=4)
    data = load_run_data("ilids-vid", root, fold=0, folds=2, seed=1, cache_dir=tmp_path / "c", flow="original")
    assert data.cache.manifest["settings"] == settings("original")
    tracklet = data.dataset.tracklets[0]
    frames = [cv2.imread(str(f))[..., ::-1] for f in tracklet.frames]
    np.testing.assert_array_equal(data.cache.tracklet(0)[1], preprocess_tracklet(frames, "original")[1])
