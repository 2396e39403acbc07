"""The arithmetic of a step (stsrn_lite.training.precision): bf16 autocast keeps v_g within the
stated tolerance, TF32 changes nothing on the CPU, and the precision is not part of a run's
identity. The CUDA side is in tests/test_cuda.py."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from stsrn_lite.model.network import STSRN
from stsrn_lite.model.presets import preset
from stsrn_lite.synthetic.generator import SyntheticConfig, generate
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import load_run_data
from stsrn_lite.training.loop import train
from stsrn_lite.training.precision import TOLERANCE, precision, v_g_difference
from stsrn_lite.training.records import read_records


@pytest.mark.parametrize("name", ["STSRN", "CNN-RNN"])
def test_bf16_autocast_keeps_v_g_within_the_tolerance(name):
    torch.manual_seed(0)
    model = STSRN(preset(name, num_classes=10))
    frames = torch.randn(2, 16, 5, 56, 40, generator=torch.Generator().manual_seed(1))  # (B, T, C, H, W)
    difference = v_g_difference(model, frames, "bf16")
    assert 0 < difference <= TOLERANCE  # bf16 does change v_g, by less than the tolerance
    assert v_g_difference(model, frames, "tf32") == 0.0  # the CPU has no TF32


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(dataset="ilids-vid", precision="fp8")
    with pytest.raises(ValueError, match="precision must be one of"):
        with precision("fp8", torch.device("cpu")):
            pass


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("precision")
    generate(SyntheticConfig(layout="ilids-vid", identities=6, seed=4, max_length=20), tmp / "ilids")
    return load_run_data("ilids-vid", tmp / "ilids", fold=0, folds=10, seed=1, cache_dir=tmp / "cache")


def _losses(config, data, out, resume=False):
    torch.set_num_threads(1)
    train(config, data, out, progress=False, resume=resume)
    return [float(r["loss"]) for r in read_records(out / "records.csv")]


def test_tf32_on_the_cpu_trains_exactly_as_float32_and_resumes_it(data, tmp_path):
    config = TrainConfig(dataset="ilids-vid", preset="CNN-RNN", epochs=2, eval_every=10, precision="float32")
    exact = _losses(config, data, tmp_path / "float32")
    assert _losses(replace(config, precision="tf32"), data, tmp_path / "tf32") == exact
    # how, not what: a float32 run continues in TF32 (the identity leaves the precision out)
    longer = _losses(replace(config, precision="tf32", epochs=3), data, tmp_path / "float32", resume=True)
    assert longer[:2] == exact and len(longer) == 3


def test_bf16_training_follows_float32_closely(data, tmp_path):
    config = TrainConfig(dataset="ilids-vid", preset="STSRN", epochs=1, eval_every=10, precision="float32")
    exact = _losses(config, data, tmp_path / "float32")
    half = _losses(replace(config, precision="bf16"), data, tmp_path / "bf16")
    assert half != exact  # autocast did run in bf16
    assert half[0] == pytest.approx(exact[0], rel=0.05)
