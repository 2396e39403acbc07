"""Dense Lucas–Kanade optical flow between consecutive frames (paper §4.2, its reference [33]).

The paper (§4.2, after McLaughlin et al.) feeds the network two optical-flow channels,
"calculated between each pair of images horizontally and vertically by Lucas-Kanade
algorithm". The original code ran MATLAB's ``vision.OpticalFlow`` (method 'Lucas-Kanade',
default properties) on ``double(rgb2gray(frame))``, intensities 0..255 (computeOpticalFlow.m;
book: The original code, "Optical flow").
This module is a vectorised re-implementation of the same single-scale method, not a port:
MATLAB's exact filters are not verified here.

Flow convention: ``flow[0] = u`` (horizontal, +x = right), ``flow[1] = v`` (vertical,
+y = down), in pixels, such that ``nxt(x + u, y + v) ≈ prev(x, y)``.

The method, for a pair of frames I0 = prev, I1 = nxt (all sums are per pixel p):

    I   = (I0 + I1) / 2                                  (1) gradients at the temporal midpoint
    I_x = I * d,  I_y = I * dᵀ,  d = [1, -8, 0, 8, -1]/12   (2) fourth-order central difference
    I_t = I1 - I0                                        (3)
    G = Σ_q w(q - p) [[I_x², I_x I_y], [I_x I_y, I_y²]]  (4) structure tensor, window w
    b = Σ_q w(q - p) [I_x I_t, I_y I_t]
    (u, v) = -G⁻¹ b                                      (5) closed-form 2×2 solve
    λ_± = tr(G)/2 ± sqrt((G_xx - G_yy)²/4 + G_xy²)       eigenvalues of G, λ_- ≤ λ_+
    (5) where λ_- ≥ τ; otherwise (u, v) = 0              (6)
    with ``normal_flow``, where λ_- < τ ≤ λ_+:
    (u, v) = -(e·b / λ_+) e / |e|²,  G e = λ_+ e         (6') the normal flow

Choices, and why:

- (1) Taking the spatial gradient of the average of both frames makes the estimate
  symmetric in time: for a sinusoid of frequency ω moved by d, the relative error is about
  (ωd)²/12, against ωd/2 for the gradient of I0 alone.
- The window w is a ``window``×``window`` Gaussian of standard deviation ``sigma``,
  normalised to sum 1, or uniform (a box) when ``sigma == 0``. 5×5 with sigma 1 is close to
  a binomial [1 4 6 4 1]/16 window, which is what we recall MathWorks' opticalFlowLK page
  describing (with the derivative d of (2)); not checked against MATLAB here.
- (6) The noise threshold τ (``min_eigenvalue``) plays the role of MATLAB's
  NoiseReductionThreshold. With w summing to 1 and intensities 0..255, λ_- is a mean squared
  gradient in (grey levels/px)²; our default τ = 1 zeroes windows whose weakest direction
  changes by less than about 1 grey level/px. MATLAB's default, 0.0039, applied to the
  0..255 values the original fed it, passes any gradient above 0.06 grey levels/px: nearly
  every window of a real frame. (Had MathWorks meant it for intensities in 0..1 it would be
  0.0039·255² ≈ 254 on this scale; nothing documents a rescaling of double input: unverified.)
- (6') MathWorks documents three cases for its LK: both eigenvalues ≥ τ: the full solution;
  only the larger ≥ τ: "the gradient flow is normalized" to give u and v; neither: zero
  (MathWorks, opticalFlowLKDoG class, "Algorithms"). We read the middle case as the
  least-squares solution restricted to the dominant eigenvector e of G, the windowed normal
  flow; for a one-dimensional texture it is the motion along the gradient. Which formula
  MATLAB uses there is unverified. ``normal_flow=False`` (our default) gives zero instead.
- Borders are handled by replicating the edge pixels; flow within window/2 + 2 pixels of the
  border is less accurate.
- Single scale, like MATLAB's LK: shifts beyond about one pixel are underestimated or lost.
  ``iterations > 1`` refines the estimate: both frames are warped halfway towards each other
  with ``cv2.remap`` (bilinear), I0'(x) = I0(x - f/2), I1'(x) = I1(x + f/2), and (1)-(6) are
  solved again for the increment Δf, f ← f + Δf (7). Warping both frames by half keeps their
  interpolation blur equal. The refined f at pixel x belongs to the point x - f/2 of I0, and
  ``cv2.remap`` rounds coordinates to 1/32 px, so refinement gains for shifts of a pixel or
  more and loses a little for sub-pixel ones (see tests/test_flow.py and
  benchmarks/compare_flow.py).

`FlowConfig` gathers these options with the cache's other flow readings (resolution, grey
rounding, the PNG's whole pixels); `FLOW_MODES` names the combinations ("resized": ours,
"original": as computeOpticalFlow.m).

Implementation: frames are laid out as the channels of one (H, W, K) float32 image so that
each OpenCV filter call handles a whole chunk of frame pairs (OpenCV allows at most 512
channels): `_MAX_PAIRS` of 64×48, fewer of larger frames (`_CHUNK_PIXELS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WINDOW = 5  # window side, pixels (MathWorks' LK documents a 5×5 window)
SIGMA = 1.0  # Gaussian window std, pixels; 0 = box window
MIN_EIGENVALUE = 1.0  # τ of Eq. (6), (grey levels/px)² for 0..255 intensities
NORMAL_FLOW = False  # True: the flow along the gradient where only λ_max ≥ τ, Eq. (6'); False: zero there
ITERATIONS = 1  # 1 = plain LK; more = warped refinement, Eq. (7)

_MAX_PAIRS = 8  # pairs per chunk; 64×48 temporaries of 8 planes (98 KB) were fastest here:
#                bigger ones paid for fresh memory pages, smaller ones for per-call overhead
_CHUNK_PIXELS = 8 * 64 * 48  # the same budget for larger frames: 3 pairs of 128×64, 1 of 256×128
#                (measured: about twice as fast per pair as chunks of 8 pairs of them)
_DERIV = np.array([1, -8, 0, 8, -1], np.float32) / 12  # Eq. (2), as a correlation kernel
_ONE = np.ones(1, np.float32)
_BORDER = cv2.BORDER_REPLICATE


def _check_options(window: int, sigma: float, min_eigenvalue: float, normal_flow: bool, iterations: int) -> None:
    if not (isinstance(window, (int, np.integer)) and window >= 3 and window % 2 == 1):
        raise ValueError(f"window must be an odd integer >= 3, got {window!r}")
    if not sigma >= 0:
        raise ValueError(f"sigma must be >= 0 (0 = box window), got {sigma!r}")
    if not min_eigenvalue >= 0:
        raise ValueError(f"min_eigenvalue must be >= 0, got {min_eigenvalue!r}")
    if not isinstance(normal_flow, (bool, np.bool_)):
        raise ValueError(f"normal_flow must be a bool, got {normal_flow!r}")
    if not (isinstance(iterations, (int, np.integer)) and iterations >= 1):
        raise ValueError(f"iterations must be an integer >= 1, got {iterations!r}")


def _window_kernel(window: int, sigma: float) -> np.ndarray:
    if sigma == 0:
        return np.full(window, 1.0 / window, np.float32)
    return cv2.getGaussianKernel(window, sigma, cv2.CV_32F).ravel()


def _filter(image: np.ndarray, kx: np.ndarray, ky: np.ndarray) -> np.ndarray:
    """Separable correlation of every channel of ``image`` (H, W, K) -> (H, W, K) float32."""
    out = cv2.sepFilter2D(image, cv2.CV_32F, kx, ky, borderType=_BORDER)
    return out.reshape(image.shape)  # OpenCV drops a channel axis of size 1


def _pairwise(x: np.ndarray, a: float, b: float) -> np.ndarray:
    """a·x[..., k] + b·x[..., k+1] for every k: (H, W, T) -> (H, W, T-1), contiguous.

    A (T, T-1) matrix product: for a few frames this is three times faster than adding two
    strided slices.
    """
    H, W, T = x.shape
    M = np.zeros((T, T - 1), np.float32)
    k = np.arange(T - 1)
    M[k, k], M[k + 1, k] = a, b
    return (x.reshape(H * W, T) @ M).reshape(H, W, T - 1)


def _solve(
    Ix: np.ndarray, Iy: np.ndarray, It: np.ndarray, kernel: np.ndarray, min_eigenvalue: float, normal_flow: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Eqs. (4)-(6) for K pairs at once: gradients (H, W, K) -> u, v (H, W, K) float32.

    Every product is filtered as its own contiguous array, and the arithmetic is done in
    place: on these small arrays this is about twice as fast as one interleaved array.
    """
    Gxx = _filter(Ix * Ix, kernel, kernel)  # Eq. (4): window sums, (H, W, K) each
    Gyy = _filter(Iy * Iy, kernel, kernel)
    Gxy = _filter(Ix * Iy, kernel, kernel)
    bx = _filter(Ix * It, kernel, kernel)
    by = _filter(Iy * It, kernel, kernel)
    det = Gxx * Gyy
    det -= Gxy * Gxy
    half_gap = Gxx - Gyy  # becomes sqrt((Gxx - Gyy)²/4 + Gxy²)
    half_gap *= 0.5
    np.multiply(half_gap, half_gap, out=half_gap)
    half_gap += Gxy * Gxy
    np.sqrt(half_gap, out=half_gap)
    half_trace = Gxx + Gyy
    half_trace *= 0.5
    lam_min = half_trace - half_gap  # Eq. (6)
    textured = lam_min >= min_eigenvalue
    textured &= det > 0
    inv_det = np.divide(1.0, det, out=np.zeros_like(det), where=textured)
    u = Gxy * by  # Eq. (5): u = (Gxy by - Gyy bx) / det
    u -= Gyy * bx
    u *= inv_det
    v = Gxy * bx  # v = (Gxy bx - Gxx by) / det
    v -= Gxx * by
    v *= inv_det
    if normal_flow:
        _add_normal_flow(u, v, Gxx, Gyy, Gxy, bx, by, half_trace + half_gap, ~textured, min_eigenvalue)
    return u, v


