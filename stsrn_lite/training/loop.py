"""The training loop (paper §3.5, §4.2): Siamese pairs, Eq. (8) + identification, SGD, clipping,
periodic evaluation, and checkpoints that resume exactly.

Exact resumption rests on two facts. Every draw of the pair schedule (identities, tracklets,
subsequences, crops, mirrors) of epoch e is a pure function of (seed, e) (`PairSchedule`), so
a checkpoint need only record the position. Dropout draws from torch's global generators, whose
states are saved with the checkpoint and restored on resume. On the CPU, with the same thread
count, a resumed run therefore repeats the uninterrupted one operation for operation.
"""

from __future__ import annotations

import errno
import fcntl
import json
import math
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from stsrn_lite.atomic import write_atomic
from stsrn_lite.model.config import model_config_from_dict
from stsrn_lite.model.network import STSRN
from stsrn_lite.model.presets import preset
from stsrn_lite.preprocess.transforms import PreprocessConfig
from stsrn_lite.provenance import code_version, device_name
from stsrn_lite.training.checkpoint import CheckpointError, check_compatible, load_checkpoint, save_checkpoint
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import RunData
from stsrn_lite.training.frames import TrainingFrames
from stsrn_lite.training.loss import objective
from stsrn_lite.training.pairs import PairSchedule
from stsrn_lite.training.precision import precision
from stsrn_lite.training.records import write_records

CHECKPOINT = "checkpoint.pt"
RUN_RECORD = "run.json"
TRAINING_LOCK = ".training.lock"  # held by the training that writes the folder
RECORDS = "records.csv"
ANOTHER_OUT = "use another --out for this run"  # the way forward from a folder that holds another run
LOSSES = ("loss", "verification", "identification")  # the terms records.csv averages over an epoch


class TrainingInterrupted(RuntimeError):
    """The run stopped on request (SIGINT, SIGTERM or ``stop_after_steps``) after saving a checkpoint."""


class OutputError(RuntimeError):
    """The output folder cannot hold a run: it is a file, cannot be created or written, or is full."""


class TrainingDiverged(RuntimeError):
    """A loss or a weight became NaN or infinite. Training stopped before saving it: the last good
    checkpoint is left as it was and records.csv is rewritten to match it (without a checkpoint,
    records.csv keeps the epochs completed, none of them non-finite)."""


@dataclass
class TrainResult:
    model: STSRN
    records: list[dict]  # one per epoch (see stsrn_lite.training.records.COLUMNS)
    checkpoint: Path
    given_up: str | None = None  # why training stopped before its epochs (``give_up``), None if it did not


def epoch_seed(seed: int, epoch: int) -> int:
    """Seed of torch's global generators (dropout) at the start of epoch ``epoch``."""
    return (seed * 1_000_003 + epoch) % (2**63)


