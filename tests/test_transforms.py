"""Tests of stsrn_lite.preprocess.transforms: resize, YUV, quantisation, normalisation, model input.

Every expected value is worked out by hand in the comment beside it.
"""

import warnings

import numpy as np
import pytest
import torch

from stsrn_lite.preprocess import transforms
from stsrn_lite.preprocess.transforms import (
    FLOW_CLIP,
    FLOW_STEP,
    FRAME_HW,
    PreprocessConfig,
    dequantise_flow,
    model_input,
    normalise_per_frame,
    quantise_flow,
    resize_frame,
    rgb_to_yuv,
)

# ---------------------------------------------------------------- resize_frame


@pytest.mark.parametrize("hw", [(128, 64), (256, 128), (64, 48), (40, 30), (100, 30), (30, 100)])
def test_resize_constant_image_stays_constant(hw):
    out = resize_frame(np.full((*hw, 3), (7, 130, 250), np.uint8))
    assert out.shape == (*FRAME_HW, 3) and out.dtype == np.uint8
    assert (out == np.array([7, 130, 250], np.uint8)).all()


def test_resize_averages_rows_when_shrinking():
    # 128 rows alternating 0 and 200 -> 64 rows, each the mean of one (0, 200) pair = 100.
    img = np.zeros((128, 64, 3), np.uint8)
    img[1::2] = 200
    assert (resize_frame(img) == 100).all()


