"""Training: the pair schedule, Eq. (8), SGD semantics, clipping, the frame gather, checkpoints and
exact resumption after an interruption (stsrn_lite.training, stsrn_lite.training.cli)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from stsrn_lite.synthetic.generator import SyntheticConfig, generate
from stsrn_lite.training.checkpoint import CheckpointError, load_checkpoint
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import load_run_data
from stsrn_lite.training.frames import TrainingFrames
from stsrn_lite.training.loop import TrainingInterrupted, build_optimiser, clip_gradients, train
from stsrn_lite.training.loss import verification_loss
from stsrn_lite.training.pairs import PairSchedule
from stsrn_lite.training.records import COLUMNS, read_records

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 10-identity synthetic iLIDS-VID (tracklets of up to 20 frames) and its cache."""
    base = tmp_path_factory.mktemp("tiny")
    root = base / "ilids"
    generate(SyntheticConfig(layout="ilids-vid", identities=10, seed=3, max_length=20), root)
    data = load_run_data("ilids-vid", root, fold=0, folds=10, seed=1, cache_dir=base / "cache")
    return root, base / "cache", data


def config(**overrides) -> TrainConfig:
    base = TrainConfig(dataset="ilids-vid", preset="CNN-RNN", epochs=3, eval_every=1, checkpoint_every=1)
    return replace(base, **overrides)


def toy_evaluation(model, data, cfg, device) -> dict:
    """A deterministic stand-in for the test protocol: a function of every weight."""
    with torch.no_grad():
        total = sum(float(p.double().abs().sum()) for p in model.parameters())
    return {"rank1": total}


# --- the pair schedule ---------------------------------------------------------------------------


def schedule(lengths=None, skip_short=False) -> PairSchedule:
    pids = np.repeat(np.arange(1, 7), 2)  # 6 identities, cameras 0 and 1
    camids = np.tile([0, 1], 6)
    lengths = np.full(12, 30) if lengths is None else lengths
    return PairSchedule(pids, camids, lengths, list(range(12)), seed=5, sequence_length=16, skip_short=skip_short)


def test_epoch_alternates_negative_and_positive_pairs():
    plan = schedule().epoch(0)
    assert len(plan) == 12  # 2K pairs
    negative, positive = plan.labels[0::2], plan.labels[1::2]
    assert (negative[:, 0] != negative[:, 1]).all()
    assert (positive[:, 0] == positive[:, 1]).all()
    assert sorted(positive[:, 0]) == list(range(6))  # one positive pair per identity
    cams = np.tile([0, 1], 6)
    assert (cams[plan.tracklets[1::2, 0]] == 0).all() and (cams[plan.tracklets[1::2, 1]] == 1).all()
    assert ((plan.starts >= 0) & (plan.starts <= 30 - 16)).all() and (plan.lengths == 16).all()
    assert ((plan.tops >= 1) & (plan.tops <= 8)).all() and ((plan.lefts >= 1) & (plan.lefts <= 8)).all()


