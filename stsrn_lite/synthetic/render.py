"""Renderer of synthetic walking pedestrians for the video re-ID benchmark (paper §4.1).

Each tracklet imitates what a detector + tracker crops from one camera of iLIDS-VID, PRID2011
or MARS (paper §4.1): a person walking in a direction the camera favours, the box following
the person (so the background scrolls past in side views), and the nuisances of real footage:
box jitter, blur (defocus and motion), sensor noise, JPEG softness, illumination and colour
cast, and occluders (a passer-by, a pillar, a luggage trolley) over a contiguous range of
frames. `render_junk` imitates MARS's junk detections (background only, part of a body, a
zoomed-in fragment).

What is drawn (identities, camera styles, the body model) lives in `appearance.py`; this file
rasterises it: raster helpers, then the scene, then occluders, then the frame loop. Lengths
are fractions of the person's stature or of the box, so the same code renders 128×64
(iLIDS-VID, PRID2011) and 256×128 (MARS) boxes. Shapes: T frames, H×W pixels, RGB last.

The gait (the network also sees optical flow, paper §4.2) is driven by the phase
`phi = phi0 + 2*pi*t / step_period`; stride, knee flexion, arm swing, arm phase lag and bounce
are per identity, so the flow between frames carries identity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

from stsrn_lite.synthetic.appearance import (
    GARMENT_PALETTE,
    VIEWS,
    Appearance,
    Camera,
    gait,
    person_parts,
    rect,
    sample_appearance,
    sample_camera,
    shade,
)

__all__ = [
    "Appearance",
    "Camera",
    "RenderedTracklet",
    "sample_appearance",
    "sample_camera",
    "render_tracklet",
    "render_junk",
]

OCCLUDERS = ("pedestrian", "pillar", "trolley")
JUNK_KINDS = ("background", "partial", "fragment")
SCENE_LENGTH = 8  # a camera's static scene is 8 box heights (16 box widths) wide
_SHIFT = 4  # cv2 sub-pixel bits: coordinates are drawn at 1/16 px
_ONE = 1 << _SHIFT
_AA = cv2.LINE_AA


@dataclass(frozen=True)
class RenderedTracklet:
    """One rendered tracklet."""

    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    occluded: np.ndarray  # (T,) bool: an occluder covers part of the person
    meta: dict = field(default_factory=dict)  # JSON-serialisable description of the render


# ---------------------------------------------------------------------------------------------
# Raster helpers: primitives (see appearance.py) -> pixels.


def _pt(p) -> tuple[int, int]:
    return int(round(p[0] * _ONE)), int(round(p[1] * _ONE))


def _fill_pattern(img: np.ndarray, pts: np.ndarray, pattern: tuple) -> None:
    """Stripes or checks inside the torso polygon `pts` (fixed-point), in torso coordinates."""
    kind, colour, period, top_y, cx = pattern
    H, W = img.shape[:2]
    x0, y0 = max(0, int(pts[:, 0].min() // _ONE)), max(0, int(pts[:, 1].min() // _ONE))
    x1, y1 = min(W, int(pts[:, 0].max() // _ONE) + 2), min(H, int(pts[:, 1].max() // _ONE) + 2)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)  # (h, w)
    cv2.fillConvexPoly(mask, pts - np.array([x0, y0]) * _ONE, 255, cv2.LINE_8, _SHIFT)
    rows = np.floor((np.arange(y0, y1) + 0.5 - top_y) / period)[:, None]  # (h, 1)
    cols = np.floor((np.arange(x0, x1) + 0.5 - cx) / period + 0.5)[None, :]  # (1, w)
    if kind == "hstripes":
        on = np.broadcast_to(rows % 2 == 1, mask.shape)
    elif kind == "vstripes":
        on = np.broadcast_to(cols % 2 == 1, mask.shape)
    elif kind == "checks":
        on = (rows + cols) % 2 == 1
    else:
        raise ValueError(f"unknown torso pattern {kind!r}")
    img[y0:y1, x0:x1][(mask > 127) & on] = colour


def _draw(img: np.ndarray, parts: list, mono: int | None = None) -> None:
    """Draw primitives on an (H, W, 3) image, or their silhouette on an (H, W) mask (`mono`)."""
    for part in parts:
        kind, colour = part[0], (mono if mono is not None else part[-1])
        if kind == "limb":
            cv2.line(img, _pt(part[1]), _pt(part[2]), colour, max(1, round(part[3])), _AA, _SHIFT)
        elif kind in ("poly", "torso"):
            pts = np.array([_pt(p) for p in part[1]], np.int32)
            cv2.fillConvexPoly(img, pts, colour, _AA, _SHIFT)
            if kind == "torso" and mono is None and part[2] is not None:
                _fill_pattern(img, pts, part[2])
        elif kind == "ellipse":
            axes = (max(_ONE, round(part[2][0] * _ONE)), max(_ONE, round(part[2][1] * _ONE)))
            cv2.ellipse(img, _pt(part[1]), axes, 0, part[3], part[4], colour, -1, _AA, _SHIFT)
        else:
            raise ValueError(f"unknown primitive {kind!r}")


# ---------------------------------------------------------------------------------------------
# The scene: a static panorama per camera, cropped and populated per tracklet.


def _colour(rng: np.random.Generator, base, k: float = 1.0) -> tuple[int, int, int]:
    return tuple(int(x) for x in np.clip(np.asarray(base, float) * k * rng.uniform(0.9, 1.1, 3), 0, 255))


@lru_cache(maxsize=16)
def _scene(camera: Camera, h: int, w: int, unit: int) -> np.ndarray:
    """The camera's static scene, an (h, w, 3) panorama that wraps around horizontally.

    A camera is static, so every tracklet it records crops the same walls, floor and fixtures
    (at different places); `unit` is the box height and sets the scale of everything.
    """
    rng = np.random.default_rng(camera.scene_seed)
    c = camera.background_colours
    img = np.empty((h, w, 3), np.uint8)
    hz = int(h * camera.horizon)
    img[:hz], img[hz:] = _colour(rng, c[0]), _colour(rng, c[1])
    lw = max(1, round(unit / 128))
    n_fixtures = max(1, int(camera.clutter * w / unit))
    if camera.background_kind == "hall":  # airport arrival hall (iLIDS-VID)
        x = 0.0
        while x < w:  # wall panels
            pw = rng.uniform(0.3, 0.9) * unit
            top = int(hz * rng.uniform(0.05, 0.5))
            cv2.rectangle(img, (int(x), top), (int(x + 0.9 * pw), hz), _colour(rng, c[2]), -1)
            x += pw
        for y in np.linspace(hz, h, 4)[1:]:  # floor tiles
            cv2.line(img, (0, int(y)), (w, int(y)), _colour(rng, c[1], 0.8), lw)
        for x in np.arange(0, w, 0.3 * unit):
            cv2.line(img, (int(x), hz), (int(x), h), _colour(rng, c[1], 0.8), lw)
        for _ in range(n_fixtures):  # signs
            x, y = rng.uniform(0, w), rng.uniform(0.05, 0.3) * h
            cv2.rectangle(img, (int(x), int(y)), (int(x + 0.3 * unit), int(y + 0.08 * unit)), _colour(rng, c[4]), -1)
    elif camera.background_kind == "street":  # uncrowded outdoor scene (PRID2011)
        band = int(hz - rng.uniform(0.08, 0.2) * h)
        img[band:hz] = _colour(rng, c[2])
        cv2.line(img, (0, hz), (w, hz), _colour(rng, c[1], 1.3), 2 * lw)
        for _ in range(n_fixtures):  # poles and shrubs
            x = rng.uniform(0, w)
            if rng.random() < 0.5:
                cv2.rectangle(img, (int(x), 0), (int(x + 0.04 * unit) + 1, hz), _colour(rng, c[3]), -1)
            else:
                cv2.ellipse(
                    img,
                    (int(x), band),
                    (int(0.15 * unit), int(0.08 * unit)),
                    0,
                    0,
                    360,
                    _colour(rng, c[2], 0.7),
                    -1,
                    _AA,
                )
        for x in np.arange(0, w, 0.2 * unit):  # paving
            cv2.line(img, (int(x), hz), (int(x), h), _colour(rng, c[1], 0.9), lw)
    elif camera.background_kind == "campus":  # building facades and paths (MARS)
        gx, gy = rng.uniform(0.15, 0.3) * unit, rng.uniform(0.12, 0.25) * unit
        for y in np.arange(0.05 * h, hz - gy, gy * 1.4):  # windows
            for x in np.arange(0, w, gx * 1.5):
                cv2.rectangle(img, (int(x), int(y)), (int(x + gx), int(y + gy)), _colour(rng, c[3], 0.6), -1)
        for _ in range(n_fixtures):  # bushes
            axes = (int(rng.uniform(0.1, 0.3) * unit), int(0.1 * unit))
            cv2.ellipse(img, (int(rng.uniform(0, w)), hz), axes, 0, 180, 360, _colour(rng, c[2]), -1, _AA)
        for y in np.arange(hz, h, 0.06 * unit):  # bricks
            cv2.line(img, (0, int(y)), (w, int(y)), _colour(rng, c[1], 0.88), lw)
    else:
        raise ValueError(f"unknown background kind {camera.background_kind!r}")
    texture = cv2.resize(rng.normal(0, 9, (h // 6 + 2, w // 6 + 2)).astype(np.float32), (w, h))
    img = np.clip(img + texture[..., None], 0, 255).astype(np.uint8)
    img.flags.writeable = False  # shared by the cache
    return img


def _background(camera: Camera, h: int, w: int, unit: int, rng: np.random.Generator) -> np.ndarray:
    """An (h, w, 3) background strip: a crop of the camera's scene plus distant passers-by."""
    scene = _scene(camera, h, SCENE_LENGTH * unit, unit)
    x0 = int(rng.random() * scene.shape[1])  # the same place in the scene at every box size
    strip = np.ascontiguousarray(scene.take(np.arange(x0, x0 + w), axis=1, mode="wrap"))
    hz = int(h * camera.horizon)
    garments = list(GARMENT_PALETTE.values())
    for _ in range(int(rng.poisson(camera.crowd * w / unit))):
        x, s = rng.uniform(0, w), rng.uniform(0.12, 0.3) * unit
        colour = _colour(rng, garments[rng.integers(len(garments))], 0.8)
        cv2.ellipse(
            strip, (int(x), int(hz - 0.2 * s)), (int(0.22 * s) + 1, int(0.5 * s) + 1), 0, 0, 360, colour, -1, _AA
        )
    return cv2.GaussianBlur(strip, (0, 0), 0.5 * unit / 128 + 0.3)


