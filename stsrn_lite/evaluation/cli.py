"""Evaluate a trained checkpoint with the paper's protocols (§4.2-4.4).

    python -m stsrn_lite.evaluation.cli --checkpoint runs/x/checkpoint.pt --dataset ilids-vid --root R \\
        [--protocol auto|two-camera|cross-dataset|mars-standard|mars-torchreid] [--no-tta]
        [--length 128] [--batch-sequences B]

Protocols:
  two-camera      iLIDS-VID / PRID2011: probe camera A (first L frames), gallery camera B (last L),
                  on the test half of the checkpoint's fold; MARS (Table 2) when the checkpoint
                  trained under the ASTPN reading: the two views of the reduction's test half;
  cross-dataset   Table 4: a model trained on iLIDS-VID tested on PRID2011 persons 1-200
                  (--cross-pids test-half: the test half of fold --fold; all: the 200 persons);
  mars-standard   the official query_IDX protocol with junk and distractors (mAP and CMC);
  mars-torchreid  the same queries with torchreid's gallery and rules.
``auto`` picks two-camera for the training dataset, except mars-standard for a MARS checkpoint
of the official reading; cross-dataset for PRID2011 after iLIDS-VID (`stsrn_lite.evaluation.dispatch`).
--length, --tta/--no-tta and --batch-sequences are the fields of
`stsrn_lite.evaluation.features.TestConfig`. Prints one JSON object: rank1, rank5, rank10,
rank20, mAP (percent) and what produced them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from stsrn_lite.data.layout import DatasetError
from stsrn_lite.data.mars_astpn import reduce_two_cameras
from stsrn_lite.data.read import DATASETS, read_dataset
from stsrn_lite.data.tracklet import VideoReIDDataset
from stsrn_lite.evaluation.dispatch import PROTOCOLS, check_mars_reading, default_protocol, evaluate_protocol
from stsrn_lite.evaluation.features import TestConfig
from stsrn_lite.evaluation.protocols import CROSS_DATASET_PIDS, cross_dataset_pids
from stsrn_lite.model.config import model_config_from_dict
from stsrn_lite.model.network import STSRN
from stsrn_lite.preprocess.cache import StaleCacheError, default_cache_dir, prepare
from stsrn_lite.preprocess.transforms import PreprocessConfig
from stsrn_lite.provenance import code_version, device_name
from stsrn_lite.training.checkpoint import CheckpointError, load_checkpoint
from stsrn_lite.training.cli import fail
from stsrn_lite.training.data import fold_split
from stsrn_lite.training.options import add_config_arguments, config_from_args

AUTO = "auto"  # --protocol default: `default_protocol` of the training and the test dataset


def model_from_checkpoint(state: dict, device: str | torch.device) -> STSRN:
    model = STSRN(model_config_from_dict(state["model_config"]))
    model.load_state_dict(state["model"])
    return model.to(device).eval()


def check_test_identities(
    state: dict, dataset: VideoReIDDataset, tested: set[int], fold: int, path: Path, *, split_train: set[int] | None
) -> str:
    """Refuse a test on identities the checkpoint trained on; say how the test relates to its training.

    ``tested``: the identities the protocol tests; ``split_train``: the training half of the
    checkpoint's own fold as computed here (None when another fold or dataset is tested), which
    must be the identities the checkpoint says it trained on: the split is checked, not assumed.
    """
    trained = state["config"]
    if dataset.name != trained["dataset"]:
        return f"another dataset: trained on {trained['dataset']}, tested on {dataset.name}"
    train_pids = set(state["train_pids"])
    if split_train is not None and split_train != train_pids:
        raise ValueError(
            f"{path}: fold {fold} of {dataset.root} is not the split the model trained on "
            f"({len(split_train ^ train_pids)} training identities differ); evaluate with the data and split "
            f"file it trained with (run.json beside the checkpoint names them)"
        )
    leaked = sorted(tested & train_pids)
    if leaked:
        raise ValueError(
            f"{path}: the model trained on {len(leaked)} of the {len(tested)} identities this test would use "
            f"(fold {fold} here, fold {trained['fold']} in training; e.g. person {leaked[0]}); "
            f"test its own fold: omit --fold"
        )
    return "disjoint from the training identities"


def check_protocol(protocol: str, trained_on: str, tested_on: str) -> None:
    """Refuse a protocol that cannot test a model trained on ``trained_on`` with ``tested_on``,
    naming a command that works (testing on the fold it trained on always does)."""
    own = f"pass --dataset {trained_on} with its folder to test the fold it trained on"
    if protocol == "two-camera" and tested_on != trained_on:
        other = "pass --protocol cross-dataset (Table 4)" if tested_on == "prid2011" else own
        raise ValueError(f"two-camera tests the fold a model trained on ({trained_on}), not {tested_on}: {other}")
    if protocol == "cross-dataset" and tested_on != "prid2011":
        raise ValueError(f"the cross-dataset test (Table 4) is on PRID2011: pass --dataset prid2011, or {own}")
    if protocol == "cross-dataset" and trained_on == "prid2011":
        raise ValueError("a model trained on PRID2011 saw half of its persons: pass --protocol two-camera")
    if protocol in ("mars-standard", "mars-torchreid") and tested_on != "mars":
        raise ValueError(f"{protocol} tests on MARS: pass --dataset mars, or {own}")


def run(args: argparse.Namespace) -> dict:
    state = load_checkpoint(args.checkpoint)
    trained = state["config"]
    mars_protocol = trained.get("mars_protocol", "official")  # MARS runs before mars_protocol: bbox_train
    protocol = args.protocol
    if protocol == AUTO:
        try:
            protocol = default_protocol(trained["dataset"], args.dataset, mars_protocol=mars_protocol)
        except ValueError as error:
            own = f"--dataset {trained['dataset']} (the fold it trained on)"
            raise ValueError(f"{error}; test it with {own}, or on MARS (--dataset mars)") from None
    check_protocol(protocol, trained["dataset"], args.dataset)
    if trained["dataset"] == "mars" and args.dataset == "mars":
        check_mars_reading(protocol, mars_protocol, str(args.checkpoint))
    model = model_from_checkpoint(state, args.device)
    options = (
        {"split_file": trained.get("prid_split_file")}
        if args.dataset == "prid2011" and trained.get("prid_split_file") and protocol == "two-camera"
        else {}
    )
    dataset = read_dataset(args.dataset, args.root, **options)
    flow = trained.get("flow", "resized")  # the flow the model trained on (before the field: resized)
    where = args.cache or default_cache_dir(args.dataset, args.root, flow)
    cache, _ = prepare(dataset, where, flow=flow, progress=False)
    # the normalisation the model trained with (checkpoints before the field: the std divisor)
    normalisation = trained.get("normalisation", "standard")
    cfg = config_from_args(TestConfig, args, preprocess=PreprocessConfig(normalisation=normalisation))
    fold = trained["fold"] if args.fold is None else args.fold
    split_seed = trained.get("split_seed", trained["seed"])  # checkpoints before split_seed drew splits from seed
    pids = views = split_train = None
    if protocol == "two-camera":
        split, _ = fold_split(dataset, fold, trained["folds"], split_seed)
        pids = split.test
        split_train = set(split.train) if fold == trained["fold"] else None
        if args.dataset == "mars":
            views = reduce_two_cameras(dataset, split_seed).views
    elif protocol == "cross-dataset":
        pids = cross_dataset_pids(dataset, fold, trained["folds"], split_seed, which=args.cross_pids)
    tested = set(pids) if pids is not None else {dataset.tracklets[i].pid for i in dataset.subsets["test"]} - {-1, 0}
    identities = check_test_identities(state, dataset, tested, fold, args.checkpoint, split_train=split_train)
    evaluation = evaluate_protocol(protocol, model, cache, dataset, cfg, args.device, pids=pids, views=views)
    record = evaluation.record()
    return {
        **evaluation.summary,
        "protocol": protocol,
        "dataset": args.dataset,
        "trained_on": trained["dataset"],
        "preset": trained["preset"],
        "fold": fold,
        "epoch": state["epoch"],
        "identities": identities,
        "num_queries": record["num_queries"],
        "num_gallery": record["num_gallery"],
        "length": cfg.length,
        "tta": cfg.tta,
        "cmc": record["cmc"],
        "device": device_name(torch.device(args.device)),
        "code_version": code_version(),
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--protocol", choices=(AUTO, *PROTOCOLS), default=AUTO)
    parser.add_argument("--fold", type=int, default=None, help="default: the checkpoint's fold")
    parser.add_argument("--cross-pids", choices=CROSS_DATASET_PIDS, default=CROSS_DATASET_PIDS[0])
    add_config_arguments(parser, TestConfig, skip=("preprocess",))  # --length, --tta/--no-tta, --batch-sequences
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads is not None and args.threads < 1:
        return fail(f"--threads must be a positive number of CPU threads, got {args.threads}; pass --threads 1 or more")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        return fail("--device cuda but torch sees no CUDA device; pass --device cpu")
    try:
        result = run(args)
    except (DatasetError, StaleCacheError, CheckpointError, ValueError, OSError) as error:
        return fail(error)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
