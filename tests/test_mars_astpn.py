"""MARS as ASTPN ran it (stsrn_lite.data.mars_astpn): the two-camera reduction, its 50/50 folds, the
training data and the test built from it, and the reduction of the real MARS metadata."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from conftest import MARS_INFO, make_mars, mars_names

from stsrn_lite.data.mars import read_mars
from stsrn_lite.data.mars_astpn import MARS_PROTOCOLS, reduce_two_cameras
from stsrn_lite.data.tracklet import Tracklet, VideoReIDDataset
from stsrn_lite.evaluation import TestConfig, evaluate_two_camera
from stsrn_lite.evaluation import cli as evaluate_cli
from stsrn_lite.training.cli import periodic_evaluation
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import fold_split, load_run_data
from stsrn_lite.training.loop import train
from stsrn_lite.training.pairs import PairSchedule


def toy_mars(seed: int = 0, identities: int = 40) -> VideoReIDDataset:
    """Tracklets without frames: each pid 2-8 tracklets over random cameras of six; junk (-1),
    distractors (0) in many cameras; pid 1001 seen by one camera only. Odd pids form the train
    subset, the rest the test subset, as in MARS."""
    rng = np.random.default_rng(seed)
    rows = []
    for pid in range(1, identities + 1):
        rows += [(pid, int(rng.integers(0, 6))) for _ in range(int(rng.integers(2, 9)))]
    rows += [(1001, 2), (1001, 2), (-1, 0), (-1, 3), (0, 1), (0, 4), (0, 5)]
    tracklets = [Tracklet(pid=p, camid=c, frames=(Path(f"t{k}"),)) for k, (p, c) in enumerate(rows)]
    train = [k for k, t in enumerate(tracklets) if t.pid > 0 and t.pid % 2 == 1]
    test = [k for k in range(len(tracklets)) if k not in set(train)]
    return VideoReIDDataset(
        name="mars", root=Path("toy"), cameras=tuple(f"C{c}" for c in range(1, 7)), tracklets=tracklets,
        subsets={"train": train, "test": test},
    )  # fmt: skip


def cameras_of(dataset: VideoReIDDataset) -> dict[int, set[int]]:
    seen: dict[int, set[int]] = {}
    for t in dataset.tracklets:
        seen.setdefault(t.pid, set()).add(t.camid)
    return seen


# --- the reduction --------------------------------------------------------------------------------


def test_every_kept_identity_has_two_tracklets_in_two_cameras():
    dataset = toy_mars()
    reduction = reduce_two_cameras(dataset, seed=1)
    multi = sorted(p for p, cams in cameras_of(dataset).items() if p > 0 and len(cams) >= 2)
    assert reduction.pids == multi and 1001 not in reduction.pids  # one camera only: left out
    assert -1 not in reduction.pids and 0 not in reduction.pids  # junk and distractors excluded
    assert {p % 2 for p in reduction.pids} == {0, 1}  # train and test identities pooled
    for pid, (a, b) in reduction.views.items():
        ta, tb = dataset.tracklets[a], dataset.tracklets[b]
        assert ta.pid == tb.pid == pid and ta.camid != tb.camid
    assert reduction.tracklets([3, 2]) == [*reduction.views[3], *reduction.views[2]]
    with pytest.raises(ValueError, match="pid 1001 is not in the two-camera reduction"):
        reduction.tracklets([1001])


def test_the_reduction_is_a_function_of_its_seed_and_each_identity():
    dataset = toy_mars()
    first = reduce_two_cameras(dataset, seed=1)
    assert reduce_two_cameras(dataset, seed=1) == first
    other = reduce_two_cameras(dataset, seed=2)
    assert other.pids == first.pids and other.views != first.views
    cams = [(dataset.tracklets[a].camid, dataset.tracklets[b].camid) for a, b in first.views.values()]
    assert len(set(cams)) > 5 and any(a > b for a, b in cams)  # cameras and their order are drawn
    # one identity's draw ignores the others: drop pid 1 and the rest keep their tracklets
    kept = [t for t in dataset.tracklets if t.pid != 1]
    smaller = VideoReIDDataset(name="mars", root=Path("toy"), cameras=dataset.cameras, tracklets=kept)
    again = reduce_two_cameras(smaller, seed=1)
    frames = {pid: tuple(dataset.tracklets[i].frames for i in v) for pid, v in first.views.items() if pid != 1}
    assert {pid: tuple(kept[i].frames for i in v) for pid, v in again.views.items()} == frames


def test_every_tracklet_of_a_camera_can_be_drawn():
    rows = [(5, 0), (5, 0), (5, 0), (5, 1)]
    dataset = VideoReIDDataset(
        name="mars", root=Path("toy"), cameras=("C1", "C2"),
        tracklets=[Tracklet(pid=p, camid=c, frames=()) for p, c in rows],
    )  # fmt: skip
    drawn = Counter(i for seed in range(60) for i in reduce_two_cameras(dataset, seed).views[5])
    assert set(drawn) == {0, 1, 2, 3} and drawn[3] == 60


def test_a_dataset_without_two_camera_identities_is_refused():
    tracklets = [Tracklet(pid=1, camid=0, frames=()), Tracklet(pid=-1, camid=1, frames=())]
    dataset = VideoReIDDataset(name="mars", root=Path("one-camera"), cameras=("C1", "C2"), tracklets=tracklets)
    with pytest.raises(ValueError, match="one-camera: no identity is seen by two cameras"):
        reduce_two_cameras(dataset, seed=1)


# --- folds, configuration, training data --------------------------------------------------------


def test_folds_split_all_kept_identities_50_50():
    dataset = toy_mars()
    pids = reduce_two_cameras(dataset, seed=1).pids
    splits = [fold_split(dataset, k, 10, seed=1) for k in range(10)]
    for split, source in splits:
        assert source == "ASTPN reduction, seeded"
        assert len(split.train) == len(pids) // 2 and len(split.test) == len(pids) - len(pids) // 2
        assert sorted(split.train + split.test) == pids
    assert len({split.train for split, _ in splits}) == 10  # a new permutation per fold
    assert fold_split(dataset, 3, 10, seed=1) == splits[3]
    assert fold_split(dataset, 3, 10, seed=2)[0] != splits[3][0]


def test_mars_protocol_is_validated():
    assert TrainConfig(dataset="mars").mars_protocol == "astpn" == MARS_PROTOCOLS[0]
    with pytest.raises(ValueError, match="mars_protocol must be one of"):
        TrainConfig(dataset="mars", mars_protocol="paper")


MARS_TRAIN = ((1, 1, 3), (1, 2, 4), (3, 1, 2), (3, 3, 3), (5, 2, 3), (5, 2, 2))  # pid 5: one camera
MARS_TEST = ((-1, 2, 2), (0, 1, 3), (2, 1, 3), (2, 2, 2), (4, 1, 2), (4, 3, 3), (6, 4, 2), (6, 5, 2), (6, 5, 3))


@pytest.fixture(scope="module")
def mars_tree(tmp_path_factory):
    base = tmp_path_factory.mktemp("mars")
    return make_mars(base / "mars", train=MARS_TRAIN, test=MARS_TEST, query=(3, 5)), base / "cache"


def test_astpn_training_data_is_the_train_half_of_the_reduction(mars_tree):
    root, cache = mars_tree
    data = load_run_data("mars", root, fold=0, folds=10, seed=1, cache_dir=cache)
    reduction = reduce_two_cameras(data.dataset, seed=1)
    split, source = fold_split(data.dataset, 0, 10, seed=1)
    assert reduction.pids == [1, 2, 3, 4, 6] and data.split_source == source
    assert data.train_indices == reduction.tracklets(split.train)
    assert data.test_pids == list(split.test) and set(data.views) == set(split.test)
    pids, camids = np.asarray(data.cache.pids), np.asarray(data.cache.camids)
    for pid in split.train:  # exactly its two views, in two cameras
        mine = [i for i in data.train_indices if pids[i] == pid]
        assert len(mine) == 2 and camids[mine[0]] != camids[mine[1]]
    assert not set(pids[data.train_indices]) & set(data.test_pids)
    schedule = PairSchedule(
        pids, camids, np.diff(data.cache.offsets), data.train_indices, seed=0, sequence_length=16, skip_short=False
    )
    positives = schedule.epoch(0).tracklets[1::2]  # every positive pair: camera "1" against camera "2"
    assert all(sorted(pair) == sorted(reduction.views[int(pids[pair[0]])]) for pair in positives.tolist())
    official = load_run_data("mars", root, fold=0, folds=10, seed=1, cache_dir=cache, mars_protocol="official")
    assert official.train_indices == official.dataset.subsets["train"] and official.views == {}
    assert official.test_pids == [2, 4, 6] and official.split_source == "MARS train/test"
    with pytest.raises(ValueError, match="mars_protocol must be one of"):
        load_run_data("mars", root, fold=0, folds=10, seed=1, cache_dir=cache, mars_protocol="both")


def test_an_astpn_run_trains_and_tests_on_the_reduction(mars_tree, tmp_path, capsys):
    root, cache = mars_tree
    data = load_run_data("mars", root, fold=0, folds=10, seed=1, cache_dir=cache)
    config = TrainConfig(  # tracklets of 2-4 frames: padded, not dropped
        dataset="mars", preset="CNN-RNN", epochs=1, eval_every=1, eval_length=4, checkpoint_every=1, skip_short=False
    )
    torch.set_num_threads(1)
    result = train(config, data, tmp_path / "run", progress=False, evaluate=periodic_evaluation)
    assert result.checkpoint.is_file() and len(data.test_pids) == 3  # 5 identities: 2 train, 3 test
    test = evaluate_two_camera(result.model, data.cache, data.test_pids, TestConfig(length=4, tta=False), "cpu",
                               views=data.views)  # fmt: skip
    assert test.num_queries == 3 and set(test.q_indices) | set(test.g_indices) == {
        i for v in data.views.values() for i in v
    }
    assert result.records[-1]["rank1"] == test.summary["rank1"]  # the evaluation during training is this test
    argv = ["--checkpoint", str(result.checkpoint), "--dataset", "mars", "--root", str(root), "--cache", str(cache)]
    assert evaluate_cli.main([*argv, "--no-tta", "--length", "4"]) == 0  # --protocol auto: two-camera
    printed = json.loads(capsys.readouterr().out)
    assert (printed["protocol"], printed["num_queries"], printed["rank1"]) == ("two-camera", 3, test.summary["rank1"])
    assert evaluate_cli.main([*argv, "--protocol", "mars-standard"]) == 2
    assert "two-camera reduction" in capsys.readouterr().err


# --- the real metadata ----------------------------------------------------------------------------


@pytest.mark.skipif(not MARS_INFO.is_dir(), reason=f"real MARS info files absent: {MARS_INFO}")
def test_the_real_mars_reduces_to_1245_identities(tmp_path):
    info_dir = tmp_path / "mars" / "info"
    info_dir.mkdir(parents=True)
    for name in ("tracks_train_info.mat", "tracks_test_info.mat", "query_IDX.mat"):
        shutil.copy(MARS_INFO / name, info_dir / name)
    for subset in ("train", "test"):
        info = scipy.io.loadmat(info_dir / f"tracks_{subset}_info.mat")[f"track_{subset}_info"]
        (info_dir / f"{subset}_name.txt").write_text("\n".join(mars_names(info)) + "\n")
    dataset = read_mars(tmp_path / "mars", verify_files=False)
    reduction = reduce_two_cameras(dataset, seed=1)
    single = {11, 17, 37, 45, 55, 823, 12, 14, 154, 166, 982, 1034, 1104, 1354}  # one camera only
    assert len(reduction.pids) == 1245 and not single & set(reduction.pids)
    assert sum(p % 2 == 1 for p in reduction.pids) == 619 and sum(p % 2 == 0 for p in reduction.pids) == 626
    chosen = [dataset.tracklets[i] for v in reduction.views.values() for i in v]
    assert all(a.camid != b.camid for a, b in zip(chosen[::2], chosen[1::2]))
    short = [t.length < 16 for t in chosen]  # with split_seed 1: the book's figures
    assert sum(short) == 403 and sum(a or b for a, b in zip(short[::2], short[1::2])) == 372
    split, _ = fold_split(dataset, 0, 10, seed=1)
    assert (len(split.train), len(split.test)) == (622, 623)
