"""The CUDA path against the CPU (skipped without a CUDA device; benchmarks/gpu_check.sh runs it
on a lent GPU): a short training gives the same losses within float tolerance, with no NaN, and
every precision keeps v_g within the stated tolerance."""

from __future__ import annotations

import pytest
import torch

from stsrn_lite.model.network import STSRN
from stsrn_lite.model.presets import preset
from stsrn_lite.synthetic.generator import SyntheticConfig, generate
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import load_run_data
from stsrn_lite.training.frames import TrainingFrames
from stsrn_lite.training.loop import build_model, build_optimiser, clip_gradients, train
from stsrn_lite.training.loss import objective
from stsrn_lite.training.pairs import PairSchedule
from stsrn_lite.training.precision import PRECISIONS, TOLERANCE, v_g_difference

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize("recipe", ["faithful", "fast"])
def test_a_short_training_on_cuda_follows_the_cpu(tmp_path, recipe):
    root = tmp_path / "ilids"
    generate(SyntheticConfig(layout="ilids-vid", identities=8, seed=2, max_length=20), root)
    data = load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=tmp_path / "cache")
    config = TrainConfig.for_recipe(
        recipe, dataset="ilids-vid", preset="STSRN", epochs=2, eval_every=10, precision="float32"
    )
    cpu = train(config, data, tmp_path / "cpu", device="cpu", progress=False)
    gpu = train(config, data, tmp_path / "gpu", device="cuda", progress=False)
    for a, b in zip(cpu.records, gpu.records):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-3)


@pytest.mark.parametrize("name", PRECISIONS)
def test_every_precision_keeps_v_g_within_the_tolerance_and_puts_the_switches_back(name):
    torch.manual_seed(0)
    model = STSRN(preset("STSRN", num_classes=10)).cuda()
    frames = torch.randn(2, 16, 5, 56, 40, device="cuda")  # (B, T, C, H, W)
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    assert v_g_difference(model, frames, name) <= TOLERANCE
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == before


def test_a_training_step_on_cuda_never_waits_for_the_device(tmp_path):
    """The frames, labels, forward, loss and optimiser step of a step run with CUDA's sync debug
    mode set to "error": any copy back to the host, or any host-to-device copy that waits, raises."""
    root = tmp_path / "ilids"
    generate(SyntheticConfig(layout="ilids-vid", identities=8, seed=2, max_length=20), root)
    data = load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=tmp_path / "cache")
    config = TrainConfig.for_recipe(
        "fast", dataset="ilids-vid", preset="STSRN", epochs=1, mode="batched", pairs_per_step=2
    )
    schedule = PairSchedule(
        data.cache.pids,
        data.cache.camids,
        data.cache.offsets[1:] - data.cache.offsets[:-1],
        data.train_indices,
        seed=1,
        sequence_length=16,
        skip_short=config.skip_short,
    )
    device = torch.device("cuda")
    frames = TrainingFrames(data.cache, data.train_indices, device)
    model = build_model(config, schedule.num_identities, device)
    optimiser = build_optimiser(config, model)
    plan = schedule.epoch(0)
    frames.labels(plan, slice(0, 2))  # the epoch's plan goes to the device once
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step in range(2):
            rows = slice(2 * step, 2 * step + 2)
            (a, a_n), (b, b_n), labels = (
                frames.sequences(plan, rows, 0),
                frames.sequences(plan, rows, 1),
                frames.labels(plan, rows),
            )
            losses = objective(model.pair_forward(a, a_n, b, b_n), labels[:, 0], labels[:, 1])
            optimiser.zero_grad(set_to_none=True)
            losses["loss"].backward()
            clip_gradients(model, config.grad_clip)
            optimiser.step()
            model.project_()
    finally:
        torch.cuda.set_sync_debug_mode("default")
