"""Train a preset on one fold of a dataset (paper §3.5, §4.2).

    python -m stsrn_lite.training.cli --dataset ilids-vid --root R --preset STSRN --fold 0 --epochs 1000 \\
        --out runs/stsrn-ilids-0 [--device cpu|cuda] [--mode faithful|batched] [--resume]

Writes ``OUT/checkpoint.pt`` (every --checkpoint-every epochs, at the end, and when stopped by
Ctrl-C or SIGTERM), ``OUT/records.csv`` (one row per epoch, see stsrn_lite.training.records)
and ``OUT/run.json`` (command, configuration, code version, device). Prints the last record as
one JSON object. Exit status: 0 done, 2 bad input or checkpoint, 130 stopped (resume with --resume).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import torch

from stsrn_lite.data.layout import DatasetError
from stsrn_lite.data.read import DATASETS
from stsrn_lite.evaluation.features import TestConfig
from stsrn_lite.evaluation.protocols import evaluate_mars_standard, evaluate_two_camera
from stsrn_lite.model.presets import PRESETS
from stsrn_lite.preprocess.cache import StaleCacheError
from stsrn_lite.provenance import code_version, device_name
from stsrn_lite.training.checkpoint import CheckpointError
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import RunData, load_run_data
from stsrn_lite.training.loop import TrainingInterrupted, train


def periodic_evaluation(model, data: RunData, config: TrainConfig, device: torch.device) -> dict:
    """Ranks and mAP of the fold's test half (MARS: the standard protocol) during training."""
    cfg = TestConfig(length=config.eval_length, tta=config.eval_tta)
    if config.dataset == "mars":
        evaluation = evaluate_mars_standard(model, data.cache, data.dataset, cfg, device)
    else:
        evaluation = evaluate_two_camera(model, data.cache, data.test_pids, cfg, device)
    return evaluation.summary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument("--root", type=Path, required=True, help="the dataset's folder")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="STSRN")
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--folds", type=int, default=10, help="seeded splits when there is no split file")
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True, help="folder for checkpoint.pt, records.csv, run.json")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--mode", choices=("faithful", "batched"), default="faithful")
    parser.add_argument("--pairs-per-step", type=int, default=None, help="batched mode (default 16)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--dampening", choices=("torch7", "pytorch"), default="torch7")
    parser.add_argument("--skip-short", action="store_true", help="drop pairs with a sequence under 16 frames")
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--eval-length", type=int, default=128)
    parser.add_argument("--eval-tta", action="store_true", help="16-pass test-time augmentation in evaluations")
    parser.add_argument("--checkpoint-every", type=int, default=10)
    parser.add_argument("--prid-split-file", default=None, help="torchreid's splits_prid2011.json")
    parser.add_argument("--cache", type=Path, default=None, help="preprocessing cache folder")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (fix it to reproduce)")
    parser.add_argument("--data-label", default="", help="what the data is, for the records (e.g. 'synthetic smoke')")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda but torch sees no CUDA device", file=sys.stderr)
        return 2
    pairs = args.pairs_per_step or (16 if args.mode == "batched" else 1)
    try:
        config = TrainConfig(
            dataset=args.dataset,
            preset=args.preset,
            fold=args.fold,
            folds=args.folds,
            seed=args.seed,
            epochs=args.epochs,
            mode=args.mode,
            pairs_per_step=pairs,
            learning_rate=args.learning_rate,
            dampening=args.dampening,
            skip_short=args.skip_short,
            eval_every=args.eval_every,
            eval_length=args.eval_length,
            eval_tta=args.eval_tta,
            checkpoint_every=args.checkpoint_every,
            prid_split_file=args.prid_split_file,
        )
        data = load_run_data(
            args.dataset,
            args.root,
            fold=args.fold,
            folds=args.folds,
            seed=args.seed,
            cache_dir=args.cache,
            prid_split_file=args.prid_split_file,
            progress=not args.no_progress,
        )
        args.out.mkdir(parents=True, exist_ok=True)
        run = {
            "command": [sys.executable, "-m", "stsrn_lite.training.cli", *(argv if argv is not None else sys.argv[1:])],
            "config": config.to_dict(),
            "root": str(args.root),
            "split": data.split_source,
            "code_version": code_version(),
            "device": device_name(torch.device(args.device)),
            "torch": torch.__version__,
            "started": datetime.datetime.now().isoformat(timespec="seconds"),
        }
        (args.out / "run.json").write_text(json.dumps(run, indent=1))
        result = train(
            config,
            data,
            args.out,
            device=args.device,
            resume=args.resume,
            progress=not args.no_progress,
            evaluate=periodic_evaluation,
            data_label=args.data_label,
        )
    except (DatasetError, StaleCacheError, CheckpointError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except TrainingInterrupted as stopped:
        print(f"stopped: {stopped}; continue with --resume", file=sys.stderr)
        return 130
    print(json.dumps(result.records[-1] if result.records else {}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
