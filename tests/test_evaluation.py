"""Test-time features and protocols (stsrn_lite.evaluation): frame selection, chunk
independence, passes, summed distances, known rankings, and who is query and gallery."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_ilids, make_mars
from torch import nn

from stsrn_lite.data.ilidsvid import read_ilidsvid
from stsrn_lite.data.mars import read_mars
from stsrn_lite.data.splits import random_splits
from stsrn_lite.data.tracklet import Tracklet, VideoReIDDataset
from stsrn_lite.evaluation import (
    TestConfig,
    cross_dataset_pids,
    evaluate_mars_standard,
    evaluate_two_camera,
    extract_features,
    pass_distances,
    select_frames,
)
from stsrn_lite.model import STSRN, preset
from stsrn_lite.preprocess.cache import PreprocessedCache, prepare
from stsrn_lite.preprocess.crop import evaluation_passes


def memory_cache(lengths, pids, camids, seed: int = 0) -> PreprocessedCache:
    """A cache held in memory: random frames, the given tracklet lengths and labels."""
    rng = np.random.default_rng(seed)
    frames = int(sum(lengths))
    return PreprocessedCache(
        path=Path("memory"),
        rgb=rng.integers(0, 256, size=(frames, 3, 64, 48), dtype=np.uint8),
        flow=rng.integers(-40, 41, size=(frames, 2, 64, 48), dtype=np.int8),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        pids=np.asarray(pids, dtype=np.int64),
        camids=np.asarray(camids, dtype=np.int64),
        manifest={},
    )


def tiny_stsrn(seed: int = 0) -> STSRN:
    """The full model (STSM, temporal residual, padding masks) with few filters."""
    torch.manual_seed(seed)
    return STSRN(preset("STSRN", filters=(4, 8, 8), embedding=16))


class LengthModel(nn.Module):
    """v_g = (number of valid frames,): a feature whose ranking is known by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.sequences = 0  # sequences seen, over all passes

    def forward(self, frames: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        self.sequences += frames.shape[0]
        return lengths.to(torch.float32)[:, None]  # (B, 1)


# --- frame selection, features, distances -------------------------------------------------


def test_select_frames_first_last_all():
    frames = range(10)
    assert list(frames[select_frames(10, 4, "first")]) == [0, 1, 2, 3]
    assert list(frames[select_frames(10, 4, "last")]) == [6, 7, 8, 9]
    assert list(frames[select_frames(10, 4, "all")]) == list(range(10))
    for which in ("first", "last", "all"):  # a short tracklet is used whole
        assert list(range(3)[select_frames(3, 4, which)]) == [0, 1, 2]
    with pytest.raises(ValueError, match="which"):
        select_frames(10, 4, "middle")


def test_features_do_not_depend_on_the_chunk_and_keep_the_order():
    lengths = [3, 9, 5, 7, 2]
    cache = memory_cache(lengths, pids=range(5), camids=[0] * 5)
    model = tiny_stsrn()
    model.train()
    order = [3, 0, 4, 1, 2, 0]  # not sorted by length, with a repeat
    cfg = TestConfig(length=6, tta=False)
    for which in ("first", "last"):
        together = extract_features(
            model, cache, order, which, TestConfig(length=6, tta=False, batch_sequences=6), "cpu"
        )
        alone = torch.cat([extract_features(model, cache, [i], which, cfg, "cpu") for i in order], dim=1)
        assert together.shape == (1, 6, 16)
        torch.testing.assert_close(together, alone, atol=1e-5, rtol=0)
        torch.testing.assert_close(together[:, 1], together[:, 5], atol=0, rtol=0)  # the repeat
    assert model.training  # the model's mode is restored


def test_last_frames_are_the_tracklets_tail():
    cache = memory_cache([9], pids=[1], camids=[0])
    rgb, flow = cache.tracklet(0)
    tail = PreprocessedCache(
        path=Path("tail"),
        rgb=rgb[5:],
        flow=flow[5:],
        offsets=np.array([0, 4]),
        pids=cache.pids,
        camids=cache.camids,
        manifest={},
    )
    head = PreprocessedCache(
        path=Path("head"),
        rgb=rgb[:4],
        flow=flow[:4],
        offsets=np.array([0, 4]),
        pids=cache.pids,
        camids=cache.camids,
        manifest={},
    )
    model, cfg = tiny_stsrn(), TestConfig(length=4, tta=False)
    last = extract_features(model, cache, [0], "last", cfg, "cpu")
    first = extract_features(model, cache, [0], "first", cfg, "cpu")
    torch.testing.assert_close(last, extract_features(model, tail, [0], "all", cfg, "cpu"), atol=1e-5, rtol=0)
    torch.testing.assert_close(first, extract_features(model, head, [0], "all", cfg, "cpu"), atol=1e-5, rtol=0)
    assert (last - first).abs().max() > 1e-3


def test_sixteen_passes_with_tta_one_without():
    cache = memory_cache([4, 6], pids=[1, 2], camids=[0, 0])
    model = tiny_stsrn()
    many = extract_features(model, cache, [0, 1], "first", TestConfig(length=5, tta=True), "cpu")
    one = extract_features(model, cache, [0, 1], "first", TestConfig(length=5, tta=False), "cpu")
    assert many.shape == (16, 2, 16) and one.shape == (1, 2, 16)
    centre = evaluation_passes(True).index((4, False))  # the single pass is one of the sixteen
    torch.testing.assert_close(many[centre], one[0], atol=1e-5, rtol=0)
    assert (many[0] - many[1]).abs().max() > 1e-4  # mirrored pass differs


def test_pass_distances_equal_a_hand_loop():
    g = torch.Generator().manual_seed(0)
    q, gal = torch.randn(3, 4, 5, generator=g), torch.randn(3, 6, 5, generator=g)
    distmat = pass_distances(q, gal)
    assert distmat.shape == (4, 6)
    for i in range(4):
        for j in range(6):
            hand = sum(
                math.sqrt(sum((q[p, i, k].item() - gal[p, j, k].item()) ** 2 for k in range(5))) for p in range(3)
            )
            assert distmat[i, j].item() == pytest.approx(hand, abs=1e-9)
    assert pass_distances(q, q).diagonal().abs().max() == 0  # equal features: exactly 0
    with pytest.raises(ValueError, match="same P"):
        pass_distances(q, gal[:2])


# --- protocols ------------------------------------------------------------------------------


def test_two_camera_ranking_of_a_known_feature():
    # probes (camera 0) use their first L = 12 frames, gallery (camera 1) their last 12;
    # the feature is the frame count, so d(i, j) = 16 |q_i - g_j| (16 passes).
    q_lengths, g_lengths = [2, 5, 9, 14], [3, 8, 7, 30]  # features: q = 2, 5, 9, 12; g = 3, 8, 7, 12
    cache = memory_cache(q_lengths + g_lengths, pids=[1, 2, 3, 4] * 2, camids=[0] * 4 + [1] * 4)
    model = LengthModel()
    result = evaluate_two_camera(model, cache, [1, 2, 3, 4], TestConfig(length=12), "cpu")
    expected = 16 * np.abs(np.array([2, 5, 9, 12])[:, None] - np.array([3, 8, 7, 12])[None, :])
    np.testing.assert_array_equal(result.distmat, expected)
    np.testing.assert_array_equal(result.details.first_hit, [1, 3, 2, 1])
    record = result.record()
    assert record["cmc"][:4] == [50.0, 75.0, 100.0, 100.0] and record["rank20"] == 100.0
    assert record["mAP"] == pytest.approx(100 * (1 + 1 / 3 + 1 / 2 + 1) / 4, abs=0.01)
    assert model.sequences == 16 * 8  # each tracklet once per pass


def test_two_camera_uses_first_frames_for_probes_and_last_for_gallery():
    cache = memory_cache([5, 9, 4, 8], pids=[1, 2, 1, 2], camids=[0, 0, 1, 1], seed=3)
    model, cfg = tiny_stsrn(), TestConfig(length=3, tta=False)
    result = evaluate_two_camera(model, cache, [2, 1], cfg, "cpu")
    np.testing.assert_array_equal(result.q_indices, [1, 0])
    np.testing.assert_array_equal(result.g_indices, [3, 2])
    q = extract_features(model, cache, [1, 0], "first", cfg, "cpu")
    g_last = extract_features(model, cache, [3, 2], "last", cfg, "cpu")
    g_first = extract_features(model, cache, [3, 2], "first", cfg, "cpu")
    np.testing.assert_allclose(result.distmat, pass_distances(q, g_last).numpy(), atol=1e-6)
    assert np.abs(result.distmat - pass_distances(q, g_first).numpy()).max() > 1e-4


def test_two_camera_on_a_synthetic_cache(tmp_path):
    dataset = read_ilidsvid(make_ilids(tmp_path / "ilids", pids=(1, 3, 7, 12), length=4))
    cache, _ = prepare(dataset, tmp_path / "cache", progress=False)
    torch.manual_seed(0)
    model = STSRN(preset("CNN-RNN", filters=(4, 8, 8), embedding=16))
    result = evaluate_two_camera(model, cache, [3, 7, 12, 1], TestConfig(length=3), "cpu")
    record = result.record()
    assert json.loads(json.dumps(record)) == record
    assert set(record) >= {"rank1", "rank5", "rank10", "rank20", "mAP", "cmc", "num_queries"}
    assert record["num_queries"] == 4 and record["num_gallery"] == 4 and len(record["cmc"]) == 20
    assert record["rank20"] >= record["rank1"] and record["rank20"] == 100.0  # closed set of 4
    assert result.distmat.shape == (4, 4) and np.isfinite(result.distmat).all()
    np.testing.assert_array_equal(result.q_pids, [3, 7, 12, 1])
    np.testing.assert_array_equal(result.g_pids, [3, 7, 12, 1])
    assert set(result.q_camids) == {0} and set(result.g_camids) == {1}
    with pytest.raises(ValueError, match="pid 99"):
        evaluate_two_camera(model, cache, [1, 99], TestConfig(length=3), "cpu")


def test_two_camera_views_choose_probe_and_gallery_tracklets():
    # pid 1 has tracklets in cameras 2, 4, 5; pid 2 in 0, 3: the views pick (probe, gallery)
    cache = memory_cache([6, 4, 9, 5, 7], pids=[1, 1, 1, 2, 2], camids=[2, 4, 5, 3, 0])
    views = {1: (2, 0), 2: (4, 3)}
    result = evaluate_two_camera(LengthModel(), cache, [2, 1], TestConfig(length=8), "cpu", views=views)
    np.testing.assert_array_equal(result.q_indices, [4, 2])
    np.testing.assert_array_equal(result.g_indices, [3, 0])
    np.testing.assert_array_equal(result.q_camids, [0, 5])
    # features (frame counts, L = 8): probes 7, 8; gallery 5, 6: d = 16 |q - g|
    np.testing.assert_array_equal(result.distmat, 16 * np.array([[2, 1], [3, 2]]))
    with pytest.raises(ValueError, match=r"pids \[7\]"):
        evaluate_two_camera(LengthModel(), cache, [1, 7], TestConfig(length=8), "cpu", views=views)
    with pytest.raises(ValueError, match="pid 1: the views 2, 3"):
        evaluate_two_camera(LengthModel(), cache, [1], TestConfig(length=8), "cpu", views={1: (2, 3)})
    with pytest.raises(ValueError, match="pid 1: the views 1, 1"):  # one camera twice
        evaluate_two_camera(LengthModel(), cache, [1], TestConfig(length=8), "cpu", views={1: (1, 1)})


def test_mars_standard_uses_the_queries_and_extracts_once(tmp_path):
    # test rows (pid, camera 1..6, frames); queries: rows 3 (pid 2) and 5 (pid 4)
    rows = ((-1, 2, 5), (0, 1, 2), (2, 1, 3), (2, 2, 7), (4, 1, 6), (4, 3, 9))
    dataset = read_mars(make_mars(tmp_path / "mars", test=rows, query=(3, 5)))
    cache, _ = prepare(dataset, tmp_path / "cache", progress=False)
    test = dataset.subsets["test"]
    model = LengthModel()
    official = evaluate_mars_standard(model, cache, dataset, TestConfig(length=8), "cpu")
    assert model.sequences == 16 * len(test)  # every test tracklet once per pass, queries included
    assert official.q_indices.tolist() == dataset.query and official.g_indices.tolist() == test
    np.testing.assert_array_equal(official.q_pids, [2, 4])
    assert official.num_queries == 2 and official.rules == "mars"
    # features (frame counts, L = 8): 5, 2, 3, 7, 6, 8. Query pid 2 (3): 2 and 6 come before
    # its match 7 (the junk 5 and the query itself are removed): rank 3. Query pid 4 (6): 7,
    # then its match 8 (the junk 5 and the query are removed): rank 2.
    assert official.details.first_hit.tolist() == [3, 2]
    torchreid = evaluate_mars_standard(LengthModel(), cache, dataset, TestConfig(length=8), "cpu", rules="torchreid")
    queries = set(dataset.query)
    assert torchreid.g_indices.tolist() == [i for i in test if i not in queries and cache.pids[i] != -1]
    assert -1 not in torchreid.g_pids and len(torchreid.g_indices) == 3
    with pytest.raises(ValueError, match="rules"):
        evaluate_mars_standard(LengthModel(), cache, dataset, TestConfig(length=8), "cpu", rules="market")


def prid_like(persons: int = 200, single: int = 3) -> VideoReIDDataset:
    tracklets = [Tracklet(pid=p, camid=c, frames=()) for c in (0, 1) for p in range(1, persons + 1)]
    tracklets += [Tracklet(pid=10000 + 200 + n, camid=0, frames=()) for n in range(1, single + 1)]
    tracklets += [Tracklet(pid=20000 + 200 + n, camid=1, frames=()) for n in range(1, single + 1)]
    return VideoReIDDataset(name="prid2011", root=Path("prid"), cameras=("cam_a", "cam_b"), tracklets=tracklets)


def test_cross_dataset_pids():
    dataset = prid_like()
    half = cross_dataset_pids(dataset, fold=2, folds=10, seed=0)
    assert len(half) == 100 == len(set(half)) and max(half) <= 200 and min(half) >= 1
    assert half == list(random_splits(list(range(1, 201)), folds=10, seed=0)[2].test)
    assert half != cross_dataset_pids(dataset, fold=3)
    assert cross_dataset_pids(dataset, which="all") == list(range(1, 201))
    with pytest.raises(ValueError, match="which"):
        cross_dataset_pids(dataset, which="train-half")
    with pytest.raises(ValueError, match="PRID2011"):
        cross_dataset_pids(VideoReIDDataset(name="ilids-vid", root=Path("x"), cameras=(), tracklets=[]))
