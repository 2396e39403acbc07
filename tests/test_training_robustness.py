"""Training that fails loudly and safely: divergence, damaged checkpoints, resuming with nothing
to resume, time-based checkpoints, one-line CLI errors and advice that leads somewhere
(stsrn_lite.training; the robustness issue's items 5, 6, 12 and 13)."""

from __future__ import annotations

import errno
import os
import pickle
import struct
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from stsrn_lite.synthetic.generator import SyntheticConfig, generate
from stsrn_lite.training import loop
from stsrn_lite.training.checkpoint import CheckpointError, load_checkpoint
from stsrn_lite.training.cli import main
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


def cli(root, cache, out, *extra: str) -> list[str]:
    """Arguments of a one-epoch CLI run on the tiny data that evaluates quickly."""
    return [
        *("--dataset", "ilids-vid", "--root", str(root), "--cache", str(cache), "--out", str(out)),
        *("--preset", "CNN-RNN", "--epochs", "1", "--eval-length", "8", "--no-eval-tta", "--no-progress"),
        *("--threads", "1", *extra),
    ]


def one_error_line(capsys, *names: object) -> str:
    """The one line the CLI wrote to stderr, checked to be an ``error:`` naming ``names``."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for name in names:
        assert str(name) in lines[0], (name, lines[0])
    return lines[0]


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


def test_the_cli_stops_a_diverged_run_with_one_line_and_exit_3(tiny, tmp_path, capsys, monkeypatch):
    root, cache, _ = tiny
    real_objective = loop.objective

    def objective(*args, **kwargs):
        losses = real_objective(*args, **kwargs)
        return {**losses, "loss": losses["loss"] * float("nan")}

    monkeypatch.setattr(loop, "objective", objective)
    out = tmp_path / "a"
    assert main(cli(root, cache, out)) == 3
    line = one_error_line(capsys, out, "training diverged (loss nan in epoch 1, step 1)", "another --out")
    assert "no checkpoint was written" in line and not (out / "checkpoint.pt").exists()


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


# --- item 6: resuming with nothing to resume, time-based checkpoints ----------------------------


def test_resume_without_a_checkpoint_is_refused_and_records_are_kept(tiny, tmp_path, capsys):
    root, cache, _ = tiny
    out = tmp_path / "a"
    out.mkdir()
    kept = "dataset,epoch\nilids-vid,1\n"  # a run killed before its first checkpoint
    (out / "records.csv").write_text(kept)
    assert main(cli(root, cache, out, "--resume")) == 2
    message = one_error_line(capsys, out / "checkpoint.pt", "nothing to resume")
    assert (out / "records.csv").read_text() == kept
    assert "run without --resume" in message  # the way forward, followed:
    assert main(cli(root, cache, out)) == 0
    assert [r["epoch"] for r in read_records(out / "records.csv")] == ["1"]


def test_a_library_resume_without_a_checkpoint_never_empties_records(tiny, tmp_path):
    _, _, data = tiny
    out = tmp_path / "a"
    out.mkdir()
    (out / "records.csv").write_text("dataset,epoch\nilids-vid,1\n")
    with pytest.raises(loop.TrainingInterrupted):  # the book resumes whatever is there, or starts
        run(data, out, config(), resume=True, stop_after_steps=3)
    assert (out / "records.csv").read_text() == "dataset,epoch\nilids-vid,1\n"


def test_checkpoints_follow_the_clock_within_epochs_and_resume_exactly(tiny, tmp_path, monkeypatch):
    _, _, data = tiny
    now, calls, saved = [0.0], [0], []
    real_save, real_objective = loop.save_checkpoint, loop.objective

    def save(state, path):
        real_save(state, path)
        saved.append((state["epoch"], state["step"], Path(path).read_bytes()))

    def objective(*args, **kwargs):  # eleven minutes pass during the 13th step (epoch 2, step 3)
        calls[0] += 1
        now[0] += 11 * 60 if calls[0] == 13 else 1.0
        return real_objective(*args, **kwargs)

    monkeypatch.setattr(loop, "save_checkpoint", save)
    monkeypatch.setattr(loop, "objective", objective)
    cfg = config(checkpoint_every=100, checkpoint_minutes=10)
    whole = run(data, tmp_path / "whole", cfg, clock=lambda: now[0])
    assert [(epoch, step) for epoch, step, _ in saved] == [(1, 3), (3, 0)]
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "checkpoint.pt").write_bytes(saved[0][2])  # as if the session was lost after it
    resumed = run(data, cut, cfg, resume=True, clock=lambda: now[0])
    assert [r["loss"] for r in resumed.records] == [r["loss"] for r in whole.records]
    for name, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    saved.clear()
    run(data, tmp_path / "frozen", cfg, clock=lambda: 0.0)
    assert [(epoch, step) for epoch, step, _ in saved] == [(3, 0)]


def test_checkpoint_minutes_is_an_option_and_must_be_positive():
    from stsrn_lite.training.cli import build_parser

    assert build_parser().get_default("checkpoint_minutes") == TrainConfig.checkpoint_minutes == 10.0
    with pytest.raises(ValueError, match="checkpoint_minutes"):
        config(checkpoint_minutes=0)


# --- item 12: one-line errors instead of tracebacks ----------------------------------------------


class Arbitrary:
    """Any object: what a crafted or foreign pickle holds instead of tensors and plain values."""


def crafted(path: Path, how: str) -> Path:
    """A file that is no stsrn_lite checkpoint: torch.save of an object, or a plain pickle."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "torch":
        torch.save({"model": Arbitrary()}, path)
    else:
        path.write_bytes(pickle.dumps({"epoch": 1}))
    return path


