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
import threading
import time
from pathlib import Path

import numpy as np

from stsrn_lite.data.mars import read_mars
from stsrn_lite.data.tracklet import Tracklet, VideoReIDDataset
from stsrn_lite.home import home
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


def _descendants(root_pid: int) -> list[int]:
    """Process ids below ``root_pid`` (the fork server and its workers), read from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def _peak_rss_mib(pid: int) -> float:
    """VmHWM, the peak resident memory of process ``pid``, in MiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class WorkerMemory(threading.Thread):
    """Samples the peak resident memory of every descendant process, once a second."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mib = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(1.0):
            for pid in _descendants(os.getpid()):
                self.peak_mib = max(self.peak_mib, _peak_rss_mib(pid))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", type=Path, required=True, help="a MARS-layout dataset to take frames from")
    parser.add_argument("--frames", type=int, default=1_191_003)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scratch", type=Path, default=home().data / "bench-cache-memory")
    args = parser.parse_args()
    dataset = mars_sized(args.pool, args.frames)
    shutil.rmtree(args.scratch, ignore_errors=True)
    monitor = WorkerMemory()
    monitor.start()
    start = time.perf_counter()
    try:
        cache = build_cache(dataset, args.scratch, workers=args.workers, progress=True)
        seconds = time.perf_counter() - start
        size_gb = sum(p.stat().st_size for p in args.scratch.iterdir()) / 2**30
        frames = int(cache.offsets[-1])
    finally:
        monitor.done.set()
        shutil.rmtree(args.scratch, ignore_errors=True)
    result = {
        "frames": frames,
        "tracklets": len(dataset.tracklets),
        "workers": args.workers,
        "seconds": round(seconds, 1),
        "frames_per_second": round(frames / seconds),
        "cache_gib": round(size_gb, 2),
        "peak_rss_main_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_rss_worker_mib": round(monitor.peak_mib),  # the largest of the workers (sampled each second)
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
