"""Compare our dense Lucas–Kanade flow with OpenCV's flows, and time the per-frame preprocessing.

    python benchmarks/compare_flow.py [--samples data/opencv-samples] [--repeats 20]

Cases: synthetic shifts with a known answer (64×48), and OpenCV's RubberWhale pair resized to
64×48 (as the cache does) and at full size (388×584), when the pair is on disk
(data_scripts/fetch_opencv_samples.py). Methods: ours (plain, and with 2 refinement steps),
cv2.calcOpticalFlowPyrLK at a grid of points (5×5 window, 3 levels) and
cv2.calcOpticalFlowFarneback (dense). Figures, all in px:

- ``epe_truth``: median endpoint error against the known shift (synthetic cases);
- ``epd_pyrlk``, ``epd_farneback``: median endpoint difference to OpenCV's flows on textured
  grid points (real pair);
- ``photo``: mean |I1(x + f) - I0(x)| with the flow, over the same without it (dense methods);
- ``ms``: milliseconds per frame pair on one core (PyrLK: for the grid points only).

Then a realistic timing, once in the fresh process and once after the flow cases: a tracklet of
128×64 PNG frames decoded with cv2.imdecode and passed through preprocess_tracklet, in
microseconds per frame (median over repeats). Prints a table, then one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
import scipy.ndimage as ndi

from stsrn_lite.home import home
from stsrn_lite.preprocess.flow import dense_lucas_kanade
from stsrn_lite.preprocess.frames import preprocess_tracklet
from stsrn_lite.preprocess.transforms import FRAME_HW, resize_frame

GREY = np.array([0.299, 0.587, 0.114], np.float32)
BORDER = 6
LK_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 0.01)


def timed(fn, repeats: int) -> tuple[object, float]:
    """(result, best milliseconds per call over ``repeats`` calls)."""
    result = fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return result, best * 1e3


def grid(hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    step = 2 if hw[0] <= 100 else 4
    ys, xs = np.mgrid[BORDER : hw[0] - BORDER : step, BORDER : hw[1] - BORDER : step]
    return ys.ravel(), xs.ravel()


def methods(prev: np.ndarray, nxt: np.ndarray, repeats: int) -> dict[str, tuple[np.ndarray, float]]:
    """Each method's flow at the grid points (N, 2) and its ms per pair."""
    ys, xs = grid(prev.shape)
    prev8, nxt8 = (np.clip(np.rint(g), 0, 255).astype(np.uint8) for g in (prev, nxt))
    points = np.stack([xs, ys], axis=1).astype(np.float32).reshape(-1, 1, 2)
    out = {}
    for name, iterations in (("ours", 1), ("ours_iter3", 3)):
        flow, ms = timed(lambda iterations=iterations: dense_lucas_kanade(prev, nxt, iterations=iterations), repeats)
        out[name] = (flow, ms)
    (moved, status, _), ms = timed(
        lambda: cv2.calcOpticalFlowPyrLK(prev8, nxt8, points, None, winSize=(5, 5), maxLevel=3, criteria=LK_CRITERIA),
        repeats,
    )
    sparse = np.full((2,) + prev.shape, np.nan, np.float32)
    sparse[:, ys, xs] = np.where(status.ravel() == 1, (moved - points).reshape(-1, 2).T, np.nan)
    out["pyrlk_grid"] = (sparse, ms)
    levels = 2 if prev.shape[0] <= 100 else 3
    fb, ms = timed(lambda: cv2.calcOpticalFlowFarneback(prev8, nxt8, None, 0.5, levels, 15, 3, 5, 1.2, 0), repeats)
    out["farneback"] = (fb.transpose(2, 0, 1), ms)
    return out


