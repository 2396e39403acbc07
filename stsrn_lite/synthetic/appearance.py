"""Identities, camera styles and the body model of the synthetic video re-ID benchmark (§4.1).

The real benchmarks (iLIDS-VID, PRID2011, MARS; paper §4.1) cannot be downloaded here, so we
render walking people instead. This module says *what* is drawn; `render.py` rasterises it.

- An `Appearance` is one identity: body shape, skin and hair, garments and their pattern, a
  bag, and a gait. Garment colours come from a small shared palette with skewed frequencies
  (black, grey, navy and white dominate, as in real crowds), so many identities share their
  main colours and a colour histogram alone cannot tell them apart.
- A `Camera` is one view of a dataset: its background style, illumination (gain, gradient),
  colour cast (per-channel gains, saturation, gamma), person scale, viewpoint statistics and
  nuisances (box jitter, blur, sensor noise, JPEG softness, occlusion rate). iLIDS-VID was
  shot in a crowded airport hall with "significant background clutter, extremely heavy
  occlusion and viewpoint/illumination variations across camera views"; PRID2011 in
  "uncrowded outdoor scenes with relatively simple backgrounds and rare occlusions"; MARS by
  six campus cameras (paper §4.1). The background kinds `hall`, `street` and `campus` imitate
  these three scenes.
- The body model turns an identity at one gait phase into drawing primitives: a two-segment
  leg and arm model (stride, knee flexion, arm swing, arm phase lag and bounce per identity),
  seen from the side or from the front/back, with the garments, pattern, hair and bag that are
  visible from that side.

Cross-camera differences are systematic by design: even-indexed cameras get a warm cast and
mostly side views, odd-indexed cameras a cool cast and mostly front/back views. A learned
model can find that invariance; a colour histogram cannot.

Colours are RGB tuples of ints in 0..255. All sampling uses the `np.random.Generator` passed
in; there is no global random state.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np

RGB = tuple[int, int, int]

# The shared garment palette and how often each colour is worn (tops, bottoms).
GARMENT_PALETTE: dict[str, RGB] = {
    "black": (32, 32, 36),
    "white": (222, 222, 216),
    "grey": (125, 125, 128),
    "navy": (38, 48, 96),
    "blue": (62, 102, 172),
    "red": (168, 42, 44),
    "green": (52, 108, 62),
    "beige": (196, 176, 136),
    "brown": (104, 70, 46),
    "yellow": (212, 182, 62),
}
TOP_WEIGHTS = (0.20, 0.13, 0.14, 0.12, 0.10, 0.08, 0.06, 0.07, 0.05, 0.05)
BOTTOM_WEIGHTS = (0.30, 0.04, 0.14, 0.16, 0.20, 0.02, 0.03, 0.07, 0.04, 0.00)
BAG_WEIGHTS = (0.35, 0.03, 0.10, 0.12, 0.06, 0.10, 0.04, 0.08, 0.12, 0.00)
HUE_JITTER = 0.02  # std of a garment's hue around its palette colour (fraction of the circle)
SKIN_TONES: tuple[RGB, ...] = ((236, 200, 172), (216, 170, 136), (182, 134, 100), (136, 94, 66), (96, 64, 44))
HAIR_COLOURS: tuple[RGB, ...] = ((24, 20, 18), (62, 42, 28), (110, 76, 44), (196, 164, 104), (150, 148, 146))
SHOE_COLOURS: tuple[RGB, ...] = ((28, 28, 28), (210, 210, 210), (92, 62, 40), (90, 90, 96))

TOP_PATTERNS = ("solid", "hstripes", "vstripes", "checks", "logo")
BOTTOM_KINDS = ("trousers", "shorts", "skirt")
BAGS = ("none", "backpack", "shoulder", "handbag")
HAIR_LENGTHS = ("short", "medium", "long")
VIEWS = ("right", "left", "towards", "away")  # walking direction seen by the camera
BACKGROUND_KINDS = ("hall", "street", "campus")


@dataclass(frozen=True)
class Appearance:
    """One identity. Lengths are fractions of the person's height; angles are radians."""

    height: float  # stature relative to the average (box crops normalise most of it)
    width: float  # body width factor (1 = average build)
    head: float  # head size factor
    leg_ratio: float  # hip-joint height / stature
    skin: RGB  # skin colour
    hair: RGB  # hair colour
    hair_length: str  # one of HAIR_LENGTHS
    top: RGB  # main garment colour (shared palette, shade-jittered)
    top_pattern: str  # one of TOP_PATTERNS
    top_second: RGB  # colour of the stripes / checks / logo
    pattern_period: float  # stripe period as a fraction of the torso height
    sleeves: str  # "short" or "long"
    bottom: RGB  # trousers / shorts / skirt colour
    bottom_kind: str  # one of BOTTOM_KINDS
    shoes: RGB  # shoe colour
    bag: str  # one of BAGS
    bag_colour: RGB  # bag colour
    bag_side: int  # +1: on the person's right, -1: on the left
    step_period: float  # frames per gait cycle (two steps) at 25 fps
    stride: float  # thigh swing amplitude
    knee: float  # knee flexion amplitude during swing
    arm_swing: float  # arm swing amplitude
    arm_phase: float  # arm-leg phase lag (identity-specific timing)
    bounce: float  # extra vertical bounce per step, fraction of stature


