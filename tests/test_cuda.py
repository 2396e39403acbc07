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
from stsrn_lite.training.loop import train
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
