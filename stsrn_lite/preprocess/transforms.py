"""Per-frame transforms of paper §4.2: resize, RGB → YUV, flow quantisation, normalisation.

Paper §4.2: "The optical flow channels were calculated between each pair of images
horizontally and vertically by Lucas-Kanade algorithm [...] while the RGB images were
converted to YUV color space. [...] another normalization operation was applied to have zero
mean and unit variance channel by channel". The original code (prepareDataset.lua) resizes to
64×48 (H×W), converts to YUV with Torch7's coefficients, and normalises every image and
channel on its own; it divides by sqrt(std), not std (book: The original code, "Preprocessing" and "Pitfalls").

Two halves, so that the normalisation can change without rebuilding the cache:

- cache side (numpy): `resize_frame`, `quantise_flow` -> RGB uint8 (T, 3, 64, 48) and
  flow int8 (T, 2, 64, 48) in steps of `FLOW_STEP` px; for the original's flow also
  `round_like_png` (its 8-bit flow images) and `resize_flow` (flow computed on the stored
  frames, resized like an image);
- load side (torch, any device): `model_input` -> float32 (T, 5, 64, 48), the channels
  [Y, U, V, flow_x, flow_y] (book: The original code, "Preprocessing"). The original stores the flow PNG's
  channels 1 and 2, which hold the vertical and then the horizontal flow (computeOpticalFlow.m; book: The original
  code, "Optical flow" and "Pitfalls"), so its order is [Y, U, V, flow_y, flow_x]; for a network whose first layer is a
  learned convolution the order makes no difference.

Shape letters: T frames, C channels, H×W pixels.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, TypeVar

import cv2
import numpy as np
import torch

from stsrn_lite.preprocess import flow as _flow

FRAME_HW = (64, 48)  # (H, W) of every frame: Torch7 image.scale(img, 48, 64), prepareDataset.lua
FLOW_STEP = 1.0 / 16  # px (of the 64×48 frame) per int8 unit of the cached flow
FLOW_CLIP = 127 * FLOW_STEP  # |flow| saturates at 7.9375 px; single-scale LK rarely gets near
PNG_OFFSET = 127  # zero flow in the original's flow PNGs (computeOpticalFlow.m:73-74)
NORMALISATIONS = ("standard", "mclaughlin")
# The authors' code divides by sqrt(std) (prepareDataset.lua:57-70, byte-identical in ASTPN);
# the paper's text says unit variance (§4.2). Book: Design decisions, "Normalisation".
NORMALISATION = "mclaughlin"

# Torch7 image.rgb2yuv (prepareDataset.lua); rows give Y, U, V from R, G, B in [0, 1].
YUV_FROM_RGB = np.array(
    [[0.299, 0.587, 0.114], [-0.14713, -0.28886, 0.436], [0.615, -0.51499, -0.10001]], dtype=np.float32
)

Array = TypeVar("Array", np.ndarray, torch.Tensor)


@dataclass(frozen=True)
class PreprocessConfig:
    """How the cached arrays become the model's input (`model_input`)."""

    # divide each plane by sqrt(std) as the original code ("mclaughlin") or by std ("standard",
    # the paper's words, §4.2)
    normalisation: Literal["standard", "mclaughlin"] = NORMALISATION
    use_flow: bool = True  # False zeroes the flow channels (videoReid.lua -disableOpticalFlow)
    flow_scale: float = 1.0 / 255  # flow px -> input units; 1/255 as the flow PNGs (computeOpticalFlow.m)
    eps: float = 1e-6  # divisor floor; constant planes give 0, not NaN (book: The original code, "Pitfalls")

    def __post_init__(self) -> None:
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {self.normalisation!r}")
        if not self.eps > 0:
            raise ValueError(f"eps must be > 0, got {self.eps!r}")
        if not self.flow_scale > 0:
            raise ValueError(f"flow_scale must be > 0, got {self.flow_scale!r}")


PREPROCESS_VERSION = 1  # bump when resize_frame, the grey conversion or the flow code changes


