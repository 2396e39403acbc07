"""How long a grid run will take on this device, from a measured throughput (`stsrn_lite.book.grid`).

A run's time is its training steps times the measured time of one step (`step_seconds`: forward,
Eq. (8) and identification losses, backward, clipping and the optimiser step of the preset, on
random frames of the training shape), plus its tests: the test frames (min(L, n) of every probe
and gallery sequence, times the test passes, and the passes of its studies: `STUDY_PASSES`) over
the measured test throughput (`test_fps`).
Measurements are made once per preset, batch, device and thread count in a process.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

import torch

from stsrn_lite.book.grid import GridRun
from stsrn_lite.book.occlusion import FRACTIONS
from stsrn_lite.book.session import Session
from stsrn_lite.data.mars_astpn import reduce_two_cameras
from stsrn_lite.data.read import read_dataset
from stsrn_lite.evaluation.protocols import cross_dataset_pids
from stsrn_lite.model.network import STSRN
from stsrn_lite.model.presets import preset as preset_config
from stsrn_lite.preprocess.crop import evaluation_passes
from stsrn_lite.training.checkpoint import CheckpointError, load_checkpoint
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import fold_split
from stsrn_lite.training.loop import CHECKPOINT, build_optimiser, clip_gradients
from stsrn_lite.training.loss import objective
from stsrn_lite.training.precision import precision

# One-crop passes over a run's test frames that each study makes (`experiments.STUDIES`); the
# occlusion study: the test on each share of occluded frames, the gate on each share but none
STUDY_PASSES = {"occlusion": 2 * len(FRACTIONS) - 1}
SHAPE = (5, 56, 40)  # channels, height, width of the network's input (the shape legend of stsrn_lite.model)
TEST_LENGTH = 128  # L of the book's tests


@dataclass(frozen=True)
class WorkLeft:
    """What a grid run still has to do here: ``epochs`` to train and, in a profile that keeps a
    ledger, whether its final ``tests`` are still to run (a run trained to its last epoch, then
    stopped or parked before its tests, is not filed: training is done, its tests are not)."""

    epochs: int
    tests: bool

    def __bool__(self) -> bool:
        return self.epochs > 0 or self.tests


def work_left(session: Session, spec: GridRun) -> WorkLeft:
    """`WorkLeft` of ``spec``: all its epochs without a checkpoint, nothing when it is filed in the
    profile's ledger (`stsrn_lite.book.ledger`). Outside a ledger profile the grid only trains
    (the chapters test), so a run trained to its last epoch has nothing left."""
    from stsrn_lite.book.experiments import final_test_config, ledger_folders
    from stsrn_lite.book.grid import spec_config, spec_folder
    from stsrn_lite.book.ledger import is_filed

    folder = spec_folder(session, spec)
    if session.profile.ledger:
        config = spec_config(session, spec)
        test = final_test_config(session, config)
        if any(is_filed(f, folder.name, config, test, spec.protocols, spec.studies) for f in ledger_folders(session)):
            return WorkLeft(0, False)
    path = folder / CHECKPOINT
    try:
        epochs = max(0, spec.epochs - int(load_checkpoint(path)["epoch"])) if path.is_file() else spec.epochs
    except CheckpointError:
        epochs = spec.epochs  # a damaged checkpoint: the run will say so when it starts
    return WorkLeft(epochs, tests=session.profile.ledger)


def remaining_epochs(session: Session, spec: GridRun) -> int:
    """Epochs ``spec`` still has to train (`work_left`)."""
    return work_left(session, spec).epochs


def training_step(preset: str, pairs: int, num_classes: int, device: str, precision_name: str = "float32"):
    """One training step of ``preset`` on ``pairs`` pairs of random 16-frame sequences (forward,
    Eq. (8) and identification losses, backward, clipping, optimiser step), as a function to call
    that returns the loss on the device (not read: the loop reads it once an epoch on CUDA)."""
    config = TrainConfig(dataset="ilids-vid", preset=preset)
    generator = torch.Generator().manual_seed(0)
    model = STSRN(preset_config(preset, num_classes=num_classes)).to(device).train()
    optimiser = build_optimiser(config, model)
    shape = (pairs, config.sequence_length, *SHAPE)
    a, b = (torch.randn(shape, generator=generator).to(device) for _ in range(2))
    labels = torch.randint(0, num_classes, (pairs, 2), generator=generator).to(device)

    def step() -> torch.Tensor:
        with precision(precision_name, torch.device(device)):
            out = model.pair_forward(a, None, b, None)
            losses = objective(
                out, labels[:, 0], labels[:, 1], margin=config.margin, positive_cost=config.positive_cost
            )
        optimiser.zero_grad(set_to_none=True)
        losses["loss"].backward()
        clip_gradients(model, config.grad_clip)
        optimiser.step()
        return losses["loss"].detach()

    return step


def synchronise(device: str) -> None:
    """Wait for the device's queued work (CUDA), so that a clock reads the work done."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