def _rng_state(device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def omega_summary(model: STSRN) -> dict:
    """Mean, least and largest ω of the STSM (chapter 04 follows them over training); {} without."""
    if model.stsm is None:
        return {}
    omega = model.stsm.omega.detach()  # (N,)
    return {
        "omega_mean": float(omega.mean()),
        "omega_min": float(omega.min()),
        "omega_max": float(omega.max()),
    }


def build_model(config: TrainConfig, num_classes: int, device: torch.device) -> STSRN:
    torch.manual_seed(config.seed)  # Xavier initialisation (§4.2) from the run's seed
    model_config = preset(config.preset, num_classes=num_classes, **config.model_overrides())
    return STSRN(model_config).to(device)


def build_optimiser(config: TrainConfig, model: STSRN) -> torch.optim.Optimizer:
    """SGD with momentum as the CNN-RNN (the paper's), or Adam (the fast recipe); the learning
    rate of each step is set by the loop (`TrainConfig.learning_rate_at`)."""
    if config.optimiser == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    dampening = config.momentum if config.dampening == "torch7" else 0.0  # Torch7 optim.sgd: dampening = momentum
    return torch.optim.SGD(model.parameters(), lr=config.learning_rate, momentum=config.momentum, dampening=dampening)


def non_finite_tensors(model: torch.nn.Module, optimiser: torch.optim.Optimizer | None = None) -> list[str]:
    """Names of the model's (and the optimiser's) floating-point tensors that hold a NaN or an
    infinity: a diverged run or a damaged checkpoint, which must not be saved or trained on."""
    named = list(model.state_dict().items())
    if optimiser is not None:
        for index, slots in optimiser.state_dict()["state"].items():
            named += [(f"optimiser.{index}.{slot}", value) for slot, value in slots.items()]
    return [
        name
        for name, value in named
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(torch.isfinite(value).all())
    ]


def clip_gradients(model: torch.nn.Module, limit: float) -> None:
    """Clamp every gradient element to [−limit, limit] (the CNN-RNN's gradClip: videoReid.lua, train.lua)."""
    for parameter in model.parameters():
        if parameter.grad is not None:
            parameter.grad.clamp_(-limit, limit)


class _StopFlag:
    """SIGINT/SIGTERM set a flag that the loop checks between steps, so no step is left half-done."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict = {}

    def __enter__(self) -> _StopFlag:
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        except ValueError:  # not the main thread: no handlers, the flag still works for stop_after_steps
            self._previous.clear()
        return self

    def _handle(self, signum, frame) -> None:
        self.requested = True

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class _CheckpointTimer:
    """Says when ``minutes`` have passed on ``clock`` (seconds) since the last checkpoint or the start."""

    def __init__(self, minutes: float, clock: Callable[[], float]) -> None:
        self.seconds, self.clock = minutes * 60.0, clock
        self.last = clock()

    def due(self) -> bool:
        return self.clock() - self.last >= self.seconds

    def reset(self) -> None:
        self.last = self.clock()


def output_error(error: OSError, out: Path) -> OutputError:
    """`OutputError` for an OSError met while writing into ``out``, with what to do about it."""
    where, reason = error.filename or out, error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        again = "continue with --resume (resume=True)" if (out / CHECKPOINT).is_file() else "run again"
        return OutputError(f"{where}: {reason}; free space on its disk and {again}")
    return OutputError(f"{where}: {reason}; choose a writable folder for --out")


def check_out(out: str | Path) -> None:
    """Refuse an output folder that is a file or cannot be written, before anything is loaded or
    made (a refused run leaves no folder behind); raises `OutputError`."""
    out = Path(out)
    existing = out
    while not existing.exists() and existing != existing.parent:  # the folder, or the one it will be made in
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{existing}: is a file, not a folder; choose a folder for --out")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise OutputError(
            f"{existing}: cannot write there ({error.strerror}); choose a writable folder for --out"
        ) from error


@contextmanager
def _writing(out: Path) -> Iterator[None]:
    """Turn an OSError met while writing into ``out`` (a full or read-only disk) into `OutputError`."""
    try:
        yield
    except OSError as error:
        raise output_error(error, out) from error


def require_checkpoint(out: str | Path) -> None:
    """Refuse to resume a folder without a checkpoint (a run killed before its first one, or the
    wrong folder) instead of silently starting from epoch 0; raises `CheckpointError`."""
    path = Path(out) / CHECKPOINT
    if not path.is_file():
        raise CheckpointError(
            f"{path}: nothing to resume (no checkpoint here); run without --resume (resume=False) to start this run"
        )


@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """Hold ``out`` for one training at a time; a second one is refused, not queued."""
    with _writing(out):
        handle = open(out / TRAINING_LOCK, "w")  # noqa: SIM115 (closed below)
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CheckpointError(
                f"{out}: another training is writing into this folder; wait for it to end "
                "or choose another output folder"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _check_same_run(state: dict, config: TrainConfig, model: STSRN, schedule: PairSchedule, path: Path) -> None:
    """Refuse a checkpoint of another run than ``config``: its way forward is always another --out
    (never "start without --resume", which a folder holding a checkpoint refuses in turn)."""
    check_compatible(state, config.identity(), path)
    if model_config_from_dict(state["model_config"]) != model.config:
        raise CheckpointError(
            f"{path}: the checkpoint's model differs from {config.preset} as configured now "
            f"(a reading changed since it was trained); {ANOTHER_OUT}"
        )
    if state["train_pids"] != list(schedule.pids):
        raise CheckpointError(
            f"{path}: trained on other identities than this dataset's fold {config.fold}; {ANOTHER_OUT}"
        )


def train(
    config: TrainConfig,
    data: RunData,
    out: str | Path,
    *,
    device: str = "cpu",
    resume: bool = False,
    progress: bool = True,
    evaluate=None,
    data_label: str = "",
    stop_after_steps: int | None = None,
    run_record: dict | None = None,
    clock: Callable[[], float] = time.monotonic,
    give_up: Callable[[list[dict]], str | None] | None = None,
) -> TrainResult:
    """Train ``config`` on ``data``, writing ``out/checkpoint.pt`` and ``out/records.csv``.

    ``evaluate(model, data, config, device) -> dict`` gives the ranks and mAP of the epochs that
    are evaluated (every ``config.eval_every`` and the last of ``config.epochs``, not the last of a
    run given up before it); None skips evaluation.
    ``stop_after_steps`` stops like a signal would after that many steps of this call (tests).
    ``give_up(records)`` is asked after each epoch; a reason (not None) ends the training there:
    the checkpoint keeps the reason, so resuming the run trains nothing more, and the result's
    ``given_up`` is it (`stsrn_lite.book.divergence.hopeless` stops a run that blew up).
    ``run_record`` is written to ``out/run.json`` once the run is accepted (not when it is
    refused). ``clock`` (seconds) times ``config.checkpoint_minutes`` (tests inject one). With
    ``resume`` and no checkpoint in ``out`` the run starts afresh (the CLI's --resume refuses
    that: `require_checkpoint`). Without ``resume`` a checkpoint in ``out`` is refused, naming
    --resume when it is this run's, another --out when it is another's or damaged. An ``out``
    that is a file or cannot be written raises `OutputError`, as does a full disk when records
    are written (`CheckpointError` when the checkpoint is). The run holds ``out`` exclusively: a
    second training into it raises `CheckpointError`. Raises `TrainingInterrupted` after saving
    a checkpoint when stopped early, and `TrainingDiverged` when a loss or a weight turns NaN or
    infinite, without saving them. The losses are summed on the device: on CUDA they are read once
    an epoch (no host synchronisation per step; a NaN loss is then caught at the epoch's end, still
    before anything is saved), on the CPU at every step.
    """
    out = Path(out)
    check_out(out)
    schedule = _pair_schedule(config, data)  # refuses data it cannot train on before ``out`` is made
    with _writing(out):
        out.mkdir(parents=True, exist_ok=True)
    with _exclusive(out):
        return _train(
            config,
            data,
            schedule,
            out,
            device=device,
            resume=resume,
            progress=progress,
            evaluate=evaluate,
            data_label=data_label,
            stop_after_steps=stop_after_steps,
            run_record=run_record,
            clock=clock,
            give_up=give_up,
        )


def _pair_schedule(config: TrainConfig, data: RunData) -> PairSchedule:
    """The pairs of ``data``'s training tracklets that ``config`` trains on, epoch by epoch."""
    cache = data.cache
    return PairSchedule(
        cache.pids,
        cache.camids,
        cache.offsets[1:] - cache.offsets[:-1],
        data.train_indices,
        seed=config.seed,
        sequence_length=config.sequence_length,
        skip_short=config.skip_short,
    )


def _train(
    config: TrainConfig,
    data: RunData,
    schedule: PairSchedule,
    out: Path,
    *,
    device: str,
    resume: bool,
    progress: bool,
    evaluate,
    data_label: str,
    stop_after_steps: int | None,
    run_record: dict | None,
    clock: Callable[[], float],
    give_up: Callable[[list[dict]], str | None] | None = None,
) -> TrainResult:
    device_t = torch.device(device)
    checkpoint_path = out / CHECKPOINT
    cache = data.cache
    model = build_model(config, schedule.num_identities, device_t)
    optimiser = build_optimiser(config, model)
    epoch, step, records, wall, totals = 0, 0, [], 0.0, [0.0, 0.0, 0.0, 0]
    rng_state = None
    given_up: str | None = None  # why this run stopped before its epochs (``give_up``)
    saved_at: tuple[int, int, int] | None = None  # (epoch, step, records) of the checkpoint on disk
    if checkpoint_path.exists():
        state = load_checkpoint(checkpoint_path, remedy=ANOTHER_OUT)
        _check_same_run(state, config, model, schedule, checkpoint_path)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        damaged = non_finite_tensors(model, optimiser)
        if damaged:
            raise CheckpointError(
                f"{checkpoint_path}: holds NaN or infinite weights ({', '.join(damaged[:3])}, ...); {ANOTHER_OUT}"
            )
        if not resume:  # this very run, sound: --resume continues it (anything else was refused above)
            raise CheckpointError(
                f"{checkpoint_path}: this run is already here ({state['epoch']} epochs trained); "
                "pass --resume (resume=True) to continue it, or use another --out to train it anew"
            )
        epoch, step, records, wall = state["epoch"], state["step"], list(state["records"]), state["wall_seconds"]
        totals, rng_state = list(state["totals"]), state["rng"]
        given_up = state.get("given_up")
        saved_at = (epoch, step, len(records))
    # the epoch's loss sums (× pairs) stay on the device: on CUDA they are read once an epoch
    sums = torch.tensor(totals[:3], dtype=torch.float64, device=device_t)

    def check_sums(where: str) -> None:
        """Stop (`diverged`) when a loss of the epoch so far was NaN or infinite; nothing is saved."""
        values = sums.tolist()
        if not all(math.isfinite(v) for v in values):
            raise diverged(f"loss {values[0] / max(totals[3], 1)} {where}")

    preprocess = PreprocessConfig(normalisation=config.normalisation)
    if run_record is not None:  # the run is accepted: say what it is
        with _writing(out):
            write_atomic(out / RUN_RECORD, json.dumps(run_record, indent=1))
    frames = TrainingFrames(cache, data.train_indices, device_t, preprocess=preprocess)
    steps_done = 0
    version, where = code_version(), device_name(device_t)

    def snapshot(seconds: float) -> dict:
        """The run's state; ``seconds``: the time spent in the current epoch so far."""
        return {
            "config": config.to_dict(),
            "model_config": asdict(model.config),
            "model": model.state_dict(),
            "optimiser": optimiser.state_dict(),
            "epoch": epoch,
            "step": step,
            "totals": [*sums.tolist(), totals[3]],
            "rng": _rng_state(device_t),
            "records": records,
            "wall_seconds": wall + seconds,
            "code_version": version,
            "train_pids": list(schedule.pids),
            "given_up": given_up,
        }

    timer = _CheckpointTimer(config.checkpoint_minutes, clock)

    def save(seconds: float = 0.0) -> None:
        """Checkpoint now, unless the weights went non-finite (then the last good one stays)."""
        nonlocal saved_at
        damaged = non_finite_tensors(model, optimiser)
        if damaged:
            raise diverged(f"NaN or infinite weights after epoch {epoch}, step {step}: {', '.join(damaged[:3])}")
        save_checkpoint(snapshot(seconds), checkpoint_path)
        saved_at = (epoch, step, len(records))
        timer.reset()

    def diverged(what: str) -> TrainingDiverged:
        """The error to raise, once records.csv is back at the checkpoint on disk."""
        if saved_at is None:
            kept = "no checkpoint was written before it"
        else:
            with _writing(out):
                write_records(records[: saved_at[2]], out / RECORDS)
            position = f"epoch {saved_at[0]}, step {saved_at[1]}"
            kept = f"the last good checkpoint ({position}) is kept and {RECORDS} matches it"
        return TrainingDiverged(
            f"{out}: training diverged ({what}); {kept}; train again into another --out with a smaller --learning-rate"
        )

    if saved_at is not None:  # resumed: records.csv back to the checkpoint's epoch (never emptied without one)
        with _writing(out):
            write_records(records, out / RECORDS)
    per_epoch = math.ceil(2 * schedule.num_identities / config.pairs_per_step)  # without skipped pairs
    bar = tqdm(
        total=(config.epochs - epoch) * per_epoch - step,
        disable=not progress,
        unit="step",
        desc=f"{config.preset} {config.dataset} fold {config.fold}",
        mininterval=2.0,
    )
    with _StopFlag() as stop:
        while epoch < config.epochs and given_up is None:
            plan = schedule.epoch(epoch)
            steps_in_epoch = math.ceil(len(plan) / config.pairs_per_step)
            if step == 0:
                torch.manual_seed(epoch_seed(config.seed, epoch))
            elif rng_state is not None:
                _set_rng_state(rng_state, device_t)
            rng_state = None
            model.train()
            started = time.perf_counter()
            while step < steps_in_epoch:
                if stop.requested or (stop_after_steps is not None and steps_done >= stop_after_steps):
                    wall += time.perf_counter() - started
                    save()
                    bar.close()
                    raise TrainingInterrupted(f"stopped at epoch {epoch}, step {step}; checkpoint {checkpoint_path}")
                if step > 0 and timer.due():  # the state between two steps resumes exactly
                    save(time.perf_counter() - started)
                rows = slice(step * config.pairs_per_step, min((step + 1) * config.pairs_per_step, len(plan)))
                a, a_lengths = frames.sequences(plan, rows, 0)  # (B, T, 5, 56, 40), (B,)
                b, b_lengths = frames.sequences(plan, rows, 1)
                labels = frames.labels(plan, rows)  # (B, 2)
                with precision(config.precision, device_t):  # float32, TF32 (CUDA) or bf16 autocast
                    out_pair = model.pair_forward(a, a_lengths, b, b_lengths)
                    losses = objective(
                        out_pair, labels[:, 0], labels[:, 1], margin=config.margin, positive_cost=config.positive_cost
                    )
                optimiser.zero_grad(set_to_none=True)
                losses["loss"].backward()
                clip_gradients(model, config.grad_clip)
                for group in optimiser.param_groups:
                    group["lr"] = config.learning_rate_at(epoch, step, steps_in_epoch)
                optimiser.step()
                model.project_()  # ω of the STSM back into [0, 1]
                pairs = rows.stop - rows.start
                sums += torch.stack([losses[k].detach() for k in LOSSES]).double() * pairs  # on the device
                totals[3] += pairs
                if device_t.type != "cuda":  # free on the CPU: a NaN is caught at its step
                    check_sums(f"in epoch {epoch + 1}, step {step + 1}")
                step += 1
                steps_done += 1
                bar.update(1)
            check_sums(f"in epoch {epoch + 1}")  # CUDA: the epoch's one read of the losses
            totals[:3] = sums.tolist()
            seconds = time.perf_counter() - started
            wall += seconds
            epoch += 1
            pairs = max(totals[3], 1)
            row = {
                "dataset": config.dataset,
                "preset": config.preset,
                "fold": config.fold,
                "epoch": epoch,
                "mode": config.mode,
                "seed": config.seed,
                "pairs": totals[3],
                "loss": totals[0] / pairs,
                "verification": totals[1] / pairs,
                "identification": totals[2] / pairs,
                "epoch_seconds": round(seconds, 3),
                "device": where,
                "data": data_label,
                "code_version": version,
            }
            row.update(omega_summary(model))
            if evaluate is not None and (epoch % config.eval_every == 0 or epoch == config.epochs):
                row.update(evaluate(model, data, config, device_t))
                model.train()
            row["wall_seconds"] = round(wall, 3)
            records.append(row)
            step, totals = 0, [0.0, 0.0, 0.0, 0]
            sums.zero_()
            with _writing(out):
                write_records(records, out / RECORDS)
            given_up = give_up(records) if give_up is not None else None
            if given_up is not None or epoch % config.checkpoint_every == 0 or epoch == config.epochs or timer.due():
                save()
    bar.close()
    return TrainResult(model=model, records=records, checkpoint=checkpoint_path, given_up=given_up)
