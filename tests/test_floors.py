"""Chance and the colour-histogram matcher on a fold's test identities (stsrn_lite.book.floors)."""

from __future__ import annotations

import math

import pytest

from stsrn_lite.book import floors
from stsrn_lite.synthetic.generator import SyntheticConfig, generate
from stsrn_lite.training.data import load_run_data


def test_chance_is_the_expectation_of_a_random_ranking():
    row = floors.chance_row("ilids-vid", 2, 4)
    assert (row["preset"], row["fold"], row["gallery"]) == ("chance", 2, 4)
    assert [row[f"rank{k}"] for k in (1, 2, 4, 20)] == [25.0, 50.0, 100.0, 100.0]
    assert row["mAP"] == pytest.approx(100 * (1 + 1 / 2 + 1 / 3 + 1 / 4) / 4, abs=0.01)
    assert floors.chance_row("prid2011", 0, 100)["rank1"] == 1.0
    assert floors.chance_row("prid2011", 0, 100)["mAP"] == round(100 * sum(1 / r for r in range(1, 101)) / 100, 2)
    with pytest.raises(ValueError, match="at least one identity"):
        floors.chance_row("ilids-vid", 0, 0)


def test_the_colour_histogram_ranks_the_fold_s_test_identities(tmp_path, monkeypatch):
    root = generate(SyntheticConfig(layout="ilids-vid", identities=12, seed=4, max_length=20), tmp_path / "d")
    data = load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=tmp_path / "cache")
    row = floors.colour_histogram_row(data, "ilids-vid", 0)
    assert row["preset"] == "colour histogram" and 0 < row["rank1"] <= 100 and row["rank20"] == 100.0
    assert math.isclose(row["rank6"], 100.0)  # six test identities: rank 6 holds every match
    # the gallery made of the probes themselves (tracklets shorter than L: the same frames) is solved
    indices = floors.two_camera_indices
    monkeypatch.setattr(floors, "two_camera_indices", lambda cache, pids, camid: indices(cache, pids, 0))
    assert floors.colour_histogram_row(data, "ilids-vid", 0)["rank1"] == 100.0


def test_on_mars_the_colour_histogram_matches_the_two_cameras_drawn_for_each_identity(tmp_path):
    root = generate(SyntheticConfig(layout="mars", identities=12, seed=4, max_length=20), tmp_path / "m")
    data = load_run_data("mars", root, fold=0, folds=10, seed=1, cache_dir=tmp_path / "cache")
    assert set(data.views) == set(data.test_pids)  # ASTPN's reduction: a probe and a gallery view each
    row = floors.colour_histogram_row(data, "mars", 0)
    assert row["gallery"] == len(data.test_pids) and 0 < row["rank1"] <= 100
    data.views = {pid: (probe, probe) for pid, (probe, _) in data.views.items()}  # the probes as gallery
    assert floors.colour_histogram_row(data, "mars", 0)["rank1"] == 100.0
