"""Whether a ranking puts the probe's own camera before the person (stsrn_lite.book.camera_bias)."""

from __future__ import annotations

import numpy as np
import pytest

from stsrn_lite.book import floors
from stsrn_lite.book.camera_bias import (
    MEDIAN_RANK,
    NEAREST_WRONG,
    TRUE_MATCH,
    WRONG_SHARE,
    Ranking,
    bias_summary,
    camera_bias,
)
from stsrn_lite.evaluation.features import TestConfig
from stsrn_lite.evaluation.protocols import Evaluation
from stsrn_lite.synthetic.generator import SyntheticConfig, generate
from stsrn_lite.training.data import load_run_data

PIDS, Q_CAMS, G_CAMS = np.array([7, 8, 9]), np.array([0, 2, 1]), np.array([1, 0, 2])  # true match: item i


def test_the_nearest_wrong_identity_is_counted_against_the_wrong_identities_in_the_probe_s_camera():
    distmat = np.array([[0.5, 0.1, 0.9], [0.2, 0.3, 0.1], [0.4, 0.8, 0.2]])  # nearest wrong: 1, 2, 0
    bias = camera_bias(Ranking(distmat, PIDS, PIDS, Q_CAMS, G_CAMS), "mars", 1, "colour histogram", recipe="fast")
    assert bias == {
        "dataset": "mars",
        "fold": 1,
        "preset": "colour histogram",
        "recipe": "fast",
        "probes": 3,
        NEAREST_WRONG: 100.0,  # gallery 1, 2 and 0 are in cameras 0, 2 and 1: each probe's own
        WRONG_SHARE: 50.0,  # of each probe's two wrong identities, one is in its camera
        TRUE_MATCH: 0.0,
        MEDIAN_RANK: 2.0,  # ranks 2, 3 and 1
        "rank1": round(100 / 3, 1),  # probe 2
    }
    distmat[2] = [0.8, 0.4, 0.2]  # probe 2's nearest wrong identity is now gallery 1, in camera 0
    bias = camera_bias(Ranking(distmat, PIDS, PIDS, Q_CAMS, G_CAMS), "mars", 1, "STSRN")
    assert (bias[NEAREST_WRONG], bias[WRONG_SHARE], bias["rank1"]) == (round(200 / 3, 1), 50.0, round(100 / 3, 1))


def test_several_true_matches_one_in_the_probe_s_camera_ties_and_medians():
    # several true matches: gallery 0 and 1 are the probe's identity, gallery 0 in its camera
    ranking = Ranking(np.array([[0.3, 0.2, 0.1, 0.4]]), np.array([1]), np.array([1, 1, 2, 3]), [0], [0, 1, 0, 2])
    bias = camera_bias(ranking, "mars", 0, "CNN-RNN")
    assert (bias[NEAREST_WRONG], bias[WRONG_SHARE], bias[TRUE_MATCH], bias[MEDIAN_RANK], bias["rank1"]) == (
        100.0,  # gallery 2
        50.0,  # gallery 2 of gallery 2 and 3
        100.0,
        2.0,  # gallery 1, after gallery 2
        0.0,
    )
    # ties go to the lower gallery index, as in a stable sort: the 20 odd tracklets of 40 are tied
    # nearest; the nearest wrong identity is gallery 1 (in camera 1, all others in the probe's camera 0)
    # and the true match, gallery 7, comes 4th (numpy's default sort would put it 3rd)
    g_pids, g_cams = np.arange(100, 140), np.zeros(40, dtype=int)
    g_pids[7], g_cams[1] = 5, 1
    distmat = np.tile([0.3, 0.2], 20)[None, :]  # (1, 40)
    bias = camera_bias(Ranking(distmat, np.array([5]), g_pids, [0], g_cams), "mars", 0, "STSRN")
    assert (bias[NEAREST_WRONG], bias[WRONG_SHARE], bias[MEDIAN_RANK], bias["rank1"]) == (
        0.0,
        round(100 * 38 / 39, 1),
        4.0,
        0.0,
    )
    # an even number of probes: the median rank lies between the middle two (ranks 1 and 2)
    two = Ranking(np.array([[0.1, 0.2], [0.1, 0.2]]), np.array([1, 2]), np.array([1, 2]), [0, 0], [1, 1])
    assert camera_bias(two, "mars", 0, "STSRN")[MEDIAN_RANK] == 1.5


