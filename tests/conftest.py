"""Tiny on-disk trees in the real datasets' layouts, for the reader and cache tests."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io

# The project's real metadata (never committed): ../shared beside the checkout, or $STSRN_SHARED.
SHARED = Path(os.environ.get("STSRN_SHARED", Path(__file__).resolve().parents[2] / "shared"))
MARS_INFO = SHARED / "data" / "mars_info"
PRID_SPLITS = SHARED / "data" / "prid2011" / "splits_prid2011.json"


@pytest.fixture(autouse=True)
def _no_committed_ledger(monkeypatch):
    """Tests see only the homes they make: the ledger committed in this checkout (results/*/runs/,
    read by `experiments.run` when the home is elsewhere) grows as bench runs are filed, and a test
    whose home is a temporary folder must not find those runs. Tests of that lookup patch
    ``experiments.checkout`` themselves. Only this process is patched: a command a test runs as a
    subprocess still reads the committed ledger (the smoke profile keeps none)."""
    import stsrn_lite.book.experiments as experiments

    monkeypatch.setattr(experiments, "checkout", lambda: None)


def write_image(path: Path, seed: int, size_hw: tuple[int, int] = (16, 8)) -> None:
    """A small random colour image (PNG or JPEG by suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.random.default_rng(seed).integers(0, 256, size=(*size_hw, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), image)


def make_ilids(root: Path, pids=(1, 3, 7, 12), first=9998, length=4, ls_set=None) -> Path:
    """iLIDS-VID tree; frame numbers start at ``first`` (9998 crosses 10000)."""
    for cam in (1, 2):
        for pid in pids:
            folder = root / "i-LIDS-VID" / "sequences" / f"cam{cam}" / f"person{pid:03d}"
            # written in reverse so that creation order differs from temporal order
            for i in reversed(range(length)):
                write_image(folder / f"cam{cam}_person{pid:03d}_{first + i:05d}.png", seed=pid * 100 + i)
    if ls_set is not None:
        split_dir = root / "train-test people splits"
        split_dir.mkdir(parents=True)
        scipy.io.savemat(split_dir / "train_test_splits_ilidsvid.mat", {"ls_set": np.asarray(ls_set, float)})
    return root


def make_prid(root: Path, paired=4, only_a=1, only_b=2, length=3) -> Path:
    """PRID2011 tree: persons 1..paired in both cameras, single-camera persons from 201 on."""
    multi = root / "prid_2011" / "multi_shot"
    for cam, extra in (("cam_a", only_a), ("cam_b", only_b)):
        for pid in [*range(1, paired + 1), *range(201, 201 + extra)]:
            for i in range(length):
                write_image(multi / cam / f"person_{pid:04d}" / f"{i + 1:04d}.png", seed=pid * 10 + i)
    return root


def mars_names(info: np.ndarray) -> list[str]:
    """Frame names consistent with a track-info matrix (T numbers run per identity)."""
    names, counters = [], {}
    for start, end, pid, cam in info.tolist():
        prefix = "00-1" if pid == -1 else f"{pid:04d}"
        counters[pid] = counters.get(pid, 0) + 1
        names += [f"{prefix}C{cam}T{counters[pid]:04d}F{f:03d}.jpg" for f in range(1, end - start + 2)]
    return names


def make_mars(
    root: Path,
    train=((1, 1, 3), (1, 2, 4), (3, 1, 2)),
    test=((-1, 2, 2), (0, 1, 3), (2, 1, 3), (2, 2, 2), (4, 1, 2), (4, 3, 3)),
    query=(3, 5),
    write_frames=True,
) -> Path:
    """MARS tree from (pid, cam, length) rows; ``query`` holds 1-based test rows."""
    info_dir = root / "info"
    info_dir.mkdir(parents=True)
    for subset, rows in (("train", train), ("test", test)):
        info, start = [], 1
        for pid, cam, length in rows:
            info.append((start, start + length - 1, pid, cam))
            start += length
        info = np.asarray(info, dtype=np.int32)
        names = mars_names(info)
        (info_dir / f"{subset}_name.txt").write_bytes("".join(f"{n}\r\n" for n in names).encode())
        scipy.io.savemat(info_dir / f"tracks_{subset}_info.mat", {f"track_{subset}_info": info})
        if write_frames:
            for k, name in enumerate(names):
                write_image(root / f"bbox_{subset}" / name[:4] / name, seed=k, size_hw=(16, 8))
    scipy.io.savemat(info_dir / "query_IDX.mat", {"query_IDX": np.asarray([query], dtype=np.uint16)})
    return root


@pytest.fixture
def ilids_root(tmp_path: Path) -> Path:
    return make_ilids(tmp_path / "ilids", ls_set=[[2, 4, 1, 3]] * 10)


@pytest.fixture
def prid_root(tmp_path: Path) -> Path:
    return make_prid(tmp_path / "prid")


@pytest.fixture
def mars_root(tmp_path: Path) -> Path:
    return make_mars(tmp_path / "mars")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """(run folder, trained model) of STSRN trained one epoch on a 6-identity synthetic iLIDS-VID,
    with a stand-in test in its records (the weights and footage tests export it)."""
    import torch

    from stsrn_lite.synthetic.generator import SyntheticConfig, generate
    from stsrn_lite.training.config import TrainConfig
    from stsrn_lite.training.data import load_run_data
    from stsrn_lite.training.loop import train

    tmp = tmp_path_factory.mktemp("run")
    root = generate(SyntheticConfig(layout="ilids-vid", identities=6, seed=2, max_length=20), tmp / "ilids")
    data = load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=tmp / "cache")
    torch.set_num_threads(1)
    config = TrainConfig(dataset="ilids-vid", preset="STSRN", epochs=1, eval_every=1, eval_tta=False)
    ranks = {"rank1": 50.0, "rank5": 75.0, "rank10": 100.0, "rank20": 100.0, "mAP": 60.0}  # a stand-in test
    result = train(
        config, data, tmp / "run", progress=False, data_label="tiny synthetic", evaluate=lambda *_: dict(ranks)
    )
    return tmp / "run", result.model