def cache_settings(flow: str | _flow.FlowConfig = _flow.DEFAULT_FLOW) -> dict:
    """Everything that changes the cached bytes, JSON-ready (for the cache's manifest).

    Args:
        flow: the flow mode (a name of `flow.FLOW_MODES`) or config the cache is built with.
    """
    return {
        "preprocess_version": PREPROCESS_VERSION,
        "resize": "cv2 INTER_AREA shrinking / INTER_LINEAR enlarging, per axis",
        "grey": "Y = 0.299 R + 0.587 G + 0.114 B, 0..255, of the resized (or, resolution 'source', the stored) frame",
        "flow": {
            "method": "dense_lucas_kanade",
            **dataclasses.asdict(_flow.flow_config(flow)),
            "first_frame": "zero",
            "png_offset": PNG_OFFSET,
        },
        "flow_step": FLOW_STEP,
        "flow_clip": FLOW_CLIP,
    }


def _resize(image: np.ndarray) -> np.ndarray:
    """`resize_frame`'s interpolation for any (H, W) or (H, W, C ≤ 4) array OpenCV resizes."""
    h_in, w_in = image.shape[:2]
    h, w = FRAME_HW
    if h_in >= h and w_in >= w:
        return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    if h_in <= h and w_in <= w:
        return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    if h_in > h:  # shrink the height, enlarge the width
        image = cv2.resize(image, (w_in, h), interpolation=cv2.INTER_AREA)
        return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    image = cv2.resize(image, (w, h_in), interpolation=cv2.INTER_AREA)  # shrink the width
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)


def resize_frame(rgb: np.ndarray) -> np.ndarray:
    """Resize one frame to `FRAME_HW`: area averaging along an axis that shrinks, bilinear
    along one that grows.

    Torch7's ``image.scale`` is nominally bilinear but averages over the covered area when
    shrinking (book: The original code, "Preprocessing"); OpenCV's INTER_AREA is the closest match (numerical
    equivalence unverified). An axis that shrinks and one that grows are resized in two passes.

    Args:
        rgb: (H, W, 3) uint8, any strides (a channel-reversed view is fine).

    Returns:
        (64, 48, 3) uint8.
    """
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(
            f"resize_frame expects an (H, W, 3) uint8 array, got "
            f"{getattr(rgb, 'shape', type(rgb))} {getattr(rgb, 'dtype', '')}"
        )
    h_in, w_in = rgb.shape[:2]
    if h_in == 0 or w_in == 0:
        raise ValueError(f"resize_frame got an empty frame of shape {rgb.shape}")
    if not rgb.flags.c_contiguous and rgb[..., ::-1].flags.c_contiguous:
        # A channel-reversed view of a BGR decode: resize the BGR array, which is cheaper
        # than gathering a contiguous copy, and reverse the channels of the small result.
        return cv2.cvtColor(resize_frame(rgb[..., ::-1]), cv2.COLOR_BGR2RGB)
    return _resize(np.ascontiguousarray(rgb))


def resize_flow(flow: np.ndarray) -> np.ndarray:
    """Resize flow fields to `FRAME_HW` like images (`resize_frame`), values unchanged.

    The original scales its flow PNGs with ``image.scale`` as it scales the frames and does
    not rescale the values (prepareDataset.lua:45-46), so the result stays in pixels of the
    frame the flow was computed on.

    Args:
        flow: (T, 2, H, W) float32, px.

    Returns:
        (T, 2, 64, 48) float32, in the same px.
    """
    flow = np.asarray(flow)
    if flow.ndim != 4 or flow.shape[1] != 2 or flow.dtype != np.float32 or 0 in flow.shape[2:]:
        raise ValueError(f"resize_flow expects (T, 2, H, W) float32, got {flow.dtype} {flow.shape}")
    out = np.empty((len(flow), 2, *FRAME_HW), np.float32)  # (T, 2, 64, 48)
    for t, field in enumerate(flow):
        out[t] = _resize(np.ascontiguousarray(field.transpose(1, 2, 0))).transpose(2, 0, 1)  # (H, W, 2) -> (2, h, w)
    return out