@pytest.mark.parametrize(
    "failure",
    [RuntimeError("[enforce fail at inline_container.cc:626] . unexpected pos 4608 vs 4555"), OSError(28, "No space")],
    ids=["torch-unexpected-pos", "enospc"],
)
def test_a_full_disk_while_checkpointing_is_one_line_and_keeps_the_last_checkpoint(
    tiny, tmp_path, capsys, monkeypatch, failure
):
    root, cache, _ = tiny
    out = tmp_path / "a"
    real_save = torch.save

    def full(obj, handle, *args, **kwargs):  # a few bytes reach the disk, then it is full
        handle.write(b"PK\x03\x04 half a checkpoint")
        raise failure

    monkeypatch.setattr(torch, "save", full)
    assert main(cli(root, cache, out)) == 2
    line = one_error_line(capsys, out / "checkpoint.pt", "could not write the checkpoint")
    assert "run again" in line and not (out / "checkpoint.pt").exists() and not list(out.glob("*.partial"))
    monkeypatch.setattr(torch, "save", real_save)
    assert main(cli(root, cache, out)) == 0  # the advice, followed
    capsys.readouterr()
    before = (out / "checkpoint.pt").read_bytes()
    monkeypatch.setattr(torch, "save", full)
    assert main(cli(root, cache, out, "--resume", "--epochs", "2")) == 2
    line = one_error_line(capsys, out / "checkpoint.pt", "could not write the checkpoint")
    assert (out / "checkpoint.pt").read_bytes() == before and not list(out.glob("*.partial"))
    assert "continue with --resume" in line
    monkeypatch.setattr(torch, "save", real_save)
    assert main(cli(root, cache, out, "--resume", "--epochs", "2")) == 0