@dataclass(frozen=True)
class Camera:
    """The style of one camera of a dataset; shared by every tracklet it records."""

    index: int  # 0-based camera index within the dataset
    background_kind: str  # one of BACKGROUND_KINDS (paper §4.1 scenes)
    background_colours: tuple[RGB, ...]  # 5 scene colours: wall, floor, panels, clutter, accent
    horizon: float  # wall/floor boundary, fraction of the height
    scene_seed: int  # seed of the static scene (walls, floor, fixtures)
    clutter: float  # fixtures per box height of scene width
    crowd: float  # distant passers-by per box height of strip width
    gain: float  # global illumination gain
    gradient: tuple[float, float]  # illumination gradient (vertical, horizontal)
    channel_gains: tuple[float, float, float]  # colour cast / white balance (R, G, B)
    saturation: float  # sensor colour saturation (1 = neutral)
    gamma: float  # tone curve exponent
    person_scale: float  # person height / box height
    view_probs: tuple[float, float, float, float]  # P(view) over VIEWS
    jitter: float  # box translation jitter std, fraction of width
    scale_jitter: float  # box scale jitter std (relative)
    blur_prob: float  # probability that a frame is blurred
    noise_sigma: float  # sensor noise std in grey levels
    jpeg_quality: int  # JPEG softness quality, 0 = no JPEG pass
    occlusion_prob: float  # probability that a tracklet has an occlusion


def _palette_colour(rng: np.random.Generator, weights: tuple[float, ...]) -> RGB:
    """A palette colour with a per-identity shade: hue, saturation and value jitter."""
    p = np.asarray(weights) / np.sum(weights)
    base = list(GARMENT_PALETTE.values())[rng.choice(len(p), p=p)]
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in base))
    h = (h + rng.normal(0, HUE_JITTER)) % 1.0
    s, v = min(1.0, s * rng.uniform(0.8, 1.2)), min(1.0, v * rng.uniform(0.85, 1.15))
    return tuple(int(255 * c) for c in colorsys.hsv_to_rgb(h, s, v))