def test_epoch_is_a_function_of_seed_and_epoch():
    a, b = schedule().epoch(4), schedule().epoch(4)
    for field in ("tracklets", "labels", "starts", "tops", "lefts", "flips"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(schedule().epoch(5).starts, a.starts)


def test_short_sequences_are_used_whole_or_skipped():
    lengths = np.full(12, 30)
    lengths[0] = 7  # identity 1, camera 0
    plan = schedule(lengths).epoch(0)
    uses = plan.tracklets == 0
    assert uses.any() and (plan.lengths[uses] == 7).all() and (plan.starts[uses] == 0).all()
    skipped = schedule(lengths, skip_short=True).epoch(0)
    assert not (skipped.tracklets == 0).any() and len(skipped) < 12


# --- loss, optimiser, clipping ---------------------------------------------------------------


def test_verification_loss_eq8_by_hand():
    d = torch.tensor([0.5, 0.5, 3.0])
    same = torch.tensor([True, False, False])
    assert torch.allclose(verification_loss(d, same, 2.0), torch.tensor([0.25, 1.5, 0.0]))
    assert torch.allclose(verification_loss(d, same, 2.0, "distance"), torch.tensor([0.5, 1.5, 0.0]))


@pytest.mark.parametrize("dampening, second_step", [("torch7", 1.0), ("pytorch", 1.9)])
def test_sgd_momentum_semantics(dampening, second_step):
    weight = torch.nn.Linear(1, 1, bias=False)
    weight.weight.data.fill_(0.0)
    optimiser = build_optimiser(config(dampening=dampening, learning_rate=0.1), weight)
    moves = []
    for _ in range(2):
        before = float(weight.weight.detach())
        optimiser.zero_grad()
        weight.weight.grad = torch.ones_like(weight.weight)  # g = 1
        optimiser.step()
        moves.append(before - float(weight.weight.detach()))
    # Torch7: v1 = g, v2 = 0.9 v1 + 0.1 g = 1; PyTorch default: v2 = 0.9 v1 + g = 1.9
    assert moves == pytest.approx([0.1, 0.1 * second_step])


def test_gradients_are_clamped_element_wise():
    layer = torch.nn.Linear(3, 1)
    layer.weight.grad = torch.tensor([[-9.0, 0.5, 7.0]])
    layer.bias.grad = torch.tensor([-5.5])
    clip_gradients(layer, 5.0)
    assert layer.weight.grad.tolist() == [[-5.0, 0.5, 5.0]] and layer.bias.grad.tolist() == [-5.0]


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="faithful"):
        TrainConfig(dataset="ilids-vid", pairs_per_step=4)
    with pytest.raises(ValueError, match="fold"):
        TrainConfig(dataset="ilids-vid", fold=10)
    with pytest.raises(ValueError, match="mode"):
        TrainConfig(dataset="ilids-vid", mode="fast")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"dataset": "ilidsvid"}, "dataset must be one of"),  # would have trained, and been filed
        ({"preset": "stsrn"}, "preset must be one of"),  # failed only in train(), its folder made
        ({"grad_clip": -1.0}, "grad_clip must be > 0, got -1.0"),  # clamp_(1, -1) set every gradient to 1
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"margin": -2.0}, "margin must be > 0"),
        ({"momentum": 1.5}, r"momentum must lie in \[0, 1\), got 1.5"),
        ({"seed": -1}, "seed must be >= 0, got -1"),
        ({"split_seed": -1}, "split_seed must be >= 0"),
    ],
)
def test_config_names_the_field_it_refuses(fields, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{"dataset": "ilids-vid", **fields})


def test_a_recipes_warm_up_longer_than_the_run_says_so():
    with pytest.raises(ValueError, match=r"warmup_epochs must lie in \[0, epochs = 1\], got 2 \(a recipe's warm-up"):
        TrainConfig.for_recipe("fast", dataset="ilids-vid", epochs=1)


# --- frames ------------------------------------------------------------------------------------


def test_resident_frames_equal_memory_mapped_frames(tiny):
    _, _, data = tiny
    pids, camids = data.cache.pids, data.cache.camids
    lengths = data.cache.offsets[1:] - data.cache.offsets[:-1]
    plan = PairSchedule(pids, camids, lengths, data.train_indices, seed=2, sequence_length=16, skip_short=False).epoch(
        0
    )
    cpu = torch.device("cpu")
    mapped = TrainingFrames(data.cache, data.train_indices, cpu, resident=False)
    resident = TrainingFrames(data.cache, data.train_indices, cpu, resident=True)
    for column in (0, 1):
        x, n = mapped.sequences(plan, slice(0, 4), column)
        y, m = resident.sequences(plan, slice(0, 4), column)
        assert x.shape[1:] == (int(n.max()), 5, 56, 40) and torch.equal(x, y) and torch.equal(n, m)
    assert torch.equal(mapped.labels(plan, slice(0, 4)), resident.labels(plan, slice(0, 4)))
    plan.tops[0, 0] = 9  # past the 64×48 frame: refused when the plan goes to the device
    with pytest.raises(ValueError, match="crop offsets must lie in"):
        TrainingFrames(data.cache, data.train_indices, cpu, resident=True).sequences(plan, slice(0, 4), 0)