def test_a_probe_without_a_true_match_or_a_wrong_identity_and_bad_distances_are_refused():
    with pytest.raises(ValueError, match="true match and a wrong identity"):
        camera_bias(Ranking(np.zeros((1, 2)), [1], [2, 3], [0], [1, 1]), "mars", 0, "STSRN")
    with pytest.raises(ValueError, match="true match and a wrong identity"):
        camera_bias(Ranking(np.zeros((1, 2)), [1], [1, 1], [0], [1, 1]), "mars", 0, "STSRN")
    with pytest.raises(ValueError, match=r"expected \(Q, G\) = \(1, 2\)"):
        camera_bias(Ranking(np.zeros((2, 2)), [1], [1, 2], [0], [1, 1]), "mars", 0, "STSRN")
    with pytest.raises(ValueError, match="NaN or infinite"):
        camera_bias(Ranking(np.array([[0.1, np.nan]]), [1], [1, 2], [0], [1, 1]), "mars", 0, "STSRN")
    with pytest.raises(ValueError, match=r"\['probes'\] would overwrite"):
        camera_bias(Ranking(np.zeros((1, 2)), [1], [1, 2], [0], [1, 1]), "mars", 0, "STSRN", probes=3)


def test_a_trained_model_s_test_gives_its_ranking():
    distmat = np.array([[0.5, 0.1, 0.9], [0.2, 0.3, 0.1], [0.4, 0.8, 0.2]])
    arrays = {"q_indices": np.arange(3), "g_indices": np.arange(3, 6), "q_pids": PIDS, "g_pids": PIDS}
    evaluation = Evaluation.ranked(
        "two-camera", "torchreid", TestConfig(), distmat, **arrays, q_camids=Q_CAMS, g_camids=G_CAMS
    )
    bias = camera_bias(Ranking.of(evaluation), "mars", 0, "STSRN")
    assert bias["rank1"] == round(100 * float(evaluation.details.cmc[0]), 1) == round(100 / 3, 1)
    assert bias[NEAREST_WRONG] == 100.0


def test_the_colour_histogram_on_the_two_camera_layouts_and_on_mars(tmp_path):
    root = generate(SyntheticConfig(layout="ilids-vid", identities=12, seed=4, max_length=20), tmp_path / "d")
    data = load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=tmp_path / "cache")
    bias = camera_bias(floors.histogram_match(data), "ilids-vid", 0, floors.COLOUR_HISTOGRAM)
    assert bias["rank1"] == pytest.approx(floors.colour_histogram_row(data, "ilids-vid", 0)["rank1"], abs=0.05)
    assert [bias[key] for key in (NEAREST_WRONG, WRONG_SHARE)] == [0.0, 0.0]  # probes in camera 0, gallery in 1
    root = generate(SyntheticConfig(layout="mars", identities=12, seed=4, max_length=20), tmp_path / "m")
    data = load_run_data("mars", root, fold=0, folds=10, seed=1, cache_dir=tmp_path / "mcache")
    bias = camera_bias(floors.histogram_match(data), "mars", 0, floors.COLOUR_HISTOGRAM)
    cameras = [[data.dataset.tracklets[i].camid for i in data.views[pid]] for pid in data.test_pids]
    probes, gallery = np.array(cameras).T
    same = probes[:, None] == gallery  # (Q, G); the true match, the diagonal, is never in the probe's camera
    assert bias["probes"] == len(data.test_pids) and bias[TRUE_MATCH] == 0.0 and not same.diagonal().any()
    assert bias[WRONG_SHARE] == round(100 * float((same.sum(axis=1) / (len(gallery) - 1)).mean()), 1)


def test_the_summary_averages_each_matcher_over_its_folds():
    rows = [
        {"fold": "0", "preset": "STSRN", "probes": "150", NEAREST_WRONG: "20.0", WRONG_SHARE: "17.0"},
        {"fold": "1", "preset": "STSRN", "probes": "150", NEAREST_WRONG: "30.0", WRONG_SHARE: "19.0"},
        {"fold": "0", "preset": "colour histogram", "probes": "150", NEAREST_WRONG: "100.0", WRONG_SHARE: "17.0"},
    ]
    for row in rows:
        row.update({TRUE_MATCH: "0.0", MEDIAN_RANK: "1.0", "rank1": "60.0"})
    table = bias_summary(rows)
    assert list(table.index) == ["STSRN", "colour histogram"]
    assert table.loc["STSRN", NEAREST_WRONG] == "25.0 ± 7.1" and table.loc["STSRN", WRONG_SHARE] == "18.0 ± 1.4"
    assert (table.loc["STSRN", "folds"], table.loc["STSRN", "probes"]) == (2, "150")
    assert table.loc["colour histogram", NEAREST_WRONG] == "100.0"
