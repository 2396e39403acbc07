"""Calibrate the synthetic benchmark's difficulty with the colour-histogram baseline (paper §4.1).

Renders in memory an iLIDS-VID-like set (paper §4.1: 300 identities, two cameras, one tracklet
per identity per camera, 23-192 frames with mean about 73, 128x64 boxes) and reports:

(i)   cross-camera rank-1 of the colour-histogram matcher (camera 0 probe vs camera 1 gallery,
      all identities): it should be well below 50%, so cross-camera matching needs learning;
(ii)  same-camera rank-1 (first half of each camera-0 tracklet vs its second half): it should
      stay high, so identities are consistent and distinguishable within a camera;
(iii) rank-1 with colour-blind features (grey-level stripe histogram; mean HOG of the frames);
(iv)  rendering time in ms per frame for 128x64 and 256x128 boxes (one core).

Several matcher settings are tried and all are printed; the strongest cross-camera one is the
headline, so the calibration is not against a straw man. Prints one JSON object at the end.

    python benchmarks/calibrate_synthetic.py [--identities 300] [--seed 0]
    python benchmarks/calibrate_synthetic.py --root data/syn-ilids   # a dataset written on disk

With ``--root`` the tracklets are read from an iLIDS-VID-layout folder (e.g. one written by
``data_scripts/make_synthetic.py``) through the real reader instead of being rendered.
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np

from stsrn_lite.baselines.colour_histogram import distance_matrix, rank1, tracklet_histogram
from stsrn_lite.data.ilidsvid import read_ilidsvid
from stsrn_lite.preprocess.cache import decode_frame
from stsrn_lite.synthetic.render import render_tracklet, sample_appearance, sample_camera

# name -> (tracklet_histogram keyword arguments, metric)
MATCHERS = {
    "hsv8x4x4_s6_centre_bhatt": (dict(space="hsv", bins=(8, 4, 4), n_stripes=6), "bhattacharyya"),
    "hsv8x4x4_s6_centre_l1": (dict(space="hsv", bins=(8, 4, 4), n_stripes=6), "l1"),
    "hsv8x4x4_s6_uniform_bhatt": (dict(space="hsv", bins=(8, 4, 4), n_stripes=6, centre_sigma=None), "bhattacharyya"),
    "hsv8x4x4_global_bhatt": (dict(space="hsv", bins=(8, 4, 4), n_stripes=1, centre_sigma=None), "bhattacharyya"),
    "hsv8x4x4_s6_centre_chi2": (dict(space="hsv", bins=(8, 4, 4), n_stripes=6), "chi2"),
    "hsv16x4x4_s4_centre_chi2": (dict(space="hsv", bins=(16, 4, 4), n_stripes=4), "chi2"),
    "hsv16x4x4_s6_centre_chi2": (dict(space="hsv", bins=(16, 4, 4), n_stripes=6), "chi2"),
    "rgb4x4x4_s6_centre_bhatt": (dict(space="rgb", bins=(4, 4, 4), n_stripes=6), "bhattacharyya"),
}
GREY = (dict(space="grey", bins=(16,), n_stripes=6), "bhattacharyya")
HOG = cv2.HOGDescriptor((64, 128), (16, 16), (8, 8), (8, 8), 9)


def tracklet_lengths(rng: np.random.Generator, n: int) -> np.ndarray:
    """iLIDS-VID-like lengths: 23 + Gamma(2, 25), clipped to [23, 192] (mean about 73)."""
    return np.clip(np.round(23 + rng.gamma(2.0, 25.0, n)), 23, 192).astype(int)


def mean_hog(frames: np.ndarray) -> np.ndarray:
    """Mean HOG of a tracklet's grey frames resized to 128x64, L2-normalised."""
    feats = [HOG.compute(cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), (64, 128))).ravel() for f in frames]
    mean = np.mean(feats, axis=0)
    return mean / (np.linalg.norm(mean) + 1e-12)


