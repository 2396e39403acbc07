"""stsrn_lite.book.efficiency: counting extractions, the pair-wise scheme against extract-once,
gallery tiling, query timings and the query-time figure (paper §4.3 "Efficiency")."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from stsrn_lite.book.efficiency import (
    ONCE_LABEL,
    PAIRWISE_LABEL,
    SequenceCounter,  # noqa: E402
    measure_query_times,
    measure_timings,
    pairwise_distances,
    pairwise_query_seconds,
    plot_query_time,
    query_seconds,
    query_times_by_scheme,
    tiled,
    timed,
)
from stsrn_lite.evaluation import TestConfig, extract_features, pass_distances  # noqa: E402
from stsrn_lite.model import STSRN, preset  # noqa: E402
from stsrn_lite.preprocess.cache import PreprocessedCache  # noqa: E402


def memory_cache(lengths, pids, camids, seed: int = 0) -> PreprocessedCache:
    """Random frames in memory with the given tracklet lengths and labels."""
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


class LengthModel(nn.Module):
    """v_g = (number of valid frames,): distances known by hand."""

    def forward(self, frames: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return lengths.to(torch.float32)[:, None]  # (B, 1)


@pytest.fixture
def gallery():
    # three persons, camera 0 then camera 1; lengths chosen so that first/last frames differ
    lengths = [3, 5, 2, 4, 6, 7]
    cache = memory_cache(lengths, pids=[1, 2, 3, 1, 2, 3], camids=[0, 0, 0, 1, 1, 1])
    return cache, [0, 1, 2], [3, 4, 5]


def test_timed_returns_the_result_and_a_duration():
    result, seconds = timed(sorted, [3, 1, 2])
    assert result == [1, 2, 3] and seconds >= 0


def test_counter_counts_sequences_and_calls_and_detaches():
    model = LengthModel()
    frames, lengths = torch.zeros(4, 2, 5, 56, 40), torch.tensor([1, 2, 2, 1])
    with SequenceCounter(model) as counter:
        model(frames, lengths)
        model(frames[:3], lengths[:3])
    model(frames, lengths)  # after the block: not counted
    assert (counter.sequences, counter.calls) == (7, 2)
    assert not model._forward_hooks


def test_counter_refuses_to_start_twice():
    counter = SequenceCounter(LengthModel())
    with counter, pytest.raises(RuntimeError, match="already"):
        counter.__enter__()


def test_extract_once_is_x_plus_y_and_pairwise_is_2xy(gallery):
    cache, q, g = gallery
    model = LengthModel()
    cfg = TestConfig(length=4, tta=True)  # 16 passes
    with SequenceCounter(model) as once:
        extract_features(model, cache, q, "first", cfg, "cpu")
        extract_features(model, cache, g, "last", cfg, "cpu")
    pairs = [(i, j) for i in range(3) for j in range(3)]
    with SequenceCounter(model) as pairwise:
        pairwise_distances(model, cache, q, g, pairs, cfg, "cpu")
    assert once.sequences == 16 * (3 + 3)
    assert pairwise.sequences == 16 * 2 * 3 * 3


def test_pairwise_distances_by_hand(gallery):
    cache, q, g = gallery
    # L = 4: probes use min(4, n) first frames -> 3, 4, 2; gallery min(4, n) last -> 4, 4, 4
    cfg = TestConfig(length=4, tta=False)
    distances = pairwise_distances(LengthModel(), cache, q, g, [(0, 0), (1, 2), (2, 1)], cfg, "cpu")
    np.testing.assert_array_equal(distances, [1.0, 0.0, 2.0])


def test_pairwise_equals_extract_once_for_a_real_model(gallery):
    cache, q, g = gallery
    torch.manual_seed(0)
    model = STSRN(preset("STSRN", filters=(4, 8, 8), embedding=16))
    cfg = TestConfig(length=4, tta=False, batch_sequences=1)
    distmat = pass_distances(
        extract_features(model, cache, q, "first", cfg, "cpu"), extract_features(model, cache, g, "last", cfg, "cpu")
    ).numpy()  # (3, 3)
    pairs = [(i, j) for i in range(3) for j in range(3)]
    distances = pairwise_distances(model, cache, q, g, pairs, cfg, "cpu")
    np.testing.assert_allclose(distances, [distmat[i, j] for i, j in pairs], rtol=1e-6, atol=1e-9)


def test_pairwise_needs_pairs(gallery):
    cache, q, g = gallery
    with pytest.raises(ValueError, match="at least one"):
        pairwise_distances(LengthModel(), cache, q, g, [], TestConfig(length=4, tta=False), "cpu")


def test_tiled_repeats_columns_in_turn():
    features = torch.arange(2 * 3 * 2, dtype=torch.float32).reshape(2, 3, 2)  # (P, Y, N)
    big = tiled(features, 7)
    assert big.shape == (2, 7, 2)
    for k in range(7):
        assert torch.equal(big[:, k], features[:, k % 3])
    with pytest.raises(ValueError, match="size"):
        tiled(features, 0)
    with pytest.raises(ValueError, match="expected"):
        tiled(features[0], 3)


def test_query_timings_are_positive(gallery):
    cache, q, g = gallery
    model, cfg = LengthModel(), TestConfig(length=4, tta=False)
    g_feats = extract_features(model, cache, g, "last", cfg, "cpu")
    assert query_seconds(model, cache, q[0], tiled(g_feats, 10), cfg, "cpu", repeats=2) > 0
    assert pairwise_query_seconds(model, cache, q[0], g, cfg, "cpu") > 0
    with pytest.raises(ValueError, match="repeats"):
        query_seconds(model, cache, q[0], g_feats, cfg, "cpu", repeats=0)


def test_measure_timings_rows(gallery):
    cache, q, g = gallery
    model, cfg = LengthModel(), TestConfig(length=4, tta=False)
    rows = measure_timings(model, cache, q, g, [(0, 1), (2, 0)], cfg, "cpu")
    seconds = {row["quantity"]: row["seconds"] for row in rows}
    assert list(seconds) == [
        "extract once, all X + Y tracklets",
        "of which the X·Y distances",
        "pair-wise, per pair (mean of 2)",
        "pair-wise, all X·Y = 9 pairs (per pair × X·Y)",
    ]
    assert all(t > 0 for t in seconds.values())
    assert seconds["of which the X·Y distances"] < seconds["extract once, all X + Y tracklets"]
    assert seconds["pair-wise, all X·Y = 9 pairs (per pair × X·Y)"] == pytest.approx(
        9 * seconds["pair-wise, per pair (mean of 2)"]
    )
    with pytest.raises(ValueError, match="pair"):
        measure_timings(model, cache, q, g, [], cfg, "cpu")


def test_measure_query_times_rows_and_extrapolation(gallery):
    cache, q, g = gallery
    model, cfg = LengthModel(), TestConfig(length=4, tta=False)
    g_feats = extract_features(model, cache, g, "last", cfg, "cpu")  # (1, 3, 1)
    rows = measure_query_times(model, cache, q[0], g_feats, g, cfg, "cpu", sizes=[1, 3], large=[30, 300], repeats=1)
    as_read = [{key: str(value) for key, value in row.items()} for row in rows]  # as a CSV gives them back
    by_scheme = query_times_by_scheme(as_read)
    assert {scheme: sorted(times) for scheme, times in by_scheme.items()} == {
        "stored": [1, 3, 30, 300],
        "pair-wise": [1, 3],
        "pair-wise, extrapolated": [3, 30, 300],
    }
    extrapolated = by_scheme["pair-wise, extrapolated"]
    assert extrapolated[3] == pytest.approx(by_scheme["pair-wise"][3])  # anchored at the largest measured
    assert extrapolated[300] == pytest.approx(100 * extrapolated[3])  # and linear in Y
    with pytest.raises(ValueError, match="sizes"):
        measure_query_times(model, cache, q[0], g_feats, g, cfg, "cpu", sizes=[4])


def test_plot_query_time_draws_each_scheme():
    fig = plot_query_time({1: 0.1, 10: 0.11}, {1: 0.2, 10: 2.0}, {100: 20.0, 1000: 200.0}, title="t")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == [ONCE_LABEL, PAIRWISE_LABEL, "pair-wise, extrapolated"]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    plt.close(fig)
    fig = plot_query_time({1: 0.1}, {1: 0.2})
    assert len(fig.axes[0].get_lines()) == 2
    plt.close(fig)


def test_plot_query_time_rejects_bad_input():
    with pytest.raises(ValueError, match="both schemes"):
        plot_query_time({}, {1: 0.2})
    with pytest.raises(ValueError, match="times > 0"):
        plot_query_time({1: 0.0}, {1: 0.2})
    plt.close("all")
