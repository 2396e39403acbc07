"""What a run trains and tests on: the dataset, its preprocessing cache and the fold's identities.

iLIDS-VID uses the official ten splits when its split file is present, else seeded splits of the
300 persons; PRID2011 uses seeded splits of persons 1-200 (the paper's protocol), or torchreid's
178-person split file when asked. MARS, under its ASTPN reading (`TrainConfig.mars_protocol`, the
default), is first reduced to two tracklets in two cameras per identity
(`stsrn_lite.data.mars_astpn`) and then split like the others; under its official reading it trains
on ``bbox_train`` and tests on its test set.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from stsrn_lite.data.ilidsvid import SPLIT_FILE
from stsrn_lite.data.mars_astpn import MARS_PROTOCOLS, reduce_two_cameras
from stsrn_lite.data.prid2011 import protocol_pids
from stsrn_lite.data.read import read_dataset
from stsrn_lite.data.splits import random_splits
from stsrn_lite.data.tracklet import Split, VideoReIDDataset
from stsrn_lite.preprocess.cache import PreprocessedCache, default_cache_dir, prepare
from stsrn_lite.preprocess.flow import DEFAULT_FLOW
from stsrn_lite.training.config import TrainConfig


@dataclass
class RunData:
    dataset: VideoReIDDataset
    cache: PreprocessedCache
    train_indices: list[int]  # cache indices of the training tracklets
    test_pids: list[int]  # identities of the fold's test half (official MARS: every test identity)
    split_source: str  # `fold_split`'s: "official split file (10 splits)", "seeded", "ASTPN reduction, seeded", ...
    views: dict[int, tuple[int, int]] = field(default_factory=dict)  # ASTPN's MARS: test pid -> (probe, gallery)


class SeededSplitWarning(UserWarning):
    """iLIDS-VID without its official split file: the folds are seeded splits, not the published ones."""


def fold_split(dataset: VideoReIDDataset, fold: int, folds: int, seed: int) -> tuple[Split, str]:
    """Split ``fold`` of the dataset's ten-fold protocol and where it came from (``seed``: the split seed).

    ``folds`` is how many seeded splits exist; a split file brings its own, and asking for more
    folds than it holds is refused rather than recorded. iLIDS-VID without its split file warns
    (`SeededSplitWarning`, once per process) and says so in the source.
    """
    if dataset.splits and folds > len(dataset.splits):
        file = dataset.root / SPLIT_FILE if dataset.name == "ilids-vid" else f"{dataset.root}: the split file"
        raise ValueError(
            f"{file}: holds {len(dataset.splits)} splits, but {folds} folds were asked for; "
            f"pass --folds {len(dataset.splits)} (folds={len(dataset.splits)}; the file's splits are used as they are)"
        )
    if dataset.name == "ilids-vid" and dataset.splits:
        source, splits = f"official split file ({len(dataset.splits)} splits)", dataset.splits
    elif dataset.name == "prid2011" and dataset.splits:
        source, splits = f"splits_prid2011.json ({len(dataset.splits)} splits)", dataset.splits
    elif dataset.name == "ilids-vid":
        source = f"seeded (split seed {seed}): no official split file at {dataset.root / SPLIT_FILE}"
        warnings.warn(
            f"{dataset.root / SPLIT_FILE}: missing, so the folds are seeded splits (split seed {seed}), "
            "not iLIDS-VID's ten official ones; results are not comparable with published numbers",
            SeededSplitWarning,
            stacklevel=2,
        )
        splits = random_splits(dataset.paired_pids(), folds=folds, seed=seed)
    elif dataset.name == "prid2011":
        source, splits = f"seeded (split seed {seed})", random_splits(protocol_pids(dataset), folds=folds, seed=seed)
    elif dataset.name == "mars":  # the ASTPN reading: all identities of the reduction, 50/50
        pids = reduce_two_cameras(dataset, seed).pids
        source, splits = "ASTPN reduction, seeded", random_splits(pids, folds=folds, seed=seed)
    else:
        source, splits = "seeded", random_splits(dataset.paired_pids(), folds=folds, seed=seed)
    if not 0 <= fold < len(splits):
        raise ValueError(f"{dataset.root}: fold {fold} does not exist; {len(splits)} splits ({source})")
    return splits[fold], source


def load_run_data(
    name: str,
    root: str | Path,
    *,
    fold: int,
    folds: int,
    seed: int,
    cache_dir: str | Path | None = None,
    prid_split_file: str | None = None,
    flow: str = DEFAULT_FLOW,
    mars_protocol: str = TrainConfig.mars_protocol,
    workers: int = 1,
    progress: bool = False,
) -> RunData:
    """The dataset ``name`` at ``root``, its cache with flow mode ``flow`` (`TrainConfig.flow`) and
    fold ``fold``; ``seed`` draws seeded splits and MARS's two-camera reduction (a run's
    `TrainConfig.split_seed`, not its training seed); ``mars_protocol`` is MARS's reading
    (`TrainConfig.mars_protocol`)."""
    if mars_protocol not in MARS_PROTOCOLS:
        raise ValueError(f"mars_protocol must be one of {MARS_PROTOCOLS}, got {mars_protocol!r}")
    options = {"split_file": prid_split_file} if name == "prid2011" and prid_split_file else {}
    dataset = read_dataset(name, root, **options)
    cache_dir = cache_dir or default_cache_dir(name, root, flow)
    cache, _ = prepare(dataset, cache_dir, flow=flow, workers=workers, progress=progress)
    if name == "mars" and mars_protocol == "official":
        train_indices = list(dataset.subsets["train"])
        test_pids = sorted({dataset.tracklets[i].pid for i in dataset.subsets["test"]} - {-1, 0})
        return RunData(dataset, cache, train_indices, test_pids, "MARS train/test")
    split, source = fold_split(dataset, fold, folds, seed)
    if name == "mars":  # ASTPN: each identity's two views, camera "1" against camera "2"
        reduction = reduce_two_cameras(dataset, seed)
        views = {pid: reduction.views[pid] for pid in split.test}
        return RunData(dataset, cache, reduction.tracklets(split.train), list(split.test), source, views)
    train = set(split.train)
    train_indices = [i for i, t in enumerate(dataset.tracklets) if t.pid in train and t.camid in (0, 1)]
    return RunData(dataset, cache, train_indices, list(split.test), source)