# --- runs, checkpoints, resumption ------------------------------------------------------------


def run(data, out, cfg, **options):
    torch.set_num_threads(1)
    return train(cfg, data, out, progress=False, evaluate=toy_evaluation, **options)


def test_interrupted_run_resumes_to_the_same_result(tiny, tmp_path):
    _, _, data = tiny
    whole = run(data, tmp_path / "whole", config())
    with pytest.raises(TrainingInterrupted):
        run(data, tmp_path / "cut", config(), stop_after_steps=13)  # mid-epoch 2 (10 pairs per epoch)
    saved = load_checkpoint(tmp_path / "cut" / "checkpoint.pt")
    assert (saved["epoch"], saved["step"]) == (1, 3)
    resumed = run(data, tmp_path / "cut", config(), resume=True)
    assert [r["loss"] for r in resumed.records] == [r["loss"] for r in whole.records]
    assert [r["rank1"] for r in resumed.records] == [r["rank1"] for r in whole.records]
    for name, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    rows = read_records(tmp_path / "cut" / "records.csv")
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3] and list(rows[0]) == list(COLUMNS)


def test_a_run_given_up_stops_there_and_resuming_it_trains_nothing_more(tiny, tmp_path):
    _, _, data = tiny

    def enough(records):
        return "enough" if len(records) == 2 else None

    result = run(data, tmp_path / "cut", config(), give_up=enough)
    assert result.given_up == "enough" and [r["epoch"] for r in result.records] == [1, 2]
    saved = load_checkpoint(tmp_path / "cut" / "checkpoint.pt")
    assert (saved["epoch"], saved["given_up"]) == (2, "enough")
    again = run(data, tmp_path / "cut", config(), resume=True)
    assert again.given_up == "enough" and [r["epoch"] for r in again.records] == [1, 2]
    assert [int(r["epoch"]) for r in read_records(tmp_path / "cut" / "records.csv")] == [1, 2]
    whole = run(data, tmp_path / "whole", config(), give_up=lambda records: None)
    assert whole.given_up is None and len(whole.records) == 3


def test_existing_run_is_not_overwritten_and_other_runs_are_refused(tiny, tmp_path):
    _, _, data = tiny
    run(data, tmp_path / "a", config(epochs=1))
    with pytest.raises(CheckpointError, match="resume"):
        run(data, tmp_path / "a", config(epochs=1))
    with pytest.raises(CheckpointError, match="preset: checkpoint 'CNN-RNN', asked 'STSRN'"):
        run(data, tmp_path / "a", config(epochs=2, preset="STSRN"), resume=True)


def test_readings_reach_the_model_and_a_changed_reading_is_refused_on_resume(tiny, tmp_path):
    _, _, data = tiny
    cfg = config(epochs=1, preset="STSRN", omega_form="sigmoid", temres_reading="eq5")
    result = run(data, tmp_path / "a", cfg)
    assert result.model.config.omega_form == "sigmoid" and result.model.temporal.U is not None
    assert result.records[-1]["omega_min"] > 0  # ω recorded per epoch
    with pytest.raises(CheckpointError, match="model differs"):
        run(data, tmp_path / "a", replace(cfg, epochs=2, temres_reading="shortcut"), resume=True)
    with pytest.raises(CheckpointError, match="normalisation: checkpoint 'mclaughlin', asked 'standard'"):
        run(data, tmp_path / "a", replace(cfg, epochs=2, normalisation="standard"), resume=True)


def test_a_checkpoint_from_before_the_readings_resumes_as_what_it_was(tiny, tmp_path):
    """Runs saved before these fields existed trained Eq. 5, sigmoid ω, the std divisor and
    padded short pairs; asked for exactly that, they resume."""
    _, _, data = tiny
    old = config(
        epochs=1,
        preset="STSRN",
        omega_form="sigmoid",
        temres_reading="eq5",
        normalisation="standard",
        skip_short=False,
    )
    run(data, tmp_path / "a", old)
    path = tmp_path / "a" / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    for key in ("normalisation", "skip_short", "temres_reading", "omega_form"):
        state["config"].pop(key)
    for key in ("temres_reading", "omega_form"):
        state["model_config"].pop(key)
    state.pop("sha256")  # nor had they a digest
    torch.save(state, path)
    resumed = run(data, tmp_path / "a", replace(old, epochs=2), resume=True)
    assert len(resumed.records) == 2
    with pytest.raises(CheckpointError):
        run(data, tmp_path / "a", replace(old, epochs=3, normalisation="mclaughlin"), resume=True)