# ---------------------------------------------------------------------------------------------
# Occluders (iLIDS-VID's "extremely heavy occlusion", paper §4.1), in box pixels.


def _plan_occlusion(r: np.random.Generator, T: int, W: int, u: float, speed: float) -> dict:
    """Which occluder, over which contiguous frames, and how it moves.

    The paths are chosen so that the occluder always covers the person's central column
    (pillars: only as long as the scrolling scene keeps them over the person)."""
    kind = OCCLUDERS[r.integers(len(OCCLUDERS))]
    length = max(1, int(round(T * r.uniform(0.2, 0.6))))
    size = r.uniform(0.12, 0.22) * W if kind == "pillar" else r.uniform(0.12, 0.2) * u
    if kind == "pillar" and speed > 0:
        length = min(length, max(1, int(1.6 * size / speed)))
    t0 = int(r.integers(0, T - length + 1))
    colours = list(GARMENT_PALETTE.values())
    return {
        "kind": kind,
        "t0": t0,
        "t1": t0 + length,
        "size": size,
        "dir": float(r.choice((-1, 1))),
        "offset": float(r.uniform(-0.7, 0.7)),
        "speed": speed,
        "colours": [shade(colours[i], 0.8) for i in r.integers(len(colours), size=3)],
        "metal": shade((150, 150, 156), r.uniform(0.8, 1.2)),
    }


