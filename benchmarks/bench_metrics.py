"""Time `evaluate_rank` on a MARS-sized problem under both rule sets.

    OMP_NUM_THREADS=2 python benchmarks/bench_metrics.py [--info DIR] [--repeat 3] [--dtype float32]

Labels are MARS's own test labels (1,980 queries × 12,180 gallery tracklets, the official
gallery; book: The original code, "Test protocols") when ``tracks_test_info.mat`` and
``query_IDX.mat`` are in --info, otherwise synthetic ones drawn alike (625 identities,
6 cameras, junk −1 and distractor 0 tracklets). Distances are uniform random, so the figures
measure time, not accuracy. As a check on the rules it also counts valid queries: the official
gallery under MARS rules, and torchreid's gallery (test minus queries minus junk) under
torchreid rules. Prints one line per case and one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import scipy.io

from stsrn_lite.evaluation.metrics import evaluate_rank, evaluate_rank_details
from stsrn_lite.home import home

NUM_QUERY, NUM_TEST, NUM_IDS, NUM_CAMS = 1980, 12_180, 625, 6  # MARS test split


def mars_labels(info: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Test pids (G,), camids (G,), 0-based query rows (Q,) and where they came from."""
    if (info / "tracks_test_info.mat").is_file() and (info / "query_IDX.mat").is_file():
        test = scipy.io.loadmat(info / "tracks_test_info.mat")["track_test_info"]  # (G, 4): start, end, pid, cam
        query = scipy.io.loadmat(info / "query_IDX.mat")["query_IDX"].ravel().astype(np.int64) - 1
        return test[:, 2].astype(np.int64), test[:, 3].astype(np.int64), query, str(info)
    rng = np.random.default_rng(0)
    pids = rng.integers(1, NUM_IDS + 1, NUM_TEST)
    pids[rng.random(NUM_TEST) < 0.07] = -1  # MARS: 870 junk, 3,248 distractors of 12,180
    pids[rng.random(NUM_TEST) < 0.27] = 0
    camids = rng.integers(1, NUM_CAMS + 1, NUM_TEST)
    query = rng.choice(np.flatnonzero(pids > 0), NUM_QUERY, replace=False)
    return pids, camids, query, "synthetic"


def best_time(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--info", type=Path, default=home().data / "mars" / "info", help="folder with MARS's .mat labels"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the fastest is reported")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args()

    pids, camids, query, source = mars_labels(args.info)
    q_pids, q_camids = pids[query], camids[query]
    rng = np.random.default_rng(1)
    distmat = rng.random((len(query), len(pids))).astype(args.dtype)  # (Q, G)
    # torchreid's MARS gallery: the test tracklets that are neither queries nor junk
    in_gallery = np.ones(len(pids), bool)
    in_gallery[query] = False
    in_gallery &= pids != -1

    result = {
        "labels": source,
        "dtype": args.dtype,
        "num_query": len(query),
        "num_gallery": len(pids),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    for rules in ("torchreid", "mars"):
        seconds = best_time(
            lambda rules=rules: evaluate_rank(distmat, q_pids, pids, q_camids, camids, 50, rules=rules), args.repeat
        )
        result[f"seconds_{rules}"] = round(seconds, 3)
        print(f"{rules:9s} {len(query)} x {len(pids)}: {seconds:.3f} s")
    official = evaluate_rank_details(distmat, q_pids, pids, q_camids, camids, 50, rules="mars")
    reduced = evaluate_rank_details(
        distmat[:, in_gallery], q_pids, pids[in_gallery], q_camids, camids[in_gallery], 50, rules="torchreid"
    )
    result["valid_mars_official_gallery"] = official.num_valid
    result["torchreid_gallery"] = int(in_gallery.sum())
    result["valid_torchreid_gallery"] = reduced.num_valid
    print(
        f"valid queries: {official.num_valid} (MARS rules, official gallery), "
        f"{reduced.num_valid} (torchreid rules, its {int(in_gallery.sum())}-tracklet gallery)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