def test_a_full_disk_while_writing_records_is_one_line(tiny, tmp_path, capsys, monkeypatch):
    root, cache, _ = tiny
    out = tmp_path / "a"

    def full(rows, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(loop, "write_records", full)
    assert main(cli(root, cache, out)) == 2
    assert "free space on its disk and run again" in one_error_line(capsys, out / "records.csv")


@pytest.mark.parametrize("inside", [False, True], ids=["the-file", "below-the-file"])
def test_an_out_that_is_a_file_is_one_line(tiny, tmp_path, capsys, inside):
    root, cache, _ = tiny
    file = tmp_path / "results"
    file.write_text("not a folder")
    out = file / "run" if inside else file
    assert main(cli(root, cache, out)) == 2
    assert "choose a folder for --out" in one_error_line(capsys, file, "is a file")
    assert file.read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_out_is_one_line(tiny, tmp_path, capsys):
    root, cache, _ = tiny
    out = tmp_path / "a"
    out.mkdir()
    out.chmod(0o555)
    try:
        assert main(cli(root, cache, out)) == 2
        assert "choose a writable folder" in one_error_line(capsys, out)
    finally:
        out.chmod(0o755)


def test_an_out_in_an_unwritable_folder_is_one_line(tiny, capsys):
    """/sys refuses new files even to root: the read-only case where root runs the tests."""
    root, cache, _ = tiny
    try:
        with tempfile.TemporaryFile(dir="/sys"):
            pytest.skip("/sys is writable here")
    except OSError:
        pass
    out = Path("/sys/stsrn-lite-run")
    assert main(cli(root, cache, out)) == 2
    assert "choose a writable folder for --out" in one_error_line(capsys, "/sys")
    assert not out.exists()


@pytest.mark.parametrize("threads", ["-1", "0"])
def test_threads_below_one_is_one_line(tiny, tmp_path, capsys, threads):
    root, cache, _ = tiny
    assert main(cli(root, cache, tmp_path / "a", "--threads", threads)) == 2
    assert "pass --threads 1 or more" in one_error_line(capsys, "--threads", threads)
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("how", ["torch", "pickle"])
def test_a_crafted_checkpoint_is_one_line_without_weights_only_advice(tiny, tmp_path, capsys, how):
    from stsrn_lite.evaluation.cli import main as evaluate

    root, cache, _ = tiny
    out = tmp_path / "a"
    path = crafted(out / "checkpoint.pt", how)
    commands = (
        lambda: main(cli(root, cache, out, "--resume")),
        lambda: evaluate(["--checkpoint", str(path), "--dataset", "ilids-vid", "--root", str(root)]),
    )
    for command in commands:
        status = command()
        err = capsys.readouterr().err
        assert status == 2 and "weights_only" not in err and "Traceback" not in err, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}: not a stsrn_lite checkpoint"), err


# --- item 13: advice that leads somewhere ---------------------------------------------------------


def test_each_refusal_of_a_used_folder_names_a_way_forward_that_works(tiny, tmp_path, capsys):
    root, cache, _ = tiny
    out = tmp_path / "a"
    assert main(cli(root, cache, out)) == 0
    capsys.readouterr()
    # this run again without --resume: --resume continues it
    assert main(cli(root, cache, out, "--epochs", "2")) == 2
    line = one_error_line(capsys, out / "checkpoint.pt", "this run is already here (1 epochs trained)")
    assert "pass --resume (resume=True) to continue it" in line
    assert main(cli(root, cache, out, "--epochs", "2", "--resume")) == 0
    capsys.readouterr()
    # another run, with --resume or without: another --out, never the other flag (no going round)
    for extra in ((), ("--resume",)):
        assert main(cli(root, cache, out, "--margin", "3", *extra)) == 2
        line = one_error_line(capsys, out / "checkpoint.pt", "margin: checkpoint 2.0, asked 3.0", "use another --out")
        assert "--resume" not in line
    assert main(cli(root, cache, tmp_path / "b", "--margin", "3")) == 0
    capsys.readouterr()
    # a damaged checkpoint, with --resume or without: another --out
    damaged = tmp_path / "c"
    crafted(damaged / "checkpoint.pt", "torch")
    for extra in ((), ("--resume",)):
        assert main(cli(root, cache, damaged, *extra)) == 2
        line = one_error_line(capsys, damaged / "checkpoint.pt", "use another --out")
        assert "--resume" not in line


def test_a_sequence_longer_than_every_tracklet_is_refused_before_the_run_folder_is_made(tiny, tmp_path, capsys):
    """With skip_short every pair would be dropped: epochs of no steps, a loss of 0 and a checkpoint."""
    root, cache, data = tiny
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="no training tracklet has sequence_length=64 frames.*skip_short=False"):
        run(data, out, config(sequence_length=64))
    assert not out.exists()
    assert main(cli(root, cache, out, "--sequence-length", "64")) == 2
    one_error_line(capsys, "sequence_length=64")
    assert not out.exists()