def rgb_to_yuv(rgb: Array) -> Array:
    """Torch7's ``image.rgb2yuv``, as prepareDataset.lua.

    Args:
        rgb: (..., 3, H, W) float, R, G, B in [0, 1]; a numpy array or a torch tensor.

    Returns:
        (..., 3, H, W) Y, U, V of the same kind, dtype and device. Y in [0, 1],
        U in [-0.436, 0.436], V in [-0.615, 0.615].
    """
    if rgb.ndim < 3 or rgb.shape[-3] != 3:
        raise ValueError(f"rgb_to_yuv expects (..., 3, H, W), got shape {tuple(rgb.shape)}")
    if isinstance(rgb, torch.Tensor):
        if not rgb.is_floating_point():
            raise ValueError(f"rgb_to_yuv expects a float tensor in [0, 1], got {rgb.dtype}")
        M = torch.as_tensor(YUV_FROM_RGB, dtype=rgb.dtype, device=rgb.device)
        return torch.einsum("ij,...jhw->...ihw", M, rgb)
    if not np.issubdtype(rgb.dtype, np.floating):
        raise ValueError(f"rgb_to_yuv expects a float array in [0, 1], got {rgb.dtype}")
    return np.einsum("ij,...jhw->...ihw", YUV_FROM_RGB.astype(rgb.dtype), rgb)


def round_like_png(flow: np.ndarray) -> np.ndarray:
    """Flow as the original's 8-bit PNG holds it: whole px in [-127, 128] (computeOpticalFlow.m:69-91).

    The script writes flow + 127, clipped to [0, 255] and divided by 255, with ``imwrite``,
    which stores 8 bits; we take MATLAB's conversion to round to the nearest level, halves up
    (unverified). Reading back gives the level - 127.

    Args:
        flow: float array, px (any shape).

    Returns:
        float32 array of the same shape, whole numbers in [-127, 128].
    """
    flow = np.asarray(flow, np.float32)
    if np.isnan(flow).any():
        raise ValueError("round_like_png got NaN flow")
    levels = np.floor(np.clip(flow + PNG_OFFSET, 0, 255) + 0.5)  # the PNG's 8-bit value
    return levels - np.float32(PNG_OFFSET)


def quantise_flow(flow: Array) -> Array:
    """Flow in px -> int8 in units of `FLOW_STEP`, rounded to nearest, saturating at ±127.

    Args:
        flow: (T, 2, H, W) float (numpy or torch).

    Returns:
        (T, 2, H, W) int8 of the same kind; |dequantise(quantise(f)) - f| ≤ FLOW_STEP/2
        for |f| ≤ FLOW_CLIP. NaN is an error.
    """
    if flow.ndim != 4 or flow.shape[1] != 2:
        raise ValueError(f"quantise_flow expects (T, 2, H, W), got shape {tuple(flow.shape)}")
    if isinstance(flow, torch.Tensor):
        if torch.isnan(flow).any():
            raise ValueError("quantise_flow got NaN flow")
        return torch.round(flow / FLOW_STEP).clamp_(-127, 127).to(torch.int8)
    if np.isnan(flow).any():
        raise ValueError("quantise_flow got NaN flow")
    steps = np.divide(flow, FLOW_STEP, dtype=np.float32)
    np.rint(steps, out=steps)
    np.clip(steps, -127, 127, out=steps)
    return steps.astype(np.int8)


def dequantise_flow(flow_q: Array) -> Array:
    """int8 flow (T, 2, H, W) -> float32 px (numpy or torch; same kind and device)."""
    if flow_q.ndim < 3 or flow_q.shape[-3] != 2:
        raise ValueError(f"dequantise_flow expects (..., 2, H, W), got shape {tuple(flow_q.shape)}")
    if isinstance(flow_q, torch.Tensor):
        if flow_q.dtype != torch.int8:
            raise ValueError(f"dequantise_flow expects int8, got {flow_q.dtype}")
        return flow_q.to(torch.float32) * FLOW_STEP
    if flow_q.dtype != np.int8:
        raise ValueError(f"dequantise_flow expects int8, got {flow_q.dtype}")
    return flow_q.astype(np.float32) * np.float32(FLOW_STEP)