def _add_normal_flow(u, v, Gxx, Gyy, Gxy, bx, by, lam_max, untextured, min_eigenvalue) -> None:
    """Eq. (6'): where only λ_max ≥ τ, write f = -(e·b / λ_max) e / |e|² into u, v (in place).

    e is an eigenvector of G for λ_max, taken from the row of G - λ_max·1 that is better
    conditioned: (Gxy, λ_max - Gxx) when Gyy ≥ Gxx, else (λ_max - Gyy, Gxy).
    """
    one_sided = untextured & (lam_max >= min_eigenvalue)
    if not one_sided.any():
        return
    Gxx, Gyy, Gxy, bx, by, lam = (a[one_sided] for a in (Gxx, Gyy, Gxy, bx, by, lam_max))
    y_major = Gyy >= Gxx
    ex = np.where(y_major, Gxy, lam - Gyy)
    ey = np.where(y_major, lam - Gxx, Gxy)
    norm2 = ex * ex + ey * ey
    scale = np.divide(-(ex * bx + ey * by), lam * norm2, out=np.zeros_like(lam), where=norm2 > 0)
    u[one_sided] = scale * ex
    v[one_sided] = scale * ey


def _warp_halfway(frames: np.ndarray, u: np.ndarray, v: np.ndarray, sign: float) -> np.ndarray:
    """Sample each frame k of ``frames`` (H, W, K) at x + sign·f_k/2 (bilinear, edge replicated).

    The K frames are stacked into one tall (K·H, W) image so that a single ``cv2.remap`` call
    warps them all; clipping the row coordinate to each frame's own rows keeps frames apart.
    """
    H, W, K = frames.shape
    tall = np.ascontiguousarray(frames.transpose(2, 0, 1)).reshape(K * H, W)  # (K·H, W)
    ys = np.arange(H, dtype=np.float32)[None, :, None]
    xs = np.arange(W, dtype=np.float32)[None, None, :]
    top = (np.arange(K, dtype=np.float32) * H)[:, None, None]
    map_x = np.clip(xs + sign * 0.5 * u.transpose(2, 0, 1), 0, W - 1)  # (K, H, W)
    map_y = np.clip(ys + sign * 0.5 * v.transpose(2, 0, 1), 0, H - 1) + top
    warped = cv2.remap(tall, map_x.reshape(K * H, W), map_y.reshape(K * H, W), cv2.INTER_LINEAR, borderMode=_BORDER)
    return np.ascontiguousarray(warped.reshape(K, H, W).transpose(1, 2, 0))  # (H, W, K)


