"""Checkpoints that continue a run exactly (model, optimiser, position, random states, records).

A checkpoint is a dict of tensors and plain values, so it loads with
``torch.load(..., weights_only=True)``. It is written to a hidden temporary file beside its
destination, flushed to disk and renamed over it: a crash leaves the previous checkpoint intact.

It carries the SHA-256 of its own contents (`digest`: every tensor's dtype, shape and bytes and
every plain value, the ``sha256`` entry aside). A zip archive does not notice a flipped bit in a
stored tensor and ``torch.load`` does not check the members' CRCs, so without it a damaged
checkpoint would load and train on (or be evaluated) silently. Checkpoints written before the
digest existed load without the check.
"""

from __future__ import annotations

import hashlib
import pickle
import zipfile
from pathlib import Path

import torch

from stsrn_lite.atomic import open_atomic

FORMAT = 1
KEYS = frozenset(
    {
        "format",
        "config",
        "model_config",
        "model",
        "optimiser",
        "epoch",
        "step",
        "rng",
        "records",
        "code_version",
        "train_pids",
    }
)
DIGEST = "sha256"  # the key of the contents' digest (absent from checkpoints written before it existed)
EVALUATE_REMEDY = "pass a checkpoint.pt written by stsrn_lite.training.cli"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: truncated, corrupt, or from another run."""


def _feed(value: object, sha: hashlib._Hash) -> None:
    """Feed ``value`` (nested dicts, lists and tuples of tensors and plain values) into ``sha``."""
    if isinstance(value, torch.Tensor):
        data = value.detach().cpu().contiguous().reshape(-1)
        sha.update(f"T{data.dtype}{tuple(value.shape)}:".encode())
        sha.update(data.view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        sha.update(f"D{len(value)}:".encode())
        for key, item in value.items():  # insertion order, which torch.save and torch.load keep
            _feed(key, sha)
            _feed(item, sha)
    elif isinstance(value, list | tuple):
        sha.update(f"{type(value).__name__[0]}{len(value)}:".encode())
        for item in value:
            _feed(item, sha)
    else:  # None, bool, int, float (repr is exact), str
        sha.update(f"{type(value).__name__}:{value!r};".encode())


def digest(state: dict) -> str:
    """SHA-256 (hex) of a checkpoint's contents, its own ``sha256`` entry left out."""
    sha = hashlib.sha256()
    _feed({key: value for key, value in state.items() if key != DIGEST}, sha)
    return sha.hexdigest()


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def save_checkpoint(state: dict, path: str | Path) -> None:
    """Write ``state`` and its digest all-or-nothing (see the module's docstring). A failed write
    (a full disk: torch raises RuntimeError "unexpected pos" or "file write failed", or OSError)
    leaves the previous checkpoint as it was and raises `CheckpointError`."""
    path = Path(path)
    state = {"format": FORMAT, **state}
    state[DIGEST] = digest(state)
    again = "continue with --resume (resume=True)" if path.is_file() else "run again"
    try:
        with open_atomic(path, "wb") as handle:
            torch.save(state, handle)
    except (OSError, RuntimeError) as error:
        raise CheckpointError(
            f"{path}: could not write the checkpoint ({_first_line(error)}); any previous checkpoint is intact; "
            f"free space on its disk and {again}"
        ) from error


def load_checkpoint(path: str | Path, *, remedy: str = EVALUATE_REMEDY) -> dict:
    """Load and check a checkpoint; raises `CheckpointError` naming the file, what is wrong and
    ``remedy`` (what to do instead: the caller knows whether another file or another folder)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint here; {remedy}")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{path}: not a stsrn_lite checkpoint, or a truncated or corrupt one ({path.stat().st_size} bytes; "
            f"not a complete torch.save archive); {remedy}"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:  # its message advises weights_only=False: never pass that on
        raise CheckpointError(
            f"{path}: not a stsrn_lite checkpoint (it holds objects other than tensors and plain values, "
            f"which are not loaded); {remedy}"
        ) from error
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as error:
        raise CheckpointError(f"{path}: truncated or corrupt checkpoint ({_first_line(error)}); {remedy}") from error
    if not isinstance(state, dict) or state.get("format") != FORMAT or not KEYS <= set(state):
        missing = sorted(KEYS - set(state)) if isinstance(state, dict) else "everything"
        raise CheckpointError(
            f"{path}: not a stsrn_lite training checkpoint of format {FORMAT} (missing {missing}); {remedy}"
        )
    if DIGEST in state and state[DIGEST] != digest(state):
        raise CheckpointError(
            f"{path}: corrupt checkpoint (its contents do not match the SHA-256 stored with them: "
            f"bits changed on disk or in transfer); {remedy}"
        )
    return state


def check_compatible(state: dict, identity: dict, path: str | Path) -> None:
    """Refuse a checkpoint whose dataset, preset, fold, seed, mode or readings differ from ``identity``."""
    # runs from before a field existed used: split_seed = seed, no skipping, the std divisor,
    # the flow of the 64×48 frames, MARS's own split (bbox_train), and SGD at a constant rate
    before = {
        "split_seed": state["config"].get("seed"),
        "skip_short": False,
        "normalisation": "standard",
        "flow": "resized",
        "mars_protocol": "official",
        "optimiser": "sgd",
        "schedule": "constant",
        "warmup_epochs": 0.0,
    }
    config = {**before, **state["config"]}
    saved = {key: config.get(key) for key in identity}
    differences = {key: (saved[key], identity[key]) for key in identity if saved[key] != identity[key]}
    if differences:
        listed = ", ".join(f"{key}: checkpoint {old!r}, asked {new!r}" for key, (old, new) in differences.items())
        raise CheckpointError(f"{path}: checkpoint is from another run ({listed}); use another --out for this run")