def _jitter(rng: np.random.Generator, colour: RGB, amount: float) -> RGB:
    scaled = np.asarray(colour) * rng.uniform(1 - amount, 1 + amount, 3)
    return tuple(int(v) for v in np.clip(scaled, 0, 255))


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """Draw one identity (body, garments, bag, gait) from `rng`."""
    top = _palette_colour(rng, TOP_WEIGHTS)
    top_second = top
    while np.abs(np.subtract(top_second, top)).sum() < 90:
        top_second = _palette_colour(rng, TOP_WEIGHTS)
    return Appearance(
        height=float(rng.uniform(0.9, 1.1)),
        width=float(rng.uniform(0.82, 1.22)),
        head=float(rng.uniform(0.88, 1.12)),
        leg_ratio=float(rng.uniform(0.45, 0.53)),
        skin=_jitter(rng, SKIN_TONES[rng.integers(len(SKIN_TONES))], 0.05),
        hair=_jitter(rng, HAIR_COLOURS[rng.choice(5, p=[0.4, 0.25, 0.15, 0.12, 0.08])], 0.08),
        hair_length=HAIR_LENGTHS[rng.choice(3, p=[0.5, 0.25, 0.25])],
        top=top,
        top_pattern=TOP_PATTERNS[rng.choice(5, p=[0.42, 0.16, 0.1, 0.12, 0.2])],
        top_second=top_second,
        pattern_period=float(rng.uniform(0.14, 0.3)),
        sleeves="long" if rng.random() < 0.6 else "short",
        bottom=_palette_colour(rng, BOTTOM_WEIGHTS),
        bottom_kind=BOTTOM_KINDS[rng.choice(3, p=[0.65, 0.15, 0.2])],
        shoes=SHOE_COLOURS[rng.integers(len(SHOE_COLOURS))],
        bag=BAGS[rng.choice(4, p=[0.4, 0.25, 0.2, 0.15])],
        bag_colour=_palette_colour(rng, BAG_WEIGHTS),
        bag_side=int(rng.choice((-1, 1))),
        step_period=float(rng.uniform(16.0, 30.0)),
        stride=float(rng.uniform(0.3, 0.55)),
        knee=float(rng.uniform(0.6, 1.1)),
        arm_swing=float(rng.uniform(0.15, 0.6)),
        arm_phase=float(rng.uniform(-0.5, 0.5)),
        bounce=float(rng.uniform(0.0, 0.015)),
    )


def _scene_colour(rng: np.random.Generator, sat: tuple[float, float], val: tuple[float, float]) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(*sat), rng.uniform(*val))
    return (int(255 * r), int(255 * g), int(255 * b))


def sample_camera(rng: np.random.Generator, index: int) -> Camera:
    """Draw the style of camera `index` (0-based) of a dataset.

    Even cameras are warm and see mostly side views; odd cameras are cool and see mostly
    people walking towards or away from them. Everything else is drawn from `rng`.
    """
    if index < 0:
        raise ValueError(f"camera index must be >= 0, got {index}")
    warm = 1.0 if index % 2 == 0 else -1.0
    temperature = warm * rng.uniform(0.2, 0.35)
    tint = rng.uniform(-0.03, 0.03)
    casts = 1.0 + np.array([0.2, 0.0, -0.2]) * temperature + np.array([0.0, tint, 0.0])
    casts *= rng.uniform(0.98, 1.02, size=3)
    views = (0.4, 0.4, 0.1, 0.1) if index % 2 == 0 else (0.12, 0.12, 0.38, 0.38)
    kind = BACKGROUND_KINDS[rng.integers(len(BACKGROUND_KINDS))]
    return Camera(
        index=int(index),
        background_kind=kind,
        background_colours=tuple(_scene_colour(rng, (0.05, 0.6), (0.25, 0.9)) for _ in range(5)),
        horizon=float(rng.uniform(0.45, 0.7)),
        scene_seed=int(rng.integers(2**31)),
        clutter=float(rng.uniform(0.6, 2.0)),
        crowd=float(rng.uniform(1.0, 3.0)) if kind == "hall" else float(rng.uniform(0.0, 1.0)),
        gain=float(rng.uniform(0.85, 1.15)),
        gradient=(float(rng.uniform(-0.15, 0.15)), float(rng.uniform(-0.15, 0.15))),
        channel_gains=tuple(float(c) for c in casts),
        saturation=float(rng.uniform(0.88, 1.12)),
        gamma=float(rng.uniform(0.9, 1.1)),
        person_scale=float(rng.uniform(0.8, 0.92)),
        view_probs=views,
        jitter=float(rng.uniform(0.015, 0.04)),
        scale_jitter=float(rng.uniform(0.01, 0.035)),
        blur_prob=float(rng.uniform(0.05, 0.2)),
        noise_sigma=float(rng.uniform(2.0, 5.0)),
        jpeg_quality=int(rng.integers(60, 95)) if rng.random() < 0.5 else 0,
        occlusion_prob=float(rng.uniform(0.15, 0.4)),
    )


