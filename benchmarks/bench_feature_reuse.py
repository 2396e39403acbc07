"""X + Y against X·Y feature extractions at test time (paper §4.3 "Efficiency").

    OMP_NUM_THREADS=2 python benchmarks/bench_feature_reuse.py [--identities 20] [--max-length 32]
        [--pairs 10] [--preset STSRN] [--no-tta]

Paper §4.3: "Suppose we have X examples to query and Y examples in the gallery. The
attention-based approaches need to extract features for XY times while we only need X + Y
times." On a small synthetic iLIDS-VID set (generated into a temporary folder), with the
two-camera protocol's frames (probes: first L, gallery: last L) and the test passes:

- extract once: the X probe and Y gallery features, as `stsrn_lite.evaluation` does, in chunks
  of 16 sequences and, to separate the count from batching, one sequence at a time;
- per pair: a pair-wise scheme that extracts both sequences for every probe-gallery pair; a
  seeded subset of pairs is timed and the mean extrapolated to all X·Y pairs.

Prints a table and one JSON line. CPU only; OMP_NUM_THREADS defaults to 2.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # before torch is imported

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from stsrn_lite.data.read import read_dataset  # noqa: E402
from stsrn_lite.evaluation import TestConfig, extract_features, pass_distances  # noqa: E402
from stsrn_lite.evaluation.protocols import two_camera_indices  # noqa: E402
from stsrn_lite.model import STSRN, preset  # noqa: E402
from stsrn_lite.preprocess.cache import prepare  # noqa: E402
from stsrn_lite.synthetic.generator import SyntheticConfig, generate  # noqa: E402


def timed(function, *args, **kwargs):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--identities", type=int, default=20, help="persons in both cameras: X = Y")
    parser.add_argument("--max-length", type=int, default=32, help="cap on the synthetic tracklet length")
    parser.add_argument("--length", type=int, default=128, help="test sampling length L")
    parser.add_argument("--pairs", type=int, default=10, help="probe-gallery pairs timed for the X·Y scheme")
    parser.add_argument("--preset", default="STSRN")
    parser.add_argument("--no-tta", action="store_true", help="one centre crop instead of 16 passes")
    parser.add_argument("--repeats", type=int, default=2, help="the extract-once timings are the best of this many")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    device = torch.device("cpu")
    cfg = TestConfig(length=args.length, tta=not args.no_tta, batch_sequences=16)
    single = TestConfig(length=args.length, tta=not args.no_tta, batch_sequences=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(
            SyntheticConfig(layout="ilids-vid", identities=args.identities, seed=args.seed, max_length=args.max_length),
            Path(tmp) / "ilids",
            workers=2,
            progress=False,
        )
        dataset = read_dataset("ilids-vid", root)
        cache, _ = prepare(dataset, Path(tmp) / "cache", workers=2, progress=False)
        pids = dataset.paired_pids()
        q_indices, g_indices = two_camera_indices(cache, pids, 0), two_camera_indices(cache, pids, 1)
        X, Y = len(q_indices), len(g_indices)
        frames = int(sum(min(args.length, int(cache.offsets[i + 1] - cache.offsets[i])) for i in q_indices + g_indices))
        model = STSRN(preset(args.preset))
        extract_features(model, cache, q_indices[: cfg.batch_sequences or 1], "first", cfg, device)  # warm-up

        def once(config: TestConfig) -> tuple[torch.Tensor, float]:
            """Distances of all X·Y pairs from X + Y extractions, and the best time of --repeats."""
            best = float("inf")
            for _ in range(args.repeats):
                (q, t_q), (g, t_g) = (
                    timed(extract_features, model, cache, q_indices, "first", config, device),
                    timed(extract_features, model, cache, g_indices, "last", config, device),
                )
                distmat, t_d = timed(pass_distances, q, g)
                best = min(best, t_q + t_g + t_d)
            return distmat, best

        distmat, once_batched = once(cfg)
        distmat_single, once_single = once(single)
        rng = np.random.default_rng(args.seed)
        pairs = [(int(rng.integers(X)), int(rng.integers(Y))) for _ in range(args.pairs)]
        start = time.perf_counter()
        for i, j in pairs:
            q = extract_features(model, cache, [q_indices[i]], "first", single, device)  # (P, 1, N)
            g = extract_features(model, cache, [g_indices[j]], "last", single, device)  # (P, 1, N)
            d = pass_distances(q, g)
            if not torch.allclose(d, distmat[i : i + 1, j : j + 1], atol=1e-3):
                raise RuntimeError(f"pair ({i}, {j}): per-pair distance {d.item()} != {distmat[i, j].item()}")
        per_pair = (time.perf_counter() - start) / len(pairs)
    pairwise = per_pair * X * Y
    result = {
        "preset": args.preset,
        "X": X,
        "Y": Y,
        "passes": 16 if cfg.tta else 1,
        "length": args.length,
        "frames_per_side_mean": frames / (X + Y),
        "threads": torch.get_num_threads(),
        "once_batched_s": round(once_batched, 3),
        "once_one_by_one_s": round(once_single, 3),
        "per_pair_s": round(per_pair, 4),
        "pairs_timed": len(pairs),
        "pairwise_extrapolated_s": round(pairwise, 2),
        "extractions_once": X + Y,
        "extractions_pairwise": 2 * X * Y,
        "ratio_vs_one_by_one": round(pairwise / once_single, 2),
        "ratio_vs_batched": round(pairwise / once_batched, 2),
        "max_abs_diff_batched_vs_one_by_one": float((distmat - distmat_single).abs().max()),
    }
    print(
        f"{args.preset}, X = {X} probes, Y = {Y} gallery, {result['passes']} passes, "
        f"{result['frames_per_side_mean']:.1f} frames per tracklet, {result['threads']} threads"
    )
    print(f"  extract once (X + Y = {X + Y} sequences), chunks of 16: {once_batched:8.2f} s")
    print(f"  extract once, one sequence at a time:           {once_single:8.2f} s")
    print(f"  per pair (2 sequences), mean of {len(pairs):3d} pairs:       {per_pair:8.3f} s")
    print(f"  pair-wise, extrapolated to X·Y = {X * Y} pairs:      {pairwise:8.1f} s")
    print(
        f"  ratio pair-wise / once: {pairwise / once_single:.1f}x (one by one), "
        f"{pairwise / once_batched:.1f}x (chunked); sequence count ratio 2XY/(X+Y) = {2 * X * Y / (X + Y):.1f}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
