"""Frames per second of the full preprocessing against only decoding the same images, per flow mode.

    python benchmarks/bench_preprocess.py --dataset ilids-vid --root data/synthetic/ilids-vid \\
        [--workers 1 2] [--flows resized original]

Two measurements, all in one run so that their ratios compare like with like:

1. For each worker count, the time of (a) decoding every frame of the dataset and (b) building
   the whole cache with each flow mode (decode + resize + Lucas-Kanade flow + quantise + writes +
   the source fingerprint), each after one untimed pass that puts the files in the page cache.
   The goal of issue 2 is that (b) costs at most twice (a) for the default mode.
2. In memory, on one process: `preprocess_tracklet` per flow mode on the already decoded frames
   of the first ``--tracklets`` tracklets, best of ``--repeats``; microseconds per frame,
   milliseconds per tracklet of the dataset's mean length, and the ratio to the first mode.

Prints two tables and one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import cv2

from stsrn_lite.data.read import DATASETS, read_dataset
from stsrn_lite.home import home
from stsrn_lite.preprocess.cache import build_cache, decode_frame
from stsrn_lite.preprocess.flow import FLOW_MODES
from stsrn_lite.preprocess.frames import preprocess_tracklet


def _decode_tracklet(frames) -> int:
    for frame in frames:
        decode_frame(frame)
    return len(frames)


def time_decoding(jobs, workers: int) -> float:
    start = time.perf_counter()
    if workers == 1:
        for frames in jobs:
            _decode_tracklet(frames)
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for _ in pool.imap(_decode_tracklet, jobs, chunksize=1):
                pass
    return time.perf_counter() - start


def time_building(dataset, workers: int, flow: str) -> float:
    scratch_parent = home().data  # the cache's own file system, not /tmp
    scratch_parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_parent) as scratch:
        start = time.perf_counter()
        build_cache(dataset, Path(scratch) / "cache", flow=flow, workers=workers, progress=False)
        return time.perf_counter() - start


def time_in_memory(decoded: list, flows: list[str], repeats: int) -> dict[str, float]:
    """Best seconds per frame of `preprocess_tracklet` over ``decoded`` tracklets, per flow mode.

    The modes take turns within each repeat, so that a slow spell of the machine hits all alike.
    """
    frames = sum(len(t) for t in decoded)
    best = dict.fromkeys(flows, float("inf"))
    for _ in range(repeats):
        for flow in flows:
            start = time.perf_counter()
            for tracklet in decoded:
                preprocess_tracklet(tracklet, flow)
            best[flow] = min(best[flow], (time.perf_counter() - start) / frames)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--flows", nargs="+", choices=tuple(FLOW_MODES), default=["resized", "original"])
    parser.add_argument("--tracklets", type=int, default=10, help="tracklets timed in memory")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the in-memory timing (best kept)")
    args = parser.parse_args()
    Path("data").mkdir(exist_ok=True)
    dataset = read_dataset(args.dataset, args.root)
    jobs = [t.frames for t in dataset.tracklets]
    frames = dataset.num_frames
    for frames_of in jobs:  # warm the page cache
        for frame in frames_of:
            frame.read_bytes()
    rows = []
    for workers in args.workers:
        decode = time_decoding(jobs, workers)
        builds = {flow: time_building(dataset, workers, flow) for flow in args.flows}
        for flow, build in builds.items():
            rows.append(
                {
                    "workers": workers,
                    "flow": flow,
                    "decode_fps": round(frames / decode),
                    "prepare_fps": round(frames / build),
                    "prepare_over_decode": round(build / decode, 2),
                    "over_first_flow": round(build / builds[args.flows[0]], 2),
                }
            )
    cv2.setNumThreads(1)  # the in-memory timing is per process, as one cache worker runs
    decoded = [[decode_frame(f) for f in frames_of] for frames_of in jobs[: args.tracklets]]
    per_frame = time_in_memory(decoded, args.flows, args.repeats)
    mean_length = frames / len(jobs)
    in_memory = [
        {
            "flow": flow,
            "us_per_frame": round(seconds * 1e6, 1),
            "ms_per_tracklet": round(seconds * mean_length * 1e3, 2),
            "over_first_flow": round(seconds / per_frame[args.flows[0]], 2),
        }
        for flow, seconds in per_frame.items()
    ]
    size = decoded[0][0].shape[:2]
    print(
        f"{args.dataset} at {args.root}: {len(jobs)} tracklets, {frames} frames of {size[0]}x{size[1]}, "
        f"{multiprocessing.cpu_count()} CPUs"
    )
    print(f"{'workers':>8} {'flow':>15} {'decode fps':>11} {'prepare fps':>12} {'prepare/decode':>15} {'/first':>7}")
    for row in rows:
        print(
            f"{row['workers']:>8} {row['flow']:>15} {row['decode_fps']:>11} {row['prepare_fps']:>12} "
            f"{row['prepare_over_decode']:>15} {row['over_first_flow']:>7}"
        )
    print(f"\npreprocess_tracklet in memory, one process, {len(decoded)} tracklets, best of {args.repeats}:")
    print(f"{'flow':>15} {'us/frame':>9} {f'ms/tracklet ({mean_length:.0f} frames)':>26} {'/first':>7}")
    for row in in_memory:
        print(f"{row['flow']:>15} {row['us_per_frame']:>9} {row['ms_per_tracklet']:>26} {row['over_first_flow']:>7}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "dataset": args.dataset,
        "frames": frames,
        "frame_hw": list(size),
        "rows": rows,
        "in_memory": in_memory,
        "peak_rss_mb": round(peak_mb),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