def _flow_chunk(
    g: np.ndarray, kernel: np.ndarray, min_eigenvalue: float, normal_flow: bool, iterations: int
) -> tuple[np.ndarray, np.ndarray]:
    """Flow of the T-1 consecutive pairs of ``g`` (H, W, T) -> u, v (H, W, T-1)."""
    Gx = _filter(g, _DERIV, _ONE)  # (H, W, T): gradients of every frame, once
    Gy = _filter(g, _ONE, _DERIV)
    # Eq. (1): the gradient of the pair average is the average of the gradients (linearity).
    Ix = _pairwise(Gx, 0.5, 0.5)  # (H, W, T-1)
    Iy = _pairwise(Gy, 0.5, 0.5)
    It = _pairwise(g, -1.0, 1.0)  # Eq. (3)
    u, v = _solve(Ix, Iy, It, kernel, min_eigenvalue, normal_flow)
    prev, nxt = g[..., :-1], g[..., 1:]
    for _ in range(iterations - 1):  # Eq. (7)
        prev_w = _warp_halfway(prev, u, v, -1.0)
        nxt_w = _warp_halfway(nxt, u, v, +1.0)
        mean = 0.5 * (prev_w + nxt_w)
        Ix, Iy = _filter(mean, _DERIV, _ONE), _filter(mean, _ONE, _DERIV)
        du, dv = _solve(Ix, Iy, nxt_w - prev_w, kernel, min_eigenvalue, normal_flow)
        u, v = u + du, v + dv
    return u, v