def normalise_per_frame(x: torch.Tensor, mode: str = "standard", eps: float = 1e-6) -> torch.Tensor:
    """Normalise every (H, W) plane on its own (paper §4.2; prepareDataset.lua).

    ``"standard"``:   y = (x - mean) / std,        std with the biased (1/n) variance.
    ``"mclaughlin"``: y = (x - mean) / sqrt(std),  std with the unbiased (1/(n-1)) variance,
    as Torch7's ``torch.std`` in the original code.

    A constant plane (max == min, e.g. the zero flow of the first frame) gives zeros; the
    divisor of any other plane is floored at ``eps``.

    Args:
        x: (..., H, W) float tensor, typically (T, C, H, W).

    Returns:
        float tensor of the same shape, dtype and device.
    """
    if mode not in NORMALISATIONS:
        raise ValueError(f"mode must be one of {NORMALISATIONS}, got {mode!r}")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim < 2:
        raise ValueError(
            f"normalise_per_frame expects a float tensor (..., H, W), got "
            f"{type(x).__name__} {getattr(x, 'dtype', '')} {tuple(getattr(x, 'shape', ()))}"
        )
    dims = (-2, -1)
    var, mean = torch.var_mean(x, dim=dims, correction=1 if mode == "mclaughlin" else 0, keepdim=True)
    std = var.sqrt()  # (..., 1, 1)
    divisor = std if mode == "standard" else std.sqrt()
    constant = x.amax(dim=dims, keepdim=True) == x.amin(dim=dims, keepdim=True)
    divisor = torch.where(constant, torch.ones_like(divisor), divisor.clamp_min(eps))
    return (x - mean) / divisor * ~constant


def _as_tensor(a: torch.Tensor | np.ndarray) -> torch.Tensor:
    if isinstance(a, np.ndarray) and not a.flags.writeable:
        a = a.copy()  # a read-only memory map; torch.as_tensor would warn
    return torch.as_tensor(a)


def model_input(
    rgb_u8: torch.Tensor | np.ndarray,
    flow_q: torch.Tensor | np.ndarray,
    cfg: PreprocessConfig,
) -> torch.Tensor:
    """The model's five channels [Y, U, V, flow_x, flow_y] from the cached arrays.

    Args:
        rgb_u8: (..., T, 3, H, W) uint8 resized RGB (numpy or torch).
        flow_q: (..., T, 2, H, W) int8 quantised flow (`quantise_flow`).
        cfg: normalisation mode, flow on/off, flow scale, eps.

    Returns:
        (..., T, 5, H, W) float32 on ``rgb_u8``'s device: YUV of RGB/255 and
        flow·flow_scale (zeros when ``cfg.use_flow`` is False), each plane normalised
        by `normalise_per_frame`.
    """
    rgb = _as_tensor(rgb_u8)
    flow_q = _as_tensor(flow_q).to(rgb.device)
    if rgb.dtype != torch.uint8 or rgb.ndim < 3 or rgb.shape[-3] != 3:
        got = f"{rgb.dtype} {tuple(rgb.shape)}"
        raise ValueError(f"rgb_u8: expected uint8 (..., T, 3, H, W), got {got}")
    if (
        flow_q.dtype != torch.int8
        or flow_q.shape[:-3] != rgb.shape[:-3]
        or flow_q.shape[-3] != 2
        or flow_q.shape[-2:] != rgb.shape[-2:]
    ):
        raise ValueError(
            f"flow_q: expected int8 (..., T, 2, H, W) as rgb_u8 {tuple(rgb.shape)}, "
            f"got {flow_q.dtype} {tuple(flow_q.shape)}"
        )
    yuv = rgb_to_yuv(rgb.to(torch.float32) / 255)  # (..., T, 3, H, W)
    if cfg.use_flow:
        flow = dequantise_flow(flow_q) * cfg.flow_scale  # (..., T, 2, H, W)
    else:
        flow = torch.zeros_like(flow_q, dtype=torch.float32)  # (..., T, 2, H, W)
    x = torch.cat([yuv, flow], dim=-3)  # (..., T, 5, H, W)
    return normalise_per_frame(x, cfg.normalisation, cfg.eps)
