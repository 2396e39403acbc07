"""Frames per second of the full preprocessing against only decoding the same images.

    python benchmarks/bench_preprocess.py --dataset ilids-vid --root data/synthetic/ilids-vid

For 1 and 2 workers it times (a) decoding every frame of the dataset and (b) building the
whole cache (decode + resize + Lucas-Kanade flow + quantise + memory-map writes + the source
fingerprint), each after one untimed pass that puts the files in the page cache. The goal
(issue 2) is that (b) costs at most twice (a). Prints a table and one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

from stsrn_lite.data.read import DATASETS, read_dataset
from stsrn_lite.home import home
from stsrn_lite.preprocess.cache import build_cache, decode_frame


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


def time_building(dataset, workers: int) -> float:
    scratch_parent = home().data  # the cache's own file system, not /tmp
    scratch_parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_parent) as scratch:
        start = time.perf_counter()
        build_cache(dataset, Path(scratch) / "cache", workers=workers, progress=False)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
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
        build = time_building(dataset, workers)
        rows.append(
            {
                "workers": workers,
                "decode_fps": round(frames / decode),
                "prepare_fps": round(frames / build),
                "prepare_over_decode": round(build / decode, 2),
            }
        )
    print(f"{args.dataset} at {args.root}: {len(jobs)} tracklets, {frames} frames, {multiprocessing.cpu_count()} CPUs")
    print(f"{'workers':>8} {'decode fps':>11} {'prepare fps':>12} {'prepare/decode':>15}")
    for row in rows:
        print(f"{row['workers']:>8} {row['decode_fps']:>11} {row['prepare_fps']:>12} {row['prepare_over_decode']:>15}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"dataset": args.dataset, "frames": frames, "rows": rows, "peak_rss_mb": round(peak_mb)}))


if __name__ == "__main__":
    main()
