"""Trained weights: a model's state alone, with where it came from, for readers and chapters that
need a trained model without training one (the book's committed ``weights/``).

    python -m stsrn_lite.weights export RUN_FOLDER OUT.pt   # from a run's checkpoint
    python -m stsrn_lite.weights show OUT.pt                 # its preset and provenance

A weights file is a ``torch.save`` of plain tensors and values (loadable with
``weights_only=True``): the format, the preset, the model configuration, the model's state (no
optimiser, no random state: a few MB) and its provenance (the run's training configuration,
data, epochs, code version and its last test). `load_weights` refuses, in one line naming the
file, a file that is not one, or whose configuration is not the preset asked for.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, fields
from pathlib import Path

import torch

from stsrn_lite.atomic import open_atomic
from stsrn_lite.model.config import ModelConfig, model_config_from_dict
from stsrn_lite.model.network import STSRN
from stsrn_lite.model.presets import preset as preset_config
from stsrn_lite.training.checkpoint import CheckpointError, load_checkpoint
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.loop import CHECKPOINT

FORMAT = "stsrn-lite-weights/1"
# the book's committed weights, in the checkout beside the package: <dataset>-<preset>-<profile>.pt
COMMITTED = Path(__file__).resolve().parents[1] / "weights"


class WeightsError(ValueError):
    """A weights file that cannot be used as asked; the message names the file."""


def _recipe(config: dict) -> str:
    """The name of the recipe of a run's training configuration (`TrainConfig.recipe`), or "" when
    the configuration is not one this code can read."""
    try:
        return TrainConfig(**config).recipe
    except (TypeError, ValueError):
        return ""


def export_weights(run: str | Path, out: str | Path, data: str | None = None) -> Path:
    """Write the model of the run in folder ``run`` (its checkpoint) to ``out``; ``data`` says what
    it trained on (default: its records' data label, else its dataset's name)."""
    run = Path(run)
    state = load_checkpoint(run / CHECKPOINT, remedy="export the weights of a run that has trained")
    config = state["config"]
    described = json.loads((run / "run.json").read_text()) if (run / "run.json").is_file() else {}
    records = state["records"]
    tested = [r for r in records if r.get("rank1") not in ("", None)]
    provenance = {
        "dataset": config["dataset"],
        "data": data or (records[-1].get("data") if records else "") or config["dataset"],
        "fold": config["fold"],
        "epochs": state["epoch"],
        "training": config,
        "recipe": described.get("recipe") or _recipe(config),
        "code_version": state["code_version"],
        "last_test": {k: tested[-1][k] for k in ("epoch", "rank1", "mAP")} if tested else None,
    }
    weights = {
        "format": FORMAT,
        "preset": config["preset"],
        "model_config": state["model_config"],
        "model": state["model"],
        "provenance": provenance,
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_atomic(out, "wb") as handle:
        torch.save(weights, handle)
    return out


def read_weights(path: str | Path) -> dict:
    """The contents of weights file ``path``, checked to be one."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no weights file here")
    try:
        weights = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several kinds for a file that is not an archive
        raise WeightsError(f"{path}: not a weights file ({type(error).__name__}); expected one from export") from None
    if not isinstance(weights, dict) or weights.get("format") != FORMAT:
        raise WeightsError(f"{path}: not a weights file of format {FORMAT}")
    return weights


def load_weights(path: str | Path, preset: str, device: str | torch.device = "cpu", **overrides) -> STSRN:
    """The model in weights file ``path``, in eval mode on ``device``, after checking that it is
    the preset ``preset`` with ``overrides`` (ModelConfig fields a run set, `TrainConfig.model_overrides`,
    e.g. ``res_kernel=3``): its configuration is that one, its number of classes aside."""
    unknown = sorted(set(overrides) - {f.name for f in fields(ModelConfig)})
    if unknown:
        raise WeightsError(f"{path}: {', '.join(unknown)} is not a ModelConfig field (load_weights' overrides)")
    weights = read_weights(path)
    saved = model_config_from_dict(weights["model_config"])
    expected = preset_config(preset, **{**overrides, "num_classes": saved.num_classes})
    if weights["preset"] != preset or saved != expected:
        differ = sorted(k for k, v in asdict(expected).items() if asdict(saved)[k] != v)
        stored = ", ".join(f"{k}={asdict(saved)[k]!r}" for k in differ)
        asked = f"the preset {preset!r}" + (f" with {overrides}" if overrides else "")
        raise WeightsError(
            f"{path}: these are weights of {weights['preset']!r}"
            + (f" with {stored}" if differ else "")
            + f", not of {asked}"
            + (" (pass those values as load_weights' overrides)" if differ and weights["preset"] == preset else "")
        )
    model = STSRN(saved)
    model.load_state_dict(weights["model"])
    return model.to(device).eval()


def committed(dataset: str, preset: str, profile: str = "bench") -> Path | None:
    """The book's committed weights of ``preset`` trained on ``dataset`` in ``profile``, if any."""
    path = COMMITTED / f"{dataset}-{preset}-{profile}.pt"
    return path if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write a run's trained model to a weights file")
    export.add_argument("run", type=Path, help="the run's folder (holding checkpoint.pt)")
    export.add_argument("out", type=Path)
    export.add_argument("--data", default=None, help="what it trained on (default: the run's label)")
    show = commands.add_parser("show", help="print a weights file's preset and provenance")
    show.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            print(export_weights(args.run, args.out, args.data))
        else:
            weights = read_weights(args.path)
            print(json.dumps({"preset": weights["preset"], **weights["provenance"]}, indent=1))
    except (WeightsError, CheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