@functools.cache
def step_seconds(
    preset: str,
    pairs: int,
    num_classes: int,
    device: str,
    threads: int,
    steps: int = 3,
    precision_name: str = "float32",
) -> float:
    """Seconds of one training step of ``pairs`` pairs of 16-frame sequences: the mean of ``steps``
    steps run back to back after one warm-up step (on CUDA, queued as the loop queues them)."""
    torch.set_num_threads(threads)
    step = training_step(preset, pairs, num_classes, device, precision_name)
    step()
    synchronise(device)
    started = time.perf_counter()
    for _ in range(steps):
        step()
    synchronise(device)
    return (time.perf_counter() - started) / steps


@functools.cache
def test_fps(preset: str, device: str, threads: int) -> float:
    """Test frames per second: one sequence of L frames at a time, as the CPU test runs them."""
    torch.set_num_threads(threads)
    model = STSRN(preset_config(preset, num_classes=2)).to(device).eval()
    frames = torch.randn((1, TEST_LENGTH, *SHAPE), generator=torch.Generator().manual_seed(0)).to(device)
    with torch.no_grad():
        model(frames)
        started = time.perf_counter()
        for _ in range(3):
            model(frames)
        return 3 * TEST_LENGTH / (time.perf_counter() - started)


def _sizes(session: Session, spec: GridRun, protocol: str) -> tuple[int, int]:
    """(training identities, test frames of ``protocol``) of ``spec``'s fold."""
    dataset = read_dataset(spec.dataset, session.root(spec.dataset))
    seed = TrainConfig.split_seed
    lengths = {}
    for tracklet in dataset.tracklets:
        lengths.setdefault((tracklet.pid, tracklet.camid), tracklet.length)
    folds = max(session.profile.folds, spec.fold + 1)
    if spec.dataset == "mars" and spec.mars_protocol == "official":
        train = {dataset.tracklets[i].pid for i in dataset.subsets["train"]}
        test = [dataset.tracklets[i].length for i in dataset.subsets["test"]]
        return len(train), sum(min(TEST_LENGTH, n) for n in test)
    split, _ = fold_split(dataset, spec.fold, folds, seed)
    if protocol == "cross-dataset":
        target = read_dataset("prid2011", session.root("prid2011"))
        pids = cross_dataset_pids(target, spec.fold, folds, seed=seed)
        lengths = {(t.pid, t.camid): t.length for t in target.tracklets}
        frames = sum(min(TEST_LENGTH, lengths.get((pid, cam), 0)) for pid in pids for cam in (0, 1))
        return len(split.train), frames
    if spec.dataset == "mars":
        views = reduce_two_cameras(dataset, seed).views
        frames = sum(min(TEST_LENGTH, dataset.tracklets[i].length) for pid in split.test for i in views[pid])
        return len(split.train), frames
    frames = sum(min(TEST_LENGTH, lengths.get((pid, cam), 0)) for pid in split.test for cam in (0, 1))
    return len(split.train), frames


def estimate_seconds(session: Session, spec: GridRun, epochs: int, threads: int) -> float:
    """Seconds ``spec`` needs here to train ``epochs`` more epochs and run its tests."""
    device = session.device
    identities, test_frames = _sizes(session, spec, spec.protocols[0])
    pairs = TrainConfig.for_recipe(spec.recipe, dataset=spec.dataset).pairs_per_step
    steps = math.ceil(2 * identities / pairs)  # two pairs per training identity an epoch
    train = epochs * steps * step_seconds(spec.preset, pairs, identities, device, threads)
    during = (epochs // spec.eval_every if spec.eval_every else 0) * test_frames  # one centre crop
    final = len(spec.protocols) * test_frames * len(evaluation_passes(session.profile.eval_tta))
    studies = sum(STUDY_PASSES[name] for name in spec.studies) * test_frames
    return train + (during + final + studies) / test_fps(spec.preset, device, threads)
