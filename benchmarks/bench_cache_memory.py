"""Peak memory of building a MARS-sized cache (1,191,003 frames) on this machine.

    python benchmarks/bench_cache_memory.py --pool data/synthetic/mars --frames 1191003

The real MARS cannot be downloaded here, so the dataset is a MARS-sized list of tracklets
(lengths drawn from the real MARS length quantiles) whose frames are taken, round robin, from
the frames of a small dataset (``--pool``, a MARS-layout folder). The cache is written to a
scratch folder and deleted. Prints the wall time, the cache size and the peak resident memory
of this process and of the worst worker: the cache must stay bounded on a 24 GiB machine.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from pathlib import Path

import numpy as np

from stsrn_lite.data.mars import read_mars
from stsrn_lite.data.tracklet import Tracklet, VideoReIDDataset
from stsrn_lite.preprocess.cache import build_cache
from stsrn_lite.synthetic.statistics import MARS_TRAIN_LENGTH_QUANTILES, quantile_length


def mars_sized(pool_root: Path, frames: int, seed: int = 0) -> VideoReIDDataset:
    pool = read_mars(pool_root, verify_files=False)
    files = [f for t in pool.tracklets for f in t.frames]
    rng = np.random.default_rng(seed)
    tracklets, used = [], 0
    while used < frames:
        length = min(quantile_length(rng, MARS_TRAIN_LENGTH_QUANTILES), frames - used)
        chosen = tuple(files[(used + i) % len(files)] for i in range(length))
        tracklets.append(Tracklet(pid=1 + len(tracklets) % 625 * 2, camid=len(tracklets) % 6, frames=chosen))
        used += length
    return VideoReIDDataset(name="mars", root=pool.root, cameras=pool.cameras, tracklets=tracklets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", type=Path, required=True, help="a MARS-layout dataset to take frames from")
    parser.add_argument("--frames", type=int, default=1_191_003)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scratch", type=Path, default=Path("data") / "bench-cache-memory")
    args = parser.parse_args()
    dataset = mars_sized(args.pool, args.frames)
    shutil.rmtree(args.scratch, ignore_errors=True)
    start = time.perf_counter()
    try:
        cache = build_cache(dataset, args.scratch, workers=args.workers, progress=True)
        seconds = time.perf_counter() - start
        size_gb = sum(p.stat().st_size for p in args.scratch.iterdir()) / 2**30
        frames = int(cache.offsets[-1])
    finally:
        shutil.rmtree(args.scratch, ignore_errors=True)
    result = {
        "frames": frames, "tracklets": len(dataset.tracklets), "workers": args.workers,
        "seconds": round(seconds, 1), "frames_per_second": round(frames / seconds),
        "cache_gib": round(size_gb, 2),
        "peak_rss_main_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_rss_worker_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