def test_a_second_training_into_the_same_folder_is_refused(tiny, tmp_path):
    import fcntl

    _, _, data = tiny
    out = tmp_path / "a"
    out.mkdir()
    with open(out / ".training.lock", "w") as held:  # a training that is still running
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(CheckpointError, match="another training is writing into this folder"):
            run(data, out, config(epochs=1), run_record={"who": "second"})
    assert not (out / "checkpoint.pt").exists() and not (out / "run.json").exists()
    run(data, out, config(epochs=1), run_record={"who": "first"})  # free again: it trains


def test_a_refused_resume_leaves_run_json_and_hyper_parameters_alone(tiny, tmp_path):
    _, _, data = tiny
    out = tmp_path / "a"
    run(data, out, config(epochs=1), run_record={"learning_rate": 2e-3})
    before = (out / "run.json").read_text()
    for change in ({"learning_rate": 1e-3}, {"dampening": "pytorch"}, {"margin": 3.0}):
        name = next(iter(change))
        with pytest.raises(CheckpointError, match=name):
            run(data, out, config(epochs=2, **change), resume=True, run_record=change)
        assert (out / "run.json").read_text() == before
    resumed = run(data, out, config(epochs=2), resume=True, run_record={"resumed": True})
    assert len(resumed.records) == 2 and "resumed" in (out / "run.json").read_text()


def test_truncated_checkpoint_is_reported(tiny, tmp_path):
    _, _, data = tiny
    run(data, tmp_path / "a", config(epochs=1))
    path = tmp_path / "a" / "checkpoint.pt"
    state = torch.load(path, weights_only=True)  # loads without unpickling arbitrary objects
    assert state["epoch"] == 1 and "model" in state
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="truncated"):
        run(data, tmp_path / "a", config(epochs=2), resume=True)


def test_killed_process_resumes_to_the_same_metrics(tiny, tmp_path):
    """SIGKILL at an arbitrary moment after the first checkpoint, then --resume (CPU, 1 thread)."""
    root, cache, _ = tiny
    common = [
        sys.executable,
        "-m",
        "stsrn_lite.training.cli",
        "--dataset",
        "ilids-vid",
        "--root",
        str(root),
        "--cache",
        str(cache),
        "--preset",
        "CNN-RNN",
        "--epochs",
        "4",
        "--eval-every",
        "2",
        "--eval-length",
        "8",
        "--checkpoint-every",
        "1",
        "--threads",
        "1",
        "--no-progress",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(common + ["--out", str(tmp_path / "whole")], check=True, env=env, capture_output=True)
    cut = tmp_path / "cut"
    process = subprocess.Popen(
        common + ["--out", str(cut)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while not (cut / "checkpoint.pt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # somewhere inside a later epoch
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the run ended before it could be killed"
    assert load_checkpoint(cut / "checkpoint.pt")["epoch"] < 4
    done = subprocess.run(common + ["--out", str(cut), "--resume"], check=True, env=env, capture_output=True, text=True)
    final = json.loads(done.stdout.strip().splitlines()[-1])
    expected = read_records(tmp_path / "whole" / "records.csv")
    got = read_records(cut / "records.csv")
    keys = ("epoch", "loss", "verification", "identification", "rank1", "rank5", "rank10", "rank20", "mAP")
    assert [{k: r[k] for k in keys} for r in got] == [{k: r[k] for k in keys} for r in expected]
    assert final["rank1"] == float(expected[-1]["rank1"])


def test_cli_reports_bad_input(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stsrn_lite.training.cli",
            "--dataset",
            "ilids-vid",
            "--root",
            str(tmp_path / "missing"),
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "missing" in done.stderr and "Traceback" not in done.stderr