def photometric_ratio(prev: np.ndarray, nxt: np.ndarray, flow: np.ndarray) -> float:
    ys, xs = np.mgrid[0 : prev.shape[0], 0 : prev.shape[1]].astype(np.float32)
    warped = cv2.remap(nxt, xs + flow[0], ys + flow[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inner = (slice(BORDER, -BORDER), slice(BORDER, -BORDER))
    return float(np.abs(warped - prev)[inner].mean() / np.abs(nxt - prev)[inner].mean())


def evaluate(
    prev: np.ndarray, nxt: np.ndarray, truth: tuple[float, float] | None, repeats: int
) -> dict[str, dict[str, float]]:
    ys, xs = grid(prev.shape)
    results = methods(prev, nxt, repeats)
    prev8 = np.clip(np.rint(prev), 0, 255).astype(np.uint8)
    min_eig = cv2.cornerMinEigenVal(prev8, 5)[ys, xs]
    ref = {k: results[k][0][:, ys, xs].T for k in ("pyrlk_grid", "farneback")}
    textured = (min_eig > np.median(min_eig)) & np.isfinite(ref["pyrlk_grid"]).all(axis=1)
    rows = {}
    for name, (flow, ms) in results.items():
        at = flow[:, ys, xs].T  # (N, 2)
        row = {"ms": round(ms, 3)}
        if truth is not None:
            ok = np.isfinite(at).all(axis=1)
            row["epe_truth"] = float(np.median(np.hypot(at[ok, 0] - truth[0], at[ok, 1] - truth[1])))
        else:
            for ref_name, ref_flow in ref.items():
                if ref_name != name:
                    row[f"epd_{ref_name.split('_')[0]}"] = float(np.median(np.hypot(*(at - ref_flow)[textured].T)))
            row["median_flow"] = float(np.median(np.hypot(*at[textured].T)))
        if name != "pyrlk_grid":
            row["photo"] = photometric_ratio(prev, nxt, flow)
        rows[name] = {k: round(v, 4) for k, v in row.items()}
    return rows


def synthetic_cases() -> dict[str, tuple[np.ndarray, np.ndarray, tuple[float, float]]]:
    H, W = FRAME_HW
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)

    def sinusoids(dx, dy):
        xx, yy = x - dx, y - dy
        return (
            128
            + 40 * np.sin(0.31 * xx + 0.17 * yy + 1)
            + 30 * np.sin(-0.13 * xx + 0.37 * yy + 2)
            + 20 * np.sin(0.45 * xx - 0.2 * yy)
        ).astype(np.float32)

    noise = ndi.gaussian_filter(np.random.default_rng(0).standard_normal((H + 40, W + 40)), 2.0)
    noise = ((noise - noise.min()) / np.ptp(noise) * 255).astype(np.float32)

    def crop(dx, dy):
        return noise[20 : 20 + H, 20 : 20 + W], noise[20 - dy : 20 - dy + H, 20 - dx : 20 - dx + W]

    cases = {"sinusoids (0.3,-0.45)": (sinusoids(0, 0), sinusoids(0.3, -0.45), (0.3, -0.45))}
    for dx, dy in ((1, 0), (-1, 1), (2, 0)):
        cases[f"blurred noise ({dx},{dy})"] = (*crop(dx, dy), (float(dx), float(dy)))
    return cases


def real_cases(samples: Path) -> dict[str, tuple[np.ndarray, np.ndarray, None]]:
    paths = [samples / f"rubberwhale{i}.png" for i in (1, 2)]
    if not all(p.is_file() for p in paths):
        return {}
    a, b = (cv2.imread(str(p), cv2.IMREAD_COLOR)[..., ::-1] for p in paths)
    return {
        "rubberwhale 64x48": (resize_frame(a) @ GREY, resize_frame(b) @ GREY, None),
        "rubberwhale 388x584": (a.astype(np.float32) @ GREY, b.astype(np.float32) @ GREY, None),
    }


def preprocess_timing(samples: Path, frames: int, repeats: int) -> dict[str, float]:
    """Decode a tracklet of 128×64 PNGs, then preprocess it; µs per frame for each (median)."""
    path = samples / "rubberwhale1.png"
    if path.is_file():
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    else:  # a smooth synthetic image compresses like a natural one
        noise = np.random.default_rng(0).random((388, 584, 3)) * 255
        image = ndi.gaussian_filter(noise, (2, 2, 0)).astype(np.uint8)
    pngs = [cv2.imencode(".png", image[100 + t : 228 + t, 200 + t : 264 + t])[1] for t in range(frames)]
    decode_us, preprocess_us = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        decoded = [cv2.imdecode(png, cv2.IMREAD_COLOR)[..., ::-1] for png in pngs]
        middle = time.perf_counter()
        preprocess_tracklet(decoded)
        end = time.perf_counter()
        decode_us.append((middle - start) / frames * 1e6)
        preprocess_us.append((end - middle) / frames * 1e6)
    decode, preprocess = float(np.median(decode_us)), float(np.median(preprocess_us))
    return {
        "frames": frames,
        "png_bytes_mean": float(np.mean([len(p) for p in pngs])),
        "imdecode_us_per_frame": round(decode, 1),
        "preprocess_us_per_frame": round(preprocess, 1),
        "preprocess_over_decode": round(preprocess / decode, 2),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=home().data / "opencv-samples")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--frames", type=int, default=32, help="tracklet length for the timing")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)

    # Timed first as well as last: a fresh process runs slower until glibc's malloc has seen
    # a large block freed and stops returning memory to the system after every call.
    fresh = preprocess_timing(args.samples, args.frames, args.repeats)
    cases = {**synthetic_cases(), **real_cases(args.samples)}
    report = {"cases": {}, "opencv": cv2.__version__}
    print(
        f"{'case':26s} {'method':11s} {'epe_truth':>9s} {'epd_pyrlk':>9s} {'epd_farne':>9s} "
        f"{'|flow|':>7s} {'photo':>6s} {'ms':>8s}"
    )
    for case, (prev, nxt, truth) in cases.items():
        rows = evaluate(prev, nxt, truth, args.repeats)
        report["cases"][case] = rows
        for method, row in rows.items():
            cells = [row.get(k) for k in ("epe_truth", "epd_pyrlk", "epd_farneback", "median_flow", "photo")]
            text = " ".join(f"{c:9.3f}" if c is not None else f"{'-':>9s}" for c in cells[:3])
            text += f" {cells[3]:7.3f}" if cells[3] is not None else f" {'-':>7s}"
            text += f" {cells[4]:6.3f}" if cells[4] is not None else f" {'-':>6s}"
            print(f"{case:26s} {method:11s} {text} {row['ms']:8.3f}")
    if not real_cases(args.samples):
        print(f"(no RubberWhale pair in {args.samples}: run data_scripts/fetch_opencv_samples.py)")
    later = preprocess_timing(args.samples, args.frames, args.repeats)
    report["preprocess_timing"] = {"fresh_process": fresh, "after_the_flow_cases": later}
    print()
    for when, t in report["preprocess_timing"].items():
        print(
            f"{when:21s} {t['frames']}-frame tracklet of 128x64 PNGs ({t['png_bytes_mean']:.0f} B): "
            f"cv2.imdecode {t['imdecode_us_per_frame']:.1f} us/frame, preprocess_tracklet "
            f"{t['preprocess_us_per_frame']:.1f} us/frame ({t['preprocess_over_decode']:.2f}x)"
        )
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
