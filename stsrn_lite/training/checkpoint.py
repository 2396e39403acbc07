"""Checkpoints that continue a run exactly (model, optimiser, position, random states, records).

A checkpoint is a dict of tensors and plain values, so it loads with
``torch.load(..., weights_only=True)``. It is written to a hidden temporary file beside its
destination, flushed to disk and renamed over it: a crash leaves the previous checkpoint intact.
"""

from __future__ import annotations

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


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: truncated, corrupt, or from another run."""


def save_checkpoint(state: dict, path: str | Path) -> None:
    with open_atomic(path, "wb") as handle:
        torch.save({"format": FORMAT, **state}, handle)


def load_checkpoint(path: str | Path) -> dict:
    """Load and check a checkpoint; raises `CheckpointError` naming the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint here")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{path}: truncated or corrupt checkpoint ({path.stat().st_size} bytes; not a complete torch.save archive)"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as error:
        raise CheckpointError(f"{path}: truncated or corrupt checkpoint ({error})") from error
    if not isinstance(state, dict) or state.get("format") != FORMAT or not KEYS <= set(state):
        missing = sorted(KEYS - set(state)) if isinstance(state, dict) else "everything"
        raise CheckpointError(f"{path}: not a stsrn_lite training checkpoint of format {FORMAT} (missing {missing})")
    return state


def check_compatible(state: dict, identity: dict, path: str | Path) -> None:
    """Refuse a checkpoint whose dataset, preset, fold, seed, mode or readings differ from ``identity``."""
    # runs from before a field existed used: split_seed = seed, no skipping, the std divisor,
    # the flow of the 64×48 frames, and MARS's own split (bbox_train)
    before = {
        "split_seed": state["config"].get("seed"),
        "skip_short": False,
        "normalisation": "standard",
        "flow": "resized",
        "mars_protocol": "official",
    }
    config = {**before, **state["config"]}
    saved = {key: config.get(key) for key in identity}
    differences = {key: (saved[key], identity[key]) for key in identity if saved[key] != identity[key]}
    if differences:
        listed = ", ".join(f"{key}: checkpoint {old!r}, asked {new!r}" for key, (old, new) in differences.items())
        raise CheckpointError(
            f"{path}: checkpoint is from another run ({listed}); use another --out or start without --resume"
        )