def sequence_flow(
    gray: np.ndarray,
    *,
    window: int = WINDOW,
    sigma: float = SIGMA,
    min_eigenvalue: float = MIN_EIGENVALUE,
    normal_flow: bool = NORMAL_FLOW,
    iterations: int = ITERATIONS,
) -> np.ndarray:
    """Flow from each frame's predecessor to the frame, for a whole tracklet.

    Args:
        gray: (T, H, W) grey frames, any real dtype (cast to float32); 0..255 intensities
            for the default ``min_eigenvalue``.
        window, sigma, min_eigenvalue, normal_flow, iterations: as in `dense_lucas_kanade`.

    Returns:
        (T, 2, H, W) float32: ``out[t] = dense_lucas_kanade(gray[t-1], gray[t])`` for t ≥ 1.
        The first frame has no predecessor and gets zero flow. (What MATLAB's
        ``vision.OpticalFlow`` returned for the first frame in the original code is
        unverified; see computeOpticalFlow.m.)
    """
    gray = np.asarray(gray)
    if gray.ndim != 3 or gray.shape[1] < 1 or gray.shape[2] < 1:
        raise ValueError(f"gray must have shape (T, H, W), got {gray.shape}")
    if not (np.issubdtype(gray.dtype, np.integer) or np.issubdtype(gray.dtype, np.floating)):
        raise ValueError(f"gray must be a real (integer or float) array, got dtype {gray.dtype}")
    _check_options(window, sigma, min_eigenvalue, normal_flow, iterations)
    T, H, W = gray.shape
    out = np.zeros((T, 2, H, W), np.float32)  # (T, 2, H, W)
    if T < 2:
        return out
    g = np.ascontiguousarray(gray.transpose(1, 2, 0), dtype=np.float32)  # (H, W, T)
    kernel = _window_kernel(window, sigma)
    pairs = max(1, min(_MAX_PAIRS, _CHUNK_PIXELS // (H * W)))  # per chunk; each pair is solved on its own
    for start in range(0, T - 1, pairs):
        stop = min(start + pairs, T - 1)  # pairs start..stop-1 use frames start..stop
        u, v = _flow_chunk(g[..., start : stop + 1], kernel, min_eigenvalue, normal_flow, iterations)
        out[start + 1 : stop + 1, 0] = u.transpose(2, 0, 1)  # (H, W, K) -> (K, H, W)
        out[start + 1 : stop + 1, 1] = v.transpose(2, 0, 1)
    return out


def dense_lucas_kanade(
    prev: np.ndarray,
    nxt: np.ndarray,
    *,
    window: int = WINDOW,
    sigma: float = SIGMA,
    min_eigenvalue: float = MIN_EIGENVALUE,
    normal_flow: bool = NORMAL_FLOW,
    iterations: int = ITERATIONS,
) -> np.ndarray:
    """Dense single-scale Lucas–Kanade flow from ``prev`` to ``nxt`` (Eqs. (1)-(7) above).

    Args:
        prev, nxt: (H, W) grey frames, float32 (other real dtypes are cast), 0..255
            intensities for the default ``min_eigenvalue``.
        window: side of the (odd) square window of Eq. (4), pixels.
        sigma: std of the Gaussian window, pixels; 0 gives a uniform box window.
        min_eigenvalue: τ of Eq. (6); the full solution (5) where the smaller eigenvalue of
            the structure tensor reaches it, else zero (or the normal flow, below).
        normal_flow: where only the larger eigenvalue reaches τ, the flow along the dominant
            gradient direction, Eq. (6'), instead of zero (MATLAB's rule).
        iterations: 1 = plain LK; n > 1 adds n-1 warped refinement steps, Eq. (7).

    Returns:
        (2, H, W) float32: u (horizontal, +x right) and v (vertical, +y down), pixels, with
        ``nxt(x + u, y + v) ≈ prev(x, y)``.
    """
    prev, nxt = np.asarray(prev), np.asarray(nxt)
    if prev.ndim != 2 or prev.shape != nxt.shape:
        raise ValueError(f"prev and nxt must be (H, W) arrays of one shape, got {prev.shape} and {nxt.shape}")
    return sequence_flow(
        np.stack([prev, nxt]),
        window=window,
        sigma=sigma,
        min_eigenvalue=min_eigenvalue,
        normal_flow=normal_flow,
        iterations=iterations,
    )[1]


# ---------------------------------------------------------------- the readings, as one config

RESOLUTIONS = ("resized", "source")
MATLAB_NOISE_THRESHOLD = 0.0039  # vision.OpticalFlow's NoiseReductionThreshold default (MathWorks documentation)


@dataclass(frozen=True)
class FlowConfig:
    """How the cached flow is made (`stsrn_lite.preprocess.frames.preprocess_tracklet`).

    Each field is one reading of the original's flow (computeOpticalFlow.m; book: The original
    code, "Optical flow"; Design decisions, "Optical flow: where and how LK runs"); `FLOW_MODES`
    names the combinations a run chooses from (`TrainConfig.flow`); "OF.m" below is the
    original's computeOpticalFlow.m (commit 331cfae). With ``resolution="source"`` LK runs on
    the frames as stored and the flow field is area-resized to 64×48 like an image, its values
    left in pixels of the stored frame, as prepareDataset.lua:45-46 scales the PNG.
    """

    resolution: str = "resized"  # "resized": LK on the 64×48 frames; "source": on the stored ones (OF.m:55)
    min_eigenvalue: float = MIN_EIGENVALUE  # τ of Eq. (6), (grey levels/px)²; MATLAB's default: 0.0039 (OF.m:51)
    normal_flow: bool = NORMAL_FLOW  # Eq. (6'): flow along the gradient where only λ_max ≥ τ (MATLAB's rule)
    integer_grey: bool = False  # grey rounded to whole levels, as rgb2gray of a uint8 frame (OF.m:55)
    png: bool = False  # flow rounded to whole px in [-127, 128] before the resize, as the PNGs (OF.m:73-91)
    window: int = WINDOW  # side of the window w of Eq. (4), px (MathWorks documents 5×5)
    sigma: float = SIGMA  # std of the Gaussian window, px; 0 = box
    iterations: int = ITERATIONS  # 1 = plain single-scale LK, as MATLAB's; more: Eq. (7)

    def __post_init__(self) -> None:
        if self.resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {RESOLUTIONS}, got {self.resolution!r}")
        for name in ("integer_grey", "png"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        _check_options(self.window, self.sigma, self.min_eigenvalue, self.normal_flow, self.iterations)

    def lucas_kanade(self) -> dict:
        """The keyword arguments of `sequence_flow`."""
        return {
            "window": self.window,
            "sigma": self.sigma,
            "min_eigenvalue": self.min_eigenvalue,
            "normal_flow": self.normal_flow,
            "iterations": self.iterations,
        }


FLOW_MODES: dict[str, FlowConfig] = {
    # Ours: LK where the model looks, on the 64×48 frames; τ = 1 zeroes untextured windows.
    "resized": FlowConfig(),
    # The original as far as the evidence goes: MATLAB's rule and default threshold on the
    # grey frames as stored, the 8-bit PNG's whole pixels, then Torch's area resize.
    "original": FlowConfig(
        resolution="source", min_eigenvalue=MATLAB_NOISE_THRESHOLD, normal_flow=True, integer_grey=True, png=True
    ),
    # The same without the PNG's rounding to whole pixels.
    "original-float": FlowConfig(
        resolution="source", min_eigenvalue=MATLAB_NOISE_THRESHOLD, normal_flow=True, integer_grey=True
    ),
}
DEFAULT_FLOW = "resized"  # the one default: TrainConfig.flow, the cache functions, the smoke and full profiles


def flow_config(flow: str | FlowConfig) -> FlowConfig:
    """A `FlowConfig` from a mode name of `FLOW_MODES` (or a config, returned as is)."""
    if isinstance(flow, FlowConfig):
        return flow
    if not isinstance(flow, str) or flow not in FLOW_MODES:
        raise ValueError(f"unknown flow mode {flow!r}; expected one of {tuple(FLOW_MODES)}")
    return FLOW_MODES[flow]