# ---------------------------------------------------------------------------------------------
# The body model: an identity at gait phase `phi` -> drawing primitives, in box pixels.
# `u` is the stature in pixels; every length below is a fraction of it. Primitives are tuples
# drawn in order (painter's algorithm) by `render._draw`:
#   ("limb", p, q, thickness, colour)          a thick segment with round ends
#   ("poly", points, colour)                   a filled convex polygon
#   ("ellipse", centre, axes, start, end, colour)
#   ("torso", points, pattern, colour)         a polygon filled with the garment pattern
# Far-side limbs are shaded darker (DARK), so the two legs of a side view are told apart.

DARK = 0.72


def shade(colour, k: float) -> RGB:
    return tuple(int(min(255, c * k)) for c in colour)


def rect(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


@dataclass(frozen=True)
class Gait:
    """The pose at one frame."""

    phi: float  # gait phase, radians
    th: tuple[float, float]  # thigh angles from vertical (near, far), + = forward
    k: tuple[float, float]  # knee flexion (near, far)
    a: tuple[float, float]  # arm angles (near, far)
    hip_y: float  # hip-joint height in the box, pixels


def gait(app: Appearance, phi: float, u: float, foot_y: float) -> Gait:
    """Pose at phase `phi`: legs swing in antiphase, the swing leg flexes its knee, the arms
    swing against the legs, and the hip rides on the stance leg (so the body bounces)."""
    seg = 0.5 * (app.leg_ratio - 0.03) * u  # thigh = shin length
    th = (app.stride * math.sin(phi), -app.stride * math.sin(phi))
    k = (app.knee * max(0.0, math.cos(phi)), app.knee * max(0.0, -math.cos(phi)))
    swing = app.arm_swing * math.sin(phi + app.arm_phase)
    reach = max(seg * (math.cos(t) + math.cos(t - kk)) for t, kk in zip(th, k))
    hip_y = foot_y - 0.03 * u - reach - app.bounce * u * 0.5 * (1 - math.cos(2 * phi))
    return Gait(phi, th, k, (-swing, swing), hip_y)


def _leg(app: Appearance, hip, knee, ankle, toe, u: float, dark: bool) -> list:
    """Thigh, shin and shoe; `toe` is None in front/back views (the shoe is an ellipse)."""
    k = DARK if dark else 1.0
    bottom, skin, shoes = shade(app.bottom, k), shade(app.skin, k), shade(app.shoes, k)
    thigh_t, shin_t = 0.078 * app.width * u, 0.06 * app.width * u
    if toe is None:
        shoe = ("ellipse", (ankle[0], ankle[1] + 0.012 * u), (0.032 * u, 0.022 * u), 0, 360, shoes)
    else:
        shoe = ("limb", ankle, toe, 0.04 * u, shoes)
    if app.bottom_kind == "trousers":
        return [("limb", hip, knee, thigh_t, bottom), ("limb", knee, ankle, shin_t, bottom), shoe]
    parts = [("limb", hip, knee, 0.85 * thigh_t, skin), ("limb", knee, ankle, 0.8 * shin_t, skin), shoe]
    if app.bottom_kind == "shorts":
        hem = (hip[0] + 0.6 * (knee[0] - hip[0]), hip[1] + 0.6 * (knee[1] - hip[1]))
        parts.append(("limb", hip, hem, 1.15 * thigh_t, bottom))
    return parts


def _arm(app: Appearance, shoulder, elbow, hand, u: float, dark: bool) -> list:
    k = DARK if dark else 1.0
    top, skin, thick = shade(app.top, k), shade(app.skin, k), 0.05 * app.width * u
    fist = ("ellipse", hand, (0.022 * u, 0.022 * u), 0, 360, skin)
    if app.sleeves == "long":
        return [("limb", shoulder, elbow, thick, top), ("limb", elbow, hand, 0.9 * thick, top), fist]
    hem = (shoulder[0] + 0.55 * (elbow[0] - shoulder[0]), shoulder[1] + 0.55 * (elbow[1] - shoulder[1]))
    return [
        ("limb", shoulder, elbow, 0.85 * thick, skin),
        ("limb", elbow, hand, 0.8 * thick, skin),
        ("limb", shoulder, hem, 1.15 * thick, top),
        fist,
    ]


def _pattern(app: Appearance, top_y: float, bottom_y: float, cx: float) -> tuple | None:
    """(kind, colour, period px, top y, centre x) of the torso pattern; None for a plain torso."""
    if app.top_pattern in ("solid", "logo"):
        return None
    period = max(1.5, app.pattern_period * (bottom_y - top_y))
    return (app.top_pattern, app.top_second, period, top_y, cx)


def _handbag(app: Appearance, hand, u: float, dark: bool) -> list:
    x, y = hand
    colour = shade(app.bag_colour, DARK if dark else 1.0)
    return [("poly", rect(x - 0.045 * u, y + 0.01 * u, x + 0.045 * u, y + 0.085 * u), colour)]


def _skirt(app: Appearance, cx: float, half: float, hip_y: float, seg: float, u: float) -> tuple:
    return (
        "poly",
        [
            (cx - half, hip_y - 0.03 * u),
            (cx + half, hip_y - 0.03 * u),
            (cx + half + 0.05 * u, hip_y + 0.8 * seg),
            (cx - half - 0.05 * u, hip_y + 0.8 * seg),
        ],
        app.bottom,
    )


def _side_parts(app: Appearance, g: Gait, u: float, cx: float) -> list:
    """A person walking to the right (+x), seen from the side: far limbs, bag behind the back,
    near leg, torso, head, straps, near arm."""
    seg = 0.5 * (app.leg_ratio - 0.03) * u
    top_y = g.hip_y - (1 - app.leg_ratio) * u
    r = 0.062 * app.head * u  # head radius
    sh_y, d, lean = top_y + 2 * r + 0.03 * u, 0.062 * app.width * u, 0.012 * u
    hip, shoulder, bag = (cx, g.hip_y), (cx + lean, sh_y + 0.02 * u), app.bag_colour
    legs, arms, hands = {}, {}, {}
    for i in (1, 0):  # 1 = far side, 0 = near side
        th, kn, a = g.th[i], g.th[i] - g.k[i], g.a[i]
        knee = (cx + seg * math.sin(th), g.hip_y + seg * math.cos(th))
        ankle = (knee[0] + seg * math.sin(kn), knee[1] + seg * math.cos(kn))
        bend = 0.3 + 0.3 * max(0.0, math.sin(a))  # elbow flexes on the forward swing
        elbow = (shoulder[0] + 0.17 * u * math.sin(a), shoulder[1] + 0.17 * u * math.cos(a))
        hands[i] = (elbow[0] + 0.15 * u * math.sin(a + bend), elbow[1] + 0.15 * u * math.cos(a + bend))
        legs[i] = _leg(app, hip, knee, ankle, (ankle[0] + 0.06 * u, ankle[1] + 0.015 * u), u, i == 1)
        arms[i] = _arm(app, shoulder, elbow, hands[i], u, i == 1)
    parts = arms[1] + legs[1]
    if app.bag == "handbag" and app.bag_side < 0:
        parts += _handbag(app, hands[1], u, True)
    if app.bag == "backpack":
        pack = rect(cx - d - 0.08 * u, sh_y + 0.01 * u, cx - d + 0.02 * u, sh_y + 0.24 * u)
        parts.append(("poly", pack, bag))
    parts += legs[0]
    if app.bottom_kind == "skirt":
        parts.append(_skirt(app, cx, d, g.hip_y, seg, u))
    else:
        parts.append(("ellipse", hip, (0.95 * d, 0.035 * u), 0, 360, app.bottom))
    waist = g.hip_y + 0.02 * u
    torso = [(cx - d + lean, sh_y), (cx + d + lean, sh_y), (cx + 0.95 * d, waist), (cx - 0.95 * d, waist)]
    head = (cx + 0.02 * u, top_y + r)
    parts += [
        ("limb", (cx + 0.015 * u, top_y + 1.6 * r), (cx + lean, sh_y + 0.01 * u), 0.05 * u, app.skin),
        ("torso", torso, _pattern(app, sh_y, g.hip_y, cx), app.top),
        ("ellipse", head, (0.9 * r, r), 0, 360, app.skin),
        ("ellipse", (head[0] - 0.05 * r, head[1] - 0.05 * r), (0.95 * r, r), 160, 335, app.hair),
    ]
    if app.hair_length != "short":
        low = sh_y + (0.09 * u if app.hair_length == "long" else 0.0)
        parts.append(
            (
                "poly",
                [
                    (head[0] - 0.9 * r, head[1]),
                    (head[0] - 0.1 * r, head[1]),
                    (head[0] - 0.2 * r, low),
                    (head[0] - 0.95 * r, low),
                ],
                app.hair,
            )
        )
    if app.bag == "backpack":
        parts.append(("limb", (cx + 0.3 * d, sh_y), (cx - 0.4 * d, sh_y + 0.15 * u), 0.018 * u, bag))
    elif app.bag == "shoulder":
        parts += [
            ("limb", (cx + 0.2 * d, sh_y), (cx - 0.5 * d, g.hip_y - 0.03 * u), 0.018 * u, bag),
            ("poly", rect(cx - d - 0.03 * u, g.hip_y - 0.06 * u, cx - d + 0.07 * u, g.hip_y + 0.03 * u), bag),
        ]
    parts += arms[0]
    if app.bag == "handbag" and app.bag_side > 0:
        parts += _handbag(app, hands[0], u, False)
    return parts


def _front_parts(app: Appearance, g: Gait, u: float, cx: float, towards: bool) -> list:
    """A person walking towards (front view) or away from (back view) the camera. The gait
    shows as the swing foot lifting and coming nearer (lower), the hands rising and falling,
    and a lateral sway; the logo is seen only from the front, a backpack covers the back."""
    seg = 0.5 * (app.leg_ratio - 0.03) * u
    cx = cx + 0.03 * app.stride * u * math.sin(g.phi)  # lateral sway
    near = 0.02 * u if towards else -0.02 * u  # a foot nearer the camera sits lower
    top_y = g.hip_y - (1 - app.leg_ratio) * u
    r, sh_y, w, bag = 0.062 * app.head * u, top_y + 0.124 * app.head * u + 0.03 * u, app.width, app.bag_colour
    ws, wh, hw = 0.118 * w * u, 0.092 * w * u, 0.045 * w * u  # shoulder, waist, hip-joint half-widths
    right = -1.0 if towards else 1.0  # image x direction of the person's right
    legs, arms, hands = [], [], {}
    for i, s in ((0, right), (1, -right)):
        hip = (cx + s * hw, g.hip_y)
        knee = (hip[0] + s * 0.005 * u, g.hip_y + seg * math.cos(g.th[i]) + near * math.sin(g.th[i]))
        ankle = (hip[0], knee[1] + seg * math.cos(g.th[i] - g.k[i]) + near * math.sin(g.th[i]))
        legs += _leg(app, hip, knee, ankle, None, u, False)
        shoulder = (cx + s * (ws - 0.015 * u), sh_y + 0.02 * u)
        elbow = (shoulder[0] + s * 0.017 * u, shoulder[1] + 0.17 * u * math.cos(g.a[i]))
        hands[s] = (elbow[0] + s * right * 0.02 * u * math.sin(g.a[i]), elbow[1] + 0.15 * u * math.cos(g.a[i] + 0.2))
        arms += _arm(app, shoulder, elbow, hands[s], u, False)
    head = (cx, top_y + r)
    parts = (
        [("poly", rect(cx - r, head[1], cx + r, sh_y + 0.08 * u), app.hair)]
        if towards and app.hair_length == "long"
        else []
    )
    parts += legs
    if app.bottom_kind == "skirt":
        parts.append(_skirt(app, cx, wh, g.hip_y, seg, u))
    else:
        parts.append(("poly", rect(cx - wh, g.hip_y - 0.03 * u, cx + wh, g.hip_y + 0.045 * u), app.bottom))
    torso = [(cx - ws, sh_y), (cx + ws, sh_y), (cx + wh, g.hip_y + 0.02 * u), (cx - wh, g.hip_y + 0.02 * u)]
    parts += [
        ("limb", (cx, head[1]), (cx, sh_y + 0.01 * u), 0.055 * u, app.skin),
        ("torso", torso, _pattern(app, sh_y, g.hip_y, cx), app.top),
    ]
    if towards and app.top_pattern == "logo":
        logo = rect(cx - 0.045 * u, sh_y + 0.04 * u, cx + 0.045 * u, sh_y + 0.11 * u)
        parts.append(("poly", logo, app.top_second))
    if app.bag == "backpack" and towards:  # only the straps show
        parts += [
            ("limb", (cx + s * 0.07 * u, sh_y), (cx + s * 0.065 * u, sh_y + 0.16 * u), 0.02 * u, bag) for s in (-1, 1)
        ]
    elif app.bag == "backpack":
        pack = rect(cx - 0.09 * w * u, sh_y + 0.01 * u, cx + 0.09 * w * u, sh_y + 0.26 * u)
        parts.append(("poly", pack, bag))
    elif app.bag == "shoulder":
        s = app.bag_side * right
        strap = ((cx - s * 0.8 * ws, sh_y), (cx + s * 0.9 * wh, g.hip_y - 0.04 * u))
        parts += [
            ("limb", *strap, 0.018 * u, bag),
            (
                "poly",
                rect(cx + s * wh - 0.045 * u, g.hip_y - 0.07 * u, cx + s * wh + 0.05 * u, g.hip_y + 0.02 * u),
                bag,
            ),
        ]
    if towards:
        parts += [
            ("ellipse", (head[0], head[1] - 0.08 * r), (0.95 * r, 1.02 * r), 0, 360, app.hair),
            ("ellipse", (head[0], head[1] + 0.12 * r), (0.8 * r, 0.86 * r), 0, 360, app.skin),
        ]
    else:
        parts.append(("ellipse", head, (0.95 * r, 1.02 * r), 0, 360, app.hair))
        if app.hair_length != "short":
            low = sh_y + (0.09 * u if app.hair_length == "long" else 0.0)
            parts.append(("poly", rect(cx - 0.85 * r, head[1], cx + 0.85 * r, low), app.hair))
    parts += arms
    if app.bag == "handbag":
        parts += _handbag(app, hands[app.bag_side * right], u, False)
    return parts


def person_parts(app: Appearance, view: str, g: Gait, u: float, cx: float) -> list:
    """Primitives of `app` in pose `g`, stature `u` px, centred at x = `cx`. The "left" view is
    drawn as "right" and mirrored by the renderer after compositing."""
    if view in ("right", "left"):
        return _side_parts(app, g, u, cx)
    if view in ("towards", "away"):
        return _front_parts(app, g, u, cx, towards=(view == "towards"))
    raise ValueError(f"unknown view {view!r}; expected one of {VIEWS}")
