"""Training recipes (stsrn_lite.training.config.RECIPES): the learning-rate schedule, Adam, the
--recipe option, and exact resumption of a scheduled run."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from stsrn_lite.synthetic.generator import SyntheticConfig, generate
from stsrn_lite.training.cli import parse_args
from stsrn_lite.training.config import RECIPES, TrainConfig
from stsrn_lite.training.data import load_run_data
from stsrn_lite.training.loop import TrainingInterrupted, build_optimiser, train
from stsrn_lite.training.options import config_from_args
from stsrn_lite.training.records import read_records


def test_the_faithful_recipe_is_the_papers_constant_rate():
    config = TrainConfig(dataset="ilids-vid")
    assert config.recipe == "faithful" and config.optimiser == "sgd" and config.schedule == "constant"
    assert {config.learning_rate_at(e, s, 7) for e in (0, 500, 999) for s in (0, 6)} == {2e-3}


def test_warm_up_then_cosine_reach_the_peak_and_zero():
    config = TrainConfig.for_recipe("fast", dataset="ilids-vid", epochs=10, warmup_epochs=2.0)
    rates = [config.learning_rate_at(e, s, 4) for e in range(10) for s in range(4)]
    peak = config.learning_rate
    assert rates[0] == pytest.approx(peak / 8) and rates[7] == pytest.approx(peak)  # 8 warm-up steps
    assert all(a < b for a, b in zip(rates[:8], rates[1:8]))  # rising during the warm-up
    assert all(a >= b for a, b in zip(rates[8:], rates[9:]))  # then never rising
    assert rates[-1] < 0.01 * peak


def test_a_recipe_is_named_by_its_settings_not_by_a_label():
    fast = TrainConfig.for_recipe("fast", dataset="ilids-vid")
    assert fast.recipe == "fast" and fast.epochs == RECIPES["fast"]["epochs"]
    assert replace(fast, epochs=30).recipe == "fast"  # the length is the profile's
    assert replace(fast, learning_rate=1.0).recipe == "custom"
    assert replace(TrainConfig(dataset="ilids-vid"), optimiser="adam").recipe == "custom"
    assert isinstance(build_optimiser(fast, torch.nn.Linear(2, 2)), torch.optim.Adam)


def test_the_recipe_option_sets_defaults_that_options_override():
    base = ["--dataset", "ilids-vid", "--root", "r", "--out", "o", "--recipe", "fast"]
    config = config_from_args(TrainConfig, parse_args(base))
    assert config.recipe == "fast" and (config.mode, config.pairs_per_step, config.optimiser) == ("faithful", 1, "adam")
    argv = [*base, "--mode", "batched", "--pairs-per-step", "4", "--epochs", "7"]
    config = config_from_args(TrainConfig, parse_args(argv))
    assert (config.pairs_per_step, config.epochs, config.optimiser, config.recipe) == (4, 7, "adam", "custom")


def test_a_scheduled_adam_run_resumes_exactly_and_refuses_another_length(tmp_path):
    root = tmp_path / "ilids"
    generate(SyntheticConfig(layout="ilids-vid", identities=8, seed=2, max_length=20), root)
    data = load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=tmp_path / "cache")
    torch.set_num_threads(1)
    config = TrainConfig.for_recipe(
        "fast",
        dataset="ilids-vid",
        preset="CNN-RNN",
        epochs=3,
        mode="batched",
        pairs_per_step=3,
        eval_every=10,
        warmup_epochs=1.0,
    )
    whole = train(config, data, tmp_path / "whole", progress=False)
    with pytest.raises(TrainingInterrupted):
        train(config, data, tmp_path / "cut", progress=False, stop_after_steps=4)  # inside epoch 2
    resumed = train(config, data, tmp_path / "cut", progress=False, resume=True)
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)
    losses = [row["loss"] for row in read_records(tmp_path / "whole" / "records.csv")]
    assert losses == [row["loss"] for row in read_records(tmp_path / "cut" / "records.csv")]
    with pytest.raises(Exception, match="epochs"):  # a cosine run's rates depend on its length
        train(replace(config, epochs=5), data, tmp_path / "cut", progress=False, resume=True)
