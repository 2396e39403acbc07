"""Train a preset on one fold of a dataset (paper §3.5, §4.2).

    python -m stsrn_lite.training.cli --dataset ilids-vid --root R --preset STSRN --fold 0 --epochs 1000 \\
        --out runs/stsrn-ilids-0 [--device cpu|cuda] [--mode faithful|batched] [--resume]

Every field of `stsrn_lite.training.config.TrainConfig` is an option (``--margin 2.0``,
``--grad-clip 5``, ``--split-seed 1``, ...), with the dataclass's default; see ``--help``.

Writes ``OUT/checkpoint.pt`` (every --checkpoint-every epochs, after --checkpoint-minutes of
training, at the end, and when stopped by Ctrl-C or SIGTERM), ``OUT/records.csv`` (one row per
epoch, see stsrn_lite.training.records) and ``OUT/run.json`` (command, configuration, code
version, device). Prints the last record as one JSON object. --resume continues the checkpoint in
--out and is refused when there is none. Exit status: 0 done, 2 bad input or checkpoint (one
``error:`` line), 3 diverged (a NaN or infinite loss or weight; the last good checkpoint is kept),
130 stopped (resume with --resume).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import torch

from stsrn_lite.data.layout import DatasetError
from stsrn_lite.data.mars_astpn import MARS_PROTOCOLS
from stsrn_lite.data.read import DATASETS
from stsrn_lite.evaluation.dispatch import default_protocol, evaluate_protocol
from stsrn_lite.evaluation.features import TestConfig
from stsrn_lite.model.presets import PRESETS
from stsrn_lite.model.stsm import OMEGA_FORMS
from stsrn_lite.model.temporal import TEMRES_READINGS
from stsrn_lite.preprocess.cache import StaleCacheError
from stsrn_lite.preprocess.flow import FLOW_MODES
from stsrn_lite.preprocess.transforms import NORMALISATIONS, PreprocessConfig
from stsrn_lite.provenance import code_version, device_name
from stsrn_lite.training.checkpoint import CheckpointError
from stsrn_lite.training.config import (
    DAMPENING,
    MODES,
    OPTIMISERS,
    POSITIVE_COSTS,
    RECIPES,
    SCHEDULES,
    TrainConfig,
)
from stsrn_lite.training.data import RunData, load_run_data
from stsrn_lite.training.loop import (
    CHECKPOINT,
    OutputError,
    TrainingDiverged,
    TrainingInterrupted,
    check_out,
    require_checkpoint,
    train,
)
from stsrn_lite.training.options import add_config_arguments, config_from_args
from stsrn_lite.training.precision import PRECISIONS


def periodic_evaluation(model, data: RunData, config: TrainConfig, device: torch.device) -> dict:
    """Ranks and mAP of the fold's test half (official MARS: the standard protocol) during training."""
    protocol = default_protocol(config.dataset, config.dataset, mars_protocol=config.mars_protocol)
    preprocess = PreprocessConfig(normalisation=config.normalisation)
    cfg = TestConfig(length=config.eval_length, tta=config.eval_tta, preprocess=preprocess)
    return evaluate_protocol(
        protocol, model, data.cache, data.dataset, cfg, device, pids=data.test_pids, views=data.views
    ).summary


DIVERGED = 3  # exit status of a run stopped by a NaN or infinite loss or weight
BATCHED_PAIRS = 16  # pairs per step in batched mode when --pairs-per-step is not given


def build_parser() -> argparse.ArgumentParser:
    """The options: every field of `TrainConfig` (``--learning-rate`` for ``learning_rate``), then the run's."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_arguments(
        parser,
        TrainConfig,
        choices={
            "dataset": DATASETS,
            "preset": sorted(PRESETS),
            "mode": MODES,
            "dampening": DAMPENING,
            "positive_cost": POSITIVE_COSTS,
            "flow": tuple(FLOW_MODES),
            "normalisation": NORMALISATIONS,
            "temres_reading": TEMRES_READINGS,
            "omega_form": OMEGA_FORMS,
            "mars_protocol": MARS_PROTOCOLS,
            "optimiser": OPTIMISERS,
            "schedule": SCHEDULES,
            "precision": PRECISIONS,
        },
        help_extra={"pairs_per_step": f"(batched mode: {BATCHED_PAIRS} when not given)"},
    )
    parser.add_argument(
        "--recipe",
        choices=tuple(RECIPES),
        default="faithful",
        help="start from this recipe's settings (stsrn_lite.training.config.RECIPES); options given win",
    )
    parser.add_argument("--root", type=Path, required=True, help="the dataset's folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for checkpoint.pt, records.csv, run.json")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--cache", type=Path, default=None, help="preprocessing cache folder")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (fix it to reproduce)")
    parser.add_argument("--data-label", default="", help="what the data is, for the records (e.g. 'synthetic smoke')")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options; ``--recipe``'s settings are the defaults of the options it sets."""
    parser = build_parser()
    recipe = RECIPES[parser.parse_known_args(argv)[0].recipe]
    parser.set_defaults(**recipe)
    # pairs_per_step starts as the recipe's (else None) so that an omitted --pairs-per-step can be told apart
    args = parser.parse_args(argv, argparse.Namespace(pairs_per_step=recipe.get("pairs_per_step")))
    if args.pairs_per_step is None:
        args.pairs_per_step = BATCHED_PAIRS if args.mode == "batched" else parser.get_default("pairs_per_step")
    return args


def fail(message: object) -> int:
    """Write ``error: message`` as one line on stderr; the exit status of bad input."""
    print("error: " + " ".join(str(message).splitlines()), file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None and args.threads < 1:
        return fail(f"--threads must be a positive number of CPU threads, got {args.threads}; pass --threads 1 or more")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        return fail("--device cuda but torch sees no CUDA device; pass --device cpu")
    try:
        check_out(args.out)  # before the data is loaded, which may take long
        if args.resume:
            require_checkpoint(args.out)
        config = config_from_args(TrainConfig, args)
        data = load_run_data(
            config.dataset,
            args.root,
            fold=config.fold,
            folds=config.folds,
            seed=config.split_seed,
            cache_dir=args.cache,
            prid_split_file=config.prid_split_file,
            flow=config.flow,
            mars_protocol=config.mars_protocol,
            progress=not args.no_progress,
        )
        run = {
            "command": [sys.executable, "-m", "stsrn_lite.training.cli", *(argv if argv is not None else sys.argv[1:])],
            "config": config.to_dict(),
            "recipe": config.recipe,
            "root": str(args.root),
            "split": data.split_source,
            "code_version": code_version(),
            "device": device_name(torch.device(args.device)),
            "torch": torch.__version__,
            "started": datetime.datetime.now().isoformat(timespec="seconds"),
        }
        result = train(
            config,
            data,
            args.out,
            device=args.device,
            resume=args.resume,
            progress=not args.no_progress,
            evaluate=periodic_evaluation,
            data_label=args.data_label,
            run_record=run,
        )
    except (DatasetError, StaleCacheError, CheckpointError, OutputError, ValueError) as error:
        return fail(error)
    except OSError as error:  # outside --out: the preprocessing cache, a dataset file
        where = error.filename or args.out
        again = "continue with --resume" if (args.out / CHECKPOINT).is_file() else "run again"
        return fail(
            f"{where}: {error.strerror or error}; make it readable and writable (or free space there) and {again}"
        )
    except TrainingDiverged as error:
        fail(error)
        return DIVERGED
    except TrainingInterrupted as stopped:
        print(f"stopped: {stopped}; continue with --resume", file=sys.stderr)
        return 130
    print(json.dumps(result.records[-1] if result.records else {}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
