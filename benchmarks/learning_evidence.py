"""Evidence that learning works: trained models against the colour-histogram matcher, same folds.

    python benchmarks/learning_evidence.py --root data/syn300 --out runs/evidence \\
        [--budget 600] [--folds 0 1] [--runs STSRN:faithful BaseModel:faithful STSRN:batched]

For each fold and run, the model trains epoch by epoch while the next epoch (timed like the last
one) still fits in --budget seconds of training on the synthetic iLIDS-VID-layout set at --root, then is tested
with the two-camera protocol (probe camera A, first 128 frames; gallery camera B, last 128) with
one centre crop (no 16-pass augmentation, to keep the CPU time down). The colour-histogram matcher
of the data layer (HSV 16×4×4, 6 stripes, χ²; every frame of each tracklet) is ranked on the same
test identities. Prints a table and writes OUT/evidence.json (rows appended as they finish).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from stsrn_lite.baselines.colour_histogram import distance_matrix, tracklet_histogram
from stsrn_lite.evaluation.features import TestConfig
from stsrn_lite.evaluation.metrics import evaluate_rank, summary
from stsrn_lite.evaluation.protocols import evaluate_two_camera
from stsrn_lite.preprocess.cache import decode_frame
from stsrn_lite.provenance import code_version, device_name
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import RunData, load_run_data
from stsrn_lite.training.loop import train


def colour_histogram(data: RunData) -> dict:
    def histogram(pid: int, camid: int) -> np.ndarray:
        tracklet = data.dataset.tracklet_of(pid, camid)
        frames = np.stack([decode_frame(path) for path in tracklet.frames])  # (T, H, W, 3) uint8 RGB
        return tracklet_histogram(frames, space="hsv", bins=(16, 4, 4), n_stripes=6)

    pids = np.array(data.test_pids)
    probe = np.stack([histogram(pid, 0) for pid in pids])
    gallery = np.stack([histogram(pid, 1) for pid in pids])
    cmc, mAP = evaluate_rank(
        distance_matrix(probe, gallery, "chi2"), pids, pids, np.zeros(len(pids)), np.ones(len(pids))
    )
    return summary(cmc, mAP)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="synthetic iLIDS-VID-layout folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--budget", type=float, default=600.0, help="training seconds per run")
    parser.add_argument("--folds", type=int, nargs="+", default=[0])
    parser.add_argument("--runs", nargs="+", default=["STSRN:faithful", "BaseModel:faithful", "STSRN:batched"])
    parser.add_argument("--pairs-per-step", type=int, default=16, help="batched mode")
    parser.add_argument(
        "--batched-lr",
        type=float,
        default=8e-3,
        help="batched mode's learning rate (default: 2e-3 × sqrt(16), since the loss is a mean)",
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    test_cfg = TestConfig(length=128, tta=False)
    for fold in args.folds:
        data = load_run_data("ilids-vid", args.root, fold=fold, folds=10, seed=1, progress=False)
        rows.append(
            {
                "fold": fold,
                "model": "colour histogram",
                "mode": "-",
                "epochs": 0,
                "train_seconds": 0.0,
                **colour_histogram(data),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
        for spec in args.runs:
            preset, mode = spec.split(":")
            out = args.out / f"fold{fold}-{preset.replace('*', 'star')}-{mode}"
            if out.exists():
                raise SystemExit(f"{out} exists; remove it or choose another --out")
            pairs = args.pairs_per_step if mode == "batched" else 1
            lr = args.batched_lr if mode == "batched" else 2e-3
            config = TrainConfig(
                dataset="ilids-vid",
                preset=preset,
                fold=fold,
                epochs=1,
                mode=mode,
                pairs_per_step=pairs,
                learning_rate=lr,
                eval_every=10**6,
                checkpoint_every=1,
            )
            result = train(config, data, out, device=args.device, progress=False)
            while True:  # one more epoch while it fits in the budget (by the last epoch's time)
                wall = result.records[-1]["wall_seconds"]
                if wall + result.records[-1]["epoch_seconds"] > args.budget:
                    break
                config = TrainConfig(**{**config.to_dict(), "epochs": config.epochs + 1})
                result = train(config, data, out, device=args.device, resume=True, progress=False)
            epochs, seconds = config.epochs, result.records[-1]["wall_seconds"]
            evaluation = evaluate_two_camera(result.model, data.cache, data.test_pids, test_cfg, args.device)
            rows.append(
                {
                    "fold": fold,
                    "model": preset,
                    "mode": mode,
                    "pairs_per_step": pairs,
                    "learning_rate": lr,
                    "epochs": epochs,
                    "train_seconds": round(seconds, 1),
                    "final_loss": round(result.records[-1]["loss"], 4),
                    **evaluation.summary,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
            (args.out / "evidence.json").write_text(
                json.dumps(
                    {
                        "root": str(args.root),
                        "budget_seconds": args.budget,
                        "device": device_name(torch.device(args.device)),
                        "code_version": code_version(),
                        "test": "two-camera, L=128, one centre crop",
                        "rows": rows,
                    },
                    indent=1,
                )
            )
    print(
        f"{'fold':>4} {'model':<18} {'mode':<9} {'epochs':>6} {'train s':>8} {'rank1':>6} {'rank5':>6} "
        f"{'rank20':>6} {'mAP':>6}"
    )
    for row in rows:
        print(
            f"{row['fold']:>4} {row['model']:<18} {row['mode']:<9} {row['epochs']:>6} {row['train_seconds']:>8} "
            f"{row['rank1']:>6} {row['rank5']:>6} {row['rank20']:>6} {row['mAP']:>6}"
        )


if __name__ == "__main__":
    main()