def _spanning(plan: dict, T: int, fraction: float) -> dict:
    """``plan`` held over round(fraction · T) contiguous frames (0: none), starting where it
    started when that still fits. A pillar on a scrolling view leaves the person within a few
    frames, so a longer span takes a passer-by instead: the flagged frames stay near the share asked."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"occluded_fraction must lie in [0, 1], got {fraction}")
    length = int(round(fraction * T))
    kind = "pedestrian" if plan["kind"] == "pillar" and plan["speed"] > 0 else plan["kind"]
    t0 = min(plan["t0"], T - length)
    return {**plan, "kind": kind, "t0": t0, "t1": t0 + length}


def _occluder_parts(plan: dict, t: int, u: float, H: int, W: int, foot_y: float, wall) -> list:
    frac = (t - plan["t0"]) / max(1, plan["t1"] - plan["t0"] - 1)
    cx, s, c = W / 2, plan["size"], plan["colours"]
    if plan["kind"] == "pedestrian":  # a nearer passer-by crossing in front
        uo, x, y = 1.3 * u, cx + plan["dir"] * (0.7 - 1.4 * frac) * s, 0.6 * H
        return [
            ("limb", (x - 0.05 * uo, y + 0.2 * uo), (x - 0.06 * uo, H + 5), 0.08 * uo, c[1]),
            ("limb", (x + 0.05 * uo, y + 0.2 * uo), (x + 0.07 * uo, H + 5), 0.08 * uo, c[1]),
            (
                "poly",
                [
                    (x - 1.1 * s, y - 0.26 * uo),
                    (x + 1.1 * s, y - 0.26 * uo),
                    (x + 0.9 * s, y + 0.24 * uo),
                    (x - 0.9 * s, y + 0.24 * uo),
                ],
                c[0],
            ),
            ("ellipse", (x, y - 0.26 * uo), (1.1 * s, 0.05 * uo), 0, 360, c[0]),
            ("ellipse", (x, y - 0.37 * uo), (0.07 * uo, 0.08 * uo), 0, 360, c[2]),
        ]
    if plan["kind"] == "pillar":  # static in the scene: moves with the background
        x = cx + 0.8 * s - plan["speed"] * (t - plan["t0"]) if plan["speed"] > 0 else cx + plan["offset"] * s
        return [
            ("poly", rect(x - s, -2, x + s, H + 2), wall),
            ("limb", (x + 0.7 * s, -2), (x + 0.7 * s, H + 2), 0.3 * s, shade(wall, 0.75)),
        ]
    x = cx + plan["dir"] * 0.4 * s * math.sin(2 * math.pi * frac)  # a luggage trolley alongside
    top, metal, wheel = foot_y - 0.52 * u, plan["metal"], (20, 20, 20)
    return [
        ("poly", rect(x - s, top, x + s, foot_y - 0.08 * u), c[0]),
        ("limb", (x + s, top), (x + s, foot_y - 0.85 * u), 0.02 * u, metal),
        ("limb", (x - s, foot_y - 0.06 * u), (x + s, foot_y - 0.06 * u), 0.025 * u, metal),
        ("ellipse", (x - 0.7 * s, foot_y - 0.03 * u), (0.03 * u, 0.03 * u), 0, 360, wheel),
        ("ellipse", (x + 0.7 * s, foot_y - 0.03 * u), (0.03 * u, 0.03 * u), 0, 360, wheel),
        ("limb", (x - s, foot_y - 0.5 * u), (x + s, foot_y - 0.5 * u), 0.015 * u, metal),
    ]


# ---------------------------------------------------------------------------------------------
# The tracklet.


def _ar1(rng: np.random.Generator, n: int, std: float, rho: float = 0.7) -> np.ndarray:
    """Temporally correlated jitter: detector boxes wobble smoothly, not as white noise."""
    x = np.empty(n)
    x[0] = rng.normal(0, std)
    eps = rng.normal(0, std * math.sqrt(1 - rho**2), n)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + eps[t]
    return x


def _check(n_frames: int, size_hw, rng: np.random.Generator) -> tuple[int, int]:
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 1:
        raise ValueError(f"n_frames must be an integer >= 1, got {n_frames!r}")
    if len(size_hw) != 2 or any(not isinstance(v, (int, np.integer)) or v < 32 for v in size_hw):
        raise ValueError(f"size_hw must be two integers >= 32 (H, W), got {size_hw!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return int(size_hw[0]), int(size_hw[1])


def _sensor(
    img: np.ndarray, camera: Camera, light: np.ndarray, lut: np.ndarray, noise: np.random.Generator
) -> np.ndarray:
    """Illumination and colour cast, saturation, sensor noise, tone curve, JPEG softness."""
    f = img.astype(np.float32) * light  # (H, W, 3)
    grey = f.mean(axis=2, keepdims=True)
    f = grey + camera.saturation * (f - grey)
    if camera.noise_sigma > 0:
        f += camera.noise_sigma * noise.standard_normal(f.shape, dtype=np.float32)
    img = cv2.LUT(np.clip(f + 0.5, 0, 255).astype(np.uint8), lut)
    if camera.jpeg_quality > 0:  # cv2 codes BGR
        _, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, camera.jpeg_quality])
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    return img


def _render(
    app: Appearance,
    camera: Camera,
    n_frames: int,
    size_hw,
    rng: np.random.Generator,
    occlusion: bool | None,
    *,
    occluded_fraction: float | None = None,
    person: bool = True,
    zoom: float = 1.0,
    offset: tuple[float, float] = (0.0, 0.0),
) -> RenderedTracklet:
    H, W = _check(n_frames, size_hw, rng)
    T = int(n_frames)
    # Independent streams, so forcing or forbidding occlusion changes nothing else.
    r_view, r_bg, r_motion, r_blur, r_noise, r_occ = (
        np.random.default_rng(seed) for seed in rng.integers(0, 2**63 - 1, 6)
    )
    view = VIEWS[r_view.choice(len(VIEWS), p=camera.view_probs)]
    # The box normalises most of the stature difference between people.
    u0 = camera.person_scale * (1 + 0.35 * (app.height - 1)) * H * zoom * math.exp(r_motion.normal(0, 0.03))
    step = 2 * (app.leg_ratio - 0.03) * u0 * math.sin(app.stride)  # step length, px
    speed = 2 * step / app.step_period if view in ("right", "left") else 0.0  # scroll, px/frame
    phi0 = r_motion.uniform(0, 2 * math.pi)
    mx, my = math.ceil(0.15 * W), math.ceil(0.1 * H)
    jx = np.clip(np.round(_ar1(r_motion, T, camera.jitter * W)), -mx, mx).astype(int)
    jy = np.clip(np.round(_ar1(r_motion, T, camera.jitter * H * 0.5)), -my, my).astype(int)
    js = np.exp(_ar1(r_motion, T, camera.scale_jitter))
    strip = _background(camera, H + 2 * my, W + 2 * mx + math.ceil(speed * (T - 1)) + 1, H, r_bg)
    ys, xs = np.linspace(-0.5, 0.5, H)[:, None], np.linspace(-0.5, 0.5, W)[None, :]
    gain = camera.gain * math.exp(r_bg.normal(0, 0.06))
    light = gain * (1 + camera.gradient[0] * ys + camera.gradient[1] * xs)  # (H, W)
    cast = np.asarray(camera.channel_gains) * np.exp(r_bg.normal(0, 0.02, 3))
    light = (light[..., None] * cast).astype(np.float32)  # (H, W, 3)
    lut = np.clip(255 * (np.arange(256) / 255) ** camera.gamma + 0.5, 0, 255).astype(np.uint8)
    plan = _plan_occlusion(r_occ, T, W, u0, speed)
    drawn = r_occ.random() < camera.occlusion_prob
    occluding = person and (drawn if occlusion is None else bool(occlusion))
    if occluded_fraction is not None:
        plan = _spanning(plan, T, occluded_fraction)
        occluding = person and plan["t1"] > plan["t0"]
    blurred, motion = r_blur.random(T) < camera.blur_prob, r_blur.random(T) < 0.5
    sigma = r_blur.uniform(0.5, 1.3, T) * H / 128
    smear = np.round(r_blur.uniform(3, 8, T) * H / 128).astype(int)
    wall = shade(camera.background_colours[2], 1.15)

    frames = np.empty((T, H, W, 3), np.uint8)  # (T, H, W, 3)
    occluded = np.zeros(T, bool)
    for t in range(T):
        x0, y0 = mx + int(round(speed * t)) + jx[t], my + jy[t]
        img = strip[y0 : y0 + H, x0 : x0 + W].copy()  # (H, W, 3)
        u = u0 * js[t]
        foot_y = 0.5 * H + 0.5 * u + 0.01 * H - jy[t] + offset[1]
        cx = 0.5 * W - jx[t] + offset[0]
        if person:
            pose = gait(app, phi0 + 2 * math.pi * t / app.step_period, u, foot_y)
            parts = person_parts(app, view, pose, u, cx)
            _draw(img, parts)
            if occluding and plan["t0"] <= t < plan["t1"]:
                # Flag (and draw) the occluder only where it covers >= 1% of the person.
                occ = _occluder_parts(plan, t, u, H, W, foot_y, wall)
                m_person, m_occ = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
                _draw(m_person, parts, mono=255)
                _draw(m_occ, occ, mono=255)
                body = np.count_nonzero(m_person > 127)
                if np.count_nonzero((m_person > 127) & (m_occ > 127)) >= max(1, 0.01 * body):
                    _draw(img, occ)
                    occluded[t] = True
        if view == "left":
            img = np.ascontiguousarray(img[:, ::-1])
        if blurred[t] and motion[t]:
            img = cv2.blur(img, (int(smear[t]), 1))
        elif blurred[t]:
            img = cv2.GaussianBlur(img, (0, 0), float(sigma[t]))
        frames[t] = _sensor(img, camera, light, lut, r_noise)
    hits = np.flatnonzero(occluded)
    meta = {
        "camid": camera.index,
        "view": view,
        "person_height_px": round(u0, 2),
        "gait_period": round(app.step_period, 3),
        "start_phase": round(phi0, 4),
        "scroll_px_per_frame": round(speed, 3),
        "illumination_gain": round(gain, 4),
        "occluder": plan["kind"] if hits.size else None,
        "occluded_frames": [int(hits[0]), int(hits[-1]) + 1] if hits.size else None,
        "blur_frames": [int(t) for t in np.flatnonzero(blurred & ~motion)],
        "motion_blur_frames": [int(t) for t in np.flatnonzero(blurred & motion)],
        "jpeg_quality": camera.jpeg_quality,
    }
    return RenderedTracklet(frames, occluded, meta)


def render_tracklet(
    appearance: Appearance,
    camera: Camera,
    n_frames: int,
    size_hw=(128, 64),
    *,
    rng: np.random.Generator,
    occlusion: bool | None = None,
    occluded_fraction: float | None = None,
) -> RenderedTracklet:
    """Render one tracklet of `appearance` walking past `camera`.

    Args:
        appearance: the identity (`sample_appearance`).
        camera: the camera style (`sample_camera`).
        n_frames: T >= 1.
        size_hw: box size (H, W): (128, 64) for iLIDS-VID and PRID2011, (256, 128) for MARS.
        rng: the only source of randomness; the same generator state gives identical bytes.
        occlusion: None draws an occlusion with probability `camera.occlusion_prob`; True
            forces one, False forbids it. Either way nothing else in the render changes.
        occluded_fraction: when given, overrides ``occlusion``: the tracklet's occluder is held
            over round(fraction · T) contiguous frames (0: none), for test sets with controlled
            occlusion (book: the occlusion study); ``occluded`` says which frames it covered.

    Returns:
        `RenderedTracklet`: frames (T, H, W, 3) uint8 RGB; occluded (T,) bool, True exactly
        where the drawn occluder covers at least 1% of the person's pixels; meta (view, person
        height, gait period, scroll speed, occluder and its frame range, blurred frames, ...).
    """
    return _render(appearance, camera, n_frames, size_hw, rng, occlusion, occluded_fraction=occluded_fraction)


def render_junk(camera: Camera, n_frames: int, size_hw, rng: np.random.Generator) -> RenderedTracklet:
    """A junk tracklet (MARS's bad detections, paper §4.1): background only, a partial body cut
    by the box edge, or a zoomed-in fragment of a body. `meta["junk_kind"]` says which."""
    H, W = _check(n_frames, size_hw, rng)
    kind = JUNK_KINDS[rng.integers(len(JUNK_KINDS))]
    app = sample_appearance(rng)
    if kind == "background":
        out = _render(app, camera, n_frames, size_hw, rng, False, person=False)
    elif kind == "partial":
        if rng.random() < 0.5:  # cut by a side of the box
            offset = (float(rng.choice((-1, 1)) * rng.uniform(0.35, 0.6) * W), 0.0)
        else:  # only the upper body is inside
            offset = (0.0, float(rng.uniform(0.35, 0.6) * H))
        zoom = float(rng.uniform(1.0, 1.3))
        out = _render(app, camera, n_frames, size_hw, rng, False, zoom=zoom, offset=offset)
    else:
        zoom = float(rng.uniform(2.2, 3.5))
        offset = (float(rng.uniform(-0.3, 0.3) * W), float(rng.uniform(0.1, 0.7) * (zoom * 0.85 - 1) * H))
        out = _render(app, camera, n_frames, size_hw, rng, False, zoom=zoom, offset=offset)
    out.meta["junk_kind"] = kind
    return out