def features(frames: np.ndarray) -> dict[str, np.ndarray]:
    out = {name: tracklet_histogram(frames, **kw) for name, (kw, _) in MATCHERS.items()}
    out["grey"] = tracklet_histogram(frames, **GREY[0])
    out["hog"] = mean_hog(frames)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--root", default=None, help="read an iLIDS-VID-layout dataset instead of rendering")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    cameras = [sample_camera(rng, 0), sample_camera(rng, 1)]
    dataset = read_ilidsvid(args.root) if args.root else None
    if dataset is not None:
        args.identities = len(dataset.pids)
    pids = np.arange(args.identities)
    lengths = tracklet_lengths(rng, 2 * args.identities).reshape(args.identities, 2)
    feats = {0: [], 1: [], "first": [], "second": []}
    render_s, n_frames, n_occluded, views = 0.0, 0, 0, {0: {}, 1: {}}
    for pid in pids:
        appearance = sample_appearance(rng) if dataset is None else None
        for cam in (0, 1):
            if dataset is None:
                t0 = time.perf_counter()
                out = render_tracklet(appearance, cameras[cam], int(lengths[pid, cam]), (128, 64), rng=rng)
                render_s += time.perf_counter() - t0
                frames = out.frames
                n_occluded += int(out.occluded.any())
                views[cam][out.meta["view"]] = views[cam].get(out.meta["view"], 0) + 1
            else:
                tracklet = dataset.tracklet_of(dataset.pids[pid], cam)
                frames = np.stack([decode_frame(f) for f in tracklet.frames])
            n_frames += len(frames)
            feats[cam].append(features(frames))
            if cam == 0:
                half = len(frames) // 2
                feats["first"].append(features(frames[:half]))
                feats["second"].append(features(frames[half:]))

    def stack(key, name):
        return np.stack([f[name] for f in feats[key]])

    def r1(name, metric, q_key, g_key):
        if metric == "euclidean":
            q, g = stack(q_key, name), stack(g_key, name)
            d = np.sqrt(np.maximum(0, (q**2).sum(1)[:, None] + (g**2).sum(1)[None] - 2 * q @ g.T))
        else:
            d = distance_matrix(stack(q_key, name), stack(g_key, name), metric)
        return round(rank1(d, pids, pids), 2)

    table = {
        name: {"cross_camera_rank1": r1(name, metric, 0, 1), "same_camera_rank1": r1(name, metric, "first", "second")}
        for name, (_, metric) in MATCHERS.items()
    }
    best = max(table, key=lambda n: table[n]["cross_camera_rank1"])

    timing = {}
    for size in ((128, 64), (256, 128)):
        trng = np.random.default_rng(args.seed + 1)
        cams = [sample_camera(trng, 0), sample_camera(trng, 1)]
        t0, n = time.perf_counter(), 0
        for i in range(20):
            n += len(render_tracklet(sample_appearance(trng), cams[i % 2], 50, size, rng=trng).frames)
        timing[f"{size[0]}x{size[1]}"] = round(1000 * (time.perf_counter() - t0) / n, 3)

    result = {
        "source": args.root or "rendered in memory",
        "identities": int(args.identities),
        "seed": args.seed,
        "frames": n_frames,
        "chance_rank1": round(100 / args.identities, 2),
        "cross_camera_rank1": table[best]["cross_camera_rank1"],
        "same_camera_rank1": table[best]["same_camera_rank1"],
        "headline_matcher": best,
        "matchers": table,
        "grey_stripes_rank1": {
            "cross_camera": r1("grey", GREY[1], 0, 1),
            "same_camera": r1("grey", GREY[1], "first", "second"),
        },
        "mean_hog_rank1": {
            "cross_camera": r1("hog", "euclidean", 0, 1),
            "same_camera": r1("hog", "euclidean", "first", "second"),
        },
        "occluded_tracklets_pct": round(100 * n_occluded / (2 * args.identities), 1) if dataset is None else None,
        "views": {f"cam{c}": views[c] for c in (0, 1)} if dataset is None else None,
        "ms_per_frame_in_calibration_128x64": round(1000 * render_s / n_frames, 3) if dataset is None else None,
        "ms_per_frame": timing,
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
