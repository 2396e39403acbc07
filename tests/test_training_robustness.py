"""Training that fails loudly and safely: divergence, damaged checkpoints, resuming with nothing
to resume, time-based checkpoints, one-line CLI errors and advice that leads somewhere
(stsrn_lite.training; the robustness issue's items 5, 6, 12 and 13)."""

from __future__ import annotations

import struct
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from stsrn_lite.synthetic.generator import SyntheticConfig, generate
from stsrn_lite.training import loop
from stsrn_lite.training.checkpoint import CheckpointError, load_checkpoint
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import load_run_data
from stsrn_lite.training.records import read_records


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 10-identity synthetic iLIDS-VID (tracklets of up to 20 frames) and its cache (10 pairs an epoch)."""
    base = tmp_path_factory.mktemp("tiny")
    root = base / "ilids"
    generate(SyntheticConfig(layout="ilids-vid", identities=10, seed=3, max_length=20), root)
    data = load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=base / "cache")
    return root, base / "cache", data


def config(**overrides) -> TrainConfig:
    base = TrainConfig(dataset="ilids-vid", preset="CNN-RNN", epochs=3, eval_every=1, checkpoint_every=1)
    return replace(base, **overrides)


def run(data, out, cfg, **options):
    torch.set_num_threads(1)
    return loop.train(cfg, data, out, progress=False, evaluate=None, **options)


def weight_offset(path: Path) -> int:
    """Offset in the file of a byte in the middle of the largest stored tensor (zip member data, not a header)."""
    with zipfile.ZipFile(path) as archive:
        member = max((i for i in archive.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    raw = path.read_bytes()
    name_length, extra_length = struct.unpack("<HH", raw[member.header_offset + 26 : member.header_offset + 30])
    return member.header_offset + 30 + name_length + extra_length + member.file_size // 2


# --- item 5: divergence and damaged checkpoints ------------------------------------------------


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tiny, tmp_path, monkeypatch):
    _, _, data = tiny
    out = tmp_path / "a"
    saved: list[bytes] = []
    real_save, real_objective, calls = loop.save_checkpoint, loop.objective, [0]

    def save(state, path):
        real_save(state, path)
        saved.append(Path(path).read_bytes())

    def objective(*args, **kwargs):  # NaN from the 15th step on: epoch 2, step 5
        calls[0] += 1
        losses = real_objective(*args, **kwargs)
        return {**losses, "loss": losses["loss"] * float("nan")} if calls[0] >= 15 else losses

    monkeypatch.setattr(loop, "save_checkpoint", save)
    monkeypatch.setattr(loop, "objective", objective)
    with pytest.raises(loop.TrainingDiverged, match="loss nan in epoch 2, step 5.*last good checkpoint"):
        run(data, out, config())
    assert len(saved) == 1 and (out / "checkpoint.pt").read_bytes() == saved[0]
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 1
    assert [r["epoch"] for r in read_records(out / "records.csv")] == ["1"]


def test_records_go_back_to_the_checkpoint_when_training_diverges(tiny, tmp_path, monkeypatch):
    _, _, data = tiny
    real_objective, calls = loop.objective, [0]

    def objective(*args, **kwargs):  # infinite in epoch 4: epochs 1-3 are recorded, 2 is checkpointed
        calls[0] += 1
        losses = real_objective(*args, **kwargs)
        return {**losses, "loss": losses["loss"] + float("inf")} if calls[0] >= 35 else losses

    monkeypatch.setattr(loop, "objective", objective)
    out = tmp_path / "a"
    with pytest.raises(loop.TrainingDiverged, match="loss inf in epoch 4"):
        run(data, out, config(epochs=5, checkpoint_every=2))
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 2
    assert [r["epoch"] for r in read_records(out / "records.csv")] == ["1", "2"]


def test_a_flipped_byte_in_a_stored_weight_is_refused(tiny, tmp_path):
    _, _, data = tiny
    run(data, tmp_path / "a", config(epochs=1))
    path = tmp_path / "a" / "checkpoint.pt"
    good = torch.load(path, weights_only=True)
    raw = bytearray(path.read_bytes())
    raw[weight_offset(path)] ^= 0x10
    path.write_bytes(bytes(raw))
    damaged = torch.load(path, weights_only=True)  # torch and zip notice nothing
    assert any(not torch.equal(good["model"][k], damaged["model"][k]) for k in good["model"])
    with pytest.raises(CheckpointError, match=f"{path}: corrupt checkpoint"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="corrupt checkpoint"):
        run(data, tmp_path / "a", config(epochs=2), resume=True)


def test_a_checkpoint_without_a_digest_still_loads_but_nan_weights_are_refused(tiny, tmp_path):
    _, _, data = tiny
    run(data, tmp_path / "a", config(epochs=1))
    path = tmp_path / "a" / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    state.pop("sha256", None)
    torch.save(state, path)  # as written before the digest existed
    assert load_checkpoint(path)["epoch"] == 1
    next(iter(state["model"].values())).view(-1)[0] = float("nan")
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="NaN or infinite weights"):
        run(data, tmp_path / "a", config(epochs=2), resume=True)