def test_resize_area_weights_of_a_2x2_checkerboard():
    # 2×2 squares: rows 2k, 2k+1 lie in one square row, so the vertical halving does not mix.
    # Width 64 -> 48 maps 4 columns (a, a, b, b) to 3 with area weights:
    # (3a + a)/4 = a, (a + b)/2, (b + 3b)/4 = b.
    y, x = np.mgrid[0:128, 0:64]
    img = np.repeat((((y // 2 + x // 2) % 2) * 255).astype(np.uint8)[..., None], 3, axis=2)
    out = resize_frame(img)[..., 0].astype(int)
    even_rows, odd_rows = out[0::2], out[1::2]  # square rows starting with 0, with 255
    assert (even_rows[:, 0::3] == 0).all() and (even_rows[:, 2::3] == 255).all()
    assert (odd_rows[:, 0::3] == 255).all() and (odd_rows[:, 2::3] == 0).all()
    assert np.isin(out[:, 1::3], [127, 128]).all()  # 127.5, rounded either way


def test_resize_of_a_channel_reversed_view_matches_a_copy():
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (128, 64, 3), np.uint8)
    view = bgr[..., ::-1]  # what the cache's decoder hands over
    assert np.array_equal(resize_frame(view), resize_frame(np.ascontiguousarray(view)))


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((128, 64), np.uint8),
        np.zeros((128, 64, 4), np.uint8),
        np.zeros((128, 64, 3), np.float32),
        np.zeros((0, 64, 3), np.uint8),
    ],
)
def test_resize_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        resize_frame(bad)


# ---------------------------------------------------------------- rgb_to_yuv


def test_rgb_to_yuv_hand_picked_colours():
    # (T=4, 3, 1, 1): white, red, green, black.
    rgb = torch.tensor([[1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=torch.float32)[..., None, None]
    yuv = rgb_to_yuv(rgb)[..., 0, 0]
    expected = torch.tensor(
        [
            [1.0, 0.00001, 0.0],  # white: Y = 1; U = -0.14713 - 0.28886 + 0.436; V = 0.615 - 0.51499 - 0.10001
            [0.299, -0.14713, 0.615],  # red: the first column of the matrix
            [0.587, -0.28886, -0.51499],  # green: the second column
            [0.0, 0.0, 0.0],
        ]
    )
    torch.testing.assert_close(yuv, expected, atol=1e-6, rtol=0)


def test_rgb_to_yuv_numpy_matches_torch_and_keeps_shape():
    rgb = np.random.default_rng(1).random((2, 5, 3, 4, 6)).astype(np.float32)  # (B, T, 3, H, W)
    out_np = rgb_to_yuv(rgb)
    out_t = rgb_to_yuv(torch.from_numpy(rgb))
    assert out_np.shape == rgb.shape and out_np.dtype == np.float32
    np.testing.assert_allclose(out_np, out_t.numpy(), atol=1e-6)


def test_rgb_to_yuv_rejects_bad_input():
    with pytest.raises(ValueError):
        rgb_to_yuv(torch.zeros(2, 4, 8, 8))  # 4 channels
    with pytest.raises(ValueError):
        rgb_to_yuv(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))  # not scaled to [0, 1]


# ---------------------------------------------------------------- quantisation


def test_quantise_round_trip_within_half_a_step():
    flow = np.random.default_rng(2).uniform(-FLOW_CLIP, FLOW_CLIP, (3, 2, 8, 6)).astype(np.float32)
    q = quantise_flow(flow)
    assert q.dtype == np.int8 and q.shape == flow.shape
    assert np.abs(dequantise_flow(q) - flow).max() <= FLOW_STEP / 2 + 1e-6


def test_quantise_hand_values_and_clipping():
    # FLOW_STEP = 1/16: 0.3 px = 4.8 steps -> 5; -0.45 px = -7.2 -> -7; beyond ±127 steps clips.
    flow = np.zeros((1, 2, 1, 4), np.float32)
    flow[0, 0, 0] = [0.3, -0.45, 100.0, -100.0]
    q = quantise_flow(flow)
    assert q[0, 0, 0].tolist() == [5, -7, 127, -127]
    assert dequantise_flow(q)[0, 0, 0, 2] == pytest.approx(FLOW_CLIP)


def test_quantise_torch_matches_numpy():
    flow = np.random.default_rng(3).normal(0, 4, (2, 2, 5, 5)).astype(np.float32)
    assert np.array_equal(quantise_flow(torch.from_numpy(flow)).numpy(), quantise_flow(flow))
    torch.testing.assert_close(
        dequantise_flow(torch.from_numpy(quantise_flow(flow))), torch.from_numpy(dequantise_flow(quantise_flow(flow)))
    )


def test_quantise_rejects_nan_and_bad_shapes():
    with pytest.raises(ValueError):
        quantise_flow(np.full((1, 2, 2, 2), np.nan, np.float32))
    with pytest.raises(ValueError):
        quantise_flow(np.zeros((1, 3, 2, 2), np.float32))
    with pytest.raises(ValueError):
        dequantise_flow(np.zeros((1, 2, 2, 2), np.int16))


# ---------------------------------------------------------------- normalise_per_frame

PLANE = torch.tensor([[1.0, 2.0], [3.0, 4.0]])


def test_normalise_standard_by_hand():
    # mean 2.5; biased variance (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25; std = 1.118034
    out = normalise_per_frame(PLANE[None, None], "standard")[0, 0]
    torch.testing.assert_close(out, torch.tensor([[-1.3416408, -0.4472136], [0.4472136, 1.3416408]]))


def test_normalise_mclaughlin_by_hand():
    # unbiased variance 5/3; std = 1.2909944; divisor sqrt(std) = 1.1362194
    out = normalise_per_frame(PLANE[None, None], "mclaughlin")[0, 0]
    torch.testing.assert_close(out, torch.tensor([[-1.3201676, -0.4400559], [0.4400559, 1.3201676]]))


@pytest.mark.parametrize("mode", ["standard", "mclaughlin"])
def test_normalise_constant_planes_give_zeros(mode):
    x = torch.stack([PLANE, torch.zeros(2, 2), torch.full((2, 2), 0.1)])[None]  # (T=1, C=3, 2, 2)
    out = normalise_per_frame(x, mode)
    assert torch.isfinite(out).all()
    assert (out[0, 1:] == 0).all()
    assert out[0, 0].abs().sum() > 0


def test_normalise_is_per_frame_and_per_channel():
    x = torch.randn(4, 5, 8, 6) * torch.arange(1, 21.0).reshape(4, 5, 1, 1) + 3  # (T, C, H, W)
    out = normalise_per_frame(x, "standard")
    torch.testing.assert_close(out.mean(dim=(-2, -1)), torch.zeros(4, 5), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.std(dim=(-2, -1), correction=0), torch.ones(4, 5))


def test_normalise_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        normalise_per_frame(PLANE[None, None], "zscore")
    with pytest.raises(ValueError, match="normalisation"):
        PreprocessConfig(normalisation="zscore")


# ---------------------------------------------------------------- model_input


def _cached_arrays(T=3, seed=4):
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (T, 3, *FRAME_HW), np.uint8)
    flow = rng.integers(-40, 41, (T, 2, *FRAME_HW)).astype(np.int8)
    flow[0] = 0  # the first frame's flow, as the cache stores it
    return rgb, flow


def test_model_input_shapes_and_standardised_planes():
    rgb, flow = _cached_arrays()
    x = model_input(rgb, flow, PreprocessConfig(normalisation="standard"))
    assert x.shape == (3, 5, *FRAME_HW) and x.dtype == torch.float32
    assert (x[0, 3:] == 0).all()  # constant zero flow -> zeros, not NaN
    torch.testing.assert_close(x.mean(dim=(-2, -1)), torch.zeros(3, 5), atol=1e-5, rtol=0)
    torch.testing.assert_close(x[1:].std(dim=(-2, -1), correction=0), torch.ones(2, 5))


def test_model_input_yuv_channels_follow_the_formula():
    rgb, flow = _cached_arrays()
    x = model_input(torch.from_numpy(rgb), torch.from_numpy(flow), PreprocessConfig(normalisation="standard"))
    yuv = rgb_to_yuv(torch.from_numpy(rgb).float() / 255)
    torch.testing.assert_close(x[:, :3], normalise_per_frame(yuv, "standard"))


def test_model_input_without_flow_zeroes_the_flow_channels():
    rgb, flow = _cached_arrays()
    x = model_input(rgb, flow, PreprocessConfig(use_flow=False))
    assert (x[:, 3:] == 0).all()
    assert x[:, :3].abs().sum() > 0


def test_model_input_mclaughlin_uses_the_flow_scale():
    # "mclaughlin" divides by sqrt(std), so scaling a plane by s scales the output by sqrt(s).
    rgb, flow = _cached_arrays()
    a = model_input(rgb, flow, PreprocessConfig(normalisation="mclaughlin", flow_scale=1.0))
    b = model_input(rgb, flow, PreprocessConfig(normalisation="mclaughlin", flow_scale=1 / 255))
    torch.testing.assert_close(b[:, 3:], a[:, 3:] / 255**0.5)
    torch.testing.assert_close(b[:, :3], a[:, :3])


def test_model_input_batches_and_read_only_arrays():
    rgb, flow = _cached_arrays(T=4)
    rgb.flags.writeable = False  # like the cache's read-only memory maps
    flow.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        single = model_input(rgb, flow, PreprocessConfig())
    batch = model_input(np.stack([rgb, rgb]), np.stack([flow, flow]), PreprocessConfig())
    assert batch.shape == (2, 4, 5, *FRAME_HW)
    torch.testing.assert_close(batch[1], single)


def test_model_input_rejects_mismatched_arrays():
    rgb, flow = _cached_arrays()
    with pytest.raises(ValueError, match="flow_q"):
        model_input(rgb, flow[:2], PreprocessConfig())
    with pytest.raises(ValueError, match="flow_q"):
        model_input(rgb, flow.astype(np.int16), PreprocessConfig())
    with pytest.raises(ValueError, match="rgb_u8"):
        model_input(rgb.astype(np.float32), flow, PreprocessConfig())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_model_input_on_cuda_matches_cpu():
    rgb, flow = _cached_arrays()
    cpu = model_input(rgb, flow, PreprocessConfig())
    gpu = model_input(torch.from_numpy(rgb).cuda(), torch.from_numpy(flow).cuda(), PreprocessConfig())
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-5, rtol=1e-5)


def test_cache_settings_name_the_flow_encoding():
    settings = transforms.cache_settings()
    assert settings["flow_step"] == FLOW_STEP and settings["flow_clip"] == FLOW_CLIP
    assert settings["flow"]["first_frame"] == "zero"


def test_the_default_normalisation_is_the_original_codes():
    # prepareDataset.lua:57-70: (x - mean) / sqrt(std), std with 1/(n-1) (book: Design decisions)
    assert PreprocessConfig().normalisation == "mclaughlin"
    plane = torch.arange(12.0).reshape(1, 3, 4) * 4  # std (n-1) = 14.42...
    y = normalise_per_frame(plane, PreprocessConfig().normalisation)
    std = plane.std()  # Bessel-corrected, as torch.std in Torch7
    torch.testing.assert_close(y, (plane - plane.mean()) / std.sqrt())
